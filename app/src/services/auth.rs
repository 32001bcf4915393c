//! The axum-login backend: how a session finds its user again.
//!
//! The session is bound to the password hash (`session_auth_hash`), so a
//! password change ends every other session of that user at their next
//! request.

use super::{AppState, OrInternal};
use crate::domain::UserId;
use crate::error::AppError;
use crate::store::UserRecord;
use axum_login::{AuthUser, AuthnBackend, UserId as AuthUserId};

impl AuthUser for UserRecord {
    type Id = UserId;

    fn id(&self) -> UserId {
        self.id
    }

    fn session_auth_hash(&self) -> &[u8] {
        self.password_hash.as_bytes()
    }
}

/// Sign-in itself goes through [`super::accounts::sign_in`], which throttles
/// and equalises timing; this backend only reloads users for sessions.
#[derive(Clone)]
pub struct Backend {
    pub state: AppState,
}

impl AuthnBackend for Backend {
    type User = UserRecord;
    /// Never constructed: credentials are checked by `accounts::sign_in`.
    type Credentials = std::convert::Infallible;
    type Error = sqlx::Error;

    async fn authenticate(
        &self,
        credentials: std::convert::Infallible,
    ) -> Result<Option<UserRecord>, sqlx::Error> {
        match credentials {}
    }

    /// A deactivated account's sessions find no user: signed out at their
    /// next request.
    async fn get_user(&self, id: &AuthUserId<Self>) -> Result<Option<UserRecord>, sqlx::Error> {
        Ok(self.state.store.user_by_id(*id).await?.filter(UserRecord::is_active))
    }
}

pub type AuthSession = axum_login::AuthSession<Backend>;

/// `user`'s session with socket key `key` ended (a sign-out): its sockets
/// close and the devices it subscribed are notified no more. The one place
/// a session's end is carried out, so that no way out forgets a part.
pub async fn session_ended(state: &AppState, user: UserId, key: &str) {
    state.hub.end_session(user, key);
    super::push::session_ended(state, user, key).await;
}

/// Every session of `user` but `keep`'s ended (a password change), or all
/// of them (`None`: a deactivation): see [`session_ended`].
pub async fn other_sessions_ended(state: &AppState, user: UserId, keep: Option<&str>) {
    state.hub.end_other_sessions(user, keep);
    super::push::other_sessions_ended(state, user, keep).await;
}

/// Deletes the sessions that expired (a month without a visit) and ends
/// what a sign-out would: the push devices they subscribed, and the
/// sockets still open on them, on every instance (closed once the
/// sessions are gone, so that they cannot reconnect on them).
pub async fn delete_expired_sessions(state: &AppState) -> Result<(), AppError> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let sessions = state.store.sessions();
    let expired = sessions.expired(now).await.or_internal("reading expired sessions")?;
    let keys: Vec<String> = expired
        .iter()
        .filter_map(|record| record.data.get(SOCKET_KEY)?.as_str().map(str::to_owned))
        .collect();
    // The devices first: a failure leaves the sessions for the next try.
    super::push::sessions_expired(state, &keys).await?;
    sessions.delete_expired(now).await.or_internal("deleting expired sessions")?;
    state.hub.end_sessions(&keys);
    Ok(())
}

const SOCKET_KEY: &str = "salon.socket_key";

/// A random key naming this session's sockets, kept in the session:
/// unlike the session id (which changes at each sign-in and password
/// change) it stays the same, so ending the session finds its sockets.
/// `renew` gives the session a new one (at sign-in).
pub async fn socket_key(session: &AuthSession, renew: bool) -> Result<String, AppError> {
    if !renew {
        if let Some(key) = session.session.get::<String>(SOCKET_KEY).await.or_internal("reading a session")? {
            return Ok(key);
        }
    }
    let key = tower_sessions::session::Id::default().to_string();
    session.session.insert(SOCKET_KEY, &key).await.or_internal("writing a session")?;
    Ok(key)
}

/// The socket key of a session, if it has one (see [`socket_key`]).
pub async fn existing_socket_key(session: &tower_sessions::Session) -> Option<String> {
    session.get::<String>(SOCKET_KEY).await.ok().flatten()
}
