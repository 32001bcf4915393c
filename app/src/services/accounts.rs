//! Registering, signing in and editing one's own account.

use super::{AppState, OrInternal};
use crate::domain::{Email, PasswordChange, ProfileEdit, Registration, UserId, EMAIL_MAX, PASSWORD_MAX};
use crate::error::{AppError, Field, FieldErrors, Problem};
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
    let mut errors = FieldErrors::default();
    if login.is_empty() {
        errors.add(Field::Login, Problem::Required);
    } else if login.chars().count() > EMAIL_MAX {
        errors.add(Field::Login, Problem::TooLong { max: EMAIL_MAX });
    }
    if password.is_empty() {
        errors.add(Field::Password, Problem::Required);
    } else if password.chars().count() > PASSWORD_MAX {
        errors.add(Field::Password, Problem::TooLong { max: PASSWORD_MAX });
    }
    errors.into_result()?;

    let key = login.to_lowercase();
    let user = if key.contains('@') {
        state.store.user_by_email_key(&key).await
    } else {
        state.store.user_by_username_key(&key).await
    }
    .or_internal("looking up a login")?;
    // Throttle by account whichever name it was reached by.
    let account = user.as_ref().map_or(key, |user| format!("#{}", user.id));
    state
        .login_limiter
        .begin(client_address, &account)
        .map_err(|retry_after_secs| AppError::RateLimited { retry_after_secs })?;

    // One verification either way: `verify` checks a decoy hash when there
    // is no account, so both failures cost the same.
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let verified = state.passwords.verify(password.to_owned(), hash).await?;
    match user {
        Some(user) if verified => {
            state.login_limiter.succeeded(client_address, &account);
            Ok(user)
        }
        _ => Err(AppError::BadCredentials),
    }
}

pub async fn update_profile(
    state: &AppState,
    user: UserId,
    edit: &ProfileEdit,
) -> Result<UserRecord, AppError> {
    let (display_name, email): (_, Email) = edit.validate()?;
    state
        .store
        .update_profile(user, display_name.as_str(), email.as_str(), &email.key())
        .await
        .map_err(|e| duplicate_to_field(e, "updating a profile"))
}

/// Changes the password after checking the current one. Every session bound
/// to the old hash stops being valid.
pub async fn change_password(
    state: &AppState,
    user: &UserRecord,
    change: &PasswordChange,
) -> Result<UserRecord, AppError> {
    let new_password = change.validate()?;
    let current_ok =
        state.passwords.verify(change.current_password.clone(), Some(user.password_hash.clone())).await?;
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
    state.store.user_by_username_key(&key).await.or_internal("loading a profile")?.ok_or(AppError::NotFound)
}

fn duplicate_to_field(error: StoreError, context: &'static str) -> AppError {
    match error {
        StoreError::Duplicate("username_key") => AppError::field(Field::Username, Problem::UsernameTaken),
        StoreError::Duplicate(_) => AppError::field(Field::Email, Problem::EmailTaken),
        StoreError::Database(cause) => super::internal(context, cause),
    }
}
