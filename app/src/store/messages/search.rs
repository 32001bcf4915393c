//! Full-text search over the rooms a reader may read: SQLite's FTS5 index
//! (see the migration `0010_search_order`: keyed by search id, in commit
//! order, with each message's room as a token) and PostgreSQL's GIN index
//! of the body, read a window of the newest messages first (see
//! `search_postgres_rooms`). Results come newest first in the order
//! messages were stored.

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
    /// (whole words), newest first, after the cursor `before`.
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
        if let (Engine::Postgres, [room]) = (self.engine(), rooms) {
            // No cursor: from the room's newest number on.
            let cursor =
                before.unwrap_or(SearchCursor { sent_at: i64::MAX, room: RoomId(i64::MAX), seq: Seq::MAX });
            return self.search_postgres_room(*room, &words.join(" & "), cursor, limit).await;
        }
        let from = self.search_from(before).await?;
        match self.engine() {
            Engine::Postgres => self.search_postgres_rooms(rooms, &words.join(" & "), from, limit).await,
            Engine::Sqlite => self.search_sqlite(rooms, words, from, limit).await,
        }
    }

    /// Where a search across rooms goes on after the cursor: below its
    /// message's search id; if that message was deleted since (and lost its
    /// id), before its time.
    async fn search_from(&self, before: Option<SearchCursor>) -> Result<SearchFrom, sqlx::Error> {
        let Some(cursor) = before else { return Ok(SearchFrom { below: i64::MAX, sent_before: i64::MAX }) };
        let id: Option<Option<i64>> =
            sqlx::query_scalar("SELECT search_id FROM messages WHERE room_id = $1 AND seq = $2")
                .bind(cursor.room)
                .bind(cursor.seq)
                .fetch_optional(&self.pool)
                .await?;
        Ok(match id.flatten() {
            Some(id) => SearchFrom { below: id, sent_before: i64::MAX },
            None => SearchFrom { below: i64::MAX, sent_before: cursor.sent_at },
        })
    }

    /// One scan of the FTS5 index newest first (search ids are in commit
    /// order), from the cursor on: in one room, its words and the room's
    /// token together; across rooms, its words, keeping the matches of
    /// the readable rooms. Then the snippets of the page's messages only
    /// (a snippet tokenizes its message again). Words are matched whole: a
    /// prefix query (`word*`) makes FTS5 merge the matches of every word it
    /// starts before anything else (measured: 14 ms a room for "apple*").
    async fn search_sqlite(
        &self,
        rooms: &[RoomId],
        words: &[String],
        from: SearchFrom,
        limit: i64,
    ) -> Result<Vec<SearchHit>, sqlx::Error> {
        // Each word quoted (letters and digits only, see `search_words`),
        // in the body only: the room column holds room tokens.
        let text = words.iter().map(|word| format!("body : \"{word}\"")).collect::<Vec<_>>().join(" AND ");
        let rooms_json =
            serde_json::to_string(rooms).map_err(|error| sqlx::Error::Encode(Box::new(error)))?;
        let (query, in_rooms) = match rooms {
            [room] => (format!("{text} AND room : \"r{}\"", room.0), ""),
            _ => (text.clone(), "AND m.room_id IN (SELECT value FROM json_each($4))"),
        };
        let found: Vec<(i64, RoomId, Seq)> = sqlx::query_as(&format!(
            "SELECT s.rowid, m.room_id, m.seq FROM message_search s JOIN messages m ON m.search_id = s.rowid
             WHERE message_search MATCH $1 AND s.rowid < $2 AND m.sent_at < $3 {in_rooms}
             ORDER BY s.rowid DESC LIMIT $5"
        ))
        .bind(query.as_str())
        .bind(from.below)
        .bind(from.sent_before)
        .bind(rooms_json)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        if found.is_empty() {
            return Ok(Vec::new());
        }
        let page: Vec<i64> = found.iter().map(|&(id, _, _)| id).collect();
        let rows: Vec<HitRow> = sqlx::query_as(
            "SELECT m.room_id, r.name AS room_name, m.seq, m.sent_at, m.author_id, u.username, u.display_name,
                    u.avatar_version, snippet(message_search, 0, char(2), char(3), '…', 16) AS snippet
             FROM message_search s
             JOIN messages m ON m.search_id = s.rowid
             JOIN rooms r ON r.id = m.room_id
             JOIN users u ON u.id = m.author_id
             WHERE message_search MATCH $1 AND s.rowid IN (SELECT value FROM json_each($2))",
        )
        .bind(text.as_str())
        .bind(serde_json::to_string(&page).map_err(|error| sqlx::Error::Encode(Box::new(error)))?)
        .fetch_all(&self.pool)
        .await?;
        // In the scan's order, newest first.
        let mut hits: Vec<SearchHit> = rows.into_iter().map(HitRow::hit).collect();
        hits.sort_by_key(|hit| found.iter().position(|&(_, room, seq)| (room, seq) == (hit.room, hit.seq)));
        Ok(hits)
    }

    /// PostgreSQL across rooms: the GIN index yields every match
    /// unordered, and a common word meant fetching and sorting all of them
    /// (62,500 in a room of 1,000,000: p99 924 ms across 101 rooms). The
    /// newest window of search ids (numbered in the order messages are
    /// stored, see the migration `0011_search_ids`) is therefore read
    /// first, backwards on their index, stopping at a page, where a common
    /// word fills it; then, if the page is not full, all the rest at once
    /// through the GIN index, where a word that did not fill it is rare
    /// enough to sort. One room is searched the same way on its own key
    /// (see [`Self::search_postgres_room`]).
    ///
    /// Each statement is planned for its values (`persistent(false)`: an
    /// unnamed statement): the plan cache's generic plan for the window
    /// ANDs the word's whole list with the window's ids (measured: 32 ms
    /// for `apple` in one room, against 7.7 for the plan made for them).
    ///
    /// `ts_headline` drops what looks like HTML tags from the text it
    /// quotes: `<` and `>` go in as characters no message contains and come
    /// back after (see `PG_HIT`).
    async fn search_postgres_rooms(
        &self,
        rooms: &[RoomId],
        query: &str,
        from: SearchFrom,
        limit: i64,
    ) -> Result<Vec<SearchHit>, sqlx::Error> {
        let high = match from.below {
            i64::MAX => {
                let newest: Option<i64> =
                    sqlx::query_scalar("SELECT max(search_id) FROM messages").fetch_one(&self.pool).await?;
                newest.unwrap_or(0) + 1
            }
            below => below,
        };
        let low = (high - FIRST_WINDOW).max(0);
        let rooms = super::pg_json(&rooms)?;
        let in_rooms = concat!("IN (SELECT CAST(value #>> '{}' AS BIGINT) FROM ", pg_elements!(2), ")");
        let window = format!(
            "{PG_HIT} WHERE m.search_id >= $3 AND m.search_id < $4 AND m.sent_at < $5 AND m.room_id {in_rooms}
               AND to_tsvector('simple', m.body) @@ to_tsquery('simple', $1)
             ORDER BY m.search_id DESC LIMIT $6"
        );
        // As in one room, written so that no index serves the id and the
        // room, nor the order: see `search_postgres_room`.
        let rest = format!(
            "{PG_HIT} WHERE m.search_id + 0 < $3 AND m.sent_at < $4 AND m.room_id + 0 {in_rooms}
               AND to_tsvector('simple', m.body) @@ to_tsquery('simple', $1)
             ORDER BY m.search_id + 0 DESC LIMIT $5"
        );
        let rows: Vec<HitRow> = sqlx::query_as(&window)
            .persistent(false)
            .bind(query)
            .bind(rooms.as_str())
            .bind(low)
            .bind(high)
            .bind(from.sent_before)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        let mut hits: Vec<SearchHit> = rows.into_iter().map(HitRow::hit).collect();
        if (hits.len() as i64) < limit && low > 0 {
            let rows: Vec<HitRow> = sqlx::query_as(&rest)
                .persistent(false)
                .bind(query)
                .bind(rooms.as_str())
                .bind(low)
                .bind(from.sent_before)
                .bind(limit - hits.len() as i64)
                .fetch_all(&self.pool)
                .await?;
            hits.extend(rows.into_iter().map(HitRow::hit));
        }
        Ok(hits)
    }

    /// PostgreSQL in one room (see [`Self::search_postgres_rooms`]):
    /// below the cursor, the newest window of the room's numbers, then the
    /// rest (a room's numbers follow its messages' times).
    async fn search_postgres_room(
        &self,
        room: RoomId,
        query: &str,
        cursor: SearchCursor,
        limit: i64,
    ) -> Result<Vec<SearchHit>, sqlx::Error> {
        let high = if cursor.room == room {
            cursor.seq
        } else {
            let last: Option<Seq> = sqlx::query_scalar("SELECT last_seq FROM rooms WHERE id = $1")
                .bind(room)
                .fetch_optional(&self.pool)
                .await?;
            last.unwrap_or(0) + 1
        };
        // The newest window: read backwards on the room's key, each row
        // checked, stopping at a page (a common word fills it at once).
        let window = format!(
            "{PG_HIT} WHERE m.room_id = $2 AND m.seq >= $3 AND m.seq < $4
               AND to_tsvector('simple', m.body) @@ to_tsquery('simple', $1)
             ORDER BY m.seq DESC LIMIT $5"
        );
        // The rest: a word that did not fill a page there is rare enough
        // for the index to list and sort. The room and number are written
        // so that no index serves them (`+ 0`), and the order is by time
        // (the same order in one room), which no index gives: else the
        // planner reads the whole room backwards checking each row (6 s
        // for `number & 654321`, whose first word is in every message),
        // or, once the statement's plan is generic, ANDs the word's list
        // with a bitmap of the whole room's key (50–110 ms).
        let rest = format!(
            "{PG_HIT} WHERE m.room_id + 0 = $2 AND m.seq + 0 < $3
               AND to_tsvector('simple', m.body) @@ to_tsquery('simple', $1)
             ORDER BY m.sent_at DESC, m.seq DESC LIMIT $4"
        );
        let low = (high - FIRST_WINDOW).max(0);
        let rows: Vec<HitRow> = sqlx::query_as(&window)
            .persistent(false)
            .bind(query)
            .bind(room)
            .bind(low)
            .bind(high)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        let mut hits: Vec<SearchHit> = rows.into_iter().map(HitRow::hit).collect();
        if (hits.len() as i64) < limit && low > 0 {
            let rows: Vec<HitRow> = sqlx::query_as(&rest)
                .persistent(false)
                .bind(query)
                .bind(room)
                .bind(low)
                .bind(limit - hits.len() as i64)
                .fetch_all(&self.pool)
                .await?;
            hits.extend(rows.into_iter().map(HitRow::hit));
        }
        Ok(hits)
    }
}

/// How many numbers (a room's, or search ids) the newest window of a
/// PostgreSQL search spans.
const FIRST_WINDOW: i64 = 4096;

/// Where a search goes on: below search id `below`, before time
/// `sent_before` (see [`Store::search_from`]).
#[derive(Clone, Copy)]
struct SearchFrom {
    below: i64,
    sent_before: i64,
}

/// A PostgreSQL match with its room, author and headline (the query's
/// words at `$1`), from `messages m`.
const PG_HIT: &str = "
    SELECT m.room_id, r.name AS room_name, m.seq, m.sent_at, m.author_id, u.username, u.display_name,
           u.avatar_version,
           ts_headline('simple', replace(replace(m.body, '<', chr(4)), '>', chr(5)), to_tsquery('simple', $1),
                       'StartSel=' || chr(2) || ', StopSel=' || chr(3) || ', MaxWords=24, MinWords=12')
               AS snippet
    FROM messages m
    JOIN rooms r ON r.id = m.room_id
    JOIN users u ON u.id = m.author_id";
