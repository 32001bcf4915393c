//! Push notifications against a mock push service on the test's own port:
//! it checks each push's VAPID signature and decrypts its payload with the
//! device's private key (made here), as a browser's push service and the
//! browser would.

use crate::support::{Browser, TestDatabase, TestServer, PASSWORD};
use app::domain::protocol::{ClientFrame, ServerFrame};
use app::domain::{PushPayload, RoomId};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use base64ct::{Base64UrlUnpadded, Encoding};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use web_push_native::jwt_simple::prelude::*;
use web_push_native::p256::elliptic_curve::sec1::ToEncodedPoint;
use web_push_native::{p256, Auth};

/// A push the mock service took, decrypted.
#[derive(Debug)]
struct Push {
    device: String,
    payload: PushPayload,
}

/// How the mock answers pushes to a device, by its name's start.
fn answer(device: &str) -> (StatusCode, Duration) {
    if device.starts_with("gone") {
        (StatusCode::GONE, Duration::ZERO)
    } else if device.starts_with("failing") {
        (StatusCode::INTERNAL_SERVER_ERROR, Duration::ZERO)
    } else if device.starts_with("slow") {
        (StatusCode::CREATED, Duration::from_secs(30))
    } else {
        (StatusCode::CREATED, Duration::ZERO)
    }
}

struct Mock {
    base: String,
    pushes: mpsc::UnboundedReceiver<(String, HeaderMap, Vec<u8>)>,
    /// The server's VAPID public key, as browsers get it.
    key: String,
}

impl Mock {
    async fn start(key: String) -> Self {
        let (tx, pushes) = mpsc::unbounded_channel();
        let app = axum::Router::new()
            .route(
                "/push/{device}",
                axum::routing::post(
                    |State(tx): State<mpsc::UnboundedSender<_>>,
                     Path(device): Path<String>,
                     headers: HeaderMap,
                     body: axum::body::Bytes| async move {
                        let (status, delay) = answer(&device);
                        let _ = tx.send((device, headers, body.to_vec()));
                        tokio::time::sleep(delay).await;
                        status
                    },
                ),
            )
            .with_state(tx);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { base, pushes, key }
    }

    /// The next push, checked and decrypted.
    async fn next(&mut self) -> Push {
        let (device, headers, body) = tokio::time::timeout(Duration::from_secs(10), self.pushes.recv())
            .await
            .expect("a push within 10 s")
            .expect("the mock is running");
        assert_eq!(headers["content-encoding"], "aes128gcm");
        assert!(headers["ttl"].to_str().unwrap().parse::<u64>().unwrap() > 0);
        let vapid = headers["authorization"].to_str().unwrap();
        let (token, key) = vapid
            .strip_prefix("vapid t=")
            .and_then(|rest| rest.split_once(", k="))
            .unwrap_or_else(|| panic!("a VAPID authorization: {vapid}"));
        assert_eq!(key, self.key, "signed with the key browsers subscribed with");
        let public = ES256PublicKey::from_bytes(&Base64UrlUnpadded::decode_vec(key).unwrap()).unwrap();
        // The audience is the push service's origin (web-push-native
        // leaves out the port, which real push services do not have).
        let options = VerificationOptions {
            allowed_audiences: Some(HashSet::from_strings(&["http://127.0.0.1"])),
            ..Default::default()
        };
        let claims = public.verify_token::<NoCustomClaims>(token, Some(options)).expect("a valid VAPID JWT");
        assert_eq!(claims.subject.as_deref(), Some("mailto:postmaster@localhost"));
        let (secret, auth) = device_keys(&device);
        let plain = web_push_native::decrypt(body, &secret, &auth).expect("a payload for this device");
        Push { device, payload: serde_json::from_slice(&plain).expect("a JSON payload") }
    }

    /// Fails if a push arrives within `wait`.
    async fn nothing_within(&mut self, wait: Duration) {
        if let Ok(Some((device, ..))) = tokio::time::timeout(wait, self.pushes.recv()).await {
            panic!("an unexpected push to {device}");
        }
    }
}

/// The device's private key and secret, made from its name.
fn device_keys(device: &str) -> (p256::SecretKey, Auth) {
    let seed = device.bytes().fold(1u8, |a, b| a.wrapping_mul(31).wrapping_add(b)).max(1);
    let secret = p256::SecretKey::from_slice(&[seed; 32]).expect("a P-256 scalar");
    (secret, Auth::clone_from_slice(&[seed.wrapping_add(1); 16]))
}

/// Subscribes `browser`'s user with device `device` of the mock.
async fn subscribe(browser: &Browser, mock: &Mock, device: &str) -> String {
    let (secret, auth) = device_keys(device);
    let public = secret.public_key().to_encoded_point(false);
    let endpoint = format!("{}/push/{device}", mock.base);
    let args = [
        ("endpoint", endpoint.as_str()),
        ("p256dh", &Base64UrlUnpadded::encode_string(public.as_bytes())),
        ("auth", &Base64UrlUnpadded::encode_string(&auth)),
    ];
    browser.ok("push_subscribe", &args).await;
    endpoint
}

fn pushing(config: &mut server::config::Config) {
    config.rate_limits = false;
    config.push_allow_http = true;
}

async fn push_server() -> (TestServer, Mock) {
    let server = TestServer::start_configured(pushing).await;
    let mock = mock_for(&server).await;
    (server, mock)
}

/// A mock push service checking pushes against `server`'s key.
async fn mock_for(server: &TestServer) -> Mock {
    let someone = server.browser();
    someone.sign_up("keyholder").await;
    let key = someone.ok("push_settings", &[]).await["key"].as_str().unwrap().to_owned();
    Mock::start(key).await
}

/// Alice and Bob signed up, and their direct conversation: (alice, bob,
/// alice's id, the conversation).
async fn alice_and_bob_in_a_dm(server: &TestServer) -> (Browser, Browser, i64, i64) {
    let (alice, bob) = (server.browser(), server.browser());
    let alice_id = alice.sign_up("alice").await;
    bob.sign_up("bob").await;
    let dm = bob.ok("direct", &[("user", &s(alice_id))]).await["id"].as_i64().unwrap();
    (alice, bob, alice_id, dm)
}

fn s(id: i64) -> String {
    id.to_string()
}

#[tokio::test]
async fn direct_messages_and_mentions_are_pushed_as_each_member_chose() {
    let (server, mut mock) = push_server().await;
    let (alice, bob, carol) = (server.browser(), server.browser(), server.browser());
    let alice_id = alice.sign_up("alice").await;
    bob.sign_up("bob").await;
    let carol_id = carol.sign_up("carol").await;
    subscribe(&alice, &mock, "alice").await;
    let room = alice.create_room("general", "public").await;
    bob.join_room(room).await;
    carol.join_room(room).await;
    let dm = bob.ok("direct", &[("user", &s(alice_id))]).await["id"].as_i64().unwrap();

    // A direct message is pushed by default, with its text and its link.
    let seq = bob.post(dm, "d1", "psst, alice").await;
    let push = mock.next().await;
    assert_eq!(push.device, "alice");
    let expected = PushPayload {
        title: "bob".into(),
        body: "psst, alice".into(),
        url: format!("/rooms/{dm}?at={seq}"),
        tag: format!("room-{dm}"),
    };
    assert_eq!(push.payload, expected);

    // In a room, only mentions by default. Each message that must not be
    // pushed is followed by a direct message that must: the next push is
    // that one.
    bob.post(room, "r1", "hello everyone").await;
    bob.post(room, "r2", "@alice look at this").await;
    let push = mock.next().await.payload;
    assert_eq!((push.title.as_str(), push.body.as_str()), ("general", "bob: @alice look at this"));

    // Nothing: not even a mention.
    alice.ok("room_notify", &[("room", &s(room)), ("level", "nothing")]).await;
    bob.post(room, "r3", "@alice again").await;
    bob.post(dm, "d2", "control 1").await;
    assert_eq!(mock.next().await.payload.body, "control 1");

    // All messages.
    alice.ok("room_notify", &[("room", &s(room)), ("level", "all")]).await;
    bob.post(room, "r4", "just chatting").await;
    assert_eq!(mock.next().await.payload.body, "bob: just chatting");

    // Never one's own, never from someone one blocks.
    alice.post(room, "a1", "my own words").await;
    alice.ok("block", &[("user", &s(carol_id))]).await;
    carol.post(room, "c1", "@alice hi from carol").await;
    bob.post(dm, "d3", "control 2").await;
    assert_eq!(mock.next().await.payload.body, "control 2");

    // Previews off: who and where, not what.
    alice.ok("push_previews", &[("on", "false")]).await;
    bob.post(dm, "d4", "secret plans").await;
    let push = mock.next().await.payload;
    assert_eq!((push.title.as_str(), push.body.as_str()), ("bob", "New message"));
    bob.post(room, "r5", "the menu").await;
    assert_eq!(mock.next().await.payload.body, "New message from bob");

    // Worded in the language of the browser that subscribed the device.
    alice.jar_add("lang=fr");
    subscribe(&alice, &mock, "alice").await;
    bob.post(dm, "d5", "en français").await;
    assert_eq!(mock.next().await.payload.body, "Nouveau message");
    mock.nothing_within(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn nothing_is_pushed_from_a_room_its_member_is_looking_at() {
    let (server, mut mock) = push_server().await;
    let (alice, bob, _, dm) = alice_and_bob_in_a_dm(&server).await;
    subscribe(&alice, &mock, "alice").await;

    let mut socket = alice.socket().await;
    socket.send(&ClientFrame::Looking { room: RoomId(dm) }).await;
    // Frames are handled in order: once this is answered, so was that.
    socket.send(&ClientFrame::Subscribe { room: RoomId(dm), after: None }).await;
    socket.until(|frame| matches!(frame, ServerFrame::Subscribed { .. }).then_some(())).await;
    bob.post(dm, "d1", "you are reading this").await;
    mock.nothing_within(Duration::from_secs(1)).await;

    // Closing the tab does not end the quiet minute at once.
    drop(socket);
    bob.post(dm, "d2", "still quiet").await;
    mock.nothing_within(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn the_test_notification_reaches_only_ones_own_device_and_gone_devices_are_forgotten() {
    let (server, mut mock) = push_server().await;
    let (alice, bob) = (server.browser(), server.browser());
    let alice_id = alice.sign_up("alice").await;
    bob.sign_up("bob").await;
    let endpoint = subscribe(&alice, &mock, "alice").await;
    alice.ok("push_test", &[("endpoint", &endpoint)]).await;
    let push = mock.next().await.payload;
    assert_eq!((push.title.as_str(), push.body.as_str()), ("Salon", "Notifications work on this device."));
    assert_eq!(bob.call("push_test", &[("endpoint", &endpoint)]).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        server.browser().call("push_test", &[("endpoint", &endpoint)]).await.status,
        StatusCode::UNAUTHORIZED
    );

    // A push service that says the device is gone (410): forgotten.
    let gone = subscribe(&alice, &mock, "gone-phone").await;
    let dm = bob.ok("direct", &[("user", &s(alice_id))]).await["id"].as_i64().unwrap();
    bob.post(dm, "d1", "anyone there?").await;
    let mut devices = vec![mock.next().await.device, mock.next().await.device];
    devices.sort();
    assert_eq!(devices, ["alice", "gone-phone"]);
    let started = Instant::now();
    while alice.call("push_test", &[("endpoint", &gone)]).await.status != StatusCode::NOT_FOUND {
        assert!(started.elapsed() < Duration::from_secs(5), "the gone device is forgotten");
        let _ = mock.next().await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Unsubscribing stops the pushes.
    alice.ok("push_unsubscribe", &[("endpoint", &endpoint)]).await;
    bob.post(dm, "d2", "hello?").await;
    mock.nothing_within(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn a_device_is_notified_no_more_once_its_session_ends() {
    let (server, mut mock) = push_server().await;
    let (alice, bob, alice_id, dm) = alice_and_bob_in_a_dm(&server).await;
    let room = bob.create_room("general", "public").await;
    alice.join_room(room).await;

    // A sign-out (a shared browser): the next person sees nothing of hers.
    subscribe(&alice, &mock, "laptop").await;
    alice.ok("logout", &[]).await;
    bob.post(dm, "d1", "after the sign-out").await;

    // A password change ends her other sessions, and their devices.
    let phone = server.browser();
    assert_eq!(phone.login("alice", PASSWORD).await.status, StatusCode::OK);
    subscribe(&phone, &mock, "phone").await;
    let desk = server.browser();
    assert_eq!(desk.login("alice", PASSWORD).await.status, StatusCode::OK);
    subscribe(&desk, &mock, "desk").await;
    assert_eq!(desk.change_password(PASSWORD, "another long secret").await.status, StatusCode::OK);
    bob.post(dm, "d2", "after the password change").await;
    assert_eq!(mock.next().await.device, "desk");
    mock.nothing_within(Duration::from_secs(1)).await;

    // Deactivated by an admin (the server's first account): no more either.
    let admin = server.browser();
    assert_eq!(admin.login("keyholder", PASSWORD).await.status, StatusCode::OK);
    bob.post(room, "g0", "@alice ping").await;
    assert_eq!(mock.next().await.device, "desk", "still pushed before");
    admin.ok("admin_set_active", &[("user", &s(alice_id)), ("active", "false")]).await;
    bob.post(room, "g1", "@alice still there?").await;
    mock.nothing_within(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn a_device_is_notified_no_more_once_its_session_expires() {
    let (server, mut mock) = push_server().await;
    let (alice, bob, _, dm) = alice_and_bob_in_a_dm(&server).await;
    subscribe(&alice, &mock, "laptop").await;
    bob.post(dm, "d1", "while she visits").await;
    assert_eq!(mock.next().await.device, "laptop");

    // A month without a visit: her session expires. Each instance sweeps
    // expired sessions as it starts and every hour after.
    let session = alice.session_cookie().expect("a session cookie");
    server.expire_session(&session).await;
    let mut database = server.database().await;
    let sweeper = server.another_instance().await;
    let count = "SELECT COUNT(*) FROM sessions WHERE id = $1";
    for _ in 0..200 {
        let left: i64 = sqlx::query_scalar(count).bind(&session).fetch_one(&mut database).await.unwrap();
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let left: i64 = sqlx::query_scalar(count).bind(&session).fetch_one(&mut database).await.unwrap();
    assert_eq!(left, 0, "the expired session was deleted");
    bob.post(dm, "d2", "a month later").await;
    mock.nothing_within(Duration::from_secs(1)).await;
    sweeper.stop().await;
}

#[tokio::test]
async fn subscriptions_must_name_a_public_push_service_and_real_keys() {
    let (server, mock) = push_server().await;
    let alice = server.browser();
    alice.sign_up("alice").await;
    let (secret, auth) = device_keys("alice");
    let p256dh = Base64UrlUnpadded::encode_string(secret.public_key().to_encoded_point(false).as_bytes());
    let auth = Base64UrlUnpadded::encode_string(&auth);
    for endpoint in ["https://10.1.2.3/push/x", "http://push.example/x", "ftp://push.example/x"] {
        let reply = alice
            .call("push_subscribe", &[("endpoint", endpoint), ("p256dh", &p256dh), ("auth", &auth)])
            .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{endpoint}");
        assert!(reply.problem("notifications").is_some(), "{endpoint}: {:?}", reply.json);
    }
    let endpoint = format!("{}/push/x", mock.base);
    let reply = alice
        .call("push_subscribe", &[("endpoint", &endpoint), ("p256dh", "bm90IGEga2V5"), ("auth", &auth)])
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let anonymous = server.browser();
    let reply = anonymous
        .call("push_subscribe", &[("endpoint", &endpoint), ("p256dh", &p256dh), ("auth", &auth)])
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_slow_or_failing_push_service_delays_neither_messages_nor_other_pushes() {
    let (server, mut mock) = push_server().await;
    let (alice, bob, erin, frank) = (server.browser(), server.browser(), server.browser(), server.browser());
    let alice_id = alice.sign_up("alice").await;
    bob.sign_up("bob").await;
    let erin_id = erin.sign_up("erin").await;
    let frank_id = frank.sign_up("frank").await;
    subscribe(&alice, &mock, "alice").await;
    subscribe(&erin, &mock, "slow-erin").await;
    let failing = subscribe(&frank, &mock, "failing-frank").await;
    let to_erin = bob.ok("direct", &[("user", &s(erin_id))]).await["id"].as_i64().unwrap();
    let to_frank = bob.ok("direct", &[("user", &s(frank_id))]).await["id"].as_i64().unwrap();
    let to_alice = bob.ok("direct", &[("user", &s(alice_id))]).await["id"].as_i64().unwrap();
    let mut erins_tab = erin.socket().await;

    let started = Instant::now();
    for n in 0..20 {
        bob.post(to_erin, &format!("e{n}"), "are you there?").await;
        bob.post(to_frank, &format!("f{n}"), "and you?").await;
    }
    assert!(started.elapsed() < Duration::from_secs(5), "40 sends took {:?}", started.elapsed());
    for _ in 0..20 {
        erins_tab.next_message().await;
    }
    bob.post(to_alice, "a1", "meanwhile").await;
    let started = Instant::now();
    loop {
        let push = mock.next().await;
        if push.device == "alice" {
            break;
        }
    }
    assert!(started.elapsed() < Duration::from_secs(5), "alice's push waited {:?}", started.elapsed());
    // A failing push service is not a gone device: it is kept.
    let reply = frank.call("push_test", &[("endpoint", &failing)]).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", reply.json);
    assert!(reply.problem("notifications").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_two_instances_each_push_is_sent_once_and_looking_counts_everywhere() {
    let cluster = crate::cluster::cluster_on(TestDatabase::fresh().await, None, pushing).await;
    let mut mock = mock_for(&cluster.a).await;
    let alice = cluster.a.browser();
    let alice_id = alice.sign_up("alice").await;
    let bob = cluster.b.browser();
    bob.sign_up("bob").await;
    let b_key = bob.ok("push_settings", &[]).await["key"].as_str().unwrap().to_owned();
    assert_eq!(b_key, mock.key, "every instance signs with the one key");
    subscribe(&alice, &mock, "alice").await;
    let dm = bob.ok("direct", &[("user", &s(alice_id))]).await["id"].as_i64().unwrap();

    bob.post(dm, "d1", "one push").await;
    assert_eq!(mock.next().await.payload.body, "one push");
    mock.nothing_within(Duration::from_secs(1)).await;

    // Alice looks at the conversation on instance B; Bob writes on A.
    let on_b = alice.at(&cluster.b);
    let mut socket = on_b.socket().await;
    socket.send(&ClientFrame::Looking { room: RoomId(dm) }).await;
    socket.send(&ClientFrame::Subscribe { room: RoomId(dm), after: None }).await;
    socket.until(|frame| matches!(frame, ServerFrame::Subscribed { .. }).then_some(())).await;
    let bob_on_a = bob.at(&cluster.a);
    let started = Instant::now();
    // The word crosses Redis meanwhile: a push may go out only before it.
    loop {
        bob_on_a.post(dm, &format!("q{}", started.elapsed().as_millis()), "seen?").await;
        if tokio::time::timeout(Duration::from_millis(300), mock.pushes.recv()).await.is_err() {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "looking on B never reached A");
    }
}
