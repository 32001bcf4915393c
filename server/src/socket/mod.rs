//! The one WebSocket per browser tab (protocol: `app::domain::protocol`).
//!
//! The upgrade is refused unless the request carries a signed-in session
//! and, when it says where it comes from, comes from this site. Each socket
//! then runs two halves: the reader paces client frames and hands them to
//! `services::live` (which holds what a socket may see and do), the writer
//! drains the connection's queue into the socket, several frames per
//! write ([`order`] puts each room's messages after their catch-up and
//! sends none twice). Only the writer writes to the connection ([`wire`]).
//! Only the transport lives here.

mod order;
mod wire;

use crate::middleware::error_response;
use crate::site::SitePolicy;
use app::domain::protocol::{
    ClientFrame, CLOSE_RESTART, CLOSE_RESUME, CLOSE_TOO_SLOW, MAX_CLIENT_FRAME, PROTOCOL_VERSION,
};
use app::error::AppError;
use app::services::auth::AuthSession;
use app::services::hub::{Closing, Outbound};
use app::services::live::{self, Live};
use app::services::AppState;
use app::store::UserRecord;
use axum::extract::Query;
use axum::response::Response;
use futures_util::StreamExt;
use order::RoomOrder;
use std::future::Future;
use std::io;
use std::num::NonZeroU32;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{timeout, Instant};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message as WsMessage;
pub use wire::Upgrade;
use wire::{Reader, Writer};

/// The socket's read buffer: small, because most sockets are idle and
/// client frames are small (tungstenite's default of 128 KiB costs that
/// much memory per connection; a larger frame grows it while it is read).
const READ_BUFFER: usize = 512;
/// How often the server pings; browsers answer on their own.
const PING_EVERY: Duration = Duration::from_secs(30);
/// A socket that sends nothing (not even a pong) for this long is dead.
const IDLE_TIMEOUT: Duration = Duration::from_secs(75);
/// A socket that cannot take a write for this long is dropped.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a frame being handled when the socket ends may still take.
const FINISH_FRAME: Duration = Duration::from_secs(5);
/// How long the close frame may take to go out.
const CLOSE_WITHIN: Duration = Duration::from_secs(1);
/// The close code of a socket closed as asked (RFC 6455).
const CLOSE_NORMAL: u16 = 1000;
/// Frames sent per write at most.
const FRAMES_PER_WRITE: usize = 64;
/// Client frames per second allowed on average, and in a burst.
const FRAME_RATE: NonZeroU32 = NonZeroU32::new(30).expect("not zero");
const FRAME_BURST: NonZeroU32 = NonZeroU32::new(120).expect("not zero");

#[derive(serde::Deserialize)]
pub struct SocketParams {
    v: Option<u32>,
}

pub async fn upgrade(
    state: AppState,
    site: &SitePolicy,
    auth: AuthSession,
    Query(params): Query<SocketParams>,
    headers: &http::HeaderMap,
    upgrade: Upgrade,
) -> Response {
    if !site.is_same_origin(headers) {
        tracing::warn!("refused a WebSocket from another origin");
        return error_response(AppError::Forbidden);
    }
    let Some(user) = auth.user else {
        return error_response(AppError::Unauthenticated);
    };
    if params.v != Some(PROTOCOL_VERSION) {
        return error_response(AppError::BadRequest);
    }
    let config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .max_message_size(Some(MAX_CLIENT_FRAME))
        .max_frame_size(Some(MAX_CLIENT_FRAME));
    upgrade.on_upgrade(config, move |reader, writer| run(reader, writer, state, user, auth.session))
}

// A task's future is as big as its biggest await, for the task's whole
// life: opening the socket and the handling of a client frame are boxed,
// so that the thousands of idle sockets stay small.
async fn run(
    reader: Reader,
    mut writer: Writer,
    state: AppState,
    user: UserRecord,
    session: tower_sessions::Session,
) {
    let (connection, live) = match Box::pin(live::open(&state, &user, &session)).await {
        Ok(opened) => opened,
        // Logged by the service.
        Err(_) => return,
    };
    // The reader keeps what it needs of the user, not the whole record
    // (which holds the password hash) for the socket's whole life.
    let user_id = user.id;
    drop((user, session));
    let (stop_reading, stopped) = oneshot::channel();
    let pongs = connection.replies.clone();
    let mut reading = tokio::spawn(read(reader, live, stopped, pongs));
    let writing = write(&mut writer, connection.queue, &connection.closing);
    tokio::pin!(writing);
    tokio::select! {
        _ = &mut writing => {
            // The reader stops between frames: what a frame it is handling
            // does (a last read mark sent as the tab left) is not cut
            // short halfway.
            drop(stop_reading);
            if timeout(FINISH_FRAME, &mut reading).await.is_err() {
                reading.abort();
            }
        }
        ended = &mut reading => {
            // A client that closed the socket hears its close answered.
            if let Ok(Ended::Closed) = ended {
                connection.closing.close(CLOSE_NORMAL);
                let _ = timeout(CLOSE_WITHIN, writing).await;
            }
        }
    }
    state.hub.disconnect(connection.id);
    live::seen(&state, user_id);
}

/// The writer half: what the hub and the reader queued, into the socket.
async fn write(
    writer: &mut Writer,
    mut queue: mpsc::Receiver<Outbound>,
    closing: &Closing,
) -> io::Result<()> {
    let mut order = RoomOrder::default();
    let mut ping = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
    let closed = closing.requested();
    tokio::pin!(closed);
    let mut frames = Vec::new();
    let mut pong = None;
    loop {
        tokio::select! {
            item = queue.recv() => {
                let mut next = item;
                while let Some(item) = next {
                    match item {
                        Outbound::Pong(payload) => pong = Some(payload),
                        item => order.frames(item, &mut frames),
                    }
                    if frames.len() >= FRAMES_PER_WRITE {
                        break;
                    }
                    next = queue.try_recv().ok();
                }
                let written = within_write_timeout(Box::pin(wire::write_texts(writer, &frames))).await;
                frames.clear();
                written?;
                if let Some(payload) = pong.take() {
                    within_write_timeout(Box::pin(wire::pong(writer, *payload))).await?;
                }
            }
            _ = ping.tick() => within_write_timeout(Box::pin(wire::ping(writer))).await?,
            code = &mut closed => {
                let reason = match code {
                    CLOSE_TOO_SLOW => "too slow: resume",
                    CLOSE_RESUME => "live events missed: resume",
                    CLOSE_RESTART => "server restarting: reconnect",
                    CLOSE_NORMAL => "bye",
                    _ => "session ended",
                };
                tracing::debug!(code, reason, "closing a socket");
                let _ = Box::pin(timeout(CLOSE_WITHIN, wire::close(writer, code, reason))).await;
                return Ok(());
            }
        }
    }
}

/// Runs `write`, given up on after [`WRITE_TIMEOUT`]. Most writes are
/// taken by the kernel at once: those set no timer. Writes come boxed, and
/// so does the timer: the socket's task keeps no room for them while it
/// waits, which it does most of its life.
async fn within_write_timeout(mut write: Pin<Box<impl Future<Output = io::Result<()>>>>) -> io::Result<()> {
    if let Poll::Ready(done) = std::future::poll_fn(|cx| Poll::Ready(write.as_mut().poll(cx))).await {
        return done;
    }
    Box::pin(timeout(WRITE_TIMEOUT, write)).await.map_err(io::Error::other)?
}

/// How the reader ended.
enum Ended {
    /// The client closed the socket.
    Closed,
    /// The connection failed or went silent, the client broke the rules,
    /// or the reader was told to stop.
    Dropped,
}

/// The reader half: client frames, paced, each handed to the services,
/// until the socket ends or `stop` is dropped (between frames).
async fn read(
    mut stream: Reader,
    live: Live,
    mut stop: oneshot::Receiver<()>,
    pongs: mpsc::Sender<Outbound>,
) -> Ended {
    let allowance =
        governor::RateLimiter::direct(governor::Quota::per_second(FRAME_RATE).allow_burst(FRAME_BURST));
    loop {
        let next = tokio::select! {
            next = timeout(IDLE_TIMEOUT, stream.next()) => next,
            _ = &mut stop => return Ended::Dropped,
        };
        let message = match next {
            Ok(Some(Ok(message))) => message,
            Ok(Some(Err(error))) => {
                tracing::debug!(%error, "socket read failed");
                return Ended::Dropped;
            }
            Ok(None) | Err(_) => return Ended::Dropped,
        };
        if matches!(message, WsMessage::Text(_) | WsMessage::Ping(_)) && allowance.check().is_err() {
            tracing::warn!(user = %live.user(), "closing a socket that sends too fast");
            return Ended::Dropped;
        }
        let text = match message {
            WsMessage::Text(text) => text,
            // Answered by the writer; pings sent faster than their
            // answers go out are not all answered.
            WsMessage::Ping(payload) => {
                let _ = pongs.try_send(Outbound::Pong(Box::new(payload)));
                continue;
            }
            WsMessage::Close(_) => return Ended::Closed,
            WsMessage::Binary(_) => return Ended::Dropped,
            WsMessage::Pong(_) | WsMessage::Frame(_) => continue,
        };
        match ClientFrame::parse(&text) {
            Ok(frame) => {
                if Box::pin(live.handle(frame)).await.is_err() {
                    return Ended::Dropped;
                }
            }
            Err(error) => tracing::debug!(%error, "ignored a malformed client frame"),
        }
    }
}
