//! A user's own data: read whole for "export my data", and erased when
//! they delete their account.

use super::{now_millis, Store};
use crate::domain::UserId;
use serde::Serialize;

/// One of the user's rooms (direct conversations named by the other
/// person's username).
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct ExportedRoom {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub visibility: String,
    pub role: String,
    pub joined_at: i64,
}

/// One message the user wrote and did not delete.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct ExportedMessage {
    pub room_id: i64,
    pub room: String,
    pub seq: i64,
    pub sent_at: i64,
    pub edited_at: Option<i64>,
    pub body: String,
    /// The attachments' description as stored (JSON), empty for none.
    #[serde(skip)]
    pub attachments: String,
}

/// Someone the user is tied to: a friend (since), or someone they block.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct ExportedPerson {
    pub username: String,
    pub since: i64,
}

/// The SQL of a room's name as its member `$1` knows it.
const ROOM_NAME: &str = "CASE WHEN r.kind = 'direct' THEN COALESCE((SELECT o.username FROM memberships om
     JOIN users o ON o.id = om.user_id WHERE om.room_id = r.id AND om.user_id <> $1), '') ELSE r.name END";

impl Store {
    pub async fn exported_rooms(&self, user: UserId) -> Result<Vec<ExportedRoom>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT r.id, {ROOM_NAME} AS name, r.kind, r.visibility, m.role, m.joined_at
             FROM memberships m JOIN rooms r ON r.id = m.room_id WHERE m.user_id = $1 ORDER BY m.joined_at, r.id"
        ))
        .bind(user)
        .fetch_all(&self.pool)
        .await
    }

    /// The next `limit` messages `user` wrote and did not delete, in the
    /// order of their rooms and numbers, after message `after` (room, seq).
    pub async fn exported_messages(
        &self,
        user: UserId,
        after: (i64, i64),
        limit: i64,
    ) -> Result<Vec<ExportedMessage>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT m.room_id, {ROOM_NAME} AS room, m.seq, m.sent_at, m.edited_at, m.body, m.attachments
             FROM messages m JOIN rooms r ON r.id = m.room_id
             WHERE m.author_id = $1 AND m.kind = 'text' AND m.deleted_at IS NULL
               AND (m.room_id > $2 OR (m.room_id = $2 AND m.seq > $3))
             ORDER BY m.room_id, m.seq LIMIT $4"
        ))
        .bind(user)
        .bind(after.0)
        .bind(after.1)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
    }

    /// The user's friends (`blocked` false) or the people they block.
    pub async fn exported_people(
        &self,
        user: UserId,
        blocked: bool,
    ) -> Result<Vec<ExportedPerson>, sqlx::Error> {
        let sql = if blocked {
            "SELECT u.username, b.created_at AS since FROM blocks b JOIN users u ON u.id = b.blocked_id
             WHERE b.blocker_id = $1 ORDER BY b.created_at"
        } else {
            "SELECT u.username, f.since FROM friendships f JOIN users u ON u.id = f.friend_id
             WHERE f.user_id = $1 ORDER BY f.since"
        };
        sqlx::query_as(sql).bind(user).fetch_all(&self.pool).await
    }

    /// The files of the attachments `user` uploaded (full images and
    /// thumbnails), for removal once their rows are gone.
    pub async fn uploaded_files(&self, user: UserId) -> Result<Vec<String>, sqlx::Error> {
        let rows: Vec<(String, Option<String>)> =
            sqlx::query_as("SELECT file, thumbnail FROM attachments WHERE uploader_id = $1")
                .bind(user)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().flat_map(|(file, thumbnail)| std::iter::once(file).chain(thumbnail)).collect())
    }

    /// Empties a deleted account of everything personal, in one
    /// transaction: its names, email, password hash, avatar, attachments
    /// (their rows; the caller removes the files), friends, requests,
    /// blocks, invitations, devices, join links, mentions of it, its
    /// reactions and when it was last seen. The row stays, marked
    /// deleted and deactivated (signed out everywhere, read-only direct
    /// conversations), so that its messages keep an author, shown as
    /// `shown_as`. Never the last admin (the rule of
    /// `services::accounts::delete_account`, checked again here): `false`.
    pub async fn erase_user(&self, user: UserId, shown_as: &str) -> Result<bool, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        let role: Option<String> = sqlx::query_scalar("SELECT role FROM users WHERE id = $1")
            .bind(user)
            .fetch_optional(&mut *tx)
            .await?;
        if role.as_deref() == Some("admin") {
            let admins: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin'")
                .fetch_one(&mut *tx)
                .await?;
            if admins <= 1 {
                return Ok(false);
            }
        }
        let now = now_millis();
        let placeholder = format!("deleted~{}", user.0);
        sqlx::query(
            "UPDATE users SET username = $2, username_key = $2, email = $2, email_key = $2, display_name = $3,
                 password_hash = '', avatar_version = NULL, role = 'member', invited_by = NULL, last_seen_at = NULL,
                 deactivated_at = COALESCE(deactivated_at, $4), deleted_at = $4
             WHERE id = $1",
        )
        .bind(user)
        .bind(&placeholder)
        .bind(shown_as)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        for sql in [
            "DELETE FROM avatars WHERE user_id = $1",
            "UPDATE messages SET attachments = '' WHERE author_id = $1 AND attachments <> ''",
            "DELETE FROM attachments WHERE uploader_id = $1",
            "DELETE FROM friend_requests WHERE from_id = $1 OR to_id = $1",
            "DELETE FROM friendships WHERE user_id = $1 OR friend_id = $1",
            "DELETE FROM blocks WHERE blocker_id = $1 OR blocked_id = $1",
            "DELETE FROM invitations WHERE invitee_id = $1 OR inviter_id = $1",
            "DELETE FROM push_subscriptions WHERE user_id = $1",
            "DELETE FROM join_links WHERE created_by = $1",
            "DELETE FROM mentions WHERE user_id = $1",
            "DELETE FROM former_usernames WHERE user_id = $1",
            "DELETE FROM password_resets WHERE user_id = $1",
            "DELETE FROM reactions WHERE user_id = $1",
        ] {
            sqlx::query(sql).bind(user).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(true)
    }
}
