//! What one instance's hub tells the others: each change it makes for its
//! own sockets becomes an [`Event`] handed to the relay (see `cluster`),
//! in the order the changes were made; what arrives from the others goes
//! through [`Hub::apply`], to this instance's sockets only.

use super::presence::{InstanceId, Reach};
use super::registry::Frame;
use super::Hub;
use crate::domain::protocol::CLOSE_RESUME;
use crate::domain::{RoomId, Seq, UserId};
use crate::services::metrics::METRICS;
use axum::extract::ws::Utf8Bytes;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// How long [`Hub::relayed`] waits for the relay at most: a removal must
/// not hang while Redis is away (past it, the other instances are told to
/// resume, see [`Hub::relayed`]).
const RELAY_FLUSH_WAIT: Duration = Duration::from_secs(1);

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
    /// These sessions (socket keys) expired, whoever's they were.
    EndSessions {
        sessions: Vec<String>,
    },
    /// The sender's first socket of `user` opened (`online`), or its last
    /// one closed; `reach` is who hears about it.
    Presence {
        online: bool,
        reach: Reach,
    },
    /// A device was subscribed to push notifications.
    PushDevice,
    /// `user` is looking at `room` (see [`Hub::looking`]).
    Looking {
        user: UserId,
        room: RoomId,
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

/// What the hub hands to the relay, in order.
#[derive(Debug)]
pub enum Relayed {
    Event(Event, Option<Utf8Bytes>),
    /// Answer once everything before it has reached the other instances
    /// (or could not).
    Flush(oneshot::Sender<()>),
}

/// The hub's end of the relay.
#[derive(Default)]
pub(super) struct Link {
    /// Set when several instances share live events.
    relay: OnceLock<mpsc::Sender<Relayed>>,
    /// Set when the relay's queue was full and an event was dropped.
    overflowed: AtomicBool,
    /// Whether the other instances' events are arriving (see `cluster`).
    linked: AtomicBool,
}

impl Hub {
    /// Hands every later change to `relay` too, for the other instances.
    /// Returns false if a relay was set already.
    pub fn set_relay(&self, relay: mpsc::Sender<Relayed>) -> bool {
        self.link.relay.set(relay).is_ok()
    }

    /// Hands `event` to the relay. Called with the hub's lock held, so
    /// that the other instances see the changes in the order they were
    /// made here (it never waits).
    pub(in crate::services) fn relay(&self, event: Event, frame: Option<Utf8Bytes>) {
        let Some(relay) = self.link.relay.get() else { return };
        if relay.try_send(Relayed::Event(event, frame)).is_err() {
            // Redis is away or too slow: the other instances will miss
            // this, and must be told to resume (see `cluster`).
            self.link.overflowed.store(true, Ordering::Relaxed);
            METRICS.relay_dropped.increment();
        }
    }

    /// Whether the other instances' events arrive: `None` when this
    /// instance runs alone.
    pub fn linked(&self) -> Option<bool> {
        self.link.relay.get().map(|_| self.link.linked.load(Ordering::Relaxed))
    }

    pub(in crate::services) fn set_linked(&self, linked: bool) {
        self.link.linked.store(linked, Ordering::Relaxed);
    }

    /// Whether an event was dropped since the last call.
    pub fn take_relay_overflow(&self) -> bool {
        self.link.overflowed.swap(false, Ordering::Relaxed)
    }

    /// Waits (a second at most) until the changes made so far have reached
    /// the other instances: a removal is relayed before it is stored.
    pub async fn relayed(&self) {
        let Some(relay) = self.link.relay.get() else { return };
        let (done, flushed) = oneshot::channel();
        let confirmed = relay.try_send(Relayed::Flush(done)).is_ok()
            && matches!(tokio::time::timeout(RELAY_FLUSH_WAIT, flushed).await, Ok(Ok(())));
        if !confirmed {
            // Redis did not take it in time: the other instances' sockets
            // must resume (and are checked again as they do).
            self.link.overflowed.store(true, Ordering::Relaxed);
        }
    }

    /// Applies what another instance's hub did, to this instance's sockets.
    pub fn apply(&self, from: InstanceId, event: Event, frame: Option<Utf8Bytes>) {
        let mut inner = self.lock();
        let super::Inner { local, presence, looking } = &mut *inner;
        presence.heard_from(from);
        match (event, frame) {
            (Event::Room { room, seq }, Some(text)) => {
                local.deliver_room(room, &[Frame::in_room(room, seq, text)])
            }
            (Event::Directory, Some(text)) => local.deliver_directory(&text),
            (Event::User { user }, Some(text)) => local.deliver_to_user(user, &text),
            (Event::Room { .. } | Event::Directory | Event::User { .. }, None) => {
                tracing::warn!("an instance relayed a frame without its text");
            }
            (Event::AddMember { room, user }, _) => inner.add_member(room, user),
            (Event::RemoveMember { room, user }, _) => inner.remove_member(room, user),
            (Event::KeepOnly { room, members }, _) => local.keep_only(room, &members.into_iter().collect()),
            (Event::EndSession { user, session }, _) => {
                local.close_sessions_of(user, |s| s == Some(session.as_str()));
            }
            (Event::EndOtherSessions { user, keep }, _) => {
                local.close_sessions_of(user, |s| keep.is_none() || s != keep.as_deref());
            }
            (Event::EndSessions { sessions }, _) => local.close_sessions(&sessions),
            (Event::Presence { online, reach }, _) => presence.remote(local, from, online, reach),
            (Event::PushDevice, _) => self.push_devices.store(true, Ordering::Relaxed),
            (Event::Looking { user, room }, _) => {
                looking.saw(user, room, std::time::Instant::now());
            }
            (Event::Snapshot { users }, _) => presence.snapshot_from(local, from, users),
            (Event::Hello, _) => {
                self.relay(Event::Snapshot { users: super::presence::snapshot(local) }, None)
            }
            (Event::Heartbeat, _) => {}
            (Event::Lost, _) => {
                tracing::warn!(instance = from, "another instance lost live events: sockets resume");
                local.close_all(CLOSE_RESUME);
            }
        }
    }
}
