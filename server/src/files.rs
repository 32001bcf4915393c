//! Attachments over HTTP: uploads (`POST /api/attachments`, the file as the
//! whole body, so that the browser can show its progress) and the files
//! (`GET /files/{id}` and `/files/{id}/thumbnail`), served only to the
//! people who may read the room (see `app::services::attachments`).

use crate::middleware::error_response;
use crate::ServerState;
use app::domain::RoomId;
use app::error::AppError;
use app::services::attachments;
use app::services::auth::AuthSession;
use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::header::{self, HeaderValue};
use tower::ServiceExt;

#[derive(serde::Deserialize)]
pub struct UploadQuery {
    room: RoomId,
    #[serde(default)]
    name: String,
}

/// Receives one file attached in `?room=`, named `?name=`; answers with
/// the [`app::domain::Attachment`] to send with the message.
pub async fn upload(
    State(state): State<ServerState>,
    auth: AuthSession,
    query: Result<Query<UploadQuery>, axum::extract::rejection::QueryRejection>,
    headers: http::HeaderMap,
    body: Body,
) -> Response {
    let Some(user) = auth.user else { return error_response(AppError::Unauthenticated) };
    let Ok(Query(query)) = query else { return error_response(AppError::BadRequest) };
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|length| length.to_str().ok()?.parse::<u64>().ok());
    let chunks = body.into_data_stream();
    match attachments::upload(&state.app, user.id, query.room, &query.name, declared, chunks).await {
        Ok(attachment) => Json(attachment).into_response(),
        Err(error) => error_response(error),
    }
}

pub async fn full(
    state: State<ServerState>,
    auth: AuthSession,
    id: Path<String>,
    request: Request,
) -> Response {
    serve(state, auth, id, request, false).await
}

pub async fn thumbnail(
    state: State<ServerState>,
    auth: AuthSession,
    id: Path<String>,
    request: Request,
) -> Response {
    serve(state, auth, id, request, true).await
}

/// An attachment's file, with ranges and revalidation (tower-http's
/// `ServeFile`): an image as itself, anything else as a download that the
/// browser never renders (`Content-Disposition: attachment`, an opaque
/// type, `nosniff` and a policy that runs nothing, set for every response).
async fn serve(
    State(state): State<ServerState>,
    auth: AuthSession,
    Path(id): Path<String>,
    request: Request,
    thumbnail: bool,
) -> Response {
    let viewer = auth.user.as_ref().map(|user| user.id);
    let served = match attachments::open(&state.app, viewer, &id, thumbnail).await {
        Ok(served) => served,
        Err(error) => return error_response(error),
    };
    let mut response = match tower_http::services::ServeFile::new(&served.path).oneshot(request).await {
        Ok(response) => response.map(Body::new),
        Err(error) => match error {},
    };
    if response.status() == http::StatusCode::NOT_FOUND {
        tracing::error!(path = %served.path.display(), "an attachment's file is missing");
        return error_response(AppError::NotFound);
    }
    let headers = response.headers_mut();
    let media_type = HeaderValue::from_str(&served.media_type)
        .unwrap_or(HeaderValue::from_static(attachments::DOWNLOAD_TYPE));
    headers.insert(header::CONTENT_TYPE, media_type);
    if let Ok(disposition) =
        HeaderValue::from_str(&attachments::content_disposition(&served.name, served.inline))
    {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    // Never changes under its id, but is private to the room's readers.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=31536000, immutable"));
    response
}

/// Forgets uploads never sent, now and every hour.
pub async fn continuously_sweep(state: app::services::AppState) {
    let mut hourly = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        hourly.tick().await;
        attachments::sweep(&state).await;
    }
}
