-- Files attached to messages.
--
-- An upload is stored before its message is sent: a row with no
-- `message_seq` is the uploader's, unsent, in that room; sending the
-- message claims it (in the writer's transaction). Deleting the message
-- deletes its rows, and the files no row names any more are removed.
--
-- The files live on disk under the data directory, named by the SHA-256
-- of their content (`file`, and `thumbnail` for an image's small version):
-- the same file uploaded twice is kept once.
CREATE TABLE attachments (
    id          TEXT    NOT NULL PRIMARY KEY,
    room_id     BIGINT  NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    uploader_id BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    message_seq BIGINT,
    name        TEXT    NOT NULL,
    size        BIGINT  NOT NULL,
    -- What the file is served as: an image type, or application/octet-stream.
    media_type  TEXT    NOT NULL,
    file        TEXT    NOT NULL,
    thumbnail   TEXT,
    -- What the thumbnail is served as (JPEG, or PNG when it has transparency).
    thumbnail_type TEXT,
    width       INTEGER,
    height      INTEGER,
    created_at  BIGINT  NOT NULL
);
CREATE INDEX attachments_by_message ON attachments (room_id, message_seq);
CREATE INDEX attachments_by_file ON attachments (file);
CREATE INDEX attachments_by_thumbnail ON attachments (thumbnail);
-- Unsent uploads, oldest first: what the sweeper forgets.
CREATE INDEX attachments_unsent ON attachments (created_at) WHERE message_seq IS NULL;

-- What a message shows of its attachments (a JSON array of
-- `domain::Attachment`), written with the message so that every read of
-- it has them; emptied when it is deleted.
ALTER TABLE messages ADD COLUMN attachments TEXT NOT NULL DEFAULT '';
