//! A user's own data (issue 19): everything Salon keeps about them, as a
//! JSON download, and the deletion of their account.

use super::{AppState, OrInternal};
use crate::domain::UserId;
use crate::error::{AppError, Field, Problem};
use crate::store::{ExportedMessage, ExportedPerson, ExportedRoom, UserRecord};
use serde::Serialize;

/// What "export my data" gives: the profile, the rooms, the messages one
/// wrote (not those one deleted), one's friends and the people one blocks.
#[derive(Debug, Serialize)]
pub struct Export {
    pub exported_at: i64,
    pub profile: ExportedProfile,
    pub rooms: Vec<ExportedRoom>,
    pub messages: Vec<MessageWithFiles>,
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

/// Everything Salon keeps about `user`.
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn export(state: &AppState, user: &UserRecord) -> Result<Export, AppError> {
    let store = &state.store;
    let messages = store.exported_messages(user.id).await.or_internal("exporting messages")?;
    let messages = messages
        .into_iter()
        .map(|message| {
            let attachments = match message.attachments.as_str() {
                "" => serde_json::Value::Array(Vec::new()),
                stored => serde_json::from_str(stored).unwrap_or(serde_json::Value::Null),
            };
            MessageWithFiles { message, attachments }
        })
        .collect();
    let export = Export {
        exported_at: crate::store::now_millis(),
        profile: ExportedProfile {
            id: user.id,
            username: user.username.clone(),
            display_name: user.display_name.clone(),
            email: user.email.clone(),
            administrator: user.is_admin(),
        },
        rooms: store.exported_rooms(user.id).await.or_internal("exporting rooms")?,
        messages,
        friends: store.exported_people(user.id, false).await.or_internal("exporting friends")?,
        blocked: store.exported_people(user.id, true).await.or_internal("exporting blocks")?,
    };
    tracing::info!(messages = export.messages.len(), "data exported");
    Ok(export)
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
