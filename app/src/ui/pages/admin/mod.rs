//! `/admin`: the instance admins' page (issue 19). Its users: searched by
//! a plain GET form (`/admin?q=…`), oldest account first, a page at a
//! time; each can be made an administrator or stop being one, deactivated
//! or reactivated. Then the rooms ([`rooms`]), the settings and the join
//! links. To anyone else the page does not exist (404).

mod rooms;

use crate::api::{
    admin_delete_messages, admin_reset_link, admin_rooms, admin_set_active, admin_set_role, admin_settings,
    admin_users, AdminSetSettings,
};
use crate::domain::{AdminUser, AdminUsersPage, InstanceRole, InstanceSettings, SignUp, UserId, WhoMay};
use crate::error::{AppError, Field};
use crate::i18n::use_i18n;
use crate::t;
use crate::ui::avatar::Avatar;
use crate::ui::form::{form_error, latest_error, ConfirmButton, FormError, FormSuccess, SubmitButton};
use crate::ui::join_links::{JoinLinksCard, JoinLinksData};
use crate::ui::paged::Paged;
use crate::ui::render_loads::once_per_render;
use crate::ui::shell::PageTitle;
use crate::ui::time::LocalTime;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use rooms::RoomsCard;

#[component]
pub fn AdminPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let words = move || query.with(|q| q.get("q").unwrap_or_default());
    let paged = Paged::<AdminUser, UserId>::new(None);
    let first = Resource::new(words, |words| once_per_render("admin_users", || admin_users(words, None)));
    let settings = Resource::new(|| (), |_| once_per_render("admin_settings", admin_settings));
    let rooms = Resource::new(|| (), |_| once_per_render("admin_rooms", || admin_rooms(None)));
    let join_links = JoinLinksData::load();
    Effect::new(move |_| {
        first.track();
        paged.restart(first.get().and_then(Result::ok).and_then(|page| page.next));
    });
    let load_more = move || {
        paged.load_more(move |after| async move {
            admin_users(words(), Some(after)).await.map(|page| (page.users, page.next))
        })
    };
    let listed = move |page: AdminUsersPage| {
        if page.users.is_empty() {
            return view! { <p class="muted" role="status">{t!(i18n, no_users_found)}</p> }.into_any();
        }
        view! {
            <ol class="admin-users" aria-label=t!(i18n, admin_users)>
                {page.users.into_iter().map(|user| view! { <UserRow user /> }).collect_view()}
                <For each=move || paged.more.get() key=|user| user.profile.id let(user)>
                    <UserRow user />
                </For>
            </ol>
            {paged.more_button(|t| t.load_more, load_more)}
        }
        .into_any()
    };
    view! {
        <Transition fallback=move || view! { <p class="muted">{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match first.await {
                    Ok(page) => {
                    let settings = settings.await.ok();
                    let rooms = rooms.await.ok();
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
                        {rooms.map(|first| view! { <RoomsCard first /> })}
                        {settings.map(|current| view! { <SettingsCard current /> })}
                        <JoinLinksCard data=join_links />
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
    // Their messages, deleted in bulk (asked twice): how many went.
    let purged = RwSignal::new(None::<usize>);
    let purge = Action::new(move |_: &()| async move {
        admin_delete_messages(id).await.map(|count| purged.set(Some(count)))
    });
    // A one-time password reset link, shown to be handed over.
    let reset_link = RwSignal::new(None::<String>);
    let reset = Action::new(move |_: &()| async move {
        let path = admin_reset_link(id).await?;
        let origin = window().location().origin().unwrap_or_default();
        reset_link.set(Some(format!("{origin}{path}")));
        Ok(())
    });
    let failed = latest_error([change.value(), standing.value(), purge.value(), reset.value()]);
    let error = move || failed.get().map(|error| i18n.t().error_at(&error, Field::Role));
    let rooms = user.rooms;
    view! {
        <li class="admin-user">
            <Avatar profile=user.profile.clone() size="sm" />
            <div class="admin-user-who">
                <a href=format!("/u/{}", user.profile.username)>{user.profile.shown_name().to_owned()}</a>
                <span class="muted small">
                    "@"{user.profile.username.clone()}" · "{t!(i18n, admin_joined)}" "<LocalTime ms=user.created_at dated=true />
                    " · "{move || (i18n.t().admin_rooms)(rooms)}
                    {user.invited_by.map(|by| view! { " · "{t!(i18n, admin_invited_by)}" @"{by} })}
                    " · "{match user.last_seen {
                        Some(ms) => view! { {t!(i18n, admin_last_seen)}" "<LocalTime ms dated=true /> }.into_any(),
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
            <ConfirmButton label=|t| t.delete_messages confirm_label=|t| t.confirm_delete_messages
                pending=purge.pending() act=move || { purge.dispatch(()); } />
            <button type="button" class="button subtle small" disabled=move || reset.pending().get()
                on:click=move |_| { reset.dispatch(()); }>
                {t!(i18n, make_reset_link)}
            </button>
            {move || reset_link.get().map(|link| view! {
                <p class="admin-purged" role="status">
                    {t!(i18n, reset_link_made)}" "<code class="join-link-url">{link}</code>
                </p>
            })}
            {move || purged.get().map(|count| view! {
                <p class="form-success admin-purged" role="status">{(i18n.t().messages_deleted)(count)}</p>
            })}
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
                            {choice("sign_up", "join_link", current.sign_up == SignUp::JoinLink, |t| t.sign_up_join_link)}
                            {choice("sign_up", "closed", current.sign_up == SignUp::Closed, |t| t.sign_up_closed_choice)}
                        </fieldset>
                        <fieldset class="choices">
                            <legend>{t!(i18n, admin_join_links)}</legend>
                            {choice("join_links", "everyone", current.join_links == WhoMay::Everyone, |t| t.rooms_everyone)}
                            {choice("join_links", "admins_only", current.join_links == WhoMay::AdminsOnly, |t| t.rooms_admins_only)}
                        </fieldset>
                        <fieldset class="choices">
                            <legend>{t!(i18n, admin_room_creation)}</legend>
                            {choice("room_creation", "everyone", current.room_creation == WhoMay::Everyone, |t| t.rooms_everyone)}
                            {choice("room_creation", "admins_only", current.room_creation == WhoMay::AdminsOnly, |t| t.rooms_admins_only)}
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
