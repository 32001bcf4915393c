//! `GET /api/export`: the signed-in user's data as a JSON download (see
//! `app::services::account_data`). A plain route rather than a server
//! function so that the browser saves it as a file, and so that it is
//! written as it is read: the messages follow the rest a page at a time.

use crate::middleware::error_response;
use crate::ServerState;
use app::domain::UserId;
use app::error::AppError;
use app::services::account_data::{self, ExportCursor};
use app::services::auth::AuthSession;
use app::services::AppState;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use futures_util::{stream, StreamExt};
use http::header::{self, HeaderValue};

pub async fn export(State(state): State<ServerState>, auth: AuthSession) -> Response {
    let Some(user) = auth.user else { return error_response(AppError::Unauthenticated) };
    let head = match account_data::export(&state.app, &user).await {
        Ok(head) => head,
        Err(error) => return error_response(error),
    };
    // Everything but the messages, the object left open for them.
    let opened = serde_json::to_string_pretty(&head)
        .ok()
        .and_then(|json| Some(format!("{},\n  \"messages\": [", json.strip_suffix("\n}")?)));
    let Some(opened) = opened else {
        tracing::error!("an export that does not serialize");
        return error_response(AppError::Internal);
    };
    let body =
        stream::once(std::future::ready(Ok(Bytes::from(opened)))).chain(messages(state.app.clone(), user.id));
    let disposition = format!("attachment; filename=\"salon-{}.json\"", user.username);
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (
            header::CONTENT_DISPOSITION,
            HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("attachment")),
        ),
    ];
    (headers, Body::from_stream(body)).into_response()
}

/// The export's messages, a page a chunk, and the end of the document. A
/// page that cannot be read ends the download unfinished (the service
/// logged why).
fn messages(state: AppState, user: UserId) -> impl stream::Stream<Item = Result<Bytes, std::io::Error>> {
    stream::try_unfold(Some((ExportCursor::default(), 0usize)), move |next| {
        let state = state.clone();
        async move {
            let Some((after, written)) = next else { return Ok(None) };
            let (page, next) = account_data::export_messages(&state, user, after)
                .await
                .map_err(|_| std::io::Error::other("an export's messages could not be read"))?;
            let mut chunk = String::new();
            for (i, message) in page.iter().enumerate() {
                if written + i > 0 {
                    chunk.push(',');
                }
                chunk.push_str("\n    ");
                chunk.push_str(&serde_json::to_string(message).map_err(std::io::Error::other)?);
            }
            let written = written + page.len();
            if next.is_none() {
                chunk.push_str("\n  ]\n}\n");
                tracing::info!(%user, messages = written, "data exported");
            }
            Ok(Some((Bytes::from(chunk), next.map(|after| (after, written)))))
        }
    })
}
