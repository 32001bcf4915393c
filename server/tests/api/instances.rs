//! Several instances on one database: what each commits stays consistent
//! with what the others commit (on SQLite: two writers on one file; on
//! PostgreSQL: two servers as a scaled-out deployment runs them).

use crate::support::{TestServer, PASSWORD};
use reqwest::StatusCode;
use std::collections::BTreeSet;

#[tokio::test]
async fn two_instances_number_one_room_without_gaps_or_duplicates() {
    let a = TestServer::start().await;
    let b = a.another_instance().await;
    for instance in [&a, &b] {
        let ready = reqwest::get(instance.url("/readyz")).await.expect("readiness");
        assert_eq!(ready.status(), StatusCode::OK, "an instance whose database answers is ready");
    }
    let alice = a.browser();
    assert_eq!(alice.register("alice", PASSWORD).await.status, StatusCode::OK);
    let bob = b.browser();
    assert_eq!(bob.register("bob", PASSWORD).await.status, StatusCode::OK);
    let room = alice.create_room("Busy", "public").await;
    assert_eq!(bob.join_room(room).await.status, StatusCode::OK);

    // Both instances take messages for the room at once, 8 senders each.
    const PER_SENDER: usize = 15;
    let mut senders = Vec::new();
    for (name, browser) in [("a", &alice), ("b", &bob)] {
        for sender in 0..8 {
            let browser = browser.clone();
            senders.push(tokio::spawn(async move {
                let mut seqs = Vec::new();
                for i in 0..PER_SENDER {
                    seqs.push(
                        browser
                            .post(room, &format!("{name}{sender}-{i}"), &format!("{name} {sender} {i}"))
                            .await,
                    );
                }
                seqs
            }));
        }
    }
    let mut seqs = Vec::new();
    for sender in senders {
        seqs.extend(sender.await.expect("sender"));
    }
    let total = 16 * PER_SENDER;
    let unique: BTreeSet<i64> = seqs.iter().copied().collect();
    assert_eq!(unique.len(), total, "every message has its own number");
    assert_eq!(unique.iter().copied().collect::<Vec<_>>(), (1..=total as i64).collect::<Vec<_>>(), "no gap");

    // The same client id sent to both instances at once is one message.
    let alice_at_b = alice.at(&b);
    let (first, second) =
        tokio::join!(alice.post(room, "twice", "once"), alice_at_b.post(room, "twice", "once"));
    assert_eq!(first, second);

    // Each instance reads the whole history, in order, each message once.
    for reader in [alice.clone(), bob.at(&a)] {
        let history = reader.history(room).await;
        let seqs: Vec<i64> = history.iter().map(|message| message.seq).collect();
        assert_eq!(seqs, (1..=total as i64 + 1).collect::<Vec<_>>());
        let bodies: BTreeSet<&str> = history.iter().map(|message| message.body.as_str()).collect();
        assert_eq!(bodies.len(), total + 1, "read once");
    }
}

/// The pool and the SQLite message writer open one file, whatever the
/// data directory's path looks like (spaces, `..`).
#[tokio::test]
async fn an_sqlite_path_with_spaces_and_dots_is_one_database() {
    use app::domain::{ClientId, Visibility};
    use app::store::{Appended, NewMessage, NewUser, Store};

    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("my data")).unwrap();
    std::fs::create_dir_all(dir.path().join("db dir")).unwrap();
    let url = format!("sqlite://{}/my data/../db dir/salon.db", dir.path().display());
    let store = Store::open(&url).await.expect("opens");
    let user = NewUser {
        username: "ann",
        username_key: "ann",
        email: "a@x.org",
        email_key: "a@x.org",
        password_hash: "x",
        join_code: None,
    };
    let ann = store.insert_user(user).await.unwrap().made().unwrap().id;
    let room = store.create_room(ann, "Here", "here", "", Visibility::Public).await.unwrap();
    let client_id = ClientId::parse("one").unwrap();
    let message = NewMessage {
        room,
        author: ann,
        client_id: &client_id,
        body: "hello",
        html: "",
        reply: None,
        mentions: &[],
        event: None,
        attachments: &[],
    };
    let (outcomes, _) = store.message_log().unwrap().append(&[message], &[]).unwrap();
    assert!(matches!(&outcomes[0], Appended::New(m) if m.seq == 1), "{outcomes:?}");
    assert!(dir.path().join("db dir/salon.db").exists());
}
