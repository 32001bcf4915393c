//! Presence in busy rooms, gathered. A room told of an arrival or a
//! departure within the last [`PRESENCE_BATCH`] hears of the next ones
//! together when that time is up, in one frame; a quiet room hears at
//! once. When a thousand sockets connect at once (a restart, a morning),
//! each socket of a room gets a few frames instead of one per arrival, and
//! the room's messages do not wait behind them (docs/benchmarks.md, "The
//! small room's tail").

use super::registry::{Frame, Registry};
use crate::domain::protocol::{PresenceChange, ServerFrame};
use crate::domain::RoomId;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a busy room's presence changes are gathered.
pub const PRESENCE_BATCH: Duration = Duration::from_millis(100);
/// Changes per frame at most: a frame stays a few kilobytes.
const PER_FRAME: usize = 200;

/// The rooms told of a change within the last [`PRESENCE_BATCH`], with
/// what they will be told next.
#[derive(Default)]
pub(super) struct Batches {
    rooms: HashMap<RoomId, Batch>,
}

struct Batch {
    sent_at: Instant,
    /// One change per user at most: their latest.
    pending: Vec<PresenceChange>,
}

impl Batches {
    /// Tells `room` of `change` at once if it was quiet, else with its next
    /// batch.
    pub(super) fn add(&mut self, local: &mut Registry, room: RoomId, change: PresenceChange, now: Instant) {
        match self.rooms.get_mut(&room) {
            Some(batch) if !batch.pending.is_empty() || now < batch.sent_at + PRESENCE_BATCH => {
                batch.pending.retain(|pending| pending.user != change.user);
                batch.pending.push(change);
            }
            _ => {
                self.rooms.insert(room, Batch { sent_at: now, pending: Vec::new() });
                send(local, room, &[change]);
            }
        }
    }

    /// Sends what each room gathered once its time is up, and forgets the
    /// rooms that went quiet (their next change goes at once).
    pub(super) fn flush(&mut self, local: &mut Registry, now: Instant) {
        self.rooms.retain(|room, batch| {
            if now < batch.sent_at + PRESENCE_BATCH {
                return true;
            }
            if batch.pending.is_empty() {
                return false;
            }
            send(local, *room, &batch.pending);
            batch.pending.clear();
            batch.sent_at = now;
            true
        });
    }
}

fn send(local: &mut Registry, room: RoomId, changes: &[PresenceChange]) {
    let frames: Vec<Arc<Frame>> = changes
        .chunks(PER_FRAME)
        .filter_map(|chunk| {
            let frame = match chunk {
                [one] => ServerFrame::Presence { user: one.user, online: one.online },
                many => ServerFrame::PresenceMany { changes: many.to_vec() },
            };
            super::encode(&frame).map(Frame::plain)
        })
        .collect();
    local.deliver_room(room, &frames);
}
