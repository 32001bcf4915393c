//! Messages: appending them in groups (group commit), one writer per
//! engine ([`sqlite`], [`postgres`]) around the engine-free decisions of
//! [`group`]; and reading history ([`history`]).
//!
//! # Rules checked again inside the commit
//!
//! The store decides nothing, with one exception: what must hold at the
//! instant a message is committed is read again inside the writer's
//! transaction, so that a kick, a ban or a block that commits meanwhile
//! cannot let a message through (on PostgreSQL the writer also holds the
//! rules lock shared, see [`super::lock_rules`]). Each re-check mirrors
//! one rule stated elsewhere, and says so:
//!
//! - who may post in a room: a member of a room not deleted. This rule is
//!   checked nowhere else (a check before the commit would race with a
//!   kick anyway): [`Access::refusal`] decides from what the writer reads in
//!   the transaction, and `services::messages` turns the outcome into the
//!   error the author sees;
//! - whether the other member of a direct conversation takes the author's
//!   messages: [`refuses_messages`], the one SQL statement of the rule
//!   that `services::social` also asks before opening a conversation;
//! - that a client id is stored once per author (a resend gets the
//!   original): the unique key `(author_id, client_id)`, read first.
//!
//! Elsewhere in the store, [`Store::remove_member`] re-checks who may
//! remove whom ([`crate::domain::Role::highest_removable`]).

/// How PostgreSQL reads a JSON array parameter (see [`pg_json`]) as rows
/// of `value`: as `jsonb`, parsed once. (`json` keeps each element as
/// text, and every `value ->> i` parsed the element again: 18 % of the
/// writer's backend CPU, measured.)
macro_rules! pg_elements {
    ($n:literal) => {
        concat!("jsonb_array_elements(CAST($", $n, " AS jsonb))")
    };
}

/// A list of values or tuples as one JSON array parameter, for PostgreSQL
/// to read with [`pg_elements`] (sqlx's `Any` driver binds no arrays).
fn pg_json<T: serde::Serialize>(rows: &T) -> Result<String, sqlx::Error> {
    serde_json::to_string(rows).map_err(|error| sqlx::Error::Encode(Box::new(error)))
}

mod changes;
mod checkpoints;
mod group;
mod history;
mod postgres;
mod search;
mod sqlite;

pub use changes::{Changed, NewChange};
pub use postgres::PgMessageLog;
pub use sqlite::MessageLog;

use crate::domain::{
    markup, preview_of, shown_name, Attachment, ClientId, Message, PublicProfile, Quote, Role, RoomEvent,
    RoomId, Seq, UserId, Visibility,
};
use crate::error::{AppError, Field, Problem};

#[derive(sqlx::FromRow)]
struct MessageRow {
    room_id: RoomId,
    seq: Seq,
    author_id: UserId,
    username: String,
    display_name: String,
    avatar_version: Option<i64>,
    client_id: String,
    body: String,
    html: String,
    sent_at: i64,
    kind: String,
    edited_at: Option<i64>,
    deleted_at: Option<i64>,
    reply_to: Option<Seq>,
    mentions: String,
    subject_id: Option<UserId>,
    subject_username: Option<String>,
    subject_display_name: Option<String>,
    subject_avatar_version: Option<i64>,
    quote_username: Option<String>,
    quote_display_name: Option<String>,
    quote_body: Option<String>,
    quote_deleted_at: Option<i64>,
    quote_attachments: Option<String>,
    attachments: String,
}

impl MessageRow {
    fn message(self) -> Message {
        let event = match (self.subject_id, self.subject_username, self.subject_display_name) {
            (Some(id), Some(username), Some(display_name)) => {
                let subject =
                    PublicProfile { id, username, display_name, avatar_version: self.subject_avatar_version };
                RoomEvent::from_db(&self.kind, subject)
            }
            _ => None,
        };
        let reply = match (self.reply_to, self.quote_username, self.quote_display_name, self.quote_body) {
            (Some(seq), Some(username), Some(display_name), Some(body)) => {
                let text = stored_preview(&body, self.quote_attachments.as_deref());
                Some(Quote::of(
                    seq,
                    shown_name(username, display_name),
                    &text,
                    self.quote_deleted_at.is_some(),
                ))
            }
            _ => None,
        };
        // Rows written before messages were rendered at commit.
        let html = if self.html.is_empty() && self.kind == "text" && self.deleted_at.is_none() {
            markup::render(&self.body, &[])
        } else {
            self.html
        };
        Message {
            room: self.room_id,
            seq: self.seq,
            author: PublicProfile {
                id: self.author_id,
                username: self.username,
                display_name: self.display_name,
                avatar_version: self.avatar_version,
            },
            body: self.body,
            html,
            sent_at: self.sent_at,
            client_id: ClientId::stored(self.client_id),
            event,
            edited_at: self.edited_at,
            deleted: self.deleted_at.is_some(),
            reply,
            reactions: Vec::new(),
            mentions: mention_ids(&self.mentions),
            attachments: attachments_from_db(&self.attachments),
        }
    }
}

/// A message with its author, its event's subject and the message it
/// answers (reactions are read apart, see `history`).
const MESSAGE_SELECT: &str = "
    SELECT m.room_id, m.seq, m.author_id, u.username, u.display_name, u.avatar_version,
           m.client_id, m.body, m.html, m.sent_at, m.kind, m.edited_at, m.deleted_at, m.reply_to, m.mentions,
           m.attachments, s.id AS subject_id, s.username AS subject_username,
           s.display_name AS subject_display_name, s.avatar_version AS subject_avatar_version,
           qu.username AS quote_username, qu.display_name AS quote_display_name,
           q.body AS quote_body, q.deleted_at AS quote_deleted_at, q.attachments AS quote_attachments
    FROM messages m JOIN users u ON u.id = m.author_id LEFT JOIN users s ON s.id = m.subject_id
    LEFT JOIN messages q ON q.room_id = m.room_id AND q.seq = m.reply_to
    LEFT JOIN users qu ON qu.id = q.author_id";

/// One message to append.
pub struct NewMessage<'a> {
    pub room: RoomId,
    pub author: UserId,
    pub client_id: &'a ClientId,
    pub body: &'a str,
    /// `body` rendered (see [`markup`]).
    pub html: &'a str,
    /// The message it answers, in the same room.
    pub reply: Option<&'a Quote>,
    /// The members it mentions.
    pub mentions: &'a [UserId],
    /// For an event line: its kind and subject (the body is then empty).
    pub event: Option<(&'static str, UserId)>,
    /// The author's unsent uploads in the room that it carries, claimed
    /// when it commits.
    pub attachments: &'a [Attachment],
}

/// What became of one message of a batch.
#[derive(Clone, Debug)]
pub enum Appended {
    /// Stored now, under the next sequence number of its room.
    New(Message),
    /// Its client id was already used: the original message.
    Existing(Message),
    /// The author is not a member; the room's visibility says how to answer.
    NotMember(Option<Visibility>),
    /// A direct conversation whose other member does not take the author's
    /// messages (blocked, or friends only).
    Refused,
    /// One of its attachments is not the author's unsent upload in the room
    /// (any more): sent with another message meanwhile, or swept.
    AttachmentGone,
}

/// How `messages.mentions` lists ids: "1,7".
fn mention_list(ids: &[UserId]) -> String {
    ids.iter().map(|id| id.0.to_string()).collect::<Vec<_>>().join(",")
}

/// How `messages.attachments` lists a message's files: a JSON array, or
/// nothing.
fn attachments_to_db(attachments: &[Attachment]) -> String {
    if attachments.is_empty() {
        return String::new();
    }
    serde_json::to_string(attachments).unwrap_or_default()
}

fn attachments_from_db(stored: &str) -> Vec<Attachment> {
    if stored.is_empty() {
        return Vec::new();
    }
    serde_json::from_str(stored).unwrap_or_else(|error| {
        tracing::error!(%error, "a message's attachments do not read back");
        Vec::new()
    })
}

/// The preview of a stored message (see [`preview_of`]) from its body and
/// its `attachments` column.
pub(crate) fn stored_preview(body: &str, attachments: Option<&str>) -> String {
    preview_of(body, &attachments_from_db(attachments.unwrap_or_default()))
}

fn mention_ids(list: &str) -> Vec<UserId> {
    list.split(',').filter_map(|id| id.parse().ok()).map(UserId).collect()
}

impl Appended {
    /// The error the author of a message refused with this outcome gets.
    pub fn error(&self) -> Option<AppError> {
        match self {
            Self::New(_) | Self::Existing(_) => None,
            Self::NotMember(Some(Visibility::Public)) => Some(AppError::Forbidden),
            Self::NotMember(_) => Some(AppError::NotFound),
            Self::Refused => Some(AppError::field(Field::Message, Problem::NotAccepting)),
            Self::AttachmentGone => Some(AppError::field(Field::Attachment, Problem::AttachmentGone)),
        }
    }
}

/// SQL: whether user `to` refuses direct messages from user `from` (two
/// SQL expressions): a block either way, "friends only" and they are not
/// friends, or either account deactivated (`services::admin`: its
/// conversations are read-only). The one statement of that rule, for
/// opening a conversation and for every message in one.
pub(super) fn refuses_messages(to: &str, from: &str) -> String {
    format!(
        "((SELECT deactivated_at FROM users WHERE id = {to}) IS NOT NULL
          OR (SELECT deactivated_at FROM users WHERE id = {from}) IS NOT NULL
          OR EXISTS (SELECT 1 FROM blocks
                  WHERE (blocker_id = {to} AND blocked_id = {from}) OR (blocker_id = {from} AND blocked_id = {to}))
          OR ((SELECT dm_policy FROM users WHERE id = {to}) = 'friends'
              AND NOT EXISTS (SELECT 1 FROM friendships WHERE user_id = {to} AND friend_id = {from})))"
    )
}

/// One (room, author) pair's standing, as [`ACCESS`] reads it.
struct Access {
    room: RoomId,
    author: UserId,
    visibility: Option<String>,
    role: Option<String>,
    refused: Option<bool>,
}

impl Access {
    /// The author's role, if a member.
    fn role(&self) -> Option<Role> {
        self.role.as_deref().and_then(Role::from_db)
    }

    /// Why the author may not post in the room, if they may not.
    fn refusal(&self) -> Option<Appended> {
        match (&self.visibility, &self.role, self.refused) {
            (Some(_), Some(_), Some(false) | None) => None,
            (Some(_), Some(_), Some(true)) => Some(Appended::Refused),
            (Some(visibility), None, _) => Some(Appended::NotMember(Visibility::from_db(visibility))),
            (None, _, _) => Some(Appended::NotMember(None)),
        }
    }
}
