//! Rooms: listing, browsing, creating, joining, leaving, opening, history,
//! and posting (the WebSocket's `send` frame calls the same service).

use crate::domain::{ClientId, HistoryPage, Message, RoomId, RoomSummary, RoomView, Seq, Visibility};
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {
    super::ssr::*,
    crate::domain::NewRoom,
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

/// Posts a message over HTTP; the same as the socket's `send` frame.
#[server(endpoint = "post_message")]
pub async fn post_message(room: RoomId, client_id: ClientId, body: String) -> Result<Message, AppError> {
    let state = state()?;
    let (_, user) = require_user().await?;
    messages::post(&state, user.id, room, client_id, &body).await
}
