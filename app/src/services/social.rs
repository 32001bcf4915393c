//! Friends, friend requests, blocks and direct conversations.
//!
//! Every change is told live to both people's sockets as `FriendsChanged`
//! (their tabs reload the lists); a direct conversation appears in both
//! people's room lists as soon as it is opened.

use super::{accounts, rooms, AppState, OrInternal};
use crate::domain::protocol::ServerFrame;
use crate::domain::{
    direct_key, DmPolicy, Friend, FriendRequest, FriendsView, Pending, Relation, RoomId, RoomSummary,
    UserCard, UserId,
};
use crate::error::{AppError, Field, Problem};
use crate::store::{RequestOutcome, UserRecord};

/// The user a form names, or `UnknownUser` at its username field.
#[tracing::instrument(skip_all)]
pub async fn find_user(state: &AppState, username: &str) -> Result<UserRecord, AppError> {
    if username.trim().is_empty() {
        return Err(AppError::field(Field::Username, Problem::Required));
    }
    accounts::public_profile(state, username).await.map_err(|error| match error {
        AppError::NotFound => AppError::field(Field::Username, Problem::UnknownUser),
        other => other,
    })
}

async fn existing(state: &AppState, user: UserId) -> Result<UserRecord, AppError> {
    state.store.user_by_id(user).await.or_internal("loading a user")?.ok_or(AppError::NotFound)
}

fn refuse(problem: Problem) -> AppError {
    AppError::field(Field::Username, problem)
}

fn tell(state: &AppState, users: &[UserId], frame: &ServerFrame) {
    for user in users {
        state.hub.send_to_user(*user, frame);
    }
}

#[tracing::instrument(skip_all, fields(user = %user))]
pub async fn friends(state: &AppState, user: UserId) -> Result<FriendsView, AppError> {
    let store = &state.store;
    let friends = store.friends_of(user).await.or_internal("listing friends")?;
    let incoming = store.friend_requests(user, true).await.or_internal("listing friend requests")?;
    let outgoing = store.friend_requests(user, false).await.or_internal("listing friend requests")?;
    let requests = |rows: Vec<_>| {
        rows.into_iter().map(|(user, sent_at)| FriendRequest { user, sent_at }).collect::<Vec<_>>()
    };
    Ok(FriendsView {
        friends: friends
            .into_iter()
            .map(|(profile, _)| Friend { online: state.hub.is_online(profile.id), profile })
            .collect(),
        incoming: requests(incoming),
        outgoing: requests(outgoing),
        blocked: store.blocked_by(user).await.or_internal("listing blocked users")?,
        dm_policy: store.dm_policy(user).await.or_internal("loading a setting")?,
    })
}

/// The badges (friend requests and invitations waiting for `user`) and
/// whom they blocked.
#[tracing::instrument(skip_all, fields(user = %user))]
pub async fn pending(state: &AppState, user: UserId) -> Result<Pending, AppError> {
    let (friend_requests, invitations) =
        state.store.pending_counts(user).await.or_internal("counting what is pending")?;
    let blocked = state.store.blocked_by(user).await.or_internal("listing blocked users")?;
    Ok(Pending { friend_requests, invitations, blocked: blocked.into_iter().map(|user| user.id).collect() })
}

/// Asks `username` to be friends. If they had asked first, both are
/// friends at once.
#[tracing::instrument(skip_all, fields(from = %from))]
pub async fn request(state: &AppState, from: UserId, username: &str) -> Result<Relation, AppError> {
    let to = find_user(state, username).await?;
    if to.id == from {
        return Err(refuse(Problem::Yourself));
    }
    let ties = state.store.ties(from, to.id).await.or_internal("loading ties")?;
    if ties.blocks || ties.blocked_by {
        return Err(refuse(Problem::NotAccepting));
    }
    if ties.friends {
        return Err(refuse(Problem::AlreadyFriends));
    }
    let relation = match state.store.request_friend(from, to.id).await.or_internal("requesting a friend")? {
        RequestOutcome::Sent => Relation::RequestSent,
        RequestOutcome::Friends => Relation::Friends,
        RequestOutcome::Duplicate => return Err(refuse(Problem::AlreadyRequested)),
    };
    tell(state, &[from, to.id], &ServerFrame::FriendsChanged);
    Ok(relation)
}

/// Accepts the request `from` sent to `me`.
#[tracing::instrument(skip_all, fields(me = %me, from = %from))]
pub async fn accept(state: &AppState, me: UserId, from: UserId) -> Result<(), AppError> {
    if !state.store.accept_friend(from, me).await.or_internal("accepting a friend")? {
        return Err(AppError::NotFound);
    }
    tell(state, &[from, me], &ServerFrame::FriendsChanged);
    Ok(())
}

/// Deletes the pending request from `from` to `to`: declined by `to` or
/// cancelled by `from`.
#[tracing::instrument(skip_all, fields(from = %from, to = %to))]
pub async fn withdraw(state: &AppState, from: UserId, to: UserId) -> Result<(), AppError> {
    if !state.store.delete_friend_request(from, to).await.or_internal("deleting a friend request")? {
        return Err(AppError::NotFound);
    }
    tell(state, &[from, to], &ServerFrame::FriendsChanged);
    Ok(())
}

#[tracing::instrument(skip_all, fields(me = %me, friend = %friend))]
pub async fn unfriend(state: &AppState, me: UserId, friend: UserId) -> Result<(), AppError> {
    if !state.store.remove_friend(me, friend).await.or_internal("removing a friend")? {
        return Err(AppError::NotFound);
    }
    tell(state, &[me, friend], &ServerFrame::FriendsChanged);
    Ok(())
}

/// `me` blocks `user`: no more requests, invitations or direct messages
/// between them, and any friendship or request between them ends.
#[tracing::instrument(skip_all, fields(me = %me, user = %user))]
pub async fn block(state: &AppState, me: UserId, user: UserId) -> Result<(), AppError> {
    if user == me {
        return Err(AppError::Forbidden);
    }
    existing(state, user).await?;
    state.store.block(me, user).await.or_internal("blocking a user")?;
    tell(state, &[me, user], &ServerFrame::FriendsChanged);
    state.hub.send_to_user(me, &ServerFrame::InvitationsChanged);
    // Their conversation leaves the blocker's list (it stays stored).
    if let Some(room) = direct_room(state, me, user).await? {
        state.hub.send_to_user(me, &ServerFrame::RoomLeft { room });
    }
    Ok(())
}

async fn direct_room(state: &AppState, a: UserId, b: UserId) -> Result<Option<RoomId>, AppError> {
    state.store.direct_room(&direct_key(a, b)).await.or_internal("finding a conversation")
}

#[tracing::instrument(skip_all, fields(me = %me, user = %user))]
pub async fn unblock(state: &AppState, me: UserId, user: UserId) -> Result<(), AppError> {
    if !state.store.unblock(me, user).await.or_internal("unblocking a user")? {
        return Err(AppError::NotFound);
    }
    state.hub.send_to_user(me, &ServerFrame::FriendsChanged);
    if let Some(room) = direct_room(state, me, user).await? {
        if let Some(summary) = rooms::summary(state, room, me).await? {
            state.hub.send_to_user(me, &ServerFrame::RoomJoined { room: summary });
        }
    }
    Ok(())
}

#[tracing::instrument(skip_all, fields(me = %me))]
pub async fn set_dm_policy(state: &AppState, me: UserId, policy: DmPolicy) -> Result<(), AppError> {
    state.store.set_dm_policy(me, policy).await.or_internal("saving a setting")
}

/// Whether `from` may open a direct conversation with `to` (the writer
/// checks the same rule again for every message in it).
async fn may_message(state: &AppState, from: UserId, to: UserId) -> Result<bool, AppError> {
    let refused = state.store.refuses_messages(to, from).await.or_internal("checking who may message")?;
    Ok(!refused)
}

/// Another user's profile as `viewer` sees it.
#[tracing::instrument(skip_all, fields(viewer = %viewer))]
pub async fn card(state: &AppState, viewer: UserId, username: &str) -> Result<UserCard, AppError> {
    let user = accounts::public_profile(state, username).await?;
    let ties = state.store.ties(viewer, user.id).await.or_internal("loading ties")?;
    if ties.blocked_by {
        // Whoever blocked the viewer is hidden from them.
        return Err(AppError::NotFound);
    }
    let relation = if ties.blocks {
        Relation::Blocked
    } else if ties.friends {
        Relation::Friends
    } else if ties.requested {
        Relation::RequestSent
    } else if ties.requested_by {
        Relation::RequestReceived
    } else {
        Relation::None
    };
    let can_message = user.id != viewer && may_message(state, viewer, user.id).await?;
    Ok(UserCard { profile: user.public(), relation, can_message })
}

/// The direct conversation of `me` and `user`, opened (created) if needed:
/// opening it again returns the same room.
#[tracing::instrument(skip_all, fields(me = %me, user = %user))]
pub async fn open_direct(state: &AppState, me: UserId, user: UserId) -> Result<RoomSummary, AppError> {
    if user == me {
        return Err(refuse(Problem::Yourself));
    }
    existing(state, user).await?;
    if !may_message(state, me, user).await? {
        return Err(refuse(Problem::NotAccepting));
    }
    let key = direct_key(me, user);
    let (room, created) =
        state.store.create_direct_room(me, user, &key).await.or_internal("opening a conversation")?;
    if created {
        rooms::welcome(state, room, user).await?;
        rooms::welcome(state, room, me).await
    } else {
        rooms::summary(state, room, me).await?.ok_or(AppError::NotFound)
    }
}
