-- One-time password reset links (issue 19), made by an admin (or mailed
-- when SMTP is set up). Only the token's SHA-256 is kept.
CREATE TABLE password_resets (
    token_hash TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);

CREATE INDEX password_resets_user ON password_resets (user_id);
