-- Signed-in browsers' sessions, in the shared database so that every
-- instance finds them.
CREATE TABLE sessions (
    id         TEXT    PRIMARY KEY,
    -- The session record (tower-sessions), as JSON.
    data       BYTEA   NOT NULL,
    -- Unix seconds.
    expires_at BIGINT  NOT NULL
);

CREATE INDEX sessions_expiry ON sessions (expires_at);
