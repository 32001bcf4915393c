//! The room's header: its name and topic (or the person, in a direct
//! conversation), its facts, and joining or leaving it.

use super::notify::NotifyMenu;
use super::state::RoomState;
use crate::api::{JoinRoom, LeaveRoom};
use crate::domain::{RoomSummary, Visibility};
use crate::i18n::use_i18n;
use crate::ui::avatar::Avatar;
use crate::ui::form::{form_error, FormError};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

#[component]
pub(super) fn RoomHeader(state: RoomState) -> impl IntoView {
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
            state.model.update(|m| m.summary.role = room.role);
            state.subscribe();
        }
    });
    let summary = state.summary;
    let direct = summary.with_untracked(RoomSummary::is_direct);
    // Not the whole summary: the bell's menu must not be rebuilt (closed)
    // by presence or member counts changing.
    let is_member = Memo::new(move |_| summary.with(|s| s.role.is_some()));
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
                <Show when=move || is_member.get()>
                    <NotifyMenu state />
                </Show>
                <a class="icon-button" href=format!("/search?room={}", state.id.0) aria-label=move || i18n.t().search_room>
                    <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
                        <path d="M11 18a7 7 0 1 0 0-14 7 7 0 0 0 0 14zM21 21l-5-5" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" />
                    </svg>
                </a>
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
