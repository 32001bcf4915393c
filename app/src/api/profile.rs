//! One's own profile, password and avatar; other people's public profiles.

use crate::domain::Account;
use crate::error::AppError;
use leptos::prelude::*;
use server_fn::codec::{MultipartData, MultipartFormData};

#[cfg(feature = "ssr")]
use {
    super::ssr::*,
    crate::domain::{PasswordChange, ProfileEdit, AVATAR_MAX_BYTES},
    crate::error::{Field, Problem},
    crate::services::{account_data, accounts, avatars, images, OrInternal},
};

/// Sets the display name and email, and the username when one is given.
#[server(endpoint = "profile")]
pub async fn update_profile(
    display_name: String,
    email: String,
    #[server(default)] username: Option<String>,
) -> Result<Account, AppError> {
    let state = state()?;
    let (_, user) = require_user().await?;
    let edit = ProfileEdit { display_name, email, username };
    let user = accounts::update_profile(&state, user.id, &edit).await?;
    Ok(user.account())
}

/// Changes the password; every other session of the user ends, this one
/// continues under the new password.
#[server(endpoint = "password")]
pub async fn change_password(
    current_password: String,
    password: String,
    password_confirm: String,
) -> Result<(), AppError> {
    let state = state()?;
    let (mut session, user) = require_user().await?;
    let keep = socket_key(&session, false).await?;
    let change = PasswordChange { current_password, password, password_confirm };
    let user = accounts::change_password(&state, &user, &change).await?;
    // The session goes on under a new id, with the same socket key.
    start_session(&mut session, &user).await?;
    // The other sessions ended with the old password: so do their sockets.
    crate::services::auth::other_sessions_ended(&state, user.id, Some(&keep)).await;
    Ok(())
}

/// Deletes one's account, the password confirming it (see
/// `services::account_data::delete_account`); this session ends with it.
#[server(endpoint = "delete_account")]
pub async fn delete_account(confirm_password: String) -> Result<(), AppError> {
    let state = state()?;
    let (mut session, user) = require_user().await?;
    account_data::delete_account(&state, &user, &confirm_password).await?;
    session.logout().await.or_internal("ending a session")?;
    Ok(())
}

/// Receives an avatar as multipart form data (field `avatar`). The body is
/// read in chunks and refused as soon as it passes the size limit.
#[server(endpoint = "avatar", input = MultipartFormData)]
pub async fn upload_avatar(data: MultipartData) -> Result<Account, AppError> {
    let state = state()?;
    let (_, user) = require_user().await?;
    // Its share of the memory for bodies, by the length it declares (the
    // connection reads no more than that; without one, the most allowed).
    let declared = leptos_axum::extract::<http::HeaderMap>()
        .await
        .ok()
        .and_then(|headers| headers.get(http::header::CONTENT_LENGTH)?.to_str().ok()?.parse::<u64>().ok())
        .unwrap_or(AVATAR_MAX_BYTES as u64);
    let _receiving = images::receive(declared).await?;
    let upload = tokio::time::timeout(images::RECEIVE_WITHIN, read_avatar(data, declared))
        .await
        .map_err(|_| AppError::BadRequest)??;
    let user = avatars::set_avatar(&state, user.id, upload).await?;
    Ok(user.account())
}

/// The `avatar` field of an upload, refused as soon as it passes the size
/// limit.
#[cfg(feature = "ssr")]
async fn read_avatar(data: MultipartData, declared: u64) -> Result<Vec<u8>, AppError> {
    let mut multipart = data.into_inner().ok_or(AppError::BadRequest)?;
    let too_large = || AppError::field(Field::Avatar, Problem::ImageTooLarge { max_bytes: AVATAR_MAX_BYTES });
    while let Some(mut field) = multipart.next_field().await.map_err(|_| AppError::BadRequest)? {
        if field.name() != Some("avatar") {
            continue;
        }
        let mut bytes = Vec::with_capacity(usize::try_from(declared).unwrap_or(0).min(AVATAR_MAX_BYTES));
        while let Some(chunk) = field.chunk().await.map_err(|_| AppError::BadRequest)? {
            if bytes.len() + chunk.len() > AVATAR_MAX_BYTES {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
        if !bytes.is_empty() {
            return Ok(bytes);
        }
        break;
    }
    Err(AppError::field(Field::Avatar, Problem::Required))
}
