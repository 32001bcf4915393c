//! What the instance admins read and change: the users, and who else
//! administers the server.

use super::rooms::escape_like;
use super::Store;
use crate::domain::{
    AdminRoom, AdminUser, InstanceRole, InstanceSettings, PublicProfile, RoomId, Seq, UserId, Visibility,
};

#[derive(sqlx::FromRow)]
struct AdminUserRow {
    id: UserId,
    username: String,
    display_name: String,
    avatar_version: Option<i64>,
    role: String,
    created_at: i64,
    rooms: i64,
    deactivated_at: Option<i64>,
    last_seen_at: Option<i64>,
    invited_by: Option<String>,
}

#[derive(sqlx::FromRow)]
struct AdminRoomRow {
    id: RoomId,
    name: String,
    visibility: String,
    member_count: i64,
    created_at: i64,
    archived_at: Option<i64>,
    owner: Option<String>,
}

/// What changing someone's instance role or standing did.
#[derive(Debug, PartialEq, Eq)]
pub enum RoleSet {
    Done,
    NoSuchUser,
    /// Refused: they are the last admin (the rule of `services::admin`,
    /// checked again here in the write transaction).
    LastAdmin,
    /// Refused: an admin is not deactivated (the same rule's other half).
    IsAdmin,
    /// Refused: a deactivated account is not made an admin (the same rule,
    /// from the other side).
    Deactivated,
}

impl Store {
    /// Up to `limit` users after `after`, oldest account first, whose
    /// username or display name contains `pattern` (already folded to lower
    /// case; empty: everyone).
    pub async fn admin_users(
        &self,
        pattern: &str,
        after: Option<UserId>,
        limit: usize,
    ) -> Result<Vec<AdminUser>, sqlx::Error> {
        let like = format!("%{}%", escape_like(pattern));
        let rows: Vec<AdminUserRow> = sqlx::query_as(
            "SELECT u.id, u.username, u.display_name, u.avatar_version, u.role, u.created_at, u.deactivated_at, u.last_seen_at,
                    (SELECT COUNT(*) FROM memberships m WHERE m.user_id = u.id) AS rooms,
                    i.username AS invited_by
             FROM users u LEFT JOIN users i ON i.id = u.invited_by
             WHERE u.id > $1 AND (u.username_key LIKE $2 ESCAPE '\\' OR LOWER(u.display_name) LIKE $2 ESCAPE '\\')
             ORDER BY u.id LIMIT $3",
        )
        .bind(after.unwrap_or(UserId(0)))
        .bind(like)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| AdminUser {
                profile: PublicProfile {
                    id: row.id,
                    username: row.username,
                    display_name: row.display_name,
                    avatar_version: row.avatar_version,
                },
                role: InstanceRole::from_db(&row.role).unwrap_or_default(),
                created_at: row.created_at,
                rooms: row.rooms,
                deactivated: row.deactivated_at.is_some(),
                last_seen: row.last_seen_at,
                invited_by: row.invited_by,
            })
            .collect())
    }

    /// Makes `user` an admin or a member; never takes the role from the
    /// last admin.
    pub async fn set_instance_role(&self, user: UserId, role: InstanceRole) -> Result<RoleSet, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        // A deleted account is no one's to promote (`Store::erase_user`).
        let current: Option<(String, Option<i64>)> =
            sqlx::query_as("SELECT role, deactivated_at FROM users WHERE id = $1 AND deleted_at IS NULL")
                .bind(user)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((current, deactivated_at)) = current else { return Ok(RoleSet::NoSuchUser) };
        if role == InstanceRole::Admin && deactivated_at.is_some() {
            return Ok(RoleSet::Deactivated);
        }
        if current == InstanceRole::Admin.as_str() && role != InstanceRole::Admin {
            let admins: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin'")
                .fetch_one(&mut *tx)
                .await?;
            if admins <= 1 {
                return Ok(RoleSet::LastAdmin);
            }
        }
        sqlx::query("UPDATE users SET role = $2 WHERE id = $1")
            .bind(user)
            .bind(role.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(RoleSet::Done)
    }

    /// Deactivates `user` (now) or reactivates them; never an admin.
    pub async fn set_deactivated(&self, user: UserId, deactivated: bool) -> Result<RoleSet, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        // A deleted account stays deactivated.
        let role: Option<String> =
            sqlx::query_scalar("SELECT role FROM users WHERE id = $1 AND deleted_at IS NULL")
                .bind(user)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(role) = role else { return Ok(RoleSet::NoSuchUser) };
        if deactivated && role == InstanceRole::Admin.as_str() {
            return Ok(RoleSet::IsAdmin);
        }
        sqlx::query("UPDATE users SET deactivated_at = $2 WHERE id = $1")
            .bind(user)
            .bind(deactivated.then(super::now_millis))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(RoleSet::Done)
    }

    pub async fn instance_settings(&self) -> Result<InstanceSettings, sqlx::Error> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT name, value FROM instance_settings").fetch_all(&self.pool).await?;
        Ok(InstanceSettings::from_rows(rows.iter().map(|(name, value)| (name.as_str(), value.as_str()))))
    }

    pub async fn set_instance_settings(&self, settings: InstanceSettings) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        for (name, value) in settings.to_rows() {
            sqlx::query(
                "INSERT INTO instance_settings (name, value) VALUES ($1, $2)
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            )
            .bind(name)
            .bind(value)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }

    /// Up to `limit` rooms (not direct conversations) after `after`, oldest
    /// first, deleted ones included.
    pub async fn admin_rooms(
        &self,
        after: Option<RoomId>,
        limit: usize,
    ) -> Result<Vec<AdminRoom>, sqlx::Error> {
        let rows: Vec<AdminRoomRow> = sqlx::query_as(
            "SELECT r.id, r.name, r.visibility, r.member_count, r.created_at, r.archived_at,
                    (SELECT u.username FROM memberships m JOIN users u ON u.id = m.user_id
                     WHERE m.room_id = r.id AND m.role = 'owner') AS owner
             FROM rooms r WHERE r.kind = 'room' AND r.id > $1 ORDER BY r.id LIMIT $2",
        )
        .bind(after.unwrap_or(RoomId(0)))
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| AdminRoom {
                id: row.id,
                name: row.name,
                visibility: Visibility::from_db(&row.visibility).unwrap_or(Visibility::Private),
                member_count: row.member_count,
                created_at: row.created_at,
                owner: row.owner,
                deleted: row.archived_at.is_some(),
            })
            .collect())
    }

    /// A room's name and its owner, unless it is a direct conversation or
    /// deleted.
    pub async fn live_room_owner(
        &self,
        room: RoomId,
    ) -> Result<Option<(String, Option<UserId>)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT r.name, (SELECT m.user_id FROM memberships m WHERE m.room_id = r.id AND m.role = 'owner')
             FROM rooms r WHERE r.id = $1 AND r.kind = 'room' AND r.archived_at IS NULL",
        )
        .bind(room)
        .fetch_optional(&self.pool)
        .await
    }

    /// Up to `limit` of `author`'s messages that are not deleted, by room.
    pub async fn live_messages_of(
        &self,
        author: UserId,
        limit: usize,
    ) -> Result<Vec<(RoomId, Seq)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT room_id, seq FROM messages WHERE author_id = $1 AND kind = 'text' AND deleted_at IS NULL
             ORDER BY room_id, seq LIMIT $2",
        )
        .bind(author)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await
    }

    /// The usernames of the instance admins.
    pub async fn admin_names(&self) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query_scalar("SELECT username FROM users WHERE role = 'admin' ORDER BY id")
            .fetch_all(&self.pool)
            .await
    }
}
