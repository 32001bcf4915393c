//! Join links (issue 19): who makes, sees and revokes them; sign-up by
//! link only; expiry and uses, the last use raced for; who invited whom.

use crate::support::{Browser, TestServer, PASSWORD};
use reqwest::StatusCode;
use serde_json::Value;

/// Sets the server's settings (as `admin`).
async fn settings(admin: &Browser, sign_up: &str, join_links: &str) {
    let args = [("sign_up", sign_up), ("room_creation", "everyone"), ("join_links", join_links)];
    admin.ok("admin_set_settings", &args).await;
}

async fn make(browser: &Browser, expiry: &str, max_uses: &str) -> String {
    let link = browser.ok("join_link_make", &[("expiry", expiry), ("max_uses", max_uses)]).await;
    link["code"].as_str().expect("a code").to_owned()
}

async fn register_with(server: &TestServer, username: &str, code: &str) -> crate::support::Reply {
    let email = format!("{username}@example.com");
    let args = [
        ("username", username),
        ("email", email.as_str()),
        ("password", PASSWORD),
        ("password_confirm", PASSWORD),
        ("join", code),
    ];
    server.browser().call("register", &args).await
}

fn links(listing: &Value) -> Vec<(String, String, u64)> {
    listing["links"]
        .as_array()
        .expect("links")
        .iter()
        .map(|link| {
            let code = link["code"].as_str().unwrap_or_default().to_owned();
            let maker = link["made_by"]["username"].as_str().unwrap_or_default().to_owned();
            (code, maker, link["uses"].as_u64().unwrap_or_default())
        })
        .collect()
}

#[tokio::test]
async fn sign_up_by_link_only_lets_link_holders_in_and_records_who_invited_them() {
    let server = TestServer::start_unlimited().await;
    let admin = server.browser();
    admin.sign_up("admin").await;
    settings(&admin, "join_link", "admins_only").await;
    assert_eq!(server.browser().ok("sign_up_mode", &[]).await, "join_link");

    let refused = server.browser().register("stranger", PASSWORD).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.problem("username").as_deref(), Some("join_link_required"));

    let code = make(&admin, "week", "2").await;
    let invitation = server.browser().ok("join_invitation", &[("code", &code)]).await;
    assert_eq!(invitation["made_by"]["username"], "admin");
    assert_eq!(invitation["usable"], true);
    assert_eq!(register_with(&server, "first", &code).await.status, StatusCode::OK);
    assert_eq!(register_with(&server, "second", &code).await.status, StatusCode::OK);
    let third = register_with(&server, "third", &code).await;
    assert_eq!(third.status, StatusCode::UNPROCESSABLE_ENTITY, "used up");
    assert_eq!(third.problem("join_link").as_deref(), Some("join_link_unusable"));
    let invitation = server.browser().ok("join_invitation", &[("code", &code)]).await;
    assert_eq!(invitation["usable"], false);
    assert_eq!(links(&admin.ok("join_links", &[]).await), vec![(code.clone(), "admin".into(), 2)]);

    let users = admin.ok("admin_users", &[("query", "")]).await;
    let invited: Vec<(&str, &Value)> = users["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["profile"]["username"].as_str().unwrap(), &u["invited_by"]))
        .collect();
    assert_eq!(
        invited,
        vec![("admin", &Value::Null), ("first", &Value::from("admin")), ("second", &Value::from("admin"))]
    );

    // Unknown and malformed codes are unusable; a closed server takes no
    // link at all; an open one takes everyone, and links still count.
    for wrong in ["AAAAAAAAAAAAAAAAAAAAAA", "short", "../../etc/passwd", &"x".repeat(5000)] {
        let reply = register_with(&server, "fourth", wrong).await;
        assert_eq!(reply.problem("join_link").as_deref(), Some("join_link_unusable"), "{wrong}");
        let status = server.browser().call("join_invitation", &[("code", wrong)]).await.status;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    let open_link = make(&admin, "never", "").await;
    settings(&admin, "closed", "admins_only").await;
    let closed = register_with(&server, "fourth", &open_link).await;
    assert_eq!(closed.problem("username").as_deref(), Some("sign_up_closed"));
    assert_eq!(server.browser().ok("join_invitation", &[("code", &open_link)]).await["usable"], false);
    settings(&admin, "open", "admins_only").await;
    assert_eq!(register_with(&server, "fourth", &open_link).await.status, StatusCode::OK);
    assert_eq!(server.browser().register("fifth", PASSWORD).await.status, StatusCode::OK);
}

#[tokio::test]
async fn two_sign_ups_racing_for_a_links_last_use_make_one_account() {
    let server = TestServer::start_unlimited().await;
    let admin = server.browser();
    admin.sign_up("admin").await;
    settings(&admin, "join_link", "admins_only").await;
    for round in 0..5 {
        let code = make(&admin, "day", "1").await;
        let (first, second) = (format!("racer{round}a"), format!("racer{round}b"));
        let (a, b) =
            tokio::join!(register_with(&server, &first, &code), register_with(&server, &second, &code));
        let mut statuses = [a.status, b.status];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::OK, StatusCode::UNPROCESSABLE_ENTITY], "round {round}");
        let loser = if a.status == StatusCode::OK { b } else { a };
        assert_eq!(loser.problem("join_link").as_deref(), Some("join_link_unusable"));
    }
    let listed = links(&admin.ok("join_links", &[]).await);
    assert!(listed.iter().all(|(_, _, uses)| *uses == 1), "{listed:?}");
}

#[tokio::test]
async fn an_expired_or_revoked_link_makes_no_account() {
    let server = TestServer::start_unlimited().await;
    let admin = server.browser();
    admin.sign_up("admin").await;
    settings(&admin, "join_link", "admins_only").await;
    let expired = make(&admin, "hour", "").await;
    let revoked = make(&admin, "never", "").await;
    sqlx::query("UPDATE join_links SET expires_at = $1 WHERE code = $2")
        .bind(app::store::now_millis() - 1)
        .bind(&expired)
        .execute(&mut server.database().await)
        .await
        .expect("ageing a link");
    admin.ok("join_link_revoke", &[("code", &revoked)]).await;
    for code in [&expired, &revoked] {
        let reply = register_with(&server, "late", code).await;
        assert_eq!(reply.problem("join_link").as_deref(), Some("join_link_unusable"));
        assert_eq!(server.browser().ok("join_invitation", &[("code", code)]).await["usable"], false);
    }
    let listing = admin.ok("join_links", &[]).await;
    assert_eq!(listing["links"][0]["revoked"], true, "newest first");
    assert_eq!(
        listing["links"][1]["expires_at"].as_i64().map(|at| at < listing["now"].as_i64().unwrap()),
        Some(true)
    );
}

#[tokio::test]
async fn who_may_make_see_and_revoke_links() {
    let server = TestServer::start_unlimited().await;
    let (admin, alice, bob) = (server.browser(), server.browser(), server.browser());
    admin.sign_up("admin").await;
    alice.sign_up("alice").await;
    bob.sign_up("bob").await;
    let anonymous = server.browser();
    let args = [("expiry", "week"), ("max_uses", "")];

    // By default only admins make links.
    assert_eq!(anonymous.call("join_link_make", &args).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.call("join_links", &[]).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(alice.call("join_link_make", &args).await.status, StatusCode::FORBIDDEN);
    assert_eq!(alice.ok("join_links", &[]).await["may_make"], false);
    let admins = make(&admin, "week", "").await;
    assert_eq!(admin.ok("join_links", &[]).await["may_make"], true);
    assert!(links(&alice.ok("join_links", &[]).await).is_empty(), "a member sees only their own");

    settings(&admin, "open", "everyone").await;
    let alices = make(&alice, "week", "").await;
    let bobs = make(&bob, "month", "10").await;
    assert_eq!(links(&alice.ok("join_links", &[]).await), vec![(alices.clone(), "alice".into(), 0)]);
    let everyone: Vec<String> = links(&admin.ok("join_links", &[]).await).into_iter().map(|l| l.0).collect();
    assert_eq!(
        everyone,
        vec![bobs.clone(), alices.clone(), admins.clone()],
        "an admin sees all, newest first"
    );

    // Revoking: the maker or an admin; to anyone else the link does not exist.
    let call = |browser: &Browser, code: &str| {
        let (browser, code) = (browser.clone_session(), code.to_owned());
        async move { browser.call("join_link_revoke", &[("code", code.as_str())]).await.status }
    };
    assert_eq!(call(&anonymous, &alices).await, StatusCode::UNAUTHORIZED);
    assert_eq!(call(&bob, &alices).await, StatusCode::NOT_FOUND);
    assert_eq!(call(&alice, &admins).await, StatusCode::NOT_FOUND);
    assert_eq!(call(&alice, &alices).await, StatusCode::OK);
    assert_eq!(call(&admin, &bobs).await, StatusCode::OK);
    assert_eq!(call(&admin, "nonsense").await, StatusCode::NOT_FOUND);

    // A deactivated member's links stop working.
    let bobs_other = make(&bob, "week", "").await;
    let bob_id = bob.account().await["id"].as_i64().unwrap().to_string();
    admin.ok("admin_set_active", &[("user", &bob_id), ("active", "false")]).await;
    let reply = register_with(&server, "via_bob", &bobs_other).await;
    assert_eq!(reply.problem("join_link").as_deref(), Some("join_link_unusable"));
    admin.ok("admin_set_active", &[("user", &bob_id), ("active", "true")]).await;

    // The QR code: the maker's and the admins' only.
    let qr = |code: &str| format!("/join/{code}/qr.svg");
    assert_eq!(anonymous.fetch(&qr(&admins)).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(alice.fetch(&qr(&admins)).await.0, StatusCode::NOT_FOUND);
    assert_eq!(alice.fetch(&qr("nonsense")).await.0, StatusCode::NOT_FOUND);
    for (browser, code) in [(&admin, &admins), (&admin, &alices), (&alice, &alices)] {
        let (status, headers, body) = browser.fetch(&qr(code)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers["content-type"], "image/svg+xml");
        assert!(String::from_utf8_lossy(&body).contains("<svg"), "an SVG image");
    }

    // Bad input is told at its field; one has at most 50 usable links.
    for wrong in ["0", "1001", "-3", "many"] {
        let reply = admin.call("join_link_make", &[("expiry", "week"), ("max_uses", wrong)]).await;
        assert_eq!(reply.problem("max_uses").as_deref(), Some("out_of_range"), "{wrong}");
    }
    let unknown = admin.call("join_link_make", &[("expiry", "fortnight"), ("max_uses", "")]).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    for _ in 1..50 {
        make(&admin, "week", "").await;
    }
    let too_many = admin.call("join_link_make", &args).await;
    assert_eq!(too_many.problem("join_link").as_deref(), Some("too_many_join_links"));
    settings(&admin, "open", "admins_only").await;
    assert_eq!(bob.call("join_link_make", &args).await.status, StatusCode::FORBIDDEN, "at once");
}
