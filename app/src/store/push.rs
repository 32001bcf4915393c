//! Push subscriptions (one per device) and what each member wants pushed
//! from each room.

use super::{now_millis, Store};
use crate::domain::{Notify, PushDevice, RoomId, UserId};

/// A device of a member of a room a message was posted in, with what
/// decides whether it is pushed there (see `services::push`).
pub struct PushTarget {
    pub user: UserId,
    pub device: PushDevice,
    /// The user wants the message's text shown.
    pub previews: bool,
    /// The user's level for the room, the default for its kind applied.
    pub notify: Notify,
    /// The user blocks the message's author.
    pub blocks_author: bool,
    pub direct: bool,
    pub room_name: String,
    /// The language the device's notifications are worded in.
    pub lang: String,
}

#[derive(sqlx::FromRow)]
struct TargetRow {
    user_id: UserId,
    endpoint: String,
    p256dh: String,
    auth: String,
    previews: i64,
    notify: Option<String>,
    blocks_author: i64,
    kind: String,
    name: String,
    lang: String,
}

impl TargetRow {
    fn target(self) -> PushTarget {
        let direct = self.kind == "direct";
        PushTarget {
            user: self.user_id,
            device: PushDevice { endpoint: self.endpoint, p256dh: self.p256dh, auth: self.auth },
            previews: self.previews != 0,
            notify: Notify::resolve(self.notify.as_deref(), direct),
            blocks_author: self.blocks_author != 0,
            direct,
            room_name: self.name,
            lang: self.lang,
        }
    }
}

impl Store {
    /// Keeps `device` for `user`, subscribed in the session with socket key
    /// `session_key`, notified in language `lang` (a device that was another user's is theirs now: one
    /// browser profile, one subscription), and drops their oldest beyond
    /// `keep` (`domain::MAX_PUSH_DEVICES`).
    pub async fn add_push_device(
        &self,
        user: UserId,
        session_key: &str,
        lang: &str,
        device: &PushDevice,
        keep: usize,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO push_subscriptions (endpoint, user_id, p256dh, auth, session_key, lang, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (endpoint) DO UPDATE SET user_id = excluded.user_id, p256dh = excluded.p256dh,
                 auth = excluded.auth, session_key = excluded.session_key, lang = excluded.lang,
                 created_at = excluded.created_at",
        )
        .bind(&device.endpoint)
        .bind(user)
        .bind(&device.p256dh)
        .bind(&device.auth)
        .bind(session_key)
        .bind(lang)
        .bind(now_millis())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM push_subscriptions WHERE user_id = $1 AND endpoint NOT IN (
                 SELECT endpoint FROM push_subscriptions WHERE user_id = $1
                 ORDER BY created_at DESC, endpoint LIMIT $2)",
        )
        .bind(user)
        .bind(keep as i64)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }

    /// Forgets `user`'s device at `endpoint`, if they have one there.
    pub async fn remove_push_device(&self, user: UserId, endpoint: &str) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM push_subscriptions WHERE endpoint = $1 AND user_id = $2")
            .bind(endpoint)
            .bind(user)
            .execute(&self.pool)
            .await
            .map(drop)
    }

    /// Forgets `user`'s devices subscribed by the session with socket key
    /// `session_key` (it ended).
    pub async fn remove_push_devices_of_session(
        &self,
        user: UserId,
        session_key: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM push_subscriptions WHERE user_id = $1 AND session_key = $2")
            .bind(user)
            .bind(session_key)
            .execute(&self.pool)
            .await
            .map(drop)
    }

    /// Forgets the devices subscribed by the sessions with these socket
    /// keys (they expired).
    pub async fn remove_push_devices_of_sessions(&self, session_keys: &[String]) -> Result<(), sqlx::Error> {
        let mut transaction = self.pool.begin().await?;
        for key in session_keys {
            sqlx::query("DELETE FROM push_subscriptions WHERE session_key = $1")
                .bind(key)
                .execute(&mut *transaction)
                .await?;
        }
        transaction.commit().await
    }

    /// Forgets `user`'s devices subscribed by any session but `keep`'s
    /// (the others ended).
    pub async fn remove_push_devices_but(&self, user: UserId, keep: Option<&str>) -> Result<(), sqlx::Error> {
        let query = match keep {
            Some(keep) => sqlx::query(
                "DELETE FROM push_subscriptions
                 WHERE user_id = $1 AND (session_key IS NULL OR session_key <> $2)",
            )
            .bind(user)
            .bind(keep),
            None => sqlx::query("DELETE FROM push_subscriptions WHERE user_id = $1").bind(user),
        };
        query.execute(&self.pool).await.map(drop)
    }

    /// Forgets the device at `endpoint`, whoever's it was: its push
    /// service says it is gone.
    pub async fn forget_push_device(&self, endpoint: &str) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM push_subscriptions WHERE endpoint = $1")
            .bind(endpoint)
            .execute(&self.pool)
            .await
            .map(drop)
    }

    /// `user`'s device at `endpoint`.
    pub async fn push_device(&self, user: UserId, endpoint: &str) -> Result<Option<PushDevice>, sqlx::Error> {
        let row: Option<(String, String, String)> = sqlx::query_as(
            "SELECT endpoint, p256dh, auth FROM push_subscriptions WHERE endpoint = $1 AND user_id = $2",
        )
        .bind(endpoint)
        .bind(user)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(endpoint, p256dh, auth)| PushDevice { endpoint, p256dh, auth }))
    }

    /// How many devices are subscribed, all users together.
    pub async fn push_device_count(&self) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COUNT(*) FROM push_subscriptions").fetch_one(&self.pool).await
    }

    /// Every subscribed device of a member of `room`, with what decides
    /// whether a message of `author`'s is pushed to it.
    pub async fn push_targets(&self, room: RoomId, author: UserId) -> Result<Vec<PushTarget>, sqlx::Error> {
        let rows: Vec<TargetRow> = sqlx::query_as(
            "SELECT s.user_id, s.endpoint, s.p256dh, s.auth, u.push_previews AS previews,
                    s.lang, m.notify, r.kind, r.name,
                    CAST(EXISTS (SELECT 1 FROM blocks b WHERE b.blocker_id = s.user_id AND b.blocked_id = $2)
                         AS INTEGER) AS blocks_author
             FROM push_subscriptions s
             JOIN memberships m ON m.room_id = $1 AND m.user_id = s.user_id
             JOIN users u ON u.id = s.user_id
             JOIN rooms r ON r.id = m.room_id",
        )
        .bind(room)
        .bind(author)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(TargetRow::target).collect())
    }

    /// Sets `user`'s level for `room`; false if they are not a member.
    pub async fn set_notify(&self, room: RoomId, user: UserId, notify: Notify) -> Result<bool, sqlx::Error> {
        let done = sqlx::query("UPDATE memberships SET notify = $3 WHERE room_id = $1 AND user_id = $2")
            .bind(room)
            .bind(user)
            .bind(notify.as_str())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Whether `user`'s notifications show the message's text.
    pub async fn push_previews(&self, user: UserId) -> Result<bool, sqlx::Error> {
        let previews: i64 =
            sqlx::query_scalar("SELECT CAST(push_previews AS INTEGER) FROM users WHERE id = $1")
                .bind(user)
                .fetch_one(&self.pool)
                .await?;
        Ok(previews != 0)
    }

    pub async fn set_push_previews(&self, user: UserId, previews: bool) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE users SET push_previews = $2 WHERE id = $1")
            .bind(user)
            .bind(i64::from(previews))
            .execute(&self.pool)
            .await
            .map(drop)
    }
}
