//! Forgotten passwords (issue 19): an admin makes a one-time reset link
//! for a user (`/reset/TOKEN`, valid a day, the user's earlier links
//! voided); whoever opens it chooses a new password once, and every
//! session of the account ends. Only the token's SHA-256 is stored.

use super::{AppState, OrInternal};
use crate::domain::{new_password, UserId};
use crate::error::AppError;
use crate::store::UserRecord;
use base64ct::{Base64UrlUnpadded, Encoding};
use sha2::{Digest, Sha256};

/// How long a reset link works.
pub const RESET_VALID_MS: i64 = 24 * 3_600_000;

/// A token's length: 32 random bytes in unpadded base64url.
const TOKEN_LEN: usize = 43;

/// Makes a reset link for `user` (admins only; to anyone else this does
/// not exist): its path.
#[tracing::instrument(skip_all, fields(actor = %actor.id, user = %user))]
pub async fn make_link(state: &AppState, actor: &UserRecord, user: UserId) -> Result<String, AppError> {
    if !actor.is_admin() {
        return Err(AppError::NotFound);
    }
    let token = new_token()?;
    if !state
        .store
        .insert_reset(user, &hash(&token), RESET_VALID_MS)
        .await
        .or_internal("making a reset link")?
    {
        return Err(AppError::NotFound);
    }
    tracing::info!("password reset link made");
    Ok(format!("/reset/{token}"))
}

/// How often one account may be mailed a reset link.
const MAIL_EVERY_MS: i64 = 5 * 60_000;

/// Mails a reset link to the account with `email`, if there is one and
/// it was not mailed one in the last five minutes. The answer is the same
/// either way (nobody learns who has an account here), and the mail goes
/// in the background. `NotFound` when the server sends no mail.
#[tracing::instrument(skip_all)]
pub async fn request_by_mail(state: &AppState, email: &str) -> Result<(), AppError> {
    let Some(mail) = &state.mail else { return Err(AppError::NotFound) };
    let key = email.trim().to_lowercase();
    if key.is_empty() || key.chars().count() > crate::domain::EMAIL_MAX {
        return Err(AppError::field(crate::error::Field::Email, crate::error::Problem::InvalidEmail));
    }
    let Some(user) = state.store.user_by_email_key(&key).await.or_internal("finding an account")? else {
        return Ok(());
    };
    if user.deactivated_at.is_some() {
        return Ok(());
    }
    let recent = state.store.reset_made_since(user.id, crate::store::now_millis() - MAIL_EVERY_MS).await;
    if recent.or_internal("reading reset links")? {
        return Ok(());
    }
    let token = new_token()?;
    if state
        .store
        .insert_reset(user.id, &hash(&token), RESET_VALID_MS)
        .await
        .or_internal("making a reset link")?
    {
        mail.send_reset_link(&user.email, &user.username, &format!("/reset/{token}"));
    }
    Ok(())
}

/// Whether users may ask for a reset link by mail here.
pub fn by_mail(state: &AppState) -> bool {
    state.mail.is_some()
}

/// Whether `token` is a reset link that still works (`NotFound` if not).
pub async fn check(state: &AppState, token: &str) -> Result<(), AppError> {
    let hash = well_formed(token).ok_or(AppError::NotFound)?;
    match state.store.reset_owner(&hash).await.or_internal("reading a reset link")? {
        Some(_) => Ok(()),
        None => Err(AppError::NotFound),
    }
}

/// Sets a new password with the reset link `token`, once; signs the
/// account out everywhere.
#[tracing::instrument(skip_all)]
pub async fn reset(
    state: &AppState,
    token: &str,
    password: &str,
    confirmation: &str,
) -> Result<(), AppError> {
    let hash = well_formed(token).ok_or(AppError::NotFound)?;
    let password = new_password(password, confirmation)?;
    // Told before the costly hash when the link is already gone.
    check(state, token).await?;
    let password_hash = state.passwords.hash(password.expose().to_owned()).await?;
    let user = state.store.use_reset(&hash, &password_hash).await.or_internal("resetting a password")?;
    let user = user.ok_or(AppError::NotFound)?;
    super::auth::other_sessions_ended(state, user, None).await;
    tracing::info!(%user, "password reset");
    Ok(())
}

fn new_token() -> Result<String, AppError> {
    let mut random = [0u8; 32];
    getrandom::fill(&mut random).or_internal("drawing a reset token")?;
    Ok(Base64UrlUnpadded::encode_string(&random))
}

/// The hash of `token` if it has a token's form.
fn well_formed(token: &str) -> Option<String> {
    let valid = token.len() == TOKEN_LEN
        && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    valid.then(|| hash(token))
}

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}
