-- Rooms, memberships and messages.
--
-- Each room counts its messages in `last_seq`; a message takes the next
-- number in the transaction that stores it, so numbers have no gap and
-- clients can resume "after seq N". Messages are stored clustered by
-- (room_id, seq): history pages and catch-up are range scans.
CREATE TABLE rooms (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL,
    name_key      TEXT    NOT NULL,
    topic         TEXT    NOT NULL DEFAULT '',
    visibility    TEXT    NOT NULL CHECK (visibility IN ('public', 'private')),
    last_seq      INTEGER NOT NULL DEFAULT 0,
    last_activity INTEGER NOT NULL,
    member_count  INTEGER NOT NULL DEFAULT 0,
    -- Set when the last member leaves: the room and its history are kept
    -- but no longer listed or opened.
    archived_at   INTEGER,
    created_at    INTEGER NOT NULL,
    CONSTRAINT rooms_name_key UNIQUE (name_key)
);

CREATE INDEX rooms_public ON rooms (member_count DESC, last_activity DESC)
    WHERE visibility = 'public' AND archived_at IS NULL;

CREATE TABLE memberships (
    room_id       INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role          TEXT    NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    joined_at     INTEGER NOT NULL,
    last_read_seq INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (room_id, user_id)
) WITHOUT ROWID;

CREATE INDEX memberships_user ON memberships (user_id);

CREATE TABLE messages (
    room_id   INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    seq       INTEGER NOT NULL,
    author_id INTEGER NOT NULL REFERENCES users (id),
    client_id TEXT    NOT NULL,
    body      TEXT    NOT NULL,
    sent_at   INTEGER NOT NULL,
    PRIMARY KEY (room_id, seq)
) WITHOUT ROWID;

-- A client id names one message of its author: a resend finds the original.
CREATE UNIQUE INDEX messages_client_id ON messages (author_id, client_id);
