//! Reading a room's history in its current state (keyset range scans on
//! the primary key, with the reactions of the messages read), and what a
//! resuming client missed: the messages and the changes after a number.

use super::changes::reactor;
use super::{MessageRow, MESSAGE_SELECT};
use crate::domain::{
    shown_name, Change, ChangeKind, HistoryPage, HistoryWindow, Message, Quote, Reaction, RoomId, Seq,
    UserId, WindowAt, HISTORY_PAGE,
};
use crate::store::Store;

impl Store {
    /// Up to `limit` messages before `before` (or the newest ones), oldest
    /// first. A keyset range scan on the primary key, never an OFFSET.
    pub async fn messages_before(
        &self,
        room: RoomId,
        before: Option<Seq>,
        limit: i64,
    ) -> Result<Vec<Message>, sqlx::Error> {
        let mut rows = self.rows_before(room, before.unwrap_or(Seq::MAX), limit).await?;
        rows.reverse();
        self.with_reactions(room, rows.into_iter().map(MessageRow::message).collect()).await
    }

    /// Up to `limit` messages after `after`, oldest first.
    pub async fn messages_after(
        &self,
        room: RoomId,
        after: Seq,
        limit: i64,
    ) -> Result<Vec<Message>, sqlx::Error> {
        let rows = self.rows_after(room, after, limit).await?;
        self.with_reactions(room, rows.into_iter().map(MessageRow::message).collect()).await
    }

    /// Up to `limit` rows numbered below `before`, newest first.
    async fn rows_before(
        &self,
        room: RoomId,
        before: Seq,
        limit: i64,
    ) -> Result<Vec<MessageRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "{MESSAGE_SELECT} WHERE m.room_id = $1 AND m.seq < $2 ORDER BY m.seq DESC LIMIT $3"
        ))
        .bind(room)
        .bind(before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
    }

    /// Up to `limit` rows numbered above `after`, oldest first.
    async fn rows_after(&self, room: RoomId, after: Seq, limit: i64) -> Result<Vec<MessageRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "{MESSAGE_SELECT} WHERE m.room_id = $1 AND m.seq > $2 ORDER BY m.seq LIMIT $3"
        ))
        .bind(room)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
    }

    /// The window of history `at` (a page in all, see [`WindowAt`]) with
    /// its neighbours: two range scans on the primary key, each reading one
    /// row more than it keeps, the neighbour.
    pub async fn history_window(&self, room: RoomId, at: WindowAt) -> Result<HistoryWindow, sqlx::Error> {
        let (start, wanted_older) = at.start();
        let mut rows = self.rows_before(room, start, wanted_older as i64 + 1).await?;
        let older = if rows.len() > wanted_older { rows.pop().map(|row| row.seq) } else { None };
        // Fewer before (near the beginning): more after.
        let wanted_newer = HISTORY_PAGE - rows.len();
        let mut newer_rows = self.rows_after(room, start.saturating_sub(1), wanted_newer as i64 + 1).await?;
        let newer = if newer_rows.len() > wanted_newer { newer_rows.pop().map(|row| row.seq) } else { None };
        rows.reverse();
        rows.append(&mut newer_rows);
        let messages = self.with_reactions(room, rows.into_iter().map(MessageRow::message).collect()).await?;
        Ok(HistoryWindow { messages, older, newer })
    }

    /// The page of messages before `before` (the newest page without it),
    /// and whether older ones remain.
    pub async fn history_page(&self, room: RoomId, before: Option<Seq>) -> Result<HistoryPage, sqlx::Error> {
        let mut messages = self.messages_before(room, before, HISTORY_PAGE as i64 + 1).await?;
        let has_older = messages.len() > HISTORY_PAGE;
        if has_older {
            messages.remove(0);
        }
        Ok(HistoryPage { messages, has_older })
    }

    /// `messages` (of `room`, in sequence order) with their reactions: one
    /// range scan of the reactions' primary key over the messages' numbers.
    async fn with_reactions(
        &self,
        room: RoomId,
        mut messages: Vec<Message>,
    ) -> Result<Vec<Message>, sqlx::Error> {
        let (Some(first), Some(last)) = (messages.first(), messages.last()) else { return Ok(messages) };
        let rows: Vec<(Seq, String, UserId, String, String)> = sqlx::query_as(
            "SELECT r.message_seq, r.emoji, r.user_id, u.username, u.display_name
             FROM reactions r JOIN users u ON u.id = r.user_id
             WHERE r.room_id = $1 AND r.message_seq BETWEEN $2 AND $3
             ORDER BY r.message_seq, r.reacted_at, r.user_id",
        )
        .bind(room)
        .bind(first.seq)
        .bind(last.seq)
        .fetch_all(&self.pool)
        .await?;
        for (seq, emoji, user, username, display_name) in rows {
            let Ok(at) = messages.binary_search_by_key(&seq, |m| m.seq) else { continue };
            let reactions = &mut messages[at].reactions;
            let person = reactor(user, username, display_name);
            match reactions.iter_mut().find(|r| r.emoji == emoji) {
                Some(reaction) => reaction.people.push(person),
                None => reactions.push(Reaction { emoji, people: vec![person] }),
            }
        }
        Ok(messages)
    }

    /// Up to `limit` changes after `after`, oldest first, as a resuming
    /// client applies them (see [`ChangeKind`]: edits carry the current
    /// text, changes of a message deleted since replay as its deletion).
    pub async fn changes_after(
        &self,
        room: RoomId,
        after: Seq,
        limit: i64,
    ) -> Result<Vec<Change>, sqlx::Error> {
        let rows: Vec<ChangeRow> = sqlx::query_as(
            "SELECT c.seq, c.message_seq, c.kind, c.actor_id, u.username, u.display_name, c.emoji,
                    c.changed_at, m.body, m.html, m.edited_at, m.deleted_at, m.mentions
             FROM message_changes c JOIN users u ON u.id = c.actor_id
             LEFT JOIN messages m ON m.room_id = c.room_id AND m.seq = c.message_seq
             WHERE c.room_id = $1 AND c.seq > $2 ORDER BY c.seq LIMIT $3",
        )
        .bind(room)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|row| row.change(room)).collect())
    }

    /// The members of `room` among the users whose username keys are
    /// `keys`: their ids and keys.
    pub async fn members_named(
        &self,
        room: RoomId,
        keys: &[String],
    ) -> Result<Vec<(UserId, String)>, sqlx::Error> {
        let places: Vec<String> = (0..keys.len()).map(|n| format!("${}", n + 2)).collect();
        let sql = format!(
            "SELECT u.id, u.username_key FROM memberships m JOIN users u ON u.id = m.user_id
             WHERE m.room_id = $1 AND u.username_key IN ({})",
            places.join(", ")
        );
        let mut query = sqlx::query_as(&sql).bind(room);
        for key in keys {
            query = query.bind(key.as_str());
        }
        query.fetch_all(&self.pool).await
    }

    /// A short quote of message `seq` of `room`, for a reply to it.
    pub async fn quote(&self, room: RoomId, seq: Seq) -> Result<Option<Quote>, sqlx::Error> {
        let row: Option<(String, String, String, Option<i64>, String)> = sqlx::query_as(
            "SELECT u.username, u.display_name, m.body, m.deleted_at, m.attachments
             FROM messages m JOIN users u ON u.id = m.author_id
             WHERE m.room_id = $1 AND m.seq = $2 AND m.kind = 'text'",
        )
        .bind(room)
        .bind(seq)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(username, display_name, body, deleted_at, files)| {
            let text = super::stored_preview(&body, Some(&files));
            Quote::of(seq, shown_name(username, display_name), &text, deleted_at.is_some())
        }))
    }
}

#[derive(sqlx::FromRow)]
struct ChangeRow {
    seq: Seq,
    message_seq: Seq,
    kind: String,
    actor_id: UserId,
    username: String,
    display_name: String,
    emoji: Option<String>,
    changed_at: i64,
    body: Option<String>,
    html: Option<String>,
    edited_at: Option<i64>,
    deleted_at: Option<i64>,
    mentions: Option<String>,
}

impl ChangeRow {
    fn change(self, room: RoomId) -> Change {
        let deleted = self.deleted_at.is_some() || self.body.is_none();
        let what = match (self.kind.as_str(), self.emoji) {
            _ if deleted => ChangeKind::Deleted,
            ("edit", _) => ChangeKind::Edited {
                body: self.body.unwrap_or_default(),
                html: self.html.unwrap_or_default(),
                edited_at: self.edited_at.unwrap_or(self.changed_at),
                mentions: super::mention_ids(&self.mentions.unwrap_or_default()),
            },
            (kind @ ("react" | "unreact"), Some(emoji)) => ChangeKind::Reacted {
                emoji,
                by: reactor(self.actor_id, self.username, self.display_name),
                on: kind == "react",
            },
            _ => ChangeKind::Deleted,
        };
        Change { room, seq: self.seq, message: self.message_seq, what }
    }
}
