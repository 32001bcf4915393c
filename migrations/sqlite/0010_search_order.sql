-- Search in commit order. The full-text index was keyed by
-- (room_id << 40) | seq, so that a room's matches were one rowid range;
-- but a group of messages spread over many rooms then wrote all over the
-- index (each row on another page of its content and size tables, and
-- FTS5 flushes its pending terms whenever a rowid goes down): durable
-- sends fell by half. Now each message searched has a `search_id` from one
-- counter, in commit order (the message writer takes the next ones): the
-- index only grows at its end. A room's messages are found through a
-- `room` column of the index holding the token `r<room id>`, matched with
-- the words; across rooms, one scan newest first keeps the readable rooms'
-- matches.
--
-- PostgreSQL indexes the body itself and leaves `search_id` empty; the
-- column is in both schemas so that they stay one.
ALTER TABLE messages ADD COLUMN search_id INTEGER;
WITH ordered AS (
    SELECT room_id, seq, ROW_NUMBER() OVER (ORDER BY sent_at, room_id, seq) AS n
    FROM messages WHERE kind = 'text' AND deleted_at IS NULL
)
UPDATE messages SET search_id = ordered.n
FROM ordered WHERE messages.room_id = ordered.room_id AND messages.seq = ordered.seq;
CREATE UNIQUE INDEX messages_search_id ON messages (search_id) WHERE search_id IS NOT NULL;

DROP TABLE message_search;
CREATE VIRTUAL TABLE message_search USING fts5(body, room, tokenize = 'unicode61 remove_diacritics 2');
INSERT INTO message_search (rowid, body, room)
SELECT search_id, body, 'r' || room_id FROM messages WHERE search_id IS NOT NULL ORDER BY search_id;
