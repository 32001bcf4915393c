//! Full-text search over the rooms a reader may read: SQLite's FTS5 index
//! (see the migration: one rowid range per room, newest first) and
//! PostgreSQL's GIN index of the body.

use super::search_rowid;
use crate::domain::{snippet_html, PublicProfile, RoomId, SearchCursor, SearchHit, Seq, UserId};
use crate::store::{Engine, Store};

#[derive(sqlx::FromRow)]
struct HitRow {
    room_id: RoomId,
    room_name: String,
    seq: Seq,
    sent_at: i64,
    author_id: UserId,
    username: String,
    display_name: String,
    avatar_version: Option<i64>,
    snippet: String,
}

impl HitRow {
    fn hit(self) -> SearchHit {
        SearchHit {
            room: self.room_id,
            room_name: self.room_name,
            seq: self.seq,
            author: PublicProfile {
                id: self.author_id,
                username: self.username,
                display_name: self.display_name,
                avatar_version: self.avatar_version,
            },
            sent_at: self.sent_at,
            // PostgreSQL's headline is made with `<` and `>` hidden (see
            // `search_postgres`).
            snippet: snippet_html(&self.snippet.replace('\u{4}', "<").replace('\u{5}', ">")),
        }
    }
}

/// Rooms searched by one statement (SQLite takes at most 500 parts in a
/// compound statement).
const ROOMS_PER_STATEMENT: usize = 400;

/// The bits of a search rowid that hold the message's number.
const ROWID_SEQ: i64 = (1 << 40) - 1;

/// Before the cursor (time, then room, then number, newest first), as SQL
/// on `m` with the cursor at `$t`, `$r`, `$s`.
fn before_cursor(t: usize, r: usize, s: usize) -> String {
    format!("(m.sent_at < ${t} OR (m.sent_at = ${t} AND (m.room_id < ${r} OR (m.room_id = ${r} AND m.seq < ${s}))))")
}

impl Store {
    /// The rooms `user` may read, by the rule of `services::rooms::readable`
    /// (a member, or a public room they are not banned from; never an
    /// archived one): what a search across rooms looks in.
    pub async fn readable_rooms(&self, user: UserId) -> Result<Vec<RoomId>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT r.id FROM rooms r
             WHERE r.archived_at IS NULL
               AND (EXISTS (SELECT 1 FROM memberships m WHERE m.room_id = r.id AND m.user_id = $1)
                    OR (r.visibility = 'public' AND r.kind = 'room'
                        AND NOT EXISTS (SELECT 1 FROM bans b WHERE b.room_id = r.id AND b.user_id = $1)))",
        )
        .bind(user)
        .fetch_all(&self.pool)
        .await
    }

    /// Up to `limit` messages of `rooms` containing every word of `words`
    /// (whole words), newest first, before `before`.
    pub async fn search(
        &self,
        rooms: &[RoomId],
        words: &[String],
        before: Option<SearchCursor>,
        limit: i64,
    ) -> Result<Vec<SearchHit>, sqlx::Error> {
        if rooms.is_empty() {
            return Ok(Vec::new());
        }
        let cursor =
            before.unwrap_or(SearchCursor { sent_at: i64::MAX, room: RoomId(i64::MAX), seq: Seq::MAX });
        let mut hits = match self.engine() {
            Engine::Sqlite => self.search_sqlite(rooms, words, cursor, limit).await?,
            Engine::Postgres => self.search_postgres(rooms, words, cursor, limit).await?,
        };
        hits.sort_by_key(|hit| std::cmp::Reverse((hit.sent_at, hit.room, hit.seq)));
        hits.truncate(limit as usize);
        Ok(hits)
    }

    /// Each room's newest matches, one rowid range scan of the FTS5 index
    /// per room, merged by time; then the snippets of the page's messages
    /// only (a snippet tokenizes its message again: computed for every
    /// room's candidates, they took most of a search across rooms).
    async fn search_sqlite(
        &self,
        rooms: &[RoomId],
        words: &[String],
        cursor: SearchCursor,
        limit: i64,
    ) -> Result<Vec<SearchHit>, sqlx::Error> {
        // Each word quoted (letters and digits only, see `search_words`).
        // Whole words: a prefix query makes FTS5 merge the whole index's
        // matches of every word it starts before the room's range applies
        // (measured: 14 ms a room for a word in one message in 16, 1.4 s
        // across 101 rooms), where a word streams from its range.
        let query = words.iter().map(|word| format!("\"{word}\"")).collect::<Vec<_>>().join(" ");
        // Each room's newest matches in one statement (a query each cost
        // more in handing it to the pool's thread than in FTS5).
        let mut found: Vec<(i64, RoomId, Seq)> = Vec::new();
        for chunk in rooms.chunks(ROOMS_PER_STATEMENT) {
            let parts: Vec<String> = chunk
                .iter()
                .map(|&room| {
                    format!(
                        "SELECT * FROM (SELECT s.rowid AS rowid, m.sent_at AS sent_at FROM message_search s
                         JOIN messages m ON m.room_id = {room} AND m.seq = (s.rowid & {ROWID_SEQ})
                         WHERE message_search MATCH $1 AND s.rowid BETWEEN {low} AND {high} AND {before}
                         ORDER BY s.rowid DESC LIMIT $5)",
                        room = room.0,
                        low = search_rowid(room, 0),
                        high = search_rowid(room, ROWID_SEQ),
                        before = before_cursor(2, 3, 4),
                    )
                })
                .collect();
            let rows: Vec<(i64, i64)> = sqlx::query_as(&parts.join(" UNION ALL "))
                .bind(query.as_str())
                .bind(cursor.sent_at)
                .bind(cursor.room)
                .bind(cursor.seq)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
            found.extend(
                rows.into_iter().map(|(rowid, sent_at)| (sent_at, RoomId(rowid >> 40), rowid & ROWID_SEQ)),
            );
        }
        found.sort_unstable_by_key(|&hit| std::cmp::Reverse(hit));
        found.truncate(limit as usize);
        if found.is_empty() {
            return Ok(Vec::new());
        }
        let page: Vec<i64> = found.iter().map(|&(_, room, seq)| search_rowid(room, seq)).collect();
        let rows: Vec<HitRow> = sqlx::query_as(&format!(
            "SELECT m.room_id, r.name AS room_name, m.seq, m.sent_at, m.author_id, u.username, u.display_name,
                    u.avatar_version, snippet(message_search, 0, char(2), char(3), '…', 16) AS snippet
             FROM message_search s
             JOIN messages m ON m.room_id = (s.rowid >> 40) AND m.seq = (s.rowid & {ROWID_SEQ})
             JOIN rooms r ON r.id = m.room_id
             JOIN users u ON u.id = m.author_id
             WHERE message_search MATCH $1 AND s.rowid IN (SELECT value FROM json_each($2))"
        ))
        .bind(query.as_str())
        .bind(serde_json::to_string(&page).map_err(|error| sqlx::Error::Encode(Box::new(error)))?)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(HitRow::hit).collect())
    }

    /// One query over the GIN index, ordered by time. `ts_headline` drops
    /// what looks like HTML tags from the text it quotes: `<` and `>` go
    /// in as characters no message contains and come back after.
    async fn search_postgres(
        &self,
        rooms: &[RoomId],
        words: &[String],
        cursor: SearchCursor,
        limit: i64,
    ) -> Result<Vec<SearchHit>, sqlx::Error> {
        let query = words.join(" & ");
        let rooms = serde_json::to_string(rooms).map_err(|error| sqlx::Error::Encode(Box::new(error)))?;
        let sql = format!(
            "SELECT m.room_id, r.name AS room_name, m.seq, m.sent_at, m.author_id, u.username, u.display_name,
                    u.avatar_version,
                    ts_headline('simple', replace(replace(m.body, '<', chr(4)), '>', chr(5)), to_tsquery('simple', $1),
                                'StartSel=' || chr(2) || ', StopSel=' || chr(3) || ', MaxWords=24, MinWords=12')
                        AS snippet
             FROM messages m
             JOIN rooms r ON r.id = m.room_id
             JOIN users u ON u.id = m.author_id
             WHERE to_tsvector('simple', m.body) @@ to_tsquery('simple', $1)
               AND m.room_id IN (SELECT CAST(value #>> '{{}}' AS BIGINT) FROM json_array_elements(CAST($2 AS json)))
               AND {before}
             ORDER BY m.sent_at DESC, m.room_id DESC, m.seq DESC LIMIT $6",
            before = before_cursor(3, 4, 5),
        );
        let rows: Vec<HitRow> = sqlx::query_as(&sql)
            .bind(query.as_str())
            .bind(rooms)
            .bind(cursor.sent_at)
            .bind(cursor.room)
            .bind(cursor.seq)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(HitRow::hit).collect())
    }
}
