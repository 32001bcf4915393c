//! Messages: posting them, changing them (edits, deletions, reactions), and
//! reading history. Every post and change goes through one writer
//! ([`writer`]), which commits them in groups, numbers each in its room's
//! sequence and publishes it.

mod writer;

pub use writer::MessageWriter;

use super::{rooms, AppState, OrInternal};
use crate::domain::{
    markup, mentioned, AttachmentId, Change, ChangeRequest, ClientId, HistoryPage, HistoryWindow, Message,
    MessageBody, RoomId, Seq, UserId, WindowAt,
};
use crate::error::{AppError, Field, Problem};
use tokio::sync::oneshot;
use writer::{Post, Write};

/// Posts a message, perhaps in reply to message `reply_to` of the same
/// room, perhaps carrying files uploaded beforehand (`attachments`, when
/// the text may be empty), and returns it once committed. Sending the same
/// `client_id` again returns the original message.
#[tracing::instrument(skip_all, fields(author = %author, room = %room))]
pub async fn post(
    state: &AppState,
    author: UserId,
    room: RoomId,
    client_id: ClientId,
    body: &str,
    reply_to: Option<Seq>,
    attachments: &[AttachmentId],
) -> Result<Message, AppError> {
    let body = MessageBody::parse_beside_files(body, attachments.len())
        .map_err(|problem| AppError::field(Field::Message, problem))?;
    // Read before the commit, and claimed in it (see `attachments::unsent`);
    // a resend claimed them already, and gets the original.
    let attachments = match super::attachments::unsent(state, author, room, attachments).await {
        Err(gone) => {
            let resend =
                state.store.sent_before(author, client_id.as_str()).await.or_internal("finding a resend")?;
            if !resend {
                return Err(gone);
            }
            Vec::new()
        }
        unsent => unsent?,
    };
    let reply = match reply_to {
        // Read before the commit: whoever may post in the room may read it
        // (the writer refuses anyone else, with the error they would get).
        Some(seq) => Some(
            state.store.quote(room, seq).await.or_internal("reading a quote")?.ok_or(AppError::NotFound)?,
        ),
        None => None,
    };
    let (html, mentions) = render(state, room, body.as_str()).await?;
    let body = body.as_str().to_owned();
    commit(state, room, author, |answer| Write::Message {
        client_id,
        body,
        html,
        reply,
        mentions,
        event: None,
        attachments,
        answer,
    })
    .await
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
    commit(state, room, actor, |answer| Write::Message {
        client_id,
        body: String::new(),
        html: String::new(),
        reply: None,
        mentions: Vec::new(),
        event: Some((event, subject)),
        attachments: Vec::new(),
        answer,
    })
    .await
}

/// Replaces the text of `actor`'s message `seq`: refused like a send when
/// empty or too long.
#[tracing::instrument(skip_all, fields(actor = %actor, room = %room, seq))]
pub async fn edit(
    state: &AppState,
    actor: UserId,
    room: RoomId,
    seq: Seq,
    body: &str,
) -> Result<(), AppError> {
    let body = MessageBody::parse(body).map_err(|problem| AppError::field(Field::Message, problem))?;
    let (html, mentions) = render(state, room, body.as_str()).await?;
    change(state, actor, room, seq, ChangeRequest::Edit { body: body.as_str().to_owned(), html, mentions })
        .await
}

/// `body` as HTML, and the members of `room` it mentions: only they are
/// marked and told, so a mention of anyone else reveals nothing.
async fn render(state: &AppState, room: RoomId, body: &str) -> Result<(String, Vec<UserId>), AppError> {
    let keys = mentioned(body);
    let members = if keys.is_empty() {
        Vec::new()
    } else {
        state.store.members_named(room, &keys).await.or_internal("finding mentions")?
    };
    let names: Vec<String> = members.iter().map(|(_, key)| key.clone()).collect();
    Ok((markup::render(body, &names), members.into_iter().map(|(id, _)| id).collect()))
}

/// Deletes message `seq`: its author, or the room's owner or an admin.
/// Its files go with it.
#[tracing::instrument(skip_all, fields(actor = %actor, room = %room, seq))]
pub async fn delete(state: &AppState, actor: UserId, room: RoomId, seq: Seq) -> Result<(), AppError> {
    remove(state, actor, room, seq, ChangeRequest::Delete).await
}

/// Deletes message `seq` as the server's administrators (whoever `actor`
/// is in the room: `services::admin::delete_messages` checks who may).
pub(crate) async fn purge(state: &AppState, actor: UserId, room: RoomId, seq: Seq) -> Result<(), AppError> {
    remove(state, actor, room, seq, ChangeRequest::Purge).await
}

async fn remove(
    state: &AppState,
    actor: UserId,
    room: RoomId,
    seq: Seq,
    request: ChangeRequest,
) -> Result<(), AppError> {
    // A sent message's attachments never change: these are the ones the
    // deletion removes.
    let files = super::attachments::files_of(state, room, seq).await?;
    change(state, actor, room, seq, request).await?;
    super::attachments::remove_unused(state, files).await;
    Ok(())
}

/// The longest emoji taken, in bytes (families and flags with their
/// joiners and modifiers fit).
const MAX_EMOJI_BYTES: usize = 64;

/// Adds (`on`) or removes `actor`'s reaction `emoji` to message `seq`;
/// doing it twice changes nothing more. Only a real emoji is taken.
#[tracing::instrument(skip_all, fields(actor = %actor, room = %room, seq))]
pub async fn react(
    state: &AppState,
    actor: UserId,
    room: RoomId,
    seq: Seq,
    emoji: &str,
    on: bool,
) -> Result<(), AppError> {
    let emoji = emoji.trim();
    let known = emoji.len() <= MAX_EMOJI_BYTES && emojis::get(emoji).is_some();
    if !known {
        return Err(AppError::field(Field::Emoji, Problem::NotAnEmoji));
    }
    change(state, actor, room, seq, ChangeRequest::React { emoji: emoji.to_owned(), on }).await
}

async fn change(
    state: &AppState,
    actor: UserId,
    room: RoomId,
    message: Seq,
    request: ChangeRequest,
) -> Result<(), AppError> {
    commit(state, room, actor, |answer| Write::Change { message, request, answer }).await.map(drop)
}

/// Hands the writer what `write` makes of the answer's sender, and waits
/// for the answer: once committed, or refused.
async fn commit<T>(
    state: &AppState,
    room: RoomId,
    author: UserId,
    write: impl FnOnce(oneshot::Sender<Result<T, AppError>>) -> Write,
) -> Result<T, AppError> {
    let (answer, answered) = oneshot::channel();
    let post = Post { room, author, write: write(answer) };
    state.writer.posts.send(post).await.or_internal("queueing a message")?;
    answered.await.or_internal("waiting for a commit")?
}

/// The page of messages before `before` (the newest page without it).
#[tracing::instrument(skip_all, fields(viewer = %viewer, room = %room))]
pub async fn history(
    state: &AppState,
    viewer: UserId,
    room: RoomId,
    before: Option<Seq>,
) -> Result<HistoryPage, AppError> {
    state
        .store
        .history_page_for(viewer, room, before, rooms::may_read)
        .await
        .or_internal("reading history")?
}

/// The window of history `at` (around a message, or after one).
#[tracing::instrument(skip_all, fields(viewer = %viewer, room = %room))]
pub async fn window(
    state: &AppState,
    viewer: UserId,
    room: RoomId,
    at: WindowAt,
) -> Result<HistoryWindow, AppError> {
    state.store.history_window_for(viewer, room, at, rooms::may_read).await.or_internal("reading history")?
}

/// What a resuming client missed: messages and changes, each oldest first,
/// together every number from the resume point through `upto`.
pub struct Missed {
    pub messages: Vec<Message>,
    pub changes: Vec<Change>,
    pub upto: Seq,
}

/// What a resuming client missed after `after`. `None` when there are more
/// than `limit` messages and changes together and the client must reload
/// the room.
///
/// Messages and changes are two reads: one committed between them shows
/// in the second but not the first, leaving a hole. What follows a hole
/// was committed after the caller subscribed, so it comes live: the
/// answer stops before the first hole.
#[tracing::instrument(skip_all, fields(room = %room))]
pub async fn missed(
    state: &AppState,
    room: RoomId,
    after: Seq,
    limit: usize,
) -> Result<Option<Missed>, AppError> {
    let fetch = limit as i64 + 1;
    let mut messages = state.store.messages_after(room, after, fetch).await.or_internal("catching up")?;
    let mut changes = state.store.changes_after(room, after, fetch).await.or_internal("catching up")?;
    if messages.len() + changes.len() > limit {
        return Ok(None);
    }
    let mut seqs: Vec<Seq> = messages.iter().map(|m| m.seq).chain(changes.iter().map(|c| c.seq)).collect();
    seqs.sort_unstable();
    let upto = seqs.into_iter().take_while({
        let mut next = after + 1;
        move |&seq| {
            let contiguous = seq == next;
            next += 1;
            contiguous
        }
    });
    let upto = upto.last().unwrap_or(after);
    messages.retain(|m| m.seq <= upto);
    changes.retain(|c| c.seq <= upto);
    Ok(Some(Missed { messages, changes, upto }))
}
