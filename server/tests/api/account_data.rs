//! A user's own data (issue 19): the export holds exactly theirs; a
//! deleted account leaves no email, hash, avatar or file behind, its
//! messages staying under "Deleted user".

use crate::support::{png, TestServer, PASSWORD};
use reqwest::StatusCode;
use serde_json::Value;

fn s(id: i64) -> String {
    id.to_string()
}

async fn export(browser: &crate::support::Browser) -> Value {
    let (status, headers, body) = browser.fetch("/api/export").await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers["content-disposition"].to_str().unwrap().starts_with("attachment"));
    serde_json::from_slice(&body).expect("JSON")
}

#[tokio::test]
async fn the_export_holds_exactly_the_users_data() {
    let server = TestServer::start_unlimited().await;
    let (alice, bob, carol) = (server.browser(), server.browser(), server.browser());
    let alice_id = alice.sign_up("alice").await;
    let bob_id = bob.sign_up("bob").await;
    let carol_id = carol.sign_up("carol").await;
    let room = alice.create_room("Garden", "public").await;
    bob.join_room(room).await;
    alice.post(room, "a1", "roses are red").await;
    bob.post(room, "b1", "not alice's").await;
    let gone = alice.post(room, "a2", "deleted later").await;
    alice.ok("delete_message", &[("room", &s(room)), ("seq", &s(gone))]).await;
    let dm = alice.ok("direct", &[("user", &s(bob_id))]).await["id"].as_i64().unwrap();
    alice.post(dm, "a3", "hi bob").await;
    carol.create_room("Carol's", "public").await;
    alice.ok("friend_request", &[("username", "bob")]).await;
    bob.ok("friend_accept", &[("user", &s(alice_id))]).await;
    alice.ok("block", &[("user", &s(carol_id))]).await;

    assert_eq!(server.browser().fetch("/api/export").await.0, StatusCode::UNAUTHORIZED);
    let data = export(&alice).await;
    assert_eq!(data["profile"]["username"], "alice");
    assert_eq!(data["profile"]["email"], "alice@example.com");
    assert_eq!(data["profile"]["administrator"], true);
    let rooms: Vec<(&str, &str)> = data["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["name"].as_str().unwrap(), r["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(rooms, vec![("Garden", "room"), ("bob", "direct")]);
    let messages: Vec<(&str, &str)> = data["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["room"].as_str().unwrap(), m["body"].as_str().unwrap()))
        .collect();
    assert_eq!(messages, vec![("Garden", "roses are red"), ("bob", "hi bob")], "not bob's, not deleted ones");
    assert_eq!(data["friends"][0]["username"], "bob");
    assert_eq!(data["friends"].as_array().unwrap().len(), 1);
    assert_eq!(data["blocked"][0]["username"], "carol");
    let text = data.to_string();
    for foreign in ["bob@example.com", "carol@example.com", "password", "argon2", "not alice's"] {
        assert!(!text.contains(foreign), "the export holds {foreign}");
    }
}

#[tokio::test]
async fn an_export_longer_than_a_page_holds_every_message_once_in_order() {
    let server = TestServer::start_unlimited().await;
    let alice = server.browser();
    alice.sign_up("alice").await;
    let (first, second) =
        (alice.create_room("First", "public").await, alice.create_room("Second", "public").await);
    let page = app::services::account_data::EXPORT_PAGE;
    // A page's worth in the first room, the page's edge in the second.
    let mut sent = Vec::new();
    for (room, count) in [(first, page - 1), (second, 2)] {
        for i in 0..count {
            let body = format!("{room}-{i}");
            alice.post(room, &format!("c{room}-{i}"), &body).await;
            sent.push(body);
        }
    }
    let data = export(&alice).await;
    let bodies: Vec<&str> =
        data["messages"].as_array().unwrap().iter().map(|m| m["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, sent);
    assert_eq!(data["profile"]["username"], "alice", "the rest is still there");
}

/// The attachments' files under the data directory (not the temporary ones).
fn stored_files(server: &TestServer) -> Vec<std::path::PathBuf> {
    let root = server.data_dir.join("files");
    let dirs = std::fs::read_dir(&root).into_iter().flatten().filter_map(Result::ok);
    dirs.filter(|dir| dir.file_name() != "tmp")
        .flat_map(|dir| std::fs::read_dir(dir.path()).into_iter().flatten().filter_map(Result::ok))
        .map(|file| file.path())
        .collect()
}

#[tokio::test]
async fn a_deleted_account_leaves_nothing_personal_and_its_messages_stay() {
    let server = TestServer::start_unlimited().await;
    let (admin, dora, bob) = (server.browser(), server.browser(), server.browser());
    admin.sign_up("admin").await;
    let dora_id = dora.sign_up("dora").await;
    let bob_id = bob.sign_up("bob").await;
    dora.upload_avatar(png(64, 64), "me.png").await;
    let room = dora.create_room("Dora's", "public").await;
    bob.join_room(room).await;
    let file = dora.upload(room, "notes.txt", b"secret notes".to_vec()).await;
    let file_id = file.json["id"].as_str().unwrap().to_owned();
    let sent = dora
        .call(
            "post_message",
            &[("room", &s(room)), ("client_id", "d1"), ("body", "hello"), ("attachments[0]", &file_id)],
        )
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{:?}", sent.json);
    let dm = bob.ok("direct", &[("user", &s(dora_id))]).await["id"].as_i64().unwrap();
    dora.ok("friend_request", &[("username", "bob")]).await;
    // Ties of every kind, each to be gone.
    let (carol, eve) = (server.browser(), server.browser());
    carol.sign_up("carol").await;
    let eve_id = eve.sign_up("eve").await;
    carol.ok("friend_request", &[("username", "dora")]).await;
    let carol_id = carol.account().await["id"].as_i64().unwrap();
    dora.ok("friend_accept", &[("user", &s(carol_id))]).await;
    dora.ok("block", &[("user", &s(eve_id))]).await;
    let staff = admin.create_room("staff", "private").await;
    admin.ok("invite", &[("room", &s(staff)), ("username", "dora")]).await;
    let settings = [("sign_up", "open"), ("room_creation", "everyone"), ("join_links", "everyone")];
    admin.ok("admin_set_settings", &settings).await;
    dora.ok("join_link_make", &[("expiry", "week"), ("max_uses", "")]).await;
    assert_eq!(stored_files(&server).len(), 1, "the attachment's file");
    let other_tab = dora.clone_session();
    let mut socket = dora.socket().await;
    let mut bobs = bob.socket().await;
    bobs.subscribe(room, None).await;

    // The password confirms it; the last admin cannot.
    let wrong = dora.call("delete_account", &[("confirm_password", "not it")]).await;
    assert_eq!(wrong.problem("current_password").as_deref(), Some("wrong_password"));
    let last = admin.call("delete_account", &[("confirm_password", PASSWORD)]).await;
    assert_eq!(last.problem("current_password").as_deref(), Some("last_admin"));
    assert_eq!(
        server.browser().call("delete_account", &[("confirm_password", PASSWORD)]).await.status,
        StatusCode::UNAUTHORIZED
    );
    dora.ok("delete_account", &[("confirm_password", PASSWORD)]).await;

    // Signed out everywhere, at once; cannot sign in again.
    assert!(socket.close_code(crate::support::PATIENCE).await.is_some(), "the socket closed");
    assert_eq!(other_tab.call("my_rooms", &[]).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(server.browser().login("dora", PASSWORD).await.status, StatusCode::UNAUTHORIZED);
    // Bob sees them leave; the room passes to him.
    bobs.until(|frame| match frame {
        app::domain::protocol::ServerFrame::MemberLeft { user, .. } if user.0 == dora_id => Some(()),
        _ => None,
    })
    .await;

    // Nothing personal is left.
    let mut db = server.database().await;
    let row: (String, String, String, String, Option<i64>) = sqlx::query_as(
        "SELECT username, email, password_hash, display_name, avatar_version FROM users WHERE id = $1",
    )
    .bind(dora_id)
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert!(!row.0.contains("dora") && !row.1.contains("dora") && !row.1.contains('@'), "{row:?}");
    assert_eq!((row.2.as_str(), row.3.as_str(), row.4), ("", "Deleted user", None));
    for table in [
        "avatars WHERE user_id",
        "attachments WHERE uploader_id",
        "friend_requests WHERE from_id",
        "memberships WHERE room_id = 0 OR user_id",
    ] {
        let count: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table} = $1"))
            .bind(dora_id)
            .fetch_one(&mut db)
            .await
            .unwrap();
        let expected = i64::from(table.starts_with("memberships")); // the direct conversation
        assert_eq!(count, expected, "{table}");
    }
    assert!(stored_files(&server).is_empty(), "files left: {:?}", stored_files(&server));
    assert_eq!(bob.fetch(&format!("/files/{file_id}")).await.0, StatusCode::NOT_FOUND);

    // The messages stay, under "Deleted user"; the conversation is read-only.
    let view = bob.ok("open_room", &[("room", &s(room))]).await;
    let last = view["messages"].as_array().unwrap().iter().rev().find(|m| m["body"] == "hello").cloned();
    let last = last.expect("the message stays");
    assert_eq!(last["author"]["display_name"], "Deleted user");
    assert_eq!(last["attachments"].as_array().map(Vec::len).unwrap_or(0), 0);
    let refused =
        bob.call("post_message", &[("room", &s(dm)), ("client_id", "b1"), ("body", "still there?")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let members = view["members"].as_array().unwrap();
    assert!(members.iter().any(|m| m["profile"]["id"] == bob_id && m["role"] == "owner"), "{members:?}");
    // The username is free again.
    assert_eq!(server.browser().register("dora", PASSWORD).await.status, StatusCode::OK);
}
