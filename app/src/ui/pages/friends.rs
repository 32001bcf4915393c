//! Friends: adding one by username, the requests both ways, the friends
//! with presence, blocked people, and who may message me. Live: any change
//! the server reports reloads the lists.

use crate::api::{
    friends, AcceptFriend, CancelFriendRequest, DeclineFriend, RemoveFriend, SendFriendRequest, SetDmPolicy,
    UnblockUser,
};
use crate::domain::protocol::ServerFrame;
use crate::domain::{DmPolicy, FriendsView, PublicProfile, Relation, UserId};
use crate::error::Field;
use crate::i18n::{use_i18n, Texts};
use crate::t;
use crate::ui::form::{
    error_besides, field_problem, first_error, form_error, FormError, SubmitButton, TextField,
};
use crate::ui::join_links::{JoinLinksCard, JoinLinksData};
use crate::ui::live::use_live;
use crate::ui::person::{MessageButton, PeopleList, PersonLink};
use crate::ui::render_loads::once_per_render;
use crate::ui::shell::PageTitle;
use leptos::prelude::*;
use std::collections::HashMap;

#[component]
pub fn FriendsPage() -> impl IntoView {
    let i18n = use_i18n();
    let live = use_live();
    let view = Resource::new(
        move || (live.friends_changed.get(), live.reconnections.get()),
        |_| once_per_render("friends", friends),
    );
    let join_links = JoinLinksData::load();
    view! {
        <PageTitle text=|t| t.friends_title />
        <h1 class="page-title">{t!(i18n, friends_title)}</h1>
        <div class="home-grid">
            <AddFriend />
            <Transition fallback=move || view! { <p class="muted">{t!(i18n, loading)}</p> }>
                {move || Suspend::new(async move {
                    match view.await {
                        Ok(friends) => view! { <FriendLists friends /> }.into_any(),
                        Err(error) => view! { <p class="form-error" role="alert">{i18n.t().error(&error)}</p> }.into_any(),
                    }
                })}
            </Transition>
            <JoinLinksCard data=join_links />
        </div>
    }
}

#[component]
fn AddFriend() -> impl IntoView {
    let i18n = use_i18n();
    let send = ServerAction::<SendFriendRequest>::new();
    let value = move || send.value().get();
    let done = move || match send.value().get() {
        Some(Ok(Relation::Friends)) => Some(i18n.t().now_friends),
        Some(Ok(_)) => Some(i18n.t().request_sent),
        _ => None,
    };
    view! {
        <section class="card" aria-labelledby="add-friend-title">
            <h2 id="add-friend-title">{t!(i18n, add_friend)}</h2>
            <ActionForm action=send attr:class="form">
                <TextField name="username" label=|t| t.username hint=|t| t.add_friend_hint autocomplete="off"
                    problem=field_problem(value, Field::Username) />
                <FormError error=error_besides(value, Field::Username) />
                {move || done().map(|text| view! { <p class="form-success" role="status">{text}</p> })}
                <SubmitButton label=|t| t.send_request pending_label=|t| t.sending_request pending=send.pending() />
            </ActionForm>
        </section>
    }
}

#[component]
fn FriendLists(friends: FriendsView) -> impl IntoView {
    let i18n = use_i18n();
    // Presence as it changes after the list was loaded.
    let presence = RwSignal::new(HashMap::<UserId, bool>::new());
    use_live().watch(
        move |frame| {
            if let ServerFrame::Presence { user, online } = frame {
                presence.update(|p| {
                    p.insert(*user, *online);
                });
            }
        },
        || {},
    );
    let accept = ServerAction::<AcceptFriend>::new();
    let decline = ServerAction::<DeclineFriend>::new();
    let cancel = ServerAction::<CancelFriendRequest>::new();
    let remove = ServerAction::<RemoveFriend>::new();
    let unblock = ServerAction::<UnblockUser>::new();
    let error = first_error(move || {
        [
            accept.value().get(),
            decline.value().get(),
            cancel.value().get(),
            remove.value().get(),
            unblock.value().get(),
        ]
    });
    let FriendsView { friends, incoming, outgoing, blocked, dm_policy } = friends;
    view! {
        <section class="card" aria-labelledby="incoming-title">
            <h2 id="incoming-title">{t!(i18n, incoming_requests)}</h2>
            <FormError error />
            <PeopleList people=incoming.into_iter().map(|r| r.user).collect() empty=|t| t.none_now actions=move |user: PublicProfile| view! {
                    <button type="button" class="button primary small" on:click=move |_| { accept.dispatch(AcceptFriend { user: user.id }); }>{t!(i18n, accept)}</button>
                    <button type="button" class="button subtle small" on:click=move |_| { decline.dispatch(DeclineFriend { user: user.id }); }>{t!(i18n, decline)}</button>
                } />
            <h2>{t!(i18n, outgoing_requests)}</h2>
            <PeopleList people=outgoing.into_iter().map(|r| r.user).collect() empty=|t| t.none_now actions=move |user: PublicProfile| view! {
                    <button type="button" class="button subtle small" on:click=move |_| { cancel.dispatch(CancelFriendRequest { user: user.id }); }>{t!(i18n, cancel_request)}</button>
                } />
        </section>
        <section class="card" aria-labelledby="my-friends-title">
            <h2 id="my-friends-title">{t!(i18n, my_friends)}</h2>
            <ul class="people">
                {friends.is_empty().then(|| view! { <li class="muted">{t!(i18n, no_friends)}</li> })}
                {friends.into_iter().map(|friend| {
                    let user = friend.profile.id;
                    let online = Signal::derive(move || presence.with(|p| p.get(&user).copied()).unwrap_or(friend.online));
                    view! {
                        <li class="person">
                            <PersonLink profile=friend.profile.clone() online />
                            <span class="visually-hidden">{move || if online.get() { i18n.t().online } else { i18n.t().offline }}</span>
                            <span class="person-actions">
                                <MessageButton user />
                                <button type="button" class="button subtle small" on:click=move |_| { remove.dispatch(RemoveFriend { user }); }>{t!(i18n, remove_friend)}</button>
                            </span>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
        <section class="card" aria-labelledby="privacy-title">
            <h2 id="privacy-title">{t!(i18n, dm_policy)}</h2>
            <DmPolicyChoice current=dm_policy />
            <h2>{t!(i18n, blocked_users)}</h2>
            <PeopleList people=blocked empty=|t| t.none_now actions=move |user: PublicProfile| view! {
                    <button type="button" class="button subtle small" on:click=move |_| { unblock.dispatch(UnblockUser { user: user.id }); }>{t!(i18n, unblock)}</button>
                } />
        </section>
    }
}

#[component]
fn DmPolicyChoice(current: DmPolicy) -> impl IntoView {
    let i18n = use_i18n();
    let save = ServerAction::<SetDmPolicy>::new();
    let choice = move |policy: DmPolicy, label: fn(&Texts) -> &'static str| {
        view! {
            <label>
                <input type="radio" name="dm_policy" value=policy.as_str() checked=current == policy
                    on:change=move |_| { save.dispatch(SetDmPolicy { policy }); } />
                {move || label(i18n.t())}
            </label>
        }
    };
    view! {
        <fieldset class="choices">
            <legend class="visually-hidden">{t!(i18n, dm_policy)}</legend>
            {choice(DmPolicy::Everyone, |t| t.dm_everyone)}
            {choice(DmPolicy::FriendsOnly, |t| t.dm_friends)}
        </fieldset>
        <FormError error=form_error(move || save.value().get()) />
    }
}
