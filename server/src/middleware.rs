//! Request guards that apply to every route: known hosts, same-origin
//! writes, body size limits, security headers and a 500 for a request that
//! panicked; and the server's own time per response.

use crate::site::SitePolicy;
use app::error::AppError;
use app::services::auth::AuthSession;
use app::services::limits::{Action, ClientAddress, Limits};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use http::header::{self, HeaderValue};
use http::{Method, StatusCode};
use std::sync::Arc;

/// The largest request body accepted, per route: avatars get room for a
/// 5 MB image plus multipart framing, uploads are limited by their handler
/// (to the configured size, `--attachment-max-mb`), everything else is
/// small forms.
pub fn body_limit_for(path: &str) -> usize {
    match path {
        "/api/avatar" => app::domain::AVATAR_MAX_BYTES + 64 * 1024,
        app::domain::UPLOAD_PATH => usize::MAX,
        _ => 64 * 1024,
    }
}

/// Answers with the shared error type, encoded as server functions do, so the
/// browser shows it in words.
pub fn error_response(error: AppError) -> Response {
    let body = serde_json::to_vec(&error).unwrap_or_default();
    let mut response =
        (error.status_code(), [(header::CONTENT_TYPE, "application/json")], body).into_response();
    if let Some((name, value)) = error.header() {
        response.headers_mut().insert(name, value);
    }
    response
}

/// Applies the abuse limits (`app::services::limits`) to every server
/// function, per signed-in user and per client address: over a limit,
/// `429 Too Many Requests` with `Retry-After`. Runs inside the session
/// layer, which says who is signed in.
pub async fn limit_requests(
    State(limits): State<Arc<Limits>>,
    auth: AuthSession,
    client: Option<Extension<ClientAddress>>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(endpoint) = request.uri().path().strip_prefix("/api/") {
        let user = auth.user.as_ref().map(|user| user.id);
        let client = client.map(|Extension(ClientAddress(client))| client);
        if let Err(error) = limits.check(Action::of_endpoint(endpoint), user, client) {
            tracing::info!(endpoint, user = ?user, address = ?client, "over a request limit");
            return error_response(error);
        }
    }
    next.run(request).await
}

/// Refuses bodies over the route's limit: at once when `Content-Length`
/// says so, and while reading otherwise.
pub async fn limit_body(request: Request, next: Next) -> Response {
    let limit = body_limit_for(request.uri().path());
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return error_response(AppError::PayloadTooLarge);
    }
    let request = request.map(|body| Body::new(http_body_util::Limited::new(body, limit)));
    next.run(request).await
}

/// Refuses state-changing requests that do not come from this site (see
/// [`SitePolicy::is_same_origin`]).
pub async fn same_origin_writes(State(site): State<SitePolicy>, request: Request, next: Next) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && !site.is_same_origin(request.headers()) {
        tracing::warn!(path = %request.uri().path(), "refused a cross-origin request");
        return error_response(AppError::Forbidden);
    }
    next.run(request).await
}

/// Answers only requests for this site's hosts (see
/// [`SitePolicy::serves_host`]) with `421 Misdirected Request`, except the
/// probes a load balancer or monitor sends to an instance's own address.
pub async fn known_hosts(State(site): State<SitePolicy>, request: Request, next: Next) -> Response {
    let probe = matches!(request.uri().path(), "/healthz" | "/readyz" | "/metrics");
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()));
    if !probe && !host.is_some_and(|host| site.serves_host(host)) {
        tracing::warn!(host = ?host, "refused a request for another host");
        let mut response = error_response(AppError::BadRequest);
        *response.status_mut() = StatusCode::MISDIRECTED_REQUEST;
        return response;
    }
    next.run(request).await
}

/// What a request that panicked answers: 500 with the usual error body,
/// logged and counted like any internal error (the panic hook has already
/// printed where it happened).
pub fn panicked(cause: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = cause
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| cause.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    error_response(app::services::internal("a request panicked", message))
}

/// Headers every response carries. Pages get a Content-Security-Policy
/// with the nonce their shell used for its inline scripts, and are never
/// cached (they hold the signed-in user's data); everything else gets a
/// policy that allows nothing, unless it set its own.
pub async fn security_headers(mut request: Request, next: Next) -> Response {
    let slot = app::PageNonceSlot::default();
    request.extensions_mut().insert(slot.clone());
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    let page_policy = slot.0.get().and_then(|nonce| HeaderValue::from_str(&page_policy(nonce)).ok());
    match page_policy {
        Some(policy) => {
            headers.insert(header::CONTENT_SECURITY_POLICY, policy);
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        // Unless the response set its own (the service worker's).
        None => {
            headers
                .entry(header::CONTENT_SECURITY_POLICY)
                .or_insert(HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"));
        }
    }
    response
}

/// What a page may load: its own origin, its inline scripts with this
/// nonce, and WebAssembly. `connect-src 'self'` covers the site's own
/// WebSocket (`ws:`/`wss:` on the same host, CSP level 3); in
/// `cargo leptos watch` the dev server's reload socket is allowed too.
fn page_policy(nonce: &str) -> String {
    let reload = reload_socket();
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data: blob:; connect-src 'self'{reload}; \
         font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

/// The reload socket's port, on whatever host the page was opened by,
/// when cargo-leptos watches (it sets `LEPTOS_WATCH`); else nothing.
fn reload_socket() -> &'static str {
    static RELOAD: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    RELOAD.get_or_init(|| {
        if std::env::var_os("LEPTOS_WATCH").is_none() {
            return String::new();
        }
        let port =
            std::env::var("LEPTOS_RELOAD_PORT").ok().and_then(|p| p.parse::<u16>().ok()).unwrap_or(3001);
        format!(" ws://*:{port} wss://*:{port}")
    })
}

/// Says how long the server took to produce each response's head, in
/// milliseconds (`Server-Timing: app;dur=0.812`): browsers' developer tools
/// show it, and the load generator reads the server's share of a round trip
/// from it.
pub async fn server_timing(request: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let mut response = next.run(request).await;
    let millis = started.elapsed().as_secs_f64() * 1000.0;
    if let Ok(value) = HeaderValue::from_str(&format!("app;dur={millis:.3}")) {
        response.headers_mut().insert("server-timing", value);
    }
    response
}
