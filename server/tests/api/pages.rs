//! Pages and request guards: redirects, security headers, cross-origin
//! refusals, languages.

use crate::support::{TestServer, PASSWORD};
use reqwest::StatusCode;

#[tokio::test]
async fn pages_that_need_a_user_redirect_to_sign_in_and_back() {
    let server = TestServer::start().await;
    let visitor = server.browser();
    let home = visitor.get("/").await;
    assert!(home.status.is_redirection(), "{}", home.status);
    assert_eq!(home.headers["location"], "/login");
    let profile = visitor.get("/profile").await;
    assert!(profile.status.is_redirection());
    assert_eq!(profile.headers["location"], "/login?next=/profile");
    assert_eq!(visitor.get("/login").await.status, StatusCode::OK);

    let user = server.browser();
    user.register("alice", PASSWORD).await;
    let home = user.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.json.as_str().unwrap().contains("alice"), "the home page shows who is signed in");
    let login = user.get("/login?next=/profile").await;
    assert!(login.status.is_redirection());
    assert_eq!(login.headers["location"], "/profile");
    let register = user.get("/register?next=//evil.example").await;
    assert_eq!(register.headers["location"], "/", "never redirects off-site");
}

#[tokio::test]
async fn unknown_pages_are_404() {
    let server = TestServer::start().await;
    assert_eq!(server.browser().get("/no/such/page").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn pages_carry_security_headers() {
    let server = TestServer::start().await;
    let page = server.browser().get("/login").await;
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("script-src 'self' 'nonce-"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(csp.contains("connect-src 'self';"), "only the site's own socket: {csp}");
    let nonce = csp.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).unwrap();
    assert!(
        page.json.as_str().unwrap().contains(&format!("nonce=\"{nonce}\"")),
        "inline scripts carry the nonce"
    );
    assert_eq!(page.headers["x-content-type-options"], "nosniff");
    assert_eq!(page.headers["referrer-policy"], "same-origin");
    assert_eq!(page.headers["x-frame-options"], "DENY");

    let api = server.browser().call("account", &[]).await;
    assert_eq!(api.headers["x-content-type-options"], "nosniff");
    assert!(api.headers["content-security-policy"].to_str().unwrap().contains("default-src 'none'"));
}

#[tokio::test]
async fn state_changes_from_another_origin_are_refused() {
    let server = TestServer::start().await;
    let browser = server.browser();
    let send = |origin: Option<&'static str>, fetch_site: Option<&'static str>| {
        let mut request = browser.client.post(server.url("/api/register")).form(&[
            ("username", "mallory"),
            ("email", "m@example.com"),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
        ]);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        if let Some(site) = fetch_site {
            request = request.header("sec-fetch-site", site);
        }
        request.send()
    };
    let foreign = send(Some("http://evil.example"), None).await.unwrap();
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    assert_eq!(foreign.json::<serde_json::Value>().await.unwrap()["error"], "forbidden");
    assert_eq!(send(None, Some("cross-site")).await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(send(Some("null"), None).await.unwrap().status(), StatusCode::FORBIDDEN);
    assert!(browser.account().await.is_null());
    assert_eq!(
        server.browser().login("mallory", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED,
        "no account was created"
    );

    let upload = browser
        .client
        .post(server.url("/api/avatar"))
        .header("origin", "http://evil.example")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(upload.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_language_follows_the_browser_and_the_cookie() {
    let server = TestServer::start().await;
    let client = &server.browser().client;
    let french = client
        .get(server.url("/login"))
        .header("accept-language", "fr-FR,fr;q=0.9,en;q=0.5")
        .send()
        .await
        .unwrap();
    let html = french.text().await.unwrap();
    assert!(html.contains("lang=\"fr\""), "html lang follows Accept-Language");
    assert!(html.contains("Se connecter"));

    let chosen = client
        .get(server.url("/login"))
        .header("accept-language", "fr")
        .header("cookie", "lang=en")
        .send()
        .await
        .unwrap();
    let html = chosen.text().await.unwrap();
    assert!(html.contains("lang=\"en\"") && html.contains("Sign in"), "the remembered choice wins");
}

/// Regression: a signal read by `<Title>` after the page's owner was gone
/// panicked under concurrent rendering and left requests hanging.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pages_render_under_concurrent_load() {
    let server = TestServer::start().await;
    let user = server.browser();
    user.register("busy", PASSWORD).await;
    let user = std::sync::Arc::new(user);
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..16 {
        let user = user.clone();
        tasks.spawn(async move {
            for n in 0..20 {
                let path = ["/profile", "/", "/u/busy", "/profile"][(worker + n) % 4];
                let page = tokio::time::timeout(std::time::Duration::from_secs(10), user.get(path))
                    .await
                    .unwrap_or_else(|_| panic!("{path} did not answer within 10 s"));
                assert_eq!(page.status, StatusCode::OK, "{path}");
            }
        });
    }
    while let Some(result) = tasks.join_next().await {
        result.expect("worker");
    }
}

/// Markup that would do something if a page wrote it as markup: end the
/// title or a script, add a redirecting `<meta>`, run a handler.
const HOSTILE_ROOM: &str = "</title></script><meta http-equiv=refresh>";
const HOSTILE_NAME: &str = "</title><meta http-equiv=refresh content=0;//other.site/x>";
const HOSTILE_TEXT: &str =
    "</script><img src=x onerror=alert(1)> \"quoted' https://example.org/\"onmouseover=\"x";

/// Every string a user controls, in every server-rendered page that shows
/// it (head, body, attributes and the data the page hydrates from), is
/// there only as text.
#[tokio::test]
async fn hostile_markup_reaches_pages_only_as_text() {
    let server = TestServer::start().await;
    let alice = server.browser();
    let alice_id = alice.sign_up("alice").await.to_string();
    alice.ok("profile", &[("display_name", HOSTILE_NAME), ("email", "alice@example.com")]).await;
    let room = alice.create_room("calm", "public").await;
    let room_id = room.to_string();
    alice
        .ok(
            "room_settings",
            &[("room", &room_id), ("name", HOSTILE_ROOM), ("topic", HOSTILE_TEXT), ("visibility", "public")],
        )
        .await;
    alice.post(room, "hostile-1", HOSTILE_TEXT).await;
    let bob = server.browser();
    bob.sign_up("bob").await;
    assert_eq!(bob.join_room(room).await.status, StatusCode::OK);
    let direct = bob.ok("direct", &[("user", &alice_id)]).await["id"].as_i64().expect("a conversation");

    let pages = [
        (&bob, format!("/rooms/{room}"), Some(HOSTILE_ROOM)),
        (&bob, "/u/alice".to_owned(), Some(HOSTILE_NAME)),
        (&bob, format!("/rooms/{direct}"), Some(HOSTILE_NAME)),
        (&bob, "/".to_owned(), None),
        (&alice, "/".to_owned(), None),
        (&alice, "/profile".to_owned(), None),
        (&bob, "/friends".to_owned(), None),
    ];
    for (who, path, title) in pages {
        let page = who.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        let html = page.json.as_str().expect("a page");
        for hostile in
            [HOSTILE_ROOM, HOSTILE_NAME, HOSTILE_TEXT, "<meta http-equiv", "<img src=x", "</title></"]
        {
            assert!(!html.contains(hostile), "{path} contains {hostile:?} as markup");
        }
        assert_eq!(html.matches("<title>").count(), 1, "{path}: one title");
        assert_eq!(html.matches("</title>").count(), 1, "{path}: one title");
        if let Some(title) = title {
            let escaped = title.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
            assert!(html.contains(&format!("<title>{escaped} · Salon</title>")), "{path}: the title is text");
        }
    }
}

/// What `?next=` may send a signed-in browser to: only this site, however
/// the path is disguised, and never a server error.
#[tokio::test]
async fn sign_in_sends_only_to_this_site() {
    let server = TestServer::start().await;
    let user = server.browser();
    user.sign_up("nina").await;
    let cases = [
        ("/profile", "/profile"),
        ("/rooms/1%3Fx", "/rooms/1?x"),
        ("/%09/other.site/x", "/"),
        ("/%0a/other.site/x", "/"),
        ("/%0d/other.site/x", "/"),
        ("/%0d%0aSet-Cookie:%20x=1", "/Set-Cookie:%20x=1"),
        ("%2F%2Fother.site", "/"),
        ("/%5Cother.site", "/"),
        ("/%2F%2Fother.site", "/"),
        ("https:other.site", "/"),
        ("https://other.site", "/"),
        ("javascript:alert(1)", "/"),
        ("%5C%5Cother.site", "/"),
        ("/%E3%80%80/other.site", "/%E3%80%80/other.site"),
    ];
    for (next, expected) in cases {
        let page = user.get(&format!("/login?next={next}")).await;
        assert_eq!(page.status, StatusCode::FOUND, "next={next}");
        assert_eq!(page.headers["location"], expected, "next={next}");
    }
}

/// Requests for a name this server is not (DNS rebinding) get nothing;
/// probes to the instance's own address still answer.
#[tokio::test]
async fn only_this_sites_hosts_are_served() {
    let server = TestServer::start().await;
    let client = &server.browser().client;
    let get = |host: String, path: &'static str| {
        let request = client.get(server.url(path)).header("host", host);
        async move { request.send().await.expect("an answer").status() }
    };
    let port = server.addr.port();
    assert_eq!(get(format!("127.0.0.1:{port}"), "/login").await, StatusCode::OK);
    assert_eq!(get(format!("localhost:{port}"), "/login").await, StatusCode::OK);
    assert_eq!(get(format!("rebound.example:{port}"), "/login").await, StatusCode::MISDIRECTED_REQUEST);
    assert_eq!(get("rebound.example".into(), "/api/account").await, StatusCode::MISDIRECTED_REQUEST);
    assert_eq!(get("rebound.example".into(), "/healthz").await, StatusCode::OK);

    let behind_proxy =
        TestServer::start_configured(|config| config.public_origin = Some("https://chat.example.org".into()))
            .await;
    let client = &behind_proxy.browser().client;
    let get = |host: &'static str| {
        let request = client.get(behind_proxy.url("/login")).header("host", host);
        async move { request.send().await.expect("an answer").status() }
    };
    assert_eq!(get("chat.example.org").await, StatusCode::OK);
    assert_eq!(get("chat.example.org:443").await, StatusCode::OK);
    assert_eq!(get("127.0.0.1").await, StatusCode::MISDIRECTED_REQUEST);
    assert_eq!(get("chat.example.org:8443").await, StatusCode::MISDIRECTED_REQUEST);
    assert_eq!(get("other.example").await, StatusCode::MISDIRECTED_REQUEST);
}

/// Same origin is the same scheme, host and port: `https://` + this host
/// is another origin for server functions, avatar uploads and the socket.
#[tokio::test]
async fn another_scheme_or_port_is_another_origin() {
    let server = TestServer::start().await;
    let user = server.browser();
    user.sign_up("olga").await;
    let port = server.addr.port();
    for origin in [
        format!("https://127.0.0.1:{port}"),
        format!("http://127.0.0.1:{}", port + 1),
        "http://127.0.0.1".into(),
    ] {
        let write = user
            .client
            .post(server.url("/api/create_room"))
            .header("origin", &origin)
            .form(&[("name", "elsewhere"), ("topic", ""), ("visibility", "public")])
            .send()
            .await
            .expect("an answer");
        assert_eq!(write.status(), StatusCode::FORBIDDEN, "{origin}");
        let form = reqwest::multipart::Form::new()
            .part("avatar", reqwest::multipart::Part::bytes(crate::support::png(8, 8)).file_name("a.png"));
        let upload = user
            .client
            .post(server.url("/api/avatar"))
            .header("origin", &origin)
            .multipart(form)
            .send()
            .await
            .expect("an answer");
        assert_eq!(upload.status(), StatusCode::FORBIDDEN, "{origin}");
        assert!(user.socket_from(Some(&origin)).await.is_err(), "{origin}: no socket");
    }
    assert!(user.socket_from(Some(&user.base)).await.is_ok(), "the site's own origin");
}

/// Writes a person can repeat are limited: past the burst, `429` with
/// `Retry-After`, in words the UI shows.
#[tokio::test]
async fn repeated_writes_are_limited() {
    let server = TestServer::start().await;
    let user = server.browser();
    user.sign_up("paul").await;
    let mut statuses = Vec::new();
    for n in 0..12 {
        let name = format!("room {n}");
        let reply =
            user.call("create_room", &[("name", &name), ("topic", ""), ("visibility", "public")]).await;
        statuses.push(reply.status);
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(reply.error(), "rate_limited");
            let wait =
                reply.headers["retry-after"].to_str().expect("a number").parse::<u64>().expect("seconds");
            assert!(wait >= 1 && wait as i64 == reply.json["retry_after_secs"].as_i64().unwrap_or(-1));
        }
    }
    assert!(statuses[..10].iter().all(|s| *s == StatusCode::OK), "{statuses:?}");
    assert_eq!(statuses[10..], [StatusCode::TOO_MANY_REQUESTS; 2]);
    let other = server.browser();
    other.sign_up("quinn").await;
    other.create_room("quinn's room", "public").await;
}

/// Sends `target` as the request line's target, byte for byte, and returns
/// the answer's status (`None`: the connection closed without one).
async fn raw_get(addr: std::net::SocketAddr, target: &[u8], cookie: Option<&str>) -> Option<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    let mut request = b"GET ".to_vec();
    request.extend_from_slice(target);
    request.extend_from_slice(
        format!(" HTTP/1.1\r\nHost: {addr}\r\nAccept: text/html\r\nConnection: close\r\n").as_bytes(),
    );
    if let Some(cookie) = cookie {
        request.extend_from_slice(format!("Cookie: salon_session={cookie}\r\n").as_bytes());
    }
    request.extend_from_slice(b"\r\n");
    stream.write_all(&request).await.ok()?;
    let mut head = [0u8; 12];
    tokio::time::timeout(std::time::Duration::from_secs(10), stream.read_exact(&mut head))
        .await
        .ok()?
        .ok()?;
    std::str::from_utf8(head.get(9..12)?).ok()?.parse().ok()
}

/// No path or query string makes the server fail: arbitrary targets under
/// each route, sent as raw bytes by a visitor and by a signed-in user, each
/// get an HTTP answer, never a 5xx or a dropped connection.
#[test]
fn no_path_or_query_makes_the_server_fail() {
    use proptest::prelude::*;
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let server = runtime.block_on(TestServer::start());
    let user = server.browser();
    runtime.block_on(user.sign_up("rita"));
    let cookie = user.session_cookie().expect("a session");
    let prefixes = prop::sample::select(vec![
        "/",
        "/login?next=",
        "/register?next=",
        "/rooms/",
        "/u/",
        "/api/",
        "/api/account?",
        "/avatars/1/",
        "/pkg/",
        "/ws?v=",
        "/friends?",
        "/profile/",
        "/%2e%2e/",
    ]);
    let tail = proptest::string::string_regex(
        r"([A-Za-z0-9/._~?&=#:@!$'()*+,;\[\]\\|^`{}<> -]|%[0-9A-Fa-f]{2}|%[0-9A-Fa-f]?|%(0[0-9a-fA-F]|7[fF]|[cC]0|[eE]2%80%[aA][eE]))*",
    )
    .expect("a pattern");
    let raw_bytes = prop::collection::vec(any::<u8>(), 0..12);
    let targets = (prefixes, tail, raw_bytes, any::<bool>()).prop_map(|(prefix, tail, raw, signed_in)| {
        let mut target = format!("{prefix}{tail}").into_bytes();
        if raw.first().is_some_and(|b| b % 4 == 0) {
            target.extend_from_slice(&raw);
        }
        (target, signed_in)
    });
    let mut runner =
        proptest::test_runner::TestRunner::new(ProptestConfig { cases: 400, ..ProptestConfig::default() });
    runner
        .run(&targets, |(target, signed_in)| {
            let status =
                runtime.block_on(raw_get(server.addr, &target, signed_in.then_some(cookie.as_str())));
            let shown = String::from_utf8_lossy(&target).into_owned();
            prop_assert!(status.is_some_and(|s| s < 500), "{shown:?} (signed in: {signed_in}) → {status:?}");
            Ok(())
        })
        .expect("every request answered without a server error");
    runtime.block_on(server.stop());
}

/// The built front end goes out as the build compressed it, never
/// compressed per request: a `.br` or `.gz` beside a file is sent to a
/// browser that accepts it, and a file without one is sent as it is.
#[tokio::test]
async fn built_assets_are_sent_as_compressed_at_build_time() {
    let site = tempfile::tempdir().unwrap();
    let pkg = site.path().join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    let script = "export const answer = 42;\n".repeat(100);
    std::fs::write(pkg.join("salon.js"), &script).unwrap();
    std::fs::write(pkg.join("salon.js.br"), b"brotli bytes").unwrap();
    std::fs::write(pkg.join("salon.js.gz"), b"gzip bytes").unwrap();
    std::fs::write(pkg.join("salon.wasm"), vec![b'w'; 64 * 1024]).unwrap();
    let root = site.path().to_path_buf();
    let server = TestServer::start_configured(move |config| config.site_root = root).await;

    let client = reqwest::Client::new();
    let get = |path: &'static str, accept: &'static str| {
        client
            .get(format!("http://{}{path}", server.addr))
            .header(reqwest::header::ACCEPT_ENCODING, accept)
            .send()
    };
    let encoding = |response: &reqwest::Response| {
        response.headers().get(reqwest::header::CONTENT_ENCODING).map(|v| v.to_str().unwrap().to_owned())
    };

    let brotli = get("/pkg/salon.js", "gzip, deflate, br").await.unwrap();
    assert_eq!(brotli.status(), StatusCode::OK);
    assert_eq!(encoding(&brotli).as_deref(), Some("br"));
    assert!(brotli.headers()[reqwest::header::CONTENT_TYPE].to_str().unwrap().contains("javascript"));
    assert_eq!(brotli.bytes().await.unwrap().as_ref(), b"brotli bytes");

    let gzip = get("/pkg/salon.js", "gzip").await.unwrap();
    assert_eq!(encoding(&gzip).as_deref(), Some("gzip"));
    assert_eq!(gzip.bytes().await.unwrap().as_ref(), b"gzip bytes");

    let plain = get("/pkg/salon.js", "identity").await.unwrap();
    assert_eq!(encoding(&plain), None);
    // Names without hashes: browsers ask each time whether a file changed.
    assert_eq!(cache_of(&plain), ("no-cache".to_owned(), "accept-encoding".to_owned()));
    assert_eq!(plain.text().await.unwrap(), script);

    let wasm = get("/pkg/salon.wasm", "gzip, deflate, br").await.unwrap();
    assert_eq!(wasm.status(), StatusCode::OK);
    assert_eq!(encoding(&wasm), None, "not compressed per request");
    assert_eq!(wasm.bytes().await.unwrap().len(), 64 * 1024);

    assert_eq!(get("/pkg/missing.js", "br").await.unwrap().status(), StatusCode::NOT_FOUND);
}

/// A response's `Cache-Control` and `Vary`.
fn cache_of(response: &reqwest::Response) -> (String, String) {
    let header = |name| response.headers().get(name).map_or("", |v| v.to_str().unwrap()).to_owned();
    (header(reqwest::header::CACHE_CONTROL), header(reqwest::header::VARY))
}

#[tokio::test]
async fn hashed_built_assets_are_kept_a_year() {
    let site = tempfile::tempdir().unwrap();
    let pkg = site.path().join("pkg");
    std::fs::create_dir_all(pkg.join("snippets")).unwrap();
    std::fs::write(pkg.join("salon.Q2hlY2tUaGVIYXNoZXM.js"), "export {};").unwrap();
    std::fs::write(pkg.join("snippets").join("inline0.js"), "export {};").unwrap();
    // What `cargo leptos build` and `scripts/run.sh` set for a hashed
    // build; each test runs in a process of its own.
    std::env::set_var("LEPTOS_HASH_FILES", "true");
    let root = site.path().to_path_buf();
    let server = TestServer::start_configured(move |config| config.site_root = root).await;
    let get = |path: &'static str| reqwest::get(format!("http://{}{path}", server.addr));

    let hashed = get("/pkg/salon.Q2hlY2tUaGVIYXNoZXM.js").await.unwrap();
    assert_eq!(hashed.status(), StatusCode::OK);
    let kept = ("public, max-age=31536000, immutable".to_owned(), "accept-encoding".to_owned());
    assert_eq!(cache_of(&hashed), kept);
    let snippet = get("/pkg/snippets/inline0.js").await.unwrap();
    assert_eq!(snippet.status(), StatusCode::OK);
    assert_eq!(cache_of(&snippet).0, "no-cache", "a snippet keeps its name");
    let missing = get("/pkg/salon.bm90VGhlcmU.js").await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(cache_of(&missing).0, "no-cache", "a miss is not kept");
}
