//! `GET /join/{code}/qr.svg`: a join link's QR code, for its maker or an
//! admin (see `app::services::join_links`), drawn by the `qrcode` crate.

use crate::middleware::error_response;
use crate::ServerState;
use app::error::AppError;
use app::services::auth::AuthSession;
use app::services::join_links;
use app::services::limits::Action;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::header::{self, HeaderValue};
use qrcode::render::svg;
use qrcode::QrCode;

pub async fn qr(
    State(state): State<ServerState>,
    auth: AuthSession,
    Path(code): Path<String>,
    headers: http::HeaderMap,
) -> Response {
    let Some(user) = auth.user else { return error_response(AppError::Unauthenticated) };
    // Drawn on each request: limited as reads are (it is outside `/api/`).
    if let Err(error) = state.app.limits.check(Action::Other, Some(user.id), None) {
        return error_response(error);
    }
    let link = match join_links::shown_to(&state.app, &user, &code).await {
        Ok(link) => link,
        Err(error) => return error_response(error),
    };
    let Some(origin) = state.site.origin(&headers) else { return error_response(AppError::BadRequest) };
    let url = format!("{origin}{}", link.path());
    let Ok(code) = QrCode::new(url.as_bytes()) else {
        tracing::error!(len = url.len(), "a join link too long for a QR code");
        return error_response(AppError::Internal);
    };
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(192, 192)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build();
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static("image/svg+xml")),
        (header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=86400")),
    ];
    (headers, image).into_response()
}
