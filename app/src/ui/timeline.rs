//! A room's messages as one tab holds them: committed messages in sequence
//! order, each once and in its current state, plus the tab's own messages
//! still waiting for the server's acknowledgement. Every source (the first
//! page, older pages, catch-up after a reconnect, live messages and
//! changes, acknowledgements) merges here.
//!
//! What is held is the newest stretch of the room, and perhaps older
//! stretches read around a message far back (a reply's original, a search
//! hit), with holes between them that the reader can fill.

use crate::domain::protocol::ClientFrame;
use crate::domain::{Attachment, Change, ChangeKind, ClientId, HistoryWindow, Message, RoomId, Seq};
use std::collections::BTreeSet;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    pub client_id: ClientId,
    pub body: String,
    /// The message it answers.
    pub reply_to: Option<Seq>,
    /// The files it carries, uploaded already.
    pub attachments: Vec<Attachment>,
    /// Given up on (refused, or no answer in time); the user can retry.
    pub failed: bool,
    /// How many times the user retried it: a timeout set for an earlier
    /// attempt does not fail a later one.
    pub attempt: u32,
}

impl Pending {
    /// The frame that sends it to `room`.
    pub fn send_frame(self, room: RoomId) -> ClientFrame {
        ClientFrame::Send {
            room,
            client_id: self.client_id,
            body: self.body,
            reply_to: self.reply_to,
            attachments: self.attachments.into_iter().map(|attachment| attachment.id).collect(),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Timeline {
    messages: Vec<Message>,
    pending: Vec<Pending>,
    has_older: bool,
    /// The held messages just after a hole: older messages not held lie
    /// between them and the held message before them.
    holes: BTreeSet<Seq>,
    /// Every number of the room's sequence up to this one is reflected:
    /// messages and changes alike.
    through: Seq,
}

impl Timeline {
    /// A timeline from a page read after the room's sequence was at
    /// `through` (so the page reflects everything up to it).
    pub fn new(messages: Vec<Message>, has_older: bool, through: Seq) -> Self {
        let mut timeline = Self { has_older, through, ..Self::default() };
        timeline.merge(messages);
        timeline
    }

    pub fn messages(&self) -> &[Message] {
        &self.messages
    }

    pub fn pending(&self) -> &[Pending] {
        &self.pending
    }

    pub fn has_older(&self) -> bool {
        self.has_older
    }

    /// The newest number reflected, a message's or a change's: where to
    /// resume.
    pub fn last_seq(&self) -> Option<Seq> {
        (self.through > 0).then_some(self.through)
    }

    /// The oldest one held: where the next older page ends.
    pub fn first_seq(&self) -> Option<Seq> {
        self.messages.first().map(|m| m.seq)
    }

    /// Adds messages from any source, keeping sequence order and dropping
    /// the ones already held. A message that matches a pending one replaces
    /// it. Returns how many were new.
    pub fn merge(&mut self, messages: impl IntoIterator<Item = Message>) -> usize {
        let mut added = 0;
        for message in messages {
            self.pending.retain(|p| p.client_id != message.client_id);
            self.through = self.through.max(message.seq);
            match self.messages.binary_search_by_key(&message.seq, |m| m.seq) {
                Ok(_) => {}
                Err(at) => {
                    self.messages.insert(at, message);
                    added += 1;
                }
            }
        }
        added
    }

    /// Adds a page of older messages.
    pub fn merge_older(&mut self, messages: Vec<Message>, has_older: bool) {
        self.has_older = has_older;
        self.merge(messages);
    }

    /// Adds a window of history read away from the newest messages, and
    /// notes the holes it leaves on either side and the ones it fills.
    pub fn merge_window(&mut self, window: HistoryWindow) {
        let (Some(first), Some(last)) = (window.messages.first(), window.messages.last()) else { return };
        let (first, last) = (first.seq, last.seq);
        let below = self.messages[..self.messages.partition_point(|m| m.seq < first)].last().map(|m| m.seq);
        let above = self.messages.get(self.messages.partition_point(|m| m.seq <= last)).map(|m| m.seq);
        // Inside the window, nothing is missing any more; at either end,
        // something is if its neighbour there is not the message held.
        self.holes.retain(|&hole| hole <= first || hole > last);
        match below {
            Some(below) => self.mark_hole(first, window.older.is_some_and(|older| older > below)),
            None => self.has_older = window.older.is_some(),
        }
        if let Some(above) = above {
            self.mark_hole(above, window.newer.is_some_and(|newer| newer < above));
        }
        self.merge(window.messages);
    }

    fn mark_hole(&mut self, seq: Seq, hole: bool) {
        if hole {
            self.holes.insert(seq);
        } else {
            self.holes.remove(&seq);
        }
    }

    /// Whether older messages not held lie just before message `seq`
    /// (which is not the oldest held: that is [`Timeline::has_older`]).
    pub fn hole_before(&self, seq: Seq) -> bool {
        self.holes.contains(&seq)
    }

    /// The held message just before the hole above message `seq`: where
    /// filling the hole starts.
    pub fn hole_start(&self, seq: Seq) -> Option<Seq> {
        let at = self.messages.binary_search_by_key(&seq, |m| m.seq).ok()?;
        self.hole_before(seq).then(|| at.checked_sub(1)).flatten().map(|before| self.messages[before].seq)
    }

    /// Applies a change to the message it is about, if held (a change to
    /// an older message, not loaded, needs nothing: its page is read in
    /// its current state).
    pub fn apply(&mut self, change: &Change) {
        self.through = self.through.max(change.seq);
        let Ok(at) = self.messages.binary_search_by_key(&change.message, |m| m.seq) else { return };
        self.messages[at].apply(&change.what);
        // The replies held quote it as it now is.
        if matches!(change.what, ChangeKind::Edited { .. } | ChangeKind::Deleted) {
            let now = self.messages[at].quote();
            for reply in &mut self.messages[at + 1..] {
                if let Some(quote) = reply.reply.as_mut().filter(|quote| quote.seq == change.message) {
                    quote.clone_from(&now);
                }
            }
        }
    }

    /// Whether number `seq`, a message's or a change's, would leave a hole
    /// after what is held: the sign that something was missed and the tab
    /// must catch up.
    pub fn would_leave_gap(&self, seq: Seq) -> bool {
        self.last_seq().is_some_and(|last| seq > last + 1)
    }

    /// The message numbered `seq`, if held.
    pub fn message(&self, seq: Seq) -> Option<&Message> {
        self.messages.binary_search_by_key(&seq, |m| m.seq).ok().map(|at| &self.messages[at])
    }

    pub fn add_pending(
        &mut self,
        client_id: ClientId,
        body: String,
        reply_to: Option<Seq>,
        attachments: Vec<Attachment>,
    ) {
        self.pending.push(Pending { client_id, body, reply_to, attachments, failed: false, attempt: 0 });
    }

    pub fn fail(&mut self, client_id: &ClientId) {
        if let Some(pending) = self.pending.iter_mut().find(|p| &p.client_id == client_id) {
            pending.failed = true;
        }
    }

    /// Takes back messages still being sent, as they were (after the room
    /// was loaded afresh, or from the outbox), but not those held already;
    /// returns the ids of those found stored meanwhile.
    pub fn restore_pending(&mut self, pending: Vec<Pending>) -> Vec<ClientId> {
        let mut stored = Vec::new();
        for pending in pending {
            if self.messages.iter().any(|m| m.client_id == pending.client_id) {
                stored.push(pending.client_id);
            } else if !self.pending.iter().any(|p| p.client_id == pending.client_id) {
                self.pending.push(pending);
            }
        }
        stored
    }

    /// Counts one more sending of a pending message and returns its number:
    /// the timer set for it fails the message only if no later one went out.
    pub fn sent_again(&mut self, client_id: &ClientId) -> Option<u32> {
        let pending = self.pending.iter_mut().find(|p| &p.client_id == client_id)?;
        pending.attempt += 1;
        Some(pending.attempt)
    }

    /// The attempt a message still pending is at.
    pub fn attempt(&self, client_id: &ClientId) -> Option<u32> {
        self.pending.iter().find(|p| &p.client_id == client_id).map(|p| p.attempt)
    }

    /// Fails a message still pending at `attempt`: the answer to that
    /// attempt did not come in time.
    pub fn time_out(&mut self, client_id: &ClientId, attempt: u32) {
        if self.attempt(client_id) == Some(attempt) {
            self.fail(client_id);
        }
    }

    /// Marks a failed message as pending again (its next attempt) and
    /// returns it.
    pub fn retry(&mut self, client_id: &ClientId) -> Option<Pending> {
        let pending = self.pending.iter_mut().find(|p| &p.client_id == client_id)?;
        pending.failed = false;
        pending.attempt += 1;
        Some(pending.clone())
    }

    /// The pending messages still worth sending (after a reconnect).
    pub fn unsent(&self) -> impl Iterator<Item = &Pending> {
        self.pending.iter().filter(|p| !p.failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Quote, RoomId};

    fn message(seq: Seq, client_id: &str) -> Message {
        Message { client_id: ClientId::parse(client_id).unwrap(), ..Message::sample(seq, 1, seq * 1000) }
    }

    fn seqs(timeline: &Timeline) -> Vec<Seq> {
        timeline.messages().iter().map(|m| m.seq).collect()
    }

    #[test]
    fn merges_in_order_without_duplicates() {
        let mut timeline = Timeline::new(vec![message(3, "c"), message(4, "d")], true, 0);
        assert_eq!(timeline.merge([message(4, "d"), message(6, "f"), message(5, "e")]), 2);
        timeline.merge_older(vec![message(1, "a"), message(2, "b"), message(3, "c")], false);
        assert_eq!(seqs(&timeline), vec![1, 2, 3, 4, 5, 6]);
        assert!(!timeline.has_older());
        assert_eq!((timeline.first_seq(), timeline.last_seq()), (Some(1), Some(6)));
    }

    #[test]
    fn a_timeout_of_an_earlier_attempt_leaves_the_retry_pending() {
        let mut timeline = Timeline::default();
        let id = ClientId::parse("mine").unwrap();
        timeline.add_pending(id.clone(), "hello".into(), None, Vec::new());
        let first = timeline.attempt(&id).unwrap();
        timeline.fail(&id);
        assert!(timeline.retry(&id).is_some());
        timeline.time_out(&id, first);
        assert_eq!(timeline.unsent().count(), 1, "the retry is still waiting for its answer");
        let second = timeline.attempt(&id).unwrap();
        timeline.time_out(&id, second);
        assert_eq!(timeline.unsent().count(), 0);
    }

    #[test]
    fn a_timeout_set_before_the_message_went_out_again_leaves_it_pending() {
        let mut timeline = Timeline::default();
        let id = ClientId::parse("mine").unwrap();
        timeline.add_pending(id.clone(), "hello".into(), None, Vec::new());
        let first = timeline.sent_again(&id).unwrap();
        // Cut off, then caught up again: it went out a second time.
        let second = timeline.sent_again(&id).unwrap();
        timeline.time_out(&id, first);
        assert_eq!(timeline.unsent().count(), 1);
        timeline.time_out(&id, second);
        assert_eq!(timeline.unsent().count(), 0);
    }

    #[test]
    fn messages_restored_from_the_outbox_skip_those_held_already() {
        let mut timeline = Timeline::new(vec![message(1, "stored")], false, 0);
        timeline.add_pending(ClientId::parse("shown").unwrap(), "shown".into(), None, Vec::new());
        let queued = |id: &str| Pending {
            client_id: ClientId::parse(id).unwrap(),
            body: id.into(),
            reply_to: None,
            attachments: Vec::new(),
            failed: false,
            attempt: 0,
        };
        let stored = timeline.restore_pending(vec![queued("stored"), queued("shown"), queued("waiting")]);
        assert_eq!(stored, [ClientId::parse("stored").unwrap()]);
        let pending: Vec<&str> = timeline.pending().iter().map(|p| p.body.as_str()).collect();
        assert_eq!(pending, ["shown", "waiting"]);
    }

    #[test]
    fn an_acknowledged_message_replaces_its_pending_copy() {
        let mut timeline = Timeline::new(vec![message(1, "a")], false, 0);
        let id = ClientId::parse("mine").unwrap();
        timeline.add_pending(id.clone(), "hello".into(), None, Vec::new());
        timeline.fail(&id);
        assert_eq!(timeline.unsent().count(), 0);
        assert_eq!(timeline.retry(&id).map(|p| p.body), Some("hello".into()));
        assert_eq!(timeline.unsent().count(), 1);
        timeline.merge([message(2, "mine")]);
        assert!(timeline.pending().is_empty());
        assert_eq!(seqs(&timeline), vec![1, 2]);
    }

    #[test]
    fn gaps_are_noticed() {
        let timeline = Timeline::new(vec![message(1, "a")], false, 0);
        assert!(!timeline.would_leave_gap(2));
        assert!(timeline.would_leave_gap(3));
        assert!(!Timeline::default().would_leave_gap(9));
    }

    #[test]
    fn changes_count_in_the_sequence_and_apply_to_what_is_held() {
        // The page was read when the room was at 7: a change after its
        // last message.
        let mut timeline = Timeline::new(vec![message(5, "a"), message(6, "b")], true, 7);
        assert_eq!(timeline.last_seq(), Some(7));
        assert!(!timeline.would_leave_gap(8));
        let edit = ChangeKind::Edited {
            body: "new".into(),
            html: "<p>new</p>".into(),
            edited_at: 1,
            mentions: vec![],
        };
        timeline.apply(&Change { room: RoomId(1), seq: 8, message: 5, what: edit });
        timeline.apply(&Change { room: RoomId(1), seq: 9, message: 2, what: ChangeKind::Deleted });
        assert_eq!(timeline.message(5).map(|m| m.body.as_str()), Some("new"));
        assert_eq!(timeline.last_seq(), Some(9), "a change to a message not loaded still counts");
        assert!(timeline.would_leave_gap(11));
    }

    fn window(seqs: std::ops::RangeInclusive<Seq>, older: Option<Seq>, newer: Option<Seq>) -> HistoryWindow {
        let messages = seqs.map(|seq| message(seq, &format!("m{seq}"))).collect();
        HistoryWindow { messages, older, newer }
    }

    #[test]
    fn a_window_far_back_leaves_a_hole_that_filling_closes() {
        let mut timeline =
            Timeline::new((90..=99).map(|seq| message(seq, &format!("m{seq}"))).collect(), true, 99);
        timeline.merge_window(window(20..=30, Some(19), Some(31)));
        assert!(timeline.has_older(), "older than the window, still more");
        assert!(timeline.hole_before(90) && !timeline.hole_before(20));
        assert_eq!(timeline.hole_start(90), Some(30));
        assert_eq!(timeline.last_seq(), Some(99), "where to resume is unchanged");
        // Filling from the hole's older side, a page at a time.
        timeline.merge_window(window(31..=60, Some(30), Some(61)));
        assert_eq!(timeline.hole_start(90), Some(60));
        timeline.merge_window(window(61..=89, Some(60), Some(90)));
        assert!(!timeline.hole_before(90));
        assert_eq!(timeline.hole_start(90), None);
        assert_eq!(seqs(&timeline), (20..=99).collect::<Vec<_>>());
    }

    #[test]
    fn a_window_that_reaches_what_is_held_leaves_no_hole() {
        let mut timeline =
            Timeline::new((50..=60).map(|seq| message(seq, &format!("m{seq}"))).collect(), true, 60);
        // Numbers need not follow each other: 45 to 49 were changes.
        timeline.merge_window(window(30..=44, None, Some(50)));
        assert!(!timeline.has_older() && !timeline.hole_before(50));
        // Overlapping what is held.
        let mut timeline =
            Timeline::new((50..=60).map(|seq| message(seq, &format!("m{seq}"))).collect(), true, 60);
        timeline.merge_window(window(40..=55, Some(39), Some(56)));
        assert!(timeline.has_older() && !timeline.hole_before(50) && !timeline.hole_before(56));
    }

    #[test]
    fn replies_quote_their_original_as_it_now_is() {
        let quote = Quote { seq: 1, author: "user1".into(), text: "message 1".into(), deleted: false };
        let reply = Message { reply: Some(quote), ..message(2, "b") };
        let mut timeline = Timeline::new(vec![message(1, "a"), reply], false, 2);
        timeline.apply(&Change { room: RoomId(1), seq: 3, message: 1, what: ChangeKind::Deleted });
        let quote = timeline.message(2).and_then(|m| m.reply.clone()).expect("the quote");
        assert!(quote.deleted && quote.text.is_empty());
    }
}
