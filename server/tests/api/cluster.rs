//! Two instances on one database, sharing live events through one Redis
//! (behind a proxy the tests can take away): chat, kicks, friend requests,
//! presence and signing out cross instances live; a Redis or PostgreSQL outage loses
//! no message once the clients resume; a stopping instance sends its
//! clients elsewhere. The tests run on several worker threads, as a real
//! server does, so the hub and the relay see concurrent changes.

use crate::support::{Browser, Proxy, Socket, TestDatabase, TestServer, PATIENCE};
use app::domain::protocol::{ClientFrame, ServerFrame, CLOSE_RESTART, CLOSE_RESUME, CLOSE_SIGNED_OUT};
use app::domain::{ClientId, Message, RoomId, Seq};
use futures_util::StreamExt;
use reqwest::StatusCode;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// Instances `a` and `b`, linked through `redis`.
pub(crate) struct Cluster {
    pub(crate) a: TestServer,
    pub(crate) b: TestServer,
    redis: Proxy,
}

pub(crate) async fn cluster() -> Cluster {
    cluster_on(TestDatabase::fresh().await, None, |_| {}).await
}

/// A cluster on `database`, reached at `database_url` when given (a
/// proxy), with settings changed by `configure`.
pub(crate) async fn cluster_on(
    database: TestDatabase,
    database_url: Option<String>,
    configure: impl FnOnce(&mut server::config::Config),
) -> Cluster {
    let redis = Proxy::to(&crate::support::redis_url().await).await;
    let channel = crate::support::unique_name("salon_test");
    let a = TestServer::start_on_database(database, |config| {
        config.database_url = database_url.or(config.database_url.take());
        config.redis_url = Some(redis.url.clone());
        config.redis_channel = channel;
        configure(config);
    })
    .await;
    let b = a.another_instance().await;
    for instance in [&a, &b] {
        wait_linked(instance).await;
    }
    Cluster { a, b, redis }
}

/// Waits until `instance` receives the other instances' events.
async fn wait_linked(instance: &TestServer) {
    wait_for_metric(instance, "salon_redis_connected 1").await;
}

/// Waits until `instance`'s metrics have the line `line`.
async fn wait_for_metric(instance: &TestServer, line: &str) {
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        let metrics =
            reqwest::get(instance.url("/metrics")).await.expect("metrics").text().await.expect("text");
        if metrics.lines().any(|l| l == line) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("instance {} never reported {line}", instance.addr);
}

async fn id_of(browser: &Browser) -> i64 {
    browser.account().await["id"].as_i64().expect("a user id")
}

/// Picks the frame saying that `user` went online (or offline).
fn presence_of(user: i64, online: bool) -> impl FnMut(ServerFrame) -> Option<()> {
    move |frame| {
        matches!(frame, ServerFrame::Presence { user: u, online: o } if u.0 == user && o == online)
            .then_some(())
    }
}

fn client_id(text: &str) -> ClientId {
    ClientId::parse(text).expect("a valid client id")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_on_two_instances_chat_live_both_ways() {
    let Cluster { a, b, redis: _redis } = cluster().await;
    let alice = a.browser();
    let alice_id = alice.sign_up("alice").await;
    let bob = b.browser();
    let bob_id = bob.sign_up("bob").await;
    let room = alice.create_room("Across", "public").await;
    assert_eq!(bob.join_room(room).await.status, StatusCode::OK);

    // Alice has a tab on each instance, Bob one on B.
    let mut alice_here = alice.socket().await;
    let mut alice_there = alice.at(&b).socket().await;
    alice_here.subscribe(room, Some(0)).await;
    alice_there.subscribe(room, Some(0)).await;
    let mut bob_socket = bob.socket().await;
    bob_socket.subscribe(room, Some(0)).await;
    // Bob's arrival, announced on B, is seen on A.
    alice_here.until(presence_of(bob_id, true)).await;

    alice_here
        .send(&ClientFrame::Send {
            room: RoomId(room),
            client_id: client_id("a1"),
            body: "hi from A".into(),
            reply_to: None,
            attachments: Vec::new(),
        })
        .await;
    for socket in [&mut alice_here, &mut alice_there, &mut bob_socket] {
        assert_eq!(socket.next_message().await.body, "hi from A");
    }
    bob_socket
        .send(&ClientFrame::Send {
            room: RoomId(room),
            client_id: client_id("b1"),
            body: "hi from B".into(),
            reply_to: None,
            attachments: Vec::new(),
        })
        .await;
    for socket in [&mut alice_here, &mut alice_there, &mut bob_socket] {
        assert_eq!(socket.next_message().await.body, "hi from B");
    }

    // Typing on B shows on A; reading on A marks the room read on B.
    bob_socket.send(&ClientFrame::Typing { room: RoomId(room) }).await;
    alice_here
        .until(|frame| matches!(frame, ServerFrame::Typing { user, .. } if user.0 == bob_id).then_some(()))
        .await;
    alice_here.send(&ClientFrame::Read { room: RoomId(room), seq: 2 }).await;
    alice_there.until(|frame| matches!(frame, ServerFrame::RoomRead { seq: 2, .. }).then_some(())).await;

    // Members listed on either instance show both online.
    for browser in [&alice, &bob] {
        let view = browser.ok("open_room", &[("room", &room.to_string())]).await;
        let online: Vec<bool> =
            view["members"].as_array().expect("members").iter().map(|m| m["online"] == true).collect();
        assert_eq!(online, [true, true], "{view}");
    }

    let metrics = reqwest::get(a.url("/metrics")).await.expect("metrics").text().await.expect("text");
    assert!(metrics.contains("\nsalon_connections 1\n"), "{metrics}");
    assert!(!metrics.contains("\nsalon_messages_total 0\n"), "{metrics}");
    assert!(!metrics.contains("\nsalon_cluster_events_received_total 0\n"), "{metrics}");

    // B stops: its sockets are told to reconnect, B tells A that Bob
    // left, and Bob resumes on A.
    let (_, _kept_dir, _kept_database) = b.stop().await;
    assert_eq!(bob_socket.close_code(PATIENCE).await, Some(CLOSE_RESTART));
    assert_eq!(alice_there.close_code(PATIENCE).await, Some(CLOSE_RESTART));
    alice_here.until(presence_of(bob_id, false)).await;
    alice.post(room, "a2", "while you moved").await;
    let mut bob_socket = bob.at(&a).socket().await;
    alice_here.until(presence_of(bob_id, true)).await;
    let missed = bob_socket.subscribe(room, Some(2)).await;
    assert_eq!(missed.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), ["while you moved"]);
    assert_eq!(alice_id, id_of(&alice).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kick_on_one_instance_stops_delivery_on_the_other_at_once() {
    let Cluster { a, b, redis: _redis } = cluster().await;
    let alice = a.browser();
    alice.sign_up("alice").await;
    let bob = b.browser();
    let bob_id = bob.sign_up("bob").await;
    let carol = b.browser();
    carol.sign_up("carol").await;
    let room = alice.create_room("Strict", "private").await;
    for (browser, name) in [(&bob, "bob"), (&carol, "carol")] {
        alice.ok("invite", &[("room", &room.to_string()), ("username", name)]).await;
        browser.ok("invitation_accept", &[("room", &room.to_string())]).await;
    }
    let mut bob_socket = bob.socket().await;
    bob_socket.subscribe(room, Some(0)).await;
    let mut carol_socket = carol.socket().await;
    carol_socket.subscribe(room, Some(0)).await;

    alice.ok("kick", &[("room", &room.to_string()), ("user", &bob_id.to_string())]).await;
    bob_socket
        .until(|frame| {
            matches!(frame, ServerFrame::RemovedFromRoom { room: r, .. } if r.0 == room).then_some(())
        })
        .await;
    // Right after the kick returns, messages from either instance reach
    // Carol on B, and not Bob on B.
    carol.post(room, "c1", "from B after the kick").await;
    alice.post(room, "a1", "from A after the kick").await;
    let mut carol_saw = Vec::new();
    while carol_saw.len() < 2 {
        let message = carol_socket.next_message().await;
        if message.event.is_none() {
            carol_saw.push(message.body);
        }
    }
    assert_eq!(carol_saw, ["from B after the kick", "from A after the kick"]);
    while let Some(frame) = bob_socket.try_next(Duration::from_millis(500)).await {
        assert!(!matches!(frame, ServerFrame::Message { .. }), "delivered after the kick: {frame:?}");
    }
    // And Bob may not read it any more, on either instance.
    for reader in [bob.clone(), bob.at(&a)] {
        let history = reader.call("room_history", &[("room", &room.to_string()), ("before", "1000")]).await;
        assert_eq!(history.status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_friend_request_from_one_instance_appears_live_on_the_other() {
    let Cluster { a, b, redis: _redis } = cluster().await;
    let alice = a.browser();
    let alice_id = alice.sign_up("alice").await;
    let bob = b.browser();
    let bob_id = bob.sign_up("bob").await;
    let mut alice_socket = alice.socket().await;
    let mut bob_socket = bob.socket().await;

    alice.ok("friend_request", &[("username", "bob")]).await;
    bob_socket.until(|frame| matches!(frame, ServerFrame::FriendsChanged).then_some(())).await;
    let pending = bob.ok("pending", &[]).await;
    assert_eq!(pending["friend_requests"], 1, "{pending}");

    bob.ok("friend_accept", &[("user", &alice_id.to_string())]).await;
    alice_socket.until(|frame| matches!(frame, ServerFrame::FriendsChanged).then_some(())).await;
    let friends = alice.ok("friends", &[]).await;
    let bob_listed =
        friends["friends"].as_array().expect("friends").iter().find(|f| f["profile"]["id"] == bob_id);
    assert_eq!(bob_listed.map(|f| f["online"].clone()), Some(true.into()), "{friends}");

    // Friends see each other come and go, across instances (a socket
    // learns its user's friends when it opens).
    drop(bob_socket);
    wait_for_metric(&b, "salon_connections 0").await;
    let bob_socket = bob.socket().await;
    alice_socket.until(presence_of(bob_id, true)).await;
    drop(bob_socket);
    alice_socket.until(presence_of(bob_id, false)).await;

    // Signing out on A closes the session's sockets on B too.
    let mut alice_there = alice.at(&b).socket().await;
    assert_eq!(alice.call("logout", &[]).await.status, StatusCode::OK);
    for socket in [&mut alice_socket, &mut alice_there] {
        assert_eq!(socket.close_code(PATIENCE).await, Some(CLOSE_SIGNED_OUT));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_open_on_a_session_that_expires_is_closed_on_every_instance() {
    let Cluster { a, b, redis: _redis } = cluster().await;
    let alice = a.browser();
    alice.sign_up("alice").await;
    let mut here = alice.socket().await;
    let mut there = alice.at(&b).socket().await;

    // A month without a visit: her session expires. Each instance sweeps
    // expired sessions as it starts and every hour after; a third one
    // starting sweeps now.
    a.expire_session(&alice.session_cookie().expect("a session cookie")).await;
    let sweeper = a.another_instance().await;
    for socket in [&mut here, &mut there] {
        assert_eq!(socket.close_code(PATIENCE).await, Some(CLOSE_SIGNED_OUT));
    }
    assert!(alice.socket_from(Some(&a.url(""))).await.is_err(), "no session, no socket");
    sweeper.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_users_of_an_instance_that_falls_silent_go_offline() {
    let Cluster { a, redis: _redis, .. } = cluster().await;
    // C reaches Redis through a proxy of its own, so that it can vanish
    // alone (as a crashed machine would: no goodbye).
    let c_link = Proxy::to(&crate::support::redis_url().await).await;
    let c = a.another_instance_with(|config| config.redis_url = Some(c_link.url.clone())).await;
    wait_linked(&c).await;
    let (alice, bob, room) = alice_and_bob_in_a_room(&a, &c).await;
    let bob_id = id_of(&bob).await;
    let mut alice_socket = alice.socket().await;
    alice_socket.subscribe(room, Some(0)).await;
    let _bob_socket = bob.socket().await;
    alice_socket.until(presence_of(bob_id, true)).await;

    c_link.cut();
    let silent_for = app::services::cluster::SILENT_FOR + Duration::from_secs(10);
    let deadline = Instant::now() + silent_for;
    loop {
        let wait = deadline.saturating_duration_since(Instant::now());
        let frame = alice_socket.try_next(wait).await;
        let frame = frame.unwrap_or_else(|| panic!("Bob still online {silent_for:?} after C fell silent"));
        if presence_of(bob_id, false)(frame).is_some() {
            break;
        }
    }
    let view = alice.ok("open_room", &[("room", &room.to_string())]).await;
    let bob_listed =
        view["members"].as_array().expect("members").iter().find(|m| m["profile"]["id"] == bob_id);
    assert_eq!(bob_listed.map(|m| m["online"].clone()), Some(false.into()), "{view}");
}

/// Alice, signed up on `a`, and Bob, on `b`, both in a public room.
async fn alice_and_bob_in_a_room(a: &TestServer, b: &TestServer) -> (Browser, Browser, i64) {
    let alice = a.browser();
    alice.sign_up("alice").await;
    let bob = b.browser();
    bob.sign_up("bob").await;
    let room = alice.create_room("Both sides", "public").await;
    assert_eq!(bob.join_room(room).await.status, StatusCode::OK);
    (alice, bob, room)
}

/// One room as a tab holds it: its messages by sequence number, and the
/// tab's socket, which it reopens when told to resume (as the browser's
/// `live` and `timeline` modules do).
struct Tab {
    browser: Browser,
    room: i64,
    socket: Socket,
    messages: BTreeMap<Seq, Message>,
    resumes: usize,
}

impl Tab {
    async fn open(browser: Browser, room: i64) -> Tab {
        let mut socket = browser.socket().await;
        let messages = socket.subscribe(room, Some(0)).await;
        let mut tab = Tab { browser, room, socket, messages: BTreeMap::new(), resumes: 0 };
        tab.merge(messages);
        tab
    }

    fn merge(&mut self, messages: Vec<Message>) {
        for message in messages {
            let held = self.messages.entry(message.seq).or_insert_with(|| message.clone());
            assert_eq!(*held, message, "one sequence number, one message");
        }
    }

    /// The last message before the first gap: where to resume.
    fn resume_after(&self) -> Seq {
        let mut last = 0;
        while self.messages.contains_key(&(last + 1)) {
            last += 1;
        }
        last
    }

    /// Reads frames, resuming whenever told to, until the tab holds
    /// messages 1 to `count` without a gap.
    async fn catch_up_to(&mut self, count: Seq) {
        let deadline = Instant::now() + PATIENCE;
        while self.resume_after() < count {
            let frame =
                tokio::time::timeout_at(deadline, self.socket.stream.next()).await.unwrap_or_else(|_| {
                    panic!("{}'s tab held {:?}, wanted 1..={count}", self.browser.base, self.messages.keys())
                });
            match frame {
                Some(Ok(WsMessage::Text(text))) => match serde_json::from_str(&text) {
                    Ok(ServerFrame::Message { message }) => self.merge(vec![message]),
                    Ok(ServerFrame::Subscribed { messages, .. }) => self.merge(messages),
                    Ok(ServerFrame::SubscribeFailed { error, .. }) => panic!("subscribe refused: {error:?}"),
                    _ => {}
                },
                Some(Ok(WsMessage::Close(close))) => {
                    let code = close.map(|close| u16::from(close.code));
                    assert!(matches!(code, Some(CLOSE_RESUME | CLOSE_RESTART)), "closed with {code:?}");
                    self.resume().await;
                }
                Some(Ok(_)) => {}
                Some(Err(error)) => panic!("socket failed: {error}"),
                None => self.resume().await,
            }
        }
    }

    /// Reconnects and asks for what came after [`Tab::resume_after`]
    /// (the answer is read by [`Tab::catch_up_to`], which resumes again if
    /// this socket is closed too).
    async fn resume(&mut self) {
        self.resumes += 1;
        let deadline = Instant::now() + PATIENCE;
        self.socket = loop {
            // Closed before its hello: the instance was closing every
            // socket (it relinked to Redis); a tab tries again.
            if let Some(socket) = self.browser.try_socket().await {
                break socket;
            }
            assert!(Instant::now() < deadline, "{}: no socket would open", self.browser.base);
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let after = Some(self.resume_after());
        self.socket.send(&ClientFrame::Subscribe { room: RoomId(self.room), after }).await;
    }

    fn bodies(&self) -> Vec<&str> {
        self.messages.values().map(|message| message.body.as_str()).collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_outage_loses_no_message_once_clients_resume() {
    let Cluster { a, b, redis } = cluster().await;
    let (alice, bob, room) = alice_and_bob_in_a_room(&a, &b).await;
    let mut alice_tab = Tab::open(alice.clone(), room).await;
    let mut bob_tab = Tab::open(bob.clone(), room).await;
    alice.post(room, "before", "before the outage").await;
    bob_tab.catch_up_to(1).await;

    // Redis goes away for three seconds; both instances go on taking
    // messages (each one acknowledged, so committed).
    redis.cut();
    for i in 0..5 {
        alice.post(room, &format!("a{i}"), &format!("alice {i}")).await;
        bob.post(room, &format!("b{i}"), &format!("bob {i}")).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    redis.restore();
    for instance in [&a, &b] {
        wait_linked(instance).await;
    }

    // Each tab is told to resume and then holds every message.
    alice_tab.catch_up_to(11).await;
    bob_tab.catch_up_to(11).await;
    assert!(alice_tab.resumes > 0 && bob_tab.resumes > 0, "the tabs were told to resume");
    // Live again, both ways.
    alice.post(room, "after-a", "alice after").await;
    bob.post(room, "after-b", "bob after").await;
    alice_tab.catch_up_to(13).await;
    bob_tab.catch_up_to(13).await;
    let history = alice.history(room).await;
    let stored: Vec<&str> = history.iter().map(|message| message.body.as_str()).collect();
    assert_eq!(alice_tab.bodies(), stored);
    assert_eq!(bob_tab.bodies(), stored);
}

/// Only where the tests run on PostgreSQL (the PostgreSQL pass of the
/// test command); on SQLite there is no server to lose.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_restart_loses_no_acknowledged_message() {
    let database = TestDatabase::fresh().await;
    let Some(url) = database.url.clone() else {
        eprintln!("SQLite: no database server to restart (this test runs in the PostgreSQL pass)");
        return;
    };
    let postgres = Proxy::to(&url).await;
    let Cluster { a, b, redis: _redis } = cluster_on(database, Some(postgres.url.clone()), |_| {}).await;
    let (alice, bob, room) = alice_and_bob_in_a_room(&a, &b).await;
    let mut alice_tab = Tab::open(alice.clone(), room).await;
    let mut bob_tab = Tab::open(bob.clone(), room).await;

    // Both post without pause, retrying each message (same client id)
    // until it is acknowledged, while PostgreSQL goes away for 3 s.
    let until = Instant::now() + Duration::from_secs(7);
    let senders = [("a", alice.clone()), ("b", bob.clone())].map(|(name, browser)| {
        tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            let mut i = 0;
            while Instant::now() < until {
                let id = format!("{name}{i}");
                let seq = loop {
                    let reply = browser
                        .call(
                            "post_message",
                            &[("room", &room.to_string()), ("client_id", &id), ("body", &id)],
                        )
                        .await;
                    if reply.status == StatusCode::OK {
                        break reply.json["seq"].as_i64().expect("a sequence number");
                    }
                    assert!(Instant::now() < until + PATIENCE, "{id} never acknowledged: {:?}", reply.json);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                };
                acknowledged.push((seq, id));
                i += 1;
            }
            acknowledged
        })
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    postgres.cut();
    let ready = reqwest::get(a.url("/readyz")).await.expect("readiness");
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE, "not ready without its database");
    tokio::time::sleep(Duration::from_secs(3)).await;
    postgres.restore();
    let mut acknowledged = BTreeMap::new();
    for sender in senders {
        for (seq, id) in sender.await.expect("sender") {
            assert!(acknowledged.insert(seq, id).is_none(), "one number per acknowledged message");
        }
    }
    for instance in [&a, &b] {
        let ready = reqwest::get(instance.url("/readyz")).await.expect("readiness");
        assert_eq!(ready.status(), StatusCode::OK, "ready again");
    }

    // Every acknowledged message is stored once, under the number it was
    // acknowledged with, and the numbering has no gap.
    let history = alice.history(room).await;
    let stored: BTreeMap<Seq, String> =
        history.iter().map(|message| (message.seq, message.client_id.as_str().to_owned())).collect();
    assert_eq!(stored, acknowledged, "stored exactly what was acknowledged");
    assert_eq!(stored.keys().copied().collect::<Vec<_>>(), (1..=stored.len() as Seq).collect::<Vec<_>>());
    let count = stored.len() as Seq;
    assert!(count > 20, "messages were sent before, during and after: {count}");
    alice_tab.catch_up_to(count).await;
    bob_tab.catch_up_to(count).await;
}
