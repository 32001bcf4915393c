//! The one WebSocket per browser tab (protocol: `app::domain::protocol`).
//!
//! The upgrade is refused unless the request carries a signed-in session
//! and, when it says where it comes from, comes from this site. Each socket
//! then runs two halves: the reader paces client frames and hands them to
//! `services::live` (which holds what a socket may see and do), the writer
//! drains the connection's queue into the socket, several frames per
//! flush, ordering each room's messages after a catch-up and sending none
//! twice. Only the transport lives here.

use crate::middleware::error_response;
use crate::site::SitePolicy;
use app::domain::protocol::{
    ClientFrame, CLOSE_RESTART, CLOSE_RESUME, CLOSE_TOO_SLOW, MAX_CLIENT_FRAME, PROTOCOL_VERSION,
};
use app::domain::{RoomId, Seq};
use app::error::AppError;
use app::services::auth::AuthSession;
use app::services::hub::{CatchUp, Closing, Outbound};
use app::services::live::{self, Live};
use app::services::AppState;
use app::store::UserRecord;
use axum::extract::ws::{CloseFrame, Message as WsMessage, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::Query;
use axum::response::Response;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use std::collections::{BTreeSet, HashMap};
use std::num::NonZeroU32;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{timeout, Instant};

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
/// Frames sent per flush at most.
const FRAMES_PER_FLUSH: usize = 64;
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
    upgrade: WebSocketUpgrade,
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
    upgrade
        .read_buffer_size(READ_BUFFER)
        .max_message_size(MAX_CLIENT_FRAME)
        .max_frame_size(MAX_CLIENT_FRAME)
        .on_upgrade(move |socket| {
            // A task of its own: axum's upgrade task, which would hold its
            // own state beside the socket's for the socket's whole life,
            // ends here (0.7 KB less per idle socket, measured).
            tokio::spawn(run(socket, state, user, auth.session));
            std::future::ready(())
        })
}

// A task's future is as big as its biggest await, for the task's whole
// life: opening the socket and the handling of a client frame are boxed,
// so that the thousands of idle sockets stay small.
async fn run(socket: WebSocket, state: AppState, user: UserRecord, session: tower_sessions::Session) {
    let (connection, live) = match Box::pin(live::open(&state, &user, &session)).await {
        Ok(opened) => opened,
        // Logged by the service.
        Err(_) => return,
    };
    // The reader keeps what it needs of the user, not the whole record
    // (which holds the password hash) for the socket's whole life.
    let user_id = user.id;
    drop((user, session));
    let (sink, stream) = socket.split();
    let (stop_reading, stopped) = oneshot::channel();
    let mut reading = tokio::spawn(read(stream, live, stopped));
    tokio::select! {
        _ = write(sink, connection.queue, &connection.closing) => {
            // The reader stops between frames: what a frame it is handling
            // does (a last read mark sent as the tab left) is not cut
            // short halfway.
            drop(stop_reading);
            if timeout(FINISH_FRAME, &mut reading).await.is_err() {
                reading.abort();
            }
        }
        _ = &mut reading => {}
    }
    state.hub.disconnect(connection.id);
    live::seen(&state, user_id);
}

/// The writer half: what the hub and the reader queued, into the socket.
async fn write(
    mut sink: SplitSink<WebSocket, WsMessage>,
    mut queue: mpsc::Receiver<Outbound>,
    closing: &Closing,
) -> Result<(), axum::Error> {
    let mut order = RoomOrder::default();
    let mut ping = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
    let closed = closing.requested();
    tokio::pin!(closed);
    let mut frames = Vec::new();
    loop {
        tokio::select! {
            item = queue.recv() => {
                let Some(item) = item else { return Ok(()) };
                order.frames(item, &mut frames);
                while frames.len() < FRAMES_PER_FLUSH {
                    let Ok(item) = queue.try_recv() else { break };
                    order.frames(item, &mut frames);
                }
                for text in frames.drain(..) {
                    sink.feed(WsMessage::Text(text)).await?;
                }
                within_write_timeout(sink.flush()).await?;
            }
            _ = ping.tick() => {
                within_write_timeout(sink.send(WsMessage::Ping(Default::default()))).await?;
            }
            code = &mut closed => {
                let reason = match code {
                    CLOSE_TOO_SLOW => "too slow: resume",
                    CLOSE_RESUME => "live events missed: resume",
                    CLOSE_RESTART => "server restarting: reconnect",
                    _ => "session ended",
                };
                tracing::debug!(code, reason, "closing a socket");
                let close = CloseFrame { code, reason: Utf8Bytes::from_static(reason) };
                let _ = timeout(Duration::from_secs(1), sink.send(WsMessage::Close(Some(close)))).await;
                return Ok(());
            }
        }
    }
}

async fn within_write_timeout(
    write: impl std::future::Future<Output = Result<(), axum::Error>>,
) -> Result<(), axum::Error> {
    timeout(WRITE_TIMEOUT, write).await.map_err(axum::Error::new)?
}

/// Puts each room's messages on the wire exactly once, and after their
/// catch-up: while a catch-up on a room runs, its live messages wait;
/// afterwards, what the catch-up covered is not sent again.
///
/// With several instances, a room's messages committed on different ones
/// can arrive out of order (the other instance's through Redis), so a
/// message older than the newest one sent still goes out if it was not
/// sent yet. (A tab that sees the newer one first notices the gap and
/// catches up; the late one then only confirms what it holds.)
#[derive(Default)]
struct RoomOrder {
    /// What was sent, per room.
    sent: HashMap<RoomId, Sent>,
    /// Live messages held during a catch-up.
    held: HashMap<RoomId, Vec<(Seq, Utf8Bytes)>>,
}

/// Every message up to `through` was sent, and those in `ahead`.
struct Sent {
    through: Seq,
    ahead: BTreeSet<Seq>,
}

/// Messages sent ahead of a missing one before it is given up on (it was
/// lost between instances; the tab notices the gap and catches up).
const MAX_AHEAD: usize = 256;

impl Sent {
    /// Nothing after `through` sent yet.
    fn through(through: Seq) -> Self {
        Self { through, ahead: BTreeSet::new() }
    }

    /// A catch-up sent everything up to `upto`.
    fn caught_up_to(&mut self, upto: Seq) {
        self.through = self.through.max(upto);
        let through = self.through;
        self.ahead.retain(|seq| *seq > through);
        self.advance();
    }

    fn advance(&mut self) {
        while self.ahead.first() == Some(&(self.through + 1)) {
            self.ahead.pop_first();
            self.through += 1;
        }
        if self.ahead.len() > MAX_AHEAD {
            self.through = self.ahead.last().copied().unwrap_or(self.through);
            self.ahead.clear();
        }
    }
}

impl RoomOrder {
    /// Adds what `item` puts on the wire now to `frames`.
    fn frames(&mut self, item: Outbound, frames: &mut Vec<Utf8Bytes>) {
        match item {
            Outbound::Broadcast(frame) => match frame.position {
                Some((room, seq)) => {
                    let text = frame.text.clone();
                    if let Some(held) = self.held.get_mut(&room) {
                        held.push((seq, text));
                    } else {
                        frames.extend(self.unless_sent(room, seq, text));
                    }
                }
                None => frames.push(frame.text.clone()),
            },
            Outbound::Reply(frame) => frames.push(frame.text.clone()),
            Outbound::CatchUpStarted(room) => {
                self.held.entry(room).or_default();
            }
            Outbound::CatchUp(catch_up) => {
                let CatchUp { room, text, upto } = *catch_up;
                if let Some(upto) = upto {
                    self.sent.entry(room).or_insert(Sent::through(upto)).caught_up_to(upto);
                }
                frames.push(text);
                for (seq, text) in self.held.remove(&room).unwrap_or_default() {
                    frames.extend(self.unless_sent(room, seq, text));
                }
            }
        }
    }

    fn unless_sent(&mut self, room: RoomId, seq: Seq, text: Utf8Bytes) -> Option<Utf8Bytes> {
        let sent = self.sent.entry(room).or_insert(Sent::through(seq - 1));
        // The usual case, the next one in order: nothing to keep aside.
        if seq == sent.through + 1 && sent.ahead.is_empty() {
            sent.through = seq;
            return Some(text);
        }
        if seq <= sent.through || !sent.ahead.insert(seq) {
            return None;
        }
        sent.advance();
        Some(text)
    }
}

/// The reader half: client frames, paced, each handed to the services,
/// until the socket ends or `stop` is dropped (between frames).
async fn read(mut stream: SplitStream<WebSocket>, live: Live, mut stop: oneshot::Receiver<()>) {
    let allowance =
        governor::RateLimiter::direct(governor::Quota::per_second(FRAME_RATE).allow_burst(FRAME_BURST));
    loop {
        let next = tokio::select! {
            next = timeout(IDLE_TIMEOUT, stream.next()) => next,
            _ = &mut stop => return,
        };
        let message = match next {
            Ok(Some(Ok(message))) => message,
            Ok(Some(Err(error))) => {
                tracing::debug!(%error, "socket read failed");
                return;
            }
            Ok(None) | Err(_) => return,
        };
        let WsMessage::Text(text) = message else {
            if matches!(message, WsMessage::Close(_) | WsMessage::Binary(_)) {
                return;
            }
            continue;
        };
        if allowance.check().is_err() {
            tracing::warn!(user = %live.user(), "closing a socket that sends too fast");
            return;
        }
        match ClientFrame::parse(&text) {
            Ok(frame) => {
                if Box::pin(live.handle(frame)).await.is_err() {
                    return;
                }
            }
            Err(error) => tracing::debug!(%error, "ignored a malformed client frame"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::services::hub::Frame;
    use std::sync::Arc;

    fn live(room: i64, seq: Seq) -> Outbound {
        Outbound::Broadcast(Arc::new(Frame {
            position: Some((RoomId(room), seq)),
            text: Utf8Bytes::from(format!("{room}:{seq}")),
        }))
    }

    /// What `item` puts on the wire now.
    fn texts(order: &mut RoomOrder, item: Outbound) -> Vec<String> {
        let mut frames = Vec::new();
        order.frames(item, &mut frames);
        frames.iter().map(|t| t.as_str().to_owned()).collect()
    }

    #[test]
    fn live_messages_wait_for_the_catch_up_and_are_sent_once() {
        let mut order = RoomOrder::default();
        assert_eq!(texts(&mut order, live(1, 5)), ["1:5"]);
        assert!(texts(&mut order, Outbound::CatchUpStarted(RoomId(1))).is_empty());
        assert!(texts(&mut order, live(1, 8)).is_empty());
        assert!(texts(&mut order, live(1, 9)).is_empty());
        // Another room is not held.
        assert_eq!(texts(&mut order, live(2, 1)), ["2:1"]);
        let catch_up = Outbound::CatchUp(Box::new(CatchUp {
            room: RoomId(1),
            text: Utf8Bytes::from_static("6..8"),
            upto: Some(8),
        }));
        assert_eq!(texts(&mut order, catch_up), ["6..8", "1:9"]);
        assert!(texts(&mut order, live(1, 9)).is_empty());
        assert_eq!(texts(&mut order, live(1, 10)), ["1:10"]);
    }

    #[test]
    fn a_message_from_another_instance_may_arrive_late_and_is_sent_once() {
        let mut order = RoomOrder::default();
        assert_eq!(texts(&mut order, live(1, 1)), ["1:1"]);
        // 3 was committed here, 2 on another instance: 2 comes late.
        assert_eq!(texts(&mut order, live(1, 3)), ["1:3"]);
        assert_eq!(texts(&mut order, live(1, 2)), ["1:2"]);
        for seq in 1..=3 {
            assert!(texts(&mut order, live(1, seq)).is_empty(), "{seq} again");
        }
        assert_eq!(texts(&mut order, live(1, 4)), ["1:4"]);
        // One that never comes is given up on once too many went ahead.
        for seq in 6..=(6 + MAX_AHEAD as Seq) {
            assert_eq!(texts(&mut order, live(1, seq)).len(), 1);
        }
        assert!(texts(&mut order, live(1, 5)).is_empty(), "given up on");
        assert!(order.sent[&RoomId(1)].ahead.is_empty());
    }
}
