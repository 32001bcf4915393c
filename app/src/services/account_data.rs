//! A user's own data (issue 19): everything Salon keeps about them, as a
//! JSON download, and the deletion of their account.

use super::{AppState, OrInternal};
use crate::domain::UserId;
use crate::error::{AppError, Field, Problem};
use crate::store::{ExportedMessage, ExportedPerson, ExportedRoom, UserRecord};
use serde::Serialize;

/// What "export my data" gives: the profile, the rooms, the messages one
/// wrote (not those one deleted), one's friends and the people one blocks.
/// The messages are read a page at a time ([`export_messages`]), so that
/// no export, however long its author's history, is ever whole in memory.
#[derive(Debug, Serialize)]
pub struct Export {
    pub exported_at: i64,
    pub profile: ExportedProfile,
    pub rooms: Vec<ExportedRoom>,
    pub friends: Vec<ExportedPerson>,
    pub blocked: Vec<ExportedPerson>,
}

#[derive(Debug, Serialize)]
pub struct ExportedProfile {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub administrator: bool,
}

#[derive(Debug, Serialize)]
pub struct MessageWithFiles {
    #[serde(flatten)]
    pub message: ExportedMessage,
    /// The attached files' descriptions (names, sizes, addresses).
    pub attachments: serde_json::Value,
}

/// Messages read at a time for an export.
pub const EXPORT_PAGE: usize = 500;

/// Where the next page of an export's messages starts: after message
/// `seq` of room `room` (the start: nothing read yet).
#[derive(Clone, Copy, Debug, Default)]
pub struct ExportCursor {
    room: i64,
    seq: i64,
}

/// Everything Salon keeps about `user` but their messages.
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn export(state: &AppState, user: &UserRecord) -> Result<Export, AppError> {
    let store = &state.store;
    Ok(Export {
        exported_at: crate::store::now_millis(),
        profile: ExportedProfile {
            id: user.id,
            username: user.username.clone(),
            display_name: user.display_name.clone(),
            email: user.email.clone(),
            administrator: user.is_admin(),
        },
        rooms: store.exported_rooms(user.id).await.or_internal("exporting rooms")?,
        friends: store.exported_people(user.id, false).await.or_internal("exporting friends")?,
        blocked: store.exported_people(user.id, true).await.or_internal("exporting blocks")?,
    })
}

/// The next page of the messages `user` wrote, after `after`, and where
/// the one after it starts (`None`: this was the last).
#[tracing::instrument(skip_all, fields(user = %user))]
pub async fn export_messages(
    state: &AppState,
    user: UserId,
    after: ExportCursor,
) -> Result<(Vec<MessageWithFiles>, Option<ExportCursor>), AppError> {
    let page = state
        .store
        .exported_messages(user, (after.room, after.seq), EXPORT_PAGE as i64)
        .await
        .or_internal("exporting messages")?;
    let next = match page.last() {
        Some(last) if page.len() == EXPORT_PAGE => Some(ExportCursor { room: last.room_id, seq: last.seq }),
        _ => None,
    };
    let messages = page
        .into_iter()
        .map(|message| {
            let attachments = match message.attachments.as_str() {
                "" => serde_json::Value::Array(Vec::new()),
                stored => serde_json::from_str(stored).unwrap_or(serde_json::Value::Null),
            };
            MessageWithFiles { message, attachments }
        })
        .collect();
    Ok((messages, next))
}

/// Deletes `user`'s account, once their password is confirmed: they leave
/// every room (its ownership passing on as when anyone leaves), their
/// sessions, sockets and devices end, and the account is emptied of
/// everything personal (`Store::erase_user`): their messages stay, under
/// "Deleted user"; their direct conversations become read-only. The
/// server's last admin cannot delete their account (they hand the role on
/// first; checked again by the store).
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn delete_account(state: &AppState, user: &UserRecord, password: &str) -> Result<(), AppError> {
    if password.is_empty() {
        return Err(AppError::field(Field::CurrentPassword, Problem::Required));
    }
    if password.chars().count() > crate::domain::PASSWORD_MAX {
        return Err(AppError::field(Field::CurrentPassword, Problem::WrongPassword));
    }
    let right = state.passwords.verify(password.to_owned(), Some(user.password_hash.clone())).await?;
    if !right {
        return Err(AppError::field(Field::CurrentPassword, Problem::WrongPassword));
    }
    if user.is_admin() && state.store.admin_names().await.or_internal("counting admins")?.len() <= 1 {
        return Err(AppError::field(Field::CurrentPassword, Problem::LastAdmin));
    }
    // Carried out whole in a task of its own: ending the sessions closes
    // this page's socket too, the page then reloads, and the request it
    // leaves behind would be dropped half-way (rooms left, account kept).
    let (state, user) = (state.clone(), user.id);
    let erasing = async move { erase(&state, user).await };
    tokio::spawn(tracing::Instrument::in_current_span(erasing)).await.or_internal("deleting an account")?
}

/// Ends `user`'s sessions, takes them out of their rooms and empties their
/// account (see [`delete_account`]).
async fn erase(state: &AppState, user: UserId) -> Result<(), AppError> {
    // Sessions first: nothing more is done in their name.
    super::auth::other_sessions_ended(state, user, None).await;
    for room in state.store.room_ids_of(user).await.or_internal("listing rooms")? {
        match super::rooms::leave(state, user, room).await {
            // A direct conversation is kept, read-only.
            Ok(()) | Err(AppError::Forbidden | AppError::NotFound) => {}
            Err(error) => return Err(error),
        }
    }
    let files = state.store.uploaded_files(user).await.or_internal("listing uploads")?;
    let shown_as = crate::i18n::EN.deleted_user;
    if !state.store.erase_user(user, shown_as).await.or_internal("erasing an account")? {
        return Err(AppError::field(Field::CurrentPassword, Problem::LastAdmin));
    }
    // Again: a socket opened while the rooms were being left is closed.
    super::auth::other_sessions_ended(state, user, None).await;
    super::attachments::remove_unused(state, files).await;
    tracing::info!("account deleted");
    Ok(())
}
