-- Web Push (issue 18): each device that asked to be notified, and what
-- each member wants pushed from each room.
CREATE TABLE push_subscriptions (
    -- The push service's URL for this device: it names the device.
    endpoint   TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The device's P-256 public key and auth secret (base64url), which
    -- every payload is encrypted for (RFC 8291).
    p256dh     TEXT    NOT NULL,
    auth       TEXT    NOT NULL,
    -- The socket key of the session that subscribed it: the subscription
    -- ends with the session (a sign-out on a shared browser).
    session_key TEXT,
    -- The language its notifications are worded in (the browser's when it
    -- subscribed).
    lang       TEXT    NOT NULL DEFAULT 'en',
    created_at INTEGER NOT NULL
);

CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id);

-- NULL: the default for the room's kind (see `domain::Notify`).
ALTER TABLE memberships ADD COLUMN notify TEXT
    CHECK (notify IN ('all', 'mentions', 'nothing'));

-- Whether notifications show the message's text.
ALTER TABLE users ADD COLUMN push_previews INTEGER NOT NULL DEFAULT 1;
