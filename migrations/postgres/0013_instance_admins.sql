-- Who runs this Salon (issue 19): instance administrators. The first
-- account created on a new database is one (see `Store::insert_user`).
ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'admin'));

-- An existing database: its first account runs it.
UPDATE users SET role = 'admin' WHERE id = (SELECT MIN(id) FROM users);
