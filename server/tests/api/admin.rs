//! Instance admins (issue 19): the first account runs the server; admins
//! list the users and make others admins, never leaving none; to anyone
//! else the admin operations and page do not exist.

use crate::support::{Browser, TestServer, PASSWORD, PATIENCE};
use app::domain::protocol::CLOSE_SIGNED_OUT;
use reqwest::StatusCode;

fn s(id: i64) -> String {
    id.to_string()
}

#[tokio::test]
async fn the_first_account_runs_the_server_and_shares_it_never_leaving_none() {
    let server = TestServer::start_unlimited().await;
    let (first, second, owner) = (server.browser(), server.browser(), server.browser());
    let first_id = first.sign_up("first").await;
    let second_id = second.sign_up("second").await;
    owner.sign_up("owner").await;
    owner.create_room("owned", "private").await;
    assert_eq!(first.account().await["admin"], true, "the first account is an admin");
    assert_eq!(second.account().await["admin"], false);

    // Who may: admins only; to anyone else the operations do not exist.
    let list = |browser: &Browser| {
        let browser = browser.clone_session();
        async move { browser.call("admin_users", &[("query", "")]).await.status }
    };
    let anonymous = server.browser();
    assert_eq!(list(&anonymous).await, StatusCode::UNAUTHORIZED);
    assert_eq!(list(&second).await, StatusCode::NOT_FOUND, "a member");
    assert_eq!(list(&owner).await, StatusCode::NOT_FOUND, "a room's owner");
    assert_eq!(list(&first).await, StatusCode::OK);
    let promote = [("user", s(second_id)), ("role", "admin".into())];
    let promote: Vec<(&str, &str)> = promote.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(anonymous.call("admin_set_role", &promote).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(owner.call("admin_set_role", &promote).await.status, StatusCode::NOT_FOUND);
    assert_eq!(second.call("admin_set_role", &promote).await.status, StatusCode::NOT_FOUND);
    assert_eq!(server.browser().get("/admin").await.status, StatusCode::FOUND, "anonymous: sent to sign in");
    assert_eq!(second.get("/admin").await.status, StatusCode::NOT_FOUND);
    assert_eq!(first.get("/admin").await.status, StatusCode::OK);

    // The last admin stays one.
    let demote_first = [("user", s(first_id)), ("role", "member".into())];
    let demote_first: Vec<(&str, &str)> = demote_first.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let refused = first.call("admin_set_role", &demote_first).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.problem("role").is_some(), "{:?}", refused.json);

    // An admin makes another, who may then take the first's role.
    first.ok("admin_set_role", &promote).await;
    assert_eq!(second.account().await["admin"], true);
    second.ok("admin_set_role", &demote_first).await;
    assert_eq!(first.account().await["admin"], false);
    assert_eq!(list(&first).await, StatusCode::NOT_FOUND, "effective at once");
    let unknown = [("user", "999999"), ("role", "admin")];
    assert_eq!(second.call("admin_set_role", &unknown).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn admins_search_the_users_a_page_at_a_time() {
    let server = TestServer::start_unlimited().await;
    let admin = server.browser();
    admin.sign_up("admin").await;
    for n in 0..55 {
        server.browser().sign_up(&format!("user{n:02}")).await;
    }
    // Last seen: once a socket of theirs opened.
    drop(admin.socket().await);
    let seen =
        || async { admin.ok("admin_users", &[("query", "admin")]).await["users"][0]["last_seen"].clone() };
    let started = std::time::Instant::now();
    while seen().await.is_null() {
        assert!(started.elapsed() < PATIENCE, "the admin was never seen");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let page = admin.ok("admin_users", &[("query", "")]).await;
    let users = page["users"].as_array().unwrap();
    assert!(users[1]["last_seen"].is_null(), "never had Salon open");
    assert_eq!(users.len(), 50);
    assert_eq!(users[0]["profile"]["username"], "admin", "oldest first");
    assert_eq!(users[0]["role"], "admin");
    assert_eq!(users[1]["role"], "member");
    let next = page["next"].as_i64().expect("a next page");
    let rest = admin.ok("admin_users", &[("query", ""), ("after", &next.to_string())]).await;
    assert_eq!(rest["users"].as_array().unwrap().len(), 6);
    assert!(rest["next"].is_null());

    let found = admin.ok("admin_users", &[("query", "USER0")]).await;
    let names: Vec<&str> = found["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["profile"]["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, (0..10).map(|n| format!("user0{n}")).collect::<Vec<_>>());
    let wild = admin.ok("admin_users", &[("query", "%")]).await;
    assert!(wild["users"].as_array().unwrap().is_empty(), "wildcards are taken literally");
    let long = admin.call("admin_users", &[("query", &"x".repeat(65))]).await;
    assert_eq!(long.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_deactivated_account_is_signed_out_at_once_and_kept_out_its_messages_staying() {
    let server = TestServer::start_unlimited().await;
    let (admin, mallory, bob) = (server.browser(), server.browser(), server.browser());
    let admin_id = admin.sign_up("admin").await;
    let mallory_id = mallory.sign_up("mallory").await;
    bob.sign_up("bob").await;
    let room = bob.create_room("lobby", "public").await;
    mallory.join_room(room).await;
    mallory.post(room, "m1", "buy my stuff").await;
    let dm = bob.ok("direct", &[("user", &s(mallory_id))]).await["id"].as_i64().unwrap();
    let mut socket = mallory.socket().await;

    let args = |user: i64, active: bool| [("user", s(user)), ("active", active.to_string())];
    let call = |browser: &Browser, user: i64, active: bool| {
        let args = args(user, active);
        let browser = browser.clone_session();
        async move {
            let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
            browser.call("admin_set_active", &args).await
        }
    };
    assert_eq!(call(&bob, mallory_id, false).await.status, StatusCode::NOT_FOUND, "admins only");
    let refused = call(&admin, admin_id, false).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "an admin stays active");
    assert!(refused.problem("role").is_some());

    assert_eq!(call(&admin, mallory_id, false).await.status, StatusCode::OK);
    // At once: the socket closes as signed out, the session is over.
    assert_eq!(socket.close_code(PATIENCE).await, Some(CLOSE_SIGNED_OUT));
    assert_eq!(mallory.call("my_rooms", &[]).await.status, StatusCode::UNAUTHORIZED);
    // Signing in again: told why, but only with the right password.
    let again = server.browser();
    assert_eq!(again.login("mallory", "not the password").await.status, StatusCode::UNAUTHORIZED);
    let told = again.login("mallory", PASSWORD).await;
    assert_eq!(told.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(told.problem("login").as_deref(), Some("deactivated"));
    // What they wrote stays, under their name; their conversation is read-only.
    let kept = bob.history(room).await;
    assert!(kept.iter().any(|m| m.body == "buy my stuff" && m.author.username == "mallory"));
    let args = [("room", s(dm)), ("client_id", "d1".into()), ("body", "hello?".into())];
    let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(bob.call("post_message", &args).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let listed = admin.ok("admin_users", &[("query", "mallory")]).await;
    assert_eq!(listed["users"][0]["deactivated"], true);

    // Reactivated: back in.
    assert_eq!(call(&admin, mallory_id, true).await.status, StatusCode::OK);
    assert_eq!(again.login("mallory", PASSWORD).await.status, StatusCode::OK);
    assert_eq!(bob.call("post_message", &args).await.status, StatusCode::OK);
}

#[tokio::test]
async fn admins_close_sign_up_and_keep_room_creation_to_themselves() {
    let server = TestServer::start_unlimited().await;
    let (admin, member) = (server.browser(), server.browser());
    admin.sign_up("admin").await;
    member.sign_up("member").await;
    assert_eq!(server.browser().call("admin_settings", &[]).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(member.call("admin_settings", &[]).await.status, StatusCode::NOT_FOUND);
    let defaults = admin.ok("admin_settings", &[]).await;
    assert_eq!(
        (defaults["sign_up"].as_str(), defaults["room_creation"].as_str()),
        (Some("open"), Some("everyone"))
    );
    let closed = [("sign_up", "closed"), ("room_creation", "admins_only")];
    assert_eq!(member.call("admin_set_settings", &closed).await.status, StatusCode::NOT_FOUND);
    admin.ok("admin_set_settings", &closed).await;

    let late = server.browser().register("latecomer", PASSWORD).await;
    assert_eq!(late.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(late.problem("username").as_deref(), Some("sign_up_closed"));
    let room = [("name", "hangout"), ("topic", ""), ("visibility", "public")];
    let refused = member.call("create_room", &room).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.problem("room_name").as_deref(), Some("admins_only_rooms"));
    admin.create_room("staff", "public").await;

    admin.ok("admin_set_settings", &[("sign_up", "open"), ("room_creation", "everyone")]).await;
    assert_eq!(server.browser().register("latecomer", PASSWORD).await.status, StatusCode::OK);
    assert_eq!(member.call("create_room", &room).await.status, StatusCode::OK);
}
