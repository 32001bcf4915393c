//! Pages and request guards: redirects, security headers, cross-origin
//! refusals, languages.

mod support;

use reqwest::StatusCode;
use support::{TestServer, PASSWORD};

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
