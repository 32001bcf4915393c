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
    let button = NodeRef::<leptos::html::Button>::new();
    let panel = NodeRef::<leptos::html::Div>::new();
    // Opened: the chosen item has the focus; closed, the bell gets it back.
    let close = move || {
        open.set(false);
        if let Some(button) = button.get_untracked() {
            let _ = button.focus();
        }
    };
    Effect::new(move |_| {
        if open.get() {
            focus_item(panel, |items, _| {
                items.iter().position(|i| i.get_attribute("aria-checked").as_deref() == Some("true"))
            });
        }
    });
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        "Escape" if open.get_untracked() => close(),
        "ArrowDown" | "ArrowUp" if open.get_untracked() => {
            ev.prevent_default();
            let step = if ev.key() == "ArrowDown" { 1 } else { -1 };
            focus_item(panel, move |items, focused| {
                let at = focused.unwrap_or(0) as i32 + step;
                Some(at.rem_euclid(items.len().max(1) as i32) as usize)
            });
        }
        _ => {}
    };
    view! {
        <div class="notify-menu" on:keydown=on_keydown>
            <button type="button" class="icon-button" class:muted-bell=move || level.get() == Notify::Nothing
                node_ref=button aria-label=label aria-haspopup="true"
                aria-expanded=move || open.get().to_string() aria-controls="notify-menu-panel"
                on:click=move |_| open.update(|o| *o = !*o)>
                <Bell crossed=Signal::derive(move || level.get() == Notify::Nothing) />
            </button>
            <div class="menu-backdrop" hidden=move || !open.get() on:click=move |_| open.set(false)></div>
            <div id="notify-menu-panel" class="menu-panel" role="menu" aria-label=t!(i18n, notifications)
                node_ref=panel hidden=move || !open.get()>
                {Notify::ALL.map(|choice| view! {
                    <button type="button" class="menu-item" role="menuitemradio"
                        aria-checked=move || (level.get() == choice).to_string()
                        on:click=move |_| {
                            close();
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

/// Focuses the menu item `pick` chooses, given the items and which has the
/// focus now.
fn focus_item(
    panel: NodeRef<leptos::html::Div>,
    pick: impl Fn(&[web_sys::Element], Option<usize>) -> Option<usize>,
) {
    use leptos::wasm_bindgen::JsCast;
    let Some(panel) = panel.get_untracked() else { return };
    let Ok(found) = panel.query_selector_all("[role=menuitemradio]") else { return };
    let items: Vec<web_sys::Element> =
        (0..found.length()).filter_map(|i| found.item(i)?.dyn_into::<web_sys::Element>().ok()).collect();
    let active = document().active_element();
    let focused = items.iter().position(|item| Some(item) == active.as_ref());
    if let Some(item) = pick(&items, focused).and_then(|at| items.get(at)) {
        if let Some(item) = item.dyn_ref::<web_sys::HtmlElement>() {
            let _ = item.focus();
        }
    }
}
