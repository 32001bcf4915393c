// Release builds keep the full view types (debug builds erase them):
// rendering and hydrating them needs a deeper limit than the default.
#![recursion_limit = "512"]

//! Salon's HTTP server: the router, its middleware, and start-up. The
//! `salon` binary parses the configuration and calls [`serve`]; the
//! integration tests call [`serve`] on port 0 with a fresh data directory.

mod account;
pub mod backup;
pub mod config;
mod files;
mod join;
mod middleware;
mod proxy;
mod pwa;
mod site;
mod socket;

use app::domain::protocol::CLOSE_RESTART;
use app::domain::UserId;
use app::services::limits::ClientAddress;
use app::services::{auth::Backend, AppState};
use app::store::Store;
use app::{shell, App};
use axum::extract::{FromRef, Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use axum::Router;
use axum_login::AuthManagerLayerBuilder;
use config::Config;
use http::header;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

pub use config::Config as SalonConfig;

/// How long a stopping instance waits for its sockets to close.
const SOCKETS_CLOSE_WITHIN: std::time::Duration = std::time::Duration::from_secs(2);

/// The router's state: Leptos' options and the services' state.
#[derive(Clone)]
struct ServerState {
    leptos: LeptosOptions,
    app: AppState,
    site: site::SitePolicy,
    worker: pwa::ServiceWorker,
    /// Set once the instance is stopping: it is no longer ready.
    draining: Arc<AtomicBool>,
}

impl FromRef<ServerState> for pwa::ServiceWorker {
    fn from_ref(state: &ServerState) -> Self {
        state.worker.clone()
    }
}

impl FromRef<ServerState> for LeptosOptions {
    fn from_ref(state: &ServerState) -> Self {
        state.leptos.clone()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot create the data directory {0}: {1}")]
    DataDir(std::path::PathBuf, std::io::Error),
    #[error("cannot open the database: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Services(#[from] app::services::StartError),
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
    #[error("invalid Redis URL: {0}")]
    Redis(redis::RedisError),
    #[error(transparent)]
    PublicOrigin(site::BadPublicOrigin),
    #[error("cannot send mail: {0}")]
    Mail(String),
    #[error("invalid Leptos settings: {0}")]
    Leptos(String),
    #[error("server error: {0}")]
    Serve(std::io::Error),
}

/// Opens the database, applies migrations, links to the other instances
/// (with Redis) and builds the whole router.
async fn router(config: &Config, draining: Arc<AtomicBool>) -> Result<(Router, AppState), StartError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|e| StartError::DataDir(config.data_dir.clone(), e))?;
    let store = Store::open(&config.database_url()).await?;
    match store.admin_names().await {
        Ok(names) if names.is_empty() => {
            tracing::info!("no account yet: the first one created will administer this Salon")
        }
        Ok(names) => tracing::info!(admins = %names.join(", "), "this Salon's administrators"),
        Err(error) => tracing::warn!(%error, "cannot read who administers this Salon"),
    }
    let settings = app::services::Settings {
        secure_cookies: config.secure_cookies(),
        rate_limits: config.rate_limits,
        files: config.files_dir(),
        attachment_max_bytes: config.attachment_max_bytes(),
        vapid_key: config.vapid_private_key.clone(),
        push_contact: config.push_contact(),
        push_allow_http: config.push_allow_http,
        mail: match &config.smtp_url {
            Some(url) => Some(
                app::services::mail::Mailer::new(url, &config.smtp_from, &config.link_origin())
                    .map_err(StartError::Mail)?,
            ),
            None => None,
        },
    };
    let state = AppState::new(store.clone(), settings).await?;
    if let Some(url) = &config.redis_url {
        app::services::cluster::start(state.hub.clone(), url, &config.redis_channel)
            .map_err(StartError::Redis)?;
    }

    tokio::spawn(continuously_delete_expired(state.clone()));
    tokio::spawn(continuously_forget_recovered(state.limits.clone()));
    tokio::spawn(files::continuously_sweep(state.clone()));
    let sessions = SessionManagerLayer::new(store.sessions())
        .with_name("salon_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.secure_cookies())
        .with_expiry(Expiry::OnInactivity(time::Duration::days(30)));
    let auth = AuthManagerLayerBuilder::new(Backend { state: state.clone() }, sessions).build();

    let mut leptos = get_configuration(None).map_err(|e| StartError::Leptos(e.to_string()))?.leptos_options;
    if leptos.output_name.is_empty() {
        leptos.output_name = "salon".into();
    }
    leptos.site_root = config.site_root.display().to_string().into();
    leptos.hash_files |= hashed_build(&leptos);
    let site = site::SitePolicy::new(config.public_origin.as_deref()).map_err(StartError::PublicOrigin)?;
    let pkg = config.site_root.join(&*leptos.site_pkg_dir);
    let worker = pwa::ServiceWorker::new(&pkg, leptos.hash_files);
    let server_state =
        ServerState { leptos: leptos.clone(), app: state.clone(), site: site.clone(), worker, draining };
    let pages = generate_route_list(App);
    let context = {
        let state = state.clone();
        move || {
            provide_context(state.clone());
            // Each request's own (see `app::ui::render_loads`).
            provide_context(app::ui::render_loads::RenderLoads::default());
        }
    };

    let routes = Router::new()
        .route("/avatars/{user}/{version}", get(avatar))
        .route(app::domain::UPLOAD_PATH, axum::routing::post(files::upload))
        .route("/files/{id}", get(files::full))
        .route("/files/{id}/thumbnail", get(files::thumbnail))
        .route("/join/{code}/qr.svg", get(join::qr))
        .route("/api/export", get(account::export))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .route("/manifest.webmanifest", get(pwa::manifest))
        .route("/sw.js", get(pwa::service_worker))
        .route(app::domain::protocol::SOCKET_PATH, get(websocket))
        .nest_service("/pkg", built_assets(&pkg, leptos.hash_files))
        .leptos_routes_with_context(&server_state, pages, context.clone(), {
            let leptos = leptos.clone();
            move || shell(leptos.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<ServerState, _>(context, shell))
        .with_state(server_state)
        .layer(axum::middleware::from_fn_with_state(state.limits.clone(), middleware::limit_requests))
        .layer(auth);
    let proxies = proxy::TrustedProxies::new(&config.trusted_proxies);
    Ok((guarded(routes, site, proxies), state))
}

/// The guards around every route, from the innermost out: body limits,
/// same-origin writes, known hosts, a 500 for a request that panics (with
/// the security headers, which wrap it), the server's timing, compression
/// and the request log, and outermost who the client is (behind a trusted
/// proxy, the address it forwarded).
fn guarded(routes: Router, site: site::SitePolicy, proxies: proxy::TrustedProxies) -> Router {
    routes
        .layer(axum::middleware::from_fn(middleware::limit_body))
        .layer(axum::middleware::from_fn_with_state(site.clone(), middleware::same_origin_writes))
        .layer(axum::middleware::from_fn_with_state(site, middleware::known_hosts))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(middleware::panicked))
        .layer(axum::middleware::from_fn(middleware::security_headers))
        .layer(axum::middleware::from_fn(middleware::server_timing))
        .layer(tower_http::compression::CompressionLayer::new().compress_when(compressed_per_request()))
        .layer(
            tower_http::trace::TraceLayer::new_for_http()
                .make_span_with(|request: &http::Request<_>| {
                    let client = request.extensions().get::<ClientAddress>().map(|client| client.0);
                    tracing::debug_span!("request", method = %request.method(), uri = %request.uri(), client = ?client)
                })
                .on_response(
                    tower_http::trace::DefaultOnResponse::new().latency_unit(tower_http::LatencyUnit::Micros),
                ),
        )
        .layer(axum::middleware::from_fn_with_state(proxies, proxy::client_address))
}

/// Whether the front end was built with hashed file names
/// (`LEPTOS_HASH_FILES=true cargo leptos build`, see `scripts/run.sh`)
/// even though this process was started without that setting: the build
/// left the hashes in a file beside the binary and no script of the plain
/// name in the site (each build empties it first).
fn hashed_build(leptos: &LeptosOptions) -> bool {
    let plain = std::path::Path::new(&*leptos.site_root)
        .join(&*leptos.site_pkg_dir)
        .join(format!("{}.js", leptos.output_name));
    let hashes = std::env::current_exe().ok().and_then(|exe| Some(exe.parent()?.join(&*leptos.hash_file)));
    !plain.exists() && hashes.is_some_and(|hashes| hashes.exists())
}

/// The built front end (`/pkg`): served as the build compressed it, at
/// brotli's and gzip's best settings (`cargo leptos build --release
/// --precompress` writes `.br` and `.gz` beside each file), picked by the
/// request's `Accept-Encoding`; a build without them (the dev server's) is
/// served as it is. How long browsers keep it: see [`cache_built_assets`].
fn built_assets(dir: &std::path::Path, hashed: bool) -> Router {
    let files = tower_http::services::ServeDir::new(dir).precompressed_br().precompressed_gzip();
    Router::new()
        .fallback_service(files)
        .layer(axum::middleware::from_fn_with_state(hashed, cache_built_assets))
}

/// Files whose names carry their content's hash (a release build made with
/// `LEPTOS_HASH_FILES=true`, see `scripts/run.sh`) never change: browsers
/// keep them a year without asking again, and a new build brings new
/// names. Without hashes (the dev server), and for wasm-bindgen's snippets,
/// whose names stay, browsers ask each time whether a file changed.
async fn cache_built_assets(
    State(hashed): State<bool>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let immutable = hashed && !request.uri().path().starts_with("/snippets/");
    let mut response = next.run(request).await;
    let cache = if immutable && response.status().is_success() {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, header::HeaderValue::from_static(cache));
    // The same name answers in brotli, gzip or neither.
    headers.insert(header::VARY, header::HeaderValue::from_static("accept-encoding"));
    response
}

/// What is compressed as it is sent: pages and answers, never the built
/// front end, whose compressed copies are made once at build time (a
/// release wasm compressed per request cost the server ≈ 145 ms of CPU per
/// download, a debug one 2.6 s), nor attachments (up to 25 MB each, often
/// compressed already, and served in ranges).
fn compressed_per_request() -> impl tower_http::compression::Predicate {
    use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};
    DefaultPredicate::new()
        .and(NotForContentType::const_new("application/wasm"))
        .and(NotForContentType::const_new("text/javascript"))
        .and(NotForContentType::const_new("text/css"))
        .and(NotForContentType::const_new(app::services::attachments::DOWNLOAD_TYPE))
}

/// Deletes expired sessions, and what ends with them, now and every hour
/// (failures are logged by the service).
async fn continuously_delete_expired(state: AppState) {
    let mut hourly = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        hourly.tick().await;
        let _ = app::services::auth::delete_expired_sessions(&state).await;
    }
}

/// Forgets, every minute, the users and addresses whose limits recovered.
async fn continuously_forget_recovered(limits: Arc<app::services::limits::Limits>) {
    let mut every_minute = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        every_minute.tick().await;
        limits.forget_recovered();
    }
}

/// Readiness: 200 while the database answers, 503 otherwise or once the
/// instance is stopping (a load balancer then sends requests to other
/// instances). `/healthz` only says the process is up.
async fn ready(State(state): State<ServerState>) -> Response {
    if state.draining.load(Ordering::Relaxed) {
        return (http::StatusCode::SERVICE_UNAVAILABLE, "stopping").into_response();
    }
    let answered = tokio::time::timeout(std::time::Duration::from_secs(2), state.app.store.ping()).await;
    match answered {
        Ok(Ok(())) => "ready".into_response(),
        Ok(Err(error)) => {
            tracing::warn!(%error, "not ready: the database does not answer");
            (http::StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
        Err(_) => {
            tracing::warn!("not ready: the database is too slow to answer");
            (http::StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}

/// Prometheus metrics (see `app::services::metrics`).
async fn metrics(State(state): State<ServerState>) -> Response {
    use app::services::metrics::{Gauges, METRICS};
    let hub = &state.app.hub;
    let gauges = Gauges { connections: hub.connection_count(), redis_connected: hub.linked() };
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], METRICS.render(&gauges))
        .into_response()
}

/// Serves an uploaded avatar. The URL names the version, so it can be
/// cached for a year; an outdated version is gone (404).
async fn avatar(State(state): State<ServerState>, Path((user, version)): Path<(i64, i64)>) -> Response {
    match state.app.store.avatar(UserId(user), version).await {
        Ok(Some(avatar)) => (
            [
                (header::CONTENT_TYPE, avatar.content_type),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable".to_owned()),
            ],
            avatar.image,
        )
            .into_response(),
        Ok(None) => middleware::error_response(app::error::AppError::NotFound),
        Err(error) => {
            tracing::error!(%error, "loading an avatar");
            middleware::error_response(app::error::AppError::Internal)
        }
    }
}

/// The live channel: see [`socket`].
async fn websocket(
    State(state): State<ServerState>,
    auth: app::services::auth::AuthSession,
    params: axum::extract::Query<socket::SocketParams>,
    headers: http::HeaderMap,
    upgrade: socket::Upgrade,
) -> Response {
    if state.draining.load(Ordering::Relaxed) {
        // Stopping: the tab tries again, through the proxy, elsewhere.
        return (http::StatusCode::SERVICE_UNAVAILABLE, "stopping").into_response();
    }
    socket::upgrade(state.app, &state.site, auth, params, &headers, upgrade).await
}

/// Builds the app and serves it on `listener` until `shutdown` completes.
/// Then the instance stops being ready and closes its sockets with
/// [`CLOSE_RESTART`], so that their tabs reconnect (to another instance
/// behind the same address) and resume, and finishes the requests under way.
pub async fn serve(
    config: Config,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let draining = Arc::new(AtomicBool::new(false));
    let (router, state) = router(&config, draining.clone()).await?;
    let shutdown = async move {
        shutdown.await;
        draining.store(true, Ordering::Relaxed);
        let hub = &state.hub;
        tracing::info!(sockets = hub.connection_count(), "stopping: sockets reconnect elsewhere");
        hub.close_all(CLOSE_RESTART);
        // A moment for the close frames to go out.
        let deadline = tokio::time::Instant::now() + SOCKETS_CLOSE_WITHIN;
        while hub.connection_count() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        // The other instances hear that these users left.
        hub.relayed().await;
    };
    // Chat frames are small and must go out at once: without TCP_NODELAY,
    // Nagle's algorithm and delayed acknowledgements hold some for up to
    // 40 ms (seen as the p99 of send→receive latency).
    let listener = listener.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY");
        }
    });
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(StartError::Serve)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::ServiceExt;

    #[tokio::test]
    async fn a_request_that_panics_gets_a_500_with_the_usual_body() {
        let site = site::SitePolicy::new(None).expect("no public origin");
        async fn boom() -> &'static str {
            panic!("boom")
        }
        let boom = Router::new().route("/boom", get(boom));
        let request = http::Request::get("/boom").header("host", "127.0.0.1").body(axum::body::Body::empty());
        let response = guarded(boom, site, proxy::TrustedProxies::default())
            .oneshot(request.expect("a request"))
            .await
            .expect("an answer");
        assert_eq!(response.status(), http::StatusCode::INTERNAL_SERVER_ERROR);
        assert!(response.headers().contains_key(header::CONTENT_SECURITY_POLICY));
        let body = axum::body::to_bytes(response.into_body(), 1024).await.expect("a body");
        assert_eq!(
            serde_json::from_slice::<app::error::AppError>(&body).ok(),
            Some(app::error::AppError::Internal)
        );
    }
}
