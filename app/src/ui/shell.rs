//! The signed-in app shell: header with the account menu, the navigation
//! side bar, and the page in the middle.

use super::avatar::Avatar;
use super::live::{provide_live, use_live, LinkStatus};
use super::push::Bell;
use super::pwa::InstallItem;
use super::render_loads::once_per_render;
use super::session::{use_session, RequireAccount};
use crate::api::{my_rooms, pending_counts};
use crate::domain::{Notify, Removal, RoomSummary};
use crate::error::AppError;
use crate::i18n::{use_i18n, Lang};
use crate::t;
use crate::ui::head::DocumentTitle;
use leptos::prelude::*;
use leptos_router::components::{Outlet, A};
use leptos_router::hooks::use_location;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[component]
pub fn AppShell() -> impl IntoView {
    view! {
        <RequireAccount>
            <Layout />
        </RequireAccount>
    }
}

#[component]
fn Layout() -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let live = provide_live(session.current_untracked().map(|account| account.id));
    // "My rooms", loaded with the page and again each time the socket
    // opens (it keeps the list current from then on).
    let my_rooms_loaded =
        Resource::new(move || live.openings.get(), |_| once_per_render("my_rooms", my_rooms));
    Effect::new(move |_| {
        if let Some(Ok(rooms)) = my_rooms_loaded.get() {
            live.rooms.set(Some(rooms));
            // The room on screen is being read, whatever the list says.
            if let Some(open) = live.open_room.get_untracked() {
                live.clear_unread(open);
            }
        }
    });
    // The badges, reloaded whenever the server says something changed.
    let pending_loaded = Resource::new(
        move || (live.reconnections.get(), live.friends_changed.get(), live.invitations_changed.get()),
        |_| once_per_render("pending_counts", pending_counts),
    );
    Effect::new(move |_| {
        if let Some(Ok(pending)) = pending_loaded.get() {
            live.pending.set(pending);
        }
    });
    super::pwa::keep_shown_pages();
    // The installed app's icon counts what is unread in my rooms.
    Effect::new(move |_| {
        let unread = live.rooms.with(|rooms| rooms.iter().flatten().map(|room| room.unread).sum());
        super::pwa::set_badge(unread);
    });
    let nav_open = RwSignal::new(false);
    view! {
        <div class="app" class:nav-open=move || nav_open.get() data-link=move || live.status.get().as_str()>
            <header class="topbar">
                <button
                    type="button"
                    class="icon-button nav-toggle"
                    aria-label=t!(i18n, open_navigation)
                    aria-expanded=move || nav_open.get().to_string()
                    aria-controls="sidebar"
                    on:click=move |_| nav_open.update(|open| *open = !*open)
                >
                    <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
                        <path d="M3 6h18M3 12h18M3 18h18" stroke="currentColor" stroke-width="2" stroke-linecap="round" />
                    </svg>
                </button>
                <A href="/" attr:class="brand">
                    <Logo />
                    <span>{t!(i18n, app_name)}</span>
                </A>
                <div class="spacer"></div>
                {move || {
                    let shown = match (live.network.get(), live.status.get()) {
                        (false, _) => Some(i18n.t().offline_notice),
                        (true, LinkStatus::Reconnecting) => Some(i18n.t().reconnecting),
                        _ => None,
                    };
                    shown.map(|text| view! { <span class="link-status" role="status">{text}</span> })
                }}
                <A href="/search" attr:class="icon-button" attr:aria-label=t!(i18n, search_messages)>
                    <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
                        <path d="M11 18a7 7 0 1 0 0-14 7 7 0 0 0 0 14zM21 21l-5-5" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" />
                    </svg>
                </A>
                <A href="/friends" attr:class="icon-button badge-holder"
                    attr:aria-label=move || (i18n.t().friends_link)(live.pending.with(|p| p.friend_requests))>
                    <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
                        <path d="M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8zm-7 10v-1a6 6 0 0 1 12 0v1M17 11a3 3 0 1 0 0-6M22 21v-1a5 5 0 0 0-4-4.9" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" />
                    </svg>
                    <CountBadge count=Signal::derive(move || live.pending.with(|p| p.friend_requests)) />
                </A>
                <A href="/#invitations" attr:class="icon-button badge-holder"
                    attr:aria-label=move || (i18n.t().invitations_link)(live.pending.with(|p| p.invitations))>
                    <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
                        <path d="M3 6h18v12H3zM3 7l9 6 9-6" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round" />
                    </svg>
                    <CountBadge count=Signal::derive(move || live.pending.with(|p| p.invitations)) />
                </A>
                <AccountMenu />
            </header>
            <nav id="sidebar" class="sidebar" aria-label=t!(i18n, rooms) on:click=move |_| nav_open.set(false)>
                <div class="sidebar-inner">
                    <RoomSection loaded=my_rooms_loaded direct=false>
                        <A href="/">{t!(i18n, rooms)}</A>
                    </RoomSection>
                    <RoomSection loaded=my_rooms_loaded direct=true>
                        {t!(i18n, direct_messages)}
                    </RoomSection>
                    <section class="nav-section">
                        <h2><A href="/friends">{t!(i18n, friends)}</A></h2>
                    </section>
                </div>
            </nav>
            <div class="scrim" on:click=move |_| nav_open.set(false)></div>
            <main class="content">
                <RemovalNotice />
                <Outlet />
            </main>
        </div>
    }
}

/// A side bar section: its heading (`children`), and my rooms or my direct
/// conversations once `loaded`.
#[component]
fn RoomSection(
    loaded: Resource<Result<Vec<RoomSummary>, AppError>>,
    direct: bool,
    children: Children,
) -> impl IntoView {
    view! {
        <section class="nav-section">
            <h2>{children()}</h2>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let loaded = loaded.await.unwrap_or_default();
                    view! { <RoomNav loaded direct /> }
                })}
            </Transition>
        </section>
    }
}

/// My rooms (or, with `direct`, my direct conversations, with the other
/// person's avatar and presence) in the side bar, with unread counts: as
/// loaded with the page until the socket's live copy takes over.
#[component]
fn RoomNav(loaded: Vec<RoomSummary>, direct: bool) -> impl IntoView {
    let i18n = use_i18n();
    let live = use_live();
    let location = use_location();
    // Hydration must meet what the server rendered: each view's first
    // reading (the one hydrated, and the server's only one) is `loaded`;
    // later ones, the live copy, which the opened room page may already
    // have marked read. No effect or signal decides it: an effect may run
    // before a suspended view hydrates, and a signal of this component is
    // gone when a list replaced after a reconnection reads it once more.
    let rooms = move || {
        let first = Arc::new(AtomicBool::new(true));
        let loaded = loaded.clone();
        move || {
            let live_copy = live.rooms.get();
            let mut rooms = match first.swap(false, Ordering::Relaxed) {
                true => loaded.clone(),
                false => live_copy.unwrap_or_else(|| loaded.clone()),
            };
            rooms.retain(|room| room.is_direct() == direct);
            rooms
        }
    };
    let empty = {
        let rooms = rooms();
        move || direct && rooms().is_empty()
    };
    let rooms = rooms();
    view! {
        <Show when=empty>
            <p class="nav-empty">{t!(i18n, no_direct_messages)}</p>
        </Show>
        <ul class="nav-rooms">
            <For
                each=rooms
                key=|room| (room.id, room.unread, room.mentions, room.peer_online, room.title().to_owned(), room.peer.as_ref().and_then(|p| p.avatar_version), room.notify)
                let(room)
            >
                {
                    let href = format!("/rooms/{}", room.id);
                    let current = {
                        let href = href.clone();
                        move || location.pathname.get() == href
                    };
                    let (unread, mentions) = (room.unread, room.mentions);
                    let online = room.peer_online;
                    let leading = match room.peer.clone() {
                        Some(profile) => view! {
                            <span class="presence-avatar" class:online=online>
                                <Avatar profile size="xs" />
                                <span class="presence-dot" aria-hidden="true"></span>
                            </span>
                            <span class="visually-hidden">{move || if online { i18n.t().online } else { i18n.t().offline }}</span>
                        }
                        .into_any(),
                        None => view! { <span class="hash" aria-hidden="true">"#"</span> }.into_any(),
                    };
                    view! {
                        <li>
                            <A href=href.clone() attr:class="nav-room" attr:aria-current=move || current().then_some("page")>
                                {leading}
                                <span class="nav-room-name">{room.title().to_owned()}</span>
                                {(room.notify == Notify::Nothing).then(|| view! {
                                    <span class="nav-muted" role="img" aria-label=move || i18n.t().muted><Bell crossed=true /></span>
                                })}
                                <UnreadBadges unread mentions />
                            </A>
                        </li>
                    }
                }
            </For>
        </ul>
    }
}

/// A room's unread count, and its mentions of the reader apart (they
/// matter more): hidden at zero.
#[component]
pub fn UnreadBadges(unread: i64, mentions: i64) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        {(mentions > 0).then(|| view! {
            <span class="badge mention" aria-label=move || (i18n.t().mention_count)(mentions)>"@"{mentions}</span>
        })}
        {(unread > 0).then(|| view! {
            <span class="badge" aria-label=move || (i18n.t().unread_count)(unread)>{unread}</span>
        })}
    }
}

/// A small count over an icon, hidden at zero.
#[component]
fn CountBadge(count: Signal<i64>) -> impl IntoView {
    move || {
        (count.get() > 0).then(|| view! { <span class="count-badge" aria-hidden="true">{count.get()}</span> })
    }
}

/// Tells the user they lost a room (removed, banned, or deleted), until
/// dismissed.
#[component]
fn RemovalNotice() -> impl IntoView {
    let i18n = use_i18n();
    let live = use_live();
    move || {
        live.notice.get().map(|notice| {
            let text = move || {
                let t = i18n.t();
                let words = match notice.reason {
                    Removal::Kicked => t.notice_removed,
                    Removal::Banned => t.notice_banned,
                    Removal::Deleted => t.notice_deleted,
                };
                words(&notice.name, &notice.by)
            };
            view! {
                <div class="notice" role="alert">
                    <p>{text}</p>
                    <button type="button" class="button subtle small" on:click=move |_| live.notice.set(None)>
                        {t!(i18n, dismiss)}
                    </button>
                </div>
            }
        })
    }
}

#[component]
pub fn Logo() -> impl IntoView {
    view! {
        <svg class="logo" viewBox="0 0 32 32" width="28" height="28" aria-hidden="true">
            <rect width="32" height="32" rx="9" fill="currentColor" />
            <path d="M9 11.5c0-1.4 1.1-2.5 2.5-2.5h9c1.4 0 2.5 1.1 2.5 2.5v6c0 1.4-1.1 2.5-2.5 2.5H15l-4 3.5V20h0.5C10.1 20 9 18.9 9 17.5z" fill="var(--logo-ink)" />
        </svg>
    }
}

#[component]
fn AccountMenu() -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let open = RwSignal::new(false);
    view! {
        <div class="account-menu">
            <button
                type="button"
                class="avatar-button"
                aria-label=t!(i18n, account_menu)
                aria-haspopup="true"
                aria-expanded=move || open.get().to_string()
                aria-controls="account-menu-panel"
                on:click=move |_| open.update(|o| *o = !*o)
            >
                {move || session.current().map(|account| view! { <Avatar profile=account.public() size="sm" /> })}
            </button>
            // A click anywhere outside the panel, or on any of its items
            // (not its language picker), closes it.
            <div class="menu-backdrop" hidden=move || !open.get() on:click=move |_| open.set(false)></div>
            <div id="account-menu-panel" class="menu-panel" hidden=move || !open.get()
                on:click=move |ev| {
                    let on_item = event_target::<leptos::web_sys::Element>(&ev).closest("a, button").ok().flatten().is_some();
                    if on_item {
                        open.set(false);
                    }
                }
                on:keydown=move |ev| if ev.key() == "Escape" { open.set(false) }
            >
                {move || session.current().map(|account| view! {
                    <div class="menu-who">
                        <strong>{account.public().shown_name().to_owned()}</strong>
                        <span>"@"{account.username.clone()}</span>
                    </div>
                })}
                <A href="/profile" attr:class="menu-item">{t!(i18n, my_profile)}</A>
                {move || session.current().is_some_and(|account| account.admin).then(|| view! {
                    <A href="/admin" attr:class="menu-item">{t!(i18n, administration)}</A>
                })}
                <LanguageSelect />
                <InstallItem />
                <ActionForm action=session.logout attr:class="menu-signout">
                    <button type="submit" class="menu-item">{t!(i18n, sign_out)}</button>
                </ActionForm>
            </div>
        </div>
    }
}

/// The language picker, with a visible label.
#[component]
pub fn LanguageSelect() -> impl IntoView {
    let i18n = use_i18n();
    let on_change = move |ev: leptos::ev::Event| {
        if let Some(lang) = Lang::from_tag(&event_target_value(&ev)) {
            i18n.switch(lang);
        }
    };
    view! {
        <div class="language">
            <label for="language-select">{t!(i18n, language)}</label>
            <select id="language-select" on:change=on_change>
                {Lang::ALL
                    .into_iter()
                    .map(|lang| view! {
                        <option value=lang.code() selected=move || i18n.lang.get() == lang>{lang.native_name()}</option>
                    })
                    .collect_view()}
            </select>
        </div>
    }
}

/// The document title, "<page> · Salon", in the current language.
///
/// `<Title>` gets a plain string, re-rendered when the language changes:
/// leptos_meta may read a reactive text after the page's owner is gone, which
/// under concurrent server rendering panicked ("no Arena is active") and left
/// the request hanging.
#[component]
pub fn PageTitle(text: fn(&crate::i18n::Texts) -> &'static str) -> impl IntoView {
    let i18n = use_i18n();
    move || view! { <DocumentTitle text=format!("{} · Salon", text(i18n.t())) /> }
}
