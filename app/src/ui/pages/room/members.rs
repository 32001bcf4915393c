//! The member list, with presence, roles, and what the viewer may do to
//! each member.

use super::admin;
use super::state::RoomState;
use crate::api::{BanMember, ChangeRole, Kick};
use crate::domain::{Member, Role, RoleChange};
use crate::i18n::{use_i18n, Texts};
use crate::t;
use crate::ui::avatar::Avatar;
use crate::ui::form::{first_error, FormError};
use crate::ui::person::MessageButton;
use leptos::prelude::*;

#[component]
pub(super) fn MemberList(state: RoomState) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <aside class="members" id="members-panel" aria-labelledby="members-title">
            <h2 id="members-title">{t!(i18n, members)}</h2>
            <ul>
                <For
                    each=move || state.members.get()
                    key=|member| (member.profile.id, member.online, member.role)
                    let(member)
                >
                    <li class="member" class:online=member.online>
                        <span class="presence-avatar">
                            <Avatar profile=member.profile.clone() size="sm" />
                            <span class="presence-dot" aria-hidden="true"></span>
                        </span>
                        <span class="member-name">{member.profile.shown_name().to_owned()}</span>
                        <span class="visually-hidden">{move || if member.online { i18n.t().online } else { i18n.t().offline }}</span>
                        {role_label(member.role).map(|label| view! { <span class="tag">{move || label(i18n.t())}</span> })}
                        <MemberActions state member=member.clone() />
                    </li>
                </For>
            </ul>
            <admin::RoomAdmin state />
        </aside>
    }
}

/// The badge a role gets in the member list (none for plain members).
fn role_label(role: Role) -> Option<fn(&Texts) -> &'static str> {
    match role {
        Role::Owner => Some(|t| t.owner),
        Role::Admin => Some(|t| t.admin),
        Role::Member => None,
    }
}

/// The button that opens what the viewer may do to a member. The panel is
/// built when opened, not for every member up front: a room of a hundred
/// members would otherwise render (and hydrate) a thousand hidden buttons.
#[component]
fn MemberActions(state: RoomState, member: Member) -> impl IntoView {
    let i18n = use_i18n();
    let open = RwSignal::new(false);
    if Some(member.profile.id) == state.me || state.summary.with_untracked(|s| s.is_direct()) {
        return ().into_any();
    }
    let name = member.profile.shown_name().to_owned();
    view! {
        <button type="button" class="icon-button small" aria-expanded=move || open.get().to_string()
            aria-label=move || (i18n.t().manage_member)(&name)
            on:click=move |_| open.update(|o| *o = !*o)>
            <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true">
                <circle cx="5" cy="12" r="2" fill="currentColor" /><circle cx="12" cy="12" r="2" fill="currentColor" /><circle cx="19" cy="12" r="2" fill="currentColor" />
            </svg>
        </button>
        {move || open.get().then(|| view! { <MemberManage state member=member.clone() /> })}
    }
    .into_any()
}

/// Message a member, and manage them if the viewer's role allows it.
#[component]
fn MemberManage(state: RoomState, member: Member) -> impl IntoView {
    let i18n = use_i18n();
    let user = member.profile.id;
    let kick = ServerAction::<Kick>::new();
    let ban = ServerAction::<BanMember>::new();
    let role = ServerAction::<ChangeRole>::new();
    let error = first_error(move || [kick.value().get(), ban.value().get(), role.value().get()]);
    let room = state.id;
    let removable = move || state.role().is_some_and(|mine| mine.may_remove(member.role));
    let owner = move || state.role() == Some(Role::Owner);
    let change = move |change: RoleChange| role.dispatch(ChangeRole { room, user, change });
    view! {
        <div class="member-manage">
            <MessageButton user />
            {move || removable().then(|| view! {
                <button type="button" class="button subtle small" on:click=move |_| { kick.dispatch(Kick { room, user }); }>{t!(i18n, kick)}</button>
                <button type="button" class="button subtle small danger" on:click=move |_| { ban.dispatch(BanMember { room, user }); }>{t!(i18n, ban)}</button>
            })}
            {move || owner().then(|| view! {
                {if member.role == Role::Admin {
                    view! { <button type="button" class="button subtle small" on:click=move |_| { change(RoleChange::MakeMember); }>{t!(i18n, make_member)}</button> }.into_any()
                } else {
                    view! { <button type="button" class="button subtle small" on:click=move |_| { change(RoleChange::MakeAdmin); }>{t!(i18n, make_admin)}</button> }.into_any()
                }}
                <button type="button" class="button subtle small" on:click=move |_| { change(RoleChange::MakeOwner); }>{t!(i18n, make_owner)}</button>
            })}
            <FormError error />
        </div>
    }
}
