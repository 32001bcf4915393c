//! The tab's one WebSocket: it connects once the page is hydrated,
//! reconnects with backoff and jitter (at once when the browser says it is
//! back online), keeps "my rooms" current, and hands every frame to the
//! views that watch it (the open room).
//!
//! On the server this context exists too, without a socket, so that views
//! render the same on both sides.

use crate::domain::protocol::{ClientFrame, ServerFrame};
use crate::domain::{ClientId, MessagePreview, Pending, Removal, RoomId, RoomSummary, UserId};
use crate::error::AppError;
use crate::ui::outbox::Outbox;
use leptos::prelude::*;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkStatus {
    Connecting,
    Online,
    /// Lost; a new attempt is scheduled.
    Reconnecting,
}

impl LinkStatus {
    /// As shown in the page's `data-link` attribute (tests wait on it).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connecting => "connecting",
            Self::Online => "online",
            Self::Reconnecting => "reconnecting",
        }
    }
}

type FrameHandler = Arc<dyn Fn(&ServerFrame) + Send + Sync>;
type OpenHandler = Arc<dyn Fn() + Send + Sync>;

// Read by the browser's socket only.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
struct Watcher {
    id: u64,
    on_frame: FrameHandler,
    /// Called each time the socket (re)opens: the moment to subscribe.
    on_open: OpenHandler,
}

#[derive(Clone, Copy)]
pub struct Live {
    pub status: RwSignal<LinkStatus>,
    /// Whether the browser has a network (`navigator.onLine`).
    pub network: RwSignal<bool>,
    /// My rooms, most recently active first; `None` until loaded.
    pub rooms: RwSignal<Option<Vec<RoomSummary>>>,
    /// The room this tab shows: its messages do not count as unread.
    pub open_room: RwSignal<Option<RoomId>>,
    /// Bumped at each reconnection.
    pub reconnections: RwSignal<u64>,
    /// Bumped each time the socket opens, the first time too: "my rooms"
    /// is read again then. What the page was rendered with may have
    /// changed before live changes began (a room read in the tab just
    /// left, whose last read mark the server was still saving).
    pub openings: RwSignal<u64>,
    /// Bumped when the server says the user's friends or friend requests
    /// changed (and at each reconnection): views showing them reload.
    pub friends_changed: RwSignal<u64>,
    /// The same for invitations.
    pub invitations_changed: RwSignal<u64>,
    /// What waits for the user's answer: the header's badges.
    pub pending: RwSignal<Pending>,
    /// A room the user just lost, to tell them why.
    pub notice: RwSignal<Option<Notice>>,
    /// Rooms deleted while this tab is open. A list read just before the
    /// deletion committed, or whose live changes began just after it was
    /// announced, still names them: lists shown leave these out.
    pub deleted: RwSignal<Vec<RoomId>>,
    /// The largest attachment the server takes (it says so on connecting).
    pub max_upload: RwSignal<u64>,
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    me: StoredValue<Option<UserId>>,
    watchers: StoredValue<Vec<Watcher>>,
    next_watcher: StoredValue<u64>,
    #[cfg(feature = "hydrate")]
    link: StoredValue<client::Link, LocalStorage>,
}

/// The messages of `me` a frame is the server's last word on: stored (an
/// answer to this tab, or seen live or in a catch-up: another tab's send,
/// or an answer lost) or refused for good (not a failure worth retrying).
fn answered(frame: &ServerFrame, me: UserId) -> Vec<&ClientId> {
    match frame {
        ServerFrame::Ack { message, .. } => vec![&message.client_id],
        ServerFrame::Message { message } if message.author.id == me => vec![&message.client_id],
        ServerFrame::Subscribed { messages, .. } => {
            messages.iter().filter(|m| m.author.id == me).map(|m| &m.client_id).collect()
        }
        ServerFrame::SendFailed { client_id, error, .. }
            if !matches!(error, AppError::Internal | AppError::RateLimited { .. } | AppError::Network) =>
        {
            vec![client_id]
        }
        _ => Vec::new(),
    }
}

/// The user lost a room (removed, banned, or it was deleted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub room: RoomId,
    pub name: String,
    pub by: String,
    pub reason: Removal,
}

pub fn use_live() -> Live {
    expect_context::<Live>()
}

/// Provides the live context and, in the browser, opens the socket.
pub fn provide_live(me: Option<UserId>) -> Live {
    let live = Live {
        status: RwSignal::new(LinkStatus::Connecting),
        network: RwSignal::new(true),
        rooms: RwSignal::new(None),
        open_room: RwSignal::new(None),
        reconnections: RwSignal::new(0),
        openings: RwSignal::new(0),
        friends_changed: RwSignal::new(0),
        invitations_changed: RwSignal::new(0),
        pending: RwSignal::new(Pending::default()),
        notice: RwSignal::new(None),
        deleted: RwSignal::new(Vec::new()),
        max_upload: RwSignal::new(crate::domain::ATTACHMENT_MAX_BYTES),
        me: StoredValue::new(me),
        watchers: StoredValue::new(Vec::new()),
        next_watcher: StoredValue::new(0),
        #[cfg(feature = "hydrate")]
        link: StoredValue::new_local(client::Link::default()),
    };
    provide_context(live);
    #[cfg(feature = "hydrate")]
    client::start(live);
    live
}

impl Live {
    /// Sends a frame if the socket is open; returns whether it was sent.
    pub fn send(&self, frame: &ClientFrame) -> bool {
        #[cfg(feature = "hydrate")]
        {
            client::send(*self, frame)
        }
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = frame;
            false
        }
    }

    pub fn is_online(&self) -> bool {
        self.status.get_untracked() == LinkStatus::Online
    }

    /// Watches every frame until the current view is cleaned up. `on_open`
    /// runs now if the socket is open, and after every reconnection.
    pub fn watch(
        &self,
        on_frame: impl Fn(&ServerFrame) + Send + Sync + 'static,
        on_open: impl Fn() + Send + Sync + 'static,
    ) {
        let id = self.next_watcher.get_value();
        self.next_watcher.set_value(id + 1);
        let on_open: OpenHandler = Arc::new(on_open);
        self.watchers
            .update_value(|w| w.push(Watcher { id, on_frame: Arc::new(on_frame), on_open: on_open.clone() }));
        if self.is_online() {
            on_open();
        }
        let watchers = self.watchers;
        on_cleanup(move || {
            watchers.try_update_value(|w| w.retain(|watcher| watcher.id != id)).unwrap_or_default()
        });
    }

    /// Hands a frame to "my rooms" and then to every watcher.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn dispatch(&self, frame: &ServerFrame) {
        if let ServerFrame::PresenceMany { changes } = frame {
            for change in changes {
                self.dispatch(&ServerFrame::Presence { user: change.user, online: change.online });
            }
            return;
        }
        self.update_rooms(frame);
        if let Some(me) = self.me.get_value() {
            Outbox(me).answered(answered(frame, me));
        }
        let handlers: Vec<FrameHandler> =
            self.watchers.with_value(|w| w.iter().map(|watcher| watcher.on_frame.clone()).collect());
        for handler in handlers {
            handler(frame);
        }
    }

    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn opened(&self) {
        // What this user wrote before a reload or while offline, in rooms
        // not on screen (the room on screen sends its own once caught up).
        if let Some(me) = self.me.get_value() {
            for frame in Outbox(me).frames(self.open_room.get_untracked()) {
                self.send(&frame);
            }
        }
        let handlers: Vec<OpenHandler> =
            self.watchers.with_value(|w| w.iter().map(|watcher| watcher.on_open.clone()).collect());
        for handler in handlers {
            handler();
        }
    }

    /// Marks a room read in "my rooms" (the server is told separately).
    pub fn clear_unread(&self, room: RoomId) {
        self.rooms.update(|rooms| {
            if let Some(summary) = rooms.iter_mut().flatten().find(|r| r.id == room) {
                summary.unread = 0;
                summary.mentions = 0;
            }
        });
    }

    fn update_rooms(&self, frame: &ServerFrame) {
        match frame {
            ServerFrame::Message { message } | ServerFrame::Ack { message, .. } => {
                let mine = self.me.get_value() == Some(message.author.id);
                let open = self.open_room.get_untracked() == Some(message.room);
                self.rooms.update(|rooms| {
                    let Some(rooms) = rooms else { return };
                    let Some(summary) = rooms.iter_mut().find(|r| r.id == message.room) else { return };
                    if message.seq <= summary.last_seq {
                        return;
                    }
                    summary.last_seq = message.seq;
                    summary.last_activity = message.sent_at;
                    summary.last_message = Some(MessagePreview::of(message));
                    if !mine && !open {
                        summary.unread += 1;
                        if self.me.get_value().is_some_and(|me| message.mentions.contains(&me)) {
                            summary.mentions += 1;
                        }
                    }
                    sort_by_activity(rooms);
                });
            }
            // A change counts in the room's sequence, not as unread; the
            // preview follows its message.
            ServerFrame::Changed { change } => self.rooms.update(|rooms| {
                if let Some(summary) = rooms.iter_mut().flatten().find(|r| r.id == change.room) {
                    summary.last_seq = summary.last_seq.max(change.seq);
                    if let Some(preview) = &mut summary.last_message {
                        preview.apply(change);
                    }
                }
            }),
            ServerFrame::RoomJoined { room } => self.rooms.update(|rooms| {
                let rooms = rooms.get_or_insert_with(Vec::new);
                rooms.retain(|r| r.id != room.id);
                rooms.push(room.clone());
                sort_by_activity(rooms);
            }),
            ServerFrame::RoomLeft { room } => self.forget_room(*room),
            ServerFrame::RemovedFromRoom { room, name, by, reason } => {
                self.forget_room(*room);
                if *reason == Removal::Deleted {
                    self.deleted.update(|deleted| deleted.push(*room));
                }
                self.notice.set(Some(Notice {
                    room: *room,
                    name: name.clone(),
                    by: by.clone(),
                    reason: *reason,
                }));
            }
            ServerFrame::RoomChanged { room, name, topic, visibility } => self.rooms.update(|rooms| {
                if let Some(summary) = rooms.iter_mut().flatten().find(|r| r.id == *room) {
                    summary.name = name.clone();
                    summary.topic = topic.clone();
                    summary.visibility = *visibility;
                }
            }),
            ServerFrame::Presence { user, online } => self.rooms.update(|rooms| {
                for summary in rooms.iter_mut().flatten() {
                    if summary.peer.as_ref().is_some_and(|peer| peer.id == *user) {
                        summary.peer_online = *online;
                    }
                }
            }),
            ServerFrame::Hello { max_upload, .. } if *max_upload > 0 => self.max_upload.set(*max_upload),
            ServerFrame::FriendsChanged => self.friends_changed.update(|n| *n += 1),
            ServerFrame::InvitationsChanged => self.invitations_changed.update(|n| *n += 1),
            ServerFrame::RoomRead { room, seq } => self.rooms.update(|rooms| {
                if let Some(summary) = rooms.iter_mut().flatten().find(|r| r.id == *room) {
                    summary.unread = (summary.last_seq - seq).clamp(0, summary.unread);
                    if summary.unread == 0 {
                        summary.mentions = 0;
                    }
                }
            }),
            _ => {}
        }
    }
}

impl Live {
    fn forget_room(&self, room: RoomId) {
        self.rooms.update(|rooms| {
            if let Some(rooms) = rooms {
                rooms.retain(|r| r.id != room);
            }
        });
    }
}

fn sort_by_activity(rooms: &mut [RoomSummary]) {
    rooms.sort_by(|a, b| b.last_activity.cmp(&a.last_activity).then(b.id.cmp(&a.id)));
}

/// A fresh client id for a message: random, and unique in practice.
pub fn new_client_id() -> crate::domain::ClientId {
    #[cfg(feature = "hydrate")]
    let (random, now) = (js_sys::Math::random(), js_sys::Date::now());
    #[cfg(not(feature = "hydrate"))]
    let (random, now) = (0.0, 0.0);
    let text = format!("{:x}-{:x}", now as u64, (random * 9_007_199_254_740_991.0) as u64);
    crate::domain::ClientId::parse(&text).expect("hex digits and a dash make a valid client id")
}

#[cfg(feature = "hydrate")]
mod client {
    use super::{LinkStatus, Live};
    use crate::domain::protocol::{
        ClientFrame, ServerFrame, CLOSE_SIGNED_OUT, PROTOCOL_VERSION, SOCKET_PATH,
    };
    use leptos::prelude::*;
    use std::time::Duration;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;
    use web_sys::{CloseEvent, Event, MessageEvent, WebSocket};

    /// The current socket and its event handlers (dropped with it).
    #[derive(Default)]
    pub struct Link {
        socket: Option<WebSocket>,
        handlers: Vec<Closure<dyn FnMut(Event)>>,
        /// Failed attempts since the last success: the backoff grows with it.
        attempts: u32,
        /// Bumped by every (re)connection, so that a stale timer does nothing.
        generation: u64,
        stopped: bool,
        ever_opened: bool,
    }

    pub fn start(live: Live) {
        // After hydration, not during it.
        Effect::new(move |_| {
            live.network.set(window().navigator().on_line());
            connect(live);
        });
        let offline = window_event_listener(leptos::ev::offline, move |_| {
            live.network.set(false);
            // The browser knows the network is gone: do not wait for TCP.
            close_socket(live);
            schedule_reconnect(live);
        });
        let online = window_event_listener(leptos::ev::online, move |_| {
            // As the browser says now (a reload offline can be told
            // "online" as its emulated network is applied again).
            live.network.set(window().navigator().on_line());
            if live.status.get_untracked() != LinkStatus::Online {
                // A new series: the attempts made while offline say nothing
                // about the network now, and must not put the next retry
                // (if this one fails as the network settles) 15–30 s away.
                live.link.update_value(|link| link.attempts = 0);
                connect(live);
            }
        });
        on_cleanup(move || {
            offline.remove();
            online.remove();
            live.link.try_update_value(|link| {
                link.stopped = true;
                // Detached before they are dropped: the socket's close event
                // comes later, and would call a dropped closure.
                if let Some(socket) = link.socket.take() {
                    socket.set_onopen(None);
                    socket.set_onmessage(None);
                    socket.set_onclose(None);
                    let _ = socket.close();
                }
                link.handlers.clear();
            });
        });
    }

    fn socket_url() -> Option<String> {
        let location = window().location();
        let scheme = if location.protocol().ok()? == "https:" { "wss" } else { "ws" };
        Some(format!("{scheme}://{}{SOCKET_PATH}?v={PROTOCOL_VERSION}", location.host().ok()?))
    }

    fn close_socket(live: Live) {
        live.link.update_value(|link| {
            link.generation += 1;
            if let Some(socket) = link.socket.take() {
                socket.set_onopen(None);
                socket.set_onmessage(None);
                socket.set_onclose(None);
                let _ = socket.close();
            }
            link.handlers.clear();
        });
    }

    fn connect(live: Live) {
        if live.link.with_value(|link| link.stopped) {
            return;
        }
        close_socket(live);
        let Some(url) = socket_url() else { return };
        let socket = match WebSocket::new(&url) {
            Ok(socket) => socket,
            Err(_) => return schedule_reconnect(live),
        };
        let generation = live.link.with_value(|link| link.generation);
        let on_open = Closure::<dyn FnMut(Event)>::new(move |_| {
            let reconnected = live.link.try_update_value(|link| {
                link.attempts = 0;
                std::mem::replace(&mut link.ever_opened, true)
            });
            live.status.set(LinkStatus::Online);
            live.openings.update(|n| *n += 1);
            if reconnected == Some(true) {
                live.reconnections.update(|n| *n += 1);
            }
            live.opened();
        });
        let on_message = Closure::<dyn FnMut(Event)>::new(move |event: Event| {
            let Some(text) = event.dyn_ref::<MessageEvent>().and_then(|m| m.data().as_string()) else {
                return;
            };
            match serde_json::from_str::<ServerFrame>(&text) {
                Ok(frame) => live.dispatch(&frame),
                Err(error) => leptos::logging::warn!("unreadable frame: {error}"),
            }
        });
        let on_close = Closure::<dyn FnMut(Event)>::new(move |event: Event| {
            if event.dyn_ref::<CloseEvent>().map(CloseEvent::code) == Some(CLOSE_SIGNED_OUT) {
                return session_ended(live);
            }
            if live.link.with_value(|link| link.generation) == generation {
                let never_opened = live.status.get_untracked() != LinkStatus::Online;
                live.link.update_value(|link| link.socket = None);
                schedule_reconnect(live);
                // A refused upgrade looks like any failed connection: ask
                // whether the session is still there (it may have ended
                // while this tab was offline).
                if never_opened {
                    leptos::task::spawn_local(async move {
                        if let Ok(None) = crate::api::current_account().await {
                            session_ended(live);
                        }
                    });
                }
            }
        });
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        live.link.update_value(|link| {
            link.socket = Some(socket);
            link.handlers = vec![on_open, on_message, on_close];
        });
    }

    /// The session ended (here or elsewhere): stop, and reload, which shows
    /// the sign-in page.
    /// (Called from the socket's own handlers: they must not be dropped here.)
    fn session_ended(live: Live) {
        live.link.update_value(|link| link.stopped = true);
        // Signed out elsewhere or expired: what this device kept for the
        // user goes, as at a sign-out here.
        crate::ui::pwa::forget_pages();
        crate::ui::outbox::forget_all();
        let _ = window().location().reload();
    }

    /// Waits 0.5 s, 1 s, 2 s… up to 30 s, each scaled by a random factor
    /// (0.5–1) so that clients cut off together do not return together.
    fn schedule_reconnect(live: Live) {
        live.status.set(LinkStatus::Reconnecting);
        live.network.set(window().navigator().on_line());
        let (attempts, generation) = live.link.with_value(|link| (link.attempts, link.generation));
        live.link.update_value(|link| link.attempts += 1);
        let base = (500.0 * 2f64.powi(attempts.min(6) as i32)).min(30_000.0);
        let delay = base * (0.5 + js_sys::Math::random() / 2.0);
        set_timeout(
            move || {
                if live.link.try_with_value(|link| link.generation) == Some(generation) {
                    connect(live);
                }
            },
            Duration::from_millis(delay as u64),
        );
    }

    /// Not sent when the socket is not open, nor once the app's live
    /// context is gone (a page's last words at sign-out come after it).
    pub fn send(live: Live, frame: &ClientFrame) -> bool {
        let Ok(text) = serde_json::to_string(frame) else { return false };
        live.link
            .try_with_value(|link| match &link.socket {
                Some(socket) if socket.ready_state() == WebSocket::OPEN => {
                    socket.send_with_str(&text).is_ok()
                }
                _ => false,
            })
            .unwrap_or(false)
    }
}
