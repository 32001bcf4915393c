//! Friends, blocks, direct conversations and invitations, as both sides see
//! them.

use super::{PublicProfile, RoomId, UserId, Visibility};
use serde::{Deserialize, Serialize};

/// Who may open a direct conversation with a user.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DmPolicy {
    #[default]
    Everyone,
    FriendsOnly,
}

impl DmPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Everyone => "everyone",
            Self::FriendsOnly => "friends",
        }
    }

    pub fn from_db(value: &str) -> Option<Self> {
        match value {
            "everyone" => Some(Self::Everyone),
            "friends" => Some(Self::FriendsOnly),
            _ => None,
        }
    }
}

/// The unique `name_key` of the direct conversation between two users,
/// the same whichever of them asks. It starts with a control character,
/// which no room name may contain, so it never collides with a room's.
pub fn direct_key(a: UserId, b: UserId) -> String {
    let (low, high) = if a.0 <= b.0 { (a, b) } else { (b, a) };
    format!("\u{1}direct:{low}:{high}")
}

/// A friend, with presence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Friend {
    pub profile: PublicProfile,
    pub online: bool,
}

/// A pending friend request, from the other person's side of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FriendRequest {
    pub user: PublicProfile,
    pub sent_at: i64,
}

/// Everything the friends page shows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FriendsView {
    pub friends: Vec<Friend>,
    pub incoming: Vec<FriendRequest>,
    pub outgoing: Vec<FriendRequest>,
    pub blocked: Vec<PublicProfile>,
    pub dm_policy: DmPolicy,
}

/// What one user is to another, for the buttons of a profile page.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    #[default]
    None,
    Friends,
    RequestSent,
    RequestReceived,
    /// The viewer blocked them.
    Blocked,
}

/// Another user's public profile with what they are to the viewer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserCard {
    pub profile: PublicProfile,
    pub relation: Relation,
    /// Whether the viewer may open a direct conversation with them.
    pub can_message: bool,
}

/// An invitation into a room.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    pub room: RoomId,
    pub room_name: String,
    pub visibility: Visibility,
    pub member_count: i64,
    pub inviter: PublicProfile,
    pub invitee: PublicProfile,
    pub sent_at: i64,
}

/// A user kept out of a room.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ban {
    pub user: PublicProfile,
    pub by: PublicProfile,
    pub banned_at: i64,
}

/// What the app shell keeps about the user's relations: the header's
/// badges (what waits for their answer) and whom they blocked (whose
/// messages are hidden from them).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    pub friend_requests: i64,
    pub invitations: i64,
    pub blocked: Vec<UserId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direct_keys_ignore_order_and_cannot_be_room_names() {
        assert_eq!(direct_key(UserId(9), UserId(2)), direct_key(UserId(2), UserId(9)));
        assert_ne!(direct_key(UserId(1), UserId(23)), direct_key(UserId(12), UserId(3)));
        assert!(super::super::RoomName::parse(&direct_key(UserId(1), UserId(2))).is_err());
    }
}
