//! Another user's public profile (never their email), with what one can do
//! with them: message, befriend, block.

use crate::api::{
    view_user, AcceptFriend, BlockUser, CancelFriendRequest, RemoveFriend, SendFriendRequest, UnblockUser,
};
use crate::domain::{Relation, UserCard};
use crate::error::{AppError, Field};
use crate::i18n::use_i18n;
use crate::t;
use crate::ui::avatar::Avatar;
use crate::ui::form::first_error;
use crate::ui::head::DocumentTitle;
use crate::ui::live::use_live;
use crate::ui::person::MessageButton;
use crate::ui::render_loads::once_per_render;
use crate::ui::session::use_session;
use leptos::either::EitherOf3;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

#[component]
pub fn UserPage() -> impl IntoView {
    let i18n = use_i18n();
    let live = use_live();
    let params = use_params_map();
    let card = Resource::new(
        move || (params.get().get("username").unwrap_or_default(), live.friends_changed.get()),
        |(username, _)| once_per_render("view_user", || view_user(username)),
    );
    view! {
        <Transition fallback=move || view! { <p class="muted">{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match card.await {
                    Ok(card) => EitherOf3::A(view! { <Profile card /> }),
                    Err(AppError::NotFound) => EitherOf3::B(view! {
                        <section class="card"><p>{t!(i18n, user_not_found)}</p></section>
                    }),
                    Err(error) => EitherOf3::C(view! {
                        <section class="card"><p role="alert" class="form-error">{i18n.t().error(&error)}</p></section>
                    }),
                }
            })}
        </Transition>
    }
}

#[component]
fn Profile(card: UserCard) -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let UserCard { profile, relation, can_message } = card;
    let is_me = session.current_untracked().is_some_and(|me| me.id == profile.id);
    let title = format!("{} · Salon", profile.shown_name());
    view! {
        <DocumentTitle text=title />
        <section class="card profile-public">
            <Avatar profile=profile.clone() size="xl" />
            <h1>{profile.shown_name().to_owned()}</h1>
            <p class="muted">"@"{profile.username.clone()}</p>
            {if is_me {
                view! {
                    <p>{t!(i18n, this_is_you)}</p>
                    <A href="/profile" attr:class="button">{t!(i18n, edit_profile)}</A>
                }.into_any()
            } else {
                view! { <Relations profile relation can_message /> }.into_any()
            }}
        </section>
    }
}

#[component]
fn Relations(profile: crate::domain::PublicProfile, relation: Relation, can_message: bool) -> impl IntoView {
    let i18n = use_i18n();
    let user = profile.id;
    let request = ServerAction::<SendFriendRequest>::new();
    let accept = ServerAction::<AcceptFriend>::new();
    let cancel = ServerAction::<CancelFriendRequest>::new();
    let remove = ServerAction::<RemoveFriend>::new();
    let block = ServerAction::<BlockUser>::new();
    let unblock = ServerAction::<UnblockUser>::new();
    let error = first_error(move || {
        [
            request.value().get().map(|r| r.map(drop)),
            accept.value().get(),
            cancel.value().get(),
            remove.value().get(),
            block.value().get(),
            unblock.value().get(),
        ]
    });
    let username = profile.username.clone();
    let status = match relation {
        Relation::Friends => Some(i18n.t().you_are_friends),
        Relation::RequestSent => Some(i18n.t().request_pending),
        Relation::RequestReceived => Some(i18n.t().wants_to_be_friends),
        Relation::Blocked => Some(i18n.t().you_blocked),
        Relation::None => None,
    };
    let friendship = match relation {
        Relation::None => view! {
            <button type="button" class="button primary" on:click=move |_| { request.dispatch(SendFriendRequest { username: username.clone() }); }>{t!(i18n, add_friend)}</button>
        }.into_any(),
        Relation::RequestReceived => view! {
            <button type="button" class="button primary" on:click=move |_| { accept.dispatch(AcceptFriend { user }); }>{t!(i18n, accept)}</button>
        }.into_any(),
        Relation::RequestSent => view! {
            <button type="button" class="button subtle" on:click=move |_| { cancel.dispatch(CancelFriendRequest { user }); }>{t!(i18n, cancel_request)}</button>
        }.into_any(),
        Relation::Friends => view! {
            <button type="button" class="button subtle" on:click=move |_| { remove.dispatch(RemoveFriend { user }); }>{t!(i18n, remove_friend)}</button>
        }.into_any(),
        Relation::Blocked => ().into_any(),
    };
    let blocking = if relation == Relation::Blocked {
        view! { <button type="button" class="button subtle" on:click=move |_| { unblock.dispatch(UnblockUser { user }); }>{t!(i18n, unblock)}</button> }.into_any()
    } else {
        view! { <button type="button" class="button subtle danger" on:click=move |_| { block.dispatch(BlockUser { user }); }>{t!(i18n, block)}</button> }.into_any()
    };
    view! {
        {status.map(|status| view! { <p class="relation">{status}</p> })}
        <div class="profile-actions">
            {can_message.then(|| view! { <MessageButton user /> })}
            {friendship}
            {blocking}
        </div>
        {move || error.get().map(|error| view! {
            <p class="form-error" role="alert">{
                i18n.t().error_at(&error, Field::Username)
            }</p>
        })}
    }
}
