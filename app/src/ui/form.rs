//! Form building blocks: a labelled field with its hint and error, and the
//! form-level error banner.

use crate::error::{AppError, Field, Problem};
use crate::i18n::{use_i18n, Texts};
use leptos::prelude::*;

/// The domain's parsers as `TextField` checks: the browser applies exactly
/// the rules the server applies.
pub mod checks {
    use crate::domain::{DisplayName, Email, Password, Username};
    use crate::error::Problem;

    pub fn username(value: &str) -> Result<(), Problem> {
        Username::parse(value).map(drop)
    }

    pub fn email(value: &str) -> Result<(), Problem> {
        Email::parse(value).map(drop)
    }

    pub fn password(value: &str) -> Result<(), Problem> {
        Password::parse(value).map(drop)
    }

    pub fn display_name(value: &str) -> Result<(), Problem> {
        DisplayName::parse(value).map(drop)
    }
}

/// A browser-side check of a field's value (one of [`checks`]).
pub type Check = fn(&str) -> Result<(), Problem>;

/// The problem the last response reported for `field`.
pub fn field_problem<T: Send + Sync + 'static>(
    value: impl Fn() -> Option<Result<T, AppError>> + Send + Sync + 'static,
    field: Field,
) -> Signal<Option<Problem>> {
    Signal::derive(move || match value() {
        Some(Err(error)) => error.problem_for(field).cloned(),
        _ => None,
    })
}

/// A labelled input. The server's verdict shows after each submit, unless
/// the field changed since it was submitted; as the user then edits a field
/// that has an error, the browser re-checks it with the same parser as the
/// server (where the field has one) and clears the error once it is fixed,
/// at once where it has none.
/// (Checking on blur instead would shift the layout under the pointer as
/// the user goes to click the submit button.)
#[component]
pub fn TextField(
    name: &'static str,
    label: fn(&Texts) -> &'static str,
    #[prop(optional)] hint: Option<fn(&Texts) -> &'static str>,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] autocomplete: &'static str,
    #[prop(optional, into)] value: Option<String>,
    #[prop(optional)] check: Option<Check>,
    #[prop(into)] problem: Signal<Option<Problem>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let id = format!("field-{name}");
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    // `Some(verdict)` once the user edited the field after the last response.
    let local = RwSignal::new(None::<Option<Problem>>);
    let input = NodeRef::<leptos::html::Input>::new();
    // The value as its form last submitted it (`None` before): what the
    // next answer is about. The submit event bubbles up to the window.
    let submitted = StoredValue::new(None::<String>);
    let listener = window_event_listener(leptos::ev::submit, move |ev| {
        let Some(input) = input.get_untracked() else { return };
        let ours = input.form().zip(ev.target()).is_some_and(|(form, target)| {
            wasm_bindgen::JsValue::from(form) == wasm_bindgen::JsValue::from(target)
        });
        if ours {
            submitted.set_value(Some(input.value()));
        }
    });
    on_cleanup(move || listener.remove());
    Effect::new(move |_| {
        problem.track();
        // An answer about a value the user has changed since is stale:
        // the field shows no error until it is submitted again.
        let current = input.get_untracked().map(|input| input.value());
        let stale = submitted.get_value().zip(current).is_some_and(|(sent, now)| sent != now);
        local.set(stale.then_some(None));
    });
    let shown = move || local.get().unwrap_or_else(|| problem.get());
    let on_input = move |ev: leptos::ev::Event| {
        if shown().is_some() {
            let verdict = check.and_then(|check| check(&event_target_value(&ev)).err());
            local.set(Some(verdict));
        }
    };
    let describedby = {
        let hint_id = hint_id.clone();
        let error_id = error_id.clone();
        move || {
            let mut ids = Vec::new();
            if hint.is_some() {
                ids.push(hint_id.clone());
            }
            if shown().is_some() {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    view! {
        <div class="field" class:invalid=move || shown().is_some()>
            <label for=id.clone()>{move || label(i18n.t())}</label>
            <input
                id=id
                name=name
                type=kind
                autocomplete=(!autocomplete.is_empty()).then_some(autocomplete)
                value=value
                aria-invalid=move || if shown().is_some() { "true" } else { "false" }
                aria-describedby=describedby
                node_ref=input
                on:input=on_input
            />
            {hint.map(|hint| view! { <p class="hint" id=hint_id>{move || hint(i18n.t())}</p> })}
            <p class="field-error" id=error_id>
                {move || shown().map(|p| i18n.t().problem(&p))}
            </p>
        </div>
    }
}

/// The error of the last submit that is not about one field, if any.
#[component]
pub fn FormError(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    let i18n = use_i18n();
    move || error.get().map(|error| view! { <p class="form-error" role="alert">{i18n.t().error(&error)}</p> })
}

/// A success line that announces itself to screen readers.
#[component]
pub fn FormSuccess(#[prop(into)] show: Signal<bool>, text: fn(&Texts) -> &'static str) -> impl IntoView {
    let i18n = use_i18n();
    move || show.get().then(|| view! { <p class="form-success" role="status">{text(i18n.t())}</p> })
}

/// The error of the last result, if it is not a field error.
pub fn form_error<T: Send + Sync + 'static>(
    value: impl Fn() -> Option<Result<T, AppError>> + Send + Sync + 'static,
) -> Signal<Option<AppError>> {
    Signal::derive(move || match value() {
        Some(Err(error)) => Some(error),
        _ => None,
    })
}

/// The first error among the last results of several actions (the buttons
/// of one card or menu share one error line).
pub fn first_error<const N: usize>(
    results: impl Fn() -> [Option<Result<(), AppError>>; N] + Send + Sync + 'static,
) -> Signal<Option<AppError>> {
    Signal::derive(move || results().into_iter().flatten().find_map(Result::err))
}

/// The error of whichever of `results` answered last, if it failed (the
/// buttons of one row share one error line).
pub fn latest_error<const N: usize>(
    results: [MappedSignal<Option<Result<(), AppError>>>; N],
) -> RwSignal<Option<AppError>> {
    let failed = RwSignal::new(None);
    for result in results {
        Effect::new(move |_| {
            if let Some(answer) = result.get() {
                failed.set(answer.err());
            }
        });
    }
    failed
}

/// The error of the last result, unless it is a problem the form shows at
/// `field`.
pub fn error_besides<T: Send + Sync + 'static>(
    value: impl Fn() -> Option<Result<T, AppError>> + Send + Sync + 'static,
    field: Field,
) -> Signal<Option<AppError>> {
    Signal::derive(move || match value() {
        Some(Err(error)) if error.problem_for(field).is_none() => Some(error),
        _ => None,
    })
}

/// A button that asks twice before acting: its first click turns it into
/// `confirm_label`, its second calls `act`.
#[component]
pub fn ConfirmButton(
    label: fn(&Texts) -> &'static str,
    confirm_label: fn(&Texts) -> &'static str,
    #[prop(into)] pending: Signal<bool>,
    act: impl Fn() + Send + Sync + 'static,
) -> impl IntoView {
    let i18n = use_i18n();
    let confirming = RwSignal::new(false);
    view! {
        <button type="button" class="button subtle small danger" disabled=move || pending.get()
            on:click=move |_| {
                if confirming.get_untracked() {
                    confirming.set(false);
                    act();
                } else {
                    confirming.set(true);
                }
            }>
            {move || if confirming.get() { confirm_label(i18n.t()) } else { label(i18n.t()) }}
        </button>
    }
}

/// A submit button that says what it is doing while the request runs.
#[component]
pub fn SubmitButton(
    label: fn(&Texts) -> &'static str,
    pending_label: fn(&Texts) -> &'static str,
    #[prop(into)] pending: Signal<bool>,
) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <button type="submit" class="button primary" disabled=move || pending.get() aria-busy=move || pending.get().to_string()>
            {move || if pending.get() { pending_label(i18n.t()) } else { label(i18n.t()) }}
        </button>
    }
}
