//! Starts the real server on a random port with a fresh database and talks
//! to it as a browser's fetch would.
//!
//! The database is an SQLite file in a temporary directory, or, when
//! `SALON_TEST_POSTGRES_URL` names a PostgreSQL server, a database of its
//! own created there for the test (and dropped after it). A configured
//! server that cannot be reached fails the test.

#![allow(dead_code)]

use app::domain::protocol::{ClientFrame, ServerFrame};
use app::domain::{Message, RoomId, Seq};
use futures_util::{SinkExt, StreamExt};
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;
use server::config::Config;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// The environment variable naming the PostgreSQL server to test on.
pub const POSTGRES_ENV: &str = "SALON_TEST_POSTGRES_URL";

/// A fresh, empty database for one test.
pub struct TestDatabase {
    /// Its URL; `None` for the SQLite file the server makes in its data
    /// directory.
    pub url: Option<String>,
    /// The PostgreSQL server and the database's name, to drop it.
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// The SQLite file in the server's data directory, whichever engine
    /// the other tests run on (for what only SQLite does).
    pub fn sqlite() -> Self {
        Self { url: None, postgres: None }
    }

    pub async fn fresh() -> Self {
        let Ok(server) = std::env::var(POSTGRES_ENV) else {
            return Self { url: None, postgres: None };
        };
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!("salon_test_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        let server = server.trim_end_matches('/').to_owned();
        let mut admin = admin_connection(&server).await;
        sqlx::Executor::execute(&mut admin, format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
            .await
            .expect("dropping a leftover test database");
        sqlx::Executor::execute(&mut admin, format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("creating a test database");
        Self { url: Some(format!("{server}/{name}")), postgres: Some((server, name)) }
    }

    /// A URL for `app::store::Store::open`: PostgreSQL's, or an SQLite file
    /// in `dir`.
    pub fn url_in(&self, dir: &std::path::Path) -> String {
        self.url.clone().unwrap_or_else(|| format!("sqlite://{}", dir.join("salon.db").display()))
    }
}

async fn admin_connection(server: &str) -> sqlx::PgConnection {
    use sqlx::Connection;
    match sqlx::PgConnection::connect(&format!("{server}/postgres")).await {
        Ok(connection) => connection,
        Err(error) => panic!("{POSTGRES_ENV} is set to {server} but it cannot be reached: {error}"),
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((server, name)) = self.postgres.take() else { return };
        // Dropped from a test's runtime: on a thread with a runtime of its own.
        let dropped = std::thread::spawn(move || {
            let runtime =
                tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            runtime.block_on(async {
                let mut admin = admin_connection(&server).await;
                let _ = sqlx::Executor::execute(
                    &mut admin,
                    format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str(),
                )
                .await;
            });
        });
        let _ = dropped.join();
    }
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    /// What it was started with (another instance starts with the same).
    config: Config,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    _temp: Option<tempfile::TempDir>,
    database: Option<TestDatabase>,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_configured(|_| {}).await
    }

    /// Starts a server without abuse limits, for tests that post in bulk
    /// (faster than anyone may).
    pub async fn start_unlimited() -> Self {
        Self::start_configured(|config| config.rate_limits = false).await
    }

    /// Starts a server on a fresh database, with settings changed by
    /// `configure` (its database URL is the fresh database's).
    pub async fn start_configured(configure: impl FnOnce(&mut Config)) -> Self {
        Self::start_on_database(TestDatabase::fresh().await, configure).await
    }

    /// Starts a server on `database` (fresh), with settings changed by
    /// `configure`.
    pub async fn start_on_database(database: TestDatabase, configure: impl FnOnce(&mut Config)) -> Self {
        let temp = tempfile::tempdir().expect("temporary directory");
        let mut config = Config::for_data_dir(temp.path().to_path_buf());
        config.database_url = database.url.clone();
        configure(&mut config);
        let mut server = Self::start_with(config).await;
        server._temp = Some(temp);
        server.database = Some(database);
        server
    }

    /// Starts a server again on what an earlier one left (to test
    /// restarts): its data directory and database.
    pub async fn restart(data_dir: PathBuf, database: Option<TestDatabase>) -> Self {
        let url = database.as_ref().and_then(|database| database.url.clone());
        let mut server = Self::start_on(data_dir, url).await;
        server.database = database;
        server
    }

    async fn start_on(data_dir: PathBuf, database_url: Option<String>) -> Self {
        let mut config = Config::for_data_dir(data_dir);
        config.database_url = database_url;
        Self::start_with(config).await
    }

    async fn start_with(config: Config) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local address");
        let (stop, stopped) = oneshot::channel::<()>();
        let data_dir = config.data_dir.clone();
        let kept = config.clone();
        let task = tokio::spawn(async move {
            server::serve(config, listener, async {
                let _ = stopped.await;
            })
            .await
            .expect("server runs");
        });
        let server = Self {
            addr,
            data_dir,
            config: kept,
            stop: Some(stop),
            task: Some(task),
            _temp: None,
            database: None,
        };
        server.wait_ready().await;
        server
    }

    async fn wait_ready(&self) {
        let client = Client::new();
        for _ in 0..200 {
            if client.get(self.url("/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("server did not become ready");
    }

    /// Stops the server and gives back what it ran on, kept for
    /// [`TestServer::restart`]: its data directory (and the temporary
    /// directory holding it) and its database.
    pub async fn stop(mut self) -> (PathBuf, Option<tempfile::TempDir>, Option<TestDatabase>) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task");
        }
        (self.data_dir.clone(), self._temp.take(), self.database.take())
    }

    /// What it was started with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Another instance on this server's database (and data directory, and
    /// Redis channel), as a second machine behind the same address would be.
    pub async fn another_instance(&self) -> TestServer {
        self.another_instance_with(|_| {}).await
    }

    /// Another instance, with settings changed by `configure`.
    pub async fn another_instance_with(&self, configure: impl FnOnce(&mut Config)) -> TestServer {
        let mut config = self.config.clone();
        configure(&mut config);
        Self::start_with(config).await
    }

    /// A connection to the server's database, to check what it stored.
    pub async fn database(&self) -> sqlx::AnyConnection {
        let url = self.database.as_ref().expect("the server's database").url_in(&self.data_dir);
        sqlx::any::install_default_drivers();
        <sqlx::AnyConnection as sqlx::Connection>::connect(&url).await.expect("the server's database")
    }

    /// Makes the session whose cookie is `session` expired, as a month
    /// without a visit would (the instances sweep it as they start).
    pub async fn expire_session(&self, session: &str) {
        let mut database = self.database().await;
        sqlx::query("UPDATE sessions SET expires_at = 0 WHERE id = $1")
            .bind(session)
            .execute(&mut database)
            .await
            .expect("the session expired");
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A client with its own cookie jar: one browser.
    pub fn browser(&self) -> Browser {
        Browser::new(self.url(""))
    }
}

#[derive(Clone)]
pub struct Browser {
    pub base: String,
    pub client: Client,
    jar: std::sync::Arc<reqwest::cookie::Jar>,
}

impl Browser {
    /// The same browser (cookies and all) talking to another instance.
    pub fn at(&self, server: &TestServer) -> Browser {
        Browser { base: server.url(""), ..self.clone() }
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub json: Value,
}

impl Reply {
    async fn from(response: Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Self { status, headers, json }
    }

    /// The `problem` reported for `field`, if any.
    pub fn problem(&self, field: &str) -> Option<String> {
        self.json["fields"]
            .as_array()?
            .iter()
            .find(|f| f["field"] == field)
            .map(|f| f["problem"].as_str().unwrap_or_default().to_owned())
    }

    pub fn error(&self) -> &str {
        self.json["error"].as_str().unwrap_or_default()
    }
}

impl Browser {
    fn new(base: String) -> Self {
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        let client = Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self { base, client, jar }
    }

    /// The session cookie's value, if the browser holds one.
    pub fn session_cookie(&self) -> Option<String> {
        use reqwest::cookie::CookieStore;
        let url = self.base.parse().expect("base url");
        let header = self.jar.cookies(&url)?;
        header
            .to_str()
            .ok()?
            .split("; ")
            .find_map(|pair| pair.strip_prefix("salon_session=").map(str::to_owned))
    }

    pub fn jar_add(&self, cookie: &str) {
        self.jar.add_cookie_str(cookie, &self.base.parse().expect("base url"));
    }

    /// Another browser that holds a copy of this one's session cookie.
    pub fn clone_session(&self) -> Browser {
        let copy = Browser::new(self.base.clone());
        if let Some(cookie) = self.session_cookie() {
            copy.jar_add(&format!("salon_session={cookie}"));
        }
        copy
    }

    /// Calls a server function with form-encoded arguments, as a browser
    /// on the same origin would.
    pub async fn call(&self, function: &str, args: &[(&str, &str)]) -> Reply {
        let response = self
            .client
            .post(format!("{}/api/{function}", self.base))
            .header("origin", &self.base)
            .form(args)
            .send()
            .await
            .expect("request");
        Reply::from(response).await
    }

    /// Loads a page as a browser does (asking for HTML).
    pub async fn get(&self, path: &str) -> Reply {
        let request = self.client.get(format!("{}{path}", self.base)).header("accept", "text/html");
        Reply::from(request.send().await.expect("request")).await
    }

    pub async fn register(&self, username: &str, password: &str) -> Reply {
        let email = format!("{username}@example.com");
        self.call(
            "register",
            &[
                ("username", username),
                ("email", &email),
                ("password", password),
                ("password_confirm", password),
            ],
        )
        .await
    }

    pub async fn login(&self, login: &str, password: &str) -> Reply {
        self.call("login", &[("login", login), ("password", password)]).await
    }

    /// Changes the password (the new one typed twice).
    pub async fn change_password(&self, current: &str, new: &str) -> Reply {
        self.call("password", &[("current_password", current), ("password", new), ("password_confirm", new)])
            .await
    }

    pub async fn account(&self) -> Value {
        let reply = self.call("account", &[]).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
        reply.json
    }

    pub async fn upload_avatar(&self, bytes: Vec<u8>, file_name: &str) -> Reply {
        let form = reqwest::multipart::Form::new()
            .part("avatar", reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_owned()));
        let response = self
            .client
            .post(format!("{}/api/avatar", self.base))
            .header("origin", &self.base)
            .multipart(form)
            .send()
            .await
            .expect("request");
        Reply::from(response).await
    }
}

impl Browser {
    /// Uploads a file to attach in `room`, as the composer does: the file
    /// as the whole body.
    pub async fn upload(&self, room: i64, name: &str, bytes: Vec<u8>) -> Reply {
        let response = self
            .client
            .post(format!("{}{}", self.base, app::domain::UPLOAD_PATH))
            .query(&[("room", room.to_string().as_str()), ("name", name)])
            .header("origin", &self.base)
            .body(bytes)
            .send()
            .await
            .expect("request");
        Reply::from(response).await
    }

    /// Fetches a file: its status, headers and bytes.
    pub async fn fetch(&self, path: &str) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
        let response = self.client.get(format!("{}{path}", self.base)).send().await.expect("request");
        let (status, headers) = (response.status(), response.headers().clone());
        (status, headers, response.bytes().await.expect("body").to_vec())
    }
}

pub const PASSWORD: &str = "a long enough secret";

/// A PNG of the given size, in memory.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let image =
        image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 120]));
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png).expect("encode png");
    out.into_inner()
}

impl Browser {
    /// Creates a room and returns its id.
    pub async fn create_room(&self, name: &str, visibility: &str) -> i64 {
        let reply =
            self.call("create_room", &[("name", name), ("topic", ""), ("visibility", visibility)]).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
        reply.json["id"].as_i64().expect("a room id")
    }

    pub async fn join_room(&self, room: i64) -> Reply {
        self.call("join_room", &[("room", &room.to_string())]).await
    }

    /// Posts a message over HTTP and returns its sequence number.
    pub async fn post(&self, room: i64, client_id: &str, body: &str) -> i64 {
        let reply = self
            .call("post_message", &[("room", &room.to_string()), ("client_id", client_id), ("body", body)])
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
        reply.json["seq"].as_i64().expect("a sequence number")
    }

    /// Opens this browser's WebSocket, as a page of this site would.
    pub async fn socket(&self) -> Socket {
        let origin = self.base.clone();
        self.socket_from(Some(&origin)).await.expect("the socket opens")
    }

    /// Opens the WebSocket with the given `Origin` (or none).
    pub async fn socket_from(
        &self,
        origin: Option<&str>,
    ) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
        self.open_socket(origin, false).await
    }

    /// A socket with a tiny receive buffer, for a client that stops reading.
    pub async fn slow_socket(&self) -> Socket {
        let origin = self.base.clone();
        self.open_socket(Some(&origin), true).await.expect("the socket opens")
    }

    async fn open_socket(
        &self,
        origin: Option<&str>,
        slow: bool,
    ) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
        let mut socket = self.connect(origin, slow).await?;
        match socket.next().await {
            ServerFrame::Hello { .. } => Ok(socket),
            other => panic!("expected hello, got {other:?}"),
        }
    }

    /// The WebSocket, connected, before its hello.
    async fn connect(
        &self,
        origin: Option<&str>,
        slow: bool,
    ) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let url = format!("{}/ws?v=1", self.base.replacen("http", "ws", 1));
        let mut request = url.into_client_request()?;
        if let Some(cookie) = self.session_cookie() {
            request
                .headers_mut()
                .insert("cookie", format!("salon_session={cookie}").parse().expect("header"));
        }
        if let Some(origin) = origin {
            request.headers_mut().insert("origin", origin.parse().expect("header"));
        }
        let tcp = tokio::net::TcpSocket::new_v4()?;
        if slow {
            // A tiny receive window: the server's writes back up at once.
            tcp.set_recv_buffer_size(4096)?;
        }
        let host = self.base.trim_start_matches("http://").parse().expect("a socket address");
        let stream = tcp.connect(host).await?;
        let (stream, _) =
            tokio_tungstenite::client_async(request, tokio_tungstenite::MaybeTlsStream::Plain(stream))
                .await?;
        Ok(Socket { stream })
    }

    /// Opens this browser's WebSocket, unless the server closes it before
    /// its hello (as an instance relinking to Redis closes every socket
    /// to have its tab resume): `None`, and the tab tries again.
    pub async fn try_socket(&self) -> Option<Socket> {
        let origin = self.base.clone();
        let mut socket = self.connect(Some(&origin), false).await.ok()?;
        match socket.try_next(PATIENCE).await? {
            ServerFrame::Hello { .. } => Some(socket),
            other => panic!("expected hello, got {other:?}"),
        }
    }
}

/// A test's WebSocket client.
pub struct Socket {
    pub stream: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
}

/// How long a test waits for a frame that must come.
pub const PATIENCE: Duration = Duration::from_secs(20);

impl Socket {
    pub async fn send(&mut self, frame: &ClientFrame) {
        let text = serde_json::to_string(frame).expect("encode");
        self.stream.send(WsMessage::text(text)).await.expect("send a frame");
    }

    /// The next frame; fails the test if none comes in time.
    pub async fn next(&mut self) -> ServerFrame {
        self.try_next(PATIENCE).await.expect("a frame in time")
    }

    /// The next frame, or `None` if none comes within `wait` or the
    /// socket closes.
    pub async fn try_next(&mut self, wait: Duration) -> Option<ServerFrame> {
        loop {
            let message = tokio::time::timeout(wait, self.stream.next()).await.ok()??.ok()?;
            match message {
                WsMessage::Text(text) => return Some(serde_json::from_str(&text).expect("a server frame")),
                WsMessage::Close(_) => return None,
                _ => continue,
            }
        }
    }

    /// The close code the server sends within `wait` (other frames are
    /// skipped; 1006 if the connection just drops), or `None` if the socket
    /// stays open.
    pub async fn close_code(&mut self, wait: Duration) -> Option<u16> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.stream.next()).await.ok()? {
                Some(Ok(WsMessage::Close(frame))) => return Some(frame.map_or(1005, |f| u16::from(f.code))),
                Some(Ok(_)) => continue,
                _ => return Some(1006),
            }
        }
    }

    /// Subscribes to `room` and returns the catch-up (what came after
    /// `after`).
    pub async fn subscribe(&mut self, room: i64, after: Option<Seq>) -> Vec<Message> {
        self.send(&ClientFrame::Subscribe { room: RoomId(room), after }).await;
        self.until(|frame| match frame {
            ServerFrame::Subscribed { messages, .. } => Some(messages),
            ServerFrame::SubscribeFailed { error, .. } => panic!("subscribe refused: {error:?}"),
            _ => None,
        })
        .await
    }

    /// The next live message (other frames are skipped).
    pub async fn next_message(&mut self) -> Message {
        self.until(|frame| match frame {
            ServerFrame::Message { message } => Some(message),
            _ => None,
        })
        .await
    }

    /// Skips frames until one matches.
    pub async fn until<T>(&mut self, mut pick: impl FnMut(ServerFrame) -> Option<T>) -> T {
        loop {
            if let Some(found) = pick(self.next().await) {
                return found;
            }
        }
    }
}

impl Browser {
    /// Registers `username` and returns their user id.
    pub async fn sign_up(&self, username: &str) -> i64 {
        let reply = self.register(username, PASSWORD).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
        self.account().await["id"].as_i64().expect("a user id")
    }

    /// Calls a server function that must succeed.
    pub async fn ok(&self, function: &str, args: &[(&str, &str)]) -> Value {
        let reply = self.call(function, args).await;
        assert_eq!(reply.status, StatusCode::OK, "{function} {args:?}: {:?}", reply.json);
        reply.json
    }
}

/// The environment variable naming the Redis server to test on.
pub const REDIS_ENV: &str = "SALON_TEST_REDIS_URL";

/// The Redis server the tests use (this machine's by default); one that
/// cannot be reached fails the test.
pub async fn redis_url() -> String {
    let url = std::env::var(REDIS_ENV).unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let answered = async {
        let client = redis::Client::open(url.as_str())?;
        let mut connection = client.get_multiplexed_async_connection().await?;
        redis::cmd("PING").query_async::<String>(&mut connection).await
    };
    match tokio::time::timeout(Duration::from_secs(5), answered).await {
        Ok(Ok(_)) => url,
        Ok(Err(error)) => panic!("Redis at {url} ({REDIS_ENV}) cannot be reached: {error}"),
        Err(_) => panic!("Redis at {url} ({REDIS_ENV}) does not answer"),
    }
}

/// A name no other test (or test process) uses.
pub fn unique_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!("{prefix}_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A TCP proxy in front of a server (Redis, PostgreSQL) that a test can
/// take away: an outage cuts every connection through it and refuses new
/// ones, as a restarting server does.
pub struct Proxy {
    /// The URL it was made for, pointing at the proxy.
    pub url: String,
    down: std::sync::Arc<std::sync::atomic::AtomicBool>,
    links: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
    accepting: JoinHandle<()>,
}

impl Proxy {
    /// A proxy to the server `url` names (`scheme://[user@]host:port[/…]`).
    pub async fn to(url: &str) -> Proxy {
        use std::sync::atomic::Ordering;
        let mut proxied = reqwest::Url::parse(url).expect("a server URL");
        let host = proxied.host_str().expect("a host").to_owned();
        let port = proxied.port().unwrap_or(match proxied.scheme() {
            "postgres" | "postgresql" => 5432,
            _ => 6379,
        });
        let target = tokio::net::lookup_host((host.as_str(), port))
            .await
            .expect("the host resolves")
            .next()
            .expect("an address");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let local = listener.local_addr().expect("local address");
        proxied.set_host(Some("127.0.0.1")).expect("a host");
        proxied.set_port(Some(local.port())).expect("a port");
        let down = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let links = std::sync::Arc::new(std::sync::Mutex::new(Vec::<tokio::task::AbortHandle>::new()));
        let accepting = tokio::spawn({
            let (down, links) = (down.clone(), links.clone());
            async move {
                while let Ok((mut client, _)) = listener.accept().await {
                    // Checked and registered under the lock that `cut`
                    // takes: no link slips through an outage.
                    let mut links = links.lock().expect("links");
                    if down.load(Ordering::SeqCst) {
                        continue; // dropped: the connection is refused
                    }
                    let link = tokio::spawn(async move {
                        if let Ok(mut server) = tokio::net::TcpStream::connect(target).await {
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                        }
                    });
                    links.push(link.abort_handle());
                }
            }
        });
        Proxy { url: proxied.to_string(), down, links, accepting }
    }

    /// Cuts every connection and refuses new ones until [`Proxy::restore`].
    pub fn cut(&self) {
        self.down.store(true, std::sync::atomic::Ordering::SeqCst);
        for link in self.links.lock().expect("links").drain(..) {
            link.abort();
        }
    }

    pub fn restore(&self) {
        self.down.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accepting.abort();
        self.cut();
    }
}

impl Browser {
    /// A room's whole history, oldest first, read page by page as a
    /// scrolling tab reads it.
    pub async fn history(&self, room: i64) -> Vec<Message> {
        let mut messages = Vec::new();
        let mut before = i64::MAX.to_string();
        loop {
            let page = self.call("room_history", &[("room", &room.to_string()), ("before", &before)]).await;
            assert_eq!(page.status, StatusCode::OK, "{:?}", page.json);
            let page: app::domain::HistoryPage = serde_json::from_value(page.json).expect("a history page");
            let oldest = page.messages.first().map(|message| message.seq);
            messages.splice(0..0, page.messages);
            match oldest {
                Some(oldest) if page.has_older => before = oldest.to_string(),
                _ => return messages,
            }
        }
    }
}
