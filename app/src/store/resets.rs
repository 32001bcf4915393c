//! Password reset links: made, and used once with the new password's hash.

use super::{now_millis, Store};
use crate::domain::UserId;

impl Store {
    /// Records a reset link (its token's hash) for `user`, valid for
    /// `valid_ms`; the user's earlier unused links stop working. `false`:
    /// no such account (or a deleted one).
    pub async fn insert_reset(
        &self,
        user: UserId,
        token_hash: &str,
        valid_ms: i64,
    ) -> Result<bool, sqlx::Error> {
        let now = now_millis();
        let mut tx = self.begin_write().await?;
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT id FROM users WHERE id = $1 AND deleted_at IS NULL")
                .bind(user)
                .fetch_optional(&mut *tx)
                .await?;
        if exists.is_none() {
            return Ok(false);
        }
        sqlx::query("DELETE FROM password_resets WHERE user_id = $1").bind(user).execute(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash)
        .bind(user)
        .bind(now)
        .bind(now + valid_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Whether a reset link was made for `user` since `since` (ms).
    pub async fn reset_made_since(&self, user: UserId, since: i64) -> Result<bool, sqlx::Error> {
        let count: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM password_resets WHERE user_id = $1 AND created_at > $2")
                .bind(user)
                .bind(since)
                .fetch_one(&self.pool)
                .await?;
        Ok(count > 0)
    }

    /// Whose unused, unexpired reset link `token_hash` is, if any.
    pub async fn reset_owner(&self, token_hash: &str) -> Result<Option<UserId>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT user_id FROM password_resets WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now_millis())
        .fetch_optional(&self.pool)
        .await
    }

    /// Uses the reset link `token_hash` once (unused and unexpired: the
    /// rule of `services::resets`, checked here in the write transaction,
    /// so two uses at once make one) and sets its user's password hash.
    /// Whose it was.
    pub async fn use_reset(
        &self,
        token_hash: &str,
        password_hash: &str,
    ) -> Result<Option<UserId>, sqlx::Error> {
        let now = now_millis();
        let mut tx = self.begin_write().await?;
        let user: Option<UserId> = sqlx::query_scalar(
            "UPDATE password_resets SET used_at = $2
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING user_id",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(user) = user else { return Ok(None) };
        sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1 AND deleted_at IS NULL")
            .bind(user)
            .bind(password_hash)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(user))
    }
}
