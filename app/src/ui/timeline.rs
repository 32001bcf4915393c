//! A room's messages as one tab holds them: committed messages in sequence
//! order, each once, plus the tab's own messages still waiting for the
//! server's acknowledgement. Every source (the first page, older pages,
//! catch-up after a reconnect, live messages, acknowledgements) merges here.

use crate::domain::{ClientId, Message, Seq};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    pub client_id: ClientId,
    pub body: String,
    /// Given up on (refused, or no answer in time); the user can retry.
    pub failed: bool,
    /// How many times the user retried it: a timeout set for an earlier
    /// attempt does not fail a later one.
    pub attempt: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Timeline {
    messages: Vec<Message>,
    pending: Vec<Pending>,
    has_older: bool,
}

impl Timeline {
    pub fn new(messages: Vec<Message>, has_older: bool) -> Self {
        let mut timeline = Self { messages: Vec::new(), pending: Vec::new(), has_older };
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

    /// The newest committed message's sequence number: where to resume.
    pub fn last_seq(&self) -> Option<Seq> {
        self.messages.last().map(|m| m.seq)
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

    /// Whether `message` would leave a hole after what is held: the sign
    /// that something was missed and the tab must catch up.
    pub fn would_leave_gap(&self, message: &Message) -> bool {
        self.last_seq().is_some_and(|last| message.seq > last + 1)
    }

    pub fn add_pending(&mut self, client_id: ClientId, body: String) {
        self.pending.push(Pending { client_id, body, failed: false, attempt: 0 });
    }

    pub fn fail(&mut self, client_id: &ClientId) {
        if let Some(pending) = self.pending.iter_mut().find(|p| &p.client_id == client_id) {
            pending.failed = true;
        }
    }

    /// Takes back messages still being sent, as they were (after the room
    /// was loaded afresh).
    pub fn restore_pending(&mut self, pending: Vec<Pending>) {
        self.pending.extend(pending);
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
    /// returns its text.
    pub fn retry(&mut self, client_id: &ClientId) -> Option<String> {
        let pending = self.pending.iter_mut().find(|p| &p.client_id == client_id)?;
        pending.failed = false;
        pending.attempt += 1;
        Some(pending.body.clone())
    }

    /// The pending messages still worth sending (after a reconnect).
    pub fn unsent(&self) -> impl Iterator<Item = &Pending> {
        self.pending.iter().filter(|p| !p.failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{PublicProfile, RoomId, UserId};

    fn message(seq: Seq, client_id: &str) -> Message {
        Message {
            room: RoomId(1),
            seq,
            author: PublicProfile {
                id: UserId(1),
                username: "alice".into(),
                display_name: String::new(),
                avatar_version: None,
            },
            body: format!("m{seq}"),
            sent_at: seq * 1000,
            client_id: ClientId::parse(client_id).unwrap(),
            event: None,
        }
    }

    fn seqs(timeline: &Timeline) -> Vec<Seq> {
        timeline.messages().iter().map(|m| m.seq).collect()
    }

    #[test]
    fn merges_in_order_without_duplicates() {
        let mut timeline = Timeline::new(vec![message(3, "c"), message(4, "d")], true);
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
        timeline.add_pending(id.clone(), "hello".into());
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
    fn an_acknowledged_message_replaces_its_pending_copy() {
        let mut timeline = Timeline::new(vec![message(1, "a")], false);
        let id = ClientId::parse("mine").unwrap();
        timeline.add_pending(id.clone(), "hello".into());
        timeline.fail(&id);
        assert_eq!(timeline.unsent().count(), 0);
        assert_eq!(timeline.retry(&id).as_deref(), Some("hello"));
        assert_eq!(timeline.unsent().count(), 1);
        timeline.merge([message(2, "mine")]);
        assert!(timeline.pending().is_empty());
        assert_eq!(seqs(&timeline), vec![1, 2]);
    }

    #[test]
    fn gaps_are_noticed() {
        let timeline = Timeline::new(vec![message(1, "a")], false);
        assert!(!timeline.would_leave_gap(&message(2, "b")));
        assert!(timeline.would_leave_gap(&message(3, "c")));
        assert!(!Timeline::default().would_leave_gap(&message(9, "x")));
    }
}
