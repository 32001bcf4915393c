//! Live fan-out: which connection receives which room, who is online, and
//! the bounded queue of every connection.
//!
//! A frame is serialized once per broadcast and its bytes are shared by
//! every receiver. Publishing never waits: a connection whose queue is full
//! is cut off (its socket closes, the client reconnects and resumes from
//! the database), so one slow reader cannot slow a room down.
//!
//! With several instances, each change the hub makes for its own sockets
//! (a frame published, a member added or removed, a session ended, a user
//! online or offline) is also handed as an [`Event`] to the relay (see
//! `cluster`), which carries it to the other instances; what arrives from
//! them goes through [`Hub::apply`], to this instance's sockets only.
//! Presence is then global: a user is online while any instance has a
//! socket of theirs, and an instance that stops being heard from is
//! forgotten, with its users, after [`Hub::expire_instances`]' delay.

use super::metrics::METRICS;
use crate::domain::protocol::{ServerFrame, CLOSE_SIGNED_OUT, CLOSE_TOO_SLOW};
use crate::domain::{RoomId, Seq, UserId};
use axum::extract::ws::Utf8Bytes;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot, Notify};

/// Frames one connection's queue holds before it counts as too slow.
pub const QUEUE_CAPACITY: usize = 1024;
/// Rooms watched by more sockets than this get no live arrivals: every
/// arrival would be a frame to each of them (n² frames as a big room
/// fills up). Their member lists show presence as of when they load. A
/// departure is announced wherever the arrival was, whatever the room's
/// size by then, so nobody is left shown online.
pub const PRESENCE_ROOM_LIMIT: usize = 1000;
/// How long [`Hub::relayed`] waits for the relay at most: a removal must
/// not hang while Redis is away (past it, the other instances are told to
/// resume, see [`Hub::relayed`]).
const RELAY_FLUSH_WAIT: Duration = Duration::from_secs(1);

pub type ConnId = u64;
/// A random id each instance draws at start-up.
pub type InstanceId = u64;

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

/// A change that one instance's hub tells the others'. Those carrying a
/// frame (`Room`, `Directory`, `User`) travel with its serialized text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Event {
    /// A frame for the sockets receiving `room` (`seq` for a message).
    Room {
        room: RoomId,
        seq: Option<Seq>,
    },
    /// A frame for the sockets watching the public rooms.
    Directory,
    /// A frame for every socket of `user`.
    User {
        user: UserId,
    },
    AddMember {
        room: RoomId,
        user: UserId,
    },
    RemoveMember {
        room: RoomId,
        user: UserId,
    },
    /// Only the members of `room` keep receiving it.
    KeepOnly {
        room: RoomId,
        members: Vec<UserId>,
    },
    EndSession {
        user: UserId,
        session: String,
    },
    EndOtherSessions {
        user: UserId,
        keep: Option<String>,
    },
    /// The sender's first socket of `user` opened (`online`), or its last
    /// one closed; `reach` is who hears about it.
    Presence {
        online: bool,
        reach: Reach,
    },
    /// Everyone online on the sender: replaces what was known of it.
    Snapshot {
        users: Vec<Reach>,
    },
    /// The sender (re)joined: every instance answers with a snapshot.
    Hello,
    /// The sender is alive (sent when it had nothing else to say).
    Heartbeat,
    /// Some of the sender's events were lost on their way: every socket
    /// must resume from the database.
    Lost,
}

/// An online user, and who is told when they go offline: their rooms and
/// their friends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reach {
    pub user: UserId,
    pub rooms: Vec<RoomId>,
    pub friends: Vec<UserId>,
}

/// What the hub hands to the relay, in order.
#[derive(Debug)]
pub enum Relayed {
    Event(Event, Option<Utf8Bytes>),
    /// Answer once everything before it has reached the other instances
    /// (or could not).
    Flush(oneshot::Sender<()>),
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
    /// Told to close: it receives nothing more.
    closed: bool,
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
    /// Users online on other instances, with what each instance told of
    /// them (to announce their departure if that instance goes silent).
    remote: HashMap<UserId, HashMap<InstanceId, Reach>>,
    /// When each other instance was last heard from.
    instances: HashMap<InstanceId, Instant>,
}

#[derive(Default)]
pub struct Hub {
    inner: Mutex<Inner>,
    /// Set when several instances share live events.
    relay: OnceLock<mpsc::Sender<Relayed>>,
    /// Set when the relay's queue was full and an event was dropped.
    relay_overflowed: AtomicBool,
    /// Whether the other instances' events are arriving (see `cluster`).
    linked: AtomicBool,
}

impl Hub {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain maps behind, still
        // consistent enough to go on serving.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Hands every later change to `relay` too, for the other instances.
    /// Returns false if a relay was set already.
    pub fn set_relay(&self, relay: mpsc::Sender<Relayed>) -> bool {
        self.relay.set(relay).is_ok()
    }

    /// Hands `event` to the relay. Called with the hub's lock held, so
    /// that the other instances see the changes in the order they were
    /// made here (it never waits).
    pub(super) fn relay(&self, event: Event, frame: Option<Utf8Bytes>) {
        let Some(relay) = self.relay.get() else { return };
        if relay.try_send(Relayed::Event(event, frame)).is_err() {
            // Redis is away or too slow: the other instances will miss
            // this, and must be told to resume (see `cluster`).
            self.relay_overflowed.store(true, Ordering::Relaxed);
            METRICS.relay_dropped.increment();
        }
    }

    /// Whether the other instances' events arrive: `None` when this
    /// instance runs alone.
    pub fn linked(&self) -> Option<bool> {
        self.relay.get().map(|_| self.linked.load(Ordering::Relaxed))
    }

    pub(super) fn set_linked(&self, linked: bool) {
        self.linked.store(linked, Ordering::Relaxed);
    }

    /// Whether an event was dropped since the last call.
    pub fn take_relay_overflow(&self) -> bool {
        self.relay_overflowed.swap(false, Ordering::Relaxed)
    }

    /// Waits (a second at most) until the changes made so far have reached
    /// the other instances: a removal is relayed before it is stored.
    pub async fn relayed(&self) {
        let Some(relay) = self.relay.get() else { return };
        let (done, flushed) = oneshot::channel();
        let confirmed = relay.try_send(Relayed::Flush(done)).is_ok()
            && matches!(tokio::time::timeout(RELAY_FLUSH_WAIT, flushed).await, Ok(Ok(())));
        if !confirmed {
            // Redis did not take it in time: the other instances' sockets
            // must resume (and are checked again as they do).
            self.relay_overflowed.store(true, Ordering::Relaxed);
        }
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
        let id = {
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
                closed: false,
            };
            inner.conns.insert(id, conn);
            for room in rooms {
                inner.subscribe(id, *room);
            }
            let online_before = inner.is_online(user);
            let sockets = inner.users.entry(user).or_default();
            sockets.push(id);
            let first_here = sockets.len() == 1;
            if !online_before {
                inner.announce_presence(user, rooms, friends, true);
            }
            if first_here {
                let reach = Reach { user, rooms: rooms.to_vec(), friends: friends.to_vec() };
                self.relay(Event::Presence { online: true, reach }, None);
            }
            id
        };
        Connection { id, queue, replies: queue_tx, closing }
    }

    /// Forgets a socket; the user's last one makes them offline.
    pub fn disconnect(&self, id: ConnId) {
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
        if !last {
            return;
        }
        inner.users.remove(&conn.user);
        let rooms: Vec<RoomId> = conn.rooms.into_iter().collect();
        if !inner.is_online(conn.user) {
            inner.announce_presence(conn.user, &rooms, &conn.friends, false);
        }
        let reach = Reach { user: conn.user, rooms, friends: conn.friends };
        self.relay(Event::Presence { online: false, reach }, None);
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
        inner.add_member(room, user);
        self.relay(Event::AddMember { room, user }, None);
    }

    /// Stops every socket of `user` receiving `room`, at once: nothing
    /// published to the room after this call reaches them. Other instances
    /// stop once they receive it: [`Hub::relayed`] waits until Redis has
    /// taken it, and an instance whose link to Redis is down applies it
    /// only by making all its sockets resume when the link is back.
    pub fn remove_member(&self, room: RoomId, user: UserId) {
        let mut inner = self.lock();
        inner.remove_member(room, user);
        self.relay(Event::RemoveMember { room, user }, None);
    }

    /// Stops every socket receiving `room` whose user is not in `members`
    /// (those looking at a public room that just became private).
    pub fn keep_only(&self, room: RoomId, members: &HashSet<UserId>) {
        let mut inner = self.lock();
        inner.keep_only(room, members);
        self.relay(Event::KeepOnly { room, members: members.iter().copied().collect() }, None);
    }

    /// Sends `frame` to every socket receiving `room`.
    pub fn publish(&self, room: RoomId, frame: &ServerFrame) {
        let Some(text) = encode(frame) else { return };
        let seq = frame.message_position().map(|(_, seq)| seq);
        let mut inner = self.lock();
        inner.deliver_room(room, seq, &text);
        self.relay(Event::Room { room, seq }, Some(text));
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
        inner.deliver_directory(&text);
        self.relay(Event::Directory, Some(text));
    }

    /// Sends `frame` to every socket of `user`.
    pub fn send_to_user(&self, user: UserId, frame: &ServerFrame) {
        let Some(text) = encode(frame) else { return };
        let mut inner = self.lock();
        inner.deliver_to_user(user, &text);
        self.relay(Event::User { user }, Some(text));
    }

    /// Closes the sockets of `user` opened with `session`: it ended.
    pub fn end_session(&self, user: UserId, session: &str) {
        let mut inner = self.lock();
        inner.close_sessions_of(user, |s| s == Some(session));
        self.relay(Event::EndSession { user, session: session.to_owned() }, None);
    }

    /// Closes the sockets of `user` opened with any other session than
    /// `keep` (the others ended with a password change).
    pub fn end_other_sessions(&self, user: UserId, keep: Option<&str>) {
        let mut inner = self.lock();
        inner.close_sessions_of(user, |s| keep.is_none() || s != keep);
        self.relay(Event::EndOtherSessions { user, keep: keep.map(str::to_owned) }, None);
    }

    /// Closes every socket with `code` (the server is stopping, or they may
    /// have missed live events and must resume).
    pub fn close_all(&self, code: u16) {
        self.lock().close_all(code);
    }

    /// Whether `user` has at least one socket open, on any instance.
    pub fn is_online(&self, user: UserId) -> bool {
        self.lock().is_online(user)
    }

    /// How many sockets this instance has open.
    pub fn connection_count(&self) -> usize {
        self.lock().conns.len()
    }

    /// Applies what another instance's hub did, to this instance's sockets.
    pub fn apply(&self, from: InstanceId, event: Event, frame: Option<Utf8Bytes>) {
        let mut inner = self.lock();
        inner.instances.insert(from, Instant::now());
        match (event, frame) {
            (Event::Room { room, seq }, Some(text)) => inner.deliver_room(room, seq, &text),
            (Event::Directory, Some(text)) => inner.deliver_directory(&text),
            (Event::User { user }, Some(text)) => inner.deliver_to_user(user, &text),
            (Event::Room { .. } | Event::Directory | Event::User { .. }, None) => {
                tracing::warn!("an instance relayed a frame without its text");
            }
            (Event::AddMember { room, user }, _) => inner.add_member(room, user),
            (Event::RemoveMember { room, user }, _) => inner.remove_member(room, user),
            (Event::KeepOnly { room, members }, _) => inner.keep_only(room, &members.into_iter().collect()),
            (Event::EndSession { user, session }, _) => {
                inner.close_sessions_of(user, |s| s == Some(session.as_str()));
            }
            (Event::EndOtherSessions { user, keep }, _) => {
                inner.close_sessions_of(user, |s| keep.is_none() || s != keep.as_deref());
            }
            (Event::Presence { online, reach }, _) => inner.remote_presence(from, online, reach),
            (Event::Snapshot { users }, _) => {
                let still: HashSet<UserId> = users.iter().map(|reach| reach.user).collect();
                inner.forget_instance(from, &still);
                for reach in users {
                    inner.remote_presence(from, true, reach);
                }
            }
            (Event::Hello, _) => self.relay(Event::Snapshot { users: inner.snapshot() }, None),
            (Event::Heartbeat, _) => {}
            (Event::Lost, _) => {
                tracing::warn!(instance = from, "another instance lost live events: sockets resume");
                inner.close_all(crate::domain::protocol::CLOSE_RESUME);
            }
        }
    }

    /// Everyone online on this instance, with their rooms and friends.
    pub fn local_snapshot(&self) -> Vec<Reach> {
        self.lock().snapshot()
    }

    /// Forgets the instances not heard from for `silent_for`, and the
    /// users online there (their departure is announced).
    pub fn expire_instances(&self, silent_for: Duration) {
        let mut inner = self.lock();
        let now = Instant::now();
        let silent: Vec<InstanceId> = inner
            .instances
            .iter()
            .filter(|(_, heard)| now.duration_since(**heard) > silent_for)
            .map(|(instance, _)| *instance)
            .collect();
        for instance in silent {
            tracing::warn!(instance, "an instance went silent: its users are offline");
            inner.instances.remove(&instance);
            inner.forget_instance(instance, &HashSet::new());
        }
    }
}

impl Inner {
    fn snapshot(&self) -> Vec<Reach> {
        self.users
            .iter()
            .map(|(user, sockets)| {
                let mut rooms = HashSet::new();
                let mut friends = Vec::new();
                for conn in sockets.iter().filter_map(|id| self.conns.get(id)) {
                    rooms.extend(conn.rooms.iter().copied());
                    if friends.is_empty() {
                        friends.clone_from(&conn.friends);
                    }
                }
                Reach { user: *user, rooms: rooms.into_iter().collect(), friends }
            })
            .collect()
    }

    fn deliver_room(&mut self, room: RoomId, seq: Option<Seq>, text: &Utf8Bytes) {
        let started = Instant::now();
        let Some(receivers) = self.rooms.get(&room) else { return };
        let too_slow = deliver(receivers, seq.map(|seq| (room, seq)), text);
        self.cut_off(too_slow);
        METRICS.fanout_seconds.observe(started.elapsed().as_secs_f64());
    }

    fn is_online(&self, user: UserId) -> bool {
        self.users.contains_key(&user) || self.remote.contains_key(&user)
    }

    fn add_member(&mut self, room: RoomId, user: UserId) {
        for id in self.sockets_of(user) {
            self.subscribe(id, room);
        }
        // The room learns from the join itself that they are online: it
        // must learn when they leave.
        if self.is_online(user) {
            self.announced.entry(room).or_default().insert(user);
        }
        // If their instance goes silent, this room hears of it too.
        for reach in self.remote.get_mut(&user).into_iter().flat_map(|instances| instances.values_mut()) {
            if !reach.rooms.contains(&room) {
                reach.rooms.push(room);
            }
        }
    }

    fn remove_member(&mut self, room: RoomId, user: UserId) {
        for id in self.sockets_of(user) {
            self.unsubscribe(id, room);
        }
        if let Some(announced) = self.announced.get_mut(&room) {
            announced.remove(&user);
        }
    }

    fn keep_only(&mut self, room: RoomId, members: &HashSet<UserId>) {
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

    fn deliver_directory(&mut self, text: &Utf8Bytes) {
        let too_slow = deliver(&self.directory, None, text);
        self.cut_off(too_slow);
    }

    /// The queues of every socket of `user`.
    fn queues_of(&self, user: UserId) -> impl Iterator<Item = (&ConnId, &mpsc::Sender<Outbound>)> {
        self.users
            .get(&user)
            .into_iter()
            .flatten()
            .filter_map(|id| self.conns.get(id).map(|conn| (id, &conn.queue)))
    }

    /// Queues `text` for every socket of `user`.
    fn deliver_to_user(&mut self, user: UserId, text: &Utf8Bytes) {
        let too_slow = deliver(self.queues_of(user), None, text);
        self.cut_off(too_slow);
    }

    fn close_sessions_of(&mut self, user: UserId, ended: impl Fn(Option<&str>) -> bool) {
        for id in self.sockets_of(user) {
            if self.conns.get(&id).is_some_and(|conn| ended(conn.session.as_deref())) {
                self.close(id, CLOSE_SIGNED_OUT);
            }
        }
    }

    /// Tells this instance's sockets that `user` went online or offline:
    /// those in `rooms` (see [`PRESENCE_ROOM_LIMIT`]) and their `friends`.
    fn announce_presence(&mut self, user: UserId, rooms: &[RoomId], friends: &[UserId], online: bool) {
        let Some(text) = encode(&ServerFrame::Presence { user, online }) else { return };
        let mut too_slow = Vec::new();
        for room in rooms {
            let Some(receivers) = self.rooms.get(room) else { continue };
            let announced = self.announced.entry(*room).or_default();
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
                self.announced.remove(room);
            }
        }
        for friend in friends {
            too_slow.extend(deliver(self.queues_of(*friend), None, &text));
        }
        self.cut_off(too_slow);
    }

    /// Another instance says `reach.user` went online or offline there.
    fn remote_presence(&mut self, from: InstanceId, online: bool, reach: Reach) {
        let was_online = self.is_online(reach.user);
        if online {
            if !was_online {
                self.announce_presence(reach.user, &reach.rooms, &reach.friends, true);
            }
            self.remote.entry(reach.user).or_default().insert(from, reach);
            return;
        }
        let Some(instances) = self.remote.get_mut(&reach.user) else { return };
        let known = instances.remove(&from);
        if instances.is_empty() {
            self.remote.remove(&reach.user);
        }
        if was_online && !self.is_online(reach.user) {
            // The rooms it had when it came, and those it has now.
            let mut rooms = reach.rooms;
            rooms.extend(known.into_iter().flat_map(|known| known.rooms));
            self.announce_presence(reach.user, &rooms, &reach.friends, false);
        }
    }

    /// Takes the users online on `instance`, but those in `still`, offline.
    fn forget_instance(&mut self, instance: InstanceId, still: &HashSet<UserId>) {
        let gone: Vec<Reach> = self
            .remote
            .iter()
            .filter(|(user, _)| !still.contains(user))
            .filter_map(|(_, instances)| instances.get(&instance).cloned())
            .collect();
        for reach in gone {
            self.remote_presence(instance, false, Reach { rooms: Vec::new(), ..reach });
        }
    }

    fn sockets_of(&self, user: UserId) -> Vec<ConnId> {
        self.users.get(&user).cloned().unwrap_or_default()
    }

    fn subscribe(&mut self, id: ConnId, room: RoomId) {
        let Some(conn) = self.conns.get_mut(&id) else { return };
        if conn.closed {
            return;
        }
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

    /// Closes the sockets whose queue overflowed.
    fn cut_off(&mut self, too_slow: Vec<ConnId>) {
        for id in too_slow {
            METRICS.slow_sockets_closed.increment();
            self.close(id, CLOSE_TOO_SLOW);
        }
    }

    fn close_all(&mut self, code: u16) {
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
        // socket is gone (`disconnect`).
        conn.closed = true;
        let rooms: Vec<RoomId> = conn.rooms.iter().copied().collect();
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
    let mut delivered = 0;
    let frame = Arc::new(Frame { position, text: text.clone() });
    for (id, queue) in receivers {
        let outbound = Outbound::Broadcast(frame.clone());
        match queue.try_send(outbound) {
            Ok(()) => delivered += 1,
            Err(mpsc::error::TrySendError::Full(_)) => too_slow.push(*id),
            Err(mpsc::error::TrySendError::Closed(_)) => {}
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
    fn presence_spans_instances_and_leaves_with_a_silent_one() {
        let hub = Hub::default();
        let mut watcher = hub.connect(UserId(1), None, &[RoomId(1)], &[], hello());
        while watcher.queue.try_recv().is_ok() {}
        let bob = Reach { user: UserId(2), rooms: vec![RoomId(1)], friends: vec![] };
        hub.apply(7, Event::Presence { online: true, reach: bob.clone() }, None);
        assert!(hub.is_online(UserId(2)));
        assert!(matches!(watcher.queue.try_recv(), Ok(Outbound::Broadcast(_))), "online on instance 7");
        // Online on a second instance too, then not: nothing new to say.
        hub.apply(8, Event::Presence { online: true, reach: bob.clone() }, None);
        hub.apply(8, Event::Presence { online: false, reach: bob }, None);
        assert!(watcher.queue.try_recv().is_err());
        assert!(hub.is_online(UserId(2)), "still on instance 7");
        // Instance 7 falls silent: Bob leaves with it.
        std::thread::sleep(Duration::from_millis(2));
        hub.expire_instances(Duration::from_millis(1));
        assert!(!hub.is_online(UserId(2)));
        assert!(matches!(watcher.queue.try_recv(), Ok(Outbound::Broadcast(_))), "offline");
        // A snapshot tells who is online there now.
        let carol = Reach { user: UserId(3), rooms: vec![RoomId(1)], friends: vec![] };
        hub.apply(9, Event::Snapshot { users: vec![carol] }, None);
        assert!(hub.is_online(UserId(3)));
        hub.apply(9, Event::Snapshot { users: vec![] }, None);
        assert!(!hub.is_online(UserId(3)));
    }

    #[test]
    fn local_changes_are_relayed_and_remote_ones_are_not() {
        let hub = Hub::default();
        let (relay, mut relayed) = mpsc::channel(16);
        assert!(hub.set_relay(relay));
        let mut socket = hub.connect(UserId(1), None, &[RoomId(1)], &[], hello());
        assert!(matches!(relayed.try_recv(), Ok(Relayed::Event(Event::Presence { online: true, .. }, None))));
        hub.publish(RoomId(1), &presence(9));
        match relayed.try_recv() {
            Ok(Relayed::Event(Event::Room { room: RoomId(1), seq: None }, Some(text))) => {
                assert!(text.as_str().contains("presence"));
            }
            other => panic!("expected the room frame, got {other:?}"),
        }
        while socket.queue.try_recv().is_ok() {}
        hub.apply(5, Event::Room { room: RoomId(1), seq: None }, Some(Utf8Bytes::from_static("{}")));
        assert!(socket.queue.try_recv().is_ok(), "delivered here");
        assert!(relayed.try_recv().is_err(), "not sent back");
        hub.apply(5, Event::Lost, None);
        assert_eq!(block_on(socket.closing.requested()), crate::domain::protocol::CLOSE_RESUME);
    }

    #[test]
    fn a_socket_closed_by_the_server_still_announces_the_departure() {
        let hub = Hub::default();
        let mut watcher = hub.connect(UserId(1), None, &[RoomId(1)], &[], hello());
        let leaving = hub.connect(UserId(2), Some("s".into()), &[RoomId(1)], &[], hello());
        while watcher.queue.try_recv().is_ok() {}
        hub.end_session(UserId(2), "s");
        hub.publish(RoomId(1), &presence(9));
        assert!(watcher.queue.try_recv().is_ok());
        hub.disconnect(leaving.id);
        match watcher.queue.try_recv() {
            Ok(Outbound::Broadcast(frame)) => assert!(frame.text.as_str().contains("\"online\":false")),
            other => panic!("expected Bob's departure, got {other:?}"),
        }
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
