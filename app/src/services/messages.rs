//! Posting messages: one writer commits them in groups, a task publishes
//! them; and history reads.
//!
//! An fsync costs milliseconds, so committing each message on its own would
//! cap a server at a few hundred messages per second. The writer instead
//! takes every post that arrived while it was committing the previous group,
//! commits them in one transaction, publishes them in sequence order and
//! only then answers each sender: an acknowledged message is durable.

use super::hub::Hub;
use super::metrics::METRICS;
use super::{rooms, AppState, OrInternal};
use crate::domain::protocol::ServerFrame;
use crate::domain::{ClientId, HistoryPage, Message, MessageBody, RoomId, Seq, UserId, Visibility};
use crate::error::{AppError, Field, Problem};
use crate::store::{now_millis, Appended, Engine, MessageLog, NewMessage, PgMessageLog, Store};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Most posts committed in one transaction, per engine. PostgreSQL's
/// statements each cost a round trip, whatever the group's size: bigger
/// groups spread that over more messages once the writer is saturated.
const MAX_SQLITE_GROUP: usize = 512;
const MAX_POSTGRES_GROUP: usize = 2048;
/// Posts waiting for the writer before senders wait for room.
const BACKLOG: usize = 8192;
/// A resent message younger than this is published again (see
/// `publish_groups`).
const REPUBLISH_WITHIN_MS: i64 = 60_000;
/// Committed groups waiting to be published before the writer waits.
const COMMITTED_GROUPS: usize = 4;

struct Post {
    room: RoomId,
    author: UserId,
    client_id: ClientId,
    /// Empty for an event.
    body: String,
    event: Option<(&'static str, UserId)>,
    reply: oneshot::Sender<Result<Message, AppError>>,
}

/// The handle senders use to reach the writer.
#[derive(Clone)]
pub struct MessageWriter {
    posts: mpsc::Sender<Post>,
}

impl MessageWriter {
    /// Starts the writer on a thread of its own. On SQLite it has its own
    /// connection and calls SQLite directly, where a pooled connection
    /// would hand each statement to another thread and back (most of the
    /// time of a small group, measured); on PostgreSQL it has its own
    /// connection on its own runtime. Either way committed groups are
    /// published and answered by a task on the server's runtime: waking
    /// thousands of sockets from a thread outside it costs a lock and often
    /// a system call per socket.
    pub fn start(store: &Store, hub: Arc<Hub>) -> std::io::Result<Self> {
        let log = match store.engine() {
            Engine::Sqlite => Log::Sqlite(store.message_log().map_err(std::io::Error::other)?),
            Engine::Postgres => Log::Postgres(
                store.pg_message_log(),
                tokio::runtime::Builder::new_current_thread().enable_all().build()?,
            ),
        };
        let (posts, queue) = mpsc::channel(BACKLOG);
        let (committed, groups) = mpsc::channel(COMMITTED_GROUPS);
        std::thread::Builder::new()
            .name("salon-writer".into())
            .spawn(move || write_groups(log, queue, committed))?;
        tokio::spawn(publish_groups(hub, groups));
        Ok(Self { posts })
    }
}

/// The engine's own group writer.
enum Log {
    Sqlite(MessageLog),
    /// On a runtime of the writer's thread's own: the server's runtime is
    /// busy with thousands of sockets, and each of the group's round trips
    /// would wait for it to notice the answer (measured: a 500-message
    /// group took 33 ms there, 12 ms of it in PostgreSQL).
    Postgres(PgMessageLog, tokio::runtime::Runtime),
}

impl Log {
    fn max_group(&self) -> usize {
        match self {
            Self::Sqlite(_) => MAX_SQLITE_GROUP,
            Self::Postgres(..) => MAX_POSTGRES_GROUP,
        }
    }

    fn append(
        &mut self,
        batch: &[NewMessage<'_>],
    ) -> Result<Vec<Appended>, Box<dyn std::error::Error + Send + Sync>> {
        Ok(match self {
            Self::Sqlite(log) => log.append(batch)?,
            Self::Postgres(log, runtime) => runtime.block_on(log.append(batch))?,
        })
    }
}

/// The writer's loop: every post that arrived meanwhile, in one
/// transaction, handed on to be published and answered. Ends when every
/// sender is gone.
fn write_groups(mut log: Log, mut queue: mpsc::Receiver<Post>, committed: mpsc::Sender<Committed>) {
    while let Some(first) = queue.blocking_recv() {
        let group = gather(first, &mut queue, log.max_group());
        let batch = group.iter().map(Post::new_message).collect::<Vec<_>>();
        let started = std::time::Instant::now();
        let outcomes = log.append(&batch);
        let took = started.elapsed();
        tracing::debug!(posts = batch.len(), micros = took.as_micros() as u64, "committed a group");
        METRICS.commit_batch_size.observe(batch.len() as f64);
        METRICS.commit_seconds.observe(took.as_secs_f64());
        drop(batch);
        if committed.blocking_send((group, outcomes)).is_err() {
            return;
        }
    }
}

impl Post {
    fn new_message(&self) -> NewMessage<'_> {
        NewMessage {
            room: self.room,
            author: self.author,
            client_id: &self.client_id,
            body: &self.body,
            event: self.event,
        }
    }
}

/// A committed group: its posts and what became of each.
type Committed = (Vec<Post>, Result<Vec<Appended>, Box<dyn std::error::Error + Send + Sync>>);

/// `first` and every post that arrived meanwhile, up to a group's size.
fn gather(first: Post, queue: &mut mpsc::Receiver<Post>, max: usize) -> Vec<Post> {
    let mut group = Vec::with_capacity(max.min(queue.len() + 1));
    group.push(first);
    while group.len() < max {
        match queue.try_recv() {
            Ok(post) => group.push(post),
            Err(_) => break,
        }
    }
    group
}

/// Publishes each committed group in order, then answers its senders: an
/// acknowledged message is durable, and its room has it first.
async fn publish_groups(hub: Arc<Hub>, mut groups: mpsc::Receiver<Committed>) {
    while let Some((group, outcomes)) = groups.recv().await {
        let outcomes = match outcomes {
            Ok(outcomes) => outcomes,
            Err(error) => {
                tracing::error!(%error, posts = group.len(), "committing messages");
                METRICS.errors.increment();
                for post in group {
                    let _ = post.reply.send(Err(AppError::Internal));
                }
                continue;
            }
        };
        for (post, outcome) in group.into_iter().zip(outcomes) {
            let answer = match outcome {
                Appended::New(message) => {
                    METRICS.messages.increment();
                    hub.publish(message.room, &ServerFrame::Message { message: message.clone() });
                    Ok(message)
                }
                Appended::Existing(message) => {
                    // A resend: its first commit may have lost its answer
                    // (a broken connection) and so never been published.
                    // The sockets that have it drop it as a duplicate; an
                    // old one is not worth a broadcast (tabs that lack it
                    // catch up when they see the gap).
                    if now_millis() - message.sent_at < REPUBLISH_WITHIN_MS {
                        hub.publish(message.room, &ServerFrame::Message { message: message.clone() });
                    }
                    Ok(message)
                }
                Appended::NotMember(Some(Visibility::Public)) => Err(AppError::Forbidden),
                Appended::NotMember(_) => Err(AppError::NotFound),
                Appended::Refused => Err(AppError::field(Field::Message, Problem::NotAccepting)),
            };
            let _ = post.reply.send(answer);
        }
    }
}

/// Posts a message and returns it once committed. Sending the same
/// `client_id` again returns the original message.
#[tracing::instrument(skip_all, fields(author = %author, room = %room))]
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
#[tracing::instrument(skip_all, fields(actor = %actor, room = %room, subject = %subject))]
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
#[tracing::instrument(skip_all, fields(viewer = %viewer, room = %room))]
pub async fn history(
    state: &AppState,
    viewer: UserId,
    room: RoomId,
    before: Option<Seq>,
) -> Result<HistoryPage, AppError> {
    rooms::readable(state, viewer, room).await?;
    state.store.history_page(room, before).await.or_internal("reading history")
}

/// What a resuming client missed after `after`: `None` when it is beyond
/// the resume limit and the client must reload the room.
#[tracing::instrument(skip_all, fields(room = %room))]
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
