//! Who is looking at which room right now, or was a moment ago: nothing
//! from a room is pushed to someone looking at it (see `services::push`).
//! Each instance keeps what its own sockets and the other instances told
//! it; an entry lasts [`LOOKING_QUIETS_MS`] after the last word.

use crate::domain::protocol::LOOKING_QUIETS_MS;
use crate::domain::{RoomId, UserId};
use std::collections::HashMap;
use std::time::{Duration, Instant};

const QUIET: Duration = Duration::from_millis(LOOKING_QUIETS_MS);
/// Words on one user and room closer together than this are not relayed
/// (focus and blur can come fast; each relayed word is a Redis message).
const RELAY_AFTER: Duration = Duration::from_secs(15);

#[derive(Default)]
pub(super) struct Looking {
    /// Until when each user is taken to be looking at each room, and when
    /// the other instances were last told.
    until: HashMap<(UserId, RoomId), (Instant, Instant)>,
    /// The map's size after it was last pruned.
    kept: usize,
}

impl Looking {
    /// `user` is looking at `room`, or just stopped. Returns whether the
    /// word is worth relaying: the other instances were last told at least
    /// [`RELAY_AFTER`] ago (they may then hold it a little shorter, never
    /// less than `QUIET - RELAY_AFTER` after the last word).
    pub(super) fn saw(&mut self, user: UserId, room: RoomId, now: Instant) -> bool {
        let told = self.until.get(&(user, room)).map(|(_, told)| *told);
        let relay = told.is_none_or(|told| now >= told + RELAY_AFTER);
        let told = if relay { now } else { told.unwrap_or(now) };
        self.until.insert((user, room), (now + QUIET, told));
        // Pruned whenever it doubled: each entry is looked at a bounded
        // number of times.
        if self.until.len() > 2 * self.kept.max(64) {
            self.until.retain(|_, (until, _)| *until > now);
            self.kept = self.until.len();
        }
        relay
    }

    /// Whether `user` is looking at `room` or was within the quiet time.
    pub(super) fn is_looking(&self, user: UserId, room: RoomId, now: Instant) -> bool {
        self.until.get(&(user, room)).is_some_and(|(until, _)| *until > now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looking_lasts_the_quiet_time_and_is_pruned() {
        let mut looking = Looking::default();
        let start = Instant::now();
        assert!(looking.saw(UserId(1), RoomId(1), start), "the first word is relayed");
        assert!(!looking.saw(UserId(1), RoomId(1), start + RELAY_AFTER / 2), "not one soon after");
        assert!(looking.saw(UserId(1), RoomId(1), start + RELAY_AFTER), "one later is");
        let start = start + RELAY_AFTER;
        assert!(looking.is_looking(UserId(1), RoomId(1), start + QUIET / 2));
        assert!(!looking.is_looking(UserId(1), RoomId(2), start));
        assert!(!looking.is_looking(UserId(2), RoomId(1), start));
        assert!(!looking.is_looking(UserId(1), RoomId(1), start + QUIET));
        let later = start + QUIET * 2;
        for room in 0..200 {
            looking.saw(UserId(2), RoomId(room), later);
        }
        assert!(looking.until.len() <= 200, "the stale entry was pruned: {}", looking.until.len());
        assert!(looking.is_looking(UserId(2), RoomId(199), later));
    }
}
