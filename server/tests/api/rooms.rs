//! Rooms over HTTP: creating, finding, joining, leaving, privacy, history.

use crate::support::{TestServer, PASSWORD};
use reqwest::StatusCode;

#[tokio::test]
async fn a_public_room_can_be_found_joined_and_left() {
    let server = TestServer::start().await;
    let alice = server.browser();
    let bob = server.browser();
    alice.register("alice", PASSWORD).await;
    bob.register("bob", PASSWORD).await;

    let reply = alice
        .call("create_room", &[("name", " Rust Paris "), ("topic", "Ferris & co"), ("visibility", "public")])
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    assert_eq!(reply.json["name"], "Rust Paris");
    assert_eq!(reply.json["role"], "owner");
    assert_eq!(reply.json["member_count"], 1);
    let room = reply.json["id"].as_i64().unwrap();

    // Names are unique whatever the case.
    let taken =
        bob.call("create_room", &[("name", "rust PARIS"), ("topic", ""), ("visibility", "public")]).await;
    assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(taken.problem("room_name").as_deref(), Some("room_name_taken"));
    let bad = bob
        .call("create_room", &[("name", "x"), ("topic", &"t".repeat(201)), ("visibility", "public")])
        .await;
    assert_eq!(bad.problem("room_name").as_deref(), Some("too_short"));
    assert_eq!(bad.problem("topic").as_deref(), Some("too_long"));
    let bad = bob.call("create_room", &[("name", "ok name"), ("topic", ""), ("visibility", "secret")]).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    // Search by name or topic, case-insensitively; LIKE wildcards are text.
    for query in ["paris", "FERRIS", "", "s &"] {
        let found = bob.call("browse_rooms", &[("query", query)]).await;
        assert_eq!(found.json.as_array().unwrap().len(), 1, "{query}: {:?}", found.json);
    }
    for query in ["lyon", "%", "_"] {
        let found = bob.call("browse_rooms", &[("query", query)]).await;
        assert_eq!(found.json.as_array().unwrap().len(), 0, "{query}");
    }

    let joined = bob.join_room(room).await;
    assert_eq!(joined.status, StatusCode::OK, "{:?}", joined.json);
    assert_eq!(joined.json["role"], "member");
    assert_eq!(joined.json["member_count"], 2);
    assert_eq!(bob.join_room(room).await.json["member_count"], 2, "joining twice changes nothing");
    let mine = bob.call("my_rooms", &[]).await;
    assert_eq!(mine.json[0]["id"], room);

    let opened = bob.call("open_room", &[("room", &room.to_string())]).await;
    let members: Vec<_> =
        opened.json["members"].as_array().unwrap().iter().map(|m| m["profile"]["username"].clone()).collect();
    assert_eq!(members, ["alice", "bob"]);

    assert_eq!(bob.call("leave_room", &[("room", &room.to_string())]).await.status, StatusCode::OK);
    assert!(bob.call("my_rooms", &[]).await.json.as_array().unwrap().is_empty());
    assert_eq!(bob.call("leave_room", &[("room", &room.to_string())]).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_private_room_does_not_exist_for_outsiders() {
    let server = TestServer::start().await;
    let alice = server.browser();
    let eve = server.browser();
    alice.register("alice", PASSWORD).await;
    eve.register("eve", PASSWORD).await;
    let room = alice.create_room("Secret plans", "private").await;
    alice.post(room, "c1", "the plan").await;

    let missing = 999_999.to_string();
    for function in ["open_room", "join_room"] {
        let hidden = eve.call(function, &[("room", &room.to_string())]).await;
        let absent = eve.call(function, &[("room", &missing)]).await;
        assert_eq!(hidden.status, StatusCode::NOT_FOUND, "{function}");
        assert_eq!((hidden.status, hidden.json.clone()), (absent.status, absent.json), "{function}");
    }
    let history = eve.call("room_history", &[("room", &room.to_string()), ("before", "100")]).await;
    assert_eq!(history.status, StatusCode::NOT_FOUND);
    let posted =
        eve.call("post_message", &[("room", &room.to_string()), ("client_id", "x"), ("body", "hi")]).await;
    assert_eq!(posted.status, StatusCode::NOT_FOUND);
    assert!(eve.call("browse_rooms", &[("query", "secret")]).await.json.as_array().unwrap().is_empty());
    // Visitors get nothing at all.
    let visitor = server.browser();
    assert_eq!(
        visitor.call("open_room", &[("room", &room.to_string())]).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn messages_are_checked_and_resends_are_idempotent() {
    let server = TestServer::start().await;
    let alice = server.browser();
    alice.register("alice", PASSWORD).await;
    let room = alice.create_room("Checks", "public").await;
    let room_id = room.to_string();

    let empty =
        alice.call("post_message", &[("room", &room_id), ("client_id", "a"), ("body", "  \n ")]).await;
    assert_eq!(empty.problem("message").as_deref(), Some("required"));
    let long = "é".repeat(4001);
    let too_long =
        alice.call("post_message", &[("room", &room_id), ("client_id", "b"), ("body", &long)]).await;
    assert_eq!(too_long.problem("message").as_deref(), Some("too_long"));
    let bad_id =
        alice.call("post_message", &[("room", &room_id), ("client_id", "no spaces"), ("body", "x")]).await;
    assert_eq!(bad_id.status, StatusCode::BAD_REQUEST);

    let first = alice.post(room, "same-id", "hello").await;
    let again = alice.post(room, "same-id", "hello").await;
    assert_eq!(first, again, "a resend returns the original");
    let next = alice.post(room, "other-id", "<img src=x onerror=alert(1)>").await;
    assert_eq!(next, first + 1);
    let opened = alice.call("open_room", &[("room", &room_id)]).await;
    let bodies: Vec<_> =
        opened.json["messages"].as_array().unwrap().iter().map(|m| m["body"].clone()).collect();
    assert_eq!(bodies, ["hello", "<img src=x onerror=alert(1)>"]);
}

#[tokio::test]
async fn history_pages_return_every_message_exactly_once() {
    // Posts pages of history faster than anyone may.
    let server = TestServer::start_unlimited().await;
    let alice = server.browser();
    alice.register("alice", PASSWORD).await;
    let room = alice.create_room("Long history", "public").await;
    let total = 173;
    for i in 1..=total {
        alice.post(room, &format!("m{i}"), &format!("message {i}")).await;
    }
    let opened = alice.call("open_room", &[("room", &room.to_string())]).await;
    let mut seen: Vec<i64> = seqs(&opened.json["messages"]);
    let mut has_older = opened.json["has_older"].as_bool().unwrap();
    assert_eq!(seen.len(), 50);
    while has_older {
        let before = seen[0].to_string();
        let page = alice.call("room_history", &[("room", &room.to_string()), ("before", &before)]).await;
        let mut older = seqs(&page.json["messages"]);
        has_older = page.json["has_older"].as_bool().unwrap();
        older.extend(seen);
        seen = older;
    }
    assert_eq!(seen, (1..=total).collect::<Vec<_>>());
}

fn seqs(messages: &serde_json::Value) -> Vec<i64> {
    messages.as_array().unwrap().iter().map(|m| m["seq"].as_i64().unwrap()).collect()
}

#[tokio::test]
async fn unread_counts_follow_reads_and_own_messages() {
    let server = TestServer::start().await;
    let alice = server.browser();
    let bob = server.browser();
    alice.register("alice", PASSWORD).await;
    bob.register("bob", PASSWORD).await;
    let room = alice.create_room("Counts", "public").await;
    alice.post(room, "before-join", "not for bob").await;
    bob.join_room(room).await;
    assert_eq!(bob.call("my_rooms", &[]).await.json[0]["unread"], 0, "history before joining is not unread");
    alice.post(room, "a1", "one").await;
    alice.post(room, "a2", "two").await;
    let mine = bob.call("my_rooms", &[]).await;
    assert_eq!(mine.json[0]["unread"], 2);
    assert_eq!(mine.json[0]["last_message"]["text"], "two");
    bob.post(room, "b1", "read it all").await;
    assert_eq!(bob.call("my_rooms", &[]).await.json[0]["unread"], 0);
}

#[tokio::test]
async fn an_owner_who_leaves_hands_the_room_over() {
    let server = TestServer::start().await;
    let alice = server.browser();
    let bob = server.browser();
    alice.register("alice", PASSWORD).await;
    bob.register("bob", PASSWORD).await;
    let room = alice.create_room("Handover", "public").await;
    bob.join_room(room).await;
    alice.call("leave_room", &[("room", &room.to_string())]).await;
    assert_eq!(bob.call("my_rooms", &[]).await.json[0]["role"], "owner");
    // The last member to leave archives it: it is no longer listed.
    bob.call("leave_room", &[("room", &room.to_string())]).await;
    assert!(alice.call("browse_rooms", &[("query", "handover")]).await.json.as_array().unwrap().is_empty());
    assert_eq!(alice.join_room(room).await.status, StatusCode::NOT_FOUND);
}

/// The writer's group: several messages, resends of one another, refusals
/// and several rooms in one transaction, each with the answer it would get
/// alone, numbered in the group's order.
#[tokio::test]
async fn a_group_of_messages_is_numbered_in_order_and_resends_find_their_first_copy() {
    use app::domain::{ClientId, RoomId, Visibility};
    use app::store::{Appended, Engine, NewMessage, NewUser, Store};

    let dir = tempfile::tempdir().unwrap();
    let database = crate::support::TestDatabase::fresh().await;
    let store = Store::open(&database.url_in(dir.path())).await.unwrap();
    // The engine's own writer.
    async fn append(store: &Store, group: &[NewMessage<'_>]) -> Vec<Appended> {
        match store.engine() {
            Engine::Sqlite => store.message_log().unwrap().append(group, &[]).unwrap().0,
            Engine::Postgres => store.pg_message_log().append(group, &[]).await.unwrap().0,
        }
    }
    let mut users = Vec::new();
    for name in ["alice", "bob"] {
        let email = format!("{name}@example.com");
        let user = NewUser {
            username: name,
            username_key: name,
            email: &email,
            email_key: &email,
            password_hash: "x",
            join_code: None,
        };
        users.push(store.insert_user(user).await.unwrap().made().unwrap().id);
    }
    let (alice, bob) = (users[0], users[1]);
    let first = store.create_room(alice, "First", "first", "", Visibility::Public).await.unwrap();
    let second = store.create_room(alice, "Second", "second", "", Visibility::Private).await.unwrap();
    let id = |s: &str| ClientId::parse(s).unwrap();
    let (c1, c2, c3, c4) = (id("c1"), id("c2"), id("c3"), id("c4"));
    let new = |room: RoomId, author, client_id, body| NewMessage {
        room,
        author,
        client_id,
        body,
        html: "",
        reply: None,
        mentions: &[],
        event: None,
        attachments: &[],
    };
    let group = [
        new(first, alice, &c1, "one"),
        new(first, alice, &c1, "one again"),
        new(first, bob, &c2, "not a member"),
        new(second, bob, &c3, "a stranger"),
        new(second, alice, &c3, "elsewhere"),
        new(first, alice, &c4, "two"),
        new(RoomId(999), alice, &c2, "nowhere"),
        new(first, alice, &c1, "one, third copy"),
    ];
    let outcomes = append(&store, &group).await;
    let seen: Vec<String> = outcomes
        .iter()
        .map(|outcome| match outcome {
            Appended::New(m) => format!("new {} #{} {}", m.room.0, m.seq, m.body),
            Appended::Existing(m) => format!("existing {} #{} {}", m.room.0, m.seq, m.body),
            Appended::NotMember(visibility) => format!("not a member {visibility:?}"),
            Appended::Refused => "refused".into(),
            Appended::AttachmentGone => "attachment gone".into(),
        })
        .collect();
    let (f, s) = (first.0, second.0);
    assert_eq!(
        seen,
        [
            format!("new {f} #1 one"),
            format!("existing {f} #1 one"),
            "not a member Some(Public)".into(),
            "not a member Some(Private)".into(),
            format!("new {s} #1 elsewhere"),
            format!("new {f} #2 two"),
            "not a member None".into(),
            format!("existing {f} #1 one"),
        ]
    );
    // A later group continues the numbering and finds stored client ids.
    let c5 = id("c5");
    let c6 = id("c6");
    let event = NewMessage {
        room: first,
        author: alice,
        client_id: &c6,
        body: "",
        html: "",
        reply: None,
        mentions: &[],
        event: Some(("removed", bob)),
        attachments: &[],
    };
    let later = [new(first, alice, &c4, "two again"), new(first, alice, &c5, "three"), event];
    let outcomes = append(&store, &later).await;
    assert!(matches!(&outcomes[0], Appended::Existing(m) if m.seq == 2 && m.body == "two"));
    assert!(matches!(&outcomes[1], Appended::New(m) if m.seq == 3 && m.author.username == "alice"));
    // An event line names its subject.
    assert!(matches!(&outcomes[2], Appended::New(m) if m.seq == 4 && m.event.is_some()), "{:?}", outcomes[2]);
    // Writing in a room marks it read up to one's own last message.
    let rooms = store.rooms_of(alice).await.unwrap();
    assert!(rooms.iter().all(|room| room.unread == 0), "{rooms:?}");
    let history = store.history_page(first, None).await.unwrap();
    assert_eq!(history.messages.iter().map(|m| m.seq).collect::<Vec<_>>(), [1, 2, 3, 4]);
    assert!(!history.has_older);
}
