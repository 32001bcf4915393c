//! `salon backup` and `salon restore` (issue 19): a backup taken while
//! messages are being written, restored into a fresh data directory,
//! serves every message acknowledged before the backup began, and the
//! attachments' files.

use crate::support::{TestDatabase, TestServer, PASSWORD};
use reqwest::StatusCode;
use server::backup::{backup, restore, BackupError};
use server::config::Config;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

#[tokio::test]
async fn a_backup_taken_under_writes_restores_every_acknowledged_message() {
    let server =
        TestServer::start_on_database(TestDatabase::sqlite(), |config| config.rate_limits = false).await;
    let alice = server.browser();
    alice.sign_up("alice").await;
    let room = alice.create_room("Archive", "public").await;
    let file = alice.upload(room, "plan.txt", b"the plan".to_vec()).await;
    let file_id = file.json["id"].as_str().expect("an attachment").to_owned();
    let args = [
        ("room", room.to_string()),
        ("client_id", "f".into()),
        ("body", "attached".into()),
        ("attachments[0]", file_id.clone()),
    ];
    let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    alice.ok("post_message", &args).await;

    // Writers post without pause; each acknowledged message is recorded.
    let acknowledged = Arc::new(Mutex::new(Vec::<i64>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..2)
        .map(|writer| {
            let (browser, acknowledged, stop) = (alice.clone_session(), acknowledged.clone(), stop.clone());
            tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let seq = browser.post(room, &format!("w{writer}-{n}"), &format!("message {n}")).await;
                    acknowledged.lock().expect("the list").push(seq);
                }
            })
        })
        .collect();
    while acknowledged.lock().expect("the list").len() < 50 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let before: Vec<i64> = acknowledged.lock().expect("the list").clone();
    let dir = tempfile::tempdir().expect("a directory");
    let copied = backup(server.config(), dir.path()).await.expect("a backup");
    let during = acknowledged.lock().expect("the list").len();
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.await.expect("a writer");
    }
    assert!(during > before.len(), "messages were written during the backup");
    assert_eq!(copied.files, 1, "the attachment's file");
    assert!(matches!(backup(server.config(), dir.path()).await, Err(BackupError::NotEmpty(_))));

    // Restored into a fresh data directory, a server serves it.
    let data = tempfile::tempdir().expect("a data directory");
    let config = Config::for_data_dir(data.path().to_path_buf());
    restore(&config, dir.path()).expect("restored");
    assert!(
        matches!(restore(&config, dir.path()), Err(BackupError::HasDatabase(_))),
        "never over a database"
    );
    let restored = TestServer::restart(data.path().to_path_buf(), Some(TestDatabase::sqlite())).await;
    let alice = alice.at(&restored);
    assert_eq!(alice.login("alice", PASSWORD).await.status, StatusCode::OK);
    let mut db = restored.database().await;
    let stored: Vec<i64> = sqlx::query_scalar("SELECT seq FROM messages WHERE room_id = $1")
        .bind(room)
        .fetch_all(&mut db)
        .await
        .expect("the messages");
    let missing: Vec<&i64> = before.iter().filter(|seq| !stored.contains(seq)).collect();
    assert!(missing.is_empty(), "acknowledged before the backup but missing: {missing:?}");
    let (status, _, body) = alice.fetch(&format!("/files/{file_id}")).await;
    assert_eq!((status, body.as_slice()), (StatusCode::OK, b"the plan".as_slice()));
    drop(data);
}

#[tokio::test]
async fn postgres_is_backed_up_with_its_own_tools() {
    let mut config = Config::for_data_dir(std::env::temp_dir());
    config.database_url = Some("postgres://postgres@127.0.0.1:5432/salon".into());
    let dir = tempfile::tempdir().expect("a directory");
    assert!(matches!(backup(&config, dir.path()).await, Err(BackupError::Postgres)));
    assert!(matches!(restore(&config, dir.path()), Err(BackupError::Postgres)));
}
