//! Messages and the changes made to them after they were sent: edits,
//! deletions and reactions, each numbered in its room's sequence like a
//! new message (see [`super::protocol`]), and the rules of who may make
//! which.

use super::{Attachment, ClientId, PublicProfile, Role, RoomId, Seq, UserId};
use crate::error::AppError;
use serde::{Deserialize, Serialize};

/// The first line of a message, with its author's name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagePreview {
    pub author: String,
    pub text: String,
    /// The message's number, so that its edit or deletion updates this.
    #[serde(default)]
    pub seq: Seq,
    /// Deleted since: shown as "message deleted".
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
}

pub const PREVIEW_MAX: usize = 120;

impl MessagePreview {
    pub fn of(message: &Message) -> Self {
        Self {
            author: message.author.shown_name().to_owned(),
            text: preview_of(&message.body, &message.attachments),
            seq: message.seq,
            deleted: message.deleted,
        }
    }

    /// Follows a change of the message it previews.
    pub fn apply(&mut self, change: &Change) {
        if change.message != self.seq {
            return;
        }
        match &change.what {
            ChangeKind::Edited { body, .. } => self.text = preview_text(body),
            ChangeKind::Deleted => {
                self.text.clear();
                self.deleted = true;
            }
            ChangeKind::Reacted { .. } => {}
        }
    }
}

/// The first line of a message, or the names of its files when it has no
/// text: "📎 sunset.png, notes.txt".
pub fn preview_of(body: &str, attachments: &[Attachment]) -> String {
    if body.trim().is_empty() && !attachments.is_empty() {
        let names: Vec<&str> = attachments.iter().map(|a| a.name.as_str()).collect();
        return preview_text(&format!("📎 {}", names.join(", ")));
    }
    preview_text(body)
}

/// The body shortened to one line of at most [`PREVIEW_MAX`] characters.
pub fn preview_text(body: &str) -> String {
    let line = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() > PREVIEW_MAX {
        let mut cut: String = line.chars().take(PREVIEW_MAX - 1).collect();
        cut.push('…');
        cut
    } else {
        line
    }
}

/// A message as delivered to clients, in its current state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub room: RoomId,
    pub seq: Seq,
    pub author: PublicProfile,
    /// What the author wrote (Markdown); empty once deleted.
    pub body: String,
    /// `body` rendered to HTML by the server and sanitized (see
    /// `domain::markup`): what the browser shows. Empty for an event line
    /// and a deleted message.
    #[serde(default)]
    pub html: String,
    /// Commit time, ms since the epoch.
    pub sent_at: i64,
    /// The id its sender's tab gave it, so that the tab can match it with
    /// the message it shows as pending.
    pub client_id: ClientId,
    /// Set for a line the room shows about itself ("Bob was removed by
    /// Alice", with Alice as the author); `body` is then empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<RoomEvent>,
    /// When it was last edited, ms since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<i64>,
    /// Deleted: shown as "message deleted", its text gone.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    /// The message this one answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<Quote>,
    /// Reactions, in the order they were first made.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<Reaction>,
    /// The members of the room it mentions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<UserId>,
    /// Its files; gone with it when it is deleted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

#[cfg(test)]
impl Message {
    /// A text message for tests: number `seq` of room 1, by user `author`
    /// ("user{author}"), sent at `sent_at`, with client id "c{seq}".
    pub(crate) fn sample(seq: Seq, author: i64, sent_at: i64) -> Self {
        Self {
            room: RoomId(1),
            seq,
            author: PublicProfile {
                id: UserId(author),
                username: format!("user{author}"),
                display_name: String::new(),
                avatar_version: None,
            },
            body: format!("message {seq}"),
            html: String::new(),
            sent_at,
            client_id: ClientId::parse(&format!("c{seq}")).expect("a client id"),
            event: None,
            edited_at: None,
            deleted: false,
            reply: None,
            reactions: Vec::new(),
            mentions: Vec::new(),
            attachments: Vec::new(),
        }
    }
}

/// A short quote of the message a reply answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    pub seq: Seq,
    /// The quoted message's author, as shown.
    pub author: String,
    /// Its first line (see [`preview_text`]); empty if it was deleted.
    pub text: String,
    pub deleted: bool,
}

impl Quote {
    /// Message `seq` by `author` (as shown), whose text is `body`.
    pub fn of(seq: Seq, author: String, body: &str, deleted: bool) -> Self {
        Self { seq, author, text: preview_text(body), deleted }
    }
}

/// Everyone who reacted to a message with one emoji.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    pub emoji: String,
    /// In the order they reacted.
    pub people: Vec<Reactor>,
}

/// Someone who reacted, as shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reactor {
    pub id: UserId,
    pub name: String,
}

/// Most people one message mentions.
pub const MAX_MENTIONS: usize = 20;

/// The usernames a message's text mentions as `@username`, as their
/// unique keys (see [`super::Username::key`]), each once, in order, at most
/// [`MAX_MENTIONS`]. A mention starts a word; a `.` or `-` ending it ends
/// the sentence, not the name.
pub fn mentioned(body: &str) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for (at, _) in body.match_indices('@') {
        let Some(username) = mention_at(body, at).and_then(|name| super::Username::parse(name).ok()) else {
            continue;
        };
        let key = username.key();
        if !keys.contains(&key) && keys.len() < MAX_MENTIONS {
            keys.push(key);
        }
    }
    keys
}

/// The name an `@` at byte `at` of `text` mentions, if it starts a word
/// (not an email address's).
pub fn mention_at(text: &str, at: usize) -> Option<&str> {
    let before = text[..at].chars().next_back();
    if before.is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '@' | '/')) {
        return None;
    }
    let rest = text.get(at + 1..)?;
    let end = rest.find(|c: char| !super::is_username_char(c)).unwrap_or(rest.len());
    Some(rest[..end].trim_end_matches(['.', '-'])).filter(|name| !name.is_empty())
}

/// Most distinct emoji on one message.
pub const MAX_REACTIONS: usize = 20;

/// Something that happened in a room, shown in its timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum RoomEvent {
    Removed { user: PublicProfile },
    Banned { user: PublicProfile },
}

impl RoomEvent {
    /// How each event is stored: the message's `kind`.
    pub const REMOVED: &'static str = "removed";
    pub const BANNED: &'static str = "banned";

    pub fn subject(&self) -> &PublicProfile {
        match self {
            Self::Removed { user } | Self::Banned { user } => user,
        }
    }

    /// Reads a stored event back, with its subject.
    pub fn from_db(kind: &str, subject: PublicProfile) -> Option<Self> {
        match kind {
            Self::REMOVED => Some(Self::Removed { user: subject }),
            Self::BANNED => Some(Self::Banned { user: subject }),
            _ => None,
        }
    }
}

/// A committed change to message `message` of `room`, numbered `seq` in
/// the room's sequence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub room: RoomId,
    pub seq: Seq,
    pub message: Seq,
    pub what: ChangeKind,
}

/// What a change did. Replayed to a resuming client, an edit carries the
/// message's current text, and any change of a message deleted since
/// replays as [`ChangeKind::Deleted`]: applying a room's changes in order
/// to any earlier state of a message gives its current state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum ChangeKind {
    Edited {
        body: String,
        html: String,
        edited_at: i64,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        mentions: Vec<UserId>,
    },
    Deleted,
    Reacted {
        emoji: String,
        by: Reactor,
        on: bool,
    },
}

impl Message {
    /// Applies a change to this message (idempotent: applying it twice
    /// changes nothing more).
    pub fn apply(&mut self, change: &ChangeKind) {
        match change {
            ChangeKind::Edited { body, html, edited_at, mentions } if !self.deleted => {
                self.body.clone_from(body);
                self.html.clone_from(html);
                self.edited_at = Some(*edited_at);
                self.mentions.clone_from(mentions);
            }
            ChangeKind::Edited { .. } => {}
            ChangeKind::Deleted => {
                self.body.clear();
                self.html.clear();
                self.deleted = true;
                self.reactions.clear();
                self.mentions.clear();
                self.attachments.clear();
            }
            ChangeKind::Reacted { emoji, by, on } => {
                let at = self.reactions.iter().position(|r| &r.emoji == emoji);
                match (at, on) {
                    (Some(at), true) => {
                        let people = &mut self.reactions[at].people;
                        if !people.iter().any(|p| p.id == by.id) {
                            people.push(by.clone());
                        }
                    }
                    (None, true) if !self.deleted => {
                        self.reactions.push(Reaction { emoji: emoji.clone(), people: vec![by.clone()] });
                    }
                    (Some(at), false) => {
                        self.reactions[at].people.retain(|p| p.id != by.id);
                        if self.reactions[at].people.is_empty() {
                            self.reactions.remove(at);
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// This message as a change's target.
    pub fn target(&self) -> Target {
        Target { author: self.author.id, event: self.event.is_some(), deleted: self.deleted }
    }

    /// A short quote of this message, for a reply to it.
    pub fn quote(&self) -> Quote {
        let text = preview_of(&self.body, &self.attachments);
        Quote::of(self.seq, self.author.shown_name().to_owned(), &text, self.deleted)
    }

    /// Whether `user` reacted with `emoji`.
    pub fn reacted(&self, user: UserId, emoji: &str) -> bool {
        self.reactions.iter().any(|r| r.emoji == emoji && r.people.iter().any(|p| p.id == user))
    }
}

/// A change someone asks for, once its input is checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChangeRequest {
    Edit {
        body: String,
        html: String,
        mentions: Vec<UserId>,
    },
    Delete,
    /// A deletion by the server's administrators (a spammer's messages,
    /// in bulk): `services::admin` checks who may, not the room's roles;
    /// the writer only checks that the message is there to delete.
    Purge,
    React {
        emoji: String,
        on: bool,
    },
}

/// The message a change is about, as stored when the change commits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    pub author: UserId,
    /// An event line, which nobody changes.
    pub event: bool,
    pub deleted: bool,
}

/// A kind of change, as the rule of who may make it sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeAction {
    Edit,
    Delete,
    React,
}

impl ChangeAction {
    /// Who may make this change to `target`: its author edits it; its
    /// author, and the room's owner and admins, delete it; any member
    /// reacts to it. Nobody changes an event line or a deleted message
    /// (that one is gone: not found). `role` is the actor's, a member.
    pub fn allowed(self, actor: UserId, role: Role, target: Target) -> Result<(), AppError> {
        if target.deleted {
            return Err(AppError::NotFound);
        }
        let mine = target.author == actor;
        let allowed = !target.event
            && match self {
                Self::Edit => mine,
                Self::Delete => mine || role >= Role::Admin,
                Self::React => true,
            };
        if allowed {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }
}

impl ChangeRequest {
    pub fn action(&self) -> ChangeAction {
        match self {
            Self::Edit { .. } => ChangeAction::Edit,
            Self::Delete | Self::Purge => ChangeAction::Delete,
            Self::React { .. } => ChangeAction::React,
        }
    }

    /// Whether `actor` may make this change (see [`ChangeAction::allowed`]).
    pub fn allowed(&self, actor: UserId, role: Role, target: Target) -> Result<(), AppError> {
        self.action().allowed(actor, role, target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> Message {
        Message::sample(4, 1, 0)
    }

    fn react(user: i64, emoji: &str, on: bool) -> ChangeKind {
        ChangeKind::Reacted {
            emoji: emoji.into(),
            by: Reactor { id: UserId(user), name: format!("u{user}") },
            on,
        }
    }

    #[test]
    fn changes_apply_once_whatever_their_repeats() {
        let mut m = message();
        for change in [react(2, "👍", true), react(2, "👍", true), react(3, "👍", true), react(3, "🎉", true)]
        {
            m.apply(&change);
        }
        let counts: Vec<_> = m.reactions.iter().map(|r| (r.emoji.as_str(), r.people.len())).collect();
        assert_eq!(counts, [("👍", 2), ("🎉", 1)]);
        m.apply(&react(3, "🎉", false));
        m.apply(&react(3, "🎉", false));
        assert_eq!(m.reactions.len(), 1);
        assert!(m.reacted(UserId(2), "👍") && !m.reacted(UserId(3), "🎉"));
        let edit = ChangeKind::Edited {
            body: "hey".into(),
            html: "<p>hey</p>".into(),
            edited_at: 9,
            mentions: vec![],
        };
        m.apply(&edit);
        assert_eq!((m.body.as_str(), m.edited_at), ("hey", Some(9)));
        m.apply(&ChangeKind::Deleted);
        m.apply(&edit);
        m.apply(&react(2, "👍", true));
        assert!(m.deleted && m.body.is_empty() && m.html.is_empty() && m.reactions.is_empty());
    }

    #[test]
    fn authors_edit_and_moderators_delete() {
        let target = Target { author: UserId(1), event: false, deleted: false };
        let edit = ChangeRequest::Edit { body: "x".into(), html: "x".into(), mentions: vec![] };
        assert_eq!(edit.allowed(UserId(1), Role::Member, target), Ok(()));
        assert_eq!(edit.allowed(UserId(2), Role::Owner, target), Err(AppError::Forbidden));
        assert_eq!(ChangeRequest::Delete.allowed(UserId(2), Role::Member, target), Err(AppError::Forbidden));
        assert_eq!(ChangeRequest::Delete.allowed(UserId(2), Role::Admin, target), Ok(()));
        let react = ChangeRequest::React { emoji: "👍".into(), on: true };
        assert_eq!(react.allowed(UserId(2), Role::Member, target), Ok(()));
        let event = Target { event: true, ..target };
        assert_eq!(ChangeRequest::Delete.allowed(UserId(1), Role::Owner, event), Err(AppError::Forbidden));
        let gone = Target { deleted: true, ..target };
        assert_eq!(react.allowed(UserId(1), Role::Member, gone), Err(AppError::NotFound));
    }

    #[test]
    fn mentions_are_usernames_that_start_a_word() {
        assert_eq!(mentioned("hi @Bob, and @alice.smith. @bob again"), ["bob", "alice.smith"]);
        assert_eq!(mentioned("mail me@example.com or @x or @@carol"), Vec::<String>::new());
        assert_eq!(mentioned("(@dave) @eve- `@frank`"), ["dave", "eve", "frank"]);
        let many: String = (0..30).map(|n| format!("@user{n} ")).collect();
        assert_eq!(mentioned(&many).len(), MAX_MENTIONS);
    }

    #[test]
    fn a_preview_follows_its_message_and_names_its_files() {
        let mut message = message();
        message.body.clear();
        message.attachments = vec![Attachment {
            id: super::super::AttachmentId::parse(&"a".repeat(32)).unwrap(),
            name: "sunset.png".into(),
            size: 1,
            image: None,
        }];
        let mut preview = MessagePreview::of(&message);
        assert_eq!(preview.text, "📎 sunset.png");
        let change = |message, what| Change { room: RoomId(1), seq: 9, message, what };
        let edit = ChangeKind::Edited {
            body: "at last".into(),
            html: String::new(),
            edited_at: 1,
            mentions: vec![],
        };
        preview.apply(&change(3, ChangeKind::Deleted));
        assert!(!preview.deleted, "another message's change");
        preview.apply(&change(4, edit));
        assert_eq!(preview.text, "at last");
        preview.apply(&change(4, ChangeKind::Deleted));
        assert!(preview.deleted && preview.text.is_empty());
    }

    #[test]
    fn previews_are_one_short_line() {
        assert_eq!(preview_text("a\n  b\tc"), "a b c");
        let long = preview_text(&"x".repeat(500));
        assert_eq!(long.chars().count(), PREVIEW_MAX);
        assert!(long.ends_with('…'));
    }
}
