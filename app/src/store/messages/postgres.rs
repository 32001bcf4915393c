//! The PostgreSQL message writer: the same group commit, safe with
//! several instances writing at once.

use super::changes::{self, Changed, Decision, NewChange, Read, Stored};
use super::group::Group;
use super::{pg_json, refuses_messages, Access, Appended, MessageRow, NewMessage, MESSAGE_SELECT};
use crate::domain::{ChangeRequest, PublicProfile, RoomId, Seq, UserId};
use crate::store::now_millis;
use std::sync::LazyLock;

/// The PostgreSQL message writer: the same group commit as [`MessageLog`],
/// safe with several instances writing at once.
pub struct PgMessageLog {
    options: std::sync::Arc<sqlx::any::AnyConnectOptions>,
    /// Its own connection, opened on first use and again after a failure.
    connection: Option<sqlx::AnyConnection>,
}

impl PgMessageLog {
    pub(crate) fn new(pool: &sqlx::AnyPool) -> Self {
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
    pub async fn append(
        &mut self,
        batch: &[NewMessage<'_>],
        changes: &[NewChange<'_>],
    ) -> Result<(Vec<Appended>, Vec<Changed>), sqlx::Error> {
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
            let appended =
                tokio::time::timeout(PG_GROUP_TIMEOUT, Self::try_append(connection, batch, changes))
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
        changes: &[NewChange<'_>],
    ) -> Result<(Vec<Appended>, Vec<Changed>), sqlx::Error> {
        use sqlx::Connection;
        // A resend is rare: the keys are looked up in the client-id index
        // alone, and only originals found are read whole. (Joined to the
        // whole message read, PostgreSQL chose to scan each author's
        // every message for the key: a send cost more with each message
        // its author had sent, measured.)
        const FOUND: &str = concat!(
            "WITH k(author, client) AS (SELECT CAST(value ->> 0 AS BIGINT), value ->> 1 FROM ",
            pg_elements!(1),
            ") SELECT m.room_id, m.seq FROM k JOIN messages m ON m.author_id = k.author AND m.client_id = k.client"
        );
        static STORED: LazyLock<String> = LazyLock::new(|| {
            format!(
                "WITH f(room, seq) AS (SELECT CAST(value ->> 0 AS BIGINT), CAST(value ->> 1 AS BIGINT) FROM {})
                 {MESSAGE_SELECT} JOIN f ON m.room_id = f.room AND m.seq = f.seq",
                pg_elements!(1)
            )
        });
        let now = now_millis();
        let mut tx = connection.begin().await?;
        // Kicks, bans and blocks wait for the group, and it for them.
        crate::store::lock_rules(&mut tx, crate::store::RulesLock::Shared).await?;
        let mut group = Group::new(batch);

        // Both planned for the group at hand (an unnamed statement), not
        // once for good: a prepared statement settles, after five runs, on
        // a generic plan made for `messages` as it was then, and keeps it
        // until the table is analyzed again. Planned while the table was
        // nearly empty, the lookup hashed the whole table for every group
        // as it grew (97 ms a group at 150,000 messages, against 1.3 ms by
        // its index, measured). Planning it costs about 0.15 ms a group.
        let found: Vec<(RoomId, Seq)> =
            sqlx::query_as(FOUND).bind(pg_json(&group.keys)?).persistent(false).fetch_all(&mut *tx).await?;
        let rows: Vec<MessageRow> = if found.is_empty() {
            Vec::new()
        } else {
            sqlx::query_as(&STORED).bind(pg_json(&found)?).persistent(false).fetch_all(&mut *tx).await?
        };
        let stored =
            rows.into_iter().map(|row| ((row.author_id, row.client_id.clone()), row.message())).collect();
        group.find_resends(&stored);

        let refusals = read_access(&mut tx, &group.pairs())
            .await?
            .into_iter()
            .filter_map(|access| access.refusal().map(|refusal| ((access.room, access.author), refusal)))
            .collect();
        group.admit(&refusals);
        let wanted = group.attachments();
        if !wanted.is_empty() {
            // Locked: another instance's group claiming one of them waits,
            // then finds it claimed.
            let unsent: Vec<(String, RoomId, UserId)> = sqlx::query_as(concat!(
                "SELECT id, room_id, uploader_id FROM attachments
                 WHERE message_seq IS NULL AND id IN (SELECT value #>> '{}' FROM ",
                pg_elements!(1),
                ") ORDER BY id FOR UPDATE"
            ))
            .bind(pg_json(&wanted)?)
            .fetch_all(&mut *tx)
            .await?;
            group.claim(&unsent.into_iter().map(|(id, room, uploader)| (id, (room, uploader))).collect());
        }

        // Every instance locks its rooms in the same order: groups wait for
        // one another rather than deadlock.
        let counts = group.counts();
        let mut locked: Vec<RoomId> =
            counts.iter().map(|(room, _)| *room).chain(changes.iter().map(|change| change.room)).collect();
        locked.sort_unstable();
        locked.dedup();
        if !locked.is_empty() {
            sqlx::query(concat!(
                "SELECT id FROM rooms WHERE id IN (SELECT CAST(value #>> '{}' AS BIGINT) FROM ",
                pg_elements!(1),
                ") ORDER BY id FOR UPDATE"
            ))
            .bind(pg_json(&locked)?)
            .execute(&mut *tx)
            .await?;
        }

        if group.has_accepted() {
            let counted = pg_json(&counts)?;
            // `last_activity` moves once a second at most: it is indexed,
            // and a row whose indexed columns stay put is updated in place
            // (a HOT update, no new index entries), which made busy rooms'
            // updates 90 % cheaper in index and vacuum work (measured).
            let rows: Vec<(RoomId, Seq)> = sqlx::query_as(concat!(
                "WITH c(room, n) AS (SELECT CAST(value ->> 0 AS BIGINT), CAST(value ->> 1 AS BIGINT) FROM ",
                pg_elements!(1),
                ") UPDATE rooms SET last_seq = last_seq + c.n, last_message_seq = last_seq + c.n,
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
                     INSERT INTO messages (room_id, seq, author_id, client_id, body, sent_at, kind, subject_id,
                                           html, reply_to, mentions, attachments, search_id)
                     SELECT CAST(value ->> 0 AS BIGINT), CAST(value ->> 1 AS BIGINT), CAST(value ->> 2 AS BIGINT),
                            value ->> 3, value ->> 4, $2, value ->> 5, CAST(value ->> 6 AS BIGINT),
                            value ->> 7, CAST(value ->> 8 AS BIGINT), value ->> 9, value ->> 10,
                            CASE WHEN value ->> 5 = 'text' THEN nextval('message_search_ids') END
                     FROM ",
                pg_elements!(1),
                "), claimed AS (
                     UPDATE attachments SET message_seq = CAST(c.value ->> 1 AS BIGINT)
                     FROM ",
                pg_elements!(6),
                " c WHERE attachments.id = c.value ->> 0
                 ), counted AS (
                     INSERT INTO mentions (user_id, room_id, seq)
                     SELECT CAST(value ->> 0 AS BIGINT), CAST(value ->> 1 AS BIGINT), CAST(value ->> 2 AS BIGINT)
                     FROM ",
                pg_elements!(5),
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
            .bind(pg_json(&group.mentions())?)
            .bind(pg_json(&group.claims())?)
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
        let changed = apply_changes(&mut tx, changes, now).await?;
        tx.commit().await?;
        Ok((group.outcomes(), changed))
    }
}

type Tx<'c> = sqlx::Transaction<'c, sqlx::Any>;

/// The standing of each (room, author) pair (see [`Access`]), by the rule
/// of [`refuses_messages`] for direct conversations only (a `CASE`, which
/// PostgreSQL promises to evaluate lazily, as the SQLite writer's).
async fn read_access(tx: &mut Tx<'_>, pairs: &[(RoomId, UserId)]) -> Result<Vec<Access>, sqlx::Error> {
    static ACCESS: LazyLock<String> = LazyLock::new(|| {
        format!(
        "WITH a(room, author) AS (SELECT CAST(value ->> 0 AS BIGINT), CAST(value ->> 1 AS BIGINT) FROM {})
         SELECT a.room, a.author, r.visibility, m.role,
            CASE WHEN r.kind = 'direct' THEN CAST(EXISTS (
                SELECT 1 FROM memberships o
                WHERE o.room_id = r.id AND o.user_id <> a.author AND {}) AS INTEGER) ELSE 0 END AS refused
         FROM a
         LEFT JOIN rooms r ON r.id = a.room AND r.archived_at IS NULL
         LEFT JOIN memberships m ON m.room_id = r.id AND m.user_id = a.author",
        pg_elements!(1),
        refuses_messages("o.user_id", "a.author")
        )
    });
    /// Room, author, visibility, role, refused.
    type AccessRow = (i64, i64, Option<String>, Option<String>, Option<i64>);
    let rows: Vec<AccessRow> = sqlx::query_as(&ACCESS).bind(pg_json(&pairs)?).fetch_all(&mut **tx).await?;
    Ok(rows
        .into_iter()
        .map(|(room, author, visibility, role, refused)| Access {
            room: RoomId(room),
            author: UserId(author),
            visibility,
            role,
            refused: refused.map(|r| r != 0),
        })
        .collect())
}

/// Applies `changes` in order, each under its room's next number, like the
/// SQLite writer's `apply_changes`.
async fn apply_changes(
    tx: &mut Tx<'_>,
    changes: &[NewChange<'_>],
    now: i64,
) -> Result<Vec<Changed>, sqlx::Error> {
    let mut outcomes = Vec::with_capacity(changes.len());
    if changes.is_empty() {
        return Ok(outcomes);
    }
    let pairs: Vec<(RoomId, UserId)> = changes.iter().map(|change| (change.room, change.actor)).collect();
    let standing: std::collections::HashMap<_, _> = read_access(tx, &pairs)
        .await?
        .into_iter()
        .map(|access| ((access.room, access.author), access))
        .collect();
    for change in changes {
        let Some(access) = standing.get(&(change.room, change.actor)) else {
            outcomes.push(Err(crate::error::AppError::NotFound));
            continue;
        };
        let stored: Option<(UserId, String, Option<i64>, String, String)> = sqlx::query_as(
            "SELECT author_id, kind, deleted_at, body, mentions FROM messages WHERE room_id = $1 AND seq = $2",
        )
        .bind(change.room)
        .bind(change.message)
        .fetch_optional(&mut **tx)
        .await?;
        let (reacted, distinct) = match change.request {
            ChangeRequest::React { emoji, .. } => {
                let (reacted, distinct): (i64, i64) = sqlx::query_as(
                    "SELECT CAST(COALESCE(MAX(CASE WHEN emoji = $3 AND user_id = $4 THEN 1 ELSE 0 END), 0) AS BIGINT),
                            COUNT(DISTINCT emoji)
                     FROM reactions WHERE room_id = $1 AND message_seq = $2",
                )
                .bind(change.room)
                .bind(change.message)
                .bind(emoji.as_str())
                .bind(change.actor)
                .fetch_one(&mut **tx)
                .await?;
                (reacted != 0, distinct as usize)
            }
            _ => (false, 0),
        };
        let stored = stored.map(|(author, kind, deleted_at, body, mentions)| {
            Stored::new(author, &kind, deleted_at, body, mentions)
        });
        let read = Read { access, stored, reacted, distinct };
        match change.decide(&read) {
            Decision::Refuse(error) => outcomes.push(Err(error)),
            Decision::Nothing => outcomes.push(Ok(None)),
            Decision::Apply => {
                let (seq,): (Seq,) = sqlx::query_as(
                    "UPDATE rooms SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq",
                )
                .bind(change.room)
                .fetch_one(&mut **tx)
                .await?;
                let (room, message, actor) = (change.room, change.message, change.actor);
                // Only what changes: a statement's parts do not see one
                // another's rows.
                let mentioned = read.stored.as_ref().map_or("", |stored| stored.mentions.as_str());
                let (forget, count) = change.mention_rows(mentioned);
                let applied = match change.request {
                    ChangeRequest::Edit { body, html, mentions } => {
                        sqlx::query(concat!(
                            "WITH forgotten AS (DELETE FROM mentions WHERE (user_id, room_id, seq) IN (
                                 SELECT CAST(value ->> 0 AS BIGINT), CAST(value ->> 1 AS BIGINT),
                                        CAST(value ->> 2 AS BIGINT) FROM ",
                            pg_elements!(7),
                            ")), counted AS (
                                 INSERT INTO mentions (user_id, room_id, seq)
                                 SELECT CAST(value ->> 0 AS BIGINT), CAST(value ->> 1 AS BIGINT),
                                        CAST(value ->> 2 AS BIGINT) FROM ",
                            pg_elements!(8),
                            ")
                             UPDATE messages SET body = $3, html = $4, edited_at = $5, mentions = $6
                             WHERE room_id = $1 AND seq = $2"
                        ))
                        .bind(room)
                        .bind(message)
                        .bind(body.as_str())
                        .bind(html.as_str())
                        .bind(now)
                        .bind(super::mention_list(mentions))
                        .bind(pg_json(&forget)?)
                        .bind(pg_json(&count)?)
                    }
                    ChangeRequest::Delete | ChangeRequest::Purge => sqlx::query(concat!(
                        "WITH gone AS (DELETE FROM reactions WHERE room_id = $1 AND message_seq = $2),
                              files AS (DELETE FROM attachments WHERE room_id = $1 AND message_seq = $2),
                              forgotten AS (DELETE FROM mentions WHERE (user_id, room_id, seq) IN (
                                 SELECT CAST(value ->> 0 AS BIGINT), CAST(value ->> 1 AS BIGINT),
                                        CAST(value ->> 2 AS BIGINT) FROM ",
                        pg_elements!(4),
                        "))
                         UPDATE messages SET body = '', html = '', mentions = '', attachments = '', deleted_at = $3,
                                             search_id = NULL
                         WHERE room_id = $1 AND seq = $2"
                    ))
                    .bind(room)
                    .bind(message)
                    .bind(now)
                    .bind(pg_json(&forget)?),
                    ChangeRequest::React { emoji, on: true } => sqlx::query(
                        "INSERT INTO reactions (room_id, message_seq, emoji, user_id, reacted_at)
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(room)
                    .bind(message)
                    .bind(emoji.as_str())
                    .bind(actor)
                    .bind(now),
                    ChangeRequest::React { emoji, on: false } => sqlx::query(
                        "DELETE FROM reactions WHERE room_id = $1 AND message_seq = $2 AND emoji = $3 AND user_id = $4",
                    )
                    .bind(room)
                    .bind(message)
                    .bind(emoji.as_str())
                    .bind(actor),
                };
                applied.execute(&mut **tx).await?;
                let (kind, emoji) = change.record();
                let (username, display_name): (String, String) = sqlx::query_as(
                    "WITH recorded AS (
                         INSERT INTO message_changes (room_id, seq, message_seq, kind, actor_id, emoji, changed_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7))
                     SELECT username, display_name FROM users WHERE id = $5",
                )
                .bind(room)
                .bind(seq)
                .bind(message)
                .bind(kind)
                .bind(actor)
                .bind(emoji)
                .bind(now)
                .fetch_one(&mut **tx)
                .await?;
                let reactor = changes::reactor(actor, username, display_name);
                outcomes.push(Ok(Some(change.committed(seq, now, reactor))));
            }
        }
    }
    Ok(outcomes)
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
