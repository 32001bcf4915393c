//! Request guards that apply to every route: same-origin writes, body size
//! limits, and security headers; and the server's own time per response.

use app::error::AppError;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::header::{self, HeaderValue};
use http::{Method, StatusCode};
use std::sync::Arc;

/// The largest request body accepted, per route: avatars get room for a
/// 5 MB image plus multipart framing, everything else is small forms.
pub fn body_limit_for(path: &str) -> usize {
    if path == "/api/avatar" {
        app::domain::AVATAR_MAX_BYTES + 64 * 1024
    } else {
        64 * 1024
    }
}

/// Answers with the shared error type, encoded as server functions do, so the
/// browser shows it in words.
pub fn error_response(error: AppError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(&error).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
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

/// What counts as this site's own origin.
#[derive(Clone)]
pub struct OriginPolicy {
    pub public_origin: Option<Arc<str>>,
}

/// Refuses state-changing requests that a browser says come from another
/// site (`Sec-Fetch-Site`), or whose `Origin` is not ours. Requests with
/// neither header (not from a browser) pass: the session cookie is
/// `SameSite=Lax`, so a cross-site browser request cannot carry it anyway.
pub async fn same_origin_writes(
    State(policy): State<OriginPolicy>,
    request: Request,
    next: Next,
) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && !is_same_origin(&policy, request.headers()) {
        tracing::warn!(path = %request.uri().path(), "refused a cross-origin request");
        return error_response(AppError::Forbidden);
    }
    next.run(request).await
}

pub fn is_same_origin(policy: &OriginPolicy, headers: &http::HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if !matches!(site, "same-origin" | "none") {
            return false;
        }
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    match &policy.public_origin {
        Some(public) => origin.eq_ignore_ascii_case(public.trim_end_matches('/')),
        None => {
            let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
            origin.split_once("://").is_some_and(|(scheme, rest)| {
                matches!(scheme, "http" | "https") && rest.eq_ignore_ascii_case(host)
            })
        }
    }
}

/// Headers every response carries. Pages get a Content-Security-Policy
/// with the nonce their shell used for its inline scripts, and are never
/// cached (they hold the signed-in user's data); everything else gets a
/// policy that allows nothing.
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
        None => {
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
            );
        }
    }
    response
}

/// What a page may load: its own origin, its inline scripts with this
/// nonce, and WebAssembly.
fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data: blob:; connect-src 'self' ws: wss:; \
         font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
         frame-ancestors 'none'"
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> http::HeaderMap {
        pairs.iter().map(|(k, v)| (http::HeaderName::from_static(k), HeaderValue::from_static(v))).collect()
    }

    #[test]
    fn origin_must_match_host_or_public_origin() {
        let by_host = OriginPolicy { public_origin: None };
        assert!(is_same_origin(
            &by_host,
            &headers(&[("host", "127.0.0.1:3000"), ("origin", "http://127.0.0.1:3000")])
        ));
        assert!(!is_same_origin(
            &by_host,
            &headers(&[("host", "127.0.0.1:3000"), ("origin", "http://evil.example")])
        ));
        assert!(!is_same_origin(&by_host, &headers(&[("host", "127.0.0.1:3000"), ("origin", "null")])));
        assert!(!is_same_origin(&by_host, &headers(&[("sec-fetch-site", "cross-site")])));
        assert!(!is_same_origin(&by_host, &headers(&[("sec-fetch-site", "same-site")])));
        assert!(is_same_origin(&by_host, &headers(&[])));
        let public = OriginPolicy { public_origin: Some("https://chat.example.org".into()) };
        assert!(is_same_origin(
            &public,
            &headers(&[("host", "10.0.0.5"), ("origin", "https://chat.example.org")])
        ));
        assert!(!is_same_origin(&public, &headers(&[("host", "10.0.0.5"), ("origin", "http://10.0.0.5")])));
    }
}
