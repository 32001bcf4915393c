//! The room page's state: [`RoomState`], the handle its parts share, which
//! sends what the user does and hands each frame of the tab's socket to
//! the pure [`RoomModel::apply`] (in [`model`]), then does what it asks.

mod looking;
mod model;
#[cfg(test)]
mod tests;

pub(super) use model::RoomModel;

use crate::api::{open_room, room_history, room_history_after, room_history_around};
use crate::domain::protocol::{ClientFrame, ServerFrame};
use crate::domain::{
    Attachment, ClientId, Member, Message, Quote, Role, RoomId, RoomSummary, RoomView, Seq, UserId,
};
use crate::ui::live::Live;
use crate::ui::outbox::Outbox;
use crate::ui::timeline::{Pending, Timeline};
use leptos::prelude::*;
use model::{Next, TYPING_SHOWS_MS};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A pending message with no answer after this long is shown as not sent.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// How often, at most, the server is told what was read.
const READ_EVERY: Duration = Duration::from_millis(500);

/// The page's handle on its state, shared by its parts.
#[derive(Clone, Copy)]
pub(super) struct RoomState {
    pub(super) id: RoomId,
    /// Captured here: frame and timer callbacks run outside any owner, where
    /// `use_context` finds nothing.
    pub(super) live: Live,
    pub(super) me: Option<UserId>,
    pub(super) model: RwSignal<RoomModel>,
    /// The parts of `model` most views read, notified only when they change.
    pub(super) summary: Memo<RoomSummary>,
    pub(super) members: Memo<Vec<Member>>,
    reads: StoredValue<ReadMarker>,
    /// On phones the member list takes the chat's place when asked for.
    pub(super) show_members: RwSignal<bool>,
    /// The message the composer's next message answers.
    pub(super) replying: RwSignal<Option<Quote>>,
    /// Whether a page of history is being read (older, or into a hole).
    loading_older: RwSignal<bool>,
}

impl RoomState {
    /// The state of a room page just `opened` by `me`, subscribed to the
    /// room through the tab's socket (`live`) for as long as the calling
    /// component lives.
    pub(super) fn open(opened: RoomView, live: Live, me: Option<UserId>) -> Self {
        let model = RwSignal::new(RoomModel::new(opened));
        let state = Self {
            id: model.with_untracked(|m| m.summary.id),
            live,
            me,
            model,
            summary: Memo::new(move |_| model.with(|m| m.summary.clone())),
            members: Memo::new(move |_| model.with(|m| m.members.clone())),
            reads: StoredValue::new(ReadMarker::default()),
            show_members: RwSignal::new(false),
            replying: RwSignal::new(None),
            loading_older: RwSignal::new(false),
        };
        live.open_room.set(Some(state.id));
        let reads = state.reads.get_value();
        // A reload or a closed tab runs no cleanup, and the throttle's
        // trailing frame would die with the page: what was read is sent as
        // the page is hidden or left, and counted again when it is shown.
        let left = window_event_listener(leptos::ev::pagehide, {
            let reads = reads.clone();
            move |_| reads.send(live, state.id)
        });
        let shown = window_event_listener(leptos::ev::visibilitychange, {
            let reads = reads.clone();
            move |_| {
                if !page_visible() {
                    reads.send(live, state.id);
                } else if state.summary.try_with_untracked(|s| s.role.is_some()) == Some(true) {
                    state.mark_read(state.model.try_with_untracked(|m| m.timeline.last_seq()).flatten());
                }
            }
        });
        on_cleanup(move || {
            left.remove();
            shown.remove();
            reads.send(live, state.id);
            live.open_room.try_set(None);
            live.send(&ClientFrame::Unsubscribe { room: state.id });
        });
        live.watch(move |frame| state.on_frame(frame), move || state.subscribe());
        looking::tell_while_looking(live, state.id);
        // What this user wrote here and the server has not answered yet
        // (after hydration: the server rendered none of it).
        if let Some(me) = me {
            Effect::new(move |_| {
                let queued = Outbox(me).of_room(state.id);
                if !queued.is_empty() {
                    let stored = model.try_update(|m| m.timeline.restore_pending(queued)).unwrap_or_default();
                    Outbox(me).answered(&stored);
                    if model.with_untracked(|m| m.caught_up) {
                        state.send_unsent();
                    }
                }
            });
        }
        // Whatever arrives while the page is shown is read.
        Effect::new(move |_| {
            let last = model.with(|m| m.timeline.last_seq());
            if state.summary.with(|s| s.role.is_some()) {
                state.mark_read(last);
            }
        });
        state
    }

    /// The viewer's role in the room (tracked).
    pub(super) fn role(self) -> Option<Role> {
        self.summary.with(|s| s.role)
    }

    /// Reads the timeline (tracked).
    pub(super) fn timeline<T>(self, read: impl FnOnce(&Timeline) -> T) -> T {
        self.model.with(|m| read(&m.timeline))
    }

    /// (Re)subscribes, catching up after the last message held.
    pub(super) fn subscribe(self) {
        self.model.update(|m| m.caught_up = false);
        let after = self.model.with_untracked(|m| m.timeline.last_seq()).unwrap_or(0);
        self.live.send(&ClientFrame::Subscribe { room: self.id, after: Some(after) });
        looking::say_if_looking(self.live, self.id);
    }

    fn on_frame(self, frame: &ServerFrame) {
        let now = now_ms();
        let next = self
            .model
            .try_maybe_update(|m| match m.apply(self.me, frame, now) {
                Some(next) => (true, next),
                None => (false, Next::Nothing),
            })
            .unwrap_or(Next::Nothing);
        match next {
            Next::Nothing => {}
            Next::SendUnsent => self.send_unsent(),
            Next::CatchUp => self.subscribe(),
            Next::Reload => self.reload(),
            Next::ExpireTyping => set_timeout(
                move || {
                    let now = now_ms();
                    self.model.try_update(|m| m.expire_typing(now));
                },
                Duration::from_millis(TYPING_SHOWS_MS as u64 + 50),
            ),
        }
    }

    /// Too far behind to catch up: loads the room afresh, keeping what the
    /// user is still sending.
    fn reload(self) {
        leptos::task::spawn_local(async move {
            if let Ok(opened) = open_room(self.id).await {
                self.model.update(|m| m.reload(opened));
                self.subscribe();
            }
        });
    }

    /// Loads the page of history before the oldest message held.
    pub(super) fn load_older(self) {
        let first = self.model.with_untracked(|m| m.timeline.first_seq().filter(|_| m.timeline.has_older()));
        let Some(first) = first else { return };
        self.read_page(async move {
            if let Ok(page) = room_history(self.id, first).await {
                self.model.update(|m| m.timeline.merge_older(page.messages, page.has_older));
            }
        });
    }

    /// Runs `read`, a read of a page of history, unless one is under way.
    fn read_page(self, read: impl std::future::Future<Output = ()> + 'static) {
        if self.loading_older.get_untracked() {
            return;
        }
        self.loading_older.set(true);
        leptos::task::spawn_local(async move {
            read.await;
            self.loading_older.set(false);
        });
    }

    /// Makes the composer's next message a reply to message `seq`.
    pub(super) fn reply_to(self, seq: Seq) {
        let quote = self.model.with_untracked(|m| m.timeline.message(seq).map(Message::quote));
        self.replying.set(quote);
        focus_by_id("composer-input");
    }

    /// Scrolls to message `seq` and highlights it, first reading the
    /// history around it if it is not held (which may leave a hole between
    /// it and the newer messages held: see [`RoomState::fill_hole`]).
    pub(super) fn show_message(self, seq: Seq) {
        leptos::task::spawn_local(async move {
            if self.model.with_untracked(|m| m.timeline.message(seq).is_none()) {
                let Ok(window) = room_history_around(self.id, seq).await else { return };
                self.model.update(|m| m.timeline.merge_window(window));
            }
            // Once the list has drawn what was loaded.
            set_timeout(move || highlight(&format!("message-{seq}")), Duration::from_millis(50));
        });
    }

    /// Reads a page into the hole just before message `seq`, from the
    /// hole's older side: the reader goes on from where they were reading.
    pub(super) fn fill_hole(self, seq: Seq) {
        let Some(after) = self.model.with_untracked(|m| m.timeline.hole_start(seq)) else { return };
        self.read_page(async move {
            if let Ok(window) = room_history_after(self.id, after).await {
                self.model.update(|m| m.timeline.merge_window(window));
            }
        });
    }

    /// Adds a message to send, perhaps in reply to message `reply_to`,
    /// perhaps with files uploaded already, and sends it.
    pub(super) fn post(
        self,
        client_id: ClientId,
        body: String,
        reply_to: Option<Seq>,
        attachments: Vec<Attachment>,
    ) {
        self.model.update(|m| m.timeline.add_pending(client_id.clone(), body, reply_to, attachments));
        if let Some(pending) = self.model.with_untracked(|m| m.timeline.pending().last().cloned()) {
            if let Some(me) = self.me {
                Outbox(me).add(self.id, &pending);
            }
            self.send(pending);
        }
    }

    /// Sends a pending message if the room is live; otherwise it waits (in
    /// the outbox too) and goes out once the room has caught up again.
    fn send(self, pending: Pending) {
        let client_id = pending.client_id.clone();
        let caught_up = self.model.with_untracked(|m| m.caught_up);
        if !caught_up || !self.live.send(&pending.send_frame(self.id)) {
            return;
        }
        // No answer in time while connected: let the user retry (a retry
        // reuses the id, so a late answer to the first attempt cannot make
        // a copy). Cut off meanwhile, it waits for the reconnection instead.
        // (The count is not shown: no view needs to know.)
        let attempt = self.model.try_update_untracked(|m| m.timeline.sent_again(&client_id)).flatten();
        let Some(attempt) = attempt else { return };
        set_timeout(
            move || {
                if self.live.is_online() {
                    // Does nothing if it was answered or sent again meanwhile.
                    self.model.try_update(|m| m.timeline.time_out(&client_id, attempt));
                }
            },
            SEND_TIMEOUT,
        );
    }

    /// Sends a failed message again.
    pub(super) fn retry(self, client_id: ClientId) {
        if let Some(pending) = self.model.try_update(|m| m.timeline.retry(&client_id)).flatten() {
            if let Some(me) = self.me {
                Outbox(me).add(self.id, &pending);
            }
            self.send(pending);
        }
    }

    /// Sends again what is still pending (after a reconnection).
    fn send_unsent(self) {
        let unsent: Vec<Pending> = self.model.with_untracked(|m| m.timeline.unsent().cloned().collect());
        for pending in unsent {
            self.send(pending);
        }
    }

    /// Tells the server what is read: at once, then at most every
    /// [`READ_EVERY`] (a burst of messages makes two frames, not one per
    /// message).
    fn mark_read(self, last: Option<Seq>) {
        let Some(last) = last else { return };
        if !page_visible() {
            return;
        }
        let marker = self.reads.get_value();
        if last <= marker.wanted.fetch_max(last, Ordering::Relaxed) {
            return;
        }
        self.live.clear_unread(self.id);
        if marker.waiting.swap(true, Ordering::Relaxed) {
            return;
        }
        marker.send(self.live, self.id);
        let (live, room) = (self.live, self.id);
        set_timeout(
            move || {
                marker.waiting.store(false, Ordering::Relaxed);
                marker.send(live, room);
            },
            READ_EVERY,
        );
    }
}

/// What the server was told about reading a room. Plain shared values, not
/// reactive ones: the last word is sent after the page is gone.
#[derive(Clone, Default)]
struct ReadMarker {
    /// The newest message shown.
    wanted: Arc<AtomicI64>,
    /// The newest the server was told about.
    sent: Arc<AtomicI64>,
    /// Whether a frame was sent less than [`READ_EVERY`] ago.
    waiting: Arc<AtomicBool>,
}

impl ReadMarker {
    fn send(&self, live: Live, room: RoomId) {
        let wanted = self.wanted.load(Ordering::Relaxed);
        if wanted > self.sent.load(Ordering::Relaxed) && live.send(&ClientFrame::Read { room, seq: wanted }) {
            self.sent.store(wanted, Ordering::Relaxed);
        }
    }
}

/// Milliseconds since the epoch, in the browser (0 on the server).
pub(super) fn now_ms() -> f64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        0.0
    }
}

fn page_visible() -> bool {
    #[cfg(feature = "hydrate")]
    {
        document().visibility_state() == web_sys::VisibilityState::Visible
    }
    #[cfg(not(feature = "hydrate"))]
    {
        false
    }
}

fn focus_by_id(id: &str) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        if let Some(element) = document().get_element_by_id(id) {
            if let Ok(element) = element.dyn_into::<web_sys::HtmlElement>() {
                let _ = element.focus();
            }
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = id;
}

/// Scrolls the element `id` into view and marks it for a moment.
fn highlight(id: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(element) = document().get_element_by_id(id) {
        element.scroll_into_view();
        let _ = element.class_list().add_1("highlight");
        set_timeout(move || drop(element.class_list().remove_1("highlight")), Duration::from_millis(2000));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = id;
}
