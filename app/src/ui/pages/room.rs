//! A chat room: header, messages (older ones load on scrolling up),
//! composer, and the member list with presence. Live through the tab's
//! socket: see [`crate::ui::live`].

use crate::api::{open_room, room_history, JoinRoom, LeaveRoom};
use crate::domain::protocol::{ClientFrame, ServerFrame};
use crate::domain::{
    linkify, Member, Message, MessageBody, PublicProfile, Role, RoomEvent, RoomId, RoomSummary, RoomView,
    Segment, Seq, UserId, Visibility,
};
use crate::error::{AppError, Problem};
use crate::i18n::{use_i18n, Texts};
use crate::t;
use crate::ui::avatar::Avatar;
use crate::ui::form::{form_error, FormError};
use crate::ui::head::DocumentTitle;
use crate::ui::live::{new_client_id, use_live, Live};
use crate::ui::pages::room_admin::{MemberActions, RoomAdmin};
use crate::ui::session::use_session;
use crate::ui::timeline::{Pending, Timeline};
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Two messages of one author less than this apart share one header.
const GROUP_WITHIN_MS: i64 = 5 * 60 * 1000;
/// A pending message with no answer after this long is shown as not sent.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// How often "is typing" is sent while typing, and how long it shows.
const TYPING_EVERY_MS: f64 = 3000.0;
const TYPING_SHOWS_MS: f64 = 6000.0;
/// How often, at most, the server is told what was read.
const READ_EVERY: Duration = Duration::from_millis(500);

#[component]
pub fn RoomPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let room_id = move || params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()).map(RoomId));
    let view = Resource::new(room_id, |room| async move {
        match room {
            Some(room) => open_room(room).await,
            None => Err(AppError::NotFound),
        }
    });
    view! {
        <Transition fallback=move || view! { <p class="muted">{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match view.await {
                    Ok(opened) => view! { <Room opened /> }.into_any(),
                    Err(_) => view! {
                        <section class="card">
                            <h1>{t!(i18n, room_not_found)}</h1>
                        </section>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

/// Everything the page shows, updated by frames and by the user.
#[derive(Clone, Copy)]
pub struct RoomState {
    pub(super) id: RoomId,
    /// Captured here: frame and timer callbacks run outside any owner, where
    /// `use_context` finds nothing.
    live: Live,
    pub(super) me: Option<UserId>,
    pub(super) summary: RwSignal<RoomSummary>,
    pub(super) members: RwSignal<Vec<Member>>,
    timeline: RwSignal<Timeline>,
    /// Who is typing, with when their indicator ends (ms since the epoch).
    typing: RwSignal<Vec<(UserId, String, f64)>>,
    /// Whether the socket has caught up on this room since it (re)opened.
    caught_up: RwSignal<bool>,
    reads: StoredValue<ReadMarker>,
    /// On phones the member list takes the chat's place when asked for.
    show_members: RwSignal<bool>,
    /// Set when the user loses the room (removed, banned, deleted): the
    /// page then goes home, where the shell says why.
    lost: RwSignal<bool>,
}

#[component]
fn Room(opened: RoomView) -> impl IntoView {
    let live = use_live();
    let session = use_session();
    let state = RoomState {
        id: opened.room.id,
        live,
        me: session.current_untracked().map(|a| a.id),
        summary: RwSignal::new(opened.room.clone()),
        members: RwSignal::new(opened.members),
        timeline: RwSignal::new(Timeline::new(opened.messages, opened.has_older)),
        typing: RwSignal::new(Vec::new()),
        caught_up: RwSignal::new(false),
        reads: StoredValue::new(ReadMarker::default()),
        show_members: RwSignal::new(false),
        lost: RwSignal::new(false),
    };
    let navigate = use_navigate();
    Effect::new(move |_| {
        if state.lost.get() {
            navigate("/", Default::default());
        }
    });
    live.open_room.set(Some(state.id));
    let reads = state.reads.get_value();
    on_cleanup(move || {
        reads.send(live, state.id);
        live.open_room.try_set(None);
        live.send(&ClientFrame::Unsubscribe { room: state.id });
    });
    live.watch(move |frame| state.on_frame(frame), move || state.subscribe());
    // Whatever arrives while the page is shown is read.
    Effect::new(move |_| {
        let last = state.timeline.with(Timeline::last_seq);
        if state.summary.with(|s| s.role.is_some()) {
            state.mark_read(last);
        }
    });
    let name = opened.room.title().to_owned();
    view! {
        <DocumentTitle text=format!("{name} · Salon") />
        <div class="room" class:show-members=move || state.show_members.get()>
            <RoomHeader state />
            <div class="room-body">
                <section class="chat" aria-label=name.clone()>
                    <MessageList state />
                    <TypingLine state />
                    <Composer state />
                </section>
                <MemberList state />
            </div>
        </div>
    }
}

impl RoomState {
    /// (Re)subscribes, catching up after the last message held.
    fn subscribe(self) {
        self.caught_up.set(false);
        let after = self.timeline.with_untracked(Timeline::last_seq).unwrap_or(0);
        self.live.send(&ClientFrame::Subscribe { room: self.id, after: Some(after) });
    }

    fn on_frame(self, frame: &ServerFrame) {
        match frame {
            ServerFrame::Subscribed { room, messages } if *room == self.id => {
                self.timeline.update(|t| {
                    t.merge(messages.iter().cloned());
                });
                self.caught_up.set(true);
                self.send_unsent();
            }
            ServerFrame::Resync { room } if *room == self.id => self.reload(),
            ServerFrame::Message { message } if message.room == self.id => {
                let gap = self.caught_up.get_untracked()
                    && self.timeline.with_untracked(|t| t.would_leave_gap(message));
                if gap {
                    // Something was missed: catch up again rather than
                    // show a hole.
                    self.subscribe();
                    return;
                }
                self.timeline.update(|t| {
                    t.merge([message.clone()]);
                });
                self.typing.update(|typing| typing.retain(|(user, _, _)| *user != message.author.id));
            }
            ServerFrame::Ack { message, .. } if message.room == self.id => {
                self.timeline.update(|t| {
                    t.merge([message.clone()]);
                });
            }
            ServerFrame::SendFailed { room, client_id, .. } if *room == self.id => {
                self.timeline.update(|t| t.fail(client_id));
            }
            ServerFrame::Typing { room, user, name } if *room == self.id && Some(*user) != self.me => {
                let until = now_ms() + TYPING_SHOWS_MS;
                self.typing.update(|typing| {
                    typing.retain(|(u, _, _)| u != user);
                    typing.push((*user, name.clone(), until));
                });
                set_timeout(
                    move || {
                        let now = now_ms();
                        self.typing.try_update(|typing| typing.retain(|(_, _, until)| *until > now));
                    },
                    Duration::from_millis(TYPING_SHOWS_MS as u64 + 50),
                );
            }
            ServerFrame::Presence { user, online } => {
                self.members.update(|members| {
                    if let Some(member) = members.iter_mut().find(|m| m.profile.id == *user) {
                        member.online = *online;
                    }
                });
                if self.summary.with_untracked(|s| s.peer.as_ref().is_some_and(|p| p.id == *user)) {
                    self.summary.update(|s| s.peer_online = *online);
                }
            }
            ServerFrame::MemberChanged { room, member } if *room == self.id => {
                self.members.update(|members| {
                    members.retain(|m| m.profile.id != member.profile.id);
                    members.push(member.clone());
                    members.sort_by(|a, b| {
                        b.role.cmp(&a.role).then_with(|| {
                            a.profile.username.to_lowercase().cmp(&b.profile.username.to_lowercase())
                        })
                    });
                });
                self.sync_member_count();
                if Some(member.profile.id) == self.me {
                    self.summary.update(|s| s.role = Some(member.role));
                }
            }
            ServerFrame::MemberLeft { room, user } if *room == self.id => {
                self.members.update(|members| members.retain(|m| m.profile.id != *user));
                self.sync_member_count();
            }
            ServerFrame::RoomJoined { room } if room.id == self.id => {
                self.summary.update(|s| s.role = room.role);
            }
            ServerFrame::RoomLeft { room } if *room == self.id => {
                self.summary.update(|s| s.role = None);
            }
            ServerFrame::RemovedFromRoom { room, .. } if *room == self.id => {
                self.summary.update(|s| s.role = None);
                self.lost.set(true);
            }
            ServerFrame::RoomChanged { room, name, topic, visibility } if *room == self.id => {
                self.summary.update(|s| {
                    s.name = name.clone();
                    s.topic = topic.clone();
                    s.visibility = *visibility;
                });
                // A room made private is no longer for those not in it.
                if *visibility == Visibility::Private && self.summary.with_untracked(|s| s.role.is_none()) {
                    self.lost.set(true);
                }
            }
            _ => {}
        }
    }

    fn sync_member_count(self) {
        let count = self.members.with_untracked(Vec::len) as i64;
        self.summary.update(|s| s.member_count = count);
    }

    /// Too far behind to catch up: loads the room afresh, keeping what the
    /// user is still sending.
    fn reload(self) {
        leptos::task::spawn_local(async move {
            if let Ok(opened) = open_room(self.id).await {
                self.timeline.update(|t| {
                    let pending: Vec<Pending> = t.pending().to_vec();
                    *t = Timeline::new(opened.messages, opened.has_older);
                    for p in pending {
                        t.add_pending(p.client_id, p.body);
                    }
                });
                self.members.set(opened.members);
                self.summary.set(opened.room);
                self.subscribe();
            }
        });
    }

    fn send(self, client_id: crate::domain::ClientId, body: String) {
        if self.caught_up.get_untracked() {
            self.live.send(&ClientFrame::Send { room: self.id, client_id: client_id.clone(), body });
        }
        // No answer in time: let the user retry (a retry reuses the id, so
        // a late answer to the first attempt cannot make a copy).
        set_timeout(
            move || {
                // Does nothing if it was acknowledged meanwhile.
                self.timeline.try_update(|t| t.fail(&client_id));
            },
            SEND_TIMEOUT,
        );
    }

    /// Sends again what is still pending (after a reconnection).
    fn send_unsent(self) {
        let unsent: Vec<Pending> = self.timeline.with_untracked(|t| t.unsent().cloned().collect());
        for pending in unsent {
            self.live.send(&ClientFrame::Send {
                room: self.id,
                client_id: pending.client_id,
                body: pending.body,
            });
        }
    }

    /// Tells the server what is read: at once, then at most every
    /// [`READ_EVERY`] (a burst of messages makes two frames, not one per
    /// message).
    fn mark_read(self, last: Option<i64>) {
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

fn now_ms() -> f64 {
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

#[component]
fn RoomHeader(state: RoomState) -> impl IntoView {
    let i18n = use_i18n();
    let leave = ServerAction::<LeaveRoom>::new();
    let join = ServerAction::<JoinRoom>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = leave.value().get() {
            navigate("/", Default::default());
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(room)) = join.value().get() {
            state.summary.update(|s| s.role = room.role);
            state.subscribe();
        }
    });
    let summary = state.summary;
    let direct = summary.with_untracked(RoomSummary::is_direct);
    view! {
        <header class="room-header">
            <div class="room-title">
                <h1>
                    {if direct {
                        summary.with_untracked(|s| s.peer.clone()).map(|peer| view! {
                            <span class="presence-avatar" class:online=move || summary.with(|s| s.peer_online)>
                                <Avatar profile=peer size="sm" />
                                <span class="presence-dot" aria-hidden="true"></span>
                            </span>
                        }).into_any()
                    } else {
                        view! { <span class="hash" aria-hidden="true">"#"</span> }.into_any()
                    }}
                    {move || summary.with(|s| s.title().to_owned())}
                </h1>
                <p class="muted">
                    {move || if direct {
                        if summary.with(|s| s.peer_online) { i18n.t().online.to_owned() } else { i18n.t().offline.to_owned() }
                    } else {
                        summary.with(|s| s.topic.clone())
                    }}
                </p>
            </div>
            <div class="room-facts">
                <span class="tag">{move || if direct { i18n.t().direct_badge } else if summary.with(|s| s.visibility == Visibility::Private) { i18n.t().private_badge } else { i18n.t().public_badge }}</span>
                {(!direct).then(|| view! {
                    <span class="muted small member-count">{move || (i18n.t().member_count)(summary.with(|s| s.member_count))}</span>
                })}
                <button type="button" class="button subtle small members-toggle"
                    aria-controls="members-panel"
                    aria-expanded=move || state.show_members.get().to_string()
                    on:click=move |_| state.show_members.update(|shown| *shown = !*shown)>
                    {move || if state.show_members.get() { i18n.t().back_to_chat } else { i18n.t().members }}
                </button>
                {move || if direct {
                    ().into_any()
                } else if summary.with(|s| s.role.is_some()) {
                    view! {
                        <button type="button" class="button subtle small" disabled=move || leave.pending().get()
                            on:click=move |_| { leave.dispatch(LeaveRoom { room: state.id }); }>
                            {move || if leave.pending().get() { i18n.t().leaving_room } else { i18n.t().leave_room }}
                        </button>
                    }.into_any()
                } else {
                    view! {
                        <button type="button" class="button primary small" disabled=move || join.pending().get()
                            on:click=move |_| { join.dispatch(JoinRoom { room: state.id }); }>
                            {move || if join.pending().get() { i18n.t().joining } else { i18n.t().join }}
                        </button>
                    }.into_any()
                }}
            </div>
            <FormError error=form_error(move || leave.value().get()) />
        </header>
    }
}

/// A message and whether it continues the previous one's group.
#[derive(Clone, PartialEq)]
struct Row {
    message: Message,
    continued: bool,
}

fn rows(messages: &[Message]) -> Vec<Row> {
    let mut previous: Option<&Message> = None;
    messages
        .iter()
        .map(|message| {
            let continued = previous.is_some_and(|p| {
                p.author.id == message.author.id && message.sent_at - p.sent_at < GROUP_WITHIN_MS
            });
            previous = Some(message);
            Row { message: message.clone(), continued }
        })
        .collect()
}

#[component]
fn MessageList(state: RoomState) -> impl IntoView {
    let i18n = use_i18n();
    let loading_older = RwSignal::new(false);
    let load_older = move || {
        let (has_older, first) = state.timeline.with_untracked(|t| (t.has_older(), t.first_seq()));
        let Some(first) = first else { return };
        if !has_older || loading_older.get_untracked() {
            return;
        }
        loading_older.set(true);
        leptos::task::spawn_local(async move {
            if let Ok(page) = room_history(state.id, first).await {
                state.timeline.update(|t| t.merge_older(page.messages, page.has_older));
            }
            loading_older.set(false);
        });
    };
    // The scroller is a column-reverse box: its scroll origin is the
    // bottom, so new messages keep it at the bottom and older ones added
    // above keep the reader where they were.
    let on_scroll = move |ev: leptos::ev::Event| {
        let element = event_target::<web_sys::Element>(&ev);
        let from_top =
            element.scroll_height() as f64 + element.scroll_top() as f64 - element.client_height() as f64;
        if from_top < 300.0 {
            load_older();
        }
    };
    view! {
        <div class="scroller" on:scroll=on_scroll tabindex="0" aria-label=t!(i18n, messages_label)>
            <div class="messages">
                {move || {
                    let (has_older, empty) = state.timeline.with(|t| (t.has_older(), t.messages().is_empty() && t.pending().is_empty()));
                    if has_older {
                        view! { <p class="history-edge muted">{t!(i18n, loading_older)}</p> }.into_any()
                    } else if empty {
                        view! { <p class="history-edge muted">{t!(i18n, no_messages)}</p> }.into_any()
                    } else {
                        view! { <p class="history-edge muted">{t!(i18n, room_beginning)}</p> }.into_any()
                    }
                }}
                <ol class="message-list">
                    <For
                        each=move || state.timeline.with(|t| rows(t.messages()))
                        key=|row| (row.message.seq, row.continued)
                        let(row)
                    >
                        <MessageItem row />
                    </For>
                    <For
                        each=move || state.timeline.with(|t| t.pending().to_vec())
                        key=|pending| (pending.client_id.clone(), pending.failed)
                        let(pending)
                    >
                        <PendingItem state pending />
                    </For>
                </ol>
            </div>
        </div>
    }
}

#[component]
fn MessageItem(row: Row) -> impl IntoView {
    let message = row.message;
    if let Some(event) = message.event.clone() {
        return view! { <EventItem event by=message.author.clone() seq=message.seq /> }.into_any();
    }
    // Someone the reader blocked: one line instead (reactive, as the list
    // of blocked people arrives after the page).
    let live = use_live();
    let i18n = use_i18n();
    let (author, seq) = (message.author.id, message.seq);
    let blocked = move || live.pending.with(|p| p.blocked.contains(&author));
    let continued = row.continued;
    (move || {
        if blocked() {
            view! { <li class="room-event muted" data-seq=seq>{t!(i18n, blocked_message)}</li> }.into_any()
        } else {
            message_view(continued, message.clone())
        }
    })
    .into_any()
}

/// A message with its author's header unless it continues a group.
fn message_view(continued: bool, message: Message) -> AnyView {
    let header = (!continued).then(|| {
        let author = message.author.clone();
        let name = author.shown_name().to_owned();
        view! {
            <div class="message-meta">
                <strong class="author">{name}</strong>
                <LocalTime ms=message.sent_at />
            </div>
        }
    });
    let avatar = (!continued).then(|| view! { <Avatar profile=message.author.clone() size="sm" /> });
    view! {
        <li class="message" class:continued=continued data-seq=message.seq>
            <div class="message-avatar">{avatar}</div>
            <div class="message-main">
                {header}
                <MessageText body=message.body.clone() />
            </div>
        </li>
    }
    .into_any()
}

/// A line the room says about itself: "Bob was removed by Alice".
#[component]
fn EventItem(event: RoomEvent, by: PublicProfile, seq: Seq) -> impl IntoView {
    let i18n = use_i18n();
    let text = move || {
        let t = i18n.t();
        let words = match &event {
            RoomEvent::Removed { .. } => t.event_removed,
            RoomEvent::Banned { .. } => t.event_banned,
        };
        words(event.subject().shown_name(), by.shown_name())
    };
    view! { <li class="room-event muted" data-seq=seq>{text}</li> }
}

#[component]
fn PendingItem(state: RoomState, pending: Pending) -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let client_id = pending.client_id.clone();
    let retry = move |_| {
        let body = state.timeline.try_update(|t| t.retry(&client_id)).flatten();
        if let Some(body) = body {
            state.send(client_id.clone(), body);
        }
    };
    let author = session.current_untracked().map(|a| a.public());
    view! {
        <li class="message pending" class:failed=pending.failed>
            <div class="message-avatar">{author.clone().map(|profile| view! { <Avatar profile size="sm" /> })}</div>
            <div class="message-main">
                <div class="message-meta">
                    <strong class="author">{author.map(|a| a.shown_name().to_owned())}</strong>
                    {if pending.failed {
                        view! {
                            <span class="send-state failed" role="alert">{t!(i18n, not_sent)}</span>
                            <button type="button" class="button subtle small" on:click=retry>{t!(i18n, retry)}</button>
                        }.into_any()
                    } else {
                        view! { <span class="send-state">{t!(i18n, sending)}</span> }.into_any()
                    }}
                </div>
                <MessageText body=pending.body />
            </div>
        </li>
    }
}

/// The text of a message: plain text (HTML shows as typed, never runs),
/// with web links made clickable.
#[component]
fn MessageText(body: String) -> impl IntoView {
    let parts: Vec<_> = linkify(&body)
        .into_iter()
        .map(|segment| match segment {
            Segment::Text(text) => text.to_owned().into_any(),
            Segment::Link(link) => view! {
                <a href=link.to_owned() rel="noopener noreferrer nofollow" target="_blank">{link.to_owned()}</a>
            }
            .into_any(),
        })
        .collect();
    view! { <p class="message-text">{parts}</p> }
}

/// A time in the reader's time zone. The server does not know it, so the
/// time appears once the page runs in the browser.
#[component]
fn LocalTime(ms: i64) -> impl IntoView {
    let i18n = use_i18n();
    let mounted = RwSignal::new(false);
    Effect::new(move |_| mounted.set(true));
    let iso = iso_datetime(ms);
    view! {
        <time datetime=iso>
            {move || mounted.get().then(|| local_time(ms, i18n.lang.get().code()))}
        </time>
    }
}

fn iso_datetime(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Days since 1970-01-01 to a calendar date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn local_time(ms: i64, lang: &str) -> String {
    #[cfg(feature = "hydrate")]
    {
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
        let options = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&options, &"hour".into(), &"2-digit".into());
        let _ = js_sys::Reflect::set(&options, &"minute".into(), &"2-digit".into());
        date.to_locale_time_string_with_options(lang, &options).into()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (ms, lang);
        String::new()
    }
}

#[component]
fn TypingLine(state: RoomState) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <p class="typing" aria-live="polite">
            {move || {
                let names: Vec<String> = state.live.pending.with(|pending| {
                    state.typing.with(|t| {
                        t.iter()
                            .filter(|(user, _, _)| !pending.blocked.contains(user))
                            .map(|(_, name, _)| name.clone())
                            .collect()
                    })
                });
                (i18n.t().typing)(&names)
            }}
        </p>
    }
}

#[component]
fn Composer(state: RoomState) -> impl IntoView {
    let i18n = use_i18n();
    let problem = RwSignal::new(None::<Problem>);
    let last_typing = StoredValue::new(0.0);
    let text = RwSignal::new(String::new());
    let submit = move || {
        let body = text.get_untracked();
        match MessageBody::parse(&body) {
            Err(refused) => problem.set(Some(refused)),
            Ok(body) => {
                problem.set(None);
                let client_id = new_client_id();
                state.timeline.update(|t| t.add_pending(client_id.clone(), body.as_str().to_owned()));
                state.send(client_id, body.as_str().to_owned());
                text.set(String::new());
                last_typing.set_value(0.0);
            }
        }
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
            ev.prevent_default();
            submit();
        }
    };
    let on_input = move |ev: leptos::ev::Event| {
        text.set(event_target_value(&ev));
        if problem.get_untracked().is_some() {
            problem.set(MessageBody::parse(&text.get_untracked()).err());
        }
        let now = now_ms();
        if now - last_typing.get_value() > TYPING_EVERY_MS {
            last_typing.set_value(now);
            state.live.send(&ClientFrame::Typing { room: state.id });
        }
    };
    let label = move || (i18n.t().message_label)(&state.summary.with(|s| s.title().to_owned()));
    view! {
        {move || if state.summary.with(|s| s.role.is_some()) {
            view! {
                <form class="composer" class:invalid=move || problem.get().is_some()
                    on:submit=move |ev| { ev.prevent_default(); submit(); }>
                    <label for="composer-input" class="visually-hidden">{label}</label>
                    <textarea id="composer-input" rows="1" placeholder=label
                        aria-describedby="composer-hint composer-error"
                        aria-invalid=move || problem.get().is_some().to_string()
                        prop:value=move || text.get()
                        on:input=on_input on:keydown=on_keydown></textarea>
                    <button type="submit" class="button primary">{t!(i18n, send)}</button>
                    <p id="composer-error" class="field-error" aria-live="polite">{move || problem.get().map(|p| match p {
                        Problem::Required => i18n.t().empty_message.to_owned(),
                        other => i18n.t().problem(&other),
                    })}</p>
                    <p id="composer-hint" class="hint">{t!(i18n, composer_hint)}</p>
                </form>
            }.into_any()
        } else {
            view! { <p class="join-hint muted">{t!(i18n, join_to_chat)}</p> }.into_any()
        }}
    }
}

#[component]
fn MemberList(state: RoomState) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <aside class="members" id="members-panel" aria-labelledby="members-title">
            <h2 id="members-title">{t!(i18n, members)}</h2>
            <ul>
                <For
                    each=move || state.members.get()
                    key=|member| (member.profile.id, member.online, member.role)
                    let(member)
                >
                    <li class="member" class:online=member.online>
                        <span class="presence-avatar">
                            <Avatar profile=member.profile.clone() size="sm" />
                            <span class="presence-dot" aria-hidden="true"></span>
                        </span>
                        <span class="member-name">{member.profile.shown_name().to_owned()}</span>
                        <span class="visually-hidden">{move || if member.online { i18n.t().online } else { i18n.t().offline }}</span>
                        {role_label(member.role).map(|label| view! { <span class="tag">{move || label(i18n.t())}</span> })}
                        <MemberActions state member=member.clone() />
                    </li>
                </For>
            </ul>
            <RoomAdmin state />
        </aside>
    }
}

/// The badge a role gets in the member list (none for plain members).
fn role_label(role: Role) -> Option<fn(&Texts) -> &'static str> {
    match role {
        Role::Owner => Some(|t| t.owner),
        Role::Admin => Some(|t| t.admin),
        Role::Member => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_times() {
        assert_eq!(iso_datetime(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_datetime(1_763_769_600_000), "2025-11-22T00:00:00Z");
        assert_eq!(iso_datetime(951_782_400_000 + 3_723_000), "2000-02-29T01:02:03Z");
    }
}
