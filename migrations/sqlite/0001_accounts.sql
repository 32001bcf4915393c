-- Accounts and avatars. Uniqueness is enforced on case-folded keys that the
-- application computes (Unicode-aware), not on SQL lower().
CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    username       TEXT    NOT NULL,
    username_key   TEXT    NOT NULL,
    email          TEXT    NOT NULL,
    email_key      TEXT    NOT NULL,
    display_name   TEXT    NOT NULL DEFAULT '',
    password_hash  TEXT    NOT NULL,
    avatar_version INTEGER,
    created_at     INTEGER NOT NULL,
    CONSTRAINT users_username_key UNIQUE (username_key),
    CONSTRAINT users_email_key UNIQUE (email_key)
);

CREATE TABLE avatars (
    user_id      INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    version      INTEGER NOT NULL,
    content_type TEXT    NOT NULL,
    image        BLOB    NOT NULL
);
