//! Reading a room's history in its current state (keyset range scans on
//! the primary key, with the reactions of the messages read), and what a
//! resuming client missed: the messages and the changes after a number.
//!
//! A page or window is read by one piece of code over a source of rows
//! ([`Rows`]): sqlx's pool on PostgreSQL, one of SQLite's own reader
//! connections on SQLite, where the whole read runs in one blocking thread
//! (see [`crate::store::readers`]).

use super::changes::reactor;
use super::{MessageRow, MESSAGE_SELECT};
use crate::domain::{
    shown_name, Change, ChangeKind, HistoryPage, HistoryWindow, Message, Quote, Reaction, RoomId, Seq,
    UserId, WindowAt, HISTORY_PAGE,
};
use crate::store::readers::{at_once, failed};
use crate::store::rooms::{admission_on, ADMISSION};
use crate::store::Admission;
use crate::store::Store;
use rusqlite::OptionalExtension;
use sqlx::AnyPool;
use std::sync::LazyLock;

/// Up to `$3` rows numbered below `$2`, newest first.
static BEFORE: LazyLock<String> = LazyLock::new(|| {
    format!("{MESSAGE_SELECT} WHERE m.room_id = $1 AND m.seq < $2 ORDER BY m.seq DESC LIMIT $3")
});

/// Up to `$3` rows numbered above `$2`, oldest first.
static AFTER: LazyLock<String> =
    LazyLock::new(|| format!("{MESSAGE_SELECT} WHERE m.room_id = $1 AND m.seq > $2 ORDER BY m.seq LIMIT $3"));

/// The reactions to messages `$2` to `$3`: one range scan of their
/// primary key.
const REACTIONS: &str = "SELECT r.message_seq, r.emoji, r.user_id, u.username, u.display_name
     FROM reactions r JOIN users u ON u.id = r.user_id
     WHERE r.room_id = $1 AND r.message_seq BETWEEN $2 AND $3
     ORDER BY r.message_seq, r.reacted_at, r.user_id";

/// A reaction to one of the messages read: seq, emoji, who.
type ReactionRow = (Seq, String, UserId, String, String);

/// Where history's rows come from. An SQLite reader's futures are ready at
/// once: it reads in the thread that polls them.
trait Rows {
    async fn admission(&mut self, room: RoomId, viewer: UserId) -> Result<Option<Admission>, sqlx::Error>;
    async fn run(
        &mut self,
        sql: &str,
        room: RoomId,
        from: Seq,
        limit: i64,
    ) -> Result<Vec<MessageRow>, sqlx::Error>;
    async fn reactions(
        &mut self,
        room: RoomId,
        first: Seq,
        last: Seq,
    ) -> Result<Vec<ReactionRow>, sqlx::Error>;
}

impl Rows for &AnyPool {
    async fn admission(&mut self, room: RoomId, viewer: UserId) -> Result<Option<Admission>, sqlx::Error> {
        admission_on(self, room, viewer).await
    }

    async fn run(
        &mut self,
        sql: &str,
        room: RoomId,
        from: Seq,
        limit: i64,
    ) -> Result<Vec<MessageRow>, sqlx::Error> {
        sqlx::query_as(sql).bind(room).bind(from).bind(limit).fetch_all(*self).await
    }

    async fn reactions(
        &mut self,
        room: RoomId,
        first: Seq,
        last: Seq,
    ) -> Result<Vec<ReactionRow>, sqlx::Error> {
        sqlx::query_as(REACTIONS).bind(room).bind(first).bind(last).fetch_all(*self).await
    }
}

impl Rows for &rusqlite::Connection {
    async fn admission(&mut self, room: RoomId, viewer: UserId) -> Result<Option<Admission>, sqlx::Error> {
        let mut statement = self.prepare_cached(ADMISSION).map_err(failed)?;
        let row = statement
            .query_row((viewer.0, room.0), |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .optional()
            .map_err(failed)?;
        Ok(row.map(Admission::from_row))
    }

    async fn run(
        &mut self,
        sql: &str,
        room: RoomId,
        from: Seq,
        limit: i64,
    ) -> Result<Vec<MessageRow>, sqlx::Error> {
        let mut statement = self.prepare_cached(sql).map_err(failed)?;
        let rows = statement.query_map((room.0, from, limit), MessageRow::from_rusqlite).map_err(failed)?;
        rows.collect::<Result<_, _>>().map_err(failed)
    }

    async fn reactions(
        &mut self,
        room: RoomId,
        first: Seq,
        last: Seq,
    ) -> Result<Vec<ReactionRow>, sqlx::Error> {
        let mut statement = self.prepare_cached(REACTIONS).map_err(failed)?;
        let rows = statement
            .query_map((room.0, first, last), |row| {
                Ok((row.get(0)?, row.get(1)?, UserId(row.get(2)?), row.get(3)?, row.get(4)?))
            })
            .map_err(failed)?;
        rows.collect::<Result<_, _>>().map_err(failed)
    }
}

/// Who may read a room, decided from what lets them in or keeps them out
/// (`None`: no such room): the rule is the services'.
pub type Rule<E> = fn(Option<Admission>) -> Result<(), E>;

/// [`page`], if `rule` admits `viewer`.
async fn page_for<E>(
    rows: &mut impl Rows,
    viewer: UserId,
    room: RoomId,
    before: Option<Seq>,
    rule: Rule<E>,
) -> Result<Result<HistoryPage, E>, sqlx::Error> {
    if let Err(refusal) = rule(rows.admission(room, viewer).await?) {
        return Ok(Err(refusal));
    }
    page(rows, room, before).await.map(Ok)
}

/// [`window`], if `rule` admits `viewer`.
async fn window_for<E>(
    rows: &mut impl Rows,
    viewer: UserId,
    room: RoomId,
    at: WindowAt,
    rule: Rule<E>,
) -> Result<Result<HistoryWindow, E>, sqlx::Error> {
    if let Err(refusal) = rule(rows.admission(room, viewer).await?) {
        return Ok(Err(refusal));
    }
    window(rows, room, at).await.map(Ok)
}

/// The page before `before` (the newest without it), and whether older
/// messages remain: one row more than a page is read.
async fn page(rows: &mut impl Rows, room: RoomId, before: Option<Seq>) -> Result<HistoryPage, sqlx::Error> {
    let mut found = rows.run(&BEFORE, room, before.unwrap_or(Seq::MAX), HISTORY_PAGE as i64 + 1).await?;
    let has_older = found.len() > HISTORY_PAGE;
    found.truncate(HISTORY_PAGE);
    found.reverse();
    let messages = with_reactions(rows, room, found).await?;
    Ok(HistoryPage { messages, has_older })
}

/// The window `at`: two range scans on the primary key, each reading one
/// row more than it keeps, the neighbour.
async fn window(rows: &mut impl Rows, room: RoomId, at: WindowAt) -> Result<HistoryWindow, sqlx::Error> {
    let (start, wanted_older) = at.start();
    let mut found = rows.run(&BEFORE, room, start, wanted_older as i64 + 1).await?;
    let older = if found.len() > wanted_older { found.pop().map(|row| row.seq) } else { None };
    // Fewer before (near the beginning): more after.
    let wanted_newer = HISTORY_PAGE - found.len();
    let mut newer_rows = rows.run(&AFTER, room, start.saturating_sub(1), wanted_newer as i64 + 1).await?;
    let newer = if newer_rows.len() > wanted_newer { newer_rows.pop().map(|row| row.seq) } else { None };
    found.reverse();
    found.append(&mut newer_rows);
    let messages = with_reactions(rows, room, found).await?;
    Ok(HistoryWindow { messages, older, newer })
}

async fn messages_after(
    rows: &mut impl Rows,
    room: RoomId,
    after: Seq,
    limit: i64,
) -> Result<Vec<Message>, sqlx::Error> {
    let found = rows.run(&AFTER, room, after, limit).await?;
    with_reactions(rows, room, found).await
}

/// The messages of `found` (of `room`, in sequence order) with their
/// reactions: one range scan of the reactions' primary key over their
/// numbers.
async fn with_reactions(
    rows: &mut impl Rows,
    room: RoomId,
    found: Vec<MessageRow>,
) -> Result<Vec<Message>, sqlx::Error> {
    let mut messages: Vec<Message> = found.into_iter().map(MessageRow::message).collect();
    let (Some(first), Some(last)) = (messages.first(), messages.last()) else { return Ok(messages) };
    for (seq, emoji, user, username, display_name) in rows.reactions(room, first.seq, last.seq).await? {
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

/// `$read(rows, args…)` on the store's SQLite readers (a connection of its
/// own, in one hand-over to a blocking thread; see `store::readers`), or
/// on the pool (PostgreSQL).
macro_rules! read_rows {
    ($store:expr, $read:ident($($arg:expr),*)) => {
        match &$store.readers {
            Some(readers) => readers.read(move |mut c| at_once($read(&mut c, $($arg),*))).await,
            None => $read(&mut &$store.pool, $($arg),*).await,
        }
    };
}

impl Store {
    /// The page of messages before `before` (the newest page without it),
    /// and whether older ones remain.
    pub async fn history_page(&self, room: RoomId, before: Option<Seq>) -> Result<HistoryPage, sqlx::Error> {
        read_rows!(self, page(room, before))
    }

    /// The page before `before` if `rule` lets `viewer` read `room`, its
    /// refusal otherwise: what the rule decides from is read in the same
    /// hand-over as the page.
    pub async fn history_page_for<E: Send + 'static>(
        &self,
        viewer: UserId,
        room: RoomId,
        before: Option<Seq>,
        rule: Rule<E>,
    ) -> Result<Result<HistoryPage, E>, sqlx::Error> {
        read_rows!(self, page_for(viewer, room, before, rule))
    }

    /// The window of history `at` (a page in all, see [`WindowAt`]) with
    /// its neighbours, if `rule` lets `viewer` read `room`, as
    /// [`Store::history_page_for`].
    pub async fn history_window_for<E: Send + 'static>(
        &self,
        viewer: UserId,
        room: RoomId,
        at: WindowAt,
        rule: Rule<E>,
    ) -> Result<Result<HistoryWindow, E>, sqlx::Error> {
        read_rows!(self, window_for(viewer, room, at, rule))
    }

    /// Up to `limit` messages after `after`, oldest first.
    pub async fn messages_after(
        &self,
        room: RoomId,
        after: Seq,
        limit: i64,
    ) -> Result<Vec<Message>, sqlx::Error> {
        read_rows!(self, messages_after(room, after, limit))
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
