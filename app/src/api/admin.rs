//! The instance admins' operations (`/admin`).

use crate::domain::{
    AdminRoomsPage, AdminUsersPage, InstanceRole, InstanceSettings, RoomId, SignUp, UserId, WhoMay,
};
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {super::ssr::*, crate::services::admin};

/// A page of the server's users (admins only).
#[server(endpoint = "admin_users")]
pub async fn admin_users(query: String, after: Option<UserId>) -> Result<AdminUsersPage, AppError> {
    let (state, user) = (state()?, require_user().await?.1);
    admin::users(&state, &user, &query, after).await
}

/// Makes a user an instance admin or takes it back (admins only).
#[server(endpoint = "admin_set_role")]
pub async fn admin_set_role(user: UserId, role: InstanceRole) -> Result<(), AppError> {
    let (state, actor) = (state()?, require_user().await?.1);
    admin::set_role(&state, &actor, user, role).await
}

/// Deactivates a user (`active` false) or reactivates them (admins only).
#[server(endpoint = "admin_set_active")]
pub async fn admin_set_active(user: UserId, active: bool) -> Result<(), AppError> {
    let (state, actor) = (state()?, require_user().await?.1);
    admin::set_active(&state, &actor, user, active).await
}

/// The server's settings (admins only).
#[server(endpoint = "admin_settings")]
pub async fn admin_settings() -> Result<InstanceSettings, AppError> {
    let (state, actor) = (state()?, require_user().await?.1);
    admin::settings(&state, &actor).await
}

/// Saves the server's settings (admins only).
#[server(endpoint = "admin_set_settings")]
pub async fn admin_set_settings(
    sign_up: SignUp,
    room_creation: WhoMay,
    join_links: WhoMay,
) -> Result<(), AppError> {
    let (state, actor) = (state()?, require_user().await?.1);
    admin::set_settings(&state, &actor, InstanceSettings { sign_up, room_creation, join_links }).await
}

/// A page of the server's rooms (admins only).
#[server(endpoint = "admin_rooms")]
pub async fn admin_rooms(after: Option<RoomId>) -> Result<AdminRoomsPage, AppError> {
    let (state, actor) = (state()?, require_user().await?.1);
    admin::rooms(&state, &actor, after).await
}

/// Deletes any room (admins only).
#[server(endpoint = "admin_delete_room")]
pub async fn admin_delete_room(room: RoomId) -> Result<(), AppError> {
    let (state, actor) = (state()?, require_user().await?.1);
    admin::delete_room(&state, &actor, room).await
}

/// Hands any room to one of its members, by username (admins only).
#[server(endpoint = "admin_transfer_room")]
pub async fn admin_transfer_room(room: RoomId, username: String) -> Result<(), AppError> {
    let (state, actor) = (state()?, require_user().await?.1);
    admin::transfer_room(&state, &actor, room, &username).await
}

/// Deletes all of a user's messages, in every room (admins only); how many.
#[server(endpoint = "admin_delete_messages")]
pub async fn admin_delete_messages(user: UserId) -> Result<usize, AppError> {
    let (state, actor) = (state()?, require_user().await?.1);
    admin::delete_messages(&state, &actor, user).await
}
