//! What applying a change to a message decides, whatever the engine. Each
//! writer reads, in the group's transaction and in the group's order, what
//! [`decide`] needs, then writes what it answers.

use super::Access;
use crate::domain::{Change, ChangeKind, ChangeRequest, Reactor, RoomId, Seq, Target, UserId, MAX_REACTIONS};
use crate::error::{AppError, Field, Problem};

/// One change to apply.
pub struct NewChange<'a> {
    pub room: RoomId,
    pub actor: UserId,
    pub message: Seq,
    pub request: &'a ChangeRequest,
}

/// What became of one change: committed (`Some`), or nothing to do (a
/// reaction already there, or already gone; an edit to the same text).
pub type Changed = Result<Option<Change>, AppError>;

/// What the writer read about a change's message, in the transaction.
pub(super) struct Read<'r> {
    /// The actor's standing in the room (see [`Access::refusal`]).
    pub access: &'r Access,
    /// The message, if it exists.
    pub stored: Option<Stored>,
    /// For a reaction: whether the actor has it already, and how many
    /// distinct emoji the message has.
    pub reacted: bool,
    pub distinct: usize,
}

/// A change's message as stored.
pub(super) struct Stored {
    pub target: Target,
    /// Its current body, for an edit to compare with.
    pub body: String,
    /// Whom it mentions, as `messages.mentions` lists them.
    pub mentions: String,
}

impl Stored {
    /// The message by `author`, of `kind`, perhaps deleted.
    pub fn new(author: UserId, kind: &str, deleted_at: Option<i64>, body: String, mentions: String) -> Self {
        Self { target: target(author, kind, deleted_at), body, mentions }
    }
}

/// A mention to count or forget: (person, room, seq).
pub(super) type MentionRow = (UserId, RoomId, Seq);

/// What to write for a change.
pub(super) enum Decision {
    Refuse(AppError),
    Nothing,
    Apply,
}

impl NewChange<'_> {
    /// Whether to apply the change, by the rule of
    /// [`ChangeRequest::allowed`] (re-checked here so that a kick, a ban or
    /// a deletion committing meanwhile cannot let it through) and, for a
    /// reaction, the [`MAX_REACTIONS`] limit.
    pub(super) fn decide(&self, read: &Read<'_>) -> Decision {
        if *self.request == ChangeRequest::Purge {
            return match &read.stored {
                Some(stored) if !stored.target.deleted && !stored.target.event => Decision::Apply,
                _ => Decision::Refuse(AppError::NotFound),
            };
        }
        if let Some(error) = read.access.refusal().and_then(|refusal| refusal.error()) {
            return Decision::Refuse(error);
        }
        let (Some(stored), Some(role)) = (&read.stored, read.access.role()) else {
            return Decision::Refuse(AppError::NotFound);
        };
        if let Err(error) = self.request.allowed(self.actor, role, stored.target) {
            return Decision::Refuse(error);
        }
        match self.request {
            ChangeRequest::Edit { body, .. } if *body == stored.body => Decision::Nothing,
            ChangeRequest::React { on, .. } if *on == read.reacted => Decision::Nothing,
            ChangeRequest::React { on: true, .. } if read.distinct >= MAX_REACTIONS => Decision::Refuse(
                AppError::field(Field::Emoji, Problem::TooManyReactions { max: MAX_REACTIONS }),
            ),
            _ => Decision::Apply,
        }
    }

    /// The change as committed under `seq` at `now`, made by `actor`.
    pub(super) fn committed(&self, seq: Seq, now: i64, actor: Reactor) -> Change {
        let what = match self.request {
            ChangeRequest::Edit { body, html, mentions } => ChangeKind::Edited {
                body: body.clone(),
                html: html.clone(),
                edited_at: now,
                mentions: mentions.clone(),
            },
            ChangeRequest::Delete | ChangeRequest::Purge => ChangeKind::Deleted,
            ChangeRequest::React { emoji, on } => {
                ChangeKind::Reacted { emoji: emoji.clone(), by: actor, on: *on }
            }
        };
        Change { room: self.room, seq, message: self.message, what }
    }

    /// The mentions to forget and to count when the change applies to a
    /// message that mentioned `before`: only what changes (an edit's
    /// mentions against its old ones; all of them for a deletion).
    pub(super) fn mention_rows(&self, before: &str) -> (Vec<MentionRow>, Vec<MentionRow>) {
        let rows = |users: Vec<UserId>| -> Vec<MentionRow> {
            users.into_iter().map(|user| (user, self.room, self.message)).collect()
        };
        let before = rows(super::mention_ids(before));
        match self.request {
            ChangeRequest::Edit { mentions, .. } => {
                let after = rows(mentions.clone());
                let forget = before.iter().filter(|row| !after.contains(row)).copied().collect();
                let count = after.into_iter().filter(|row| !before.contains(row)).collect();
                (forget, count)
            }
            ChangeRequest::Delete | ChangeRequest::Purge => (before, Vec::new()),
            ChangeRequest::React { .. } => (Vec::new(), Vec::new()),
        }
    }

    /// How the change is recorded in `message_changes`: its kind and emoji.
    pub(super) fn record(&self) -> (&'static str, Option<&str>) {
        match self.request {
            ChangeRequest::Edit { .. } => ("edit", None),
            ChangeRequest::Delete | ChangeRequest::Purge => ("delete", None),
            ChangeRequest::React { emoji, on: true } => ("react", Some(emoji)),
            ChangeRequest::React { emoji, on: false } => ("unreact", Some(emoji)),
        }
    }
}

/// A stored message as a change's [`Target`]: its author, kind and
/// whether it is deleted.
fn target(author: UserId, kind: &str, deleted_at: Option<i64>) -> Target {
    Target { author, event: kind != "text", deleted: deleted_at.is_some() }
}

/// A reactor as shown: their display name, or their username.
pub(super) fn reactor(id: UserId, username: String, display_name: String) -> Reactor {
    Reactor { id, name: crate::domain::shown_name(username, display_name) }
}
