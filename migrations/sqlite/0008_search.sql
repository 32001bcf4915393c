-- Full-text search of messages. SQLite: an FTS5 index whose rowid names
-- the message, (room_id << 40) | seq (a room's numbers stay below 2^40),
-- so that the writer updates it in the same transaction as the message,
-- and that one room's matches are one rowid range, newest first. The
-- tokenizer folds case and diacritics ("élève" finds "eleve").
-- PostgreSQL indexes the body itself (see its migration): the schema test
-- counts either as "full-text search of messages.body".
CREATE VIRTUAL TABLE message_search USING fts5(body, tokenize = 'unicode61 remove_diacritics 2');

INSERT INTO message_search (rowid, body)
SELECT (room_id << 40) | seq, body FROM messages WHERE kind = 'text' AND deleted_at IS NULL;
