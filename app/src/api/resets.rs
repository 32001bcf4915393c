//! Password reset links: made by admins, used by whoever holds one.

use crate::domain::UserId;
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {super::ssr::*, crate::services::resets};

/// A one-time reset link for `user`, its path (admins only).
#[server(endpoint = "admin_reset_link")]
pub async fn admin_reset_link(user: UserId) -> Result<String, AppError> {
    let (state, actor) = (state()?, require_user().await?.1);
    resets::make_link(&state, &actor, user).await
}

/// Whether a reset link still works (`NotFound` if not).
#[server(endpoint = "reset_check")]
pub async fn reset_check(token: String) -> Result<(), AppError> {
    resets::check(&state()?, &token).await
}

/// Sets a new password with a reset link, once.
#[server(endpoint = "reset_password")]
pub async fn reset_password(
    token: String,
    password: String,
    password_confirm: String,
) -> Result<(), AppError> {
    resets::reset(&state()?, &token, &password, &password_confirm).await
}

/// Whether this server mails reset links (SMTP set up).
#[server(endpoint = "reset_by_mail")]
pub async fn reset_by_mail() -> Result<bool, AppError> {
    Ok(resets::by_mail(&state()?))
}

/// Mails a reset link to the account with this email, if there is one
/// (the same answer either way).
#[server(endpoint = "reset_request")]
pub async fn reset_request(email: String) -> Result<(), AppError> {
    resets::request_by_mail(&state()?, &email).await
}
