//! The rules of rooms: who may see, read, join and leave them, and what
//! every open socket learns when that changes.

use super::{internal, AppState, OnConstraint, OrInternal};
use crate::domain::protocol::ServerFrame;
use crate::domain::{
    Member, NewRoom, PublicProfile, Role, RoomId, RoomSummary, RoomView, Seq, UserId, Visibility,
};
use crate::error::{AppError, Field, Problem};
use crate::store::Admission;

/// How many rooms a search returns.
const BROWSE_LIMIT: i64 = 50;
/// The longest search text considered.
const SEARCH_MAX: usize = 100;

/// Whether `user` may create rooms on this server (the admins' setting:
/// `InstanceSettings::may_create_rooms`).
pub async fn may_create(state: &AppState, user: UserId) -> Result<bool, AppError> {
    let settings = super::admin::current_settings(state).await?;
    if settings.may_create_rooms(false) {
        return Ok(true);
    }
    let admin =
        state.store.user_by_id(user).await.or_internal("loading a user")?.is_some_and(|u| u.is_admin());
    Ok(settings.may_create_rooms(admin))
}

#[tracing::instrument(skip_all, fields(owner = %owner))]
pub async fn create(state: &AppState, owner: UserId, form: &NewRoom) -> Result<RoomSummary, AppError> {
    if !may_create(state, owner).await? {
        return Err(AppError::field(Field::RoomName, Problem::AdminsOnlyRooms));
    }
    let (name, topic) = form.validate()?;
    let id = state
        .store
        .create_room(owner, name.as_str(), &name.key(), topic.as_str(), form.visibility)
        .await
        .on_constraint("creating a room", |_| AppError::field(Field::RoomName, Problem::RoomNameTaken))?;
    let summary = summary(state, id, owner).await?.ok_or(AppError::Internal)?;
    state.hub.add_member(id, owner);
    state.hub.send_to_user(owner, &ServerFrame::RoomJoined { room: summary.clone() });
    announce_public(state, &summary);
    Ok(summary)
}

/// Tells those browsing the public rooms how a room looks now, from a
/// member's view of it (to them it is a room they are not in). Private
/// rooms are never announced.
pub(super) fn announce_public(state: &AppState, summary: &RoomSummary) {
    if summary.visibility == Visibility::Public {
        let outsiders_view =
            RoomSummary { role: None, unread: 0, read_through: 0, mentions: 0, ..summary.clone() };
        state.hub.publish_directory(&ServerFrame::PublicRoomChanged { room: outsiders_view });
    }
}

pub(super) async fn summary(
    state: &AppState,
    room: RoomId,
    viewer: UserId,
) -> Result<Option<RoomSummary>, AppError> {
    let summary = state.store.room_summary(room, viewer).await.or_internal("loading a room")?;
    Ok(summary.map(|summary| with_peer_presence(state, summary)))
}

fn with_peer_presence(state: &AppState, mut summary: RoomSummary) -> RoomSummary {
    summary.peer_online = summary.peer.as_ref().is_some_and(|peer| state.hub.is_online(peer.id));
    summary
}

/// The room if `viewer` may read it (see [`may_read`]).
#[tracing::instrument(skip_all, fields(viewer = %viewer, room = %room))]
pub async fn readable(state: &AppState, viewer: UserId, room: RoomId) -> Result<RoomSummary, AppError> {
    let standing = state.store.standing(room, viewer).await.or_internal("loading a room")?;
    may_read(standing.as_ref().map(|standing| Admission {
        visibility: standing.summary.visibility,
        role: standing.summary.role,
        banned: standing.banned,
    }))?;
    let summary = standing.map(|standing| standing.summary).ok_or(AppError::NotFound)?;
    Ok(with_peer_presence(state, summary))
}

/// Whether `viewer` may read `room` (see [`may_read`]), when the room
/// itself is not needed: cheaper than [`readable`].
#[tracing::instrument(skip_all, fields(viewer = %viewer, room = %room))]
pub async fn check_readable(state: &AppState, viewer: UserId, room: RoomId) -> Result<(), AppError> {
    may_read(state.store.admission(room, viewer).await.or_internal("loading a room")?)
}

/// Who may read a room: its members, and anyone not banned from it if it
/// is public (`Forbidden` if banned). Anything else, and a room that is
/// not there (`None`), is `NotFound`.
pub(super) fn may_read(admission: Option<Admission>) -> Result<(), AppError> {
    match admission {
        Some(Admission { role: Some(_), .. }) => Ok(()),
        Some(Admission { visibility: Visibility::Public, banned: true, .. }) => Err(AppError::Forbidden),
        Some(Admission { visibility: Visibility::Public, banned: false, .. }) => Ok(()),
        _ => Err(AppError::NotFound),
    }
}

/// The room if `user` is a member of it.
/// `user`'s role in `room`, if a member.
#[tracing::instrument(skip_all, fields(user = %user, room = %room))]
pub async fn role(state: &AppState, user: UserId, room: RoomId) -> Result<Option<Role>, AppError> {
    state.store.role(room, user).await.or_internal("loading a role")
}

pub(super) async fn membership(
    state: &AppState,
    user: UserId,
    room: RoomId,
) -> Result<RoomSummary, AppError> {
    let room = readable(state, user, room).await?;
    if room.role.is_none() {
        return Err(AppError::Forbidden);
    }
    Ok(room)
}

#[tracing::instrument(skip_all, fields(user = %user))]
pub async fn mine(state: &AppState, user: UserId) -> Result<Vec<RoomSummary>, AppError> {
    let rooms = state.store.rooms_of(user).await.or_internal("listing my rooms")?;
    Ok(rooms.into_iter().map(|summary| with_peer_presence(state, summary)).collect())
}

#[tracing::instrument(skip_all, fields(viewer = %viewer))]
pub async fn browse(state: &AppState, viewer: UserId, query: &str) -> Result<Vec<RoomSummary>, AppError> {
    let query: String = query.trim().chars().take(SEARCH_MAX).collect::<String>().to_lowercase();
    state.store.public_rooms(viewer, &query, BROWSE_LIMIT).await.or_internal("browsing rooms")
}

/// Everything the room page shows when it opens.
#[tracing::instrument(skip_all, fields(viewer = %viewer, room = %room))]
pub async fn open(state: &AppState, viewer: UserId, room: RoomId) -> Result<RoomView, AppError> {
    let summary = readable(state, viewer, room).await?;
    let members = members(state, room).await?;
    let page = state.store.history_page(room, None).await.or_internal("reading history")?;
    Ok(RoomView { room: summary, members, messages: page.messages, has_older: page.has_older })
}

async fn members(state: &AppState, room: RoomId) -> Result<Vec<Member>, AppError> {
    let members = state.store.members(room).await.or_internal("listing members")?;
    Ok(members.into_iter().map(|member| with_presence(state, member)).collect())
}

fn with_presence(state: &AppState, (profile, role): (PublicProfile, Role)) -> Member {
    Member { online: state.hub.is_online(profile.id), profile, role }
}

/// Joins a public room (joining twice is harmless).
#[tracing::instrument(skip_all, fields(user = %user, room = %room))]
pub async fn join(state: &AppState, user: UserId, room: RoomId) -> Result<RoomSummary, AppError> {
    let found = readable(state, user, room).await?;
    if found.role.is_some() {
        return Ok(found);
    }
    if !state.store.join_room(room, user).await.or_internal("joining a room")? {
        return Err(AppError::NotFound);
    }
    welcome(state, room, user).await
}

/// Tells everyone concerned that `user` just became a member of `room`:
/// their sockets start receiving it, the room sees them arrive, their tabs
/// list it and, for a public room, so does the directory.
pub(super) async fn welcome(state: &AppState, room: RoomId, user: UserId) -> Result<RoomSummary, AppError> {
    let summary = summary(state, room, user).await?.ok_or(AppError::NotFound)?;
    state.hub.add_member(room, user);
    // A removal that ran since the membership was stored may have missed
    // the sockets just added: now that they are, check it still holds.
    let Some(member) = member(state, room, user).await? else {
        state.hub.remove_member(room, user);
        return Err(AppError::NotFound);
    };
    state.hub.publish(room, &ServerFrame::MemberChanged { room, member });
    state.hub.send_to_user(user, &ServerFrame::RoomJoined { room: summary.clone() });
    announce_public(state, &summary);
    Ok(summary)
}

pub(super) async fn member(state: &AppState, room: RoomId, user: UserId) -> Result<Option<Member>, AppError> {
    let member = state.store.member(room, user).await.or_internal("loading a member")?;
    Ok(member.map(|member| with_presence(state, member)))
}

/// Leaves a room. See [`crate::store::Store::leave_room`] for who owns it
/// afterwards.
#[tracing::instrument(skip_all, fields(user = %user, room = %room))]
pub async fn leave(state: &AppState, user: UserId, room: RoomId) -> Result<(), AppError> {
    if membership(state, user, room).await?.is_direct() {
        // A conversation between two people has no one to hand it to.
        return Err(AppError::Forbidden);
    }
    // Delivery stops before the membership goes, so that no message
    // committed after the departure reaches the one who left (on every
    // instance).
    state.hub.remove_member(room, user);
    state.hub.relayed().await;
    let departure = match state.store.leave_room(room, user).await {
        Ok(Some(departure)) => departure,
        Ok(None) => return Err(AppError::NotFound),
        Err(cause) => {
            state.hub.add_member(room, user);
            return Err(internal("leaving a room", cause));
        }
    };
    // Again, now that it is stored (see `moderation::remove`).
    state.hub.remove_member(room, user);
    state.hub.publish(room, &ServerFrame::MemberLeft { room, user });
    if let Some(owner) = departure.new_owner {
        if let Some(member) = member(state, room, owner).await? {
            state.hub.publish(room, &ServerFrame::MemberChanged { room, member });
        }
    }
    tracing::info!(%room, %user, role = departure.left_role.as_str(), archived = departure.archived, "left a room");
    state.hub.send_to_user(user, &ServerFrame::RoomLeft { room });
    if departure.archived {
        state.hub.publish_directory(&ServerFrame::PublicRoomGone { room });
    } else if let Some(summary) = summary(state, room, user).await? {
        announce_public(state, &summary);
    }
    Ok(())
}

/// Records what `user` has read and tells their other tabs.
#[tracing::instrument(skip_all, fields(user = %user, room = %room))]
pub async fn mark_read(state: &AppState, user: UserId, room: RoomId, seq: Seq) -> Result<(), AppError> {
    if state.store.mark_read(room, user, seq).await.or_internal("marking a room read")? {
        state.hub.send_to_user(user, &ServerFrame::RoomRead { room, seq });
    }
    Ok(())
}

/// Tells the room that `user` is typing.
#[tracing::instrument(skip_all, fields(user = %user, room = %room))]
pub async fn typing(state: &AppState, user: UserId, name: String, room: RoomId) -> Result<(), AppError> {
    membership(state, user, room).await?;
    state.hub.publish(room, &ServerFrame::Typing { room, user, name });
    Ok(())
}
