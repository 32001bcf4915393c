//! The room header's bell: which of the room's messages are pushed to the
//! member's devices (all, mentions only, nothing), as a menu of three.

use super::state::RoomState;
use crate::api::set_room_notify;
use crate::domain::Notify;
use crate::error::Field;
use crate::i18n::{use_i18n, Texts};
use crate::t;
use crate::ui::live::use_live;
use crate::ui::push::Bell;
use leptos::prelude::*;

fn level_name(t: &Texts, level: Notify) -> &'static str {
    match level {
        Notify::All => t.notify_all,
        Notify::Mentions => t.notify_mentions,
        Notify::Nothing => t.notify_nothing,
    }
}

#[component]
pub(super) fn NotifyMenu(state: RoomState) -> impl IntoView {
    let i18n = use_i18n();
    let live = use_live();
    let open = RwSignal::new(false);
    let level = Memo::new(move |_| state.summary.with(|s| s.notify));
    let choose = Action::new_local(move |chosen: &Notify| {
        let (room, chosen) = (state.id, *chosen);
        async move {
            let done = set_room_notify(room, chosen).await;
            if done.is_ok() {
                state.model.update(|m| m.summary.notify = chosen);
                live.rooms.update(|rooms| {
                    let room = rooms.iter_mut().flatten().find(|r| r.id == room);
                    if let Some(room) = room {
                        room.notify = chosen;
                    }
                });
            }
            done
        }
    });
    let error = move || match choose.value().get() {
        Some(Err(error)) => Some(i18n.t().error_at(&error, Field::Notifications)),
        _ => None,
    };
    let label = move || format!("{}: {}", i18n.t().notifications, level_name(i18n.t(), level.get()));
    view! {
        <div class="notify-menu">
            <button type="button" class="icon-button" class:muted-bell=move || level.get() == Notify::Nothing
                aria-label=label aria-haspopup="true"
                aria-expanded=move || open.get().to_string() aria-controls="notify-menu-panel"
                on:click=move |_| open.update(|o| *o = !*o)>
                <Bell crossed=Signal::derive(move || level.get() == Notify::Nothing) />
            </button>
            <div class="menu-backdrop" hidden=move || !open.get() on:click=move |_| open.set(false)></div>
            <div id="notify-menu-panel" class="menu-panel" role="menu" aria-label=t!(i18n, notifications)
                hidden=move || !open.get() on:keydown=move |ev| if ev.key() == "Escape" { open.set(false) }>
                {Notify::ALL.map(|choice| view! {
                    <button type="button" class="menu-item" role="menuitemradio"
                        aria-checked=move || (level.get() == choice).to_string()
                        on:click=move |_| {
                            open.set(false);
                            choose.dispatch_local(choice);
                        }>
                        {move || level_name(i18n.t(), choice)}
                    </button>
                })}
            </div>
            <p class="field-error" role="alert">{error}</p>
        </div>
    }
}
