-- Join links (issue 19): made by admins, or by members when the settings
-- allow; each account made with one records who invited it.
CREATE TABLE join_links (
    id         INTEGER PRIMARY KEY,
    -- 16 random bytes, base64url: the secret part of `/join/CODE`.
    code       TEXT    NOT NULL UNIQUE,
    created_by INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    max_uses   INTEGER,
    uses       INTEGER NOT NULL DEFAULT 0,
    revoked_at INTEGER
);

CREATE INDEX join_links_maker ON join_links (created_by, id);

ALTER TABLE users ADD COLUMN invited_by INTEGER REFERENCES users (id) ON DELETE SET NULL;
