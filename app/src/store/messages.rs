//! Messages: appending them in batches (group commit) and reading history.

use super::{now_millis, Store};
use crate::domain::{ClientId, Message, PublicProfile, RoomEvent, RoomId, Seq, UserId, Visibility};
use std::collections::{BTreeMap, HashMap};
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
}

/// How the writer reads, for each (room, author) pair of a group (`a`), the
/// room's visibility, the author's role in it and, for a direct
/// conversation, whether its other member refuses the author's messages,
/// by the rule of [`refuses_messages`].
static ACCESS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH a(room, author) AS (SELECT value ->> 0, value ->> 1 FROM json_each($1))
         SELECT a.room, a.author, r.visibility, m.role,
                r.kind = 'direct' AND EXISTS (
                    SELECT 1 FROM memberships o
                    WHERE o.room_id = r.id AND o.user_id <> a.author AND {}) AS refused
         FROM a
         LEFT JOIN rooms r ON r.id = a.room AND r.archived_at IS NULL
         LEFT JOIN memberships m ON m.room_id = r.id AND m.user_id = a.author",
        refuses_messages("o.user_id", "a.author")
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

/// One (room, author) pair's standing, as [`ACCESS`] reads it.
#[derive(sqlx::FromRow)]
struct Access {
    room: RoomId,
    author: UserId,
    visibility: Option<String>,
    role: Option<String>,
    refused: Option<bool>,
}

impl Access {
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

/// Binds a list of tuples as one JSON array, read in SQL with `json_each`:
/// a group is written with a few statements whatever its size, each
/// prepared once.
fn json<T: serde::Serialize>(rows: &T) -> Result<String, sqlx::Error> {
    serde_json::to_string(rows).map_err(|error| sqlx::Error::Encode(Box::new(error)))
}

impl Store {
    /// Appends messages in one transaction on the durable writer connection,
    /// and returns once it is committed. Each message is checked in the
    /// transaction (membership, client id), so the answer is consistent with
    /// any concurrent kick or resend.
    ///
    /// The whole group takes six statements, whatever its size: client ids
    /// already used, access of each (room, author), profiles, one sequence
    /// bump per room, one insert, one read mark per (room, author).
    pub async fn append_messages(&self, batch: &[NewMessage<'_>]) -> Result<Vec<Appended>, sqlx::Error> {
        let now = now_millis();
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;

        // A resend finds its original: stored earlier, or earlier in this group.
        let keys: Vec<(UserId, &str)> = batch.iter().map(|new| (new.author, new.client_id.as_str())).collect();
        let stored: Vec<MessageRow> = sqlx::query_as(&format!(
            "WITH k(author, client) AS (SELECT value ->> 0, value ->> 1 FROM json_each($1))
             {MESSAGE_SELECT} JOIN k ON m.author_id = k.author AND m.client_id = k.client"
        ))
        .bind(json(&keys)?)
        .fetch_all(&mut *tx)
        .await?;
        let stored: HashMap<(UserId, String), Message> = stored
            .into_iter()
            .map(|row| ((row.author_id, row.client_id.clone()), row.message()))
            .collect();
        let mut outcomes: Vec<Option<Appended>> = Vec::with_capacity(batch.len());
        // The first copy of each client id not stored yet.
        let mut firsts: HashMap<(UserId, &str), usize> = HashMap::new();
        let mut fresh = Vec::new();
        for (index, &(author, client)) in keys.iter().enumerate() {
            if stored.is_empty() {
                outcomes.push(None);
            } else {
                outcomes.push(stored.get(&(author, client.to_owned())).cloned().map(Appended::Existing));
            }
            if outcomes[index].is_none() && *firsts.entry((author, client)).or_insert(index) == index {
                fresh.push(index);
            }
        }

        // Who may post where, in this transaction.
        let mut pairs: Vec<(RoomId, UserId)> = fresh.iter().map(|&i| (batch[i].room, batch[i].author)).collect();
        pairs.sort_unstable();
        pairs.dedup();
        let access: Vec<Access> = sqlx::query_as(&ACCESS).bind(json(&pairs)?).fetch_all(&mut *tx).await?;
        let refusals: HashMap<(RoomId, UserId), Appended> = access
            .iter()
            .filter_map(|row| row.refusal().map(|refusal| ((row.room, row.author), refusal)))
            .collect();
        let mut accepted = Vec::with_capacity(fresh.len());
        for &index in &fresh {
            let new = &batch[index];
            match refusals.get(&(new.room, new.author)) {
                Some(refusal) => outcomes[index] = Some(refusal.clone()),
                None => accepted.push(index),
            }
        }

        if !accepted.is_empty() {
            // Each room's next numbers, in the group's order.
            let mut counts: BTreeMap<RoomId, i64> = BTreeMap::new();
            for &index in &accepted {
                *counts.entry(batch[index].room).or_default() += 1;
            }
            let counted: Vec<(RoomId, i64)> = counts.iter().map(|(room, n)| (*room, *n)).collect();
            let lasts: Vec<(RoomId, Seq)> = sqlx::query_as(
                "WITH c(room, n) AS (SELECT value ->> 0, value ->> 1 FROM json_each($1))
                 UPDATE rooms SET last_seq = last_seq + c.n, last_activity = $2
                 FROM c WHERE rooms.id = c.room
                 RETURNING id, last_seq",
            )
            .bind(json(&counted)?)
            .bind(now)
            .fetch_all(&mut *tx)
            .await?;
            let mut next: HashMap<RoomId, Seq> =
                lasts.into_iter().map(|(room, last)| (room, last - counts[&room] + 1)).collect();
            let mut seqs = Vec::with_capacity(accepted.len());
            for &index in &accepted {
                let seq = next.get_mut(&batch[index].room).ok_or(sqlx::Error::RowNotFound)?;
                seqs.push(*seq);
                *seq += 1;
            }

            let rows: Vec<_> = accepted
                .iter()
                .zip(&seqs)
                .map(|(&index, seq)| {
                    let new = &batch[index];
                    let (kind, subject) = new.event.map_or(("text", None), |(kind, subject)| (kind, Some(subject)));
                    (new.room, seq, new.author, new.client_id.as_str(), new.body, kind, subject)
                })
                .collect();
            sqlx::query(
                "INSERT INTO messages (room_id, seq, author_id, client_id, body, sent_at, kind, subject_id)
                 SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, $2, value ->> 5, value ->> 6
                 FROM json_each($1)",
            )
            .bind(json(&rows)?)
            .bind(now)
            .execute(&mut *tx)
            .await?;

            // Writing in a room means having read it.
            let mut marks: BTreeMap<(RoomId, UserId), Seq> = BTreeMap::new();
            for (&index, &seq) in accepted.iter().zip(&seqs) {
                marks.insert((batch[index].room, batch[index].author), seq);
            }
            let marks: Vec<(RoomId, UserId, Seq)> =
                marks.into_iter().map(|((room, user), seq)| (room, user, seq)).collect();
            sqlx::query(
                "WITH c(room, user, seq) AS (SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each($1))
                 UPDATE memberships SET last_read_seq = c.seq
                 FROM c
                 WHERE memberships.room_id = c.room AND memberships.user_id = c.user AND last_read_seq < c.seq",
            )
            .bind(json(&marks)?)
            .execute(&mut *tx)
            .await?;

            // The stored messages, built from what was written.
            let mut ids: Vec<UserId> = accepted
                .iter()
                .flat_map(|&index| [Some(batch[index].author), batch[index].event.map(|(_, subject)| subject)])
                .flatten()
                .collect();
            ids.sort_unstable();
            ids.dedup();
            let profiles: HashMap<UserId, PublicProfile> = sqlx::query_as::<_, (UserId, String, String, Option<i64>)>(
                "SELECT id, username, display_name, avatar_version FROM users
                 WHERE id IN (SELECT value FROM json_each($1))",
            )
            .bind(json(&ids)?)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .map(|(id, username, display_name, avatar_version)| {
                (id, PublicProfile { id, username, display_name, avatar_version })
            })
            .collect();
            let profile = |id: UserId| profiles.get(&id).cloned().ok_or(sqlx::Error::RowNotFound);
            for (&index, &seq) in accepted.iter().zip(&seqs) {
                let new = &batch[index];
                let event = match new.event {
                    Some((kind, subject)) => RoomEvent::from_db(kind, profile(subject)?),
                    None => None,
                };
                outcomes[index] = Some(Appended::New(Message {
                    room: new.room,
                    seq,
                    author: profile(new.author)?,
                    body: new.body.to_owned(),
                    sent_at: now,
                    client_id: new.client_id.clone(),
                    event,
                }));
            }
        }
        tx.commit().await?;

        // A resend within the group gets what its first copy got.
        for index in 0..batch.len() {
            let first = firsts.get(&keys[index]).copied().unwrap_or(index);
            if first != index {
                outcomes[index] = match &outcomes[first] {
                    Some(Appended::New(message)) => Some(Appended::Existing(message.clone())),
                    other => other.clone(),
                };
            }
        }
        let outcomes = outcomes.into_iter().map(|outcome| outcome.unwrap_or(Appended::NotMember(None))).collect();
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
