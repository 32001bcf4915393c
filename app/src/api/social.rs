//! Friends, friend requests, blocks and direct conversations.

use crate::domain::{DmPolicy, FriendsView, Pending, Relation, RoomSummary, UserCard, UserId};
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {super::ssr::*, crate::services::social};

/// Friends, pending requests both ways, blocked users and who may message.
#[server(endpoint = "friends")]
pub async fn friends() -> Result<FriendsView, AppError> {
    let (state, user) = (state()?, require_user().await?.1);
    social::friends(&state, user.id).await
}

/// The header's badges.
#[server(endpoint = "pending")]
pub async fn pending_counts() -> Result<Pending, AppError> {
    let (state, user) = (state()?, require_user().await?.1);
    social::pending(&state, user.id).await
}

/// Another user's public profile (never their email) and what they are to
/// the viewer.
#[server(endpoint = "user")]
pub async fn view_user(username: String) -> Result<UserCard, AppError> {
    let (state, user) = (state()?, require_user().await?.1);
    social::card(&state, user.id, &username).await
}

#[server(endpoint = "friend_request")]
pub async fn send_friend_request(username: String) -> Result<Relation, AppError> {
    let (state, user) = (state()?, require_user().await?.1);
    social::request(&state, user.id, &username).await
}

#[server(endpoint = "friend_accept")]
pub async fn accept_friend(user: UserId) -> Result<(), AppError> {
    let (state, me) = (state()?, require_user().await?.1);
    social::accept(&state, me.id, user).await
}

#[server(endpoint = "friend_decline")]
pub async fn decline_friend(user: UserId) -> Result<(), AppError> {
    let (state, me) = (state()?, require_user().await?.1);
    social::withdraw(&state, user, me.id).await
}

#[server(endpoint = "friend_cancel")]
pub async fn cancel_friend_request(user: UserId) -> Result<(), AppError> {
    let (state, me) = (state()?, require_user().await?.1);
    social::withdraw(&state, me.id, user).await
}

#[server(endpoint = "friend_remove")]
pub async fn remove_friend(user: UserId) -> Result<(), AppError> {
    let (state, me) = (state()?, require_user().await?.1);
    social::unfriend(&state, me.id, user).await
}

#[server(endpoint = "block")]
pub async fn block_user(user: UserId) -> Result<(), AppError> {
    let (state, me) = (state()?, require_user().await?.1);
    social::block(&state, me.id, user).await
}

#[server(endpoint = "unblock")]
pub async fn unblock_user(user: UserId) -> Result<(), AppError> {
    let (state, me) = (state()?, require_user().await?.1);
    social::unblock(&state, me.id, user).await
}

#[server(endpoint = "dm_policy")]
pub async fn set_dm_policy(policy: DmPolicy) -> Result<(), AppError> {
    let (state, me) = (state()?, require_user().await?.1);
    social::set_dm_policy(&state, me.id, policy).await
}

/// The direct conversation with `user`, created the first time.
#[server(endpoint = "direct")]
pub async fn open_direct(user: UserId) -> Result<RoomSummary, AppError> {
    let (state, me) = (state()?, require_user().await?.1);
    social::open_direct(&state, me.id, user).await
}
