//! Registering, signing in and out, and who is signed in.

use crate::domain::Account;
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {
    super::ssr::*,
    crate::services::{accounts, OrInternal},
};

/// The signed-in user's account, or `None` for a visitor.
#[server(endpoint = "account")]
pub async fn current_account() -> Result<Option<Account>, AppError> {
    let session = auth_session().await?;
    Ok(session.user.as_ref().map(|user| user.account()))
}

/// Creates an account and signs it in.
#[server(endpoint = "register")]
pub async fn register(
    username: String,
    email: String,
    password: String,
    password_confirm: String,
    /// The join link's code, when registering through one.
    #[server(default)]
    join: Option<String>,
) -> Result<Account, AppError> {
    let state = state()?;
    let form = crate::domain::Registration { username, email, password, password_confirm };
    let user = accounts::register(&state, &form, join.as_deref()).await?;
    let mut session = auth_session().await?;
    start_session(&mut session, &user).await?;
    set_device_cookie(&state, accounts::device_cookie(&state, user.id)?);
    // A new sign-in: its sockets get a key of their own.
    socket_key(&session, true).await?;
    Ok(user.account())
}

/// Signs in with a username or an email. The session id changes.
#[server(endpoint = "login")]
pub async fn login(login: String, password: String) -> Result<Account, AppError> {
    let state = state()?;
    let address = client_address().await;
    let device_cookie = device_cookie().await;
    let from = accounts::SignInFrom { address: &address, device_cookie: device_cookie.as_deref() };
    let (user, device_cookie) = accounts::sign_in(&state, &login, &password, from).await?;
    let mut session = auth_session().await?;
    start_session(&mut session, &user).await?;
    set_device_cookie(&state, device_cookie);
    // A new sign-in: its sockets get a key of their own.
    socket_key(&session, true).await?;
    Ok(user.account())
}

/// Ends this session.
#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    let mut session = auth_session().await?;
    let key = existing_socket_key(&session.session).await;
    let ended = session.user.as_ref().map(|user| user.id).zip(key);
    session.logout().await.or_internal("ending a session")?;
    // Its sockets (in other tabs too) stop at once.
    if let Some((user, key)) = ended {
        crate::services::auth::session_ended(&state()?, user, &key).await;
    }
    Ok(())
}
