//! Friends, friend requests, blocks and the users' messaging setting.

use super::messages::refuses_messages;
use super::{now_millis, Store};
use crate::domain::{DmPolicy, PublicProfile, UserId};
use sqlx::{Any, Transaction};
use std::sync::LazyLock;

/// A user with the time of the row that lists them.
#[derive(sqlx::FromRow)]
pub(super) struct ProfileRow {
    id: UserId,
    username: String,
    display_name: String,
    avatar_version: Option<i64>,
    at: i64,
}

impl ProfileRow {
    pub(super) fn split(self) -> (PublicProfile, i64) {
        let profile = PublicProfile {
            id: self.id,
            username: self.username,
            display_name: self.display_name,
            avatar_version: self.avatar_version,
        };
        (profile, self.at)
    }
}

fn profiles(rows: Vec<ProfileRow>) -> Vec<(PublicProfile, i64)> {
    rows.into_iter().map(ProfileRow::split).collect()
}

/// What two users are to each other, seen from `a`.
#[derive(Debug, Default)]
pub struct Ties {
    pub friends: bool,
    /// `a` asked `b` to be friends.
    pub requested: bool,
    /// `b` asked `a`.
    pub requested_by: bool,
    /// `a` blocked `b`.
    pub blocks: bool,
    /// `b` blocked `a`.
    pub blocked_by: bool,
}

/// What sending a friend request did.
#[derive(Debug, PartialEq, Eq)]
pub enum RequestOutcome {
    Sent,
    /// Already requested (or, since the caller checked, just blocked or
    /// befriended): nothing changed.
    Duplicate,
    /// The other person had asked too: they are friends now.
    Friends,
}

impl Store {
    pub async fn ties(&self, a: UserId, b: UserId) -> Result<Ties, sqlx::Error> {
        let (friends, requested, requested_by, blocks, blocked_by): (i64, i64, i64, i64, i64) = sqlx::query_as(
            "SELECT
                CAST(EXISTS (SELECT 1 FROM friendships WHERE user_id = $1 AND friend_id = $2) AS INTEGER),
                CAST(EXISTS (SELECT 1 FROM friend_requests WHERE from_id = $1 AND to_id = $2) AS INTEGER),
                CAST(EXISTS (SELECT 1 FROM friend_requests WHERE from_id = $2 AND to_id = $1) AS INTEGER),
                CAST(EXISTS (SELECT 1 FROM blocks WHERE blocker_id = $1 AND blocked_id = $2) AS INTEGER),
                CAST(EXISTS (SELECT 1 FROM blocks WHERE blocker_id = $2 AND blocked_id = $1) AS INTEGER)",
        )
        .bind(a)
        .bind(b)
        .fetch_one(&self.pool)
        .await?;
        Ok(Ties {
            friends: friends != 0,
            requested: requested != 0,
            requested_by: requested_by != 0,
            blocks: blocks != 0,
            blocked_by: blocked_by != 0,
        })
    }

    pub async fn refuses_messages(&self, to: UserId, from: UserId) -> Result<bool, sqlx::Error> {
        static QUERY: LazyLock<String> =
            LazyLock::new(|| format!("SELECT CAST({} AS INTEGER)", refuses_messages("$1", "$2")));
        let refused: i64 = sqlx::query_scalar(&QUERY).bind(to).bind(from).fetch_one(&self.pool).await?;
        Ok(refused != 0)
    }

    pub async fn friend_ids_of(&self, user: UserId) -> Result<Vec<UserId>, sqlx::Error> {
        sqlx::query_scalar("SELECT friend_id FROM friendships WHERE user_id = $1")
            .bind(user)
            .fetch_all(&self.pool)
            .await
    }

    pub async fn dm_policy(&self, user: UserId) -> Result<DmPolicy, sqlx::Error> {
        let policy: Option<String> = sqlx::query_scalar("SELECT dm_policy FROM users WHERE id = $1")
            .bind(user)
            .fetch_optional(&self.pool)
            .await?;
        Ok(policy.as_deref().and_then(DmPolicy::from_db).unwrap_or_default())
    }

    pub async fn set_dm_policy(&self, user: UserId, policy: DmPolicy) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE users SET dm_policy = $2 WHERE id = $1")
            .bind(user)
            .bind(policy.as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records a request from `from` to `to`; when `to` had already asked
    /// `from`, both requests become a friendship instead.
    pub async fn request_friend(&self, from: UserId, to: UserId) -> Result<RequestOutcome, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        let crossing = sqlx::query("DELETE FROM friend_requests WHERE from_id = $1 AND to_id = $2")
            .bind(to)
            .bind(from)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0;
        let outcome = if crossing {
            befriend(&mut tx, from, to).await?;
            RequestOutcome::Friends
        } else {
            // Checked again where nothing can change: no block either way,
            // not friends already.
            let inserted = sqlx::query(
                "INSERT INTO friend_requests (from_id, to_id, created_at)
                 SELECT $1, $2, $3
                 WHERE NOT EXISTS (SELECT 1 FROM blocks
                                   WHERE (blocker_id = $1 AND blocked_id = $2) OR (blocker_id = $2 AND blocked_id = $1))
                   AND NOT EXISTS (SELECT 1 FROM friendships WHERE user_id = $1 AND friend_id = $2)
                 ON CONFLICT DO NOTHING",
            )
            .bind(from)
            .bind(to)
            .bind(now_millis())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted > 0 {
                RequestOutcome::Sent
            } else {
                RequestOutcome::Duplicate
            }
        };
        tx.commit().await?;
        Ok(outcome)
    }

    /// Turns the request from `from` to `to` into a friendship. False when
    /// there was no such request.
    pub async fn accept_friend(&self, from: UserId, to: UserId) -> Result<bool, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        let found = sqlx::query("DELETE FROM friend_requests WHERE from_id = $1 AND to_id = $2")
            .bind(from)
            .bind(to)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0;
        if found {
            befriend(&mut tx, from, to).await?;
        }
        tx.commit().await?;
        Ok(found)
    }

    /// Deletes the request from `from` to `to` (declined or cancelled).
    pub async fn delete_friend_request(&self, from: UserId, to: UserId) -> Result<bool, sqlx::Error> {
        let deleted = sqlx::query("DELETE FROM friend_requests WHERE from_id = $1 AND to_id = $2")
            .bind(from)
            .bind(to)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(deleted > 0)
    }

    pub async fn remove_friend(&self, a: UserId, b: UserId) -> Result<bool, sqlx::Error> {
        let deleted = sqlx::query(
            "DELETE FROM friendships WHERE (user_id = $1 AND friend_id = $2) OR (user_id = $2 AND friend_id = $1)",
        )
        .bind(a)
        .bind(b)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(deleted > 0)
    }

    /// The friends of `user`, by name.
    pub async fn friends_of(&self, user: UserId) -> Result<Vec<(PublicProfile, i64)>, sqlx::Error> {
        let rows = sqlx::query_as(
            "SELECT u.id, u.username, u.display_name, u.avatar_version, f.since AS at
             FROM friendships f JOIN users u ON u.id = f.friend_id
             WHERE f.user_id = $1 ORDER BY u.username_key",
        )
        .bind(user)
        .fetch_all(&self.pool)
        .await?;
        Ok(profiles(rows))
    }

    /// Pending requests to `user` (`incoming`) or from them, newest first.
    pub async fn friend_requests(
        &self,
        user: UserId,
        incoming: bool,
    ) -> Result<Vec<(PublicProfile, i64)>, sqlx::Error> {
        let (mine, theirs) = if incoming { ("to_id", "from_id") } else { ("from_id", "to_id") };
        let rows = sqlx::query_as(&format!(
            "SELECT u.id, u.username, u.display_name, u.avatar_version, r.created_at AS at
             FROM friend_requests r JOIN users u ON u.id = r.{theirs}
             WHERE r.{mine} = $1 ORDER BY r.created_at DESC, u.id"
        ))
        .bind(user)
        .fetch_all(&self.pool)
        .await?;
        Ok(profiles(rows))
    }

    /// How many friend requests and invitations wait for `user`.
    pub async fn pending_counts(&self, user: UserId) -> Result<(i64, i64), sqlx::Error> {
        sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM friend_requests WHERE to_id = $1),
                    (SELECT COUNT(*) FROM invitations i JOIN rooms r ON r.id = i.room_id
                     WHERE i.invitee_id = $1 AND r.archived_at IS NULL)",
        )
        .bind(user)
        .fetch_one(&self.pool)
        .await
    }

    /// `blocker` blocks `blocked`: any friendship and request between them
    /// ends, and invitations from `blocked` to `blocker` are withdrawn.
    pub async fn block(&self, blocker: UserId, blocked: UserId) -> Result<(), sqlx::Error> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO blocks (blocker_id, blocked_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(blocker)
        .bind(blocked)
        .bind(now_millis())
        .execute(&mut *tx)
        .await?;
        for statement in [
            "DELETE FROM friendships WHERE (user_id = $1 AND friend_id = $2) OR (user_id = $2 AND friend_id = $1)",
            "DELETE FROM friend_requests WHERE (from_id = $1 AND to_id = $2) OR (from_id = $2 AND to_id = $1)",
            "DELETE FROM invitations WHERE invitee_id = $1 AND inviter_id = $2",
        ] {
            sqlx::query(statement).bind(blocker).bind(blocked).execute(&mut *tx).await?;
        }
        tx.commit().await
    }

    pub async fn unblock(&self, blocker: UserId, blocked: UserId) -> Result<bool, sqlx::Error> {
        let deleted = sqlx::query("DELETE FROM blocks WHERE blocker_id = $1 AND blocked_id = $2")
            .bind(blocker)
            .bind(blocked)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(deleted > 0)
    }

    /// The users `user` blocked, by name.
    pub async fn blocked_by(&self, user: UserId) -> Result<Vec<PublicProfile>, sqlx::Error> {
        let rows = sqlx::query_as(
            "SELECT u.id, u.username, u.display_name, u.avatar_version, b.created_at AS at
             FROM blocks b JOIN users u ON u.id = b.blocked_id
             WHERE b.blocker_id = $1 ORDER BY u.username_key",
        )
        .bind(user)
        .fetch_all(&self.pool)
        .await?;
        Ok(profiles(rows).into_iter().map(|(profile, _)| profile).collect())
    }
}

async fn befriend(tx: &mut Transaction<'_, Any>, a: UserId, b: UserId) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO friendships (user_id, friend_id, since) VALUES ($1, $2, $3), ($2, $1, $3)
         ON CONFLICT DO NOTHING",
    )
    .bind(a)
    .bind(b)
    .bind(now_millis())
    .execute(&mut **tx)
    .await?;
    Ok(())
}
