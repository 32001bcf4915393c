-- Signed-in browsers' sessions, in the shared database so that every
-- instance finds them (they were in a table of their own store's making).
DROP TABLE IF EXISTS tower_sessions;

CREATE TABLE sessions (
    id         TEXT    PRIMARY KEY,
    -- The session record (tower-sessions), as JSON.
    data       BLOB   NOT NULL,
    -- Unix seconds.
    expires_at INTEGER    NOT NULL
);

CREATE INDEX sessions_expiry ON sessions (expires_at);
