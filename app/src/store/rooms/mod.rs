//! Rooms and memberships: creating, reading, joining; the changes that
//! remove people or rooms are in [`changes`].

mod changes;

pub use changes::{Departure, Removed};

use crate::domain::{
    shown_name, MessagePreview, Notify, PublicProfile, Role, RoomId, RoomSummary, Seq, UserId, Visibility,
};
use crate::store::{classify, now_millis, Store, StoreError};
use sqlx::{Any, Transaction};

/// A room row joined with the viewer's membership and the latest message.
#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: RoomId,
    name: String,
    topic: String,
    visibility: String,
    member_count: i64,
    last_seq: Seq,
    last_activity: i64,
    role: Option<String>,
    unread: i64,
    mentions: i64,
    read_through: Option<Seq>,
    last_username: Option<String>,
    last_display_name: Option<String>,
    last_body: Option<String>,
    last_attachments: Option<String>,
    last_message_seq: Seq,
    last_deleted_at: Option<i64>,
    peer_id: Option<UserId>,
    peer_username: Option<String>,
    peer_display_name: Option<String>,
    peer_avatar_version: Option<i64>,
    banned: i64,
    invited: i64,
    notify: Option<String>,
    kind: String,
}

/// A room as one user sees it, with what keeps them out of it or lets
/// them in.
pub struct Standing {
    pub summary: RoomSummary,
    pub banned: bool,
    pub invited: bool,
}

/// What decides whether a user may read a room (the rule is
/// `services::rooms::may_read`), without the counts of a [`Standing`].
pub struct Admission {
    pub visibility: Visibility,
    pub role: Option<Role>,
    pub banned: bool,
}

/// An [`Admission`]'s row: `$1` is the viewer, `$2` the room.
pub(in crate::store) const ADMISSION: &str = "
    SELECT r.visibility, m.role,
           CAST(EXISTS (SELECT 1 FROM bans b WHERE b.room_id = r.id AND b.user_id = $1) AS INTEGER)
    FROM rooms r LEFT JOIN memberships m ON m.room_id = r.id AND m.user_id = $1
    WHERE r.id = $2 AND r.archived_at IS NULL";

/// What lets `viewer` read `room`, read on `pool` (see [`Store::admission`]).
pub(in crate::store) async fn admission_on(
    pool: &sqlx::AnyPool,
    room: RoomId,
    viewer: UserId,
) -> Result<Option<Admission>, sqlx::Error> {
    let row = sqlx::query_as(ADMISSION).bind(viewer).bind(room).fetch_optional(pool).await?;
    Ok(row.map(Admission::from_row))
}

impl Admission {
    pub(in crate::store) fn from_row((visibility, role, banned): (String, Option<String>, i64)) -> Self {
        Self {
            visibility: Visibility::from_db(&visibility).unwrap_or(Visibility::Private),
            role: role.as_deref().and_then(Role::from_db),
            banned: banned != 0,
        }
    }
}

impl SummaryRow {
    fn summary(self) -> RoomSummary {
        self.standing().summary
    }

    fn standing(self) -> Standing {
        let last_message = match (self.last_username, self.last_display_name, self.last_body) {
            (Some(username), Some(display_name), Some(body)) => Some(MessagePreview {
                author: shown_name(username, display_name),
                text: crate::store::stored_preview(&body, self.last_attachments.as_deref()),
                seq: self.last_message_seq,
                deleted: self.last_deleted_at.is_some(),
            }),
            _ => None,
        };
        let peer = match (self.peer_id, self.peer_username, self.peer_display_name) {
            (Some(id), Some(username), Some(display_name)) => {
                Some(PublicProfile { id, username, display_name, avatar_version: self.peer_avatar_version })
            }
            _ => None,
        };
        let summary = RoomSummary {
            id: self.id,
            name: self.name,
            topic: self.topic,
            visibility: Visibility::from_db(&self.visibility).unwrap_or(Visibility::Private),
            member_count: self.member_count,
            last_seq: self.last_seq,
            last_activity: self.last_activity,
            last_message,
            unread: self.unread.max(0),
            read_through: self.read_through.unwrap_or(0),
            mentions: self.mentions,
            role: self.role.as_deref().and_then(Role::from_db),
            notify: Notify::resolve(self.notify.as_deref(), self.kind == "direct"),
            peer,
            peer_online: false,
        };
        Standing { summary, banned: self.banned != 0, invited: self.invited != 0 }
    }
}

/// `$1` is the viewer. Callers add the FROM's first table and the WHERE.
const SUMMARY_COLUMNS: &str = "
    r.id, r.name, r.topic, r.visibility, r.member_count, r.last_seq, r.last_activity,
    r.kind, m.role, m.last_read_seq AS read_through, m.notify,
    (SELECT COUNT(*) FROM (SELECT 1 FROM messages x
                           WHERE x.room_id = r.id AND x.seq > m.last_read_seq AND x.author_id <> $1
                           LIMIT 1000) AS n) AS unread,
    (SELECT COUNT(*) FROM mentions mn
     WHERE mn.user_id = $1 AND mn.room_id = r.id AND mn.seq > m.last_read_seq) AS mentions,
    u.username AS last_username, u.display_name AS last_display_name, msg.body AS last_body,
    msg.attachments AS last_attachments, r.last_message_seq, msg.deleted_at AS last_deleted_at,
    pu.id AS peer_id, pu.username AS peer_username, pu.display_name AS peer_display_name,
    pu.avatar_version AS peer_avatar_version,
    CAST(EXISTS (SELECT 1 FROM bans b WHERE b.room_id = r.id AND b.user_id = $1) AS INTEGER) AS banned,
    CAST(EXISTS (SELECT 1 FROM invitations i WHERE i.room_id = r.id AND i.invitee_id = $1) AS INTEGER) AS invited";
const SUMMARY_JOINS: &str = "
    LEFT JOIN messages msg ON msg.room_id = r.id AND msg.seq = r.last_message_seq
    LEFT JOIN users u ON u.id = msg.author_id
    LEFT JOIN memberships pm ON r.kind = 'direct' AND pm.room_id = r.id AND pm.user_id <> $1
    LEFT JOIN users pu ON pu.id = pm.user_id";

/// A member row joined with the user.
#[derive(sqlx::FromRow)]
struct MemberRow {
    id: UserId,
    username: String,
    display_name: String,
    avatar_version: Option<i64>,
    role: String,
}

impl MemberRow {
    fn member(self) -> (PublicProfile, Role) {
        let role = Role::from_db(&self.role).unwrap_or(Role::Member);
        let profile = PublicProfile {
            id: self.id,
            username: self.username,
            display_name: self.display_name,
            avatar_version: self.avatar_version,
        };
        (profile, role)
    }
}

const MEMBER_SELECT: &str = "
    SELECT u.id, u.username, u.display_name, u.avatar_version, m.role
    FROM memberships m JOIN users u ON u.id = m.user_id";

impl Store {
    pub async fn create_room(
        &self,
        owner: UserId,
        name: &str,
        name_key: &str,
        topic: &str,
        visibility: Visibility,
    ) -> Result<RoomId, StoreError> {
        let now = now_millis();
        let mut tx = self.begin_write().await?;
        let (id,): (RoomId,) = sqlx::query_as(
            "INSERT INTO rooms (name, name_key, topic, visibility, last_activity, member_count, created_at)
             VALUES ($1, $2, $3, $4, $5, 1, $5) RETURNING id",
        )
        .bind(name)
        .bind(name_key)
        .bind(topic)
        .bind(visibility.as_str())
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| classify(e, &["name_key"]))?;
        sqlx::query(
            "INSERT INTO memberships (room_id, user_id, role, joined_at) VALUES ($1, $2, 'owner', $3)",
        )
        .bind(id)
        .bind(owner)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The room as `viewer` sees it, unless it is archived or missing.
    pub async fn room_summary(
        &self,
        room: RoomId,
        viewer: UserId,
    ) -> Result<Option<RoomSummary>, sqlx::Error> {
        Ok(self.standing(room, viewer).await?.map(|standing| standing.summary))
    }

    /// The room as `viewer` sees it and whether they are banned from it or
    /// invited into it, unless it is archived or missing.
    pub async fn standing(&self, room: RoomId, viewer: UserId) -> Result<Option<Standing>, sqlx::Error> {
        let row: Option<SummaryRow> = sqlx::query_as(&format!(
            "SELECT {SUMMARY_COLUMNS} FROM rooms r
             LEFT JOIN memberships m ON m.room_id = r.id AND m.user_id = $1 {SUMMARY_JOINS}
             WHERE r.id = $2 AND r.archived_at IS NULL"
        ))
        .bind(viewer)
        .bind(room)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(SummaryRow::standing))
    }

    /// What lets `viewer` read `room` or keeps them out, unless it is
    /// archived or missing: a few rows read by key (a [`Standing`] also
    /// counts what is unread, up to a thousand messages).
    pub async fn admission(&self, room: RoomId, viewer: UserId) -> Result<Option<Admission>, sqlx::Error> {
        admission_on(&self.pool, room, viewer).await
    }

    /// The rooms `user` is a member of, most recently active first.
    pub async fn rooms_of(&self, user: UserId) -> Result<Vec<RoomSummary>, sqlx::Error> {
        let rows: Vec<SummaryRow> = sqlx::query_as(&format!(
            "SELECT {SUMMARY_COLUMNS} FROM memberships m
             JOIN rooms r ON r.id = m.room_id {SUMMARY_JOINS}
             WHERE m.user_id = $1 AND r.archived_at IS NULL
               -- A conversation with someone the user blocked is hidden.
               AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.blocker_id = $1 AND b.blocked_id = pu.id)
             ORDER BY r.last_activity DESC, r.id DESC"
        ))
        .bind(user)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(SummaryRow::summary).collect())
    }

    /// The ids of the rooms `user` is a member of.
    pub async fn room_ids_of(&self, user: UserId) -> Result<Vec<RoomId>, sqlx::Error> {
        sqlx::query_scalar("SELECT room_id FROM memberships WHERE user_id = $1")
            .bind(user)
            .fetch_all(&self.pool)
            .await
    }

    /// Public rooms whose name or topic contains `pattern` (already folded
    /// to lower case), the most populated first.
    pub async fn public_rooms(
        &self,
        viewer: UserId,
        pattern: &str,
        limit: i64,
    ) -> Result<Vec<RoomSummary>, sqlx::Error> {
        let like = format!("%{}%", escape_like(pattern));
        let rows: Vec<SummaryRow> = sqlx::query_as(&format!(
            "SELECT {SUMMARY_COLUMNS} FROM rooms r
             LEFT JOIN memberships m ON m.room_id = r.id AND m.user_id = $1 {SUMMARY_JOINS}
             WHERE r.visibility = 'public' AND r.kind = 'room' AND r.archived_at IS NULL
               AND (r.name_key LIKE $2 ESCAPE '\\' OR lower(r.topic) LIKE $2 ESCAPE '\\')
             ORDER BY r.member_count DESC, r.last_activity DESC, r.id DESC
             LIMIT $3"
        ))
        .bind(viewer)
        .bind(like)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(SummaryRow::summary).collect())
    }

    pub async fn role(&self, room: RoomId, user: UserId) -> Result<Option<Role>, sqlx::Error> {
        let role: Option<String> =
            sqlx::query_scalar("SELECT role FROM memberships WHERE room_id = $1 AND user_id = $2")
                .bind(room)
                .bind(user)
                .fetch_optional(&self.pool)
                .await?;
        Ok(role.as_deref().and_then(Role::from_db))
    }

    /// Every member with their role, owner and admins first.
    pub async fn members(&self, room: RoomId) -> Result<Vec<(PublicProfile, Role)>, sqlx::Error> {
        let rows: Vec<MemberRow> = sqlx::query_as(&format!(
            "{MEMBER_SELECT} WHERE m.room_id = $1
             ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END, u.username_key"
        ))
        .bind(room)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(MemberRow::member).collect())
    }

    /// One member with their role, if `user` is a member.
    pub async fn member(
        &self,
        room: RoomId,
        user: UserId,
    ) -> Result<Option<(PublicProfile, Role)>, sqlx::Error> {
        let row: Option<MemberRow> =
            sqlx::query_as(&format!("{MEMBER_SELECT} WHERE m.room_id = $1 AND m.user_id = $2"))
                .bind(room)
                .bind(user)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(MemberRow::member))
    }

    /// Adds `user` as a member who has read everything so far. Returns
    /// false if they already were one.
    pub async fn join_room(&self, room: RoomId, user: UserId) -> Result<bool, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        let added = add_membership(&mut tx, room, user, Role::Member).await?;
        tx.commit().await?;
        Ok(added)
    }

    /// The direct conversation named `key` (see `domain::direct_key`).
    pub async fn direct_room(&self, key: &str) -> Result<Option<RoomId>, sqlx::Error> {
        sqlx::query_scalar("SELECT id FROM rooms WHERE name_key = $1 AND kind = 'direct'")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
    }

    /// The direct conversation of `a` and `b`, created if needed; true when
    /// this call created it. Two concurrent calls get the same room.
    pub async fn create_direct_room(
        &self,
        a: UserId,
        b: UserId,
        key: &str,
    ) -> Result<(RoomId, bool), sqlx::Error> {
        let now = now_millis();
        let mut tx = self.begin_write().await?;
        let created: Option<RoomId> = sqlx::query_scalar(
            "INSERT INTO rooms (name, name_key, topic, visibility, kind, last_activity, created_at)
             VALUES ('', $1, '', 'private', 'direct', $2, $2)
             ON CONFLICT (name_key) DO NOTHING RETURNING id",
        )
        .bind(key)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let outcome = match created {
            Some(room) => {
                for user in [a, b] {
                    add_membership(&mut tx, room, user, Role::Member).await?;
                }
                (room, true)
            }
            None => {
                let room = sqlx::query_scalar("SELECT id FROM rooms WHERE name_key = $1")
                    .bind(key)
                    .fetch_one(&mut *tx)
                    .await?;
                (room, false)
            }
        };
        tx.commit().await?;
        Ok(outcome)
    }

    /// Records that `user` has read `room` up to `seq` (never backwards).
    /// Returns false when nothing changed.
    pub async fn mark_read(&self, room: RoomId, user: UserId, seq: Seq) -> Result<bool, sqlx::Error> {
        let changed = sqlx::query(
            "UPDATE memberships SET last_read_seq = $3
             WHERE room_id = $1 AND user_id = $2 AND last_read_seq < $3
               AND $3 <= (SELECT last_seq FROM rooms WHERE id = $1)",
        )
        .bind(room)
        .bind(user)
        .bind(seq)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(changed > 0)
    }
}

/// Adds a membership (read up to the room's latest message) and counts
/// it. False when `user` already was a member, is banned, or the room is
/// archived.
pub(super) async fn add_membership(
    tx: &mut Transaction<'_, Any>,
    room: RoomId,
    user: UserId,
    role: Role,
) -> Result<bool, sqlx::Error> {
    let added = sqlx::query(
        "INSERT INTO memberships (room_id, user_id, role, joined_at, last_read_seq)
         SELECT id, $2, $3, $4, last_seq FROM rooms
         WHERE id = $1 AND archived_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM bans WHERE room_id = $1 AND user_id = $2)
         ON CONFLICT DO NOTHING",
    )
    .bind(room)
    .bind(user)
    .bind(role.as_str())
    .bind(now_millis())
    .execute(&mut **tx)
    .await?
    .rows_affected()
        == 1;
    if added {
        sqlx::query("UPDATE rooms SET member_count = member_count + 1 WHERE id = $1")
            .bind(room)
            .execute(&mut **tx)
            .await?;
        // Joined one way or another: a pending invitation has no object.
        sqlx::query("DELETE FROM invitations WHERE room_id = $1 AND invitee_id = $2")
            .bind(room)
            .bind(user)
            .execute(&mut **tx)
            .await?;
    }
    Ok(added)
}

/// Escapes `%`, `_` and the escape character itself for a LIKE pattern.
pub(super) fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_patterns_are_escaped() {
        assert_eq!(super::escape_like(r"50%_a\b"), r"50\%\_a\\b");
    }
}
