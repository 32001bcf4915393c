//! Registering, signing in and editing one's own account.

use super::{AppState, OrInternal};
use crate::domain::{Email, PasswordChange, ProfileEdit, Registration, UserId};
use crate::error::{AppError, Field, Problem};
use crate::store::{NewUser, StoreError, UserRecord};

pub async fn register(state: &AppState, form: &Registration) -> Result<UserRecord, AppError> {
    let valid = form.validate()?;
    let password_hash = state.passwords.hash(valid.password.expose().to_owned()).await?;
    state
        .store
        .insert_user(NewUser {
            username: valid.username.as_str(),
            username_key: &valid.username.key(),
            email: valid.email.as_str(),
            email_key: &valid.email.key(),
            password_hash: &password_hash,
        })
        .await
        .map_err(|e| duplicate_to_field(e, "registering a user"))
}

/// Checks a username-or-email and password, with throttling per client
/// address and per account. Unknown accounts and wrong passwords get the
/// same error after the same amount of work.
pub async fn sign_in(
    state: &AppState,
    login: &str,
    password: &str,
    client_address: &str,
) -> Result<UserRecord, AppError> {
    let login = login.trim();
    if login.is_empty() || login.len() > 254 {
        return Err(AppError::field(Field::Login, if login.is_empty() { Problem::Required } else { Problem::TooLong { max: 254 } }));
    }
    if password.is_empty() || password.len() > 1024 {
        return Err(AppError::field(Field::Password, if password.is_empty() { Problem::Required } else { Problem::TooLong { max: 128 } }));
    }
    let account_key = login.to_lowercase();
    let limiter = &state.login_limiter;
    limiter
        .attempt_from(client_address)
        .and_then(|()| limiter.check_account(&account_key))
        .map_err(|retry_after_secs| AppError::RateLimited { retry_after_secs })?;

    let user = if login.contains('@') {
        state.store.user_by_email_key(&account_key).await
    } else {
        state.store.user_by_username_key(&account_key).await
    }
    .or_internal("looking up a login")?;

    let hash = user.as_ref().map(|u| u.password_hash.clone());
    if state.passwords.verify(password.to_owned(), hash).await? {
        limiter.succeeded_for_account(&account_key);
        user.ok_or(AppError::Internal)
    } else {
        limiter.failed_for_account(&account_key);
        Err(AppError::BadCredentials)
    }
}

pub async fn update_profile(state: &AppState, user: UserId, edit: &ProfileEdit) -> Result<UserRecord, AppError> {
    let (display_name, email): (_, Email) = edit.validate()?;
    state
        .store
        .update_profile(user, display_name.as_str(), email.as_str(), &email.key())
        .await
        .map_err(|e| duplicate_to_field(e, "updating a profile"))
}

/// Changes the password after checking the current one. Every session bound
/// to the old hash stops being valid.
pub async fn change_password(state: &AppState, user: &UserRecord, change: &PasswordChange) -> Result<UserRecord, AppError> {
    let new_password = change.validate()?;
    let current_ok = state
        .passwords
        .verify(change.current_password.clone(), Some(user.password_hash.clone()))
        .await?;
    if !current_ok {
        return Err(AppError::field(Field::CurrentPassword, Problem::WrongPassword));
    }
    let hash = state.passwords.hash(new_password.expose().to_owned()).await?;
    state.store.update_password_hash(user.id, &hash).await.or_internal("changing a password")
}

pub async fn public_profile(state: &AppState, username: &str) -> Result<UserRecord, AppError> {
    let key = username.trim().to_ascii_lowercase();
    if key.is_empty() || key.len() > crate::domain::USERNAME_MAX {
        return Err(AppError::NotFound);
    }
    state
        .store
        .user_by_username_key(&key)
        .await
        .or_internal("loading a profile")?
        .ok_or(AppError::NotFound)
}

fn duplicate_to_field(error: StoreError, context: &'static str) -> AppError {
    match error {
        StoreError::Duplicate("username_key") => AppError::field(Field::Username, Problem::UsernameTaken),
        StoreError::Duplicate(_) => AppError::field(Field::Email, Problem::EmailTaken),
        StoreError::Database(cause) => super::internal(context, cause),
    }
}
