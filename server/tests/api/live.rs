//! The realtime contract, with real WebSocket clients against the real
//! server: delivery in order, access control, idempotent sends, resume
//! after disconnects, and slow readers.

use crate::support::{Browser, TestServer, PASSWORD, PATIENCE};
use app::domain::protocol::{ClientFrame, ServerFrame};
use app::domain::{ClientId, Message, RoomId, Seq};
use futures_util::SinkExt;
use reqwest::StatusCode;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message as WsMessage;

fn id(text: &str) -> ClientId {
    ClientId::parse(text).expect("a valid client id")
}

async fn user(server: &TestServer, name: &str) -> Browser {
    let browser = server.browser();
    assert_eq!(browser.register(name, PASSWORD).await.status, StatusCode::OK);
    browser
}

#[tokio::test]
async fn two_members_see_each_others_messages_in_order() {
    let server = TestServer::start().await;
    let alice = user(&server, "alice").await;
    let bob = user(&server, "bob").await;
    let room = alice.create_room("Lobby", "public").await;
    bob.join_room(room).await;
    let mut alice_socket = alice.socket().await;
    let mut bob_socket = bob.socket().await;
    alice_socket.subscribe(room, Some(0)).await;
    bob_socket.subscribe(room, Some(0)).await;

    // Alternating senders; each waits for its acknowledgement, noting the
    // live messages that arrive meanwhile.
    let mut received: [Vec<Message>; 2] = [Vec::new(), Vec::new()];
    for i in 0..10 {
        let (sender, name) = if i % 2 == 0 { (&mut alice_socket, "a") } else { (&mut bob_socket, "b") };
        let seen = &mut received[(i % 2) as usize];
        sender
            .send(&ClientFrame::Send {
                room: RoomId(room),
                client_id: id(&format!("{name}{i}")),
                body: format!("hello {i}"),
                reply_to: None,
                attachments: Vec::new(),
            })
            .await;
        let ack = sender
            .until(|frame| match frame {
                ServerFrame::Ack { message, .. } => Some(message),
                ServerFrame::Message { message } => {
                    seen.push(message);
                    None
                }
                ServerFrame::SendFailed { error, .. } => panic!("send refused: {error:?}"),
                _ => None,
            })
            .await;
        assert_eq!(ack.seq, i + 1);
    }
    for (socket, seen) in [&mut alice_socket, &mut bob_socket].into_iter().zip(&mut received) {
        while seen.len() < 10 {
            seen.push(socket.next_message().await);
        }
        let seqs: Vec<Seq> = seen.iter().map(|m| m.seq).collect();
        assert_eq!(seqs, (1..=10).collect::<Vec<_>>());
        assert_eq!(seen[9].body, "hello 9");
    }
}

#[tokio::test]
async fn typing_and_presence_reach_the_room() {
    let server = TestServer::start().await;
    let alice = user(&server, "alice").await;
    let bob = user(&server, "bob").await;
    let room = alice.create_room("Chatter", "public").await;
    bob.join_room(room).await;
    let mut alice_socket = alice.socket().await;
    let mut bob_socket = bob.socket().await;
    let bob_id = bob.account().await["id"].as_i64().unwrap();
    alice_socket
        .until(|frame| {
            matches!(frame, ServerFrame::Presence { user, online: true } if user.0 == bob_id).then_some(())
        })
        .await;
    bob_socket.send(&ClientFrame::Typing { room: RoomId(room) }).await;
    let name = alice_socket
        .until(|frame| match frame {
            ServerFrame::Typing { name, .. } => Some(name),
            _ => None,
        })
        .await;
    assert_eq!(name, "bob");
    drop(bob_socket);
    alice_socket
        .until(|frame| {
            matches!(frame, ServerFrame::Presence { user, online: false } if user.0 == bob_id).then_some(())
        })
        .await;
}

#[tokio::test]
async fn sockets_need_a_session_and_this_sites_origin() {
    let server = TestServer::start().await;
    let visitor = server.browser();
    assert!(visitor.socket_from(Some(&server.url(""))).await.is_err(), "no session, no socket");
    let alice = user(&server, "alice").await;
    let foreign = alice.socket_from(Some("http://evil.example")).await;
    match foreign {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status(), 403),
        other => panic!("a foreign origin must be refused, got {:?}", other.map(|_| "a socket")),
    }
    assert!(alice.socket_from(Some(&server.url(""))).await.is_ok());
}

#[tokio::test]
async fn outsiders_cannot_subscribe_to_a_private_room() {
    let server = TestServer::start().await;
    let alice = user(&server, "alice").await;
    let eve = user(&server, "eve").await;
    let room = alice.create_room("Private", "private").await;
    alice.post(room, "p1", "secret").await;
    let mut eve_socket = eve.socket().await;
    eve_socket.send(&ClientFrame::Subscribe { room: RoomId(room), after: Some(0) }).await;
    let refused = eve_socket
        .until(|frame| match frame {
            ServerFrame::SubscribeFailed { error, .. } => Some(error),
            ServerFrame::Subscribed { .. } => panic!("an outsider subscribed to a private room"),
            _ => None,
        })
        .await;
    assert_eq!(refused, app::error::AppError::NotFound);
    eve_socket
        .send(&ClientFrame::Send {
            room: RoomId(room),
            client_id: id("e1"),
            body: "let me in".into(),
            reply_to: None,
            attachments: Vec::new(),
        })
        .await;
    let error = eve_socket
        .until(|frame| match frame {
            ServerFrame::SendFailed { error, .. } => Some(error),
            _ => None,
        })
        .await;
    assert_eq!(error, app::error::AppError::NotFound);
    // Nothing of the room reaches her afterwards.
    alice.post(room, "p2", "still secret").await;
    assert_eq!(eve_socket.try_next(Duration::from_millis(300)).await, None);
}

/// Sockets read into a small buffer (most sockets are idle); the largest
/// message a client may send still arrives whole.
#[tokio::test]
async fn the_largest_message_arrives_over_the_socket() {
    let server = TestServer::start().await;
    let alice = user(&server, "alice").await;
    let room = alice.create_room("Long reads", "public").await;
    let mut socket = alice.socket().await;
    socket.subscribe(room, Some(0)).await;
    // 4,000 characters of four bytes each: 16,000 bytes in one frame.
    let body = "🦀".repeat(app::domain::MESSAGE_MAX);
    socket
        .send(&ClientFrame::Send {
            room: RoomId(room),
            client_id: id("long"),
            body: body.clone(),
            reply_to: None,
            attachments: Vec::new(),
        })
        .await;
    let acked = socket
        .until(|frame| match frame {
            ServerFrame::Ack { message, .. } => Some(message),
            _ => None,
        })
        .await;
    assert_eq!(acked.body, body);
}

#[tokio::test]
async fn pings_and_closes_are_answered_as_the_protocol_asks() {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::protocol::{frame::coding::CloseCode, CloseFrame};
    let server = TestServer::start().await;
    let alice = user(&server, "alice").await;
    let mut socket = alice.socket().await;
    socket.stream.send(WsMessage::Ping("are you there".into())).await.expect("send a ping");
    let pong = loop {
        match tokio::time::timeout(PATIENCE, socket.stream.next()).await.expect("in time") {
            Some(Ok(WsMessage::Pong(payload))) => break payload,
            Some(Ok(_)) => continue,
            other => panic!("expected a pong, got {other:?}"),
        }
    };
    assert_eq!(&pong[..], b"are you there");
    let bye = CloseFrame { code: CloseCode::Normal, reason: "done".into() };
    socket.stream.send(WsMessage::Close(Some(bye))).await.expect("send a close");
    assert_eq!(socket.close_code(PATIENCE).await, Some(1000), "the close is answered");
}

#[tokio::test]
async fn malformed_frames_are_ignored_and_floods_cut_off() {
    let server = TestServer::start().await;
    let alice = user(&server, "alice").await;
    let room = alice.create_room("Noise", "public").await;
    let mut socket = alice.socket().await;
    socket.subscribe(room, Some(0)).await;
    socket.stream.send(WsMessage::text("{not a frame")).await.expect("send");
    socket
        .send(&ClientFrame::Send {
            room: RoomId(room),
            client_id: id("after-noise"),
            body: "still here".into(),
            reply_to: None,
            attachments: Vec::new(),
        })
        .await;
    let acked = socket
        .until(|frame| match frame {
            ServerFrame::Ack { message, .. } => Some(message),
            _ => None,
        })
        .await;
    assert_eq!(acked.body, "still here");

    // Far beyond the burst allowance of client frames; sending fails once
    // the server has closed the socket.
    let frame = serde_json::to_string(&ClientFrame::WatchPublicRooms { watch: false }).expect("encode");
    for _ in 0..400 {
        if socket.stream.send(WsMessage::text(frame.clone())).await.is_err() {
            break;
        }
    }
    assert!(socket.close_code(PATIENCE).await.is_some(), "a flooding socket is closed");
}

#[tokio::test]
async fn a_resent_client_id_creates_one_message() {
    let server = TestServer::start().await;
    let alice = user(&server, "alice").await;
    let room = alice.create_room("Once", "public").await;
    let mut socket = alice.socket().await;
    socket.subscribe(room, Some(0)).await;
    let send = ClientFrame::Send {
        room: RoomId(room),
        client_id: id("retry-me"),
        body: "only once".into(),
        reply_to: None,
        attachments: Vec::new(),
    };
    for _ in 0..3 {
        socket.send(&send).await;
    }
    let mut acks = Vec::new();
    while acks.len() < 3 {
        if let ServerFrame::Ack { message, .. } = socket.next().await {
            acks.push(message.seq);
        }
    }
    assert_eq!(acks, [1, 1, 1]);
    let opened = alice.call("open_room", &[("room", &room.to_string())]).await;
    assert_eq!(opened.json["messages"].as_array().unwrap().len(), 1);
}

/// Alice posts steadily while Bob's connection drops at random moments;
/// each time, Bob reconnects, resumes after the last message he saw, and
/// must end up with every message exactly once, in order.
#[tokio::test]
async fn reconnecting_clients_miss_nothing_and_see_nothing_twice() {
    let server = TestServer::start_unlimited().await;
    let alice = user(&server, "alice").await;
    let bob = user(&server, "bob").await;
    let room = alice.create_room("Flaky network", "public").await;
    bob.join_room(room).await;
    let total: Seq = 400;

    let poster = tokio::spawn(async move {
        for i in 1..=total {
            alice.post(room, &format!("m{i}"), &format!("message {i}")).await;
            if i % 7 == 0 {
                tokio::time::sleep(Duration::from_millis(3)).await;
            }
        }
    });

    let mut seen: Vec<Seq> = Vec::new();
    let mut random = 0x2545_f491_u64;
    let mut reconnects = 0;
    while seen.last().copied() != Some(total) {
        let mut socket = bob.socket().await;
        reconnects += 1;
        let after = seen.last().copied().unwrap_or(0);
        socket.send(&ClientFrame::Subscribe { room: RoomId(room), after: Some(after) }).await;
        // Live messages of his rooms may come before the catch-up answer;
        // from the answer on, the room's messages must be contiguous.
        random = random.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let mut budget = 1 + (random >> 33) % 40;
        let mut caught_up = false;
        while budget > 0 && seen.last().copied() != Some(total) {
            match socket.next().await {
                ServerFrame::Subscribed { messages, .. } => {
                    caught_up = true;
                    for message in messages {
                        assert_eq!(message.seq, seen.last().copied().unwrap_or(0) + 1, "catch-up continues");
                        seen.push(message.seq);
                    }
                }
                ServerFrame::Message { message } if caught_up => {
                    assert_eq!(message.seq, seen.last().copied().unwrap_or(0) + 1, "no gap, no duplicate");
                    seen.push(message.seq);
                    budget -= 1;
                }
                _ => {}
            }
        }
        drop(socket);
    }
    poster.await.expect("the poster finishes");
    assert_eq!(seen, (1..=total).collect::<Vec<_>>());
    assert!(reconnects > 10, "the test dropped the connection often ({reconnects})");
}

#[tokio::test]
async fn a_client_too_far_behind_is_told_to_resync() {
    let server = TestServer::start_unlimited().await;
    let alice = user(&server, "alice").await;
    let room = alice.create_room("Busy", "public").await;
    let mut socket = alice.socket().await;
    // Claims to have seen nothing of a room with more than the resume
    // limit of messages.
    let limit = app::domain::protocol::RESUME_LIMIT as i64;
    let posts: Vec<_> = (0..limit + 1)
        .map(|i| {
            let alice = alice.clone();
            tokio::spawn(async move { alice.post(room, &format!("r{i}"), "x").await })
        })
        .collect();
    for post in posts {
        post.await.expect("posted");
    }
    socket.send(&ClientFrame::Subscribe { room: RoomId(room), after: Some(0) }).await;
    socket
        .until(|frame| match frame {
            ServerFrame::Resync { room: resync } => {
                assert_eq!(resync.0, room);
                Some(())
            }
            ServerFrame::Subscribed { .. } => panic!("expected a resync"),
            _ => None,
        })
        .await;
}

/// A socket that stops reading must not hold up the room: the others get
/// every message, and the slow one is cut off.
#[tokio::test]
async fn a_client_that_stops_reading_does_not_stall_the_others() {
    let server = TestServer::start_unlimited().await;
    let alice = user(&server, "alice").await;
    let bob = user(&server, "bob").await;
    let carol = user(&server, "carol").await;
    let room = alice.create_room("Firehose", "public").await;
    bob.join_room(room).await;
    carol.join_room(room).await;
    let mut slow = bob.slow_socket().await;
    let mut fast = carol.socket().await;
    fast.subscribe(room, Some(0)).await;

    // Large messages fill the slow socket's kernel buffers quickly; then
    // its queue overflows.
    let body = "x".repeat(3900);
    let total: Seq = 3000;
    let poster = {
        let body = body.clone();
        tokio::spawn(async move {
            let mut batch = Vec::new();
            for i in 1..=total {
                let alice = alice.clone();
                let body = body.clone();
                batch.push(tokio::spawn(async move { alice.post(room, &format!("f{i}"), &body).await }));
                if batch.len() == 50 {
                    for post in batch.drain(..) {
                        post.await.expect("posted");
                    }
                }
            }
            for post in batch {
                post.await.expect("posted");
            }
        })
    };
    let mut last = 0;
    while last < total {
        let message = fast.next_message().await;
        assert_eq!(message.seq, last + 1);
        last = message.seq;
    }
    poster.await.expect("the poster finishes");

    // The slow socket got part of the stream, then was closed.
    let mut received = 0;
    while let Some(frame) = slow.try_next(Duration::from_secs(5)).await {
        if matches!(frame, ServerFrame::Message { .. }) {
            received += 1;
        }
    }
    assert!(received < total, "the slow socket was cut off ({received} of {total} delivered)");
}

#[tokio::test]
async fn leaving_a_room_stops_its_delivery_at_once() {
    let server = TestServer::start().await;
    let alice = user(&server, "alice").await;
    let bob = user(&server, "bob").await;
    let open_room = alice.create_room("Revolving door", "public").await;
    bob.join_room(open_room).await;
    let mut socket = bob.socket().await;
    socket.subscribe(open_room, Some(0)).await;
    alice.post(open_room, "o1", "hello").await;
    assert_eq!(socket.next_message().await.body, "hello");

    let left = bob.call("leave_room", &[("room", &open_room.to_string())]).await;
    assert_eq!(left.status, StatusCode::OK);
    socket
        .until(|frame| matches!(frame, ServerFrame::RoomLeft { room } if room.0 == open_room).then_some(()))
        .await;
    alice.post(open_room, "o2", "after you left").await;
    while let Some(frame) = socket.try_next(Duration::from_millis(500)).await {
        assert!(!matches!(frame, ServerFrame::Message { .. }), "delivered after leaving: {frame:?}");
    }
}

#[tokio::test]
async fn ended_sessions_close_their_sockets() {
    let server = TestServer::start().await;
    let laptop = user(&server, "alice").await;
    let phone = server.browser();
    assert_eq!(phone.login("alice", PASSWORD).await.status, StatusCode::OK);
    let mut laptop_socket = laptop.socket().await;
    let mut phone_socket = phone.socket().await;
    let signed_out = Some(app::domain::protocol::CLOSE_SIGNED_OUT);

    // A password change on the laptop ends the phone's session, and its
    // socket; the laptop's goes on.
    let new_password = "another long enough secret";
    let changed = laptop.change_password(PASSWORD, new_password).await;
    assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.json);
    assert_eq!(phone_socket.close_code(PATIENCE).await, signed_out);
    assert_eq!(laptop_socket.close_code(Duration::from_millis(300)).await, None);

    // Signing out closes the laptop's socket too.
    assert_eq!(laptop.call("logout", &[]).await.status, StatusCode::OK);
    assert_eq!(laptop_socket.close_code(PATIENCE).await, signed_out);
}

/// Posting has one limit per person, whatever the way in: sends over two
/// sockets and over HTTP count against the same allowance, and what goes
/// past it is refused in words, not dropped.
#[tokio::test]
async fn posting_is_limited_per_person_across_sockets_and_http() {
    let server = TestServer::start().await;
    let alice = user(&server, "alice").await;
    let room = alice.create_room("Flood", "public").await;
    let mut sockets = [alice.socket().await, alice.socket().await];
    // Each socket stays within its own frame rate; together they do not.
    let per_socket = 90;
    for i in 0..per_socket {
        for (n, socket) in sockets.iter_mut().enumerate() {
            let frame = ClientFrame::Send {
                room: RoomId(room),
                client_id: id(&format!("s{n}-{i}")),
                body: "flood".into(),
                reply_to: None,
                attachments: Vec::new(),
            };
            socket.send(&frame).await;
        }
    }
    let (mut acked, mut refused) = (0, 0);
    for socket in &mut sockets {
        for _ in 0..per_socket {
            let was_sent = socket
                .until(|frame| match frame {
                    ServerFrame::Ack { .. } => Some(true),
                    ServerFrame::SendFailed { error, .. } => {
                        assert!(matches!(error, app::error::AppError::RateLimited { .. }), "{error:?}");
                        Some(false)
                    }
                    _ => None,
                })
                .await;
            if was_sent {
                acked += 1;
            } else {
                refused += 1;
            }
        }
    }
    assert!(refused > 0 && acked >= 120, "{acked} sent, {refused} refused");
    // Over HTTP too, at once: the allowance refills at 30 a second, so
    // among 40 sent together most find it still spent.
    let room = room.to_string();
    let posts: Vec<_> = (0..40)
        .map(|n| {
            let (alice, room) = (alice.clone(), room.clone());
            tokio::spawn(async move {
                let client_id = format!("h{n}");
                alice.call("post_message", &[("room", &room), ("client_id", &client_id), ("body", "x")]).await
            })
        })
        .collect();
    let mut refused_over_http = 0;
    for post in posts {
        let reply = post.await.expect("a post");
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            assert!(reply.headers.contains_key("retry-after"));
            refused_over_http += 1;
        } else {
            assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
        }
    }
    assert!(refused_over_http > 20, "the same allowance: only {refused_over_http} of 40 refused");
}
