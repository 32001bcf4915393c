//! The axum-login backend: how a session finds its user again.
//!
//! The session is bound to the password hash (`session_auth_hash`), so a
//! password change ends every other session of that user at their next
//! request.

use super::AppState;
use crate::domain::UserId;
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

    async fn get_user(&self, id: &AuthUserId<Self>) -> Result<Option<UserRecord>, sqlx::Error> {
        self.state.store.user_by_id(*id).await
    }
}

pub type AuthSession = axum_login::AuthSession<Backend>;
