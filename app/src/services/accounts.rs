//! Registering, signing in and editing one's own account.

use super::sign_in_throttle::Attempt;
use super::{AppState, OnConstraint, OrInternal};
use crate::domain::{
    JoinCode, PasswordChange, ProfileEdit, Registration, SignUp, UserId, EMAIL_MAX, PASSWORD_MAX,
};
use crate::error::{AppError, Field, FieldErrors, Problem};
use crate::store::{NewAccount, NewUser, UserRecord};

/// Makes an account, with a join link (`join`) or not, as the server's
/// sign-up setting allows (`InstanceSettings::may_register`). The link is
/// used in the transaction that makes the account, which records who made
/// the link as who invited them.
#[tracing::instrument(skip_all)]
pub async fn register(
    state: &AppState,
    form: &Registration,
    join: Option<&str>,
) -> Result<UserRecord, AppError> {
    let unusable = || AppError::field(Field::JoinLink, Problem::JoinLinkUnusable);
    let join = match join.map(str::trim).filter(|code| !code.is_empty()) {
        Some(code) => Some(JoinCode::parse(code).ok_or_else(unusable)?),
        None => None,
    };
    let settings = super::admin::current_settings(state).await?;
    if !settings.may_register(join.is_some()) {
        let problem = match settings.sign_up {
            SignUp::JoinLink => Problem::JoinLinkRequired,
            SignUp::Open | SignUp::Closed => Problem::SignUpClosed,
        };
        return Err(AppError::field(Field::Username, problem));
    }
    let valid = form.validate()?;
    let password_hash = state.passwords.hash(valid.password.expose().to_owned()).await?;
    let made = state
        .store
        .insert_user(NewUser {
            username: valid.username.as_str(),
            username_key: &valid.username.key(),
            email: valid.email.as_str(),
            email_key: &valid.email.key(),
            password_hash: &password_hash,
            join_code: join.as_ref().map(JoinCode::as_str),
        })
        .await
        .on_constraint("registering a user", taken)?;
    match made {
        NewAccount::Made(user) => Ok(user),
        NewAccount::JoinLinkUnusable => Err(unusable()),
    }
}

/// Where a sign-in comes from: the client's address, and the device cookie
/// its browser sent, if any (see [`super::sign_in_throttle`]).
pub struct SignInFrom<'a> {
    pub address: &'a str,
    pub device_cookie: Option<&'a str>,
}

/// Checks a username-or-email and password, throttled (see
/// [`super::sign_in_throttle`]). Unknown accounts and wrong passwords get
/// the same error after the same amount of work. Returns the user and the
/// device cookie their browser keeps from now on.
#[tracing::instrument(skip_all)]
pub async fn sign_in(
    state: &AppState,
    login: &str,
    password: &str,
    from: SignInFrom<'_>,
) -> Result<(UserRecord, String), AppError> {
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
    let device = user
        .as_ref()
        .zip(from.device_cookie)
        .and_then(|(user, cookie)| state.devices.verify(cookie, user.id));
    let attempt = Attempt { account: &account, address: from.address, device: device.as_deref() };
    state
        .sign_in_throttle
        .begin(&attempt)
        .map_err(|retry_after_secs| AppError::RateLimited { retry_after_secs })?;

    // One verification either way: `verify` checks a decoy hash when there
    // is no account, so both failures cost the same.
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let verified = state.passwords.verify(password.to_owned(), hash).await?;
    match user {
        // Said only to whoever knows the password.
        Some(user) if verified && !user.is_active() => {
            Err(AppError::field(Field::Login, Problem::Deactivated))
        }
        Some(user) if verified => {
            state.sign_in_throttle.succeeded(&attempt);
            let cookie = match (device, from.device_cookie) {
                (Some(_), Some(kept)) => kept.to_owned(),
                _ => device_cookie(state, user.id)?,
            };
            Ok((user, cookie))
        }
        _ => Err(AppError::BadCredentials),
    }
}

/// A new device cookie for a browser that just signed in to `user`.
pub fn device_cookie(state: &AppState, user: UserId) -> Result<String, AppError> {
    state.devices.issue(user).ok_or_else(|| super::internal("issuing a device cookie", "no random numbers"))
}

#[tracing::instrument(skip_all, fields(user = %user))]
pub async fn update_profile(
    state: &AppState,
    user: UserId,
    edit: &ProfileEdit,
) -> Result<UserRecord, AppError> {
    let valid = edit.validate()?;
    let (display_name, email) = (valid.display_name, valid.email);
    let rename = valid.username.as_ref().map(|username| (username.as_str(), username.key()));
    let rename = rename.as_ref().map(|(name, key)| (*name, key.as_str()));
    state
        .store
        .update_profile(user, display_name.as_str(), email.as_str(), &email.key(), rename)
        .await
        .on_constraint("updating a profile", taken)
}

/// Changes the password after checking the current one. Every session bound
/// to the old hash stops being valid.
#[tracing::instrument(skip_all, fields(user = %user.id))]
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

#[tracing::instrument(skip_all)]
pub async fn public_profile(state: &AppState, username: &str) -> Result<UserRecord, AppError> {
    let key = username.trim().to_ascii_lowercase();
    if key.is_empty() || key.len() > crate::domain::USERNAME_MAX {
        return Err(AppError::NotFound);
    }
    if let Some(user) = state.store.user_by_username_key(&key).await.or_internal("loading a profile")? {
        return Ok(user);
    }
    // A former username still leads to whoever had it.
    let former = state.store.former_username_owner(&key).await.or_internal("loading a profile")?;
    let user = match former {
        Some(id) => state.store.user_by_id(id).await.or_internal("loading a profile")?,
        None => None,
    };
    user.ok_or(AppError::NotFound)
}

/// The field a unique key of the users' table belongs to.
fn taken(key: &'static str) -> AppError {
    match key {
        "username_key" => AppError::field(Field::Username, Problem::UsernameTaken),
        _ => AppError::field(Field::Email, Problem::EmailTaken),
    }
}
