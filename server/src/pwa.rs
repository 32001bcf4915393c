//! What makes Salon an installable app: its web app manifest, in the
//! reader's language, and its service worker, which keeps this release's
//! front end and the pages last seen for offline starts (`sw.js`).

use app::i18n::Lang;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{header, HeaderMap, HeaderValue};
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::Arc;

/// The service worker, with this release's files filled in.
#[derive(Clone)]
pub struct ServiceWorker(Arc<str>);

/// Files every release keeps offline beside the built front end.
const ICONS: [&str; 4] =
    ["/favicon.svg", "/icons/icon-192.png", "/icons/icon-512.png", "/icons/maskable-512.png"];

impl ServiceWorker {
    /// Reads the built front end in `pkg` (served at `/pkg`; `hashed`:
    /// its file names carry their content's hash). The release's name is a
    /// hash of what it holds, so a new build makes a new worker, which
    /// browsers find at the next launch.
    pub fn new(pkg: &Path, hashed: bool) -> Self {
        let mut files = Vec::new();
        list_built(pkg, "/pkg", &mut files);
        files.sort();
        let mut release = std::hash::DefaultHasher::new();
        for (url, len, modified) in &files {
            (url, len).hash(&mut release);
            // Unhashed names (the dev server's) keep their name when
            // rebuilt: the time tells the builds apart.
            if !hashed {
                modified.hash(&mut release);
            }
        }
        let urls: Vec<&str> = ICONS.into_iter().chain(files.iter().map(|(url, ..)| url.as_str())).collect();
        let script = include_str!("sw.js")
            .replace("__RELEASE__", &format!("\"{:016x}\"", release.finish()))
            .replace("__SHELL_FILES__", &serde_json::to_string(&urls).unwrap_or_else(|_| "[]".into()))
            .replace("__HASHED__", if hashed { "true" } else { "false" });
        Self(script.into())
    }
}

/// The built files under `dir` that pages load, as (URL, size,
/// modification time): not the compressed copies served in their place,
/// nor wasm-bindgen's TypeScript declarations.
fn list_built(dir: &Path, url: &str, files: &mut Vec<(String, u64, Option<std::time::SystemTime>)>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(meta) = entry.metadata() else { continue };
        if meta.is_dir() {
            list_built(&entry.path(), &format!("{url}/{name}"), files);
        } else if [".js", ".wasm", ".css"].iter().any(|kind| name.ends_with(kind)) {
            files.push((format!("{url}/{name}"), meta.len(), meta.modified().ok()));
        }
    }
}

/// `/sw.js`: asked for again at every launch (never from the HTTP cache),
/// and allowed to fetch from this site only.
pub async fn service_worker(State(worker): State<ServiceWorker>) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'self'")),
        ],
        worker.0.to_string(),
    )
        .into_response()
}

/// `/manifest.webmanifest`, in the language the request asks for.
pub async fn manifest(headers: HeaderMap) -> Response {
    let lang = Lang::of_request(&headers);
    let t = lang.texts();
    let icon = |src: &str, sizes: &str, kind: &str, purpose: &str| serde_json::json!({ "src": src, "sizes": sizes, "type": kind, "purpose": purpose });
    let manifest = serde_json::json!({
        "id": "/",
        "name": t.app_name,
        "short_name": t.app_name,
        "description": t.tagline,
        "lang": lang.code(),
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#f4f5f9",
        "theme_color": "#ffffff",
        "icons": [
            icon("/icons/icon-192.png", "192x192", "image/png", "any"),
            icon("/icons/icon-512.png", "512x512", "image/png", "any"),
            icon("/icons/maskable-512.png", "512x512", "image/png", "maskable"),
            icon("/favicon.svg", "any", "image/svg+xml", "any"),
        ],
        "shortcuts": [
            { "name": t.rooms, "url": "/", "icons": [icon("/icons/icon-192.png", "192x192", "image/png", "any")] },
            { "name": t.friends, "url": "/friends", "icons": [icon("/icons/icon-192.png", "192x192", "image/png", "any")] },
        ],
        "screenshots": [
            { "src": "/screenshots/wide.png", "sizes": "1280x800", "type": "image/png", "form_factor": "wide", "label": t.tagline },
            { "src": "/screenshots/narrow.png", "sizes": "360x740", "type": "image/png", "form_factor": "narrow", "label": t.tagline },
        ],
    });
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/manifest+json")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (header::VARY, HeaderValue::from_static("accept-language, cookie")),
        ],
        manifest.to_string(),
    )
        .into_response()
}
