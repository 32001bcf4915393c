//! Join links (issue 19): who may make, see and revoke them, and what
//! someone opening one is told. Using one is part of registering
//! (`accounts::register`).

use super::{AppState, OrInternal};
use crate::domain::{
    parse_max_uses, JoinCode, JoinInvitation, JoinLink, JoinLinkExpiry, JoinLinkState, JoinLinks,
    JOIN_LINKS_LISTED, JOIN_LINKS_PER_MAKER,
};
use crate::error::{AppError, Field, Problem};
use crate::store::{LinkMade, UserRecord};
use base64ct::{Base64UrlUnpadded, Encoding};

/// The links `actor` sees: their own, or everyone's for an admin.
pub async fn list(state: &AppState, actor: &UserRecord) -> Result<JoinLinks, AppError> {
    let admin = actor.is_admin();
    let may_make = super::admin::current_settings(state).await?.may_make_join_links(admin);
    let maker = (!admin).then_some(actor.id);
    let links = state.store.join_links(maker, JOIN_LINKS_LISTED).await.or_internal("listing join links")?;
    Ok(JoinLinks { links, may_make, now: crate::store::now_millis() })
}

/// Makes a join link, if the settings let `actor` (`may_make_join_links`)
/// and they have fewer than [`JOIN_LINKS_PER_MAKER`] usable ones (checked
/// again by the store in its write transaction).
#[tracing::instrument(skip_all, fields(actor = %actor.id))]
pub async fn make(
    state: &AppState,
    actor: &UserRecord,
    expiry: JoinLinkExpiry,
    max_uses: &str,
) -> Result<JoinLink, AppError> {
    if !super::admin::current_settings(state).await?.may_make_join_links(actor.is_admin()) {
        return Err(AppError::Forbidden);
    }
    let max_uses = parse_max_uses(max_uses).map_err(|problem| AppError::field(Field::MaxUses, problem))?;
    let mut random = [0u8; 16];
    getrandom::fill(&mut random).or_internal("drawing a join code")?;
    let code = Base64UrlUnpadded::encode_string(&random);
    let expires_at = expiry.millis().map(|ms| crate::store::now_millis() + ms);
    let made = state
        .store
        .insert_join_link(actor.id, &code, expires_at, max_uses, JOIN_LINKS_PER_MAKER)
        .await
        .or_internal("making a join link")?;
    match made {
        LinkMade::Made(link) => {
            tracing::info!(expiry = expiry.as_str(), ?max_uses, "join link made");
            Ok(link)
        }
        LinkMade::TooMany => {
            Err(AppError::field(Field::JoinLink, Problem::TooManyJoinLinks { max: JOIN_LINKS_PER_MAKER }))
        }
    }
}

/// Revokes a link: its maker or an admin may; to anyone else it does not
/// exist.
#[tracing::instrument(skip_all, fields(actor = %actor.id))]
pub async fn revoke(state: &AppState, actor: &UserRecord, code: &str) -> Result<(), AppError> {
    let code = JoinCode::parse(code).ok_or(AppError::NotFound)?;
    let by = (!actor.is_admin()).then_some(actor.id);
    if state.store.revoke_join_link(code.as_str(), by).await.or_internal("revoking a join link")? {
        tracing::info!("join link revoked");
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// A link as its maker or an admin may see it (for its QR code); to
/// anyone else it does not exist.
pub async fn shown_to(state: &AppState, actor: &UserRecord, code: &str) -> Result<JoinLink, AppError> {
    let code = JoinCode::parse(code).ok_or(AppError::NotFound)?;
    match state.store.join_link(code.as_str()).await.or_internal("reading a join link")? {
        Some(link) if actor.is_admin() || link.made_by.id == actor.id => Ok(link),
        _ => Err(AppError::NotFound),
    }
}

/// What `/join/CODE` tells whoever opens it: who invites them, and whether
/// they can make an account with it now.
pub async fn invitation(state: &AppState, code: &str) -> Result<JoinInvitation, AppError> {
    let code = JoinCode::parse(code).ok_or(AppError::NotFound)?;
    let link = state.store.join_link(code.as_str()).await.or_internal("reading a join link")?;
    let link = link.ok_or(AppError::NotFound)?;
    let settings = super::admin::current_settings(state).await?;
    let usable =
        link.state(crate::store::now_millis()) == JoinLinkState::Usable && settings.may_register(true);
    Ok(JoinInvitation { made_by: link.made_by, usable })
}
