//! What a tab's WebSocket may see and do: the rules behind the live
//! protocol (`domain::protocol`), for `server::socket`, which keeps only
//! the transport (reading, writing, ordering, pacing).
//!
//! A socket opens on the rooms its user is a member of, and their friends'
//! presence; it may then watch any room it may read (catching up on what
//! it missed), post, type and mark as read, each through the service that
//! holds the rule.

use super::hub::{encode, CatchUp, ConnId, Connection, Frame, Outbound};
use super::limits::Action;
use super::{auth, messages, rooms, AppState, OrInternal};
use crate::domain::protocol::{ClientFrame, ServerFrame, PROTOCOL_VERSION, RESUME_LIMIT};
use crate::domain::{RoomId, Seq, UserId};
use crate::error::AppError;
use crate::store::UserRecord;
use tokio::sync::mpsc;

/// The queue is gone: the socket closed.
pub type Closed = mpsc::error::SendError<Outbound>;

/// One open socket, as the services see it.
pub struct Live {
    state: AppState,
    user: UserId,
    /// The name shown when the user types.
    name: String,
    conn: ConnId,
    replies: mpsc::Sender<Outbound>,
}

/// Registers a socket of `user`, opened with `session`'s socket key (see
/// [`auth::socket_key`]), on their rooms and friends. Returns what the
/// socket's writer drains, and what its reader hands client frames to.
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn open(
    state: &AppState,
    user: &UserRecord,
    session: &tower_sessions::Session,
) -> Result<(Connection, Live), AppError> {
    let key = auth::existing_socket_key(session).await;
    let rooms = state.store.room_ids_of(user.id).await.or_internal("loading a socket's rooms")?;
    let friends = state.store.friend_ids_of(user.id).await.or_internal("loading a socket's friends")?;
    let hello =
        ServerFrame::Hello { version: PROTOCOL_VERSION, user: user.id, max_upload: state.files.max_bytes };
    let hello = encode(&hello).unwrap_or_default();
    let connection = state.hub.connect(user.id, key, &rooms, &friends, hello);
    // A removal that ran between the query above and the registration found
    // no socket to take out: check again now that the socket is registered.
    if let Ok(now) = state.store.room_ids_of(user.id).await {
        for room in rooms.iter().filter(|room| !now.contains(room)) {
            state.hub.remove_member(*room, user.id);
        }
    }
    seen(state, user.id);
    let live = Live {
        state: state.clone(),
        user: user.id,
        name: user.public().shown_name().to_owned(),
        conn: connection.id,
        replies: connection.replies.clone(),
    };
    Ok((connection, live))
}

/// How often, at most, a user's "last seen" is written.
const SEEN_EVERY_MS: i64 = 10 * 60_000;

/// Records that `user` has Salon open (a socket opens or closes), off the
/// socket's path.
pub fn seen(state: &AppState, user: UserId) {
    let store = state.store.clone();
    tokio::spawn(async move {
        if let Err(error) = store.touch_last_seen(user, SEEN_EVERY_MS).await {
            tracing::warn!(%error, "recording when a user was last seen");
        }
    });
}

impl Live {
    pub fn user(&self) -> UserId {
        self.user
    }

    /// Acts on one client frame. Fails only when the socket's queue is gone.
    pub async fn handle(&self, frame: ClientFrame) -> Result<(), Closed> {
        match frame {
            ClientFrame::Subscribe { room, after } => self.subscribe(room, after).await,
            ClientFrame::Unsubscribe { room } => {
                self.unsubscribe(room).await;
                Ok(())
            }
            ClientFrame::Send { room, client_id, body, reply_to, attachments } => {
                let state = &self.state;
                // The same limit as posting over HTTP.
                let posted = match state.limits.check(Action::Post, Some(self.user), None) {
                    Ok(()) => {
                        let id = client_id.clone();
                        messages::post(state, self.user, room, id, &body, reply_to, &attachments).await
                    }
                    Err(refused) => Err(refused),
                };
                let frame = match posted {
                    Ok(message) => ServerFrame::Ack { client_id, message },
                    Err(error) => ServerFrame::SendFailed { room, client_id, error },
                };
                self.reply(&frame).await
            }
            ClientFrame::Typing { room } => {
                let _ = rooms::typing(&self.state, self.user, self.name.clone(), room).await;
                Ok(())
            }
            ClientFrame::Read { room, seq } => {
                let _ = rooms::mark_read(&self.state, self.user, room, seq).await;
                Ok(())
            }
            ClientFrame::Looking { room } => {
                self.state.hub.looking(self.conn, room);
                Ok(())
            }
            ClientFrame::WatchPublicRooms { watch } => {
                self.state.hub.watch_directory(self.conn, watch);
                Ok(())
            }
        }
    }

    /// Starts receiving `room` if the user may read it, with what they
    /// missed after `after` first.
    #[tracing::instrument(skip(self), fields(user = %self.user))]
    async fn subscribe(&self, room: RoomId, after: Option<Seq>) -> Result<(), Closed> {
        let (state, user) = (&self.state, self.user);
        if let Err(error) = rooms::check_readable(state, user, room).await {
            return self.reply(&ServerFrame::SubscribeFailed { room, error }).await;
        }
        // Held from here until the catch-up below is queued, so that live
        // messages follow it in order.
        self.replies.send(Outbound::CatchUpStarted(room)).await?;
        state.hub.subscribe(self.conn, room);
        // A removal running meanwhile takes the user out of the hub both
        // before and after it is stored, so checking again now that we are
        // subscribed leaves no window in between.
        let still = rooms::check_readable(state, user, room).await;
        let (frame, upto) = match (still, after) {
            (Err(error), _) => {
                state.hub.unsubscribe(self.conn, room);
                (ServerFrame::SubscribeFailed { room, error }, None)
            }
            (Ok(_), None) => {
                (ServerFrame::Subscribed { room, messages: Vec::new(), changes: Vec::new() }, None)
            }
            (Ok(_), Some(after)) => match messages::missed(state, room, after, RESUME_LIMIT).await {
                Ok(Some(missed)) => {
                    let frame =
                        ServerFrame::Subscribed { room, messages: missed.messages, changes: missed.changes };
                    (frame, Some(missed.upto))
                }
                Ok(None) => (ServerFrame::Resync { room }, None),
                Err(error) => (ServerFrame::SubscribeFailed { room, error }, None),
            },
        };
        let text = encode(&frame).unwrap_or_default();
        self.replies.send(Outbound::CatchUp(Box::new(CatchUp { room, text, upto }))).await
    }

    /// Stops receiving `room`, unless the user is a member: members keep
    /// receiving their rooms (for unread counts).
    async fn unsubscribe(&self, room: RoomId) {
        if matches!(rooms::role(&self.state, self.user, room).await, Ok(None)) {
            self.state.hub.unsubscribe(self.conn, room);
        }
    }

    async fn reply(&self, frame: &ServerFrame) -> Result<(), Closed> {
        match encode(frame) {
            Some(text) => self.replies.send(Outbound::Reply(Frame::plain(text))).await,
            None => Ok(()),
        }
    }
}
