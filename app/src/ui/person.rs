//! A person as lists show them, and what one does with them from there.

use crate::api::open_direct;
use crate::domain::{PublicProfile, UserId};
use crate::error::Field;
use crate::i18n::{use_i18n, Texts};
use crate::t;
use crate::ui::avatar::Avatar;
use crate::ui::form::form_error;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

/// A person's avatar and names, linking to their profile; with a presence
/// dot when `online` is known.
#[component]
pub fn PersonLink(
    profile: PublicProfile,
    #[prop(optional, into)] online: Option<Signal<bool>>,
) -> impl IntoView {
    view! {
        <A href=format!("/u/{}", profile.username) attr:class="person-link">
            <span class="presence-avatar" class:online=move || online.is_some_and(|online| online.get())>
                <Avatar profile=profile.clone() size="sm" />
                {online.is_some().then(|| view! { <span class="presence-dot" aria-hidden="true"></span> })}
            </span>
            <span class="person-name">{profile.shown_name().to_owned()}</span>
            <span class="muted small">"@"{profile.username.clone()}</span>
        </A>
    }
}

/// Opens (creating it the first time) the direct conversation with `user`.
#[component]
pub fn MessageButton(user: UserId) -> impl IntoView {
    let i18n = use_i18n();
    let navigate = use_navigate();
    let open = Action::new(move |user: &UserId| open_direct(*user));
    Effect::new(move |_| {
        if let Some(Ok(room)) = open.value().get() {
            navigate(&format!("/rooms/{}", room.id), Default::default());
        }
    });
    let error = form_error(move || open.value().get());
    view! {
        <button type="button" class="button small" disabled=move || open.pending().get()
            on:click=move |_| { open.dispatch(user); }>
            {t!(i18n, send_message)}
        </button>
        {move || error.get().map(|error| view! {
            <span class="field-error" role="alert">{
                i18n.t().error_at(&error, Field::Username)
            }</span>
        })}
    }
}

/// People, each with the buttons `actions` makes for them; `empty` says
/// so when there is nobody (without it, an empty list shows nothing).
#[component]
pub fn PeopleList<V: IntoView + 'static>(
    people: Vec<PublicProfile>,
    #[prop(optional)] empty: Option<fn(&Texts) -> &'static str>,
    actions: impl Fn(PublicProfile) -> V + 'static,
) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <ul class="people">
            {empty.filter(|_| people.is_empty()).map(|empty| view! { <li class="muted">{move || empty(i18n.t())}</li> })}
            {people.into_iter().map(|person| view! {
                <li class="person">
                    <PersonLink profile=person.clone() />
                    <span class="person-actions">{actions(person)}</span>
                </li>
            }).collect_view()}
        </ul>
    }
}
