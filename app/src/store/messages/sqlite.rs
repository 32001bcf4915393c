//! The SQLite message writer: its own connection, called directly from the
//! writer's thread.

use super::changes::{self, Changed, Decision, NewChange, Read, Stored};
use super::checkpoints::Checkpoints;
use super::group::Group;
use super::{refuses_messages, Access, Appended, MessageRow, NewMessage, MESSAGE_SELECT};
use crate::domain::{ChangeRequest, PublicProfile, RoomId, Seq, UserId};
use crate::store::now_millis;
use rusqlite::{params, OptionalExtension};
use std::collections::HashMap;
use std::sync::LazyLock;

impl MessageRow {
    /// The same row as a rusqlite connection (the writer's, a reader's)
    /// reads it: by position, in [`MESSAGE_SELECT`]'s order (a test holds
    /// the two together). Finding a column by name compares it with each
    /// column's name: 14 % of a history page's CPU (measured).
    pub(super) fn from_rusqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            room_id: RoomId(row.get(0)?),
            seq: row.get(1)?,
            author_id: UserId(row.get(2)?),
            username: row.get(3)?,
            display_name: row.get(4)?,
            avatar_version: row.get(5)?,
            client_id: row.get(6)?,
            body: row.get(7)?,
            html: row.get(8)?,
            sent_at: row.get(9)?,
            kind: row.get(10)?,
            edited_at: row.get(11)?,
            deleted_at: row.get(12)?,
            reply_to: row.get(13)?,
            mentions: row.get(14)?,
            attachments: row.get(15)?,
            subject_id: row.get::<_, Option<i64>>(16)?.map(UserId),
            subject_username: row.get(17)?,
            subject_display_name: row.get(18)?,
            subject_avatar_version: row.get(19)?,
            quote_username: row.get(20)?,
            quote_display_name: row.get(21)?,
            quote_body: row.get(22)?,
            quote_deleted_at: row.get(23)?,
            quote_attachments: row.get(24)?,
        })
    }
}

/// How the writer reads a (room, author) pair's standing: the room's
/// visibility, the author's role in it and, for a direct conversation,
/// whether its other member refuses the author's messages, by the rule of
/// [`refuses_messages`]. A `CASE`, not an `AND`: SQLite evaluates both
/// sides of an `AND` in a result column, and the subquery walks every
/// membership of the room (measured: 12 ms a message in a room of 5,000).
/// With them, what the rest of the group would otherwise read with a
/// statement each: the room's last number and the author's profile.
static ACCESS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT ?1, ?2, r.visibility, m.role,
                CASE WHEN r.kind = 'direct' THEN EXISTS (
                    SELECT 1 FROM memberships o
                    WHERE o.room_id = r.id AND o.user_id <> ?2 AND {}) ELSE 0 END,
                r.last_seq, u.username, u.display_name, u.avatar_version
         FROM (SELECT 1) LEFT JOIN rooms r ON r.id = ?1 AND r.archived_at IS NULL
         LEFT JOIN memberships m ON m.room_id = r.id AND m.user_id = ?2
         LEFT JOIN users u ON u.id = ?2",
        refuses_messages("o.user_id", "?2")
    )
});

/// A (room, author) pair's standing, read by [`ACCESS`].
struct Standing {
    access: Access,
    /// The room's last number, as this transaction found it.
    last_seq: Option<Seq>,
    profile: Option<PublicProfile>,
}

impl Standing {
    fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        let author = UserId(row.get(1)?);
        Ok(Self {
            access: Access {
                room: RoomId(row.get(0)?),
                author,
                visibility: row.get(2)?,
                role: row.get(3)?,
                refused: row.get(4)?,
            },
            last_seq: row.get(5)?,
            // No user, no profile: the row's other columns are NULL then.
            profile: match row.get_ref(6)? {
                rusqlite::types::ValueRef::Null => None,
                _ => Some(profile(author, row, 6)?),
            },
        })
    }
}

/// A profile read from three columns of `row` from `first`: username,
/// display name and avatar version.
fn profile(id: UserId, row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<PublicProfile> {
    Ok(PublicProfile {
        id,
        username: row.get(first)?,
        display_name: row.get(first + 1)?,
        avatar_version: row.get(first + 2)?,
    })
}

/// A stored message, by room and seq.
static STORED: LazyLock<String> =
    LazyLock::new(|| format!("{MESSAGE_SELECT} WHERE m.room_id = ?1 AND m.seq = ?2"));

/// The writer's page cache: a negative `cache_size` is in KiB.
const WRITER_CACHE_KIB: i64 = -64 * 1024;
/// WAL pages (4 KiB each) the writer lets accumulate before it checkpoints
/// (what [`Checkpoints`] did not copy yet).
const WRITER_CHECKPOINT_PAGES: i64 = 16 * 1024;

/// The message writer's own connection to the database, used from one
/// thread (see `services::messages`): a group is read, checked and written
/// with direct calls into SQLite, where going through the pool would hand
/// every statement to another thread and back.
pub struct MessageLog {
    connection: rusqlite::Connection,
    checkpoints: Checkpoints,
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
        // A statement that writes many rows (a deletion's reactions) keeps a
        // statement journal: in memory, not a file made and removed each time.
        connection.pragma_update(None, "temp_store", "memory")?;
        // Every statement of the writer, each prepared once.
        connection.set_prepared_statement_cache_capacity(32);
        // Groups of messages in many rooms touch many pages: the default
        // 2 MB cache read most of them back from the file in every group
        // (about two `pread`s a message, measured), 64 MB at most keeps
        // them.
        connection.pragma_update(None, "cache_size", WRITER_CACHE_KIB)?;
        // Pages are copied into the database by [`Checkpoints`]' thread;
        // this one's automatic checkpoint, in the commit that finds the WAL
        // past this size, copies what that left and lets the log start
        // again from its beginning. (At SQLite's default of 1,000 pages,
        // when it did all the copying, nearly every group of a busy server
        // wrote its pages a second time and synced the file on this thread:
        // docs/benchmarks.md.)
        connection.pragma_update(None, "wal_autocheckpoint", WRITER_CHECKPOINT_PAGES)?;
        Ok(Self { connection, checkpoints: Checkpoints::start(path)? })
    }

    /// Appends messages, then applies changes, in one transaction, and
    /// returns once it is committed. Each message is checked in the
    /// transaction (membership, client id), and so is each change (see
    /// [`NewChange::decide`]), so the answer is consistent with any
    /// concurrent kick or resend.
    ///
    /// Each statement is prepared once and run for each row it reads or
    /// writes, its values bound directly: with SQLite in this thread
    /// a statement costs no round trip, and a group's rows passed as one
    /// JSON array cost more to encode and extract than the rows to write
    /// (measured, docs/benchmarks.md).
    pub fn append(
        &mut self,
        batch: &[NewMessage<'_>],
        changes: &[NewChange<'_>],
    ) -> rusqlite::Result<(Vec<Appended>, Vec<Changed>)> {
        let now = now_millis();
        let missing = || rusqlite::Error::QueryReturnedNoRows;
        let tx = self.connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut group = Group::new(batch);

        // A resend is rare: its key is looked up alone (the client-id index
        // covers it), and only an original found is read whole.
        let found = read_each(
            &tx,
            "SELECT room_id, seq FROM messages WHERE author_id = ?1 AND client_id = ?2",
            group.keys.iter().copied(),
            |&(author, client)| (author.0, client),
            |_, row| Ok((row.get::<_, i64>(0)?, row.get::<_, Seq>(1)?)),
        )?;
        let mut stored = HashMap::with_capacity(found.len());
        for ((author, _), (room, seq)) in found {
            let original =
                tx.prepare_cached(&STORED)?.query_row(params![room, seq], MessageRow::from_rusqlite)?;
            stored.insert((author, original.client_id.clone()), original.message());
        }
        group.find_resends(&stored);

        let standing = read_access(&tx, &group.pairs())?;
        let refusals = standing
            .iter()
            .filter_map(|found| Some(((found.access.room, found.access.author), found.access.refusal()?)))
            .collect();
        group.admit(&refusals);
        let numbered: HashMap<RoomId, Seq> =
            standing.iter().filter_map(|found| Some((found.access.room, found.last_seq?))).collect();
        let mut profiles: HashMap<UserId, PublicProfile> =
            standing.into_iter().filter_map(|found| Some((found.access.author, found.profile?))).collect();
        let wanted = group.attachments();
        if !wanted.is_empty() {
            let unsent = read_each(
                &tx,
                "SELECT room_id, uploader_id FROM attachments WHERE id = ?1 AND message_seq IS NULL",
                wanted.into_iter().map(str::to_owned),
                |id| [id.clone()],
                |_, row| Ok((RoomId(row.get(0)?), UserId(row.get(1)?))),
            )?;
            group.claim(&unsent);
        }

        if group.has_accepted() {
            let counts = group.counts();
            let mut last = HashMap::with_capacity(counts.len());
            // Each room's last number as the access check read it: this
            // transaction holds the write lock, and nothing in it has moved
            // the number since. (`RETURNING` would cost more than the
            // update itself: a temporary table each time, measured.)
            let mut bump = tx.prepare_cached(
                "UPDATE rooms SET last_seq = last_seq + ?2, last_message_seq = last_seq + ?2, last_activity = ?3
                 WHERE id = ?1",
            )?;
            for &(room, count) in &counts {
                if let Some(&before) = numbered.get(&room) {
                    bump.execute(params![room.0, count, now])?;
                    last.insert(room, before + count);
                }
            }
            drop(bump);
            group.number(&counts, &last).ok_or_else(missing)?;

            // Each text message takes the next search id, in the group's
            // order (see the migration `0010_search_order`): the index only
            // grows at its end.
            let mut search_id: i64 = tx
                .prepare_cached(
                    "SELECT COALESCE((SELECT search_id FROM messages WHERE search_id IS NOT NULL
                                      ORDER BY search_id DESC LIMIT 1), 0)",
                )?
                .query_row([], |row| row.get(0))?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO messages (room_id, seq, author_id, client_id, body, sent_at, kind, subject_id,
                                       html, reply_to, mentions, attachments, search_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )?;
            // Searchable in the same transaction (see `search`).
            let mut index =
                tx.prepare_cached("INSERT INTO message_search (rowid, body, room) VALUES (?1, ?2, ?3)")?;
            for (room, seq, author, client, body, kind, subject, html, reply, mentions, attachments) in
                group.rows()
            {
                let searched = (kind == "text").then(|| {
                    search_id += 1;
                    search_id
                });
                insert.execute(params![
                    room.0,
                    seq,
                    author.0,
                    client,
                    body,
                    now,
                    kind,
                    subject.map(|subject| subject.0),
                    html,
                    reply,
                    mentions,
                    attachments,
                    searched
                ])?;
                if let Some(searched) = searched {
                    index.execute(params![searched, body, format!("r{}", room.0)])?;
                }
            }
            drop((insert, index));
            let claims = group.claims();
            if !claims.is_empty() {
                let mut claim = tx.prepare_cached("UPDATE attachments SET message_seq = ?2 WHERE id = ?1")?;
                for (id, seq) in claims {
                    claim.execute(params![id, seq])?;
                }
            }
            insert_mentions(&tx, &group.mentions())?;
            let mut mark = tx.prepare_cached(
                "UPDATE memberships SET last_read_seq = ?3
                 WHERE room_id = ?1 AND user_id = ?2 AND last_read_seq < ?3",
            )?;
            for (room, member, seq) in group.read_marks() {
                mark.execute(params![room.0, member.0, seq])?;
            }
            drop(mark);
            // The authors' profiles came with their access; the subjects of
            // events are read here.
            let unread = group.people().into_iter().filter(|id| !profiles.contains_key(id));
            let subjects = read_each(
                &tx,
                "SELECT username, display_name, avatar_version FROM users WHERE id = ?1",
                unread,
                |id| [id.0],
                |&id, row| profile(id, row, 0),
            )?;
            profiles.extend(subjects);
            group.store(&profiles, now).ok_or_else(missing)?;
        }
        let changed = apply_changes(&tx, changes, now)?;
        tx.commit()?;
        self.checkpoints.committed();
        Ok((group.outcomes(), changed))
    }
}

/// Runs `sql` once for each of `keys`, its values bound by `bind`, and
/// keeps by key what `read` makes of the row found, if one is.
fn read_each<K: Eq + std::hash::Hash, V, P: rusqlite::Params>(
    tx: &rusqlite::Transaction<'_>,
    sql: &str,
    keys: impl IntoIterator<Item = K>,
    bind: impl Fn(&K) -> P,
    read: impl Fn(&K, &rusqlite::Row<'_>) -> rusqlite::Result<V>,
) -> rusqlite::Result<HashMap<K, V>> {
    let mut statement = tx.prepare_cached(sql)?;
    let mut found = HashMap::new();
    for key in keys {
        if let Some(value) = statement.query_row(bind(&key), |row| read(&key, row)).optional()? {
            found.insert(key, value);
        }
    }
    Ok(found)
}

/// The standing of each (room, author) pair (see [`ACCESS`]).
fn read_access(
    tx: &rusqlite::Transaction<'_>,
    pairs: &[(RoomId, UserId)],
) -> rusqlite::Result<Vec<Standing>> {
    let mut read = tx.prepare_cached(&ACCESS)?;
    pairs
        .iter()
        .map(|&(room, author)| read.query_row(params![room.0, author.0], Standing::from_row))
        .collect()
}

/// Counts mentions: (person, room, seq).
fn insert_mentions(
    tx: &rusqlite::Transaction<'_>,
    mentions: &[(UserId, RoomId, Seq)],
) -> rusqlite::Result<()> {
    if mentions.is_empty() {
        return Ok(());
    }
    let mut insert = tx.prepare_cached("INSERT INTO mentions (user_id, room_id, seq) VALUES (?1, ?2, ?3)")?;
    for &(user, room, seq) in mentions {
        insert.execute(params![user.0, room.0, seq])?;
    }
    Ok(())
}

/// Forgets and counts what a change does to its message's mentions (see
/// [`NewChange::mention_rows`]).
fn update_mentions(
    tx: &rusqlite::Transaction<'_>,
    change: &NewChange<'_>,
    before: &str,
) -> rusqlite::Result<()> {
    let (forget, count) = change.mention_rows(before);
    if !forget.is_empty() {
        let mut delete =
            tx.prepare_cached("DELETE FROM mentions WHERE user_id = ?1 AND room_id = ?2 AND seq = ?3")?;
        for &(user, room, seq) in &forget {
            delete.execute(params![user.0, room.0, seq])?;
        }
    }
    insert_mentions(tx, &count)
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
    let standing: HashMap<_, _> = read_access(tx, &pairs)?
        .into_iter()
        .map(|found| ((found.access.room, found.access.author), found.access))
        .collect();
    for change in changes {
        let Some(access) = standing.get(&(change.room, change.actor)) else {
            outcomes.push(Err(crate::error::AppError::NotFound));
            continue;
        };
        let at = params![change.room.0, change.message];
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
            ChangeRequest::React { emoji, .. } => tx
                .prepare_cached(
                    "SELECT COALESCE(MAX(emoji = ?3 AND user_id = ?4), 0), COUNT(DISTINCT emoji)
                     FROM reactions WHERE room_id = ?1 AND message_seq = ?2",
                )?
                .query_row(params![change.room.0, change.message, emoji, change.actor.0], |row| {
                    Ok((row.get::<_, bool>(0)?, row.get::<_, usize>(1)?))
                })?,
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
                        .execute(params![room, message, body, html, now, super::mention_list(mentions)])?;
                        tx.prepare_cached(
                            "UPDATE message_search SET body = ?3
                             WHERE rowid = (SELECT search_id FROM messages WHERE room_id = ?1 AND seq = ?2)",
                        )?
                        .execute(params![room, message, body])?
                    }
                    ChangeRequest::Delete | ChangeRequest::Purge => {
                        update_mentions(tx, change, mentioned)?;
                        tx.prepare_cached("DELETE FROM reactions WHERE room_id = ?1 AND message_seq = ?2")?
                            .execute(params![room, message])?;
                        tx.prepare_cached(
                            "DELETE FROM message_search
                             WHERE rowid = (SELECT search_id FROM messages WHERE room_id = ?1 AND seq = ?2)",
                        )?
                        .execute(params![room, message])?;
                        // Its files go once no attachment names them (see
                        // `services::attachments`).
                        tx.prepare_cached("DELETE FROM attachments WHERE room_id = ?1 AND message_seq = ?2")?
                            .execute(params![room, message])?;
                        tx.prepare_cached(
                            "UPDATE messages SET body = '', html = '', mentions = '', attachments = '', deleted_at = ?3,
                                                search_id = NULL
                             WHERE room_id = ?1 AND seq = ?2",
                        )?
                        .execute(params![room, message, now])?
                    }
                    ChangeRequest::React { emoji, on: true } => tx
                        .prepare_cached(
                            "INSERT INTO reactions (room_id, message_seq, emoji, user_id, reacted_at)
                             VALUES (?1, ?2, ?3, ?4, ?5)",
                        )?
                        .execute(params![room, message, emoji, actor, now])?,
                    ChangeRequest::React { emoji, on: false } => tx
                        .prepare_cached(
                            "DELETE FROM reactions WHERE room_id = ?1 AND message_seq = ?2 AND emoji = ?3 AND user_id = ?4",
                        )?
                        .execute(params![room, message, emoji, actor])?,
                };
                let (kind, emoji) = change.record();
                tx.prepare_cached(
                    "INSERT INTO message_changes (room_id, seq, message_seq, kind, actor_id, emoji, changed_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?
                .execute(params![room, seq, message, kind, actor, emoji, now])?;
                let reactor = tx
                    .prepare_cached("SELECT username, display_name FROM users WHERE id = ?1")?
                    .query_row([actor], |row| Ok(changes::reactor(change.actor, row.get(0)?, row.get(1)?)))?;
                outcomes.push(Ok(Some(change.committed(seq, now, reactor))));
            }
        }
    }
    Ok(outcomes)
}

#[cfg(test)]
mod tests {
    /// [`super::MESSAGE_SELECT`]'s columns, in the order
    /// `MessageRow::from_rusqlite` reads them.
    const MESSAGE_COLUMNS: [&str; 25] = [
        "room_id",
        "seq",
        "author_id",
        "username",
        "display_name",
        "avatar_version",
        "client_id",
        "body",
        "html",
        "sent_at",
        "kind",
        "edited_at",
        "deleted_at",
        "reply_to",
        "mentions",
        "attachments",
        "subject_id",
        "subject_username",
        "subject_display_name",
        "subject_avatar_version",
        "quote_username",
        "quote_display_name",
        "quote_body",
        "quote_deleted_at",
        "quote_attachments",
    ];

    #[test]
    fn rows_are_read_in_the_order_the_select_gives_its_columns() {
        let db = rusqlite::Connection::open_in_memory().expect("an in-memory database");
        for migration in crate::store::SQLITE_MIGRATIONS.iter() {
            db.execute_batch(&migration.sql).expect("the schema");
        }
        let statement = db.prepare(super::MESSAGE_SELECT).expect("the select");
        assert_eq!(statement.column_names(), MESSAGE_COLUMNS);
    }
}
