use super::*;
use crate::domain::protocol::{CLOSE_SIGNED_OUT, CLOSE_TOO_SLOW};
use tokio::sync::mpsc;

fn hello() -> Utf8Bytes {
    Utf8Bytes::from_static("hello")
}

/// Lets the time of a presence batch pass (each call later than the last).
fn later(hub: &Hub) {
    static BATCHES: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
    let batches = BATCHES.fetch_add(10, std::sync::atomic::Ordering::Relaxed);
    hub.flush_presence(Instant::now() + PRESENCE_BATCH * batches);
}

fn presence(user: i64) -> ServerFrame {
    ServerFrame::Presence { user: UserId(user), online: true }
}

#[test]
fn queue_items_stay_two_words() {
    assert_eq!(std::mem::size_of::<Outbound>(), 16);
}

#[test]
fn rooms_reach_their_subscribers_only() {
    let hub = Hub::default();
    let mut alice = hub.connect(UserId(1), None, &[RoomId(1)], &[], hello());
    let mut bob = hub.connect(UserId(2), None, &[RoomId(2)], &[], hello());
    // Bob's hello, then his arrival, announced in room 2 only.
    assert!(matches!(bob.queue.try_recv(), Ok(Outbound::Reply(_))));
    assert!(matches!(bob.queue.try_recv(), Ok(Outbound::Broadcast(_))));
    while alice.queue.try_recv().is_ok() {}
    hub.publish(RoomId(1), &presence(9));
    assert!(alice.queue.try_recv().is_ok());
    assert!(bob.queue.try_recv().is_err());
    hub.add_member(RoomId(1), UserId(2));
    hub.publish(RoomId(1), &presence(9));
    assert!(bob.queue.try_recv().is_ok());
    // Room 1 saw Bob join while online: it hears when he goes.
    while alice.queue.try_recv().is_ok() {}
    hub.disconnect(bob.id);
    later(&hub);
    assert!(matches!(alice.queue.try_recv(), Ok(Outbound::Broadcast(_))), "Bob went offline");
    let mut bob = hub.connect(UserId(2), None, &[RoomId(2)], &[], hello());
    while bob.queue.try_recv().is_ok() {}
    hub.add_member(RoomId(1), UserId(2));
    hub.remove_member(RoomId(1), UserId(2));
    hub.publish(RoomId(1), &presence(9));
    assert!(bob.queue.try_recv().is_err());
}

#[test]
fn big_rooms_get_messages_but_no_live_arrivals() {
    let hub = Hub::default();
    let mut watcher = hub.connect(UserId(1), None, &[RoomId(1)], &[], hello());
    let _crowd: Vec<Connection> = (2..=PRESENCE_ROOM_LIMIT as i64)
        .map(|user| hub.connect(UserId(user), None, &[RoomId(1)], &[], hello()))
        .collect();
    later(&hub);
    while watcher.queue.try_recv().is_ok() {}
    // One more makes the room too big for arrivals.
    let late = hub.connect(UserId(10_000), None, &[RoomId(1)], &[], hello());
    let last = hub.connect(UserId(10_001), None, &[RoomId(1)], &[], hello());
    later(&hub);
    assert!(watcher.queue.try_recv().is_err(), "no presence frame");
    hub.publish(RoomId(1), &presence(9));
    assert!(watcher.queue.try_recv().is_ok(), "room frames still arrive");
    // A departure follows an announced arrival, however big the room
    // has grown; one never announced is not either.
    hub.disconnect(2);
    later(&hub);
    assert!(matches!(watcher.queue.try_recv(), Ok(Outbound::Broadcast(_))), "user 2 went offline");
    hub.disconnect(late.id);
    later(&hub);
    assert!(watcher.queue.try_recv().is_err(), "user 10,000 was never announced");
    // Back under the limit, arrivals are announced again.
    hub.disconnect(last.id);
    for id in 3..=10 {
        hub.disconnect(id);
    }
    later(&hub);
    while watcher.queue.try_recv().is_ok() {}
    let _again = hub.connect(UserId(20_000), None, &[RoomId(1)], &[], hello());
    later(&hub);
    assert!(matches!(watcher.queue.try_recv(), Ok(Outbound::Broadcast(_))));
}

#[test]
fn presence_follows_the_first_and_last_socket() {
    let hub = Hub::default();
    let first = hub.connect(UserId(1), None, &[], &[], hello());
    let second = hub.connect(UserId(1), None, &[], &[], hello());
    assert!(hub.is_online(UserId(1)));
    hub.disconnect(first.id);
    assert!(hub.is_online(UserId(1)));
    hub.disconnect(second.id);
    assert!(!hub.is_online(UserId(1)));
    assert_eq!(hub.connection_count(), 0);
}

#[test]
fn a_full_queue_cuts_the_connection_off_without_blocking() {
    let hub = Hub::default();
    let slow = hub.connect(UserId(1), None, &[RoomId(1)], &[], hello());
    let mut fast = hub.connect(UserId(2), None, &[RoomId(1)], &[], hello());
    for _ in 0..QUEUE_CAPACITY + 10 {
        hub.publish(RoomId(1), &presence(9));
        while fast.queue.try_recv().is_ok() {}
    }
    // The slow one was told to go, and no longer receives the room.
    assert_eq!(block_on(slow.closing.requested()), CLOSE_TOO_SLOW);
    hub.publish(RoomId(1), &presence(9));
    assert!(fast.queue.try_recv().is_ok());
}

/// `Notify::notify_one` stores a permit, so a request made earlier is
/// seen at once.
fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a test runtime");
    runtime.block_on(async {
        tokio::time::timeout(std::time::Duration::from_secs(1), future).await.expect("in time")
    })
}

#[test]
fn presence_spans_instances_and_leaves_with_a_silent_one() {
    let hub = Hub::default();
    let mut watcher = hub.connect(UserId(1), None, &[RoomId(1)], &[], hello());
    while watcher.queue.try_recv().is_ok() {}
    let bob = Reach { user: UserId(2), rooms: vec![RoomId(1)], friends: vec![] };
    hub.apply(7, Event::Presence { online: true, reach: bob.clone() }, None);
    assert!(hub.is_online(UserId(2)));
    later(&hub);
    assert!(matches!(watcher.queue.try_recv(), Ok(Outbound::Broadcast(_))), "online on instance 7");
    // Online on a second instance too, then not: nothing new to say.
    hub.apply(8, Event::Presence { online: true, reach: bob.clone() }, None);
    hub.apply(8, Event::Presence { online: false, reach: bob }, None);
    later(&hub);
    assert!(watcher.queue.try_recv().is_err());
    assert!(hub.is_online(UserId(2)), "still on instance 7");
    // Instance 7 falls silent: Bob leaves with it.
    std::thread::sleep(Duration::from_millis(2));
    hub.expire_instances(Duration::from_millis(1));
    assert!(!hub.is_online(UserId(2)));
    later(&hub);
    assert!(matches!(watcher.queue.try_recv(), Ok(Outbound::Broadcast(_))), "offline");
    // A snapshot tells who is online there now.
    let carol = Reach { user: UserId(3), rooms: vec![RoomId(1)], friends: vec![] };
    hub.apply(9, Event::Snapshot { users: vec![carol] }, None);
    assert!(hub.is_online(UserId(3)));
    hub.apply(9, Event::Snapshot { users: vec![] }, None);
    assert!(!hub.is_online(UserId(3)));
}

#[test]
fn local_changes_are_relayed_and_remote_ones_are_not() {
    let hub = Hub::default();
    let (relay, mut relayed) = mpsc::channel(16);
    assert!(hub.set_relay(relay));
    let mut socket = hub.connect(UserId(1), None, &[RoomId(1)], &[], hello());
    assert!(matches!(relayed.try_recv(), Ok(Relayed::Event(Event::Presence { online: true, .. }, None))));
    hub.publish(RoomId(1), &presence(9));
    match relayed.try_recv() {
        Ok(Relayed::Event(Event::Room { room: RoomId(1), seq: None }, Some(text))) => {
            assert!(text.as_str().contains("presence"));
        }
        other => panic!("expected the room frame, got {other:?}"),
    }
    while socket.queue.try_recv().is_ok() {}
    hub.apply(5, Event::Room { room: RoomId(1), seq: None }, Some(Utf8Bytes::from_static("{}")));
    assert!(socket.queue.try_recv().is_ok(), "delivered here");
    assert!(relayed.try_recv().is_err(), "not sent back");
    hub.apply(5, Event::Lost, None);
    assert_eq!(block_on(socket.closing.requested()), crate::domain::protocol::CLOSE_RESUME);
}

#[test]
fn a_socket_closed_by_the_server_still_announces_the_departure() {
    let hub = Hub::default();
    let mut watcher = hub.connect(UserId(1), None, &[RoomId(1)], &[], hello());
    let leaving = hub.connect(UserId(2), Some("s".into()), &[RoomId(1)], &[], hello());
    while watcher.queue.try_recv().is_ok() {}
    hub.end_session(UserId(2), "s");
    hub.publish(RoomId(1), &presence(9));
    assert!(watcher.queue.try_recv().is_ok());
    hub.disconnect(leaving.id);
    later(&hub);
    match watcher.queue.try_recv() {
        Ok(Outbound::Broadcast(frame)) => assert!(frame.text.as_str().contains("\"online\":false")),
        other => panic!("expected Bob's departure, got {other:?}"),
    }
}

#[test]
fn ending_a_session_closes_its_sockets_only() {
    let hub = Hub::default();
    let laptop = hub.connect(UserId(1), Some("a".into()), &[], &[], hello());
    let phone = hub.connect(UserId(1), Some("b".into()), &[], &[], hello());
    hub.end_session(UserId(1), "a");
    assert_eq!(block_on(laptop.closing.requested()), CLOSE_SIGNED_OUT);
    hub.end_other_sessions(UserId(1), Some("b"));
    let still_open =
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime").block_on(
            async {
                tokio::time::timeout(std::time::Duration::from_millis(50), phone.closing.requested()).await
            },
        );
    assert!(still_open.is_err(), "the kept session's socket stays open");
}

#[test]
fn frames_published_together_arrive_in_order_and_count_against_the_queue() {
    let hub = Hub::default();
    let mut alice = hub.connect(UserId(1), None, &[RoomId(1), RoomId(2)], &[], hello());
    let mut bob = hub.connect(UserId(2), None, &[RoomId(2)], &[], hello());
    while alice.queue.try_recv().is_ok() {}
    while bob.queue.try_recv().is_ok() {}
    let frames = [presence(7), presence(8)];
    hub.publish_all(RoomId(1), &frames);
    for expected in frames.iter().filter_map(encode) {
        match alice.queue.try_recv() {
            Ok(Outbound::Broadcast(frame)) => assert_eq!(frame.text, expected),
            _ => panic!("each frame, in order"),
        }
    }
    assert!(alice.queue.try_recv().is_err());
    assert!(bob.queue.try_recv().is_err(), "nothing of room 1");
    // Room for one frame but not two: all or nothing, and cut off.
    for _ in 0..QUEUE_CAPACITY - 1 {
        hub.publish(RoomId(2), &presence(9));
    }
    hub.publish_all(RoomId(1), &frames);
    assert_eq!(block_on(alice.closing.requested()), CLOSE_TOO_SLOW);
    let room_2 = encode(&presence(9));
    let mut queued = 0;
    while let Ok(Outbound::Broadcast(frame)) = alice.queue.try_recv() {
        assert_eq!(Some(&frame.text), room_2.as_ref(), "no part of the pair");
        queued += 1;
    }
    assert_eq!(queued, QUEUE_CAPACITY - 1);
}

#[test]
fn a_busy_rooms_arrivals_come_together_and_a_quiet_rooms_at_once() {
    let hub = Hub::default();
    let mut watcher = hub.connect(UserId(1), None, &[RoomId(1)], &[], hello());
    while watcher.queue.try_recv().is_ok() {}
    later(&hub);
    // Quiet: the first arrival at once, alone.
    let _first = hub.connect(UserId(2), None, &[RoomId(1)], &[], hello());
    match watcher.queue.try_recv() {
        Ok(Outbound::Broadcast(frame)) => assert!(frame.text.as_str().contains("\"type\":\"presence\"")),
        other => panic!("expected the first arrival, got {other:?}"),
    }
    // Busy: the next ones wait for the batch, each user once, in order.
    let crowd: Vec<Connection> =
        (3..=60).map(|user| hub.connect(UserId(user), None, &[RoomId(1)], &[], hello())).collect();
    hub.disconnect(crowd[0].id);
    assert!(watcher.queue.try_recv().is_err(), "gathered, not sent yet");
    later(&hub);
    let frame = match watcher.queue.try_recv() {
        Ok(Outbound::Broadcast(frame)) => frame,
        other => panic!("expected the batch, got {other:?}"),
    };
    let ServerFrame::PresenceMany { changes } = serde_json::from_str(frame.text.as_str()).expect("a frame")
    else {
        panic!("expected presence_many, got {}", frame.text.as_str());
    };
    assert_eq!(changes.len(), 58);
    assert_eq!(changes.last().map(|c| (c.user, c.online)), Some((UserId(3), false)), "user 3's latest");
    assert!(watcher.queue.try_recv().is_err(), "one frame");
    // Quiet again after a batch's time with nothing to say.
    later(&hub);
    later(&hub);
    let _next = hub.connect(UserId(100), None, &[RoomId(1)], &[], hello());
    assert!(watcher.queue.try_recv().is_ok(), "at once");
}
