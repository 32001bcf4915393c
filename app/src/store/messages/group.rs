//! What appending a group decides, whatever the engine.

use super::{Appended, NewMessage};
use crate::domain::{Message, PublicProfile, RoomEvent, RoomId, Seq, UserId};
use std::collections::{BTreeMap, HashMap, HashSet};

/// A message row to insert: room, seq, author, client id, body, kind,
/// subject, html, reply, mentions, attachments.
type NewRow<'b> =
    (RoomId, Seq, UserId, &'b str, &'b str, &'b str, Option<UserId>, &'b str, Option<Seq>, String, String);

/// What appending a group decides, whatever the engine: which messages are
/// resends, which are refused, the numbers each room gives the others,
/// and the messages as stored. Each writer runs its own statements between
/// the steps, in this order.
pub(super) struct Group<'b, 'a> {
    batch: &'b [NewMessage<'a>],
    /// (author, client id) of each message.
    pub(super) keys: Vec<(UserId, &'b str)>,
    outcomes: Vec<Option<Appended>>,
    /// The first copy of each client id not stored yet.
    firsts: HashMap<(UserId, &'b str), usize>,
    /// Messages to check: the first copies.
    fresh: Vec<usize>,
    /// Messages to store, and their numbers.
    accepted: Vec<usize>,
    seqs: Vec<Seq>,
}

impl<'b, 'a> Group<'b, 'a> {
    pub(super) fn new(batch: &'b [NewMessage<'a>]) -> Self {
        Self {
            batch,
            keys: batch.iter().map(|new| (new.author, new.client_id.as_str())).collect(),
            outcomes: Vec::with_capacity(batch.len()),
            firsts: HashMap::new(),
            fresh: Vec::new(),
            accepted: Vec::new(),
            seqs: Vec::new(),
        }
    }

    /// A resend finds its original: stored earlier (`stored`, by author
    /// and client id), or earlier in this group.
    pub(super) fn find_resends(&mut self, stored: &HashMap<(UserId, String), Message>) {
        for (index, &(author, client)) in self.keys.iter().enumerate() {
            let original = if stored.is_empty() { None } else { stored.get(&(author, client.to_owned())) };
            self.outcomes.push(original.cloned().map(Appended::Existing));
            if self.outcomes[index].is_none()
                && *self.firsts.entry((author, client)).or_insert(index) == index
            {
                self.fresh.push(index);
            }
        }
    }

    /// The (room, author) pairs whose access to check, in order.
    pub(super) fn pairs(&self) -> Vec<(RoomId, UserId)> {
        let mut pairs: Vec<_> =
            self.fresh.iter().map(|&i| (self.batch[i].room, self.batch[i].author)).collect();
        pairs.sort_unstable();
        pairs.dedup();
        pairs
    }

    /// Keeps the messages whose (room, author) is not refused.
    pub(super) fn admit(&mut self, refusals: &HashMap<(RoomId, UserId), Appended>) {
        for &index in &self.fresh {
            let new = &self.batch[index];
            match refusals.get(&(new.room, new.author)) {
                Some(refusal) => self.outcomes[index] = Some(refusal.clone()),
                None => self.accepted.push(index),
            }
        }
    }

    /// The attachments the accepted messages carry.
    pub(super) fn attachments(&self) -> Vec<&'b str> {
        self.accepted.iter().flat_map(|&i| self.batch[i].attachments.iter().map(|a| a.id.as_str())).collect()
    }

    /// Refuses the messages carrying an attachment that is not an unsent
    /// upload of their author in their room (`unsent`: uploader and room
    /// of each one read in the transaction), or that an earlier message
    /// of the group claims. This mirrors the rule of
    /// `services::attachments::unsent`, checked before the commit.
    pub(super) fn claim(&mut self, unsent: &HashMap<String, (RoomId, UserId)>) {
        let mut taken: HashSet<&str> = HashSet::new();
        let batch = self.batch;
        let outcomes = &mut self.outcomes;
        self.accepted.retain(|&index| {
            let new = &batch[index];
            let claimable = new.attachments.iter().all(|a| {
                unsent.get(a.id.as_str()) == Some(&(new.room, new.author)) && taken.insert(a.id.as_str())
            });
            if !claimable {
                outcomes[index] = Some(Appended::AttachmentGone);
            }
            claimable
        });
    }

    /// The attachments to claim: id and the seq of the message claiming it.
    pub(super) fn claims(&self) -> Vec<(&'b str, Seq)> {
        self.accepted
            .iter()
            .zip(&self.seqs)
            .flat_map(|(&index, &seq)| {
                self.batch[index].attachments.iter().map(move |a| (a.id.as_str(), seq))
            })
            .collect()
    }

    pub(super) fn has_accepted(&self) -> bool {
        !self.accepted.is_empty()
    }

    /// How many messages each room takes, by room.
    pub(super) fn counts(&self) -> Vec<(RoomId, i64)> {
        let mut counts: BTreeMap<RoomId, i64> = BTreeMap::new();
        for &index in &self.accepted {
            *counts.entry(self.batch[index].room).or_default() += 1;
        }
        counts.into_iter().collect()
    }

    /// Numbers the accepted messages in the group's order, given each
    /// room's last number after the bump; `None` if a room is missing.
    pub(super) fn number(&mut self, counts: &[(RoomId, i64)], last: &HashMap<RoomId, Seq>) -> Option<()> {
        let mut next: HashMap<RoomId, Seq> = HashMap::with_capacity(counts.len());
        for &(room, count) in counts {
            next.insert(room, last.get(&room)? - count + 1);
        }
        for &index in &self.accepted {
            let seq = next.get_mut(&self.batch[index].room)?;
            self.seqs.push(*seq);
            *seq += 1;
        }
        Some(())
    }

    /// The rows to insert.
    pub(super) fn rows(&self) -> Vec<NewRow<'_>> {
        self.accepted
            .iter()
            .zip(&self.seqs)
            .map(|(&index, &seq)| {
                let new = &self.batch[index];
                let (kind, subject) =
                    new.event.map_or(("text", None), |(kind, subject)| (kind, Some(subject)));
                let reply = new.reply.map(|quote| quote.seq);
                let mentions = super::mention_list(new.mentions);
                let attachments = super::attachments_to_db(new.attachments);
                (
                    new.room,
                    seq,
                    new.author,
                    new.client_id.as_str(),
                    new.body,
                    kind,
                    subject,
                    new.html,
                    reply,
                    mentions,
                    attachments,
                )
            })
            .collect()
    }

    /// The mentions to count: (person, room, seq).
    pub(super) fn mentions(&self) -> Vec<(UserId, RoomId, Seq)> {
        self.accepted
            .iter()
            .zip(&self.seqs)
            .flat_map(|(&index, &seq)| {
                let new = &self.batch[index];
                new.mentions.iter().map(move |&user| (user, new.room, seq))
            })
            .collect()
    }

    /// Writing in a room means having read it: (room, author, seq).
    pub(super) fn read_marks(&self) -> Vec<(RoomId, UserId, Seq)> {
        let mut marks: BTreeMap<(RoomId, UserId), Seq> = BTreeMap::new();
        for (&index, &seq) in self.accepted.iter().zip(&self.seqs) {
            marks.insert((self.batch[index].room, self.batch[index].author), seq);
        }
        marks.into_iter().map(|((room, user), seq)| (room, user, seq)).collect()
    }

    /// The users whose profiles the stored messages show.
    pub(super) fn people(&self) -> Vec<UserId> {
        let mut ids: Vec<UserId> = self
            .accepted
            .iter()
            .flat_map(|&index| {
                [Some(self.batch[index].author), self.batch[index].event.map(|(_, subject)| subject)]
            })
            .flatten()
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// The stored messages, built from what was written; `None` if a
    /// profile is missing.
    pub(super) fn store(&mut self, profiles: &HashMap<UserId, PublicProfile>, now: i64) -> Option<()> {
        for (&index, &seq) in self.accepted.iter().zip(&self.seqs) {
            let new = &self.batch[index];
            let event = match new.event {
                Some((kind, subject)) => RoomEvent::from_db(kind, profiles.get(&subject)?.clone()),
                None => None,
            };
            self.outcomes[index] = Some(Appended::New(Message {
                room: new.room,
                seq,
                author: profiles.get(&new.author)?.clone(),
                body: new.body.to_owned(),
                html: new.html.to_owned(),
                sent_at: now,
                client_id: new.client_id.clone(),
                event,
                edited_at: None,
                deleted: false,
                reply: new.reply.cloned(),
                reactions: Vec::new(),
                mentions: new.mentions.to_vec(),
                attachments: new.attachments.to_vec(),
            }));
        }
        Some(())
    }

    /// What became of each message; a resend within the group gets what
    /// its first copy got.
    pub(super) fn outcomes(mut self) -> Vec<Appended> {
        for index in 0..self.batch.len() {
            let first = self.firsts.get(&self.keys[index]).copied().unwrap_or(index);
            if first != index {
                self.outcomes[index] = match &self.outcomes[first] {
                    Some(Appended::New(message)) => Some(Appended::Existing(message.clone())),
                    other => other.clone(),
                };
            }
        }
        self.outcomes.into_iter().map(|outcome| outcome.unwrap_or(Appended::NotMember(None))).collect()
    }
}
