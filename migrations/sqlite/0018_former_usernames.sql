-- Usernames changed away from (issue 19): their profile links keep leading
-- to whoever had them, and no one else takes them.
CREATE TABLE former_usernames (
    username_key TEXT    PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    changed_at   INTEGER NOT NULL
);

CREATE INDEX former_usernames_user ON former_usernames (user_id);
