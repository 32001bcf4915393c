//! Messages: appending them in batches (group commit) and reading history.

use super::{now_millis, Store};
use crate::domain::{ClientId, Message, PublicProfile, RoomEvent, RoomId, Seq, UserId, Visibility};
use std::sync::LazyLock;

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
    sent_at: i64,
    kind: String,
    subject_id: Option<UserId>,
    subject_username: Option<String>,
    subject_display_name: Option<String>,
    subject_avatar_version: Option<i64>,
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
            sent_at: self.sent_at,
            client_id: ClientId::stored(self.client_id),
            event,
        }
    }
}

const MESSAGE_SELECT: &str = "
    SELECT m.room_id, m.seq, m.author_id, u.username, u.display_name, u.avatar_version,
           m.client_id, m.body, m.sent_at, m.kind, s.id AS subject_id, s.username AS subject_username,
           s.display_name AS subject_display_name, s.avatar_version AS subject_avatar_version
    FROM messages m JOIN users u ON u.id = m.author_id LEFT JOIN users s ON s.id = m.subject_id";

/// One message to append.
pub struct NewMessage<'a> {
    pub room: RoomId,
    pub author: UserId,
    pub client_id: &'a ClientId,
    pub body: &'a str,
    /// For an event line: its kind and subject (the body is then empty).
    pub event: Option<(&'static str, UserId)>,
}

/// What became of one message of a batch.
#[derive(Debug)]
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
}

/// Whether a message is refused, and how the writer reads its room and the
/// author's membership: for a direct conversation (`r`), whether its other
/// member refuses direct messages from the author (`$2`), by the rule of
/// [`refuses_messages`].
static ACCESS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT r.visibility, m.role,
                r.kind = 'direct' AND EXISTS (
                    SELECT 1 FROM memberships o
                    WHERE o.room_id = r.id AND o.user_id <> $2 AND {}) AS refused
         FROM rooms r
         LEFT JOIN memberships m ON m.room_id = r.id AND m.user_id = $2
         WHERE r.id = $1 AND r.archived_at IS NULL",
        refuses_messages("o.user_id", "$2")
    )
});

/// SQL: whether user `to` refuses direct messages from user `from` (two
/// SQL expressions): a block either way, or "friends only" and they are
/// not friends. The one statement of that rule, for opening a conversation
/// and for every message in one.
pub(super) fn refuses_messages(to: &str, from: &str) -> String {
    format!(
        "(EXISTS (SELECT 1 FROM blocks
                  WHERE (blocker_id = {to} AND blocked_id = {from}) OR (blocker_id = {from} AND blocked_id = {to}))
          OR ((SELECT dm_policy FROM users WHERE id = {to}) = 'friends'
              AND NOT EXISTS (SELECT 1 FROM friendships WHERE user_id = {to} AND friend_id = {from})))"
    )
}

impl Store {
    /// Appends messages in one transaction on the durable writer connection,
    /// and returns once it is committed. Each message is checked in the
    /// transaction (membership, client id), so the answer is consistent with
    /// any concurrent kick or resend.
    pub async fn append_messages(&self, batch: &[NewMessage<'_>]) -> Result<Vec<Appended>, sqlx::Error> {
        let now = now_millis();
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let mut outcomes = Vec::with_capacity(batch.len());
        for new in batch {
            let existing: Option<MessageRow> =
                sqlx::query_as(&format!("{MESSAGE_SELECT} WHERE m.author_id = $1 AND m.client_id = $2"))
                    .bind(new.author)
                    .bind(new.client_id.as_str())
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some(row) = existing {
                outcomes.push(Appended::Existing(row.message()));
                continue;
            }
            let access: Option<(String, Option<String>, bool)> =
                sqlx::query_as(&ACCESS).bind(new.room).bind(new.author).fetch_optional(&mut *tx).await?;
            match access {
                Some((_, Some(_), false)) => {}
                Some((_, Some(_), true)) => {
                    outcomes.push(Appended::Refused);
                    continue;
                }
                Some((visibility, None, _)) => {
                    outcomes.push(Appended::NotMember(Visibility::from_db(&visibility)));
                    continue;
                }
                None => {
                    outcomes.push(Appended::NotMember(None));
                    continue;
                }
            }
            let (seq,): (Seq,) = sqlx::query_as(
                "UPDATE rooms SET last_seq = last_seq + 1, last_activity = $2 WHERE id = $1 RETURNING last_seq",
            )
            .bind(new.room)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO messages (room_id, seq, author_id, client_id, body, sent_at, kind, subject_id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(new.room)
            .bind(seq)
            .bind(new.author)
            .bind(new.client_id.as_str())
            .bind(new.body)
            .bind(now)
            .bind(new.event.map_or("text", |(kind, _)| kind))
            .bind(new.event.map(|(_, subject)| subject))
            .execute(&mut *tx)
            .await?;
            // Writing in a room means having read it.
            sqlx::query("UPDATE memberships SET last_read_seq = $3 WHERE room_id = $1 AND user_id = $2")
                .bind(new.room)
                .bind(new.author)
                .bind(seq)
                .execute(&mut *tx)
                .await?;
            let row: MessageRow =
                sqlx::query_as(&format!("{MESSAGE_SELECT} WHERE m.room_id = $1 AND m.seq = $2"))
                    .bind(new.room)
                    .bind(seq)
                    .fetch_one(&mut *tx)
                    .await?;
            outcomes.push(Appended::New(row.message()));
        }
        tx.commit().await?;
        Ok(outcomes)
    }

    /// Up to `limit` messages before `before` (or the newest ones), oldest
    /// first. A keyset range scan on the primary key, never an OFFSET.
    pub async fn messages_before(
        &self,
        room: RoomId,
        before: Option<Seq>,
        limit: i64,
    ) -> Result<Vec<Message>, sqlx::Error> {
        let mut rows: Vec<MessageRow> = sqlx::query_as(&format!(
            "{MESSAGE_SELECT} WHERE m.room_id = $1 AND m.seq < $2 ORDER BY m.seq DESC LIMIT $3"
        ))
        .bind(room)
        .bind(before.unwrap_or(Seq::MAX))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.reverse();
        Ok(rows.into_iter().map(MessageRow::message).collect())
    }

    /// Up to `limit` messages after `after`, oldest first.
    pub async fn messages_after(
        &self,
        room: RoomId,
        after: Seq,
        limit: i64,
    ) -> Result<Vec<Message>, sqlx::Error> {
        let rows: Vec<MessageRow> = sqlx::query_as(&format!(
            "{MESSAGE_SELECT} WHERE m.room_id = $1 AND m.seq > $2 ORDER BY m.seq LIMIT $3"
        ))
        .bind(room)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(MessageRow::message).collect())
    }
}
