-- What the instance admins set for the whole server (issue 19), one row
-- per setting; a missing row is the default (`domain::InstanceSettings`).
CREATE TABLE instance_settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
