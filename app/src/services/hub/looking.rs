//! Who is looking at which room right now, or was a moment ago: nothing
//! from a room is pushed to someone looking at it (see `services::push`).
//! Each instance keeps what its own sockets and the other instances told
//! it; an entry lasts [`LOOKING_QUIETS_MS`] after the last word.

use crate::domain::protocol::LOOKING_QUIETS_MS;
use crate::domain::{RoomId, UserId};
use std::collections::HashMap;
use std::time::{Duration, Instant};

const QUIET: Duration = Duration::from_millis(LOOKING_QUIETS_MS);

#[derive(Default)]
pub(super) struct Looking {
    /// Until when each user is taken to be looking at each room.
    until: HashMap<(UserId, RoomId), Instant>,
    /// The map's size after it was last pruned.
    kept: usize,
}

impl Looking {
    /// `user` is looking at `room`, or just stopped.
    pub(super) fn saw(&mut self, user: UserId, room: RoomId, now: Instant) {
        self.until.insert((user, room), now + QUIET);
        // Pruned whenever it doubled: each entry is looked at a bounded
        // number of times.
        if self.until.len() > 2 * self.kept.max(64) {
            self.until.retain(|_, until| *until > now);
            self.kept = self.until.len();
        }
    }

    /// Whether `user` is looking at `room` or was within the quiet time.
    pub(super) fn is_looking(&self, user: UserId, room: RoomId, now: Instant) -> bool {
        self.until.get(&(user, room)).is_some_and(|until| *until > now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looking_lasts_the_quiet_time_and_is_pruned() {
        let mut looking = Looking::default();
        let start = Instant::now();
        looking.saw(UserId(1), RoomId(1), start);
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
