//! Who is typing, and the composer.

use super::state::{now_ms, RoomState};
use crate::domain::protocol::ClientFrame;
use crate::domain::MessageBody;
use crate::error::Problem;
use crate::i18n::use_i18n;
use crate::t;
use crate::ui::live::new_client_id;
use leptos::prelude::*;

/// How often "is typing" is sent while typing, in ms.
const TYPING_EVERY_MS: f64 = 3000.0;

#[component]
pub(super) fn TypingLine(state: RoomState) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <p class="typing" aria-live="polite">
            {move || {
                let names: Vec<String> = state.live.pending.with(|pending| {
                    state.model.with(|m| {
                        m.typing
                            .iter()
                            .filter(|typist| !pending.blocked.contains(&typist.user))
                            .map(|typist| typist.name.clone())
                            .collect()
                    })
                });
                (i18n.t().typing)(&names)
            }}
        </p>
    }
}

#[component]
pub(super) fn Composer(state: RoomState) -> impl IntoView {
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
                let reply_to = state.replying.get_untracked().map(|quote| quote.seq);
                state.post(new_client_id(), body.as_str().to_owned(), reply_to);
                state.replying.set(None);
                text.set(String::new());
                last_typing.set_value(0.0);
            }
        }
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
            ev.prevent_default();
            submit();
        } else if ev.key() == "Escape" {
            state.replying.set(None);
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
                    {move || state.replying.get().map(|quote| view! {
                        <div class="replying">
                            <span>{(i18n.t().replying_to)(&quote.author)}</span>
                            <span class="muted">{quote.text.clone()}</span>
                            <button type="button" class="icon-button" aria-label=t!(i18n, cancel_reply)
                                on:click=move |_| state.replying.set(None)>"×"</button>
                        </div>
                    })}
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
