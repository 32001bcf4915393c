//! Server functions: one verb each, thin adapters that authenticate the
//! caller, call a service and return the shared [`AppError`].
//!
//! Every function has a fixed endpoint under `/api/` so that the routes are
//! stable for tests, logs and reverse proxies.

mod admin;
mod auth;
mod join;
mod moderation;
mod profile;
mod push;
mod resets;
mod rooms;
mod social;

pub use admin::*;
pub use auth::*;
pub use join::*;
pub use moderation::*;
pub use profile::*;
pub use push::*;
pub use resets::*;
pub use rooms::*;
pub use social::*;

#[cfg(feature = "ssr")]
pub mod ssr {
    use crate::error::AppError;
    use crate::services::auth::AuthSession;
    use crate::services::sign_in_throttle::{DEVICE_COOKIE, DEVICE_COOKIE_MAX_AGE};
    use crate::services::{AppState, OrInternal};
    use crate::store::UserRecord;
    use leptos::prelude::*;

    pub fn state() -> Result<AppState, AppError> {
        use_context::<AppState>()
            .ok_or_else(|| crate::services::internal("app state", "missing from context"))
    }

    pub async fn auth_session() -> Result<AuthSession, AppError> {
        leptos_axum::extract::<AuthSession>().await.or_internal("auth session")
    }

    /// The signed-in user, or `Unauthenticated`.
    pub async fn require_user() -> Result<(AuthSession, UserRecord), AppError> {
        let session = auth_session().await?;
        let user = session.user.clone().ok_or(AppError::Unauthenticated)?;
        Ok((session, user))
    }

    /// Signs `user` in on this session under a fresh session id, also when
    /// the session was already signed in (as someone else, or before a
    /// password change): a session id never outlives a change of identity.
    pub async fn start_session(session: &mut AuthSession, user: &UserRecord) -> Result<(), AppError> {
        session.session.cycle_id().await.or_internal("renewing the session id")?;
        session.login(user).await.or_internal("starting a session")
    }

    pub use crate::services::auth::{existing_socket_key, socket_key};

    /// The device cookie this browser sent, if any (see
    /// `services::sign_in_throttle`).
    pub async fn device_cookie() -> Option<String> {
        use tower_sessions::cookie::Cookie;
        let headers = leptos_axum::extract::<http::HeaderMap>().await.ok()?;
        let cookies = headers.get_all(http::header::COOKIE);
        let found = cookies
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(Cookie::split_parse)
            .filter_map(Result::ok)
            .find(|cookie| cookie.name() == DEVICE_COOKIE)
            .map(|cookie| cookie.value().to_owned());
        found
    }

    /// Gives this browser its device cookie: `HttpOnly`, `SameSite=Lax`,
    /// `Secure` like the session's, for a year.
    pub fn set_device_cookie(state: &AppState, value: String) {
        use tower_sessions::cookie::{Cookie, SameSite};
        let max_age = i64::try_from(DEVICE_COOKIE_MAX_AGE.as_secs()).unwrap_or(i64::MAX);
        let cookie = Cookie::build((DEVICE_COOKIE, value))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(state.secure_cookies)
            .max_age(time::Duration::seconds(max_age))
            .build();
        let options = use_context::<leptos_axum::ResponseOptions>();
        if let (Some(options), Ok(header)) = (options, http::HeaderValue::from_str(&cookie.to_string())) {
            options.append_header(http::header::SET_COOKIE, header);
        }
    }

    /// The client's address, for throttling (behind a trusted proxy, the
    /// one it forwarded: see the server's `proxy` module).
    pub async fn client_address() -> String {
        leptos_axum::extract::<axum::Extension<crate::services::limits::ClientAddress>>()
            .await
            .map(|client| client.0 .0.to_string())
            .unwrap_or_else(|_| "unknown".into())
    }
}
