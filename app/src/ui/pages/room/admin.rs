//! The room's administration under the member list: inviting, the bans,
//! the owner's settings. Shown to those allowed only (the server checks
//! every action again).

use super::state::RoomState;
use crate::api::{room_bans, room_invitations, DeleteRoom, Invite, RevokeInvitation, Unban, UpdateRoom};
use crate::domain::{PublicProfile, Role, RoomSummary, Visibility};
use crate::error::{AppError, Field};
use crate::i18n::{use_i18n, Texts};
use crate::t;
use crate::ui::form::{error_besides, field_problem, form_error, FormError, SubmitButton, TextField};
use crate::ui::live::use_live;
use crate::ui::person::PeopleList;
use leptos::prelude::*;

/// Inviting people and the pending invitations; the bans; the settings.
#[component]
pub(super) fn RoomAdmin(state: RoomState) -> impl IntoView {
    view! {
        {move || state.summary.with(RoomSummary::may_invite).then(|| view! { <InvitePanel state /> })}
        {move || (state.role() >= Some(Role::Admin) && !state.summary.with(|s| s.is_direct())).then(|| view! { <BansPanel state /> })}
        {move || (state.role() == Some(Role::Owner) && !state.summary.with(|s| s.is_direct())).then(|| view! { <SettingsPanel state /> })}
    }
}

#[component]
fn InvitePanel(state: RoomState) -> impl IntoView {
    let i18n = use_i18n();
    let live = use_live();
    let invite = ServerAction::<Invite>::new();
    let revoke = ServerAction::<RevokeInvitation>::new();
    let room = state.id;
    let pending = browser_loaded(move || {
        invite.version().track();
        revoke.version().track();
        live.invitations_changed.track();
        room_invitations(room)
    });
    let value = move || invite.value().get();
    view! {
        <section class="room-admin" aria-labelledby="invite-title">
            <h2 id="invite-title">{t!(i18n, invite_someone)}</h2>
            <ActionForm action=invite attr:class="form compact">
                <input type="hidden" name="room" value=room.0 />
                <TextField name="username" label=|t| t.username autocomplete="off" problem=field_problem(value, Field::Username) />
                {move || matches!(value(), Some(Ok(_))).then(|| view! { <p class="form-success" role="status">{t!(i18n, invited_done)}</p> })}
                <FormError error=error_besides(value, Field::Username) />
                <SubmitButton label=|t| t.invite pending_label=|t| t.inviting pending=invite.pending() />
            </ActionForm>
            {move || {
                    let invitations = pending.get();
                    (!invitations.is_empty()).then(|| view! {
                        <h3>{t!(i18n, pending_invitations)}</h3>
                        <PeopleList people=invitations.into_iter().map(|invitation| invitation.invitee).collect()
                            actions=move |invitee: PublicProfile| view! {
                                <button type="button" class="button subtle small"
                                    on:click=move |_| { revoke.dispatch(RevokeInvitation { room, user: invitee.id }); }>{t!(i18n, revoke)}</button>
                            } />
                    })
            }}
        </section>
    }
}

#[component]
fn BansPanel(state: RoomState) -> impl IntoView {
    let i18n = use_i18n();
    let unban = ServerAction::<Unban>::new();
    let room = state.id;
    // Reloaded when someone leaves (a ban makes them leave) and on unban;
    // not when a member comes online or changes role (the count stays).
    let member_count = Memo::new(move |_| state.members.with(Vec::len));
    let bans = browser_loaded(move || {
        unban.version().track();
        member_count.track();
        room_bans(room)
    });
    view! {
        {move || {
                let bans = bans.get();
                (!bans.is_empty()).then(|| view! {
                    <section class="room-admin" aria-labelledby="bans-title">
                        <h2 id="bans-title">{t!(i18n, banned_list)}</h2>
                        <PeopleList people=bans.into_iter().map(|ban| ban.user).collect()
                            actions=move |banned: PublicProfile| view! {
                                <button type="button" class="button subtle small"
                                    on:click=move |_| { unban.dispatch(Unban { room, user: banned.id }); }>{t!(i18n, unban)}</button>
                            } />
                    </section>
                })
        }}
    }
}

/// A list loaded by the browser once the page runs, and again whenever
/// what `fetch` reads changes; empty until then, and on the server. (As a
/// serialized `Resource` this deep in the room page, the lists did not
/// hydrate: the browser rendered its fallback where the server had rendered
/// the list.)
fn browser_loaded<T, F>(fetch: impl Fn() -> F + 'static) -> ReadSignal<Vec<T>>
where
    T: Send + Sync + 'static,
    F: std::future::Future<Output = Result<Vec<T>, AppError>> + 'static,
{
    let (list, set_list) = signal(Vec::new());
    Effect::new(move |_| {
        let loading = fetch();
        leptos::task::spawn_local(async move {
            if let Ok(loaded) = loading.await {
                set_list.set(loaded);
            }
        });
    });
    list
}

#[component]
fn SettingsPanel(state: RoomState) -> impl IntoView {
    let i18n = use_i18n();
    let update = ServerAction::<UpdateRoom>::new();
    let delete = ServerAction::<DeleteRoom>::new();
    let confirming = RwSignal::new(false);
    let open = RwSignal::new(false);
    let value = move || update.value().get();
    let room = state.id;
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = delete.value().get() {
            navigate("/", Default::default());
        }
    });
    let (name, topic, visibility) =
        state.summary.with_untracked(|s| (s.name.clone(), s.topic.clone(), s.visibility));
    let choice = move |option: Visibility, label: fn(&Texts) -> &'static str| {
        view! {
            <label><input type="radio" name="visibility" value=option.as_str() checked=visibility == option />{move || label(i18n.t())}</label>
        }
    };
    view! {
        <section class="room-admin" aria-labelledby="settings-title">
            <h2 id="settings-title">
                <button type="button" class="disclosure" aria-expanded=move || open.get().to_string() on:click=move |_| open.update(|o| *o = !*o)>
                    {t!(i18n, room_settings)}
                </button>
            </h2>
            <div hidden=move || !open.get()>
                <ActionForm action=update attr:class="form compact">
                    <input type="hidden" name="room" value=room.0 />
                    <TextField name="name" label=|t| t.room_name value=name problem=field_problem(value, Field::RoomName) />
                    <TextField name="topic" label=|t| t.room_topic value=topic problem=field_problem(value, Field::Topic) />
                    <fieldset class="choices">
                        <legend>{t!(i18n, visibility)}</legend>
                        {choice(Visibility::Public, |t| t.public_room)}
                        {choice(Visibility::Private, |t| t.private_room)}
                    </fieldset>
                    {move || matches!(value(), Some(Ok(_))).then(|| view! { <p class="form-success" role="status">{t!(i18n, saved)}</p> })}
                    <SubmitButton label=|t| t.save pending_label=|t| t.saving pending=update.pending() />
                </ActionForm>
                {move || if confirming.get() {
                    view! {
                        <button type="button" class="button danger" disabled=move || delete.pending().get()
                            on:click=move |_| { delete.dispatch(DeleteRoom { room }); }>{t!(i18n, confirm_delete)}</button>
                    }.into_any()
                } else {
                    view! {
                        <button type="button" class="button subtle danger" on:click=move |_| confirming.set(true)>{t!(i18n, delete_room)}</button>
                    }.into_any()
                }}
                <FormError error=form_error(move || delete.value().get()) />
            </div>
        </section>
    }
}
