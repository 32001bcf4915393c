//! The instance admins' operations (`/admin`).

use crate::domain::{AdminUsersPage, InstanceRole, InstanceSettings, RoomCreation, SignUp, UserId};
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
pub async fn admin_set_settings(sign_up: SignUp, room_creation: RoomCreation) -> Result<(), AppError> {
    let (state, actor) = (state()?, require_user().await?.1);
    admin::set_settings(&state, &actor, InstanceSettings { sign_up, room_creation }).await
}
