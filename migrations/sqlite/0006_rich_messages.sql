-- Rich messages: edits, deletions, reactions and replies.
--
-- A room's `last_seq` now numbers every change to its timeline, not only
-- its messages: a new message takes the next number as before (its `seq`),
-- and so does each edit, deletion and reaction, recorded in
-- `message_changes`. A client resuming "after seq N" reads both tables
-- after N and receives every change once, in order. `messages` keeps each
-- message's current state, so a history page needs no replay.

-- The newest message (the room list's preview), now that `last_seq` may
-- be a change's number.
ALTER TABLE rooms ADD COLUMN last_message_seq INTEGER NOT NULL DEFAULT 0;
UPDATE rooms SET last_message_seq = last_seq;

-- The body rendered to safe HTML at commit (empty for rows written before
-- this migration: readers render those when they read them).
ALTER TABLE messages ADD COLUMN html TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN edited_at INTEGER;
-- A deleted message keeps its row as a tombstone (its number, author and
-- time, so that replies to it still make sense); its text is erased.
ALTER TABLE messages ADD COLUMN deleted_at INTEGER;
-- The seq of the message this one answers, in the same room.
ALTER TABLE messages ADD COLUMN reply_to INTEGER;

CREATE TABLE message_changes (
    room_id     INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    message_seq INTEGER NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('edit', 'delete', 'react', 'unreact')),
    actor_id    INTEGER NOT NULL REFERENCES users (id),
    -- Reactions only.
    emoji       TEXT,
    changed_at  INTEGER NOT NULL,
    PRIMARY KEY (room_id, seq)
) WITHOUT ROWID;

CREATE TABLE reactions (
    room_id     INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    message_seq INTEGER NOT NULL,
    emoji       TEXT    NOT NULL,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    reacted_at  INTEGER NOT NULL,
    PRIMARY KEY (room_id, message_seq, emoji, user_id)
) WITHOUT ROWID;
