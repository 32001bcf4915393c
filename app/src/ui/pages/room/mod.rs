//! A chat room: header, messages (older ones load on scrolling up),
//! composer, and the member list with presence and the room's
//! administration. Live through the tab's socket (see
//! [`crate::ui::live`]): each frame goes through the pure
//! `RoomModel::apply` (`state/model.rs`).

mod admin;
mod attachments;
mod composer;
mod header;
mod members;
mod message;
mod messages;
mod notify;
mod state;

use crate::api::open_room;
use crate::domain::{RoomId, RoomView};
use crate::error::AppError;
use crate::i18n::use_i18n;
use crate::t;
use crate::ui::head::DocumentTitle;
use crate::ui::live::use_live;
use crate::ui::pwa::NotKeptOffline;
use crate::ui::render_loads::once_per_render;
use crate::ui::session::use_session;
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use state::RoomState;

#[component]
pub fn RoomPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let room_id = move || params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()).map(RoomId));
    // Once per server render (`ui::render_loads`): the page holds messages
    // that may be posted while it renders, and opening it marks it read.
    let view = Resource::new(room_id, |room| {
        once_per_render("open_room", move || async move {
            match room {
                Some(room) => open_room(room).await,
                None => Err(AppError::NotFound),
            }
        })
    });
    view! {
        <Transition fallback=move || view! { <p class="muted">{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match view.await {
                    Ok(opened) => view! { <Room opened /> }.into_any(),
                    Err(_) => view! {
                        <NotKeptOffline />
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

#[component]
fn Room(opened: RoomView) -> impl IntoView {
    let me = use_session().current_untracked().map(|account| account.id);
    let name = opened.room.title().to_owned();
    let state = RoomState::open(opened, use_live(), me);
    // Opened from a search result or a link to one message: show it.
    let at = use_query_map().with_untracked(|q| q.get("at").and_then(|seq| seq.parse().ok()));
    if let Some(seq) = at {
        Effect::new(move |_| state.show_message(seq));
    }
    let navigate = use_navigate();
    let lost = Memo::new(move |_| state.model.with(|m| m.lost));
    Effect::new(move |_| {
        if lost.get() {
            navigate("/", Default::default());
        }
    });
    view! {
        <DocumentTitle text=format!("{name} · Salon") />
        <div class="room" class:show-members=move || state.show_members.get()>
            <header::RoomHeader state />
            <div class="room-body">
                <section class="chat" aria-label=name.clone()>
                    <messages::MessageList state />
                    <composer::TypingLine state />
                    <composer::Composer state />
                </section>
                <members::MemberList state />
            </div>
        </div>
    }
}
