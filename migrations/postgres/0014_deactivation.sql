-- Deactivated accounts (issue 19): they cannot sign in, their sessions and
-- sockets end, their messages stay, their direct conversations are
-- read-only. NULL: active.
ALTER TABLE users ADD COLUMN deactivated_at BIGINT;
