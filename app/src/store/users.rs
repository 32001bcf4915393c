//! Users and their avatars.

use super::{classify, now_millis, Store, StoreError};
use crate::domain::{Account, InstanceRole, PublicProfile, UserId};

/// A user row as the server sees it, password hash included. Deliberately
/// not `Serialize`, and its `Debug` hides the hash.
#[derive(Clone, sqlx::FromRow)]
pub struct UserRecord {
    pub id: UserId,
    pub username: String,
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
    pub avatar_version: Option<i64>,
    /// `domain::InstanceRole`'s stored form.
    pub role: String,
    /// When an admin deactivated the account (see `services::admin`).
    pub deactivated_at: Option<i64>,
}

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl UserRecord {
    pub fn account(&self) -> Account {
        Account {
            id: self.id,
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            email: self.email.clone(),
            avatar_version: self.avatar_version,
            admin: self.is_admin(),
        }
    }

    pub fn is_active(&self) -> bool {
        self.deactivated_at.is_none()
    }

    /// Whether they administer this server.
    pub fn is_admin(&self) -> bool {
        InstanceRole::from_db(&self.role) == Some(InstanceRole::Admin)
    }

    pub fn public(&self) -> PublicProfile {
        self.account().public()
    }
}

pub struct NewUser<'a> {
    pub username: &'a str,
    pub username_key: &'a str,
    pub email: &'a str,
    pub email_key: &'a str,
    pub password_hash: &'a str,
    /// The join link it is made with, if any.
    pub join_code: Option<&'a str>,
}

/// What making an account did.
#[derive(Debug)]
pub enum NewAccount {
    Made(UserRecord),
    /// Refused: the join link is unknown or not usable now.
    JoinLinkUnusable,
}

impl NewAccount {
    /// The account, if it was made.
    pub fn made(self) -> Option<UserRecord> {
        match self {
            Self::Made(user) => Some(user),
            Self::JoinLinkUnusable => None,
        }
    }
}

pub struct StoredAvatar {
    pub content_type: String,
    pub image: Vec<u8>,
}

const USER_COLUMNS: &str =
    "id, username, email, display_name, password_hash, avatar_version, role, deactivated_at";

impl Store {
    /// Adds a user; the first account of a new database is made an
    /// instance admin (`domain::InstanceRole`), in a write transaction so
    /// that two first sign-ups at once make one admin.
    pub async fn insert_user(&self, user: NewUser<'_>) -> Result<NewAccount, StoreError> {
        let mut tx = self.begin_write().await?;
        // A former username stays its owner's (`Store::update_profile`).
        if former_owner(&mut tx, user.username_key).await?.is_some() {
            return Err(StoreError::Duplicate("username_key"));
        }
        let invited_by = match user.join_code {
            Some(code) => match super::join_links::use_join_link(&mut tx, code).await? {
                Some(maker) => Some(maker),
                None => return Ok(NewAccount::JoinLinkUnusable),
            },
            None => None,
        };
        let inserted = sqlx::query_as(&format!(
            "INSERT INTO users (username, username_key, email, email_key, password_hash, created_at, invited_by, role)
             VALUES ($1, $2, $3, $4, $5, $6, $7,
                     CASE WHEN EXISTS (SELECT 1 FROM users) THEN 'member' ELSE 'admin' END)
             RETURNING {USER_COLUMNS}"
        ))
        .bind(user.username)
        .bind(user.username_key)
        .bind(user.email)
        .bind(user.email_key)
        .bind(user.password_hash)
        .bind(now_millis())
        .bind(invited_by)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| classify(e, &["username_key", "email_key"]))?;
        tx.commit().await?;
        Ok(NewAccount::Made(inserted))
    }

    /// Records that `user` has Salon open now, unless that was recorded
    /// less than `within_ms` ago (one write per user per `within_ms`).
    pub async fn touch_last_seen(&self, user: UserId, within_ms: i64) -> Result<(), sqlx::Error> {
        let now = now_millis();
        sqlx::query("UPDATE users SET last_seen_at = $2 WHERE id = $1 AND (last_seen_at IS NULL OR last_seen_at < $3)")
            .bind(user)
            .bind(now)
            .bind(now - within_ms)
            .execute(&self.pool)
            .await
            .map(drop)
    }

    pub async fn user_by_id(&self, id: UserId) -> Result<Option<UserRecord>, sqlx::Error> {
        sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
    }

    pub async fn user_by_username_key(&self, key: &str) -> Result<Option<UserRecord>, sqlx::Error> {
        sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE username_key = $1"))
            .bind(key)
            .fetch_optional(&self.pool)
            .await
    }

    pub async fn user_by_email_key(&self, key: &str) -> Result<Option<UserRecord>, sqlx::Error> {
        sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE email_key = $1"))
            .bind(key)
            .fetch_optional(&self.pool)
            .await
    }

    /// Sets the display name and email, and renames the user when
    /// `rename` (username, key) says so. A former username stays theirs:
    /// its profile link keeps leading to them, and no one else takes it.
    pub async fn update_profile(
        &self,
        id: UserId,
        display_name: &str,
        email: &str,
        email_key: &str,
        rename: Option<(&str, &str)>,
    ) -> Result<UserRecord, StoreError> {
        let mut tx = self.begin_write().await?;
        if let Some((username, key)) = rename {
            let current: Option<String> = sqlx::query_scalar("SELECT username_key FROM users WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            if current.as_deref().is_some_and(|current| current != key) {
                if former_owner(&mut tx, key).await?.is_some_and(|owner| owner != id) {
                    return Err(StoreError::Duplicate("username_key"));
                }
                sqlx::query(
                    "INSERT INTO former_usernames (username_key, user_id, changed_at) VALUES ($1, $2, $3)
                     ON CONFLICT (username_key) DO NOTHING",
                )
                .bind(current.as_deref())
                .bind(id)
                .bind(now_millis())
                .execute(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM former_usernames WHERE username_key = $1")
                    .bind(key)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query("UPDATE users SET username = $2, username_key = $3 WHERE id = $1")
                .bind(id)
                .bind(username)
                .bind(key)
                .execute(&mut *tx)
                .await
                .map_err(|e| classify(e, &["username_key"]))?;
        }
        let user = sqlx::query_as(&format!(
            "UPDATE users SET display_name = $2, email = $3, email_key = $4 WHERE id = $1
             RETURNING {USER_COLUMNS}"
        ))
        .bind(id)
        .bind(display_name)
        .bind(email)
        .bind(email_key)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| classify(e, &["email_key"]))?;
        tx.commit().await?;
        Ok(user)
    }

    /// Who used to be called `key` (a username's key), if anyone.
    pub async fn former_username_owner(&self, key: &str) -> Result<Option<UserId>, sqlx::Error> {
        sqlx::query_scalar("SELECT user_id FROM former_usernames WHERE username_key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
    }

    pub async fn update_password_hash(
        &self,
        id: UserId,
        password_hash: &str,
    ) -> Result<UserRecord, sqlx::Error> {
        sqlx::query_as(&format!("UPDATE users SET password_hash = $2 WHERE id = $1 RETURNING {USER_COLUMNS}"))
            .bind(id)
            .bind(password_hash)
            .fetch_one(&self.pool)
            .await
    }

    /// Stores a new avatar and bumps the user's avatar version, in one
    /// transaction so that the served version always has its image.
    pub async fn set_avatar(
        &self,
        id: UserId,
        content_type: &str,
        image: &[u8],
    ) -> Result<UserRecord, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let user: UserRecord = sqlx::query_as(&format!(
            "UPDATE users SET avatar_version = COALESCE(avatar_version, 0) + 1 WHERE id = $1
             RETURNING {USER_COLUMNS}"
        ))
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO avatars (user_id, version, content_type, image) VALUES ($1, $2, $3, $4)
             ON CONFLICT (user_id) DO UPDATE SET version = excluded.version,
                 content_type = excluded.content_type, image = excluded.image",
        )
        .bind(id)
        .bind(user.avatar_version)
        .bind(content_type)
        .bind(image)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(user)
    }

    pub async fn avatar(&self, id: UserId, version: i64) -> Result<Option<StoredAvatar>, sqlx::Error> {
        let row: Option<(String, Vec<u8>)> =
            sqlx::query_as("SELECT content_type, image FROM avatars WHERE user_id = $1 AND version = $2")
                .bind(id)
                .bind(version)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(content_type, image)| StoredAvatar { content_type, image }))
    }
}

async fn former_owner(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    key: &str,
) -> Result<Option<UserId>, sqlx::Error> {
    sqlx::query_scalar("SELECT user_id FROM former_usernames WHERE username_key = $1")
        .bind(key)
        .fetch_optional(&mut **tx)
        .await
}
