//! The SQLite message writer: its own connection, called directly from the
//! writer's thread.

use super::changes::{self, Changed, Decision, NewChange, Read, Stored};
use super::group::Group;
use super::{refuses_messages, Access, Appended, MessageRow, NewMessage, MESSAGE_SELECT};
use crate::domain::{ChangeRequest, PublicProfile, RoomId, Seq, UserId};
use crate::store::now_millis;
use rusqlite::OptionalExtension;
use std::collections::HashMap;
use std::sync::LazyLock;

impl MessageRow {
    /// The same row as the writer's connection reads it.
    fn from_rusqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            room_id: RoomId(row.get("room_id")?),
            seq: row.get("seq")?,
            author_id: UserId(row.get("author_id")?),
            username: row.get("username")?,
            display_name: row.get("display_name")?,
            avatar_version: row.get("avatar_version")?,
            client_id: row.get("client_id")?,
            body: row.get("body")?,
            html: row.get("html")?,
            sent_at: row.get("sent_at")?,
            kind: row.get("kind")?,
            edited_at: row.get("edited_at")?,
            deleted_at: row.get("deleted_at")?,
            reply_to: row.get("reply_to")?,
            mentions: row.get("mentions")?,
            subject_id: row.get::<_, Option<i64>>("subject_id")?.map(UserId),
            subject_username: row.get("subject_username")?,
            subject_display_name: row.get("subject_display_name")?,
            subject_avatar_version: row.get("subject_avatar_version")?,
            quote_username: row.get("quote_username")?,
            quote_display_name: row.get("quote_display_name")?,
            quote_body: row.get("quote_body")?,
            quote_deleted_at: row.get("quote_deleted_at")?,
            quote_attachments: row.get("quote_attachments")?,
            attachments: row.get("attachments")?,
        })
    }
}

/// How the writer reads, for each (room, author) pair of a group (`a`), the
/// room's visibility, the author's role in it and, for a direct
/// conversation, whether its other member refuses the author's messages,
/// by the rule of [`refuses_messages`].
static ACCESS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH a(room, author) AS (SELECT value ->> 0, value ->> 1 FROM json_each(?1))
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

/// Client ids of a group already stored (`?1`: `[[author, client id]…]`).
static STORED: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH k(author, client) AS (SELECT value ->> 0, value ->> 1 FROM json_each(?1))
         {MESSAGE_SELECT} JOIN k ON m.author_id = k.author AND m.client_id = k.client"
    )
});

impl Access {
    fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            room: RoomId(row.get("room")?),
            author: UserId(row.get("author")?),
            visibility: row.get("visibility")?,
            role: row.get("role")?,
            refused: row.get("refused")?,
        })
    }
}

/// (the writer's statements number their parameters `?N`, which SQLite
/// binds by number, not by order of appearance):
/// a group is written with a few statements whatever its size, each
/// prepared once.
fn json<T: serde::Serialize>(rows: &T) -> rusqlite::Result<String> {
    serde_json::to_string(rows).map_err(|error| rusqlite::Error::ToSqlConversionFailure(Box::new(error)))
}

/// The message writer's own connection to the database, used from one
/// thread (see `services::messages`): a group is read, checked and written
/// with direct calls into SQLite, where going through the pool would hand
/// every statement to another thread and back.
pub struct MessageLog {
    connection: rusqlite::Connection,
}

impl MessageLog {
    /// Opens the log on the database file at `path` (made by [`Store::open`]).
    /// It commits with a full sync: an appended message is durable, and so
    /// is every earlier commit of the pool (WAL).
    pub fn open(path: &std::path::Path) -> rusqlite::Result<Self> {
        let connection = rusqlite::Connection::open(path)?;
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        connection.pragma_update(None, "journal_mode", "wal")?;
        connection.pragma_update(None, "synchronous", "full")?;
        connection.pragma_update(None, "foreign_keys", "on")?;
        // A statement that writes many rows keeps a statement journal:
        // in memory, not a file created and deleted for every group.
        connection.pragma_update(None, "temp_store", "memory")?;
        connection.set_prepared_statement_cache_capacity(16);
        Ok(Self { connection })
    }

    /// Appends messages, then applies changes, in one transaction, and
    /// returns once it is committed. Each message is checked in the
    /// transaction (membership, client id), and so is each change (see
    /// [`NewChange::decide`]), so the answer is consistent with any
    /// concurrent kick or resend.
    ///
    /// The group's messages take six statements, whatever their number:
    /// client ids already used, access of each (room, author), profiles,
    /// one sequence bump per room, one insert, one read mark per (room,
    /// author). Changes, rarer, take a few statements each.
    pub fn append(
        &mut self,
        batch: &[NewMessage<'_>],
        changes: &[NewChange<'_>],
    ) -> rusqlite::Result<(Vec<Appended>, Vec<Changed>)> {
        let now = now_millis();
        let missing = || rusqlite::Error::QueryReturnedNoRows;
        let tx = self.connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut group = Group::new(batch);

        let stored = tx
            .prepare_cached(&STORED)?
            .query_map([json(&group.keys)?], MessageRow::from_rusqlite)?
            .map(|row| row.map(|row| ((row.author_id, row.client_id.clone()), row.message())))
            .collect::<rusqlite::Result<_>>()?;
        group.find_resends(&stored);

        let mut refusals = HashMap::new();
        for access in tx.prepare_cached(&ACCESS)?.query_map([json(&group.pairs())?], Access::from_row)? {
            let access = access?;
            if let Some(refusal) = access.refusal() {
                refusals.insert((access.room, access.author), refusal);
            }
        }
        group.admit(&refusals);
        let wanted = group.attachments();
        if !wanted.is_empty() {
            let unsent = tx
                .prepare_cached(
                    "SELECT id, room_id, uploader_id FROM attachments
                     WHERE message_seq IS NULL AND id IN (SELECT value FROM json_each(?1))",
                )?
                .query_map([json(&wanted)?], |row| {
                    Ok((row.get::<_, String>(0)?, (RoomId(row.get(1)?), UserId(row.get(2)?))))
                })?
                .collect::<rusqlite::Result<HashMap<_, _>>>()?;
            group.claim(&unsent);
        }

        if group.has_accepted() {
            let counts = group.counts();
            let mut last = HashMap::new();
            let mut bump = tx.prepare_cached(
                "WITH c(room, n) AS (SELECT value ->> 0, value ->> 1 FROM json_each(?1))
                 UPDATE rooms SET last_seq = last_seq + c.n, last_message_seq = last_seq + c.n, last_activity = ?2
                 FROM c WHERE rooms.id = c.room
                 RETURNING id, last_seq",
            )?;
            for row in bump.query_map(rusqlite::params![json(&counts)?, now], |row| {
                Ok((RoomId(row.get(0)?), row.get::<_, Seq>(1)?))
            })? {
                let (room, seq) = row?;
                last.insert(room, seq);
            }
            drop(bump);
            group.number(&counts, &last).ok_or_else(missing)?;

            let rows = json(&group.rows())?;
            // Each text message takes the next search ids, in the group's
            // order (see the migration `0010_search_order`): the index only
            // grows at its end.
            let searched: i64 = tx
                .prepare_cached(
                    "SELECT COALESCE((SELECT search_id FROM messages WHERE search_id IS NOT NULL
                                      ORDER BY search_id DESC LIMIT 1), 0)",
                )?
                .query_row([], |row| row.get(0))?;
            tx.prepare_cached(
                "INSERT INTO messages (room_id, seq, author_id, client_id, body, sent_at, kind, subject_id,
                                       html, reply_to, mentions, attachments, search_id)
                 SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, ?2, value ->> 5, value ->> 6,
                        value ->> 7, value ->> 8, value ->> 9, value ->> 10,
                        CASE WHEN value ->> 5 = 'text' THEN ?3 + key + 1 END
                 FROM json_each(?1)",
            )?
            .execute(rusqlite::params![rows, now, searched])?;
            // Searchable in the same transaction (see `search`).
            tx.prepare_cached(
                "INSERT INTO message_search (rowid, body, room)
                 SELECT ?2 + key + 1, value ->> 4, 'r' || (value ->> 0) FROM json_each(?1) WHERE value ->> 5 = 'text'",
            )?
            .execute(rusqlite::params![rows, searched])?;
            let claims = group.claims();
            if !claims.is_empty() {
                tx.prepare_cached(
                    "WITH c(id, seq) AS (SELECT value ->> 0, value ->> 1 FROM json_each(?1))
                     UPDATE attachments SET message_seq = c.seq FROM c WHERE attachments.id = c.id",
                )?
                .execute([json(&claims)?])?;
            }
            let mentions = group.mentions();
            if !mentions.is_empty() {
                tx.prepare_cached(INSERT_MENTIONS)?.execute([json(&mentions)?])?;
            }
            tx.prepare_cached(
                "WITH c(room, member, seq) AS (SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?1))
                 UPDATE memberships SET last_read_seq = c.seq
                 FROM c
                 WHERE memberships.room_id = c.room AND memberships.user_id = c.member AND last_read_seq < c.seq",
            )?
            .execute([json(&group.read_marks())?])?;
            let profiles: HashMap<UserId, PublicProfile> = tx
                .prepare_cached(
                    "SELECT id, username, display_name, avatar_version FROM users
                     WHERE id IN (SELECT value FROM json_each(?1))",
                )?
                .query_map([json(&group.people())?], |row| {
                    let id = UserId(row.get(0)?);
                    Ok((
                        id,
                        PublicProfile {
                            id,
                            username: row.get(1)?,
                            display_name: row.get(2)?,
                            avatar_version: row.get(3)?,
                        },
                    ))
                })?
                .collect::<rusqlite::Result<_>>()?;
            group.store(&profiles, now).ok_or_else(missing)?;
        }
        let changed = apply_changes(&tx, changes, now)?;
        tx.commit()?;
        Ok((group.outcomes(), changed))
    }
}

/// Counts mentions (`?1`: `[[person, room, seq]…]`).
const INSERT_MENTIONS: &str = "INSERT INTO mentions (user_id, room_id, seq)
     SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?1)";

/// Forgets and counts what a change does to its message's mentions (see
/// [`NewChange::mention_rows`]).
fn update_mentions(
    tx: &rusqlite::Transaction<'_>,
    change: &NewChange<'_>,
    before: &str,
) -> rusqlite::Result<()> {
    let (forget, count) = change.mention_rows(before);
    if !forget.is_empty() {
        tx.prepare_cached(
            "DELETE FROM mentions WHERE (user_id, room_id, seq) IN
                 (SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?1))",
        )?
        .execute([json(&forget)?])?;
    }
    if !count.is_empty() {
        tx.prepare_cached(INSERT_MENTIONS)?.execute([json(&count)?])?;
    }
    Ok(())
}

/// Applies `changes` in order, each under its room's next number (after the
/// group's messages).
fn apply_changes(
    tx: &rusqlite::Transaction<'_>,
    changes: &[NewChange<'_>],
    now: i64,
) -> rusqlite::Result<Vec<Changed>> {
    let mut outcomes = Vec::with_capacity(changes.len());
    if changes.is_empty() {
        return Ok(outcomes);
    }
    let pairs: Vec<(RoomId, UserId)> = changes.iter().map(|change| (change.room, change.actor)).collect();
    let mut standing = HashMap::new();
    for access in tx.prepare_cached(&ACCESS)?.query_map([json(&pairs)?], Access::from_row)? {
        let access = access?;
        standing.insert((access.room, access.author), access);
    }
    for change in changes {
        let Some(access) = standing.get(&(change.room, change.actor)) else {
            outcomes.push(Err(crate::error::AppError::NotFound));
            continue;
        };
        let at = rusqlite::params![change.room.0, change.message];
        let stored = tx
            .prepare_cached(
                "SELECT author_id, kind, deleted_at, body, mentions FROM messages WHERE room_id = ?1 AND seq = ?2",
            )?
            .query_row(at, |row| {
                let kind: String = row.get(1)?;
                Ok(Stored::new(UserId(row.get(0)?), &kind, row.get(2)?, row.get(3)?, row.get(4)?))
            })
            .optional()?;
        let (reacted, distinct) = match change.request {
            ChangeRequest::React { emoji, .. } => {
                tx.prepare_cached(
                    "SELECT COALESCE(MAX(emoji = ?3 AND user_id = ?4), 0), COUNT(DISTINCT emoji)
                     FROM reactions WHERE room_id = ?1 AND message_seq = ?2",
                )?
                .query_row(rusqlite::params![change.room.0, change.message, emoji, change.actor.0], |row| {
                    Ok((row.get::<_, bool>(0)?, row.get::<_, usize>(1)?))
                })?
            }
            _ => (false, 0),
        };
        let read = Read { access, stored, reacted, distinct };
        match change.decide(&read) {
            Decision::Refuse(error) => outcomes.push(Err(error)),
            Decision::Nothing => outcomes.push(Ok(None)),
            Decision::Apply => {
                let seq: Seq = tx
                    .prepare_cached(
                        "UPDATE rooms SET last_seq = last_seq + 1 WHERE id = ?1 RETURNING last_seq",
                    )?
                    .query_row([change.room.0], |row| row.get(0))?;
                let (room, message, actor) = (change.room.0, change.message, change.actor.0);
                let mentioned = read.stored.as_ref().map_or("", |stored| stored.mentions.as_str());
                match change.request {
                    ChangeRequest::Edit { body, html, mentions } => {
                        update_mentions(tx, change, mentioned)?;
                        tx.prepare_cached(
                            "UPDATE messages SET body = ?3, html = ?4, edited_at = ?5, mentions = ?6
                             WHERE room_id = ?1 AND seq = ?2",
                        )?
                        .execute(rusqlite::params![room, message, body, html, now, super::mention_list(mentions)])?;
                        tx.prepare_cached(
                            "UPDATE message_search SET body = ?3
                             WHERE rowid = (SELECT search_id FROM messages WHERE room_id = ?1 AND seq = ?2)",
                        )?
                        .execute(rusqlite::params![room, message, body])?
                    }
                    ChangeRequest::Delete => {
                        update_mentions(tx, change, mentioned)?;
                        tx.prepare_cached("DELETE FROM reactions WHERE room_id = ?1 AND message_seq = ?2")?
                            .execute(rusqlite::params![room, message])?;
                        tx.prepare_cached(
                            "DELETE FROM message_search
                             WHERE rowid = (SELECT search_id FROM messages WHERE room_id = ?1 AND seq = ?2)",
                        )?
                        .execute(rusqlite::params![room, message])?;
                        // Its files go once no attachment names them (see
                        // `services::attachments`).
                        tx.prepare_cached("DELETE FROM attachments WHERE room_id = ?1 AND message_seq = ?2")?
                            .execute(rusqlite::params![room, message])?;
                        tx.prepare_cached(
                            "UPDATE messages SET body = '', html = '', mentions = '', attachments = '', deleted_at = ?3,
                                                search_id = NULL
                             WHERE room_id = ?1 AND seq = ?2",
                        )?
                        .execute(rusqlite::params![room, message, now])?
                    }
                    ChangeRequest::React { emoji, on: true } => tx
                        .prepare_cached(
                            "INSERT INTO reactions (room_id, message_seq, emoji, user_id, reacted_at)
                             VALUES (?1, ?2, ?3, ?4, ?5)",
                        )?
                        .execute(rusqlite::params![room, message, emoji, actor, now])?,
                    ChangeRequest::React { emoji, on: false } => tx
                        .prepare_cached(
                            "DELETE FROM reactions WHERE room_id = ?1 AND message_seq = ?2 AND emoji = ?3 AND user_id = ?4",
                        )?
                        .execute(rusqlite::params![room, message, emoji, actor])?,
                };
                let (kind, emoji) = change.record();
                tx.prepare_cached(
                    "INSERT INTO message_changes (room_id, seq, message_seq, kind, actor_id, emoji, changed_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?
                .execute(rusqlite::params![room, seq, message, kind, actor, emoji, now])?;
                let reactor = tx
                    .prepare_cached("SELECT username, display_name FROM users WHERE id = ?1")?
                    .query_row([actor], |row| Ok(changes::reactor(change.actor, row.get(0)?, row.get(1)?)))?;
                outcomes.push(Ok(Some(change.committed(seq, now, reactor))));
            }
        }
    }
    Ok(outcomes)
}
