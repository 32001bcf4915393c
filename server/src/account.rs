//! `GET /api/export`: the signed-in user's data as a JSON download (see
//! `app::services::account_data`). A plain route rather than a server
//! function so that the browser saves it as a file.

use crate::middleware::error_response;
use crate::ServerState;
use app::error::AppError;
use app::services::account_data;
use app::services::auth::AuthSession;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::header::{self, HeaderValue};

pub async fn export(State(state): State<ServerState>, auth: AuthSession) -> Response {
    let Some(user) = auth.user else { return error_response(AppError::Unauthenticated) };
    let export = match account_data::export(&state.app, &user).await {
        Ok(export) => export,
        Err(error) => return error_response(error),
    };
    let Ok(body) = serde_json::to_vec_pretty(&export) else {
        tracing::error!("an export that does not serialize");
        return error_response(AppError::Internal);
    };
    let disposition = format!("attachment; filename=\"salon-{}.json\"", user.username);
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (
            header::CONTENT_DISPOSITION,
            HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("attachment")),
        ),
    ];
    (headers, body).into_response()
}
