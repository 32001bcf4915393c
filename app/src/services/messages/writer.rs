//! The message writer: one thread commits posts in groups, a task
//! publishes them.
//!
//! An fsync costs milliseconds, so committing each message on its own would
//! cap a server at a few hundred messages per second. The writer instead
//! takes every post that arrived while it was committing the previous group,
//! commits them in one transaction, publishes them in sequence order and
//! only then answers each sender: an acknowledged message is durable.

use crate::domain::protocol::ServerFrame;
use crate::domain::{Attachment, ChangeRequest, ClientId, Message, Quote, RoomId, Seq, UserId};
use crate::error::AppError;
use crate::services::hub::Hub;
use crate::services::metrics::METRICS;
use crate::services::push::Pusher;
use crate::store::{
    now_millis, Appended, Changed, Engine, MessageLog, NewChange, NewMessage, PgMessageLog, Store,
};
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

/// What the writer is asked to commit in `room` on behalf of `author`.
pub(super) struct Post {
    pub room: RoomId,
    pub author: UserId,
    pub write: Write,
}

pub(super) enum Write {
    Message {
        client_id: ClientId,
        /// Empty for an event.
        body: String,
        html: String,
        reply: Option<Quote>,
        mentions: Vec<UserId>,
        event: Option<(&'static str, UserId)>,
        /// Checked: the author's unsent uploads in the room.
        attachments: Vec<Attachment>,
        answer: oneshot::Sender<Result<Message, AppError>>,
    },
    Change {
        message: Seq,
        request: ChangeRequest,
        answer: oneshot::Sender<Changed>,
    },
}

/// The handle senders use to reach the writer.
#[derive(Clone)]
pub struct MessageWriter {
    pub(super) posts: mpsc::Sender<Post>,
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
    pub fn start(store: &Store, hub: Arc<Hub>, push: Pusher) -> std::io::Result<Self> {
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
        tokio::spawn(publish_groups(hub, push, groups));
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
        changes: &[NewChange<'_>],
    ) -> Result<Outcomes, WriteError> {
        Ok(match self {
            Self::Sqlite(log) => log.append(batch, changes)?,
            Self::Postgres(log, runtime) => runtime.block_on(log.append(batch, changes))?,
        })
    }
}

/// The writer's loop: every post that arrived meanwhile, in one
/// transaction, handed on to be published and answered. Ends when every
/// sender is gone.
fn write_groups(mut log: Log, mut queue: mpsc::Receiver<Post>, committed: mpsc::Sender<Committed>) {
    while let Some(first) = queue.blocking_recv() {
        let group = gather(first, &mut queue, log.max_group());
        let batch = group.iter().filter_map(Post::new_message).collect::<Vec<_>>();
        let changes = group.iter().filter_map(Post::new_change).collect::<Vec<_>>();
        let started = std::time::Instant::now();
        let outcomes = log.append(&batch, &changes);
        let took = started.elapsed();
        tracing::debug!(posts = batch.len(), micros = took.as_micros() as u64, "committed a group");
        METRICS.commit_batch_size.observe(batch.len() as f64);
        METRICS.commit_seconds.observe(took.as_secs_f64());
        drop((batch, changes));
        if committed.blocking_send((group, outcomes)).is_err() {
            return;
        }
    }
}

impl Post {
    fn new_message(&self) -> Option<NewMessage<'_>> {
        match &self.write {
            Write::Message { client_id, body, html, reply, mentions, event, attachments, .. } => {
                Some(NewMessage {
                    room: self.room,
                    author: self.author,
                    client_id,
                    body,
                    html,
                    reply: reply.as_ref(),
                    mentions,
                    event: *event,
                    attachments,
                })
            }
            Write::Change { .. } => None,
        }
    }

    fn new_change(&self) -> Option<NewChange<'_>> {
        match &self.write {
            Write::Change { message, request, .. } => {
                Some(NewChange { room: self.room, actor: self.author, message: *message, request })
            }
            Write::Message { .. } => None,
        }
    }

    /// Answers the sender of a post whose group failed.
    fn fail(self) {
        match self.write {
            Write::Message { answer, .. } => drop(answer.send(Err(AppError::Internal))),
            Write::Change { answer, .. } => drop(answer.send(Err(AppError::Internal))),
        }
    }
}

type WriteError = Box<dyn std::error::Error + Send + Sync>;
/// What became of a group's messages and of its changes, in order.
type Outcomes = (Vec<Appended>, Vec<Changed>);
/// A committed group: its posts and what became of each.
type Committed = (Vec<Post>, Result<Outcomes, WriteError>);

/// A committed group's frames and answers, by room, rooms in the order
/// the group first names them.
#[derive(Default)]
struct Rooms {
    list: Vec<(RoomId, RoomPart)>,
    index: std::collections::HashMap<RoomId, usize>,
}

#[derive(Default)]
struct RoomPart {
    frames: Vec<ServerFrame>,
    answers: Vec<Answer>,
}

impl Rooms {
    fn of(&mut self, room: RoomId) -> &mut RoomPart {
        let at = *self.index.entry(room).or_insert_with(|| {
            self.list.push((room, RoomPart::default()));
            self.list.len() - 1
        });
        &mut self.list[at].1
    }
}

/// A sender's answer, given once its room's part of the group is
/// published (and a new message handed to push notifications then).
// Held for the moment a group is published; a box per message would cost
// more than the changes' unused bytes.
#[allow(clippy::large_enum_variant)]
enum Answer {
    Message {
        reply: oneshot::Sender<Result<Message, AppError>>,
        answer: Result<Message, AppError>,
        new: bool,
    },
    Change(oneshot::Sender<Changed>, Changed),
}

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

/// Publishes each committed group in order, each room's part at once (see
/// [`Hub::publish_all`]), then answers that room's senders: an
/// acknowledged message is durable, and its room has it first. New
/// messages are handed to `push` too (which never waits). A group's
/// messages come first: their numbers precede its changes'.
async fn publish_groups(hub: Arc<Hub>, push: Pusher, mut groups: mpsc::Receiver<Committed>) {
    while let Some((group, outcomes)) = groups.recv().await {
        let (appended, changed) = match outcomes {
            Ok(outcomes) => outcomes,
            Err(error) => {
                tracing::error!(%error, posts = group.len(), "committing messages");
                METRICS.errors.increment();
                group.into_iter().for_each(Post::fail);
                continue;
            }
        };
        let (messages, changes): (Vec<_>, Vec<_>) =
            group.into_iter().partition(|post| matches!(post.write, Write::Message { .. }));
        let mut rooms = Rooms::default();
        for (post, outcome) in messages.into_iter().zip(appended) {
            let Write::Message { answer: reply, .. } = post.write else { continue };
            let room = rooms.of(post.room);
            let new = matches!(outcome, Appended::New(_));
            let answer = match outcome {
                Appended::New(message) => {
                    METRICS.messages.increment();
                    room.frames.push(ServerFrame::Message { message: message.clone() });
                    Ok(message)
                }
                Appended::Existing(message) => {
                    // A resend: its first commit may have lost its answer
                    // (a broken connection) and so never been published.
                    // The sockets that have it drop it as a duplicate; an
                    // old one is not worth a broadcast (tabs that lack it
                    // catch up when they see the gap).
                    if now_millis() - message.sent_at < REPUBLISH_WITHIN_MS {
                        room.frames.push(ServerFrame::Message { message: message.clone() });
                    }
                    Ok(message)
                }
                refused => Err(refused.error().unwrap_or(AppError::Internal)),
            };
            room.answers.push(Answer::Message { reply, answer, new });
        }
        for (post, outcome) in changes.into_iter().zip(changed) {
            let Write::Change { answer, .. } = post.write else { continue };
            let room = rooms.of(post.room);
            if let Ok(Some(change)) = &outcome {
                room.frames.push(ServerFrame::Changed { change: change.clone() });
            }
            room.answers.push(Answer::Change(answer, outcome));
        }
        // Each room's frames at once, then its senders' answers: a sender
        // alone in its room gets both in one write.
        for (id, room) in rooms.list {
            hub.publish_all(id, &room.frames);
            for answer in room.answers {
                match answer {
                    Answer::Message { reply, answer, new } => {
                        if let (true, Ok(message)) = (new, &answer) {
                            push.message(message);
                        }
                        drop(reply.send(answer));
                    }
                    Answer::Change(reply, answer) => drop(reply.send(answer)),
                }
            }
        }
    }
}
