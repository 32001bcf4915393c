//! Rooms, memberships and messages, as both sides see them.

use super::{Message, MessagePreview, Notify, PublicProfile};
use crate::error::{AppError, Field, FieldErrors, Problem};
use serde::{Deserialize, Serialize};

/// A room's id. Ids of private rooms are not secret, but every use of one is
/// checked: to an outsider a private room does not exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
#[cfg_attr(feature = "ssr", derive(sqlx::Type), sqlx(transparent))]
pub struct RoomId(pub i64);

impl std::fmt::Display for RoomId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A message's position in its room: 1, 2, 3… assigned when the message is
/// committed, with no gap. Clients resume from the last one they saw.
pub type Seq = i64;

pub const ROOM_NAME_MIN: usize = 2;
pub const ROOM_NAME_MAX: usize = 48;
pub const ROOM_TOPIC_MAX: usize = 200;
pub const MESSAGE_MAX: usize = 4000;
pub const CLIENT_ID_MAX: usize = 64;
/// How many messages one history page holds.
pub const HISTORY_PAGE: usize = 50;

/// 2–48 characters, no control characters, unique case-insensitively.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoomName(String);

impl RoomName {
    pub fn parse(input: &str) -> Result<Self, Problem> {
        let allowed = |c: char| !c.is_control();
        let name =
            super::parse_name(input, (ROOM_NAME_MIN, ROOM_NAME_MAX), allowed, Problem::ControlCharacters)?;
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-folded form that must be unique.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

/// What a room is about: optional, up to 200 characters, one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoomTopic(String);

impl RoomTopic {
    pub fn parse(input: &str) -> Result<Self, Problem> {
        let topic = input.trim();
        if topic.chars().count() > ROOM_TOPIC_MAX {
            return Err(Problem::TooLong { max: ROOM_TOPIC_MAX });
        }
        if topic.chars().any(char::is_control) {
            return Err(Problem::ControlCharacters);
        }
        Ok(Self(topic.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A message's text: not blank, at most 4,000 characters. Kept as typed
/// (new lines included); shown as text, never as HTML.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageBody(String);

impl MessageBody {
    /// The text of a message with files attached: it may be empty.
    pub fn parse_beside_files(input: &str, files: usize) -> Result<Self, Problem> {
        if files > 0 && input.trim().is_empty() {
            return Ok(Self(String::new()));
        }
        Self::parse(input)
    }

    pub fn parse(input: &str) -> Result<Self, Problem> {
        let body = input.trim_end();
        if body.trim().is_empty() {
            return Err(Problem::Required);
        }
        if body.chars().count() > MESSAGE_MAX {
            return Err(Problem::TooLong { max: MESSAGE_MAX });
        }
        if body.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            return Err(Problem::ControlCharacters);
        }
        Ok(Self(body.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The id a client gives a message before sending it, so that sending it
/// again (after a lost connection) returns the original, never a copy.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClientId(String);

impl TryFrom<String> for ClientId {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value).map_err(|_| "invalid client id".to_owned())
    }
}

impl From<ClientId> for String {
    fn from(id: ClientId) -> Self {
        id.0
    }
}

impl ClientId {
    /// 1–64 ASCII letters, digits, `-` or `_`.
    pub fn parse(input: &str) -> Result<Self, Problem> {
        if input.is_empty() {
            return Err(Problem::Required);
        }
        if input.len() > CLIENT_ID_MAX {
            return Err(Problem::TooLong { max: CLIENT_ID_MAX });
        }
        if !input.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err(Problem::ControlCharacters);
        }
        Ok(Self(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// An id read back from the database, where only parsed ids are stored.
    #[cfg(feature = "ssr")]
    pub(crate) fn stored(id: String) -> Self {
        Self(id)
    }

    /// A fresh random id, for what the server writes itself.
    #[cfg(feature = "ssr")]
    pub(crate) fn generated() -> Self {
        // 128 random bits, URL-safe base64: letters, digits, `-` and `_`.
        Self(format!("server-{}", tower_sessions::session::Id::default()))
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Anyone signed in can find, read and join it.
    #[default]
    Public,
    /// Members and invited people only.
    Private,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Private => "private",
        }
    }

    /// Reads [`Self::as_str`]'s form back.
    pub fn from_db(value: &str) -> Option<Self> {
        match value {
            "public" => Some(Self::Public),
            "private" => Some(Self::Private),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Member,
    Admin,
    Owner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Member => "member",
            Self::Admin => "admin",
            Self::Owner => "owner",
        }
    }

    /// The highest role someone of this role may remove (kick or ban)
    /// from a room: an owner removes admins and members, an admin members,
    /// a member nobody; the owner is never removed. The one statement of
    /// that rule, for the member list's buttons, the moderation service,
    /// and the store's re-check inside the removal.
    pub fn highest_removable(self) -> Option<Self> {
        match self {
            Self::Owner => Some(Self::Admin),
            Self::Admin => Some(Self::Member),
            Self::Member => None,
        }
    }

    /// Whether someone of this role may remove a member of role `target`
    /// (see [`Self::highest_removable`]).
    pub fn may_remove(self, target: Self) -> bool {
        self.highest_removable().is_some_and(|highest| target <= highest)
    }

    /// Reads [`Self::as_str`]'s form back.
    pub fn from_db(value: &str) -> Option<Self> {
        match value {
            "member" => Some(Self::Member),
            "admin" => Some(Self::Admin),
            "owner" => Some(Self::Owner),
            _ => None,
        }
    }
}

/// The create-room form as typed.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct NewRoom {
    pub name: String,
    pub topic: String,
    pub visibility: Visibility,
}

impl NewRoom {
    pub fn validate(&self) -> Result<(RoomName, RoomTopic), AppError> {
        let mut errors = FieldErrors::default();
        let name = errors.check(Field::RoomName, RoomName::parse(&self.name));
        let topic = errors.check(Field::Topic, RoomTopic::parse(&self.topic));
        errors.into_result()?;
        name.zip(topic).ok_or(AppError::Internal)
    }
}

/// A room as a list shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomSummary {
    pub id: RoomId,
    pub name: String,
    pub topic: String,
    pub visibility: Visibility,
    pub member_count: i64,
    /// The number of the room's latest change: a message, or an edit,
    /// deletion or reaction (0: nothing yet).
    pub last_seq: Seq,
    /// When the room last changed (created or last message), in ms since
    /// the epoch: "my rooms" is ordered by it.
    pub last_activity: i64,
    /// The latest message, for the preview line.
    pub last_message: Option<MessagePreview>,
    /// Messages the viewer has not read (by others, at most 1,000); 0 when
    /// not a member.
    pub unread: i64,
    /// The number the viewer has read the room through (0 when not a
    /// member): the first unread message comes after it.
    #[serde(default)]
    pub read_through: Seq,
    /// How many of the unread messages mention the viewer.
    #[serde(default)]
    pub mentions: i64,
    /// The viewer's role, if a member.
    pub role: Option<Role>,
    /// For a direct conversation, the other person (its `name` is empty).
    pub peer: Option<PublicProfile>,
    /// Whether `peer` is online.
    pub peer_online: bool,
    /// Which of its messages the viewer has pushed to their devices (the
    /// default for its kind until they choose).
    pub notify: Notify,
}

impl RoomSummary {
    /// What lists and headers call the room: for a direct conversation,
    /// the other person's name.
    pub fn title(&self) -> &str {
        match &self.peer {
            Some(peer) => peer.shown_name(),
            None => &self.name,
        }
    }

    pub fn is_direct(&self) -> bool {
        self.peer.is_some()
    }

    /// Whether the viewer may invite people into the room: any member of a
    /// public room, the owner and admins of a private one; nobody into a
    /// direct conversation.
    pub fn may_invite(&self) -> bool {
        match self.role {
            Some(role) if !self.is_direct() => self.visibility == Visibility::Public || role >= Role::Admin,
            _ => false,
        }
    }
}

/// Why the user lost a room.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Removal {
    Kicked,
    Banned,
    /// The owner deleted the room.
    Deleted,
}

/// A change of role that the owner makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleChange {
    MakeAdmin,
    MakeMember,
    /// The member becomes owner; the owner becomes an admin.
    MakeOwner,
}

/// A room member, with presence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub profile: PublicProfile,
    pub role: Role,
    pub online: bool,
}

/// Everything the room page needs to open.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomView {
    pub room: RoomSummary,
    pub members: Vec<Member>,
    /// The newest page of messages, oldest first.
    pub messages: Vec<Message>,
    /// Whether older messages exist before `messages`.
    pub has_older: bool,
}

/// A page of older messages, oldest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryPage {
    pub messages: Vec<Message>,
    pub has_older: bool,
}

/// A stretch of history read away from the newest messages, oldest first:
/// around one message (a reply's original, a search hit) or after one (to
/// fill what a tab has not loaded between two stretches). It names its
/// neighbours, the messages just outside it, so that a tab knows whether
/// what it holds on either side joins it or leaves a hole.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryWindow {
    pub messages: Vec<Message>,
    /// The number of the message just before the window, if any.
    pub older: Option<Seq>,
    /// The number of the message just after it, if any.
    pub newer: Option<Seq>,
}

/// Where a [`HistoryWindow`] is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowAt {
    /// Half a page before message `seq` (fewer near the beginning), then it
    /// and what follows, a page in all.
    Around(Seq),
    /// A page from the message after number `seq`.
    After(Seq),
}

impl WindowAt {
    /// The first number the window may hold, and how many messages it
    /// reads before that.
    pub fn start(self) -> (Seq, usize) {
        match self {
            Self::Around(seq) => (seq, HISTORY_PAGE / 2),
            Self::After(seq) => (seq.saturating_add(1), 0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_names() {
        assert_eq!(RoomName::parse("  Rust Paris ").map(|n| n.key()), Ok("rust paris".into()));
        assert_eq!(RoomName::parse("Élysée").map(|n| n.key()), Ok("élysée".into()));
        assert_eq!(RoomName::parse(" "), Err(Problem::Required));
        assert_eq!(RoomName::parse("a"), Err(Problem::TooShort { min: 2 }));
        assert_eq!(RoomName::parse(&"é".repeat(49)), Err(Problem::TooLong { max: 48 }));
        assert_eq!(RoomName::parse("a\nb"), Err(Problem::ControlCharacters));
    }

    #[test]
    fn topics() {
        assert_eq!(RoomTopic::parse("").map(|t| t.as_str().to_owned()), Ok(String::new()));
        assert_eq!(RoomTopic::parse(&"x".repeat(201)), Err(Problem::TooLong { max: 200 }));
    }

    #[test]
    fn message_bodies() {
        assert_eq!(MessageBody::parse("hello\nworld \n").map(|b| b.0), Ok("hello\nworld".into()));
        assert_eq!(MessageBody::parse("  \n\t "), Err(Problem::Required));
        assert_eq!(MessageBody::parse(""), Err(Problem::Required));
        assert!(MessageBody::parse(&"é".repeat(4000)).is_ok());
        assert_eq!(MessageBody::parse(&"é".repeat(4001)), Err(Problem::TooLong { max: 4000 }));
        assert_eq!(MessageBody::parse("bell\u{7}"), Err(Problem::ControlCharacters));
        let html = "<img src=x onerror=alert(1)>";
        assert_eq!(MessageBody::parse(html).map(|b| b.0), Ok(html.into()));
    }

    #[test]
    fn client_ids() {
        assert!(ClientId::parse("c-1_AbC").is_ok());
        assert_eq!(ClientId::parse(""), Err(Problem::Required));
        assert!(ClientId::parse("a b").is_err());
        assert!(ClientId::parse(&"a".repeat(65)).is_err());
    }
}
