//! Live fan-out, the way centrifuge splits it: the hub is the one door to
//! this instance's sockets; behind it, [`registry`] holds the sockets and
//! delivers frames, [`presence`] decides who is shown online where, and
//! [`relay`] carries each change to the other instances and applies
//! theirs.
//!
//! Every method takes the hub's one lock, changes the local sockets and,
//! with several instances, hands the change to the relay before letting
//! go, so that the other instances see the changes in the order they were
//! made here. Publishing never waits: a socket whose queue is full is cut
//! off and resumes from the database.

mod batches;
mod looking;
mod presence;
mod registry;
mod relay;
#[cfg(test)]
mod tests;

pub use batches::PRESENCE_BATCH;
pub use presence::{InstanceId, Reach, PRESENCE_ROOM_LIMIT};
pub use registry::{encode, CatchUp, Closing, ConnId, Connection, Frame, Outbound, QUEUE_CAPACITY};
pub use relay::{Event, Relayed};

use crate::domain::protocol::ServerFrame;
use crate::domain::{RoomId, UserId};
use axum::extract::ws::Utf8Bytes;
use presence::Presence;
use registry::Registry;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

#[derive(Default)]
pub struct Hub {
    inner: Mutex<Inner>,
    link: relay::Link,
    /// Whether a device was ever subscribed to push notifications, on any
    /// instance: until one is, messages are not considered for pushes.
    push_devices: AtomicBool,
}

/// What the lock guards: the local sockets, and who is online.
#[derive(Default)]
struct Inner {
    local: Registry,
    presence: Presence,
    looking: looking::Looking,
}

impl Inner {
    fn is_online(&self, user: UserId) -> bool {
        self.presence.is_online(&self.local, user)
    }

    fn add_member(&mut self, room: RoomId, user: UserId) {
        self.local.add_member(room, user);
        self.presence.joined(&self.local, room, user);
    }

    fn remove_member(&mut self, room: RoomId, user: UserId) {
        self.local.remove_member(room, user);
        self.presence.left(room, user);
    }
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
        let mut inner = self.lock();
        let online_before = inner.is_online(user);
        let Inner { local, presence, .. } = &mut *inner;
        let (connection, first_here) = local.register(user, session, rooms, friends, hello);
        if !online_before {
            presence.announce(local, user, rooms, friends, true);
        }
        if first_here {
            let reach = Reach { user, rooms: rooms.to_vec(), friends: friends.to_vec() };
            self.relay(Event::Presence { online: true, reach }, None);
        }
        connection
    }

    /// Forgets a socket; the user's last one makes them offline.
    pub fn disconnect(&self, id: ConnId) {
        let mut inner = self.lock();
        let Some(last) = inner.local.unregister(id) else { return };
        let rooms: Vec<RoomId> = last.rooms.into_iter().collect();
        if !inner.is_online(last.user) {
            let Inner { local, presence, .. } = &mut *inner;
            presence.announce(local, last.user, &rooms, &last.friends, false);
        }
        let reach = Reach { user: last.user, rooms, friends: last.friends };
        self.relay(Event::Presence { online: false, reach }, None);
    }

    /// Makes socket `id` receive `room` (the caller checked it may).
    pub fn subscribe(&self, id: ConnId, room: RoomId) {
        self.lock().local.subscribe(id, room);
    }

    pub fn unsubscribe(&self, id: ConnId, room: RoomId) {
        self.lock().local.unsubscribe(id, room);
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
        inner.local.keep_only(room, members);
        self.relay(Event::KeepOnly { room, members: members.iter().copied().collect() }, None);
    }

    /// Sends `frame` to every socket receiving `room`.
    pub fn publish(&self, room: RoomId, frame: &ServerFrame) {
        self.publish_all(room, std::slice::from_ref(frame));
    }

    /// Sends `frames` to every socket receiving `room`, in order, under one
    /// taking of the lock, all of them or none to each socket: its task
    /// wakes once for them all and writes them at once, so a busy room
    /// costs less per message the more there are (a committed group's
    /// messages go out this way).
    pub fn publish_all(&self, room: RoomId, frames: &[ServerFrame]) {
        let frames: Vec<Arc<Frame>> = frames
            .iter()
            .filter_map(|frame| {
                let seq = frame.message_position().map(|(_, seq)| seq);
                Some(Frame::in_room(room, seq, encode(frame)?))
            })
            .collect();
        let mut inner = self.lock();
        inner.local.deliver_room(room, &frames);
        for frame in &frames {
            let seq = frame.position.map(|(_, seq)| seq);
            self.relay(Event::Room { room, seq }, Some(frame.text.clone()));
        }
    }

    /// The user of socket `id` is looking at `room` (which it receives),
    /// or just stopped.
    pub fn looking(&self, id: ConnId, room: RoomId) {
        let mut inner = self.lock();
        let Some(conn) = inner.local.conns.get(&id) else { return };
        if !conn.rooms.contains(&room) {
            return;
        }
        let user = conn.user;
        if inner.looking.saw(user, room, Instant::now()) {
            self.relay(Event::Looking { user, room }, None);
        }
    }

    /// Whether `user` is looking at `room`, on any instance, or was within
    /// [`crate::domain::protocol::LOOKING_QUIETS_MS`].
    pub fn is_looking(&self, user: UserId, room: RoomId) -> bool {
        self.lock().looking.is_looking(user, room, Instant::now())
    }

    /// A device was subscribed to push notifications (here, or on another
    /// instance when relayed).
    pub fn push_device_added(&self) {
        self.push_devices.store(true, Ordering::Relaxed);
        self.relay(Event::PushDevice, None);
    }

    /// Whether any device may be subscribed to push notifications.
    pub fn may_push(&self) -> bool {
        self.push_devices.load(Ordering::Relaxed)
    }

    /// Makes socket `id` receive (or stop receiving) public-room changes.
    pub fn watch_directory(&self, id: ConnId, watch: bool) {
        self.lock().local.watch_directory(id, watch);
    }

    /// Sends `frame` to every socket watching the public rooms.
    pub fn publish_directory(&self, frame: &ServerFrame) {
        let Some(text) = encode(frame) else { return };
        let mut inner = self.lock();
        inner.local.deliver_directory(&text);
        self.relay(Event::Directory, Some(text));
    }

    /// Sends `frame` to every socket of `user`.
    pub fn send_to_user(&self, user: UserId, frame: &ServerFrame) {
        let Some(text) = encode(frame) else { return };
        let mut inner = self.lock();
        inner.local.deliver_to_user(user, &text);
        self.relay(Event::User { user }, Some(text));
    }

    /// Closes the sockets of `user` opened with `session`: it ended.
    pub fn end_session(&self, user: UserId, session: &str) {
        let mut inner = self.lock();
        inner.local.close_sessions_of(user, |s| s == Some(session));
        self.relay(Event::EndSession { user, session: session.to_owned() }, None);
    }

    /// Closes the sockets of `user` opened with any other session than
    /// `keep` (the others ended with a password change).
    pub fn end_other_sessions(&self, user: UserId, keep: Option<&str>) {
        let mut inner = self.lock();
        inner.local.close_sessions_of(user, |s| keep.is_none() || s != keep);
        self.relay(Event::EndOtherSessions { user, keep: keep.map(str::to_owned) }, None);
    }

    /// Closes the sockets opened with any of `sessions` (socket keys,
    /// whoever's): those sessions expired.
    pub fn end_sessions(&self, sessions: &[String]) {
        if sessions.is_empty() {
            return;
        }
        let mut inner = self.lock();
        inner.local.close_sessions(sessions);
        self.relay(Event::EndSessions { sessions: sessions.to_vec() }, None);
    }

    /// Closes every socket with `code` (the server is stopping, or they may
    /// have missed live events and must resume).
    pub fn close_all(&self, code: u16) {
        self.lock().local.close_all(code);
    }

    /// Whether `user` has at least one socket open, on any instance.
    pub fn is_online(&self, user: UserId) -> bool {
        self.lock().is_online(user)
    }

    /// How many sockets this instance has open.
    pub fn connection_count(&self) -> usize {
        self.lock().local.conns.len()
    }

    /// Everyone online on this instance, with their rooms and friends.
    pub fn local_snapshot(&self) -> Vec<Reach> {
        presence::snapshot(&self.lock().local)
    }

    /// Sends what busy rooms gathered of presence, once their time is up
    /// (`now`).
    pub fn flush_presence(&self, now: Instant) {
        let mut inner = self.lock();
        let Inner { local, presence, .. } = &mut *inner;
        presence.flush(local, now);
    }

    /// Forgets the instances not heard from for `silent_for`, and the
    /// users online there (their departure is announced).
    pub fn expire_instances(&self, silent_for: Duration) {
        let mut inner = self.lock();
        let Inner { local, presence, .. } = &mut *inner;
        presence.expire(local, silent_for);
    }
}

/// Sends what busy rooms gathered of presence, every [`PRESENCE_BATCH`],
/// for as long as the hub lives.
pub async fn flush_presence_continuously(hub: std::sync::Weak<Hub>) {
    let mut every = tokio::time::interval(PRESENCE_BATCH);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let Some(hub) = hub.upgrade() else { return };
        hub.flush_presence(Instant::now());
    }
}
