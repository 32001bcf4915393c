-- Search in commit order on SQLite (see its migration): its full-text
-- index is keyed by `messages.search_id`. PostgreSQL indexes the body
-- itself and leaves the column empty; it is here so that both schemas
-- stay one.
ALTER TABLE messages ADD COLUMN search_id BIGINT;
CREATE UNIQUE INDEX messages_search_id ON messages (search_id) WHERE search_id IS NOT NULL;
