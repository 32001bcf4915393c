-- Full-text search of messages: a GIN index of the body's words, kept in
-- step by PostgreSQL with every insert, edit and deletion (a deleted
-- message's body is empty). The 'simple' configuration: no stemming for
-- one language over another, words matched as typed, case folded.
-- SQLite has an FTS5 index instead (see its migration).
CREATE INDEX messages_search ON messages USING GIN (to_tsvector('simple', body));
