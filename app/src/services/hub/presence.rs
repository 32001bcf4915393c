//! Who is shown online where: a user is online while any instance has a
//! socket of theirs; their rooms (unless too big, see
//! [`PRESENCE_ROOM_LIMIT`]) and their friends hear when that starts and
//! ends. Users online on other instances are remembered per instance, so
//! that an instance that falls silent takes its users offline with it.

use super::batches::Batches;
use super::registry::{deliver_one, Frame, Registry};
use crate::domain::protocol::{PresenceChange, ServerFrame};
use crate::domain::{RoomId, UserId};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// Rooms watched by more sockets than this get no live arrivals: every
/// arrival would be a frame to each of them (n² frames as a big room
/// fills up). Their member lists show presence as of when they load. A
/// departure is announced wherever the arrival was, whatever the room's
/// size by then, so nobody is left shown online.
pub const PRESENCE_ROOM_LIMIT: usize = 1000;

/// A random id each instance draws at start-up.
pub type InstanceId = u64;

/// An online user, and who is told when they go offline: their rooms and
/// their friends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reach {
    pub user: UserId,
    pub rooms: Vec<RoomId>,
    pub friends: Vec<UserId>,
}

#[derive(Default)]
pub(super) struct Presence {
    /// Per room, the users whose arrival it was told of (and so must be
    /// told of their departure).
    announced: HashMap<RoomId, HashSet<UserId>>,
    /// Users online on other instances, with what each instance told of
    /// them (to announce their departure if that instance goes silent).
    remote: HashMap<UserId, HashMap<InstanceId, Reach>>,
    /// When each other instance was last heard from.
    instances: HashMap<InstanceId, Instant>,
    /// Busy rooms' changes, gathered.
    batches: Batches,
}

impl Presence {
    /// Whether `user` has a socket here (in `local`) or on another instance.
    pub(super) fn is_online(&self, local: &Registry, user: UserId) -> bool {
        local.users.contains_key(&user) || self.remote.contains_key(&user)
    }

    /// Tells this instance's sockets that `user` went online or offline:
    /// those in `rooms` (see [`PRESENCE_ROOM_LIMIT`]) and their `friends`.
    pub(super) fn announce(
        &mut self,
        local: &mut Registry,
        user: UserId,
        rooms: &[RoomId],
        friends: &[UserId],
        online: bool,
    ) {
        let now = Instant::now();
        for room in rooms {
            let Some(watching) = local.rooms.get(room).map(HashMap::len) else { continue };
            let announced = self.announced.entry(*room).or_default();
            let send = if online {
                let small = watching <= PRESENCE_ROOM_LIMIT;
                if small {
                    announced.insert(user);
                }
                small
            } else {
                announced.remove(&user)
            };
            let nobody = announced.is_empty();
            if send {
                self.batches.add(local, *room, PresenceChange { user, online }, now);
            }
            if nobody {
                self.announced.remove(room);
            }
        }
        if friends.is_empty() {
            return;
        }
        let Some(text) = super::encode(&ServerFrame::Presence { user, online }) else { return };
        let frame = Frame::plain(text);
        let mut too_slow = Vec::new();
        for friend in friends {
            too_slow.extend(deliver_one(local.queues_of(*friend), &frame));
        }
        local.cut_off(too_slow);
    }

    /// `user` joined `room`: the room learns from the join itself that they
    /// are online, so it must learn when they leave; if their instance goes
    /// silent, the room hears of it too.
    pub(super) fn joined(&mut self, local: &Registry, room: RoomId, user: UserId) {
        if self.is_online(local, user) {
            self.announced.entry(room).or_default().insert(user);
        }
        for reach in self.remote.get_mut(&user).into_iter().flat_map(|instances| instances.values_mut()) {
            if !reach.rooms.contains(&room) {
                reach.rooms.push(room);
            }
        }
    }

    /// `user` left `room`: it hears no more of them.
    pub(super) fn left(&mut self, room: RoomId, user: UserId) {
        if let Some(announced) = self.announced.get_mut(&room) {
            announced.remove(&user);
        }
    }

    /// Sends what busy rooms gathered, once their time is up.
    pub(super) fn flush(&mut self, local: &mut Registry, now: Instant) {
        self.batches.flush(local, now);
    }

    /// Instance `from` was heard from now.
    pub(super) fn heard_from(&mut self, from: InstanceId) {
        self.instances.insert(from, Instant::now());
    }

    /// Another instance says `reach.user` went online or offline there.
    pub(super) fn remote(&mut self, local: &mut Registry, from: InstanceId, online: bool, reach: Reach) {
        let was_online = self.is_online(local, reach.user);
        if online {
            if !was_online {
                self.announce(local, reach.user, &reach.rooms, &reach.friends, true);
            }
            self.remote.entry(reach.user).or_default().insert(from, reach);
            return;
        }
        let Some(instances) = self.remote.get_mut(&reach.user) else { return };
        let known = instances.remove(&from);
        if instances.is_empty() {
            self.remote.remove(&reach.user);
        }
        if was_online && !self.is_online(local, reach.user) {
            // The rooms it had when it came, and those it has now.
            let mut rooms = reach.rooms;
            rooms.extend(known.into_iter().flat_map(|known| known.rooms));
            self.announce(local, reach.user, &rooms, &reach.friends, false);
        }
    }

    /// What instance `from` says is everyone online there now.
    pub(super) fn snapshot_from(&mut self, local: &mut Registry, from: InstanceId, users: Vec<Reach>) {
        let still: HashSet<UserId> = users.iter().map(|reach| reach.user).collect();
        self.forget_instance(local, from, &still);
        for reach in users {
            self.remote(local, from, true, reach);
        }
    }

    /// Forgets the instances not heard from for `silent_for`, and the
    /// users online there (their departure is announced).
    pub(super) fn expire(&mut self, local: &mut Registry, silent_for: Duration) {
        let now = Instant::now();
        let silent: Vec<InstanceId> = self
            .instances
            .iter()
            .filter(|(_, heard)| now.duration_since(**heard) > silent_for)
            .map(|(instance, _)| *instance)
            .collect();
        for instance in silent {
            tracing::warn!(instance, "an instance went silent: its users are offline");
            self.instances.remove(&instance);
            self.forget_instance(local, instance, &HashSet::new());
        }
    }

    /// Takes the users online on `instance`, but those in `still`, offline.
    fn forget_instance(&mut self, local: &mut Registry, instance: InstanceId, still: &HashSet<UserId>) {
        let gone: Vec<Reach> = self
            .remote
            .iter()
            .filter(|(user, _)| !still.contains(user))
            .filter_map(|(_, instances)| instances.get(&instance).cloned())
            .collect();
        for reach in gone {
            self.remote(local, instance, false, Reach { rooms: Vec::new(), ..reach });
        }
    }
}

/// Everyone online in `local`, with their rooms and friends.
pub(super) fn snapshot(local: &Registry) -> Vec<Reach> {
    local
        .users
        .iter()
        .map(|(user, sockets)| {
            let mut rooms = HashSet::new();
            let mut friends = Vec::new();
            for conn in sockets.iter().filter_map(|id| local.conns.get(id)) {
                rooms.extend(conn.rooms.iter().copied());
                if friends.is_empty() {
                    friends.clone_from(&conn.friends);
                }
            }
            Reach { user: *user, rooms: rooms.into_iter().collect(), friends }
        })
        .collect()
}
