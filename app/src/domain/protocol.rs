//! The realtime protocol: the frames that travel over the one WebSocket a
//! browser tab opens at [`SOCKET_PATH`]. This module is its only definition.
//!
//! Frames are JSON text, one object per WebSocket message, tagged by `type`.
//! The client names the version it speaks in the URL (`/ws?v=1`); the server
//! refuses a version it does not know, and says its own in [`ServerFrame::Hello`].
//!
//! Guarantees:
//! - every change to a room's timeline has a per-room sequence number,
//!   assigned at commit, with no gap: a new message (its `seq`), and an
//!   edit, a deletion or a reaction ([`Change`], its own `seq`); a sender
//!   gets [`ServerFrame::Ack`] only once its message is durably committed;
//! - [`ClientFrame::Send`] carries a client-made id; sending the same id
//!   again acknowledges the original message and creates nothing;
//! - [`ClientFrame::Subscribe`] with `after: Some(seq)` delivers every
//!   message and change after `seq` ([`ServerFrame::Subscribed`]) and then
//!   the live ones ([`ServerFrame::Message`], [`ServerFrame::Changed`]), in
//!   sequence order, each exactly once; when `seq` is too far behind
//!   (beyond [`RESUME_LIMIT`] messages and changes) the server sends
//!   [`ServerFrame::Resync`] instead and the client reloads the room;
//! - a socket that does not read fast enough is closed with
//!   [`CLOSE_TOO_SLOW`], one that may have missed live events (the link
//!   between server instances broke) with [`CLOSE_RESUME`], and every
//!   socket of a stopping instance with [`CLOSE_RESTART`]; the client
//!   reconnects and resumes as above;
//! - a socket only ever receives the rooms its user may read.
//!
//! Edits, deletions and reactions are asked for with server functions
//! (`api::rooms`), which answer once the change is committed or say why it
//! was refused; the change itself reaches every socket as
//! [`ServerFrame::Changed`], the author's included.
//!
//! Version 1 grew, compatibly, with rich messages: `Send.reply_to`,
//! `Subscribed.changes` and `Changed` are new, and a [`Message`] has new
//! fields, all optional in JSON; a client that knows none of them still
//! works.

use super::{
    AttachmentId, Change, ClientId, Member, Message, Removal, RoomId, RoomSummary, Seq, UserId, Visibility,
};
use crate::error::AppError;
use serde::{Deserialize, Serialize};

pub const PROTOCOL_VERSION: u32 = 1;
pub const SOCKET_PATH: &str = "/ws";
/// The largest client frame the server reads (a 4,000-character message,
/// 4 bytes per character at worst, plus the envelope and ten attachment
/// ids).
pub const MAX_CLIENT_FRAME: usize = 20 * 1024;
/// How far behind a resuming client may be before it must reload the room.
pub const RESUME_LIMIT: usize = 1000;
/// How often a tab says the user is still looking at a room.
pub const LOOKING_EVERY_MS: u32 = 30_000;
/// How long after the user last looked at a room nothing from it is pushed
/// to them: Campfire's rule, "active in the last minute".
pub const LOOKING_QUIETS_MS: u64 = 60_000;
/// Close code: the client did not read fast enough; reconnect and resume.
pub const CLOSE_TOO_SLOW: u16 = 4000;
/// Close code: the session ended (signed out here, or by a password change
/// elsewhere); do not reconnect, reload the page (it asks to sign in).
pub const CLOSE_SIGNED_OUT: u16 = 4001;
/// Close code: live events may have been missed (the link between server
/// instances broke); reconnect and resume.
pub const CLOSE_RESUME: u16 = 4002;
/// Close code (the standard "service restart"): this server instance is
/// stopping; reconnect (to another one) and resume.
pub const CLOSE_RESTART: u16 = 1012;

/// What a browser sends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// Start receiving a room. Messages of the rooms one is a member of
    /// arrive anyway (for unread counts); subscribing with `after` also
    /// catches up on what was missed since `after`.
    Subscribe { room: RoomId, after: Option<Seq> },
    /// Stop receiving a room one is not a member of (a previewed public room).
    Unsubscribe { room: RoomId },
    Send {
        room: RoomId,
        client_id: ClientId,
        body: String,
        /// The message this one answers, in the same room.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply_to: Option<Seq>,
        /// Files uploaded beforehand (at [`super::UPLOAD_PATH`]), at most
        /// [`super::MAX_ATTACHMENTS`]; the text may then be empty.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        attachments: Vec<AttachmentId>,
    },
    /// The user is typing in `room`; sent at most every few seconds.
    Typing { room: RoomId },
    /// The user has read `room` up to `seq`.
    Read { room: RoomId, seq: Seq },
    /// The user is looking at `room` (its tab is visible and focused), or
    /// just stopped: sent when that starts and ends, and every
    /// [`LOOKING_EVERY_MS`] meanwhile. Nothing from the room is pushed to
    /// their devices until [`LOOKING_QUIETS_MS`] after the last one.
    Looking { room: RoomId },
    /// Start or stop receiving changes to the public rooms (while the
    /// user browses them).
    WatchPublicRooms { watch: bool },
}

/// One person's presence, as `ServerFrame::PresenceMany` lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceChange {
    pub user: UserId,
    pub online: bool,
}

/// What the server sends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    Hello {
        version: u32,
        user: UserId,
        /// The largest file this server takes as an attachment, in bytes.
        #[serde(default)]
        max_upload: u64,
    },
    /// The answer to `Subscribe`: the messages and the changes after
    /// `after`, each oldest first (empty without `after`); live ones follow.
    Subscribed {
        room: RoomId,
        messages: Vec<Message>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        changes: Vec<Change>,
    },
    /// `Subscribe` refused: the room does not exist for this user.
    SubscribeFailed {
        room: RoomId,
        error: AppError,
    },
    /// Too far behind to catch up message by message: reload the room.
    Resync {
        room: RoomId,
    },
    /// A new message, live.
    Message {
        message: Message,
    },
    /// A message was edited, deleted or reacted to, live.
    Changed {
        change: Change,
    },
    /// The sender's confirmation: `message` is committed.
    Ack {
        client_id: ClientId,
        message: Message,
    },
    /// The send was refused and nothing was stored.
    SendFailed {
        room: RoomId,
        client_id: ClientId,
        error: AppError,
    },
    Typing {
        room: RoomId,
        user: UserId,
        name: String,
    },
    /// Someone sharing a room went online (first tab) or offline (last tab).
    Presence {
        user: UserId,
        online: bool,
    },
    /// Several `Presence` changes at once, in order: what a busy room
    /// gathered for a moment (`services::hub::PRESENCE_BATCH`).
    PresenceMany {
        changes: Vec<PresenceChange>,
    },
    /// Someone joined the room, or a member's role changed.
    MemberChanged {
        room: RoomId,
        member: Member,
    },
    MemberLeft {
        room: RoomId,
        user: UserId,
    },
    /// The user joined a room (perhaps in another tab).
    RoomJoined {
        room: RoomSummary,
    },
    /// The user left a room (perhaps in another tab).
    RoomLeft {
        room: RoomId,
    },
    /// The user read a room up to `seq` (perhaps in another tab).
    RoomRead {
        room: RoomId,
        seq: Seq,
    },
    /// A public room was created or its member count changed (as seen by
    /// someone who is not a member).
    PublicRoomChanged {
        room: RoomSummary,
    },
    /// A public room is no longer listed (archived).
    PublicRoomGone {
        room: RoomId,
    },
    /// The owner renamed the room or changed its topic or visibility.
    RoomChanged {
        room: RoomId,
        name: String,
        topic: String,
        visibility: Visibility,
    },
    /// The user lost a room: removed or banned by `by`, or the room was
    /// deleted. Nothing more of it reaches this user.
    RemovedFromRoom {
        room: RoomId,
        name: String,
        by: String,
        reason: Removal,
    },
    /// The user's friends or friend requests changed (a request arrived,
    /// was answered, a friend was removed): reload them.
    FriendsChanged,
    /// The invitations the user received, or sent and saw answered,
    /// changed: reload them.
    InvitationsChanged,
}

impl ClientFrame {
    /// Reads a frame as the server receives it: JSON text, at most
    /// [`MAX_CLIENT_FRAME`] bytes (the socket refuses longer ones first).
    /// Fuzzed by `fuzz/fuzz_targets/client_frame.rs`.
    pub fn parse(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

impl ServerFrame {
    /// The room and sequence number of a frame that carries a message or a
    /// change: what a connection orders and de-duplicates on.
    pub fn message_position(&self) -> Option<(RoomId, Seq)> {
        match self {
            Self::Message { message } | Self::Ack { message, .. } => Some((message.room, message.seq)),
            Self::Changed { change } => Some((change.room, change.seq)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_tagged_json() {
        let frame = ClientFrame::Subscribe { room: RoomId(3), after: Some(41) };
        let json = serde_json::to_string(&frame).unwrap();
        assert_eq!(json, r#"{"type":"subscribe","room":3,"after":41}"#);
        assert_eq!(serde_json::from_str::<ClientFrame>(&json).unwrap(), frame);
        let send: ClientFrame =
            serde_json::from_str(r#"{"type":"send","room":1,"client_id":"abc","body":"hi"}"#).unwrap();
        assert!(matches!(send, ClientFrame::Send { .. }));
        assert!(serde_json::from_str::<ClientFrame>(r#"{"type":"nope"}"#).is_err());
        let failed = ServerFrame::SubscribeFailed { room: RoomId(1), error: AppError::NotFound };
        let json = serde_json::to_string(&failed).unwrap();
        assert_eq!(json, r#"{"type":"subscribe_failed","room":1,"error":{"error":"not_found"}}"#);
    }
}
