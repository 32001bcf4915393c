//! Running the whole server: who administers it, and what its
//! administrators see of the users.

use super::{PublicProfile, RoomId, UserId, Visibility};
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
    /// Whoever has a join link (`domain::JoinLink`).
    JoinLink,
    /// Nobody, join links included.
    Closed,
}

impl SignUp {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::JoinLink => "join_link",
            Self::Closed => "closed",
        }
    }
}

/// Who may do something the admins decide about: create rooms (direct
/// conversations are not rooms), make join links.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WhoMay {
    #[default]
    Everyone,
    AdminsOnly,
}

impl WhoMay {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Everyone => "everyone",
            Self::AdminsOnly => "admins_only",
        }
    }

    fn allows(self, admin: bool) -> bool {
        admin || self == Self::Everyone
    }
}

/// What the instance admins set for the whole server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceSettings {
    pub sign_up: SignUp,
    pub room_creation: WhoMay,
    pub join_links: WhoMay,
}

impl Default for InstanceSettings {
    /// Anyone may sign up and create rooms; admins make join links.
    fn default() -> Self {
        Self { sign_up: SignUp::Open, room_creation: WhoMay::Everyone, join_links: WhoMay::AdminsOnly }
    }
}

impl InstanceSettings {
    /// Whether someone may create an account now, with a usable join link
    /// (`with_link`, checked by the store as the account is made) or not.
    pub fn may_register(&self, with_link: bool) -> bool {
        match self.sign_up {
            SignUp::Open => true,
            SignUp::JoinLink => with_link,
            SignUp::Closed => false,
        }
    }

    /// Whether a user (an admin or not) may create a room.
    pub fn may_create_rooms(&self, admin: bool) -> bool {
        self.room_creation.allows(admin)
    }

    /// Whether a user (an admin or not) may make join links. Admins always
    /// may, even while sign-up is closed (the links wait for it to open).
    pub fn may_make_join_links(&self, admin: bool) -> bool {
        self.join_links.allows(admin)
    }

    /// The settings as stored: (name, value) pairs.
    pub fn to_rows(self) -> [(&'static str, &'static str); 3] {
        [
            ("sign_up", self.sign_up.as_str()),
            ("room_creation", self.room_creation.as_str()),
            ("join_links", self.join_links.as_str()),
        ]
    }

    /// Reads [`Self::to_rows`]'s form back; unknown rows and values are
    /// the defaults.
    pub fn from_rows<'a>(rows: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let defaults = Self::default();
        let mut settings = defaults;
        let who = |value| [WhoMay::Everyone, WhoMay::AdminsOnly].into_iter().find(|w| w.as_str() == value);
        for (name, value) in rows {
            match name {
                "sign_up" => {
                    let modes = [SignUp::Open, SignUp::JoinLink, SignUp::Closed];
                    settings.sign_up =
                        modes.into_iter().find(|m| m.as_str() == value).unwrap_or(defaults.sign_up);
                }
                "room_creation" => settings.room_creation = who(value).unwrap_or(defaults.room_creation),
                "join_links" => settings.join_links = who(value).unwrap_or(defaults.join_links),
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
    /// The username of whoever made the join link they registered with.
    pub invited_by: Option<String>,
}

/// A page of users, oldest account first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminUsersPage {
    pub users: Vec<AdminUser>,
    /// Where the next page starts, if there is one.
    pub next: Option<UserId>,
}

/// Rooms listed per page of the admin page.
pub const ADMIN_ROOMS_PAGE: usize = 50;

/// A room as the admin page lists it: its name and size, never its
/// messages (a private room's stay private).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminRoom {
    pub id: RoomId,
    pub name: String,
    pub visibility: Visibility,
    pub member_count: i64,
    /// ms since the epoch.
    pub created_at: i64,
    /// Its owner's username (none once deleted).
    pub owner: Option<String>,
    /// Deleted (by its owner or an admin): listed, no longer opened.
    pub deleted: bool,
}

/// A page of rooms, oldest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminRoomsPage {
    pub rooms: Vec<AdminRoom>,
    /// Where the next page starts, if there is one.
    pub next: Option<RoomId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_read_back_and_decide() {
        let closed = InstanceSettings {
            sign_up: SignUp::Closed,
            room_creation: WhoMay::AdminsOnly,
            join_links: WhoMay::AdminsOnly,
        };
        let by_link = InstanceSettings {
            sign_up: SignUp::JoinLink,
            room_creation: WhoMay::Everyone,
            join_links: WhoMay::Everyone,
        };
        for settings in [InstanceSettings::default(), closed, by_link] {
            assert_eq!(InstanceSettings::from_rows(settings.to_rows()), settings);
        }
        let open = InstanceSettings::default();
        assert!(open.may_register(false) && open.may_register(true));
        assert!(!by_link.may_register(false) && by_link.may_register(true));
        assert!(!closed.may_register(false) && !closed.may_register(true));
        assert!(closed.may_create_rooms(true));
        assert!(!closed.may_create_rooms(false));
        assert!(open.may_create_rooms(false));
        assert!(!open.may_make_join_links(false) && open.may_make_join_links(true));
        assert!(by_link.may_make_join_links(false));
        assert!(closed.may_make_join_links(true));
    }

    #[test]
    fn unknown_settings_are_the_defaults() {
        let rows = [("sign_up", "maybe"), ("room_creation", "admins_only"), ("colour", "blue")];
        let settings = InstanceSettings::from_rows(rows);
        assert_eq!(settings.sign_up, SignUp::Open);
        assert_eq!(settings.room_creation, WhoMay::AdminsOnly);
        assert_eq!(settings.join_links, WhoMay::AdminsOnly);
    }

    #[test]
    fn roles_read_back() {
        for role in [InstanceRole::Member, InstanceRole::Admin] {
            assert_eq!(InstanceRole::from_db(role.as_str()), Some(role));
        }
        assert_eq!(InstanceRole::from_db("root"), None);
    }
}
