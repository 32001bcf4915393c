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
    fn roles_read_back() {
        for role in [InstanceRole::Member, InstanceRole::Admin] {
            assert_eq!(InstanceRole::from_db(role.as_str()), Some(role));
        }
        assert_eq!(InstanceRole::from_db("root"), None);
    }
}
