//! Invitations, roles, kicks and bans, and the owner's room settings.
//!
//! Who may do what:
//! - invite: the owner and admins; in a public room, any member;
//! - kick and ban: the owner (anyone but themselves) and admins (members
//!   only); unban and see the bans: the owner and admins;
//! - roles, settings, ownership and deletion: the owner.
//!
//! Nothing of this exists in a direct conversation. A removal takes effect
//! before it is stored: the removed user's sockets stop receiving the room
//! first, so nothing the room says afterwards reaches them.

use super::{internal, messages, rooms, social, AppState, OnConstraint, OrInternal};
use crate::domain::protocol::ServerFrame;
use crate::domain::{
    Ban, Invitation, NewRoom, PublicProfile, Removal, Role, RoleChange, RoomEvent, RoomId, RoomSummary,
    UserId, Visibility,
};
use crate::error::{AppError, Field, Problem};
use crate::store::Removed;

/// The room and `actor`'s role in it, if they may moderate it at `least`.
async fn authority(
    state: &AppState,
    actor: UserId,
    room: RoomId,
    least: Role,
) -> Result<(RoomSummary, Role), AppError> {
    at_least(rooms::membership(state, actor, room).await?, least)
}

/// The room and the viewer's role in it, if that role is at least `least`
/// (and the room is not a direct conversation).
fn at_least(summary: RoomSummary, least: Role) -> Result<(RoomSummary, Role), AppError> {
    match summary.role {
        Some(role) if role >= least && !summary.is_direct() => Ok((summary, role)),
        _ => Err(AppError::Forbidden),
    }
}

/// The room if `actor` may invite into it.
async fn inviting(state: &AppState, actor: UserId, room: RoomId) -> Result<RoomSummary, AppError> {
    let summary = rooms::membership(state, actor, room).await?;
    if summary.may_invite() {
        Ok(summary)
    } else {
        Err(AppError::Forbidden)
    }
}

#[tracing::instrument(skip_all, fields(inviter = %inviter, room = %room))]
pub async fn invite(
    state: &AppState,
    inviter: UserId,
    room: RoomId,
    username: &str,
) -> Result<Invitation, AppError> {
    let summary = inviting(state, inviter, room).await?;
    let invitee = social::find_user(state, username).await?;
    let refuse = |problem| AppError::field(Field::Username, problem);
    let standing = state.store.standing(room, invitee.id).await.or_internal("loading a room")?;
    let standing = standing.ok_or(AppError::NotFound)?;
    if standing.summary.role.is_some() {
        return Err(refuse(Problem::AlreadyMember));
    }
    if standing.banned {
        // Who is banned is for the owner and admins to know.
        let moderator = summary.role >= Some(Role::Admin);
        return Err(refuse(if moderator { Problem::Banned } else { Problem::NotAccepting }));
    }
    let ties = state.store.ties(invitee.id, inviter).await.or_internal("loading ties")?;
    if ties.blocks || ties.blocked_by {
        return Err(refuse(Problem::NotAccepting));
    }
    if !state.store.invite(room, invitee.id, inviter).await.or_internal("inviting")? {
        // Already invited, or something changed since the checks above.
        let invited = state.store.invitation(room, invitee.id).await.or_internal("loading an invitation")?;
        return Err(refuse(if invited.is_some() { Problem::AlreadyInvited } else { Problem::NotAccepting }));
    }
    let invitation = state.store.invitation(room, invitee.id).await.or_internal("loading an invitation")?;
    state.hub.send_to_user(invitee.id, &ServerFrame::InvitationsChanged);
    invitation.ok_or(AppError::Internal)
}

/// The invitations waiting for `user`.
#[tracing::instrument(skip_all, fields(user = %user))]
pub async fn invitations_for(state: &AppState, user: UserId) -> Result<Vec<Invitation>, AppError> {
    state.store.invitations_for(user).await.or_internal("listing invitations")
}

/// The pending invitations into a room, for those who may invite.
#[tracing::instrument(skip_all, fields(actor = %actor, room = %room))]
pub async fn invitations_into(
    state: &AppState,
    actor: UserId,
    room: RoomId,
) -> Result<Vec<Invitation>, AppError> {
    inviting(state, actor, room).await?;
    state.store.invitations_into(room).await.or_internal("listing invitations")
}

async fn invitation(state: &AppState, room: RoomId, invitee: UserId) -> Result<Invitation, AppError> {
    let found = state.store.invitation(room, invitee).await.or_internal("loading an invitation")?;
    found.ok_or(AppError::NotFound)
}

fn invitation_answered(state: &AppState, invitation: &Invitation) {
    for user in [invitation.invitee.id, invitation.inviter.id] {
        state.hub.send_to_user(user, &ServerFrame::InvitationsChanged);
    }
}

/// `user` accepts an invitation: they become a member.
#[tracing::instrument(skip_all, fields(user = %user, room = %room))]
pub async fn accept(state: &AppState, user: UserId, room: RoomId) -> Result<RoomSummary, AppError> {
    let invitation = invitation(state, room, user).await?;
    if !state.store.accept_invitation(room, user).await.or_internal("accepting an invitation")? {
        return Err(AppError::NotFound);
    }
    invitation_answered(state, &invitation);
    rooms::welcome(state, room, user).await
}

#[tracing::instrument(skip_all, fields(user = %user, room = %room))]
pub async fn decline(state: &AppState, user: UserId, room: RoomId) -> Result<(), AppError> {
    let invitation = invitation(state, room, user).await?;
    state.store.delete_invitation(room, user).await.or_internal("declining an invitation")?;
    invitation_answered(state, &invitation);
    Ok(())
}

/// Withdraws a pending invitation: its inviter, or the owner or an admin.
#[tracing::instrument(skip_all, fields(actor = %actor, room = %room, invitee = %invitee))]
pub async fn revoke(state: &AppState, actor: UserId, room: RoomId, invitee: UserId) -> Result<(), AppError> {
    let summary = rooms::membership(state, actor, room).await?;
    let invitation = invitation(state, room, invitee).await?;
    if invitation.inviter.id != actor && summary.role < Some(Role::Admin) {
        return Err(AppError::Forbidden);
    }
    state.store.delete_invitation(room, invitee).await.or_internal("revoking an invitation")?;
    invitation_answered(state, &invitation);
    Ok(())
}

/// Kicks `target` out of the room, or with `ban` also keeps them out (a
/// ban may also name someone who is not a member).
#[tracing::instrument(skip_all, fields(actor = %actor.id, room = %room, target = %target))]
pub async fn remove(
    state: &AppState,
    actor: &PublicProfile,
    room: RoomId,
    target: UserId,
    ban: bool,
) -> Result<(), AppError> {
    let (summary, actor_role) = authority(state, actor.id, room, Role::Admin).await?;
    if target == actor.id {
        return Err(AppError::Forbidden);
    }
    let target_role = state.store.role(room, target).await.or_internal("loading a role")?;
    match target_role {
        Some(target_role) if !actor_role.may_remove(target_role) => return Err(AppError::Forbidden),
        None if !ban => return Err(AppError::NotFound),
        None => {
            state.store.user_by_id(target).await.or_internal("loading a user")?.ok_or(AppError::NotFound)?;
        }
        Some(_) => {}
    }
    // Delivery stops first: nothing committed from here on reaches them,
    // on any instance.
    state.hub.remove_member(room, target);
    state.hub.relayed().await;
    // `authority` made the actor an admin at least, who may remove someone.
    let at_most = actor_role.highest_removable().ok_or(AppError::Forbidden)?;
    let removed = state.store.remove_member(room, target, at_most, ban.then_some(actor.id)).await;
    let was_member = match removed {
        Ok(Removed::Member(_)) => true,
        Ok(Removed::NotMember) => false,
        Ok(Removed::Protected) | Err(_) => {
            if target_role.is_some() {
                state.hub.add_member(room, target);
            }
            return match removed {
                Err(cause) => Err(internal("removing a member", cause)),
                _ => Err(AppError::Forbidden),
            };
        }
    };
    // Again, now that it is stored: a subscription that passed its check
    // before the removal was stored is dropped too (see the socket).
    state.hub.remove_member(room, target);
    state.hub.send_to_user(target, &ServerFrame::InvitationsChanged);
    if was_member {
        // Only someone who was in the room learns who removed them from it.
        let reason = if ban { Removal::Banned } else { Removal::Kicked };
        state.hub.send_to_user(
            target,
            &ServerFrame::RemovedFromRoom {
                room,
                name: summary.name.clone(),
                by: actor.shown_name().to_owned(),
                reason,
            },
        );
        state.hub.publish(room, &ServerFrame::MemberLeft { room, user: target });
        if let Some(summary) = rooms::summary(state, room, actor.id).await? {
            rooms::announce_public(state, &summary);
        }
    }
    let event = if ban { RoomEvent::BANNED } else { RoomEvent::REMOVED };
    messages::post_event(state, actor.id, room, event, target).await?;
    tracing::info!(%room, %target, by = %actor.id, ban, "removed a member");
    Ok(())
}

#[tracing::instrument(skip_all, fields(actor = %actor, room = %room, target = %target))]
pub async fn unban(state: &AppState, actor: UserId, room: RoomId, target: UserId) -> Result<(), AppError> {
    authority(state, actor, room, Role::Admin).await?;
    if !state.store.unban(room, target).await.or_internal("unbanning")? {
        return Err(AppError::NotFound);
    }
    Ok(())
}

#[tracing::instrument(skip_all, fields(actor = %actor, room = %room))]
pub async fn bans(state: &AppState, actor: UserId, room: RoomId) -> Result<Vec<Ban>, AppError> {
    authority(state, actor, room, Role::Admin).await?;
    state.store.bans(room).await.or_internal("listing bans")
}

/// The owner makes a member an admin or a member again, or hands them the
/// room (becoming an admin).
#[tracing::instrument(skip_all, fields(owner = %owner, room = %room, target = %target))]
pub async fn change_role(
    state: &AppState,
    owner: UserId,
    room: RoomId,
    target: UserId,
    change: RoleChange,
) -> Result<(), AppError> {
    authority(state, owner, room, Role::Owner).await?;
    if target == owner {
        return Err(AppError::Forbidden);
    }
    let done = match change {
        RoleChange::MakeAdmin => state.store.set_role(room, owner, target, Role::Admin).await,
        RoleChange::MakeMember => state.store.set_role(room, owner, target, Role::Member).await,
        RoleChange::MakeOwner => state.store.transfer_ownership(room, owner, target).await,
    };
    if !done.or_internal("changing a role")? {
        return Err(AppError::NotFound);
    }
    roles_changed(state, room, [target, owner]).await
}

/// Tells the room that `users`' roles changed.
pub(super) async fn roles_changed(
    state: &AppState,
    room: RoomId,
    users: [UserId; 2],
) -> Result<(), AppError> {
    for user in users {
        if let Some(member) = rooms::member(state, room, user).await? {
            state.hub.publish(room, &ServerFrame::MemberChanged { room, member });
        }
    }
    Ok(())
}

/// The owner renames the room, or changes its topic or visibility.
#[tracing::instrument(skip_all, fields(owner = %owner, room = %room))]
pub async fn update(
    state: &AppState,
    owner: UserId,
    room: RoomId,
    form: &NewRoom,
) -> Result<RoomSummary, AppError> {
    let (before, _) = authority(state, owner, room, Role::Owner).await?;
    let (name, topic) = form.validate()?;
    state
        .store
        .update_room(room, name.as_str(), &name.key(), topic.as_str(), form.visibility)
        .await
        .on_constraint("updating a room", |_| AppError::field(Field::RoomName, Problem::RoomNameTaken))?;
    let summary = rooms::summary(state, room, owner).await?.ok_or(AppError::NotFound)?;
    state.hub.publish(
        room,
        &ServerFrame::RoomChanged {
            room,
            name: summary.name.clone(),
            topic: summary.topic.clone(),
            visibility: summary.visibility,
        },
    );
    if summary.visibility == Visibility::Public {
        rooms::announce_public(state, &summary);
    } else if before.visibility == Visibility::Public {
        // Those looking at it without being members lose it (their page,
        // told by `RoomChanged`, leaves it).
        let members = state.store.members(room).await.or_internal("listing members")?;
        state.hub.keep_only(room, &members.iter().map(|(profile, _)| profile.id).collect());
        state.hub.publish_directory(&ServerFrame::PublicRoomGone { room });
    }
    Ok(summary)
}

/// The owner deletes the room: every member loses it at once; its history
/// is kept but no one can open it any more.
#[tracing::instrument(skip_all, fields(owner = %owner.id, room = %room))]
pub async fn delete(state: &AppState, owner: &PublicProfile, room: RoomId) -> Result<(), AppError> {
    let (summary, _) = authority(state, owner.id, room, Role::Owner).await?;
    delete_by(state, room, summary.name, owner).await
}

/// Deletes `room` (named `name`) in `by`'s name: the owner's, or an
/// instance admin's (`services::admin::delete_room`).
pub(super) async fn delete_by(
    state: &AppState,
    room: RoomId,
    name: String,
    by: &PublicProfile,
) -> Result<(), AppError> {
    let invitees = state.store.invitations_into(room).await.or_internal("listing invitations")?;
    let members = state.store.members(room).await.or_internal("listing members")?;
    // Everyone receiving the room (members, and others looking at a public
    // one) is told, then no one receives it any more.
    state.hub.publish(
        room,
        &ServerFrame::RemovedFromRoom {
            room,
            name,
            by: by.shown_name().to_owned(),
            reason: Removal::Deleted,
        },
    );
    for (member, _) in &members {
        state.hub.remove_member(room, member.id);
    }
    state.hub.relayed().await;
    let members = state.store.delete_room(room).await.or_internal("deleting a room")?;
    for member in &members {
        state.hub.remove_member(room, *member);
    }
    for invitation in &invitees {
        state.hub.send_to_user(invitation.invitee.id, &ServerFrame::InvitationsChanged);
    }
    state.hub.publish_directory(&ServerFrame::PublicRoomGone { room });
    tracing::info!(%room, by = %by.id, "deleted a room");
    Ok(())
}
