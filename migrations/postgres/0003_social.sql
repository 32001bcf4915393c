-- Direct messages, friends, blocks, invitations, bans and room events.

-- A direct conversation is a private room of kind 'direct' with exactly two
-- members. Its name_key is derived from the two user ids (see
-- `domain::direct_key`) and starts with a control character that no room
-- name may contain, so the unique name_key also makes the conversation
-- between two people unique.
ALTER TABLE rooms ADD COLUMN kind TEXT NOT NULL DEFAULT 'room' CHECK (kind IN ('room', 'direct'));

-- Who may open a direct conversation with the user.
ALTER TABLE users ADD COLUMN dm_policy TEXT NOT NULL DEFAULT 'everyone'
    CHECK (dm_policy IN ('everyone', 'friends'));

-- A message is either text ('text') or an event the room shows as a line
-- of its own ('removed', 'banned'), whose subject is another user.
ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'text';
ALTER TABLE messages ADD COLUMN subject_id BIGINT REFERENCES users (id);

CREATE TABLE friend_requests (
    from_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    to_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (from_id, to_id),
    CHECK (from_id <> to_id)
);

CREATE INDEX friend_requests_to ON friend_requests (to_id);

-- Stored in both directions: "the friends of X" is a range scan.
CREATE TABLE friendships (
    user_id   BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    friend_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    since     BIGINT NOT NULL,
    PRIMARY KEY (user_id, friend_id),
    CHECK (user_id <> friend_id)
);

CREATE TABLE blocks (
    blocker_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id),
    CHECK (blocker_id <> blocked_id)
);

CREATE TABLE invitations (
    room_id    BIGINT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    invitee_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    inviter_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (room_id, invitee_id)
);

CREATE INDEX invitations_invitee ON invitations (invitee_id);

CREATE TABLE bans (
    room_id    BIGINT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    banned_by  BIGINT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (room_id, user_id)
);
