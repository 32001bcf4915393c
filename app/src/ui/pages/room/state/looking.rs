//! Telling the server that the user is looking at the room (its tab shown
//! and focused): nothing from it is pushed to their devices meanwhile, nor
//! for a minute after (see `domain::protocol::ClientFrame::Looking`).

use crate::domain::RoomId;
use crate::ui::live::Live;

/// Says so when the page opens, when the tab gains or loses focus or is
/// shown or hidden, every `LOOKING_EVERY_MS` while looking, and once
/// more as the page goes (for as long as the calling component lives). In
/// the browser only: a server's render looks at nothing (and has no timers).
pub(super) fn tell_while_looking(live: Live, room: RoomId) {
    #[cfg(feature = "hydrate")]
    browser(live, room);
    #[cfg(not(feature = "hydrate"))]
    let _ = (live, room);
}

#[cfg(feature = "hydrate")]
fn browser(live: Live, room: RoomId) {
    use crate::domain::protocol::{ClientFrame, LOOKING_EVERY_MS};
    use leptos::prelude::*;
    use std::time::Duration;
    let say = move || {
        let _ = live.send(&ClientFrame::Looking { room });
    };
    let say_if_looking = move || say_if_looking(live, room);
    LAST_INPUT.set(js_sys::Date::now());
    let inputs = ["keydown", "pointerdown", "pointermove", "wheel", "touchstart"]
        .map(|event| window_event_listener_untyped(event, |_| LAST_INPUT.set(js_sys::Date::now())));
    say_if_looking();
    // Losing focus or being hidden is said too: the quiet minute starts then.
    let focused = window_event_listener(leptos::ev::focus, move |_| say());
    let blurred = window_event_listener(leptos::ev::blur, move |_| say());
    let shown = window_event_listener(leptos::ev::visibilitychange, move |_| say());
    let every =
        set_interval_with_handle(say_if_looking, Duration::from_millis(u64::from(LOOKING_EVERY_MS))).ok();
    on_cleanup(move || {
        for input in inputs {
            input.remove();
        }
        focused.remove();
        blurred.remove();
        shown.remove();
        if let Some(every) = every {
            every.clear();
        }
        say_if_looking();
    });
}

/// Says the user is looking at `room` if they are (also each time the
/// socket (re)opens: what was said while it was closed was lost).
pub(super) fn say_if_looking(live: Live, room: RoomId) {
    #[cfg(feature = "hydrate")]
    if looking() {
        let _ = live.send(&crate::domain::protocol::ClientFrame::Looking { room });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (live, room);
}

/// How long without a key, a touch or the mouse moving the user counts as
/// away, though the tab is shown and focused (a desktop left on must not
/// silence their phone).
#[cfg(feature = "hydrate")]
const AWAY_AFTER_MS: f64 = 5.0 * 60_000.0;

#[cfg(feature = "hydrate")]
thread_local! {
    /// When the user last used the page (ms since the epoch).
    static LAST_INPUT: std::cell::Cell<f64> = const { std::cell::Cell::new(0.0) };
}

/// Whether the tab is shown and has the focus, and the user is there.
#[cfg(feature = "hydrate")]
fn looking() -> bool {
    let document = leptos::prelude::document();
    document.visibility_state() == web_sys::VisibilityState::Visible
        && document.has_focus().unwrap_or(false)
        && js_sys::Date::now() - LAST_INPUT.get() < AWAY_AFTER_MS
}
