use super::*;
use crate::domain::{RoomEvent, Seq};

fn target(user: i64, notify: Notify) -> PushTarget {
    PushTarget {
        user: UserId(user),
        device: PushDevice {
            endpoint: "https://push.example/1".into(),
            p256dh: String::new(),
            auth: String::new(),
        },
        previews: true,
        notify,
        blocks_author: false,
        direct: false,
        room_name: "general".into(),
        lang: "en".into(),
    }
}

fn message(author: i64, mentions: &[i64]) -> Message {
    Message {
        mentions: mentions.iter().map(|id| UserId(*id)).collect(),
        ..Message::sample(7 as Seq, author, 0)
    }
}

#[test]
fn each_rule_decides_once() {
    let plain = message(1, &[]);
    let mention = message(1, &[2]);
    assert!(wanted(&target(2, Notify::All), &plain, false), "all: every message");
    assert!(!wanted(&target(2, Notify::Mentions), &plain, false), "mentions: not a plain message");
    assert!(wanted(&target(2, Notify::Mentions), &mention, false), "mentions: a mention");
    assert!(!wanted(&target(2, Notify::Nothing), &mention, false), "nothing: not even a mention");
    assert!(!wanted(&target(1, Notify::All), &plain, false), "never one's own");
    assert!(!wanted(&target(2, Notify::All), &plain, true), "not while looking at the room");
    let blocked = PushTarget { blocks_author: true, ..target(2, Notify::All) };
    assert!(!wanted(&blocked, &mention, false), "not from someone blocked");
    let subject = message(3, &[]).author;
    let event = Message { event: Some(RoomEvent::Removed { user: subject }), ..message(1, &[]) };
    assert!(!wanted(&target(2, Notify::All), &event, false), "not a room's event line");
}

#[test]
fn payloads_name_the_room_and_respect_previews() {
    let body = Message { body: "hello   there\nfriend".into(), ..message(1, &[]) };
    let shown = payload(&target(2, Notify::All), &body);
    assert_eq!((shown.title.as_str(), shown.body.as_str()), ("general", "user1: hello there friend"));
    assert_eq!(shown.url, "/rooms/1?at=7");
    assert_eq!(shown.tag, "room-1");
    let direct = PushTarget { direct: true, ..target(2, Notify::All) };
    let shown = payload(&direct, &body);
    assert_eq!((shown.title.as_str(), shown.body.as_str()), ("user1", "hello there friend"));
    let hidden = payload(&PushTarget { previews: false, lang: "fr".into(), ..direct }, &body);
    assert_eq!((hidden.title.as_str(), hidden.body.as_str()), ("user1", "Nouveau message"));
}

#[test]
fn devices_must_use_a_public_https_push_service() {
    let keys = |endpoint: &str| PushDevice {
        endpoint: endpoint.into(),
        // A valid P-256 point and a 16-byte secret (RFC 8291's example).
        p256dh: "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
            .into(),
        auth: "BTBZMqHH6r4Tts7J_aSIgg".into(),
    };
    assert_eq!(check_device(&keys("https://fcm.googleapis.com/fcm/send/abc"), false), Ok(()));
    let unsupported = Err(AppError::field(Field::Notifications, Problem::PushServiceUnsupported));
    for endpoint in [
        "http://push.example/1",
        "http://127.0.0.1:9/push",
        "https://127.0.0.1/push",
        "https://10.0.0.8/push",
        "https://[::1]/push",
        "https://localhost/push",
        "https://localhost./push",
        "https://[::ffff:10.0.0.1]/push",
        "https://[fe80::1]/push",
        "https://100.64.0.1/push",
        "https://user:pw@push.example/1",
        "not a url",
    ] {
        assert_eq!(check_device(&keys(endpoint), false), unsupported, "{endpoint}");
    }
    assert_eq!(check_device(&keys("http://127.0.0.1:9/push"), true), Ok(()), "tests' own push service");
    assert_eq!(
        check_device(&keys(&format!("https://push.example/{}", "a".repeat(1100))), false),
        unsupported
    );
    let bad_key = PushDevice { auth: "c2hvcnQ".into(), ..keys("https://push.example/1") };
    assert_eq!(check_device(&bad_key, false), Err(AppError::BadRequest));
}
