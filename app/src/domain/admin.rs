//! Running the whole server: who administers it, and what its
//! administrators see of the users.

use super::{PublicProfile, UserId};
use serde::{Deserialize, Serialize};

/// What a user is to the whole server. The first account created on a new
/// database is an admin; admins make others admins and take it back,
/// never from the last one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstanceRole {
    #[default]
    Member,
    Admin,
}

impl InstanceRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Member => "member",
            Self::Admin => "admin",
        }
    }

    /// Reads [`Self::as_str`]'s form back.
    pub fn from_db(value: &str) -> Option<Self> {
        [Self::Member, Self::Admin].into_iter().find(|role| role.as_str() == value)
    }
}

/// Who may create an account.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignUp {
    /// Anyone who finds the server.
    #[default]
    Open,
    /// Nobody: admins let people in some other way.
    Closed,
}

/// Who may create rooms (direct conversations are not rooms).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomCreation {
    #[default]
    Everyone,
    AdminsOnly,
}

/// What the instance admins set for the whole server.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceSettings {
    pub sign_up: SignUp,
    pub room_creation: RoomCreation,
}

impl InstanceSettings {
    /// Whether someone may create an account now.
    pub fn may_register(&self) -> bool {
        self.sign_up == SignUp::Open
    }

    /// Whether a user (an admin or not) may create a room.
    pub fn may_create_rooms(&self, admin: bool) -> bool {
        admin || self.room_creation == RoomCreation::Everyone
    }

    /// The settings as stored: (name, value) pairs.
    pub fn to_rows(self) -> [(&'static str, &'static str); 2] {
        let sign_up = match self.sign_up {
            SignUp::Open => "open",
            SignUp::Closed => "closed",
        };
        let rooms = match self.room_creation {
            RoomCreation::Everyone => "everyone",
            RoomCreation::AdminsOnly => "admins_only",
        };
        [("sign_up", sign_up), ("room_creation", rooms)]
    }

    /// Reads [`Self::to_rows`]'s form back; unknown rows and values are
    /// the defaults.
    pub fn from_rows<'a>(rows: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut settings = Self::default();
        for row in rows {
            match row {
                ("sign_up", "closed") => settings.sign_up = SignUp::Closed,
                ("room_creation", "admins_only") => settings.room_creation = RoomCreation::AdminsOnly,
                _ => {}
            }
        }
        settings
    }
}

/// Users listed per page of the admin page.
pub const ADMIN_USERS_PAGE: usize = 50;

/// The longest search of the admin page's user list.
pub const ADMIN_SEARCH_MAX: usize = 64;

/// A user as the admin page lists them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminUser {
    pub profile: PublicProfile,
    pub role: InstanceRole,
    /// When the account was made, ms since the epoch.
    pub created_at: i64,
    /// How many rooms (direct conversations included) they are in.
    pub rooms: i64,
    /// Deactivated by an admin.
    pub deactivated: bool,
    /// When they last had Salon open (to ten minutes), ms since the epoch.
    pub last_seen: Option<i64>,
}

/// A page of users, oldest account first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminUsersPage {
    pub users: Vec<AdminUser>,
    /// Where the next page starts, if there is one.
    pub next: Option<UserId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_read_back_and_decide() {
        let closed = InstanceSettings { sign_up: SignUp::Closed, room_creation: RoomCreation::AdminsOnly };
        for settings in [InstanceSettings::default(), closed] {
            assert_eq!(InstanceSettings::from_rows(settings.to_rows()), settings);
        }
        assert!(InstanceSettings::default().may_register());
        assert!(!closed.may_register());
        assert!(closed.may_create_rooms(true));
        assert!(!closed.may_create_rooms(false));
        assert!(InstanceSettings::default().may_create_rooms(false));
    }

    #[test]
    fn roles_read_back() {
        for role in [InstanceRole::Member, InstanceRole::Admin] {
            assert_eq!(InstanceRole::from_db(role.as_str()), Some(role));
        }
        assert_eq!(InstanceRole::from_db("root"), None);
    }
}
