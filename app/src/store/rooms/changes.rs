//! What changes who is in a room and what the room is: removals and bans,
//! roles and ownership, settings, deletion and departures.

use crate::domain::{Ban, PublicProfile, Role, RoomId, UserId, Visibility};
use crate::store::social::ProfileRow;
use crate::store::{classify, now_millis, Store, StoreError};

#[derive(sqlx::FromRow)]
struct BanRow {
    #[sqlx(flatten)]
    user: ProfileRow,
    by_id: UserId,
    by_username: String,
    by_display_name: String,
    by_avatar_version: Option<i64>,
}

impl BanRow {
    fn ban(self) -> Ban {
        let (user, banned_at) = self.user.split();
        let by = PublicProfile {
            id: self.by_id,
            username: self.by_username,
            display_name: self.by_display_name,
            avatar_version: self.by_avatar_version,
        };
        Ban { user, by, banned_at }
    }
}

/// What removing someone from a room did.
#[derive(Debug, PartialEq, Eq)]
pub enum Removed {
    /// They were a member with this role.
    Member(Role),
    /// They were not a member (a ban still applies).
    NotMember,
    /// Their role is above what the remover may remove (it changed since
    /// it was checked): nothing was done.
    Protected,
}

/// What leaving did to the room.
pub struct Departure {
    pub left_role: Role,
    /// The member who became owner, when the owner left.
    pub new_owner: Option<UserId>,
    /// Whether the room is now empty, and so archived.
    pub archived: bool,
}

impl Store {
    /// Removes `user` from the room if their role is at most `at_most`
    /// (never the owner), and with `banned_by` keeps them out (also when
    /// they are not a member). Their pending invitation goes too.
    ///
    /// Re-checks, where the role cannot change meanwhile, the rule of
    /// [`Role::highest_removable`]: `at_most` is its answer for the actor.
    pub async fn remove_member(
        &self,
        room: RoomId,
        user: UserId,
        at_most: Role,
        banned_by: Option<UserId>,
    ) -> Result<Removed, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        // The role is checked again here, where it cannot change: the owner
        // is never removed, and `at_most` is the highest role removable.
        let role: Option<String> = sqlx::query_scalar(
            "DELETE FROM memberships
             WHERE room_id = $1 AND user_id = $2 AND role <> 'owner' AND (role = 'member' OR $3 = 'admin')
             RETURNING role",
        )
        .bind(room)
        .bind(user)
        .bind(at_most.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let protected = role.is_none()
            && sqlx::query_scalar::<_, i64>("SELECT 1 FROM memberships WHERE room_id = $1 AND user_id = $2")
                .bind(room)
                .bind(user)
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
        if protected {
            tx.rollback().await?;
            return Ok(Removed::Protected);
        }
        if role.is_some() {
            sqlx::query("UPDATE rooms SET member_count = member_count - 1 WHERE id = $1")
                .bind(room)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(by) = banned_by {
            sqlx::query(
                "INSERT INTO bans (room_id, user_id, banned_by, created_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT DO NOTHING",
            )
            .bind(room)
            .bind(user)
            .bind(by)
            .bind(now_millis())
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("DELETE FROM invitations WHERE room_id = $1 AND invitee_id = $2")
            .bind(room)
            .bind(user)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(match role.as_deref().and_then(Role::from_db) {
            Some(role) => Removed::Member(role),
            None => Removed::NotMember,
        })
    }

    pub async fn unban(&self, room: RoomId, user: UserId) -> Result<bool, sqlx::Error> {
        let deleted = sqlx::query("DELETE FROM bans WHERE room_id = $1 AND user_id = $2")
            .bind(room)
            .bind(user)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(deleted > 0)
    }

    /// The users banned from the room, with who banned them, newest first.
    pub async fn bans(&self, room: RoomId) -> Result<Vec<Ban>, sqlx::Error> {
        let rows: Vec<BanRow> = sqlx::query_as(
            "SELECT u.id, u.username, u.display_name, u.avatar_version, b.created_at AS at,
                    x.id AS by_id, x.username AS by_username, x.display_name AS by_display_name,
                    x.avatar_version AS by_avatar_version
             FROM bans b JOIN users u ON u.id = b.user_id JOIN users x ON x.id = b.banned_by
             WHERE b.room_id = $1 ORDER BY b.created_at DESC, u.id",
        )
        .bind(room)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(BanRow::ban).collect())
    }

    /// Sets the role of a member who is not the owner, if `owner` owns the
    /// room. False when `user` is not such a member.
    pub async fn set_role(
        &self,
        room: RoomId,
        owner: UserId,
        user: UserId,
        role: Role,
    ) -> Result<bool, sqlx::Error> {
        // `owner` is checked here too, where it cannot have handed the room
        // over since the caller checked.
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE memberships SET role = $3 WHERE room_id = $1 AND user_id = $2 AND role <> 'owner'
               AND EXISTS (SELECT 1 FROM memberships WHERE room_id = $1 AND user_id = $4 AND role = 'owner')",
        )
        .bind(room)
        .bind(user)
        .bind(role.as_str())
        .bind(owner)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(changed > 0)
    }

    /// Makes member `to` the owner and the owner `from` an admin, at once.
    pub async fn transfer_ownership(
        &self,
        room: RoomId,
        from: UserId,
        to: UserId,
    ) -> Result<bool, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        let promoted = sqlx::query(
            "UPDATE memberships SET role = 'owner' WHERE room_id = $1 AND user_id = $2 AND role <> 'owner'",
        )
        .bind(room)
        .bind(to)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let demoted = sqlx::query(
            "UPDATE memberships SET role = 'admin' WHERE room_id = $1 AND user_id = $2 AND role = 'owner'",
        )
        .bind(room)
        .bind(from)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if promoted == 1 && demoted == 1 {
            tx.commit().await?;
            Ok(true)
        } else {
            tx.rollback().await?;
            Ok(false)
        }
    }

    /// Renames the room and sets its topic and visibility.
    pub async fn update_room(
        &self,
        room: RoomId,
        name: &str,
        name_key: &str,
        topic: &str,
        visibility: Visibility,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE rooms SET name = $2, name_key = $3, topic = $4, visibility = $5 WHERE id = $1")
            .bind(room)
            .bind(name)
            .bind(name_key)
            .bind(topic)
            .bind(visibility.as_str())
            .execute(&self.pool)
            .await
            .map_err(|e| classify(e, &["name_key"]))?;
        Ok(())
    }

    /// Deletes the room: every member goes, pending invitations too, and
    /// the room is archived (its history is kept). Returns who were members.
    pub async fn delete_room(&self, room: RoomId) -> Result<Vec<UserId>, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        let members: Vec<UserId> =
            sqlx::query_scalar("DELETE FROM memberships WHERE room_id = $1 RETURNING user_id")
                .bind(room)
                .fetch_all(&mut *tx)
                .await?;
        sqlx::query("DELETE FROM invitations WHERE room_id = $1").bind(room).execute(&mut *tx).await?;
        sqlx::query("UPDATE rooms SET archived_at = $2, member_count = 0 WHERE id = $1")
            .bind(room)
            .bind(now_millis())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(members)
    }

    /// Removes `user` from the room. An owner who leaves hands the room to
    /// the longest-standing admin, or else the longest-standing member; the
    /// last member to leave archives the room. `None` if not a member.
    pub async fn leave_room(&self, room: RoomId, user: UserId) -> Result<Option<Departure>, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        let role: Option<String> =
            sqlx::query_scalar("DELETE FROM memberships WHERE room_id = $1 AND user_id = $2 RETURNING role")
                .bind(room)
                .bind(user)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(left_role) = role.as_deref().and_then(Role::from_db) else {
            return Ok(None);
        };
        let (remaining,): (i64,) = sqlx::query_as(
            "UPDATE rooms SET member_count = member_count - 1 WHERE id = $1 RETURNING member_count",
        )
        .bind(room)
        .fetch_one(&mut *tx)
        .await?;
        let mut new_owner = None;
        if remaining == 0 {
            sqlx::query("UPDATE rooms SET archived_at = $2 WHERE id = $1")
                .bind(room)
                .bind(now_millis())
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM invitations WHERE room_id = $1").bind(room).execute(&mut *tx).await?;
        } else if left_role == Role::Owner {
            new_owner = sqlx::query_scalar(
                "UPDATE memberships SET role = 'owner'
                 WHERE room_id = $1 AND user_id = (
                     SELECT user_id FROM memberships WHERE room_id = $1
                     ORDER BY CASE role WHEN 'admin' THEN 0 ELSE 1 END, joined_at, user_id
                     LIMIT 1)
                 RETURNING user_id",
            )
            .bind(room)
            .fetch_optional(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Some(Departure { left_role, new_owner, archived: remaining == 0 }))
    }
}
