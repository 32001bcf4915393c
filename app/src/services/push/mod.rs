//! Push notifications (Web Push: RFC 8030, with RFC 8291's encryption and
//! RFC 8292's VAPID signature, by `web-push-native`): a device subscribes,
//! and the messages its user wants are pushed to it, off the hot path
//! ([`sender`]).
//!
//! What is pushed to whom is decided here ([`wanted`]); the store only
//! gathers the candidates. The instance that commits a message pushes it:
//! each push is sent once, however many instances run.

mod address;
mod sender;

pub use sender::{Pusher, Vapid};

use super::{rooms, AppState, OrInternal};
use crate::domain::{
    preview_of, Message, Notify, PushDevice, PushPayload, RoomId, UserId, MAX_PUSH_DEVICES, MAX_PUSH_ENDPOINT,
};
use crate::error::{AppError, Field, Problem};
use crate::i18n::Lang;
use crate::store::PushTarget;

/// Whether `message` is pushed to `target`'s device: never their own
/// message, nor a room's event line, nor one from someone they block;
/// what their level for the room wants (direct messages and mentions by
/// default); and nothing while they look at the room or did within the
/// last minute (`looking`, see `hub::looking`).
pub fn wanted(target: &PushTarget, message: &Message, looking: bool) -> bool {
    let mentioned = message.mentions.contains(&target.user);
    target.user != message.author.id
        && message.event.is_none()
        && !message.deleted
        && !target.blocks_author
        && target.notify.wants(mentioned)
        && !looking
}

/// What the notification of `message` shows on `target`'s device.
pub fn payload(target: &PushTarget, message: &Message) -> PushPayload {
    let t = Lang::from_tag(&target.lang).unwrap_or_default().texts();
    let author = message.author.shown_name();
    let text = target.previews.then(|| preview_of(&message.body, &message.attachments));
    let (title, body) = match (target.direct, text) {
        (true, Some(text)) => (author.to_owned(), text),
        (true, None) => (author.to_owned(), t.push_new_message.to_owned()),
        (false, Some(text)) => (target.room_name.clone(), format!("{author}: {text}")),
        (false, None) => (target.room_name.clone(), (t.push_new_message_from)(author)),
    };
    PushPayload {
        title,
        body,
        url: format!("/rooms/{}?at={}", message.room, message.seq),
        tag: format!("room-{}", message.room),
    }
}

/// A device the browser handed over, checked: an `https` push service
/// (plain `http` on this machine only when the settings allow it, for
/// tests) named by a host name or a public address (see [`address`]), and
/// keys of the right kind and size.
pub fn check_device(device: &PushDevice, allow_http: bool) -> Result<(), AppError> {
    let unsupported = || AppError::field(Field::Notifications, Problem::PushServiceUnsupported);
    if device.endpoint.len() > MAX_PUSH_ENDPOINT {
        return Err(unsupported());
    }
    let url = url::Url::parse(&device.endpoint).map_err(|_| unsupported())?;
    let ip = match url.host() {
        Some(url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
        _ => None,
    };
    let loopback = ip.is_some_and(|ip| ip.is_loopback());
    let scheme_ok = url.scheme() == "https" || (allow_http && url.scheme() == "http" && loopback);
    let host_ok = match ip {
        Some(ip) => address::is_public(ip) || (allow_http && loopback),
        // A name is checked as it is resolved, each time; these never
        // leave the machine.
        None => url.host_str().is_some_and(|host| {
            let host = host.trim_end_matches('.');
            !host.is_empty() && host != "localhost" && !host.ends_with(".localhost")
        }),
    };
    if !scheme_ok || !host_ok || !url.username().is_empty() || url.password().is_some() {
        return Err(unsupported());
    }
    sender::keys(device).map(drop).ok_or(AppError::BadRequest)
}

/// Pushes `user`'s later messages to `device` (this browser), worded in
/// `lang`, until the session with socket key `session_key` ends.
#[tracing::instrument(skip_all, fields(user = %user))]
pub async fn subscribe(
    state: &AppState,
    user: UserId,
    session_key: &str,
    lang: Lang,
    device: &PushDevice,
) -> Result<(), AppError> {
    check_device(device, state.push.allows_http())?;
    state
        .store
        .add_push_device(user, session_key, lang.code(), device, MAX_PUSH_DEVICES)
        .await
        .or_internal("keeping a push device")?;
    state.push.subscribed();
    Ok(())
}

/// Stops pushing to `user`'s device at `endpoint`.
#[tracing::instrument(skip_all, fields(user = %user))]
pub async fn unsubscribe(state: &AppState, user: UserId, endpoint: &str) -> Result<(), AppError> {
    state.store.remove_push_device(user, endpoint).await.or_internal("forgetting a push device")?;
    Ok(())
}

/// The session with socket key `session_key` ended (a sign-out): the
/// devices it subscribed are notified no more, so that the next person on
/// a shared browser never sees this user's messages.
pub(super) async fn session_ended(state: &AppState, user: UserId, session_key: &str) {
    if let Err(error) = state.store.remove_push_devices_of_session(user, session_key).await {
        super::internal("forgetting a session's push devices", error);
    }
}

/// The sessions with these socket keys expired (a month without a
/// visit): as after a sign-out, their devices are notified no more.
pub(super) async fn sessions_expired(state: &AppState, session_keys: &[String]) -> Result<(), AppError> {
    if session_keys.is_empty() {
        return Ok(());
    }
    state
        .store
        .remove_push_devices_of_sessions(session_keys)
        .await
        .or_internal("forgetting expired sessions' push devices")
}

/// Every session of `user` but `keep`'s ended (a password change).
pub(super) async fn other_sessions_ended(state: &AppState, user: UserId, keep: Option<&str>) {
    if let Err(error) = state.store.remove_push_devices_but(user, keep).await {
        super::internal("forgetting other sessions' push devices", error);
    }
}

/// Sends a test notification to `user`'s device at `endpoint`, and says
/// whether its push service took it.
#[tracing::instrument(skip_all, fields(user = %user))]
pub async fn test(state: &AppState, user: UserId, endpoint: &str, lang: Lang) -> Result<(), AppError> {
    let device = state
        .store
        .push_device(user, endpoint)
        .await
        .or_internal("reading a push device")?
        .ok_or(AppError::NotFound)?;
    let payload = PushPayload {
        title: "Salon".into(),
        body: lang.texts().push_test_body.into(),
        url: "/profile".into(),
        tag: "test".into(),
    };
    state.push.send_now(&device, &payload).await
}

/// Sets which of `room`'s messages `user` has pushed (a member only).
#[tracing::instrument(skip_all, fields(user = %user, room = %room))]
pub async fn set_level(state: &AppState, user: UserId, room: RoomId, level: Notify) -> Result<(), AppError> {
    rooms::membership(state, user, room).await?;
    if !state.store.set_notify(room, user, level).await.or_internal("setting notifications")? {
        return Err(AppError::NotFound);
    }
    Ok(())
}

/// Whether `user`'s notifications show the message's text.
pub async fn previews(state: &AppState, user: UserId) -> Result<bool, AppError> {
    state.store.push_previews(user).await.or_internal("reading notification settings")
}

pub async fn set_previews(state: &AppState, user: UserId, on: bool) -> Result<(), AppError> {
    state.store.set_push_previews(user, on).await.or_internal("setting notification previews")
}

#[cfg(test)]
mod tests;
