-- Accounts deleted by their owners (issue 19): the row stays, emptied of
-- everything personal, so that their messages keep an author.
ALTER TABLE users ADD COLUMN deleted_at INTEGER;
