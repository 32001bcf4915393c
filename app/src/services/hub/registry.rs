//! This instance's sockets: which connection receives which room, whose
//! sockets they are, and the bounded queue of each.
//!
//! A frame is serialized once per broadcast and its bytes are shared by
//! every receiver. Delivery never waits: a connection whose queue is full
//! is cut off (its socket closes, the client reconnects and resumes from
//! the database), so one slow reader cannot slow a room down.

use crate::domain::protocol::{ServerFrame, CLOSE_SIGNED_OUT, CLOSE_TOO_SLOW};
use crate::domain::{RoomId, Seq, UserId};
use crate::services::metrics::METRICS;
use axum::extract::ws::Utf8Bytes;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{mpsc, Notify};

/// Frames one connection's queue holds before it counts as too slow.
pub const QUEUE_CAPACITY: usize = 1024;

pub type ConnId = u64;

/// What a connection's queue carries, in the order the socket must send it.
///
/// Every socket has a queue, idle or not, and a queue allocates room for
/// 32 items at a time: items are kept to two words (16 bytes), the frames
/// themselves live behind a pointer (a broadcast's is shared by all its
/// receivers).
#[derive(Debug)]
pub enum Outbound {
    /// A frame published to a room or a user.
    Broadcast(Arc<Frame>),
    /// A catch-up on `room` is under way: hold its messages until it ends.
    CatchUpStarted(RoomId),
    /// The catch-up itself.
    CatchUp(Box<CatchUp>),
    /// An answer to this connection's own request.
    Reply(Arc<Frame>),
    /// The answer to the client's ping (only the socket's writer writes).
    Pong(Box<axum::body::Bytes>),
}

/// A serialized frame; `position` is set for room messages, so that a
/// connection can order them after a catch-up and drop what it already sent.
#[derive(Debug)]
pub struct Frame {
    pub position: Option<(RoomId, Seq)>,
    pub text: Utf8Bytes,
}

impl Frame {
    /// A frame that is not a room message.
    pub fn plain(text: Utf8Bytes) -> Arc<Self> {
        Arc::new(Self { position: None, text })
    }

    /// A frame published to `room`: a message there if it has a `seq`.
    pub fn in_room(room: RoomId, seq: Option<Seq>, text: Utf8Bytes) -> Arc<Self> {
        Arc::new(Self { position: seq.map(|seq| (room, seq)), text })
    }
}

/// A catch-up on `room`, covering its messages up to `upto`.
#[derive(Debug)]
pub struct CatchUp {
    pub room: RoomId,
    pub text: Utf8Bytes,
    pub upto: Option<Seq>,
}

/// One registered socket, as its task holds it.
pub struct Connection {
    pub id: ConnId,
    pub queue: mpsc::Receiver<Outbound>,
    /// For the connection's own replies (which wait for room in the queue).
    pub replies: mpsc::Sender<Outbound>,
    /// Tells the socket's task to close it, and with which code.
    pub closing: Arc<Closing>,
}

/// A request to close a socket: its queue overflowed, its session ended,
/// the server is stopping, or it may have missed live events.
#[derive(Default)]
pub struct Closing {
    notify: Notify,
    code: AtomicU16,
}

impl Closing {
    /// Asks the socket's task to close it with `code`.
    pub fn close(&self, code: u16) {
        self.code.store(code, Ordering::Relaxed);
        self.notify.notify_one();
    }

    /// Waits until the socket must close; returns the close code.
    pub async fn requested(&self) -> u16 {
        self.notify.notified().await;
        self.code.load(Ordering::Relaxed)
    }
}

pub(super) struct Conn {
    pub(super) user: UserId,
    /// The socket key of the session it was opened with (see
    /// `api::ssr::socket_key`).
    session: Option<String>,
    queue: mpsc::Sender<Outbound>,
    closing: Arc<Closing>,
    pub(super) rooms: HashSet<RoomId>,
    /// The user's friends when the socket opened: they see the user's
    /// presence even without a room in common.
    pub(super) friends: Vec<UserId>,
    /// Told to close: it receives nothing more.
    closed: bool,
}

/// The local sockets and what each receives.
#[derive(Default)]
pub(super) struct Registry {
    next_id: ConnId,
    pub(super) conns: HashMap<ConnId, Conn>,
    /// Each room's receivers.
    pub(super) rooms: HashMap<RoomId, HashMap<ConnId, mpsc::Sender<Outbound>>>,
    /// Each user's sockets.
    pub(super) users: HashMap<UserId, Vec<ConnId>>,
    /// Sockets watching the public rooms' directory.
    directory: HashMap<ConnId, mpsc::Sender<Outbound>>,
}

impl Registry {
    /// Registers a socket of `user` receiving `rooms`, with `hello` first
    /// in its queue; returns it and whether it is the user's first here.
    pub(super) fn register(
        &mut self,
        user: UserId,
        session: Option<String>,
        rooms: &[RoomId],
        friends: &[UserId],
        hello: Utf8Bytes,
    ) -> (Connection, bool) {
        let (queue_tx, queue) = mpsc::channel(QUEUE_CAPACITY);
        let _ = queue_tx.try_send(Outbound::Reply(Frame::plain(hello)));
        let closing = Arc::new(Closing::default());
        self.next_id += 1;
        let id = self.next_id;
        let conn = Conn {
            user,
            session,
            queue: queue_tx.clone(),
            closing: closing.clone(),
            rooms: HashSet::new(),
            friends: friends.to_vec(),
            closed: false,
        };
        self.conns.insert(id, conn);
        for room in rooms {
            self.subscribe(id, *room);
        }
        let sockets = self.users.entry(user).or_default();
        sockets.push(id);
        let first = sockets.len() == 1;
        (Connection { id, queue, replies: queue_tx, closing }, first)
    }

    /// Forgets socket `id`; returns it if it was its user's last here.
    pub(super) fn unregister(&mut self, id: ConnId) -> Option<Conn> {
        let conn = self.conns.remove(&id)?;
        self.directory.remove(&id);
        for room in &conn.rooms {
            self.unsubscribe_room(*room, id);
        }
        let sockets = self.users.get_mut(&conn.user)?;
        sockets.retain(|s| *s != id);
        if !sockets.is_empty() {
            return None;
        }
        self.users.remove(&conn.user);
        Some(conn)
    }

    pub(super) fn sockets_of(&self, user: UserId) -> Vec<ConnId> {
        self.users.get(&user).cloned().unwrap_or_default()
    }

    /// The queues of every socket of `user`.
    pub(super) fn queues_of(&self, user: UserId) -> impl Iterator<Item = (&ConnId, &mpsc::Sender<Outbound>)> {
        self.users
            .get(&user)
            .into_iter()
            .flatten()
            .filter_map(|id| self.conns.get(id).map(|conn| (id, &conn.queue)))
    }

    pub(super) fn subscribe(&mut self, id: ConnId, room: RoomId) {
        let Some(conn) = self.conns.get_mut(&id) else { return };
        if conn.closed {
            return;
        }
        conn.rooms.insert(room);
        let queue = conn.queue.clone();
        self.rooms.entry(room).or_default().insert(id, queue);
    }

    pub(super) fn unsubscribe(&mut self, id: ConnId, room: RoomId) {
        if let Some(conn) = self.conns.get_mut(&id) {
            conn.rooms.remove(&room);
        }
        self.unsubscribe_room(room, id);
    }

    /// Takes socket `id` out of `room`'s receivers only (its own list of
    /// rooms is the caller's business).
    fn unsubscribe_room(&mut self, room: RoomId, id: ConnId) {
        if let Some(receivers) = self.rooms.get_mut(&room) {
            receivers.remove(&id);
            if receivers.is_empty() {
                self.rooms.remove(&room);
            }
        }
    }

    /// Makes every socket of `user` receive `room`.
    pub(super) fn add_member(&mut self, room: RoomId, user: UserId) {
        for id in self.sockets_of(user) {
            self.subscribe(id, room);
        }
    }

    /// Stops every socket of `user` receiving `room`.
    pub(super) fn remove_member(&mut self, room: RoomId, user: UserId) {
        for id in self.sockets_of(user) {
            self.unsubscribe(id, room);
        }
    }

    /// Stops every socket receiving `room` whose user is not in `members`.
    pub(super) fn keep_only(&mut self, room: RoomId, members: &HashSet<UserId>) {
        let outsiders: Vec<ConnId> = self
            .rooms
            .get(&room)
            .into_iter()
            .flat_map(|receivers| receivers.keys())
            .filter(|id| self.conns.get(id).is_some_and(|conn| !members.contains(&conn.user)))
            .copied()
            .collect();
        for id in outsiders {
            self.unsubscribe(id, room);
        }
    }

    pub(super) fn watch_directory(&mut self, id: ConnId, watch: bool) {
        if !watch {
            self.directory.remove(&id);
        } else if let Some(queue) = self.conns.get(&id).map(|conn| conn.queue.clone()) {
            self.directory.insert(id, queue);
        }
    }

    /// Queues `frames` (all of `room`, in order) for every socket
    /// receiving `room`, all or none for each.
    pub(super) fn deliver_room(&mut self, room: RoomId, frames: &[Arc<Frame>]) {
        let started = Instant::now();
        let Some(receivers) = self.rooms.get(&room) else { return };
        let too_slow = deliver(receivers, frames);
        self.cut_off(too_slow);
        METRICS.fanout_seconds.observe(started.elapsed().as_secs_f64());
    }

    pub(super) fn deliver_directory(&mut self, text: &Utf8Bytes) {
        let too_slow = deliver_one(&self.directory, &Frame::plain(text.clone()));
        self.cut_off(too_slow);
    }

    /// Queues `text` for every socket of `user`.
    pub(super) fn deliver_to_user(&mut self, user: UserId, text: &Utf8Bytes) {
        let too_slow = deliver_one(self.queues_of(user), &Frame::plain(text.clone()));
        self.cut_off(too_slow);
    }

    /// Closes the sockets of `user` whose session has `ended`.
    pub(super) fn close_sessions_of(&mut self, user: UserId, ended: impl Fn(Option<&str>) -> bool) {
        for id in self.sockets_of(user) {
            if self.conns.get(&id).is_some_and(|conn| ended(conn.session.as_deref())) {
                self.close(id, CLOSE_SIGNED_OUT);
            }
        }
    }

    /// Closes every socket, whoever's, opened with one of `sessions`
    /// (socket keys).
    pub(super) fn close_sessions(&mut self, sessions: &[String]) {
        let ended: HashSet<&str> = sessions.iter().map(String::as_str).collect();
        let ids: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(_, conn)| conn.session.as_deref().is_some_and(|s| ended.contains(s)))
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            self.close(id, CLOSE_SIGNED_OUT);
        }
    }

    /// Closes the sockets whose queue overflowed.
    pub(super) fn cut_off(&mut self, too_slow: Vec<ConnId>) {
        for id in too_slow {
            METRICS.slow_sockets_closed.increment();
            self.close(id, CLOSE_TOO_SLOW);
        }
    }

    pub(super) fn close_all(&mut self, code: u16) {
        let ids: Vec<ConnId> = self.conns.keys().copied().collect();
        for id in ids {
            self.close(id, code);
        }
    }

    /// Stops all delivery to a connection and tells its task to close the
    /// socket with `code`.
    fn close(&mut self, id: ConnId, code: u16) {
        self.directory.remove(&id);
        let Some(conn) = self.conns.get_mut(&id) else { return };
        // Its rooms are kept: they hear of the user's departure when the
        // socket is gone (`unregister`).
        conn.closed = true;
        let rooms: Vec<RoomId> = conn.rooms.iter().copied().collect();
        conn.closing.close(code);
        for room in rooms {
            self.unsubscribe_room(room, id);
        }
    }
}

/// Queues `frame` for every receiver; returns those whose queue is full.
pub(super) fn deliver_one<'a>(
    receivers: impl IntoIterator<Item = (&'a ConnId, &'a mpsc::Sender<Outbound>)>,
    frame: &Arc<Frame>,
) -> Vec<ConnId> {
    deliver(receivers, std::slice::from_ref(frame))
}

/// Queues `frames` for every receiver, without waiting: each takes room for
/// all of them at once, or none and is returned among the too slow. The
/// frames are one queue item each (the queue's bound counts frames), yet a
/// receiver's task wakes once for them all and writes them in one flush.
fn deliver<'a>(
    receivers: impl IntoIterator<Item = (&'a ConnId, &'a mpsc::Sender<Outbound>)>,
    frames: &[Arc<Frame>],
) -> Vec<ConnId> {
    let mut too_slow = Vec::new();
    let mut delivered = 0;
    if frames.is_empty() {
        return too_slow;
    }
    for (id, queue) in receivers {
        match queue.try_reserve_many(frames.len()) {
            Ok(permits) => {
                for (permit, frame) in permits.zip(frames) {
                    permit.send(Outbound::Broadcast(frame.clone()));
                }
                delivered += frames.len() as u64;
            }
            Err(mpsc::error::TrySendError::Full(())) => too_slow.push(*id),
            Err(mpsc::error::TrySendError::Closed(())) => {}
        }
    }
    METRICS.deliveries.add(delivered);
    too_slow
}

/// Serializes a frame once, for all its receivers.
pub fn encode(frame: &ServerFrame) -> Option<Utf8Bytes> {
    match serde_json::to_string(frame) {
        Ok(text) => Some(Utf8Bytes::from(text)),
        Err(error) => {
            tracing::error!(%error, "encoding a frame");
            None
        }
    }
}
