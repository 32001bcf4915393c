//! Each room's messages on the wire once, and after their catch-up.

use app::domain::{RoomId, Seq};
use app::services::hub::{CatchUp, Frame, Outbound};
use axum::extract::ws::Utf8Bytes;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// A text frame to send, as the queue handed it over: a frame shared by
/// every receiver is not cloned (its bytes' count of owners, touched by
/// each receiver, would be one more write to a line of memory that all
/// the cores fight over).
#[derive(Debug)]
pub(super) enum Text {
    Shared(Arc<Frame>),
    Own(Utf8Bytes),
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        match self {
            Text::Shared(frame) => frame.text.as_str(),
            Text::Own(text) => text.as_str(),
        }
    }
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
pub(super) struct RoomOrder {
    /// What was sent, per room.
    sent: HashMap<RoomId, Sent>,
    /// Live messages held during a catch-up.
    held: HashMap<RoomId, Vec<(Seq, Arc<Frame>)>>,
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
    pub(super) fn frames(&mut self, item: Outbound, frames: &mut Vec<Text>) {
        match item {
            Outbound::Broadcast(frame) => match frame.position {
                Some((room, seq)) => {
                    if let Some(held) = self.held.get_mut(&room) {
                        held.push((seq, frame));
                    } else if self.first_time(room, seq) {
                        frames.push(Text::Shared(frame));
                    }
                }
                None => frames.push(Text::Shared(frame)),
            },
            Outbound::Reply(frame) => frames.push(Text::Shared(frame)),
            // Not a text frame: the writer sends it itself.
            Outbound::Pong(_) => {}
            Outbound::CatchUpStarted(room) => {
                self.held.entry(room).or_default();
            }
            Outbound::CatchUp(catch_up) => {
                let CatchUp { room, text, upto } = *catch_up;
                if let Some(upto) = upto {
                    self.sent.entry(room).or_insert(Sent::through(upto)).caught_up_to(upto);
                }
                frames.push(Text::Own(text));
                for (seq, frame) in self.held.remove(&room).unwrap_or_default() {
                    if self.first_time(room, seq) {
                        frames.push(Text::Shared(frame));
                    }
                }
            }
        }
    }

    /// Whether message `seq` of `room` is to be sent: not sent yet. It
    /// counts as sent from now on.
    fn first_time(&mut self, room: RoomId, seq: Seq) -> bool {
        let sent = self.sent.entry(room).or_insert(Sent::through(seq - 1));
        // The usual case, the next one in order: nothing to keep aside.
        if seq == sent.through + 1 && sent.ahead.is_empty() {
            sent.through = seq;
            return true;
        }
        if seq <= sent.through || !sent.ahead.insert(seq) {
            return false;
        }
        sent.advance();
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        frames.iter().map(|text| text.as_ref().to_owned()).collect()
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
