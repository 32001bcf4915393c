//! `/admin`: the instance admins' page (issue 19). Its users: searched by
//! a plain GET form (`/admin?q=…`), oldest account first, a page at a
//! time; each can be made an administrator or stop being one, deactivated
//! or reactivated. To anyone else the page does not exist (404).

use crate::api::{admin_set_active, admin_set_role, admin_settings, admin_users, AdminSetSettings};
use crate::domain::{
    AdminUser, AdminUsersPage, InstanceRole, InstanceSettings, RoomCreation, SignUp, UserId,
};
use crate::error::{AppError, Field};
use crate::i18n::use_i18n;
use crate::t;
use crate::ui::avatar::Avatar;
use crate::ui::form::{form_error, FormError, FormSuccess, SubmitButton};
use crate::ui::shell::PageTitle;
use crate::ui::time::LocalTime;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn AdminPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let words = move || query.with(|q| q.get("q").unwrap_or_default());
    // Pages after the first, appended as they come.
    let more = RwSignal::new(Vec::<AdminUser>::new());
    let next = RwSignal::new(None::<UserId>);
    let first = Resource::new(words, |words| admin_users(words, None));
    let settings = Resource::new(|| (), |_| admin_settings());
    Effect::new(move |_| {
        first.track();
        more.set(Vec::new());
        next.set(first.get().and_then(Result::ok).and_then(|page| page.next));
    });
    let loading = RwSignal::new(false);
    let load_more = move |_| {
        let Some(after) = next.get_untracked() else { return };
        loading.set(true);
        leptos::task::spawn_local(async move {
            if let Ok(page) = admin_users(words(), Some(after)).await {
                more.update(|users| users.extend(page.users));
                next.set(page.next);
            }
            loading.set(false);
        });
    };
    let listed = move |page: AdminUsersPage| {
        if page.users.is_empty() {
            return view! { <p class="muted" role="status">{t!(i18n, no_users_found)}</p> }.into_any();
        }
        view! {
            <ol class="admin-users" aria-label=t!(i18n, admin_users)>
                {page.users.into_iter().map(|user| view! { <UserRow user /> }).collect_view()}
                <For each=move || more.get() key=|user| user.profile.id let(user)>
                    <UserRow user />
                </For>
            </ol>
            {move || next.get().is_some().then(|| view! {
                <button type="button" class="button" on:click=load_more disabled=move || loading.get()>
                    {t!(i18n, load_more)}
                </button>
            })}
        }
        .into_any()
    };
    view! {
        <Transition fallback=move || view! { <p class="muted">{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match first.await {
                    Ok(page) => {
                    let settings = settings.await.ok();
                    view! {
                        <PageTitle text=|t| t.administration />
                        <h1 class="page-title">{t!(i18n, administration)}</h1>
                        <section class="card" aria-labelledby="admin-users-title">
                            <h2 id="admin-users-title">{t!(i18n, admin_users)}</h2>
                            <form class="search-form" method="get" action="/admin" role="search">
                                <label for="admin-query">{t!(i18n, admin_search_users)}</label>
                                <div class="search-row">
                                    <input id="admin-query" name="q" type="search" maxlength="64" autocomplete="off"
                                        prop:value=words />
                                    <button type="submit" class="button primary">{t!(i18n, search)}</button>
                                </div>
                            </form>
                            {listed(page)}
                        </section>
                        {settings.map(|current| view! { <SettingsCard current /> })}
                    }.into_any()
                    }
                    Err(AppError::NotFound) => view! { <NotHere /> }.into_any(),
                    Err(error) => view! {
                        <p class="form-error" role="alert">{i18n.t().error_at(&error, Field::Search)}</p>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

/// One user: who, since when, in how many rooms, their role, and the
/// button that changes it.
#[component]
fn UserRow(user: AdminUser) -> impl IntoView {
    let i18n = use_i18n();
    let id = user.profile.id;
    let role = RwSignal::new(user.role);
    let change = Action::new(move |wanted: &InstanceRole| {
        let wanted = *wanted;
        async move {
            let done = admin_set_role(id, wanted).await;
            if done.is_ok() {
                role.set(wanted);
            }
            done
        }
    });
    let active = RwSignal::new(!user.deactivated);
    let standing = Action::new(move |wanted: &bool| {
        let wanted = *wanted;
        async move {
            let done = admin_set_active(id, wanted).await;
            if done.is_ok() {
                active.set(wanted);
            }
            done
        }
    });
    // The last answer's error, whichever button it was.
    let failed = RwSignal::new(None::<AppError>);
    Effect::new(move |_| {
        if let Some(answer) = change.value().get() {
            failed.set(answer.err());
        }
    });
    Effect::new(move |_| {
        if let Some(answer) = standing.value().get() {
            failed.set(answer.err());
        }
    });
    let error = move || failed.get().map(|error| i18n.t().error_at(&error, Field::Role));
    let rooms = user.rooms;
    view! {
        <li class="admin-user">
            <Avatar profile=user.profile.clone() size="sm" />
            <div class="admin-user-who">
                <a href=format!("/u/{}", user.profile.username)>{user.profile.shown_name().to_owned()}</a>
                <span class="muted small">
                    "@"{user.profile.username.clone()}" · "{t!(i18n, admin_joined)}" "<LocalTime ms=user.created_at />
                    " · "{move || (i18n.t().admin_rooms)(rooms)}
                    " · "{match user.last_seen {
                        Some(ms) => view! { {t!(i18n, admin_last_seen)}" "<LocalTime ms /> }.into_any(),
                        None => view! { {t!(i18n, admin_never_seen)} }.into_any(),
                    }}
                </span>
                <p class="field-error" role="alert">{error}</p>
            </div>
            <Show when=move || role.get() == InstanceRole::Admin>
                <span class="tag">{t!(i18n, admin_badge)}</span>
            </Show>
            <Show when=move || !active.get()>
                <span class="tag danger">{t!(i18n, deactivated_badge)}</span>
            </Show>
            <button type="button" class="button subtle small" disabled=move || change.pending().get()
                on:click=move |_| {
                    let wanted = match role.get_untracked() {
                        InstanceRole::Admin => InstanceRole::Member,
                        InstanceRole::Member => InstanceRole::Admin,
                    };
                    change.dispatch(wanted);
                }>
                {move || match role.get() {
                    InstanceRole::Admin => i18n.t().remove_admin_of_server,
                    InstanceRole::Member => i18n.t().make_admin_of_server,
                }}
            </button>
            <button type="button" class="button subtle small" class:danger=move || active.get()
                disabled=move || standing.pending().get()
                on:click=move |_| { standing.dispatch(!active.get_untracked()); }>
                {move || if active.get() { i18n.t().deactivate } else { i18n.t().reactivate }}
            </button>
        </li>
    }
}

/// The server's settings: who may sign up, who may create rooms.
#[component]
fn SettingsCard(current: InstanceSettings) -> impl IntoView {
    let i18n = use_i18n();
    let save = ServerAction::<AdminSetSettings>::new();
    let value = move || save.value().get();
    let choice = move |name: &'static str,
                       value: &'static str,
                       checked: bool,
                       label: fn(&crate::i18n::Texts) -> &'static str| {
        view! {
            <label>
                <input type="radio" name=name value=value checked=checked />
                {move || label(i18n.t())}
            </label>
        }
    };
    view! {
        <section class="card" aria-labelledby="admin-settings-title">
            <h2 id="admin-settings-title">{t!(i18n, admin_settings)}</h2>
            <ActionForm action=save attr:class="form">
                        <FormError error=form_error(value) />
                        <fieldset class="choices">
                            <legend>{t!(i18n, admin_sign_up)}</legend>
                            {choice("sign_up", "open", current.sign_up == SignUp::Open, |t| t.sign_up_open)}
                            {choice("sign_up", "closed", current.sign_up == SignUp::Closed, |t| t.sign_up_closed_choice)}
                        </fieldset>
                        <fieldset class="choices">
                            <legend>{t!(i18n, admin_room_creation)}</legend>
                            {choice("room_creation", "everyone", current.room_creation == RoomCreation::Everyone, |t| t.rooms_everyone)}
                            {choice("room_creation", "admins_only", current.room_creation == RoomCreation::AdminsOnly, |t| t.rooms_admins_only)}
                        </fieldset>
                        <SubmitButton label=|t| t.save pending_label=|t| t.saving pending=save.pending() />
                        <FormSuccess show=Signal::derive(move || matches!(value(), Some(Ok(_)))) text=|t| t.saved />
            </ActionForm>
        </section>
    }
}

/// What anyone but an admin gets: the page does not exist.
#[component]
fn NotHere() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    let i18n = use_i18n();
    view! {
        <PageTitle text=|_| "404" />
        <h1 class="page-title">"404"</h1>
        <p class="lead">{t!(i18n, page_not_found)}</p>
    }
}
