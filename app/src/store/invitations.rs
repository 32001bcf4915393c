//! Invitations into rooms.

use super::rooms::add_membership;
use super::social::ProfileRow;
use super::{now_millis, Store};
use crate::domain::{Invitation, PublicProfile, Role, RoomId, UserId, Visibility};

#[derive(sqlx::FromRow)]
struct InvitationRow {
    room_id: RoomId,
    room_name: String,
    visibility: String,
    member_count: i64,
    #[sqlx(flatten)]
    invitee: ProfileRow,
    inviter_id: UserId,
    inviter_username: String,
    inviter_display_name: String,
    inviter_avatar_version: Option<i64>,
}

impl InvitationRow {
    fn invitation(self) -> Invitation {
        let (invitee, sent_at) = self.invitee.split();
        Invitation {
            room: self.room_id,
            room_name: self.room_name,
            visibility: Visibility::from_db(&self.visibility).unwrap_or(Visibility::Private),
            member_count: self.member_count,
            inviter: PublicProfile {
                id: self.inviter_id,
                username: self.inviter_username,
                display_name: self.inviter_display_name,
                avatar_version: self.inviter_avatar_version,
            },
            invitee,
            sent_at,
        }
    }
}

const INVITATION_SELECT: &str = "
    SELECT r.id AS room_id, r.name AS room_name, r.visibility, r.member_count,
           u.id, u.username, u.display_name, u.avatar_version, i.created_at AS at,
           x.id AS inviter_id, x.username AS inviter_username, x.display_name AS inviter_display_name,
           x.avatar_version AS inviter_avatar_version
    FROM invitations i
    JOIN rooms r ON r.id = i.room_id
    JOIN users u ON u.id = i.invitee_id
    JOIN users x ON x.id = i.inviter_id";

impl Store {
    /// Records an invitation, unless `invitee` is already invited, a member
    /// or banned, either blocked the other, or the room is archived: all
    /// checked in the statement that writes it (the caller checked them
    /// before, to say which). False when nothing was recorded.
    pub async fn invite(&self, room: RoomId, invitee: UserId, inviter: UserId) -> Result<bool, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO invitations (room_id, invitee_id, inviter_id, created_at)
             SELECT $1, $2, $3, $4 FROM rooms r
             WHERE r.id = $1 AND r.archived_at IS NULL
               AND NOT EXISTS (SELECT 1 FROM memberships WHERE room_id = $1 AND user_id = $2)
               AND NOT EXISTS (SELECT 1 FROM bans WHERE room_id = $1 AND user_id = $2)
               AND NOT EXISTS (SELECT 1 FROM blocks
                               WHERE (blocker_id = $2 AND blocked_id = $3) OR (blocker_id = $3 AND blocked_id = $2))
             ON CONFLICT DO NOTHING",
        )
        .bind(room)
        .bind(invitee)
        .bind(inviter)
        .bind(now_millis())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(inserted > 0)
    }

    pub async fn invitation(&self, room: RoomId, invitee: UserId) -> Result<Option<Invitation>, sqlx::Error> {
        let row: Option<InvitationRow> =
            sqlx::query_as(&format!("{INVITATION_SELECT} WHERE i.room_id = $1 AND i.invitee_id = $2"))
                .bind(room)
                .bind(invitee)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(InvitationRow::invitation))
    }

    /// The invitations waiting for `user`, newest first.
    pub async fn invitations_for(&self, user: UserId) -> Result<Vec<Invitation>, sqlx::Error> {
        let rows: Vec<InvitationRow> = sqlx::query_as(&format!(
            "{INVITATION_SELECT} WHERE i.invitee_id = $1 AND r.archived_at IS NULL
             ORDER BY i.created_at DESC, r.id"
        ))
        .bind(user)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(InvitationRow::invitation).collect())
    }

    /// The pending invitations into a room, newest first.
    pub async fn invitations_into(&self, room: RoomId) -> Result<Vec<Invitation>, sqlx::Error> {
        let rows: Vec<InvitationRow> = sqlx::query_as(&format!(
            "{INVITATION_SELECT} WHERE i.room_id = $1 ORDER BY i.created_at DESC, u.id"
        ))
        .bind(room)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(InvitationRow::invitation).collect())
    }

    /// Deletes an invitation (declined or revoked); false if there was none.
    pub async fn delete_invitation(&self, room: RoomId, invitee: UserId) -> Result<bool, sqlx::Error> {
        let deleted = sqlx::query("DELETE FROM invitations WHERE room_id = $1 AND invitee_id = $2")
            .bind(room)
            .bind(invitee)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(deleted > 0)
    }

    /// Turns the invitation into a membership, in one transaction. False
    /// when there was no invitation (or the room is gone).
    pub async fn accept_invitation(&self, room: RoomId, invitee: UserId) -> Result<bool, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        let found = sqlx::query("DELETE FROM invitations WHERE room_id = $1 AND invitee_id = $2")
            .bind(room)
            .bind(invitee)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0;
        let joined = found && add_membership(&mut tx, room, invitee, Role::Member).await?;
        tx.commit().await?;
        Ok(joined)
    }
}
