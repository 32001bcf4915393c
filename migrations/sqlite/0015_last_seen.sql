-- When each user last had Salon open (issue 19's admin list), to ten
-- minutes: written as a socket opens or closes, at most that often.
ALTER TABLE users ADD COLUMN last_seen_at INTEGER;
