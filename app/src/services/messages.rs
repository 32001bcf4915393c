//! Posting messages: one writer thread commits them in groups and publishes
//! them, and history reads.
//!
//! An fsync costs milliseconds, so committing each message on its own would
//! cap a server at a few hundred messages per second. The writer instead
//! takes every post that arrived while it was committing the previous group,
//! commits them in one transaction, publishes them in sequence order and
//! only then answers each sender: an acknowledged message is durable.

use super::hub::Hub;
use super::{rooms, AppState, OrInternal};
use crate::domain::protocol::ServerFrame;
use crate::domain::{
    ClientId, HistoryPage, Message, MessageBody, RoomId, Seq, UserId, Visibility, HISTORY_PAGE,
};
use crate::error::{AppError, Field, Problem};
use crate::store::{Appended, MessageLog, NewMessage, Store};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Most posts committed in one transaction.
const MAX_GROUP: usize = 512;
/// Posts waiting for the writer before senders wait for room.
const BACKLOG: usize = 8192;

struct Post {
    room: RoomId,
    author: UserId,
    client_id: ClientId,
    /// Empty for an event.
    body: String,
    event: Option<(&'static str, UserId)>,
    reply: oneshot::Sender<Result<Message, AppError>>,
}

/// The handle senders use to reach the writer thread.
#[derive(Clone)]
pub struct MessageWriter {
    posts: mpsc::Sender<Post>,
}

impl MessageWriter {
    /// Starts the writer on a thread of its own, with its own connection:
    /// it calls SQLite directly, where a pooled connection would hand each
    /// statement to another thread and back (most of the time of a small
    /// group, measured).
    pub fn start(store: &Store, hub: Arc<Hub>) -> std::io::Result<Self> {
        let log = store.message_log().map_err(std::io::Error::other)?;
        let (posts, queue) = mpsc::channel(BACKLOG);
        std::thread::Builder::new().name("salon-writer".into()).spawn(move || write_groups(log, hub, queue))?;
        Ok(Self { posts })
    }
}

/// The writer's loop: every post that arrived meanwhile, in one
/// transaction, then published in order, then answered. Ends when every
/// sender is gone.
fn write_groups(mut log: MessageLog, hub: Arc<Hub>, mut queue: mpsc::Receiver<Post>) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while let Some(first) = queue.blocking_recv() {
        group.push(first);
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(post) => group.push(post),
                Err(_) => break,
            }
        }
        let batch: Vec<NewMessage<'_>> = group
            .iter()
            .map(|post| NewMessage {
                room: post.room,
                author: post.author,
                client_id: &post.client_id,
                body: &post.body,
                event: post.event,
            })
            .collect();
        let started = std::time::Instant::now();
        let outcomes = log.append(&batch);
        tracing::debug!(posts = batch.len(), micros = started.elapsed().as_micros() as u64, "committed a group");
        drop(batch);
        match outcomes {
            Ok(outcomes) => {
                for (post, outcome) in group.drain(..).zip(outcomes) {
                    let answer = match outcome {
                        Appended::New(message) => {
                            hub.publish(message.room, &ServerFrame::Message { message: message.clone() });
                            Ok(message)
                        }
                        Appended::Existing(message) => Ok(message),
                        Appended::NotMember(Some(Visibility::Public)) => Err(AppError::Forbidden),
                        Appended::NotMember(_) => Err(AppError::NotFound),
                        Appended::Refused => Err(AppError::field(Field::Message, Problem::NotAccepting)),
                    };
                    let _ = post.reply.send(answer);
                }
            }
            Err(error) => {
                tracing::error!(%error, posts = group.len(), "committing messages");
                for post in group.drain(..) {
                    let _ = post.reply.send(Err(AppError::Internal));
                }
            }
        }
    }
}

/// Posts a message and returns it once committed. Sending the same
/// `client_id` again returns the original message.
pub async fn post(
    state: &AppState,
    author: UserId,
    room: RoomId,
    client_id: ClientId,
    body: &str,
) -> Result<Message, AppError> {
    let body = MessageBody::parse(body).map_err(|problem| AppError::field(Field::Message, problem))?;
    write(state, room, author, client_id, body.as_str().to_owned(), None).await
}

/// Records an event in the room's timeline, authored by `actor` (a member).
pub async fn post_event(
    state: &AppState,
    actor: UserId,
    room: RoomId,
    event: &'static str,
    subject: UserId,
) -> Result<Message, AppError> {
    let client_id = ClientId::generated();
    write(state, room, actor, client_id, String::new(), Some((event, subject))).await
}

async fn write(
    state: &AppState,
    room: RoomId,
    author: UserId,
    client_id: ClientId,
    body: String,
    event: Option<(&'static str, UserId)>,
) -> Result<Message, AppError> {
    let (reply, answer) = oneshot::channel();
    let post = Post { room, author, client_id, body, event, reply };
    state.writer.posts.send(post).await.or_internal("queueing a message")?;
    answer.await.or_internal("waiting for a commit")?
}

/// The page of messages before `before` (the newest page without it).
pub async fn history(
    state: &AppState,
    viewer: UserId,
    room: RoomId,
    before: Option<Seq>,
) -> Result<HistoryPage, AppError> {
    rooms::readable(state, viewer, room).await?;
    page_before(&state.store, room, before).await
}

pub(super) async fn page_before(
    store: &Store,
    room: RoomId,
    before: Option<Seq>,
) -> Result<HistoryPage, AppError> {
    let mut messages =
        store.messages_before(room, before, HISTORY_PAGE as i64 + 1).await.or_internal("reading history")?;
    let has_older = messages.len() > HISTORY_PAGE;
    if has_older {
        messages.remove(0);
    }
    Ok(HistoryPage { messages, has_older })
}

/// What a resuming client missed after `after`: `None` when it is beyond
/// the resume limit and the client must reload the room.
pub async fn missed(
    state: &AppState,
    room: RoomId,
    after: Seq,
    limit: usize,
) -> Result<Option<Vec<Message>>, AppError> {
    let messages =
        state.store.messages_after(room, after, limit as i64 + 1).await.or_internal("catching up")?;
    Ok((messages.len() <= limit).then_some(messages))
}
