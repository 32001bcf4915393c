-- PostgreSQL numbers the messages it searches too, as SQLite's writer does
-- (see 0010_search_order), from a sequence: across rooms, the newest
-- matches are found by reading this number's index backwards, as one
-- room's are on its key, instead of sorting every match the GIN index
-- yields. A sequence numbers rows as they are inserted, not as they
-- commit: two instances' groups may interleave, which only reorders
-- results sent within the same moment. Deleted messages lose their number.
-- The update below rewrites every row: on a large database, run
-- `VACUUM FULL ANALYZE messages` after (see docs/operations.md).
CREATE SEQUENCE message_search_ids AS BIGINT;
WITH ordered AS (
    SELECT room_id, seq, ROW_NUMBER() OVER (ORDER BY sent_at, room_id, seq) AS n
    FROM messages WHERE kind = 'text' AND deleted_at IS NULL
)
UPDATE messages SET search_id = ordered.n
FROM ordered WHERE messages.room_id = ordered.room_id AND messages.seq = ordered.seq;
SELECT setval('message_search_ids', COALESCE((SELECT max(search_id) FROM messages), 0) + 1, false);
