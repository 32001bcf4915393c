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
    // Nor made an admin while deactivated: the server's admins can sign in.
    let promote = [("user", s(mallory_id)), ("role", "admin".into())];
    let promote: Vec<(&str, &str)> = promote.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let refused = admin.call("admin_set_role", &promote).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.problem("role").as_deref(), Some("promote_deactivated"));

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
        (defaults["sign_up"].as_str(), defaults["room_creation"].as_str(), defaults["join_links"].as_str()),
        (Some("open"), Some("everyone"), Some("admins_only"))
    );
    let closed = [("sign_up", "closed"), ("room_creation", "admins_only"), ("join_links", "admins_only")];
    assert_eq!(member.call("admin_set_settings", &closed).await.status, StatusCode::NOT_FOUND);
    admin.ok("admin_set_settings", &closed).await;

    let late = server.browser().register("latecomer", PASSWORD).await;
    assert_eq!(late.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(late.problem("username").as_deref(), Some("sign_up_closed"));
    let room = [("name", "hangout"), ("topic", ""), ("visibility", "public")];
    let refused = member.call("create_room", &room).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.problem("room_name").as_deref(), Some("admins_only_rooms"));
    assert_eq!(member.ok("may_create_rooms", &[]).await, false, "the home page says so");
    assert_eq!(admin.ok("may_create_rooms", &[]).await, true);
    admin.create_room("staff", "public").await;

    let open = [("sign_up", "open"), ("room_creation", "everyone"), ("join_links", "admins_only")];
    admin.ok("admin_set_settings", &open).await;
    assert_eq!(member.ok("may_create_rooms", &[]).await, true);
    assert_eq!(server.browser().register("latecomer", PASSWORD).await.status, StatusCode::OK);
    assert_eq!(member.call("create_room", &room).await.status, StatusCode::OK);
}

#[tokio::test]
async fn admins_list_delete_and_hand_over_any_room() {
    let server = TestServer::start_unlimited().await;
    let (admin, owner, member) = (server.browser(), server.browser(), server.browser());
    admin.sign_up("admin").await;
    owner.sign_up("owner").await;
    let member_id = member.sign_up("member").await;
    let secret = owner.create_room("secret plans", "private").await;
    owner.ok("invite", &[("room", &s(secret)), ("username", "member")]).await;
    member.ok("invitation_accept", &[("room", &s(secret))]).await;
    owner.post(secret, "p1", "nobody else reads this").await;
    let lobby = owner.create_room("lobby", "public").await;
    member.join_room(lobby).await;
    owner.ok("direct", &[("user", &s(member_id))]).await;

    // Who may: admins only; to anyone else the operations do not exist.
    let anonymous = server.browser();
    for (function, args) in [
        ("admin_rooms", vec![]),
        ("admin_delete_room", vec![("room", s(lobby))]),
        ("admin_transfer_room", vec![("room", s(lobby)), ("username", "member".to_owned())]),
    ] {
        let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(anonymous.call(function, &args).await.status, StatusCode::UNAUTHORIZED, "{function}");
        assert_eq!(member.call(function, &args).await.status, StatusCode::NOT_FOUND, "{function}: a member");
        assert_eq!(owner.call(function, &args).await.status, StatusCode::NOT_FOUND, "{function}: an owner");
    }

    // Every room, private ones by name and size only; no conversations.
    let page = admin.ok("admin_rooms", &[]).await;
    let rooms = page["rooms"].as_array().unwrap();
    let listed: Vec<(&str, i64, &str)> = rooms
        .iter()
        .map(|r| {
            (r["name"].as_str().unwrap(), r["member_count"].as_i64().unwrap(), r["owner"].as_str().unwrap())
        })
        .collect();
    assert_eq!(listed, vec![("secret plans", 2, "owner"), ("lobby", 2, "owner")]);
    assert!(!page.to_string().contains("nobody else reads this"), "messages stay private");

    // Handing over: to a member only.
    let hand = |username: &str| [("room", s(lobby)), ("username", username.to_owned())];
    let to = hand("admin");
    let args: Vec<(&str, &str)> = to.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let refused = admin.call("admin_transfer_room", &args).await;
    assert_eq!(refused.problem("username").as_deref(), Some("not_a_member"));
    let to = hand("nobody");
    let args: Vec<(&str, &str)> = to.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        admin.call("admin_transfer_room", &args).await.problem("username").as_deref(),
        Some("unknown_user")
    );
    let to = hand("@Member");
    let args: Vec<(&str, &str)> = to.iter().map(|(k, v)| (*k, v.as_str())).collect();
    admin.ok("admin_transfer_room", &args).await;
    let view = member.ok("open_room", &[("room", &s(lobby))]).await;
    let roles: Vec<(&str, &str)> = view["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["profile"]["username"].as_str().unwrap(), m["role"].as_str().unwrap()))
        .collect();
    assert!(roles.contains(&("member", "owner")) && roles.contains(&("owner", "admin")), "{roles:?}");

    // Deleting: its members lose it at once.
    let mut socket = member.socket().await;
    socket.subscribe(secret, None).await;
    admin.ok("admin_delete_room", &[("room", &s(secret))]).await;
    socket
        .until(|frame| match frame {
            app::domain::protocol::ServerFrame::RemovedFromRoom { room, .. } if room.0 == secret => Some(()),
            _ => None,
        })
        .await;
    assert_eq!(member.call("open_room", &[("room", &s(secret))]).await.status, StatusCode::NOT_FOUND);
    let page = admin.ok("admin_rooms", &[]).await;
    assert_eq!(page["rooms"][0]["deleted"], true);
    assert_eq!(
        admin.call("admin_delete_room", &[("room", &s(secret))]).await.status,
        StatusCode::NOT_FOUND,
        "once"
    );
}

#[tokio::test]
async fn admins_delete_a_spammers_messages_everywhere_live() {
    use app::domain::{protocol::ServerFrame, ChangeKind};
    let server = TestServer::start_unlimited().await;
    let (admin, spammer, bob) = (server.browser(), server.browser(), server.browser());
    admin.sign_up("admin").await;
    let spammer_id = spammer.sign_up("spammer").await;
    let bob_id = bob.sign_up("bob").await;
    let lobby = bob.create_room("lobby", "public").await;
    let other = bob.create_room("other", "public").await;
    for room in [lobby, other] {
        spammer.join_room(room).await;
    }
    let spam = [
        spammer.post(lobby, "s1", "buy now").await,
        spammer.post(lobby, "s2", "buy more").await,
        spammer.post(other, "s3", "cheap stuff").await,
    ];
    let kept = bob.post(lobby, "b1", "hello").await;
    let dm = spammer.ok("direct", &[("user", &s(bob_id))]).await["id"].as_i64().unwrap();
    spammer.post(dm, "s4", "psst").await;
    // The spammer leaves a room: their messages there go too.
    spammer.ok("leave_room", &[("room", &s(other))]).await;
    let mut socket = bob.socket().await;
    socket.subscribe(lobby, None).await;

    let args = [("user", s(spammer_id))];
    let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(server.browser().call("admin_delete_messages", &args).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(bob.call("admin_delete_messages", &args).await.status, StatusCode::NOT_FOUND, "a room owner");
    assert_eq!(spammer.call("admin_delete_messages", &args).await.status, StatusCode::NOT_FOUND);
    assert_eq!(admin.ok("admin_delete_messages", &args).await, 4);

    // Live, in the rooms bob has open.
    let mut deleted = Vec::new();
    while deleted.len() < 2 {
        let seq = socket
            .until(|frame| match frame {
                ServerFrame::Changed { change } if change.what == ChangeKind::Deleted => Some(change.message),
                _ => None,
            })
            .await;
        deleted.push(seq);
    }
    assert_eq!(deleted, spam[..2].to_vec());
    for room in [lobby, other, dm] {
        let view = bob.ok("open_room", &[("room", &s(room))]).await;
        for message in view["messages"].as_array().unwrap() {
            let by_spammer = message["author"]["id"] == spammer_id;
            assert!(!by_spammer || message["body"] == "", "left: {message}");
        }
    }
    let view = bob.ok("open_room", &[("room", &s(lobby))]).await;
    assert!(view["messages"].as_array().unwrap().iter().any(|m| m["seq"] == kept && m["body"] == "hello"));
    assert_eq!(admin.ok("admin_delete_messages", &args).await, 0, "nothing left");
    let unknown = admin.call("admin_delete_messages", &[("user", "999999")]).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

/// The access table of every admin operation: anonymous 401, a member and
/// a room's owner 404 (the operations do not exist for them), an admin
/// 200. Each row runs on a fresh target where the operation can succeed.
#[tokio::test]
async fn every_admin_operation_is_for_admins_only() {
    let server = TestServer::start_unlimited().await;
    let (admin, member, owner) = (server.browser(), server.browser(), server.browser());
    admin.sign_up("admin").await;
    member.sign_up("member").await;
    owner.sign_up("owner").await;
    let target = server.browser();
    let target_id = s(target.sign_up("target").await);
    let settings = [("sign_up", "open"), ("room_creation", "everyone"), ("join_links", "admins_only")];
    let operations: Vec<(&str, Vec<(&str, String)>)> = vec![
        ("admin_users", vec![("query", String::new())]),
        ("admin_set_role", vec![("user", target_id.clone()), ("role", "member".into())]),
        ("admin_set_active", vec![("user", target_id.clone()), ("active", "true".into())]),
        ("admin_settings", vec![]),
        ("admin_set_settings", settings.iter().map(|(k, v)| (*k, v.to_string())).collect()),
        ("admin_rooms", vec![]),
        ("admin_delete_messages", vec![("user", target_id.clone())]),
        ("admin_reset_link", vec![("user", target_id.clone())]),
        ("admin_delete_room", vec![]),
        ("admin_transfer_room", vec![("username", "target".into())]),
    ];
    let anonymous = server.browser();
    for (function, args) in operations {
        let mut args = args;
        if matches!(function, "admin_delete_room" | "admin_transfer_room") {
            // A room of the owner's, which the target joined.
            let room = owner.create_room(&app_room_name(function), "public").await;
            target.join_room(room).await;
            args.push(("room", s(room)));
        }
        let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let rows = [
            (&anonymous, StatusCode::UNAUTHORIZED, "anonymous"),
            (&member, StatusCode::NOT_FOUND, "member"),
            (&owner, StatusCode::NOT_FOUND, "room owner"),
            (&admin, StatusCode::OK, "admin"),
        ];
        for (browser, expected, actor) in rows {
            let reply = browser.call(function, &args).await;
            assert_eq!(reply.status, expected, "{function} as {actor}: {:?}", reply.json);
        }
    }
}

fn app_room_name(function: &str) -> String {
    function.trim_start_matches("admin_").replace('_', " ")
}
