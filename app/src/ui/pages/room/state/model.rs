//! What a room page shows, and how each server frame changes it: plain
//! data and a pure [`RoomModel::apply`], tested (in `tests.rs`) like
//! [`crate::ui::timeline`]. What a frame asks for beyond the page's own
//! data (catching up again, reloading, sending what is unsent) comes back
//! as a [`Next`] for the page to do.

use crate::domain::protocol::ServerFrame;
use crate::domain::{Member, RoomSummary, RoomView, Seq, UserId, Visibility};
use crate::ui::timeline::{Pending, Timeline};

/// How long "is typing" shows after the last typing frame, in ms.
pub const TYPING_SHOWS_MS: f64 = 6000.0;

/// Someone typing, until when (ms since the epoch).
#[derive(Clone, Debug, PartialEq)]
pub struct Typist {
    pub user: UserId,
    pub name: String,
    pub until: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RoomModel {
    pub summary: RoomSummary,
    pub members: Vec<Member>,
    pub timeline: Timeline,
    pub typing: Vec<Typist>,
    /// Whether the socket has caught up on this room since it (re)opened.
    pub caught_up: bool,
    /// The first message the user had not read when the page opened: the
    /// "new messages" line goes above it.
    pub first_unread: Option<Seq>,
    /// Set when the user loses the room (removed, banned, deleted, made
    /// private while not a member): the page then goes home, where the
    /// shell says why.
    pub lost: bool,
}

/// What the page must do after a frame, besides showing the new state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    Nothing,
    /// Caught up: send again what is still pending.
    SendUnsent,
    /// A message came after a gap: catch up again rather than show a hole.
    CatchUp,
    /// Too far behind to catch up: load the room afresh.
    Reload,
    /// Someone started typing: forget them once their indicator ends.
    ExpireTyping,
}

impl RoomModel {
    pub fn new(opened: RoomView) -> Self {
        let unread = opened.room.unread;
        Self {
            first_unread: (unread > 0).then(|| opened.room.read_through + 1),
            timeline: Timeline::new(opened.messages, opened.has_older, opened.room.last_seq),
            summary: opened.room,
            members: opened.members,
            typing: Vec::new(),
            caught_up: false,
            lost: false,
        }
    }

    /// The room loaded afresh: its summary, members and messages are
    /// replaced; what the user is still sending, who is typing and where
    /// the "new messages" line goes are kept.
    pub fn reload(&mut self, opened: RoomView) {
        let pending: Vec<Pending> = self.timeline.pending().to_vec();
        self.timeline = Timeline::new(opened.messages, opened.has_older, opened.room.last_seq);
        self.summary = opened.room;
        self.members = opened.members;
        // Those found stored are dropped here; the outbox forgets them as
        // their messages arrive, or when the room is next opened.
        let _ = self.timeline.restore_pending(pending);
    }

    /// Applies one frame of the tab's socket, as seen by `me` at `now` (ms
    /// since the epoch), and says what the page must do next; `None` when
    /// the frame is not about this page (the tab receives all the user's
    /// rooms), so that nothing is redrawn.
    pub fn apply(&mut self, me: Option<UserId>, frame: &ServerFrame, now: f64) -> Option<Next> {
        let id = self.summary.id;
        match frame {
            ServerFrame::Subscribed { room, messages, changes } if *room == id => {
                self.timeline.merge(messages.iter().cloned());
                changes.iter().for_each(|change| self.timeline.apply(change));
                self.caught_up = true;
                return Some(Next::SendUnsent);
            }
            ServerFrame::Resync { room } if *room == id => return Some(Next::Reload),
            ServerFrame::Message { message } if message.room == id => {
                if self.caught_up && self.timeline.would_leave_gap(message.seq) {
                    self.caught_up = false;
                    return Some(Next::CatchUp);
                }
                self.timeline.merge([message.clone()]);
                self.typing.retain(|typist| typist.user != message.author.id);
            }
            ServerFrame::Changed { change } if change.room == id => {
                if self.caught_up && self.timeline.would_leave_gap(change.seq) {
                    self.caught_up = false;
                    return Some(Next::CatchUp);
                }
                self.timeline.apply(change);
            }
            ServerFrame::Ack { message, .. } if message.room == id => {
                self.timeline.merge([message.clone()]);
            }
            ServerFrame::SendFailed { room, client_id, .. } if *room == id => self.timeline.fail(client_id),
            ServerFrame::Typing { room, user, name } if *room == id && Some(*user) != me => {
                self.typing.retain(|typist| typist.user != *user);
                self.typing.push(Typist { user: *user, name: name.clone(), until: now + TYPING_SHOWS_MS });
                return Some(Next::ExpireTyping);
            }
            ServerFrame::Presence { user, online } => {
                let member = self.members.iter_mut().find(|m| m.profile.id == *user);
                let peer = self.summary.peer.as_ref().is_some_and(|p| p.id == *user);
                if member.is_none() && !peer {
                    return None;
                }
                if let Some(member) = member {
                    member.online = *online;
                }
                if peer {
                    self.summary.peer_online = *online;
                }
            }
            ServerFrame::MemberChanged { room, member } if *room == id => {
                self.members.retain(|m| m.profile.id != member.profile.id);
                self.members.push(member.clone());
                self.members.sort_by(|a, b| {
                    b.role.cmp(&a.role).then_with(|| {
                        a.profile.username.to_lowercase().cmp(&b.profile.username.to_lowercase())
                    })
                });
                self.summary.member_count = self.members.len() as i64;
                if Some(member.profile.id) == me {
                    self.summary.role = Some(member.role);
                }
            }
            ServerFrame::MemberLeft { room, user } if *room == id => {
                self.members.retain(|m| m.profile.id != *user);
                self.summary.member_count = self.members.len() as i64;
            }
            ServerFrame::RoomJoined { room } if room.id == id => self.summary.role = room.role,
            ServerFrame::RoomLeft { room } if *room == id => self.summary.role = None,
            ServerFrame::RemovedFromRoom { room, .. } if *room == id => {
                self.summary.role = None;
                self.lost = true;
            }
            ServerFrame::RoomChanged { room, name, topic, visibility } if *room == id => {
                self.summary.name.clone_from(name);
                self.summary.topic.clone_from(topic);
                self.summary.visibility = *visibility;
                // A room made private is no longer for those not in it.
                if *visibility == Visibility::Private && self.summary.role.is_none() {
                    self.lost = true;
                }
            }
            _ => return None,
        }
        Some(Next::Nothing)
    }

    /// Forgets the typists whose indicator ended by `now`.
    pub fn expire_typing(&mut self, now: f64) {
        self.typing.retain(|typist| typist.until > now);
    }
}
