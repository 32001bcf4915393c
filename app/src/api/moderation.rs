//! Invitations, roles, kicks and bans, and the owner's room settings.

use crate::domain::{Ban, Invitation, RoleChange, RoomId, RoomSummary, UserId, Visibility};
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {super::ssr::*, crate::domain::NewRoom, crate::services::moderation};

#[server(endpoint = "invite")]
pub async fn invite(room: RoomId, username: String) -> Result<Invitation, AppError> {
    let (state, me) = (state()?, require_user().await?.1);
    moderation::invite(&state, me.id, room, &username).await
}

/// The invitations waiting for the user.
#[server(endpoint = "invitations")]
pub async fn my_invitations() -> Result<Vec<Invitation>, AppError> {
    let (state, me) = (state()?, require_user().await?.1);
    moderation::invitations_for(&state, me.id).await
}

/// The pending invitations into a room.
#[server(endpoint = "room_invitations")]
pub async fn room_invitations(room: RoomId) -> Result<Vec<Invitation>, AppError> {
    let (state, me) = (state()?, require_user().await?.1);
    moderation::invitations_into(&state, me.id, room).await
}

#[server(endpoint = "invitation_accept")]
pub async fn accept_invitation(room: RoomId) -> Result<RoomSummary, AppError> {
    let (state, me) = (state()?, require_user().await?.1);
    moderation::accept(&state, me.id, room).await
}

#[server(endpoint = "invitation_decline")]
pub async fn decline_invitation(room: RoomId) -> Result<(), AppError> {
    let (state, me) = (state()?, require_user().await?.1);
    moderation::decline(&state, me.id, room).await
}

#[server(endpoint = "invitation_revoke")]
pub async fn revoke_invitation(room: RoomId, user: UserId) -> Result<(), AppError> {
    let (state, me) = (state()?, require_user().await?.1);
    moderation::revoke(&state, me.id, room, user).await
}

#[server(endpoint = "kick")]
pub async fn kick(room: RoomId, user: UserId) -> Result<(), AppError> {
    let (state, me) = (state()?, require_user().await?.1);
    moderation::remove(&state, &me.public(), room, user, false).await
}

#[server(endpoint = "ban")]
pub async fn ban_member(room: RoomId, user: UserId) -> Result<(), AppError> {
    let (state, me) = (state()?, require_user().await?.1);
    moderation::remove(&state, &me.public(), room, user, true).await
}

#[server(endpoint = "unban")]
pub async fn unban(room: RoomId, user: UserId) -> Result<(), AppError> {
    let (state, me) = (state()?, require_user().await?.1);
    moderation::unban(&state, me.id, room, user).await
}

#[server(endpoint = "bans")]
pub async fn room_bans(room: RoomId) -> Result<Vec<Ban>, AppError> {
    let (state, me) = (state()?, require_user().await?.1);
    moderation::bans(&state, me.id, room).await
}

#[server(endpoint = "role")]
pub async fn change_role(room: RoomId, user: UserId, change: RoleChange) -> Result<(), AppError> {
    let (state, me) = (state()?, require_user().await?.1);
    moderation::change_role(&state, me.id, room, user, change).await
}

#[server(endpoint = "room_settings")]
pub async fn update_room(
    room: RoomId,
    name: String,
    topic: String,
    visibility: Visibility,
) -> Result<RoomSummary, AppError> {
    let (state, me) = (state()?, require_user().await?.1);
    moderation::update(&state, me.id, room, &NewRoom { name, topic, visibility }).await
}

#[server(endpoint = "room_delete")]
pub async fn delete_room(room: RoomId) -> Result<(), AppError> {
    let (state, me) = (state()?, require_user().await?.1);
    moderation::delete(&state, &me.public(), room).await
}
