//! Live fan-out inside one process: which connection receives which room,
//! who is online, and the bounded queue of every connection.
//!
//! A frame is serialized once per broadcast and its bytes are shared by
//! every receiver. Publishing never waits: a connection whose queue is full
//! is cut off (its socket closes, the client reconnects and resumes from
//! the database), so one slow reader cannot slow a room down.

use crate::domain::protocol::{ServerFrame, CLOSE_SIGNED_OUT, CLOSE_TOO_SLOW};
use crate::domain::{RoomId, Seq, UserId};
use axum::extract::ws::Utf8Bytes;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{mpsc, Notify};

/// Frames one connection's queue holds before it counts as too slow.
pub const QUEUE_CAPACITY: usize = 1024;
/// Rooms watched by more sockets than this get no live arrivals: every
/// arrival would be a frame to each of them (n² frames as a big room
/// fills up). Their member lists show presence as of when they load. A
/// departure is announced wherever the arrival was, whatever the room's
/// size by then, so nobody is left shown online.
pub const PRESENCE_ROOM_LIMIT: usize = 1000;

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

/// A request to close a socket: its queue overflowed, or its session ended.
#[derive(Default)]
pub struct Closing {
    notify: Notify,
    code: AtomicU16,
}

impl Closing {
    fn close(&self, code: u16) {
        self.code.store(code, Ordering::Relaxed);
        self.notify.notify_one();
    }

    /// Waits until the socket must close; returns the close code.
    pub async fn requested(&self) -> u16 {
        self.notify.notified().await;
        self.code.load(Ordering::Relaxed)
    }
}

struct Conn {
    user: UserId,
    /// The socket key of the session it was opened with (see
    /// `api::ssr::socket_key`).
    session: Option<String>,
    queue: mpsc::Sender<Outbound>,
    closing: Arc<Closing>,
    rooms: HashSet<RoomId>,
    /// The user's friends when the socket opened: they see the user's
    /// presence even without a room in common.
    friends: Vec<UserId>,
}

#[derive(Default)]
struct Inner {
    next_id: ConnId,
    conns: HashMap<ConnId, Conn>,
    rooms: HashMap<RoomId, HashMap<ConnId, mpsc::Sender<Outbound>>>,
    users: HashMap<UserId, Vec<ConnId>>,
    /// Sockets watching the public rooms' directory.
    directory: HashMap<ConnId, mpsc::Sender<Outbound>>,
    /// Per room, the users whose arrival it was told of (and so must be
    /// told of their departure).
    announced: HashMap<RoomId, HashSet<UserId>>,
}

#[derive(Default)]
pub struct Hub {
    inner: Mutex<Inner>,
}

impl Hub {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain maps behind, still
        // consistent enough to go on serving.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers a socket of `user`, receiving `rooms`, with `hello` first
    /// in its queue. The user's first socket makes them online in those
    /// rooms and to their `friends`.
    pub fn connect(
        &self,
        user: UserId,
        session: Option<String>,
        rooms: &[RoomId],
        friends: &[UserId],
        hello: Utf8Bytes,
    ) -> Connection {
        let (queue_tx, queue) = mpsc::channel(QUEUE_CAPACITY);
        let _ = queue_tx.try_send(Outbound::Reply(Frame::plain(hello)));
        let closing = Arc::new(Closing::default());
        let first = {
            let mut inner = self.lock();
            inner.next_id += 1;
            let id = inner.next_id;
            let conn = Conn {
                user,
                session,
                queue: queue_tx.clone(),
                closing: closing.clone(),
                rooms: HashSet::new(),
                friends: friends.to_vec(),
            };
            inner.conns.insert(id, conn);
            for room in rooms {
                inner.subscribe(id, *room);
            }
            let sockets = inner.users.entry(user).or_default();
            sockets.push(id);
            (sockets.len() == 1, id)
        };
        let (became_online, id) = first;
        if became_online {
            self.publish_presence(user, rooms.iter().copied(), friends, true);
        }
        Connection { id, queue, replies: queue_tx, closing }
    }

    /// Forgets a socket; the user's last one makes them offline.
    pub fn disconnect(&self, id: ConnId) {
        let gone = {
            let mut inner = self.lock();
            let Some(conn) = inner.conns.remove(&id) else { return };
            inner.directory.remove(&id);
            for room in &conn.rooms {
                inner.unsubscribe_room(*room, id);
            }
            let last = match inner.users.get_mut(&conn.user) {
                Some(sockets) => {
                    sockets.retain(|s| *s != id);
                    sockets.is_empty()
                }
                None => false,
            };
            if last {
                inner.users.remove(&conn.user);
            }
            last.then_some((conn.user, conn.rooms, conn.friends))
        };
        if let Some((user, rooms, friends)) = gone {
            self.publish_presence(user, rooms.into_iter(), &friends, false);
        }
    }

    /// Makes socket `id` receive `room` (the caller checked it may).
    pub fn subscribe(&self, id: ConnId, room: RoomId) {
        self.lock().subscribe(id, room);
    }

    pub fn unsubscribe(&self, id: ConnId, room: RoomId) {
        self.lock().unsubscribe(id, room);
    }

    /// Makes every socket of `user` receive `room`: they just joined it.
    pub fn add_member(&self, room: RoomId, user: UserId) {
        let mut inner = self.lock();
        let sockets = inner.sockets_of(user);
        for id in &sockets {
            inner.subscribe(*id, room);
        }
        // The room learns from the join itself that they are online: it
        // must learn when they leave.
        if !sockets.is_empty() {
            inner.announced.entry(room).or_default().insert(user);
        }
    }

    /// Stops every socket of `user` receiving `room`, at once: nothing
    /// published to the room after this call reaches them.
    pub fn remove_member(&self, room: RoomId, user: UserId) {
        let mut inner = self.lock();
        for id in inner.sockets_of(user) {
            inner.unsubscribe(id, room);
        }
        if let Some(announced) = inner.announced.get_mut(&room) {
            announced.remove(&user);
        }
    }

    /// Stops every socket receiving `room` whose user is not in `members`
    /// (those looking at a public room that just became private).
    pub fn keep_only(&self, room: RoomId, members: &HashSet<UserId>) {
        let mut inner = self.lock();
        let outsiders: Vec<ConnId> = inner
            .rooms
            .get(&room)
            .into_iter()
            .flat_map(|receivers| receivers.keys())
            .filter(|id| inner.conns.get(id).is_some_and(|conn| !members.contains(&conn.user)))
            .copied()
            .collect();
        for id in outsiders {
            inner.unsubscribe(id, room);
        }
    }

    /// Sends `frame` to every socket receiving `room`.
    pub fn publish(&self, room: RoomId, frame: &ServerFrame) {
        let Some(text) = encode(frame) else { return };
        let position = frame.message_position();
        let mut inner = self.lock();
        let too_slow = match inner.rooms.get(&room) {
            Some(receivers) => deliver(receivers, position, &text),
            None => return,
        };
        for id in too_slow {
            inner.close(id, CLOSE_TOO_SLOW);
        }
    }

    /// Makes socket `id` receive (or stop receiving) public-room changes.
    pub fn watch_directory(&self, id: ConnId, watch: bool) {
        let mut inner = self.lock();
        if !watch {
            inner.directory.remove(&id);
        } else if let Some(queue) = inner.conns.get(&id).map(|conn| conn.queue.clone()) {
            inner.directory.insert(id, queue);
        }
    }

    /// Sends `frame` to every socket watching the public rooms.
    pub fn publish_directory(&self, frame: &ServerFrame) {
        let Some(text) = encode(frame) else { return };
        let mut inner = self.lock();
        let too_slow = deliver(&inner.directory, None, &text);
        for id in too_slow {
            inner.close(id, CLOSE_TOO_SLOW);
        }
    }

    /// Sends `frame` to every socket of `user`.
    pub fn send_to_user(&self, user: UserId, frame: &ServerFrame) {
        let Some(text) = encode(frame) else { return };
        let mut inner = self.lock();
        let too_slow = inner.deliver_to_user(user, &text);
        for id in too_slow {
            inner.close(id, CLOSE_TOO_SLOW);
        }
    }

    /// Closes the sockets of `user` opened with `session`: it ended.
    pub fn end_session(&self, user: UserId, session: &str) {
        self.close_sessions_of(user, |s| s == Some(session));
    }

    /// Closes the sockets of `user` opened with any other session than
    /// `keep` (the others ended with a password change).
    pub fn end_other_sessions(&self, user: UserId, keep: Option<&str>) {
        self.close_sessions_of(user, |s| keep.is_none() || s != keep);
    }

    fn close_sessions_of(&self, user: UserId, ended: impl Fn(Option<&str>) -> bool) {
        let mut inner = self.lock();
        for id in inner.sockets_of(user) {
            if inner.conns.get(&id).is_some_and(|conn| ended(conn.session.as_deref())) {
                inner.close(id, CLOSE_SIGNED_OUT);
            }
        }
    }

    /// Whether `user` has at least one socket open.
    pub fn is_online(&self, user: UserId) -> bool {
        self.lock().users.contains_key(&user)
    }

    /// How many sockets are open (for tests and metrics).
    pub fn connection_count(&self) -> usize {
        self.lock().conns.len()
    }

    fn publish_presence(
        &self,
        user: UserId,
        rooms: impl Iterator<Item = RoomId>,
        friends: &[UserId],
        online: bool,
    ) {
        let Some(text) = encode(&ServerFrame::Presence { user, online }) else { return };
        let mut guard = self.lock();
        let inner = &mut *guard;
        let mut too_slow = Vec::new();
        for room in rooms {
            let Some(receivers) = inner.rooms.get(&room) else { continue };
            let announced = inner.announced.entry(room).or_default();
            let send = if online {
                let small = receivers.len() <= PRESENCE_ROOM_LIMIT;
                if small {
                    announced.insert(user);
                }
                small
            } else {
                announced.remove(&user)
            };
            let nobody = announced.is_empty();
            if send {
                too_slow.extend(deliver(receivers, None, &text));
            }
            if nobody {
                inner.announced.remove(&room);
            }
        }
        for friend in friends {
            too_slow.extend(inner.deliver_to_user(*friend, &text));
        }
        for id in too_slow {
            inner.close(id, CLOSE_TOO_SLOW);
        }
    }
}

impl Inner {
    /// Queues `text` for every socket of `user`; returns those whose queue
    /// is full.
    fn deliver_to_user(&self, user: UserId, text: &Utf8Bytes) -> Vec<ConnId> {
        let receivers = self
            .users
            .get(&user)
            .into_iter()
            .flatten()
            .filter_map(|id| self.conns.get(id).map(|conn| (id, &conn.queue)));
        deliver(receivers, None, text)
    }

    fn sockets_of(&self, user: UserId) -> Vec<ConnId> {
        self.users.get(&user).cloned().unwrap_or_default()
    }

    fn subscribe(&mut self, id: ConnId, room: RoomId) {
        let Some(conn) = self.conns.get_mut(&id) else { return };
        conn.rooms.insert(room);
        let queue = conn.queue.clone();
        self.rooms.entry(room).or_default().insert(id, queue);
    }

    fn unsubscribe(&mut self, id: ConnId, room: RoomId) {
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

    /// Stops all delivery to a connection and tells its task to close the
    /// socket with `code`.
    fn close(&mut self, id: ConnId, code: u16) {
        self.directory.remove(&id);
        let Some(conn) = self.conns.get_mut(&id) else { return };
        let rooms: Vec<RoomId> = conn.rooms.drain().collect();
        conn.closing.close(code);
        for room in rooms {
            self.unsubscribe_room(room, id);
        }
    }
}

/// Queues one serialized frame for every receiver, without waiting;
/// returns the receivers whose queue is full.
fn deliver<'a>(
    receivers: impl IntoIterator<Item = (&'a ConnId, &'a mpsc::Sender<Outbound>)>,
    position: Option<(RoomId, Seq)>,
    text: &Utf8Bytes,
) -> Vec<ConnId> {
    let mut too_slow = Vec::new();
    let frame = Arc::new(Frame { position, text: text.clone() });
    for (id, queue) in receivers {
        let outbound = Outbound::Broadcast(frame.clone());
        if let Err(mpsc::error::TrySendError::Full(_)) = queue.try_send(outbound) {
            too_slow.push(*id);
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn hello() -> Utf8Bytes {
        Utf8Bytes::from_static("hello")
    }

    fn presence(user: i64) -> ServerFrame {
        ServerFrame::Presence { user: UserId(user), online: true }
    }

    #[test]
    fn queue_items_stay_two_words() {
        assert_eq!(std::mem::size_of::<Outbound>(), 16);
    }

    #[test]
    fn rooms_reach_their_subscribers_only() {
        let hub = Hub::default();
        let mut alice = hub.connect(UserId(1), None, &[RoomId(1)], &[], hello());
        let mut bob = hub.connect(UserId(2), None, &[RoomId(2)], &[], hello());
        // Bob's hello, then his arrival, announced in room 2 only.
        assert!(matches!(bob.queue.try_recv(), Ok(Outbound::Reply(_))));
        assert!(matches!(bob.queue.try_recv(), Ok(Outbound::Broadcast(_))));
        while alice.queue.try_recv().is_ok() {}
        hub.publish(RoomId(1), &presence(9));
        assert!(alice.queue.try_recv().is_ok());
        assert!(bob.queue.try_recv().is_err());
        hub.add_member(RoomId(1), UserId(2));
        hub.publish(RoomId(1), &presence(9));
        assert!(bob.queue.try_recv().is_ok());
        // Room 1 saw Bob join while online: it hears when he goes.
        while alice.queue.try_recv().is_ok() {}
        hub.disconnect(bob.id);
        assert!(matches!(alice.queue.try_recv(), Ok(Outbound::Broadcast(_))), "Bob went offline");
        let mut bob = hub.connect(UserId(2), None, &[RoomId(2)], &[], hello());
        while bob.queue.try_recv().is_ok() {}
        hub.add_member(RoomId(1), UserId(2));
        hub.remove_member(RoomId(1), UserId(2));
        hub.publish(RoomId(1), &presence(9));
        assert!(bob.queue.try_recv().is_err());
    }

    #[test]
    fn big_rooms_get_messages_but_no_live_arrivals() {
        let hub = Hub::default();
        let mut watcher = hub.connect(UserId(1), None, &[RoomId(1)], &[], hello());
        let _crowd: Vec<Connection> = (2..=PRESENCE_ROOM_LIMIT as i64)
            .map(|user| hub.connect(UserId(user), None, &[RoomId(1)], &[], hello()))
            .collect();
        while watcher.queue.try_recv().is_ok() {}
        // One more makes the room too big for arrivals.
        let late = hub.connect(UserId(10_000), None, &[RoomId(1)], &[], hello());
        let later = hub.connect(UserId(10_001), None, &[RoomId(1)], &[], hello());
        assert!(watcher.queue.try_recv().is_err(), "no presence frame");
        hub.publish(RoomId(1), &presence(9));
        assert!(watcher.queue.try_recv().is_ok(), "room frames still arrive");
        // A departure follows an announced arrival, however big the room
        // has grown; one never announced is not either.
        hub.disconnect(2);
        assert!(matches!(watcher.queue.try_recv(), Ok(Outbound::Broadcast(_))), "user 2 went offline");
        hub.disconnect(late.id);
        assert!(watcher.queue.try_recv().is_err(), "user 10,000 was never announced");
        // Back under the limit, arrivals are announced again.
        hub.disconnect(later.id);
        for id in 3..=10 {
            hub.disconnect(id);
        }
        while watcher.queue.try_recv().is_ok() {}
        let _again = hub.connect(UserId(20_000), None, &[RoomId(1)], &[], hello());
        assert!(matches!(watcher.queue.try_recv(), Ok(Outbound::Broadcast(_))));
    }

    #[test]
    fn presence_follows_the_first_and_last_socket() {
        let hub = Hub::default();
        let first = hub.connect(UserId(1), None, &[], &[], hello());
        let second = hub.connect(UserId(1), None, &[], &[], hello());
        assert!(hub.is_online(UserId(1)));
        hub.disconnect(first.id);
        assert!(hub.is_online(UserId(1)));
        hub.disconnect(second.id);
        assert!(!hub.is_online(UserId(1)));
        assert_eq!(hub.connection_count(), 0);
    }

    #[test]
    fn a_full_queue_cuts_the_connection_off_without_blocking() {
        let hub = Hub::default();
        let slow = hub.connect(UserId(1), None, &[RoomId(1)], &[], hello());
        let mut fast = hub.connect(UserId(2), None, &[RoomId(1)], &[], hello());
        for _ in 0..QUEUE_CAPACITY + 10 {
            hub.publish(RoomId(1), &presence(9));
            while fast.queue.try_recv().is_ok() {}
        }
        // The slow one was told to go, and no longer receives the room.
        assert_eq!(block_on(slow.closing.requested()), CLOSE_TOO_SLOW);
        hub.publish(RoomId(1), &presence(9));
        assert!(fast.queue.try_recv().is_ok());
    }

    /// `Notify::notify_one` stores a permit, so a request made earlier is
    /// seen at once.
    fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
        let runtime =
            tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a test runtime");
        runtime.block_on(async {
            tokio::time::timeout(std::time::Duration::from_secs(1), future).await.expect("in time")
        })
    }

    #[test]
    fn ending_a_session_closes_its_sockets_only() {
        let hub = Hub::default();
        let laptop = hub.connect(UserId(1), Some("a".into()), &[], &[], hello());
        let phone = hub.connect(UserId(1), Some("b".into()), &[], &[], hello());
        hub.end_session(UserId(1), "a");
        assert_eq!(block_on(laptop.closing.requested()), CLOSE_SIGNED_OUT);
        hub.end_other_sessions(UserId(1), Some("b"));
        let still_open = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(async {
                tokio::time::timeout(std::time::Duration::from_millis(50), phone.closing.requested()).await
            });
        assert!(still_open.is_err(), "the kept session's socket stays open");
    }
}
