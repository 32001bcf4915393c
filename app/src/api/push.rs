//! Push notifications: this device's subscription, the test notification,
//! each room's level and the previews setting.

use crate::domain::{Notify, RoomId};
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use {super::ssr::*, crate::domain::PushDevice, crate::services::push};

/// What the profile page needs to offer notifications.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationSettings {
    /// The server's VAPID public key (base64url): browsers subscribe with it.
    pub key: String,
    /// Whether notifications show the message's text.
    pub previews: bool,
}

#[server(endpoint = "push_settings")]
pub async fn push_settings() -> Result<NotificationSettings, AppError> {
    let (state, user) = (state()?, require_user().await?.1);
    Ok(NotificationSettings {
        key: state.push.public_key(),
        previews: push::previews(&state, user.id).await?,
    })
}

/// Pushes the caller's notifications to this browser's subscription.
#[server(endpoint = "push_subscribe")]
pub async fn push_subscribe(endpoint: String, p256dh: String, auth: String) -> Result<(), AppError> {
    let (state, (session, user)) = (state()?, require_user().await?);
    let key = socket_key(&session, false).await?;
    let lang = request_lang().await;
    push::subscribe(&state, user.id, &key, lang, &PushDevice { endpoint, p256dh, auth }).await
}

#[server(endpoint = "push_unsubscribe")]
pub async fn push_unsubscribe(endpoint: String) -> Result<(), AppError> {
    let (state, user) = (state()?, require_user().await?.1);
    push::unsubscribe(&state, user.id, &endpoint).await
}

/// Sends a test notification to the caller's device at `endpoint`.
#[server(endpoint = "push_test")]
pub async fn push_test(endpoint: String) -> Result<(), AppError> {
    let (state, user) = (state()?, require_user().await?.1);
    push::test(&state, user.id, &endpoint, request_lang().await).await
}

#[server(endpoint = "push_previews")]
pub async fn set_push_previews(on: bool) -> Result<(), AppError> {
    let (state, user) = (state()?, require_user().await?.1);
    push::set_previews(&state, user.id, on).await
}

/// Which of `room`'s messages the caller has pushed.
#[server(endpoint = "room_notify")]
pub async fn set_room_notify(room: RoomId, level: Notify) -> Result<(), AppError> {
    let (state, user) = (state()?, require_user().await?.1);
    push::set_level(&state, user.id, room, level).await
}

/// The language the request asks for (see `Lang::of_request`).
#[cfg(feature = "ssr")]
async fn request_lang() -> crate::i18n::Lang {
    leptos_axum::extract::<http::HeaderMap>()
        .await
        .map(|headers| crate::i18n::Lang::of_request(&headers))
        .unwrap_or_default()
}
