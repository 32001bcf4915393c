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
            sent_at: row.get("sent_at")?,
            kind: row.get("kind")?,
            subject_id: row.get::<_, Option<i64>>("subject_id")?.map(UserId),
            subject_username: row.get("subject_username")?,
            subject_display_name: row.get("subject_display_name")?,
            subject_avatar_version: row.get("subject_avatar_version")?,
        })
    }

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

/// Client ids of a group already stored (`?1`: `[[author, client id]…]`).
static STORED: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH k(author, client) AS (SELECT value ->> 0, value ->> 1 FROM json_each(?1))
         {MESSAGE_SELECT} JOIN k ON m.author_id = k.author AND m.client_id = k.client"
    )
});

/// One (room, author) pair's standing, as [`ACCESS`] reads it.
struct Access {
    room: RoomId,
    author: UserId,
    visibility: Option<String>,
    role: Option<String>,
    refused: Option<bool>,
}

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

/// Binds a list of tuples as one JSON array, read in SQL with `json_each`
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

    /// Appends messages in one transaction and returns once it is
    /// committed. Each message is checked in the
    /// transaction (membership, client id), so the answer is consistent with
    /// any concurrent kick or resend.
    ///
    /// The whole group takes six statements, whatever its size: client ids
    /// already used, access of each (room, author), profiles, one sequence
    /// bump per room, one insert, one read mark per (room, author).
    pub fn append(&mut self, batch: &[NewMessage<'_>]) -> rusqlite::Result<Vec<Appended>> {
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

        if group.has_accepted() {
            let counts = group.counts();
            let mut last = HashMap::new();
            let mut bump = tx.prepare_cached(
                "WITH c(room, n) AS (SELECT value ->> 0, value ->> 1 FROM json_each(?1))
                 UPDATE rooms SET last_seq = last_seq + c.n, last_activity = ?2
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

            tx.prepare_cached(
                "INSERT INTO messages (room_id, seq, author_id, client_id, body, sent_at, kind, subject_id)
                 SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, ?2, value ->> 5, value ->> 6
                 FROM json_each(?1)",
            )?
            .execute(rusqlite::params![json(&group.rows())?, now])?;
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
        tx.commit()?;
        Ok(group.outcomes())
    }
}

/// The PostgreSQL message writer: the same group commit as [`MessageLog`],
/// safe with several instances writing at once.
pub struct PgMessageLog {
    options: std::sync::Arc<sqlx::any::AnyConnectOptions>,
    /// Its own connection, opened on first use and again after a failure.
    connection: Option<sqlx::AnyConnection>,
}

/// How PostgreSQL reads a JSON array parameter as rows of `value`.
macro_rules! pg_elements {
    ($n:literal) => {
        concat!("json_array_elements(CAST($", $n, " AS json))")
    };
}

impl PgMessageLog {
    pub(super) fn new(pool: &sqlx::AnyPool) -> Self {
        Self { options: pool.connect_options(), connection: None }
    }

    /// Appends messages in one transaction, like [`MessageLog::append`].
    /// A group that collides with another instance's (the same client id
    /// sent to both at once, or a deadlock) is rolled back and written
    /// again: the second time it finds what the other committed.
    ///
    /// The writer keeps a connection of its own rather than taking one from
    /// the pool for each group (a wait, and a ping, each time); one that
    /// breaks or stops answering is dropped, and the next group opens
    /// another.
    pub async fn append(&mut self, batch: &[NewMessage<'_>]) -> Result<Vec<Appended>, sqlx::Error> {
        use sqlx::ConnectOptions;
        let mut attempts = 0;
        loop {
            attempts += 1;
            let connection = match &mut self.connection {
                Some(connection) => connection,
                None => {
                    let connected = tokio::time::timeout(PG_CONNECT_TIMEOUT, self.options.connect()).await;
                    self.connection.insert(connected.map_err(|_| timed_out("connecting"))??)
                }
            };
            let appended = tokio::time::timeout(PG_GROUP_TIMEOUT, Self::try_append(connection, batch))
                .await
                .unwrap_or_else(|_| Err(timed_out("writing a group")));
            match appended {
                Err(sqlx::Error::Database(error)) if attempts < 4 && retryable(error.code().as_deref()) => {
                    tracing::info!(%error, attempts, "writing a message group again");
                }
                Err(error) => {
                    if connection_lost(&error) {
                        self.connection = None;
                    }
                    return Err(error);
                }
                outcome => return outcome,
            }
        }
    }

    async fn try_append(
        connection: &mut sqlx::AnyConnection,
        batch: &[NewMessage<'_>],
    ) -> Result<Vec<Appended>, sqlx::Error> {
        use sqlx::Connection;
        static STORED: LazyLock<String> = LazyLock::new(|| {
            format!(
                "WITH k(author, client) AS (SELECT CAST(value ->> 0 AS BIGINT), value ->> 1 FROM {})
                 {MESSAGE_SELECT} JOIN k ON m.author_id = k.author AND m.client_id = k.client",
                pg_elements!(1)
            )
        });
        static ACCESS: LazyLock<String> = LazyLock::new(|| {
            format!(
                "WITH a(room, author) AS (SELECT CAST(value ->> 0 AS BIGINT), CAST(value ->> 1 AS BIGINT) FROM {})
                 SELECT a.room, a.author, r.visibility, m.role,
                        CAST(r.kind = 'direct' AND EXISTS (
                            SELECT 1 FROM memberships o
                            WHERE o.room_id = r.id AND o.user_id <> a.author AND {}) AS INTEGER) AS refused
                 FROM a
                 LEFT JOIN rooms r ON r.id = a.room AND r.archived_at IS NULL
                 LEFT JOIN memberships m ON m.room_id = r.id AND m.user_id = a.author",
                pg_elements!(1),
                refuses_messages("o.user_id", "a.author")
            )
        });
        let now = now_millis();
        let mut tx = connection.begin().await?;
        // Kicks, bans and blocks wait for the group, and it for them.
        super::lock_rules(&mut tx, super::RulesLock::Shared).await?;
        let mut group = Group::new(batch);

        let rows: Vec<MessageRow> =
            sqlx::query_as(&STORED).bind(pg_json(&group.keys)?).fetch_all(&mut *tx).await?;
        let stored =
            rows.into_iter().map(|row| ((row.author_id, row.client_id.clone()), row.message())).collect();
        group.find_resends(&stored);

        /// Room, author, visibility, role, refused.
        type AccessRow = (i64, i64, Option<String>, Option<String>, Option<i64>);
        let rows: Vec<AccessRow> =
            sqlx::query_as(&ACCESS).bind(pg_json(&group.pairs())?).fetch_all(&mut *tx).await?;
        let refusals = rows
            .into_iter()
            .filter_map(|(room, author, visibility, role, refused)| {
                let access = Access {
                    room: RoomId(room),
                    author: UserId(author),
                    visibility,
                    role,
                    refused: refused.map(|r| r != 0),
                };
                access.refusal().map(|refusal| ((access.room, access.author), refusal))
            })
            .collect();
        group.admit(&refusals);

        if group.has_accepted() {
            let counts = group.counts();
            let counted = pg_json(&counts)?;
            // Every instance locks its rooms in the same order: groups
            // wait for one another rather than deadlock.
            sqlx::query(concat!(
                "SELECT id FROM rooms WHERE id IN (SELECT CAST(value ->> 0 AS BIGINT) FROM ",
                pg_elements!(1),
                ") ORDER BY id FOR UPDATE"
            ))
            .bind(counted.as_str())
            .execute(&mut *tx)
            .await?;
            // `last_activity` moves once a second at most: it is indexed,
            // and a row whose indexed columns stay put is updated in place
            // (a HOT update, no new index entries), which made busy rooms'
            // updates 90 % cheaper in index and vacuum work (measured).
            let rows: Vec<(RoomId, Seq)> = sqlx::query_as(concat!(
                "WITH c(room, n) AS (SELECT CAST(value ->> 0 AS BIGINT), CAST(value ->> 1 AS BIGINT) FROM ",
                pg_elements!(1),
                ") UPDATE rooms SET last_seq = last_seq + c.n,
                        last_activity = CASE WHEN $2 - last_activity >= 1000 THEN $2 ELSE last_activity END
                 FROM c WHERE rooms.id = c.room
                 RETURNING rooms.id, rooms.last_seq"
            ))
            .bind(counted.as_str())
            .bind(now)
            .fetch_all(&mut *tx)
            .await?;
            let last = rows.into_iter().collect();
            group.number(&counts, &last).ok_or(sqlx::Error::RowNotFound)?;

            // The rows, the senders' read marks and the people the
            // messages name, in one round trip (a data-modifying WITH runs
            // to completion whether or not the query reads it).
            let rows: Vec<(UserId, String, String, Option<i64>)> = sqlx::query_as(concat!(
                "WITH inserted AS (
                     INSERT INTO messages (room_id, seq, author_id, client_id, body, sent_at, kind, subject_id)
                     SELECT CAST(value ->> 0 AS BIGINT), CAST(value ->> 1 AS BIGINT), CAST(value ->> 2 AS BIGINT),
                            value ->> 3, value ->> 4, $2, value ->> 5, CAST(value ->> 6 AS BIGINT)
                     FROM ",
                pg_elements!(1),
                "), marked AS (
                     UPDATE memberships SET last_read_seq = c.seq
                     FROM (SELECT CAST(value ->> 0 AS BIGINT) AS room, CAST(value ->> 1 AS BIGINT) AS member,
                                  CAST(value ->> 2 AS BIGINT) AS seq FROM ",
                pg_elements!(3),
                ") c
                     WHERE memberships.room_id = c.room AND memberships.user_id = c.member
                       AND last_read_seq < c.seq)
                 SELECT id, username, display_name, avatar_version FROM users
                 WHERE id IN (SELECT CAST(value #>> '{}' AS BIGINT) FROM ",
                pg_elements!(4),
                ")"
            ))
            .bind(pg_json(&group.rows())?)
            .bind(now)
            .bind(pg_json(&group.read_marks())?)
            .bind(pg_json(&group.people())?)
            .fetch_all(&mut *tx)
            .await?;
            let profiles = rows
                .into_iter()
                .map(|(id, username, display_name, avatar_version)| {
                    (id, PublicProfile { id, username, display_name, avatar_version })
                })
                .collect();
            group.store(&profiles, now).ok_or(sqlx::Error::RowNotFound)?;
        }
        tx.commit().await?;
        Ok(group.outcomes())
    }
}

/// A message row to insert: room, seq, author, client id, body, kind,
/// subject.
type NewRow<'b> = (RoomId, Seq, UserId, &'b str, &'b str, &'b str, Option<UserId>);

/// A list of tuples as one JSON array parameter (see [`json`]).
fn pg_json<T: serde::Serialize>(rows: &T) -> Result<String, sqlx::Error> {
    serde_json::to_string(rows).map_err(|error| sqlx::Error::Encode(Box::new(error)))
}

/// How long the PostgreSQL writer waits to connect, and for a group.
const PG_CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
const PG_GROUP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

fn timed_out(what: &str) -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::new(std::io::ErrorKind::TimedOut, format!("{what} took too long")))
}

/// Whether the writer's connection is no use after `error`: anything but
/// the database refusing a statement, or the server going away (classes
/// 08, connection exception, and 57, operator intervention).
fn connection_lost(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(error) => {
            error.code().is_some_and(|code| code.starts_with("08") || code.starts_with("57"))
        }
        _ => true,
    }
}

/// Whether a PostgreSQL error means "write the group again": a unique
/// violation (a client id another instance stored meanwhile), a deadlock
/// or a serialization failure.
fn retryable(code: Option<&str>) -> bool {
    matches!(code, Some("23505" | "40P01" | "40001"))
}

/// What appending a group decides, whatever the engine: which messages are
/// resends, which are refused, the numbers each room gives the others,
/// and the messages as stored. Each writer runs its own statements between
/// the steps, in this order.
struct Group<'b, 'a> {
    batch: &'b [NewMessage<'a>],
    /// (author, client id) of each message.
    keys: Vec<(UserId, &'b str)>,
    outcomes: Vec<Option<Appended>>,
    /// The first copy of each client id not stored yet.
    firsts: HashMap<(UserId, &'b str), usize>,
    /// Messages to check: the first copies.
    fresh: Vec<usize>,
    /// Messages to store, and their numbers.
    accepted: Vec<usize>,
    seqs: Vec<Seq>,
}

impl<'b, 'a> Group<'b, 'a> {
    fn new(batch: &'b [NewMessage<'a>]) -> Self {
        Self {
            batch,
            keys: batch.iter().map(|new| (new.author, new.client_id.as_str())).collect(),
            outcomes: Vec::with_capacity(batch.len()),
            firsts: HashMap::new(),
            fresh: Vec::new(),
            accepted: Vec::new(),
            seqs: Vec::new(),
        }
    }

    /// A resend finds its original: stored earlier (`stored`, by author
    /// and client id), or earlier in this group.
    fn find_resends(&mut self, stored: &HashMap<(UserId, String), Message>) {
        for (index, &(author, client)) in self.keys.iter().enumerate() {
            let original = if stored.is_empty() { None } else { stored.get(&(author, client.to_owned())) };
            self.outcomes.push(original.cloned().map(Appended::Existing));
            if self.outcomes[index].is_none()
                && *self.firsts.entry((author, client)).or_insert(index) == index
            {
                self.fresh.push(index);
            }
        }
    }

    /// The (room, author) pairs whose access to check, in order.
    fn pairs(&self) -> Vec<(RoomId, UserId)> {
        let mut pairs: Vec<_> =
            self.fresh.iter().map(|&i| (self.batch[i].room, self.batch[i].author)).collect();
        pairs.sort_unstable();
        pairs.dedup();
        pairs
    }

    /// Keeps the messages whose (room, author) is not refused.
    fn admit(&mut self, refusals: &HashMap<(RoomId, UserId), Appended>) {
        for &index in &self.fresh {
            let new = &self.batch[index];
            match refusals.get(&(new.room, new.author)) {
                Some(refusal) => self.outcomes[index] = Some(refusal.clone()),
                None => self.accepted.push(index),
            }
        }
    }

    fn has_accepted(&self) -> bool {
        !self.accepted.is_empty()
    }

    /// How many messages each room takes, by room.
    fn counts(&self) -> Vec<(RoomId, i64)> {
        let mut counts: BTreeMap<RoomId, i64> = BTreeMap::new();
        for &index in &self.accepted {
            *counts.entry(self.batch[index].room).or_default() += 1;
        }
        counts.into_iter().collect()
    }

    /// Numbers the accepted messages in the group's order, given each
    /// room's last number after the bump; `None` if a room is missing.
    fn number(&mut self, counts: &[(RoomId, i64)], last: &HashMap<RoomId, Seq>) -> Option<()> {
        let mut next: HashMap<RoomId, Seq> = HashMap::with_capacity(counts.len());
        for &(room, count) in counts {
            next.insert(room, last.get(&room)? - count + 1);
        }
        for &index in &self.accepted {
            let seq = next.get_mut(&self.batch[index].room)?;
            self.seqs.push(*seq);
            *seq += 1;
        }
        Some(())
    }

    /// The rows to insert.
    fn rows(&self) -> Vec<NewRow<'_>> {
        self.accepted
            .iter()
            .zip(&self.seqs)
            .map(|(&index, &seq)| {
                let new = &self.batch[index];
                let (kind, subject) =
                    new.event.map_or(("text", None), |(kind, subject)| (kind, Some(subject)));
                (new.room, seq, new.author, new.client_id.as_str(), new.body, kind, subject)
            })
            .collect()
    }

    /// Writing in a room means having read it: (room, author, seq).
    fn read_marks(&self) -> Vec<(RoomId, UserId, Seq)> {
        let mut marks: BTreeMap<(RoomId, UserId), Seq> = BTreeMap::new();
        for (&index, &seq) in self.accepted.iter().zip(&self.seqs) {
            marks.insert((self.batch[index].room, self.batch[index].author), seq);
        }
        marks.into_iter().map(|((room, user), seq)| (room, user, seq)).collect()
    }

    /// The users whose profiles the stored messages show.
    fn people(&self) -> Vec<UserId> {
        let mut ids: Vec<UserId> = self
            .accepted
            .iter()
            .flat_map(|&index| {
                [Some(self.batch[index].author), self.batch[index].event.map(|(_, subject)| subject)]
            })
            .flatten()
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// The stored messages, built from what was written; `None` if a
    /// profile is missing.
    fn store(&mut self, profiles: &HashMap<UserId, PublicProfile>, now: i64) -> Option<()> {
        for (&index, &seq) in self.accepted.iter().zip(&self.seqs) {
            let new = &self.batch[index];
            let event = match new.event {
                Some((kind, subject)) => RoomEvent::from_db(kind, profiles.get(&subject)?.clone()),
                None => None,
            };
            self.outcomes[index] = Some(Appended::New(Message {
                room: new.room,
                seq,
                author: profiles.get(&new.author)?.clone(),
                body: new.body.to_owned(),
                sent_at: now,
                client_id: new.client_id.clone(),
                event,
            }));
        }
        Some(())
    }

    /// What became of each message; a resend within the group gets what
    /// its first copy got.
    fn outcomes(mut self) -> Vec<Appended> {
        for index in 0..self.batch.len() {
            let first = self.firsts.get(&self.keys[index]).copied().unwrap_or(index);
            if first != index {
                self.outcomes[index] = match &self.outcomes[first] {
                    Some(Appended::New(message)) => Some(Appended::Existing(message.clone())),
                    other => other.clone(),
                };
            }
        }
        self.outcomes.into_iter().map(|outcome| outcome.unwrap_or(Appended::NotMember(None))).collect()
    }
}

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
