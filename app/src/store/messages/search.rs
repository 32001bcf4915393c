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
    /// (the last as a prefix, the others too), newest first, before
    /// `before`.
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
    /// per room; merged by the caller.
    async fn search_sqlite(
        &self,
        rooms: &[RoomId],
        words: &[String],
        cursor: SearchCursor,
        limit: i64,
    ) -> Result<Vec<SearchHit>, sqlx::Error> {
        // Each word quoted (letters and digits only, see `search_words`),
        // as a prefix.
        let query = words.iter().map(|word| format!("\"{word}\"*")).collect::<Vec<_>>().join(" ");
        let sql = format!(
            "SELECT m.room_id, r.name AS room_name, m.seq, m.sent_at, m.author_id, u.username, u.display_name,
                    u.avatar_version, snippet(message_search, 0, char(2), char(3), '…', 16) AS snippet
             FROM message_search s
             JOIN messages m ON m.room_id = $1 AND m.seq = (s.rowid & {mask})
             JOIN rooms r ON r.id = m.room_id
             JOIN users u ON u.id = m.author_id
             WHERE message_search MATCH $2 AND s.rowid BETWEEN $3 AND $4 AND {before}
             ORDER BY s.rowid DESC LIMIT $8",
            mask = (1_i64 << 40) - 1,
            before = before_cursor(5, 6, 7),
        );
        let mut hits = Vec::new();
        for &room in rooms {
            let rows: Vec<HitRow> = sqlx::query_as(&sql)
                .bind(room)
                .bind(query.as_str())
                .bind(search_rowid(room, 0))
                .bind(search_rowid(room, (1 << 40) - 1))
                .bind(cursor.sent_at)
                .bind(cursor.room)
                .bind(cursor.seq)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
            hits.extend(rows.into_iter().map(HitRow::hit));
        }
        Ok(hits)
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
        let query = words.iter().map(|word| format!("{word}:*")).collect::<Vec<_>>().join(" & ");
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
