//! Running the server (issue 19): what instance admins may do. Only they
//! may; to anyone else these operations, like `/admin`, do not exist
//! (`NotFound`, as a private room to an outsider).

use super::{AppState, OrInternal};
use crate::domain::{
    AdminRoomsPage, AdminUsersPage, InstanceRole, InstanceSettings, RoomId, UserId, ADMIN_ROOMS_PAGE,
    ADMIN_SEARCH_MAX, ADMIN_USERS_PAGE,
};
use crate::error::{AppError, Field, Problem};
use crate::store::{RoleSet, UserRecord};

fn require_admin(actor: &UserRecord) -> Result<(), AppError> {
    if actor.is_admin() {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// A page of users whose username or display name contains `query`
/// (everyone when it is empty), oldest account first, after `after`.
#[tracing::instrument(skip_all, fields(actor = %actor.id))]
pub async fn users(
    state: &AppState,
    actor: &UserRecord,
    query: &str,
    after: Option<UserId>,
) -> Result<AdminUsersPage, AppError> {
    require_admin(actor)?;
    let query = query.trim().to_lowercase();
    if query.chars().count() > ADMIN_SEARCH_MAX {
        return Err(AppError::field(Field::Search, Problem::TooLong { max: ADMIN_SEARCH_MAX }));
    }
    let mut users =
        state.store.admin_users(&query, after, ADMIN_USERS_PAGE + 1).await.or_internal("listing users")?;
    let next = if users.len() > ADMIN_USERS_PAGE {
        users.truncate(ADMIN_USERS_PAGE);
        users.last().map(|user| user.profile.id)
    } else {
        None
    };
    Ok(AdminUsersPage { users, next })
}

/// Makes `target` an instance admin or takes it back. The server always
/// keeps one admin who can sign in: the last one's role is never taken,
/// and a deactivated account is never made one (both checked by the store
/// in its write transaction).
#[tracing::instrument(skip_all, fields(actor = %actor.id, target = %target))]
pub async fn set_role(
    state: &AppState,
    actor: &UserRecord,
    target: UserId,
    role: InstanceRole,
) -> Result<(), AppError> {
    require_admin(actor)?;
    match state.store.set_instance_role(target, role).await.or_internal("setting an instance role")? {
        RoleSet::Done => {
            tracing::info!(role = role.as_str(), "instance role changed");
            Ok(())
        }
        RoleSet::NoSuchUser => Err(AppError::NotFound),
        RoleSet::LastAdmin => Err(AppError::field(Field::Role, Problem::LastAdmin)),
        RoleSet::IsAdmin => Err(AppError::field(Field::Role, Problem::DeactivateAdmin)),
        RoleSet::Deactivated => Err(AppError::field(Field::Role, Problem::PromoteDeactivated)),
    }
}

/// Deactivates `target` (`active` false) or reactivates them. A deactivated
/// account cannot sign in (told so once the password is right), its
/// sessions are signed out at their next request, its sockets closed and
/// its devices' notifications ended at once; its messages stay, its direct
/// conversations are read-only. An
/// admin is never deactivated (their role is taken first), so the server
/// always keeps an active admin.
#[tracing::instrument(skip_all, fields(actor = %actor.id, target = %target))]
pub async fn set_active(
    state: &AppState,
    actor: &UserRecord,
    target: UserId,
    active: bool,
) -> Result<(), AppError> {
    require_admin(actor)?;
    match state.store.set_deactivated(target, !active).await.or_internal("deactivating a user")? {
        RoleSet::Done => {
            if !active {
                super::auth::other_sessions_ended(state, target, None).await;
            }
            tracing::info!(active, "account standing changed");
            Ok(())
        }
        RoleSet::NoSuchUser => Err(AppError::NotFound),
        RoleSet::LastAdmin | RoleSet::IsAdmin | RoleSet::Deactivated => {
            Err(AppError::field(Field::Role, Problem::DeactivateAdmin))
        }
    }
}

/// The server's settings (admins only).
pub async fn settings(state: &AppState, actor: &UserRecord) -> Result<InstanceSettings, AppError> {
    require_admin(actor)?;
    current_settings(state).await
}

#[tracing::instrument(skip_all, fields(actor = %actor.id))]
pub async fn set_settings(
    state: &AppState,
    actor: &UserRecord,
    settings: InstanceSettings,
) -> Result<(), AppError> {
    require_admin(actor)?;
    state.store.set_instance_settings(settings).await.or_internal("saving the server's settings")?;
    tracing::info!(?settings, "the server's settings changed");
    Ok(())
}

/// The server's settings, for the rules that follow them (who may sign up,
/// who may create rooms: `domain::InstanceSettings`).
pub async fn current_settings(state: &AppState) -> Result<InstanceSettings, AppError> {
    state.store.instance_settings().await.or_internal("reading the server's settings")
}

/// How many messages one bulk deletion takes at most (a spammer's
/// thousands are cleaned by repeating it).
const PURGED_AT_ONCE: usize = 5_000;

/// Deletes `target`'s messages in every room and conversation (spam
/// clean-up), each as its room's admins would, live for everyone who has
/// it open; how many. Their account is left as it is (deactivate it too).
#[tracing::instrument(skip_all, fields(actor = %actor.id, target = %target))]
pub async fn delete_messages(
    state: &AppState,
    actor: &UserRecord,
    target: UserId,
) -> Result<usize, AppError> {
    require_admin(actor)?;
    state.store.user_by_id(target).await.or_internal("finding a user")?.ok_or(AppError::NotFound)?;
    let messages =
        state.store.live_messages_of(target, PURGED_AT_ONCE).await.or_internal("listing messages")?;
    let mut deleted = 0;
    for (room, seq) in messages {
        match super::messages::purge(state, actor.id, room, seq).await {
            Ok(()) => deleted += 1,
            // Deleted meanwhile.
            Err(AppError::NotFound) => {}
            Err(error) => return Err(error),
        }
    }
    tracing::info!(deleted, "messages deleted in bulk");
    Ok(deleted)
}

/// A page of the server's rooms, oldest first: names and sizes only.
pub async fn rooms(
    state: &AppState,
    actor: &UserRecord,
    after: Option<RoomId>,
) -> Result<AdminRoomsPage, AppError> {
    require_admin(actor)?;
    let mut rooms =
        state.store.admin_rooms(after, ADMIN_ROOMS_PAGE + 1).await.or_internal("listing rooms")?;
    let next = if rooms.len() > ADMIN_ROOMS_PAGE {
        rooms.truncate(ADMIN_ROOMS_PAGE);
        rooms.last().map(|room| room.id)
    } else {
        None
    };
    Ok(AdminRoomsPage { rooms, next })
}

/// Deletes any room, as its owner could: its members lose it at once.
#[tracing::instrument(skip_all, fields(actor = %actor.id, room = %room))]
pub async fn delete_room(state: &AppState, actor: &UserRecord, room: RoomId) -> Result<(), AppError> {
    require_admin(actor)?;
    let (name, _) = live_room(state, room).await?;
    super::moderation::delete_by(state, room, name, &actor.public()).await
}

/// Hands any room to one of its members (its owner becomes an admin of
/// it), as its owner could.
#[tracing::instrument(skip_all, fields(actor = %actor.id, room = %room))]
pub async fn transfer_room(
    state: &AppState,
    actor: &UserRecord,
    room: RoomId,
    username: &str,
) -> Result<(), AppError> {
    require_admin(actor)?;
    let (_, owner) = live_room(state, room).await?;
    let target = super::social::find_user(state, username.trim().trim_start_matches('@')).await?;
    let Some(owner) = owner else { return Err(AppError::NotFound) };
    if owner == target.id {
        return Ok(());
    }
    if !state.store.transfer_ownership(room, owner, target.id).await.or_internal("handing a room over")? {
        return Err(AppError::field(Field::Username, Problem::NotAMember));
    }
    tracing::info!(to = %target.id, "room handed over by an admin");
    super::moderation::roles_changed(state, room, [target.id, owner]).await
}

/// A room that is not a direct conversation nor deleted: its name and owner.
async fn live_room(state: &AppState, room: RoomId) -> Result<(String, Option<UserId>), AppError> {
    state.store.live_room_owner(room).await.or_internal("loading a room")?.ok_or(AppError::NotFound)
}
