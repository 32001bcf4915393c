//! Rooms: listing, browsing, creating, joining, leaving, opening, history,
//! and posting (the WebSocket's `send` frame calls the same service).

use crate::domain::{
    AttachmentId, ClientId, HistoryPage, HistoryWindow, Message, RoomId, RoomSummary, RoomView, SearchCursor,
    SearchPage, Seq, Visibility,
};
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {
    super::ssr::*,
    crate::domain::{NewRoom, WindowAt},
    crate::services::{messages, rooms},
};

/// The rooms the user is a member of, most recently active first.
#[server(endpoint = "my_rooms")]
pub async fn my_rooms() -> Result<Vec<RoomSummary>, AppError> {
    let state = state()?;
    let (_, user) = require_user().await?;
    rooms::mine(&state, user.id).await
}

/// Public rooms whose name or topic contains `query`.
#[server(endpoint = "browse_rooms")]
pub async fn browse_rooms(query: String) -> Result<Vec<RoomSummary>, AppError> {
    let state = state()?;
    let (_, user) = require_user().await?;
    rooms::browse(&state, user.id, &query).await
}

/// Whether the signed-in user may create rooms here.
#[server(endpoint = "may_create_rooms")]
pub async fn may_create_rooms() -> Result<bool, AppError> {
    let (state, user) = (state()?, require_user().await?.1);
    rooms::may_create(&state, user.id).await
}

#[server(endpoint = "create_room")]
pub async fn create_room(
    name: String,
    topic: String,
    visibility: Visibility,
) -> Result<RoomSummary, AppError> {
    let state = state()?;
    let (_, user) = require_user().await?;
    rooms::create(&state, user.id, &NewRoom { name, topic, visibility }).await
}

#[server(endpoint = "join_room")]
pub async fn join_room(room: RoomId) -> Result<RoomSummary, AppError> {
    let state = state()?;
    let (_, user) = require_user().await?;
    rooms::join(&state, user.id, room).await
}

#[server(endpoint = "leave_room")]
pub async fn leave_room(room: RoomId) -> Result<(), AppError> {
    let state = state()?;
    let (_, user) = require_user().await?;
    rooms::leave(&state, user.id, room).await
}

/// The room, its members and its newest messages.
#[server(endpoint = "open_room")]
pub async fn open_room(room: RoomId) -> Result<RoomView, AppError> {
    let state = state()?;
    let (_, user) = require_user().await?;
    rooms::open(&state, user.id, room).await
}

/// The page of messages before `before`.
#[server(endpoint = "room_history")]
pub async fn room_history(room: RoomId, before: Seq) -> Result<HistoryPage, AppError> {
    let state = state()?;
    let (_, user) = require_user().await?;
    messages::history(&state, user.id, room, Some(before)).await
}

/// Half a page of messages before message `seq`, it and what follows:
/// where a reply's original or a search hit is shown.
#[server(endpoint = "room_history_around")]
pub async fn room_history_around(room: RoomId, seq: Seq) -> Result<HistoryWindow, AppError> {
    let state = state()?;
    let (_, user) = require_user().await?;
    messages::window(&state, user.id, room, WindowAt::Around(seq)).await
}

/// A page of messages after number `after`: what fills a hole in a tab's
/// history from its older side.
#[server(endpoint = "room_history_after")]
pub async fn room_history_after(room: RoomId, after: Seq) -> Result<HistoryWindow, AppError> {
    let state = state()?;
    let (_, user) = require_user().await?;
    messages::window(&state, user.id, room, WindowAt::After(after)).await
}

/// Posts a message over HTTP; the same as the socket's `send` frame.
#[server(endpoint = "post_message")]
pub async fn post_message(
    room: RoomId,
    client_id: ClientId,
    body: String,
    reply_to: Option<Seq>,
    attachments: Option<Vec<AttachmentId>>,
) -> Result<Message, AppError> {
    let state = state()?;
    let (_, user) = require_user().await?;
    let attachments = attachments.unwrap_or_default();
    messages::post(&state, user.id, room, client_id, &body, reply_to, &attachments).await
}

/// Replaces the text of one's own message `seq`.
#[server(endpoint = "edit_message")]
pub async fn edit_message(room: RoomId, seq: Seq, body: String) -> Result<(), AppError> {
    let state = state()?;
    let (_, user) = require_user().await?;
    messages::edit(&state, user.id, room, seq, &body).await
}

/// Deletes message `seq` (one's own, or anyone's as owner or admin).
#[server(endpoint = "delete_message")]
pub async fn delete_message(room: RoomId, seq: Seq) -> Result<(), AppError> {
    let state = state()?;
    let (_, user) = require_user().await?;
    messages::delete(&state, user.id, room, seq).await
}

/// Adds (`on`) or removes one's reaction `emoji` to message `seq`.
#[server(endpoint = "react")]
pub async fn react(room: RoomId, seq: Seq, emoji: String, on: bool) -> Result<(), AppError> {
    let state = state()?;
    let (_, user) = require_user().await?;
    messages::react(&state, user.id, room, seq, &emoji, on).await
}

/// Messages with every word of `query`, newest first: in `room` if given,
/// else in every room the user can read; `before` continues a page.
#[server(endpoint = "search")]
pub async fn search_messages(
    query: String,
    room: Option<RoomId>,
    before: Option<SearchCursor>,
) -> Result<SearchPage, AppError> {
    let state = state()?;
    let (_, user) = require_user().await?;
    crate::services::search::search(&state, user.id, &query, room, before).await
}
