//! Join links: made, listed and revoked by the people the settings allow,
//! and read by whoever opens one (`/join/CODE`).

use crate::domain::{JoinInvitation, JoinLink, JoinLinkExpiry, JoinLinks, SignUp};
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {super::ssr::*, crate::services::join_links};

/// One's join links (an admin's: everyone's), and whether one may make more.
#[server(endpoint = "join_links")]
pub async fn my_join_links() -> Result<JoinLinks, AppError> {
    let (state, actor) = (state()?, require_user().await?.1);
    join_links::list(&state, &actor).await
}

/// Makes a join link; `max_uses` as typed (empty: no limit).
#[server(endpoint = "join_link_make")]
pub async fn join_link_make(expiry: JoinLinkExpiry, max_uses: String) -> Result<JoinLink, AppError> {
    let (state, actor) = (state()?, require_user().await?.1);
    join_links::make(&state, &actor, expiry, &max_uses).await
}

/// Revokes a join link (its maker's or, for an admin, anyone's).
#[server(endpoint = "join_link_revoke")]
pub async fn join_link_revoke(code: String) -> Result<(), AppError> {
    let (state, actor) = (state()?, require_user().await?.1);
    join_links::revoke(&state, &actor, &code).await
}

/// What `/join/CODE` tells whoever opens it (signed in or not).
#[server(endpoint = "join_invitation")]
pub async fn join_link_invitation(code: String) -> Result<JoinInvitation, AppError> {
    join_links::invitation(&state()?, &code).await
}

/// Who may create an account here, for the registration page.
#[server(endpoint = "sign_up_mode")]
pub async fn sign_up_mode() -> Result<SignUp, AppError> {
    Ok(crate::services::admin::current_settings(&state()?).await?.sign_up)
}
