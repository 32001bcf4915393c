-- Mentions: the members of its room a message names as @username when it
-- is committed (or edited). `messages.mentions` lists their ids for the
-- message's readers ("1,7", empty for none); `mentions` counts, per person
-- and room, the mentions after what they have read.
ALTER TABLE messages ADD COLUMN mentions TEXT NOT NULL DEFAULT '';

CREATE TABLE mentions (
    user_id BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    room_id BIGINT  NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    seq     BIGINT  NOT NULL,
    PRIMARY KEY (user_id, room_id, seq)
);
