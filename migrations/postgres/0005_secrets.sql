-- Secrets every instance shares, made once by whichever starts first
-- (the key of device cookies, say).
CREATE TABLE server_secrets (
    name  TEXT PRIMARY KEY,
    value BYTEA NOT NULL
);
