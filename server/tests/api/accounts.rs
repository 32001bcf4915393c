//! Accounts end to end over HTTP: registration, sign-in, sign-out, sessions,
//! throttling, and every way bad input is refused.

use crate::support::{TestServer, PASSWORD};
use reqwest::StatusCode;

#[tokio::test]
async fn registering_signs_the_user_in() {
    let server = TestServer::start().await;
    let alice = server.browser();
    assert!(alice.account().await.is_null(), "a visitor has no account");

    let reply = alice.register("Alice", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    assert_eq!(reply.json["username"], "Alice");
    assert_eq!(reply.json["email"], "Alice@example.com");
    assert!(reply.json.get("password_hash").is_none());

    let account = alice.account().await;
    assert_eq!(account["username"], "Alice");
    let cookie = reply
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(cookie.contains("salon_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain HTTP by default: {cookie}");
}

#[tokio::test]
async fn registration_refuses_bad_input_field_by_field() {
    let server = TestServer::start().await;
    let browser = server.browser();
    assert_eq!(browser.register("taken_name", PASSWORD).await.status, StatusCode::OK);
    let other = server.browser();

    let long_name = "a".repeat(33);
    let long_password = "p".repeat(129);
    let long_email = format!("{}@example.com", "e".repeat(250));
    let cases: &[(&str, &str, &str, &str, &str, &str)] = &[
        // username, email, password, confirmation, field, problem
        ("", "a@example.com", PASSWORD, PASSWORD, "username", "required"),
        ("ab", "a@example.com", PASSWORD, PASSWORD, "username", "too_short"),
        (&long_name, "a@example.com", PASSWORD, PASSWORD, "username", "too_long"),
        ("bad name!", "a@example.com", PASSWORD, PASSWORD, "username", "username_characters"),
        ("<script>", "a@example.com", PASSWORD, PASSWORD, "username", "username_characters"),
        ("TAKEN_NAME", "b@example.com", PASSWORD, PASSWORD, "username", "username_taken"),
        ("newname", "", PASSWORD, PASSWORD, "email", "required"),
        ("newname", "not-an-email", PASSWORD, PASSWORD, "email", "invalid_email"),
        ("newname", &long_email, PASSWORD, PASSWORD, "email", "too_long"),
        ("newname", "TAKEN_NAME@example.com", PASSWORD, PASSWORD, "email", "email_taken"),
        ("newname", "n@example.com", "", "", "password", "required"),
        ("newname", "n@example.com", "short", "short", "password", "too_short"),
        ("newname", "n@example.com", &long_password, &long_password, "password", "too_long"),
        ("newname", "n@example.com", "password123", "password123", "password", "common_password"),
        ("newname", "n@example.com", PASSWORD, "something else", "password_confirm", "password_mismatch"),
        ("newname", "n@example.com", PASSWORD, "", "password_confirm", "required"),
    ];
    for (username, email, password, confirmation, field, problem) in cases {
        let reply = other
            .call(
                "register",
                &[
                    ("username", username),
                    ("email", email),
                    ("password", password),
                    ("password_confirm", confirmation),
                ],
            )
            .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{field} {problem}: {:?}", reply.json);
        assert_eq!(reply.error(), "invalid");
        assert_eq!(reply.problem(field).as_deref(), Some(*problem), "{:?}", reply.json);
    }
    assert!(other.account().await.is_null(), "no refused registration signs anyone in");
}

#[tokio::test]
async fn malformed_and_oversized_requests_are_client_errors() {
    let server = TestServer::start().await;
    let browser = server.browser();

    let missing = browser.call("register", &[("username", "bob")]).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST, "{:?}", missing.json);
    assert_eq!(missing.error(), "bad_request");

    let huge = "x".repeat(200 * 1024);
    let oversized = browser.call("login", &[("login", &huge), ("password", "x")]).await;
    assert_eq!(oversized.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(oversized.error(), "payload_too_large");

    let long_login = "x".repeat(300);
    let too_long = browser.call("login", &[("login", &long_login), ("password", "x")]).await;
    assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(too_long.problem("login").as_deref(), Some("too_long"));

    let empty = browser.call("login", &[("login", ""), ("password", "")]).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(empty.problem("login").as_deref(), Some("required"));
}

#[tokio::test]
async fn sign_in_by_username_or_email_and_sign_out() {
    let server = TestServer::start().await;
    server.browser().register("carol", PASSWORD).await;

    let by_name = server.browser();
    let reply = by_name.login("CAROL", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    assert_eq!(by_name.account().await["username"], "carol");

    let by_email = server.browser();
    assert_eq!(by_email.login("Carol@Example.com", PASSWORD).await.status, StatusCode::OK);
    assert_eq!(by_email.account().await["username"], "carol");

    let stolen = by_name.clone_session();
    assert_eq!(by_name.call("logout", &[]).await.status, StatusCode::OK);
    assert!(by_name.account().await.is_null());
    assert!(stolen.account().await.is_null(), "a signed-out session cannot be reused");
    assert_eq!(by_email.account().await["username"], "carol", "other sessions continue");
}

#[tokio::test]
async fn wrong_username_and_wrong_password_look_the_same() {
    let server = TestServer::start().await;
    server.browser().register("dave", PASSWORD).await;
    let browser = server.browser();

    let started = std::time::Instant::now();
    let wrong_password = browser.login("dave", "not the password").await;
    let wrong_password_time = started.elapsed();
    let started = std::time::Instant::now();
    let unknown_user = browser.login("nobody", "not the password").await;
    let unknown_user_time = started.elapsed();

    assert_eq!(wrong_password.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_password.status, unknown_user.status);
    assert_eq!(wrong_password.json, unknown_user.json);
    assert_eq!(unknown_user.error(), "bad_credentials");
    // Both paths run one argon2 verification: neither is an order of
    // magnitude faster than the other (a missing decoy hash would be ~1000×).
    let (fast, slow) = if wrong_password_time < unknown_user_time {
        (wrong_password_time, unknown_user_time)
    } else {
        (unknown_user_time, wrong_password_time)
    };
    assert!(slow < fast * 10, "wrong password {wrong_password_time:?}, unknown user {unknown_user_time:?}");
    assert!(browser.account().await.is_null());
}

#[tokio::test]
async fn signing_in_changes_the_session_id() {
    let server = TestServer::start().await;
    server.browser().register("erin", PASSWORD).await;
    server.browser().register("frank", PASSWORD).await;
    let browser = server.browser();
    browser.login("erin", PASSWORD).await;
    let first = browser.session_cookie().expect("session cookie");
    browser.login("frank", PASSWORD).await;
    let second = browser.session_cookie().expect("session cookie");
    assert_ne!(first, second);
    assert_eq!(browser.account().await["username"], "frank");
}

#[tokio::test]
async fn sessions_survive_a_restart() {
    let server = TestServer::start().await;
    let browser = server.browser();
    browser.register("grace", PASSWORD).await;
    let cookie = browser.session_cookie().expect("session cookie");

    let (data_dir, temp, database) = server.stop().await;
    let server = TestServer::restart(data_dir, database).await;
    let returning = server.browser();
    returning.jar_add(&format!("salon_session={cookie}"));
    assert_eq!(returning.account().await["username"], "grace");
    drop(temp);
}

#[tokio::test]
async fn guessing_a_password_cannot_lock_its_owner_out() {
    use app::services::sign_in_throttle::ACCOUNT_AT_ADDRESS;
    let server = TestServer::start().await;
    // Heidi's browser signed in before: it keeps a device cookie.
    let heidi = server.browser();
    let registered = heidi.register("heidi", PASSWORD).await;
    let set_cookies: Vec<_> =
        registered.headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).collect();
    let device = set_cookies.iter().find(|c| c.starts_with("salon_device=")).expect("a device cookie");
    assert!(device.contains("HttpOnly") && device.contains("SameSite=Lax"), "{device}");
    heidi.call("logout", &[]).await;

    let attacker = server.browser();
    for _ in 0..ACCOUNT_AT_ADDRESS.attempts {
        assert_eq!(attacker.login("heidi", "guess guess").await.status, StatusCode::UNAUTHORIZED);
    }
    let throttled = attacker.login("heidi", "guess guess").await;
    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(throttled.error(), "rate_limited");
    let wait = throttled.json["retry_after_secs"].as_u64().expect("a wait");
    assert!(wait > 0);
    assert_eq!(throttled.headers["retry-after"].to_str().ok(), Some(wait.to_string().as_str()));
    // A new browser at the guesser's address waits, whichever name it uses…
    assert_eq!(server.browser().login("heidi", PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        server.browser().login("heidi@example.com", PASSWORD).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // …but Heidi's own browser signs in at once.
    assert_eq!(heidi.login("heidi", PASSWORD).await.status, StatusCode::OK);
    // A forged device cookie is no device cookie.
    let forger = server.browser();
    forger.jar_add(&format!("salon_device={}.{}.{}", 1, "0".repeat(32), "ab".repeat(32)));
    assert_eq!(forger.login("heidi", PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS);
    // Other accounts are not affected.
    server.browser().register("ivan", PASSWORD).await;
    assert_eq!(server.browser().login("ivan", PASSWORD).await.status, StatusCode::OK);
}

#[tokio::test]
async fn sign_in_is_throttled_per_address() {
    let server = TestServer::start().await;
    let browser = server.browser();
    let mut statuses = Vec::new();
    for n in 0..=app::services::sign_in_throttle::ADDRESS.attempts {
        statuses.push(browser.login(&format!("user{n}"), "whatever pass").await.status);
    }
    assert!(statuses[..statuses.len() - 1].iter().all(|s| *s == StatusCode::UNAUTHORIZED));
    assert_eq!(statuses.last(), Some(&StatusCode::TOO_MANY_REQUESTS));
}
