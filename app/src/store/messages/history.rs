//! Reading a room's history: keyset range scans on the primary key.

use super::{MessageRow, MESSAGE_SELECT};
use crate::domain::{HistoryPage, Message, RoomId, Seq, HISTORY_PAGE};
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

impl Store {
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
}
