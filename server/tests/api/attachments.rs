//! Attachments against the real server, on both engines: uploads, images
//! made safe, files served only to the room's readers and never rendered,
//! claimed by one message only, and gone with it; and the refusals.

use crate::support::{png, Browser, Socket, TestServer, PASSWORD};
use app::domain::protocol::{ClientFrame, ServerFrame};
use app::domain::{Attachment, AttachmentId, ClientId, Message, RoomId};
use app::error::AppError;
use reqwest::StatusCode;
use std::path::Path;

async fn user(server: &TestServer, name: &str) -> Browser {
    let browser = server.browser();
    assert_eq!(browser.register(name, PASSWORD).await.status, StatusCode::OK);
    browser
}

/// A private room of `owner`'s with `member` in it.
async fn private_room(owner: &Browser, member: (&Browser, &str)) -> i64 {
    let room = owner.create_room("Photos", "private").await;
    let r = room.to_string();
    owner.ok("invite", &[("room", &r), ("username", member.1)]).await;
    member.0.ok("invitation_accept", &[("room", &r)]).await;
    room
}

fn uploaded(reply: &crate::support::Reply) -> Attachment {
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    serde_json::from_value(reply.json.clone()).expect("an attachment")
}

/// Sends a message carrying `files` over the socket: the message, or why not.
async fn send(
    socket: &mut Socket,
    room: i64,
    id: &str,
    body: &str,
    files: &[&Attachment],
) -> Result<Message, AppError> {
    let client_id = ClientId::parse(id).expect("a client id");
    socket
        .send(&ClientFrame::Send {
            room: RoomId(room),
            client_id: client_id.clone(),
            body: body.into(),
            reply_to: None,
            attachments: files.iter().map(|file| file.id.clone()).collect(),
        })
        .await;
    socket
        .until(|frame| match frame {
            ServerFrame::Ack { client_id: acked, message } if acked == client_id => Some(Ok(message)),
            ServerFrame::SendFailed { client_id: failed, error, .. } if failed == client_id => {
                Some(Err(error))
            }
            _ => None,
        })
        .await
}

/// The files kept on disk (uploads under way aside).
fn files_on_disk(data_dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(dirs) = std::fs::read_dir(data_dir.join("files")) else { return found };
    for dir in dirs.flatten().filter(|dir| dir.file_name() != "tmp") {
        for file in std::fs::read_dir(dir.path()).expect("a files directory").flatten() {
            found.push(file.file_name().to_string_lossy().into_owned());
        }
    }
    found
}

fn temporary_files(data_dir: &Path) -> usize {
    std::fs::read_dir(data_dir.join("files").join("tmp")).map_or(0, |dir| dir.count())
}

/// A JPEG photo carrying EXIF metadata (an APP1 segment right after the
/// start marker) with `secret` in it.
fn photo_with_metadata(secret: &str) -> Vec<u8> {
    let image =
        image::RgbImage::from_fn(1200, 900, |x, y| image::Rgb([(x % 200) as u8, (y % 200) as u8, 90]));
    let mut jpeg = std::io::Cursor::new(Vec::new());
    image.write_to(&mut jpeg, image::ImageFormat::Jpeg).expect("encode jpeg");
    let jpeg = jpeg.into_inner();
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend_from_slice(secret.as_bytes());
    let length = u16::try_from(payload.len() + 2).expect("a short segment");
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

#[tokio::test]
async fn images_are_made_safe_shown_to_readers_only_and_go_with_their_message() {
    let server = TestServer::start().await;
    let alice = user(&server, "alice").await;
    let bob = user(&server, "bob").await;
    let carol = user(&server, "carol").await;
    let room = private_room(&alice, (&bob, "bob")).await;
    let mut bobs = bob.socket().await;
    bobs.subscribe(room, None).await;

    let photo =
        uploaded(&alice.upload(room, "../holiday.jpg", photo_with_metadata("SECRET-GPS-48.85")).await);
    assert_eq!(photo.name, "holiday.jpg", "the folders the browser gave are dropped");
    let size = photo.image.expect("an image");
    assert_eq!((size.width, size.height), (1200, 900));
    assert_eq!(bob.fetch(&photo.url()).await.0, StatusCode::NOT_FOUND, "unsent: the uploader's only");
    assert_eq!(alice.fetch(&photo.url()).await.0, StatusCode::OK);

    let mut alices = alice.socket().await;
    let sent = send(&mut alices, room, "photo-1", "", &[&photo]).await.expect("a message with only a photo");
    assert_eq!(sent.attachments, std::slice::from_ref(&photo));
    assert_eq!(bobs.next_message().await.attachments, std::slice::from_ref(&photo), "live, with its file");

    let (status, headers, bytes) = bob.fetch(&photo.url()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "image/jpeg");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers["content-disposition"].to_str().unwrap().starts_with("inline;"));
    assert!(!contains(&bytes, b"SECRET-GPS"), "the metadata is gone");
    let full = image::load_from_memory(&bytes).expect("an image");
    assert_eq!((full.width(), full.height()), (1200, 900));
    let (status, headers, bytes) = bob.fetch(&photo.thumbnail_url()).await;
    assert_eq!((status, headers["content-type"].to_str().unwrap()), (StatusCode::OK, "image/jpeg"));
    let small = image::load_from_memory(&bytes).expect("a thumbnail");
    assert!(small.width() <= 640 && small.height() <= 480, "{}×{}", small.width(), small.height());

    assert_eq!(carol.fetch(&photo.url()).await.0, StatusCode::NOT_FOUND, "an outsider");
    assert_eq!(server.browser().fetch(&photo.url()).await.0, StatusCode::NOT_FOUND, "anonymous");
    let missing = format!("/files/{}", "0".repeat(AttachmentId::LEN));
    assert_eq!(bob.fetch(&missing).await.0, StatusCode::NOT_FOUND, "the same as a missing one");
    assert_eq!(bob.fetch("/files/..%2F..%2Fsalon.db").await.0, StatusCode::NOT_FOUND);

    let history = bob.ok("open_room", &[("room", &room.to_string())]).await;
    let page: Vec<Message> = serde_json::from_value(history["messages"].clone()).expect("messages");
    assert_eq!(
        page.last().expect("the photo").attachments,
        std::slice::from_ref(&photo),
        "history has it too"
    );
    assert_eq!(files_on_disk(&server.data_dir).len(), 2, "the photo and its thumbnail");

    let deleted =
        alice.call("delete_message", &[("room", &room.to_string()), ("seq", &sent.seq.to_string())]).await;
    assert_eq!(deleted.status, StatusCode::OK, "{:?}", deleted.json);
    assert_eq!(bob.fetch(&photo.url()).await.0, StatusCode::NOT_FOUND);
    assert_eq!(alice.fetch(&photo.thumbnail_url()).await.0, StatusCode::NOT_FOUND);
    assert!(files_on_disk(&server.data_dir).is_empty(), "its files are removed");
}

#[tokio::test]
async fn other_files_are_downloads_never_rendered() {
    let server = TestServer::start().await;
    let alice = user(&server, "alice").await;
    let bob = user(&server, "bob").await;
    let room = private_room(&alice, (&bob, "bob")).await;
    let page = b"<html><script>alert(document.cookie)</script></html>".to_vec();
    let file = uploaded(&alice.upload(room, "rapport d’été.html", page.clone()).await);
    assert_eq!((file.image, file.size), (None, page.len() as u64));
    let mut alices = alice.socket().await;
    send(&mut alices, room, "file-1", "the report", &[&file]).await.expect("sent");

    let (status, headers, bytes) = bob.fetch(&file.url()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, page, "kept as it came");
    assert_eq!(headers["content-type"], "application/octet-stream");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers["content-security-policy"].to_str().unwrap().contains("default-src 'none'"));
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(
        disposition.contains("filename*=UTF-8''rapport%20d%E2%80%99%C3%A9t%C3%A9%2Ehtml"),
        "{disposition}"
    );
    assert!(headers.get("content-encoding").is_none(), "never compressed on the fly");
    assert_eq!(bob.fetch(&file.thumbnail_url()).await.0, StatusCode::NOT_FOUND, "no thumbnail for a file");
}

#[tokio::test]
async fn bad_uploads_are_refused_clearly_and_leave_nothing_behind() {
    let server = TestServer::start_configured(|config| config.attachment_max_mb = 1).await;
    let alice = user(&server, "alice").await;
    let room = alice.create_room("Uploads", "private").await;
    let refused = |reply: crate::support::Reply| (reply.status, reply.problem("attachment"));

    let large = vec![7u8; 1024 * 1024 + 1];
    let (status, problem) = refused(alice.upload(room, "big.bin", large.clone()).await);
    assert_eq!((status, problem.as_deref()), (StatusCode::UNPROCESSABLE_ENTITY, Some("file_too_large")));
    // Without a length announced, it is refused as it passes the limit.
    let pieces: Vec<Result<Vec<u8>, std::io::Error>> =
        large.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
    let chunks = futures_util::stream::iter(pieces);
    let streamed = alice
        .client
        .post(server.url(app::domain::UPLOAD_PATH))
        .query(&[("room", room.to_string()), ("name", "big.bin".into())])
        .header("origin", &alice.base)
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .expect("a response");
    assert_eq!(streamed.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let mut truncated = png(64, 64);
    truncated.truncate(60);
    let (status, problem) = refused(alice.upload(room, "broken.png", truncated).await);
    assert_eq!((status, problem.as_deref()), (StatusCode::UNPROCESSABLE_ENTITY, Some("unsupported_image")));
    let bomb = png(6000, 3000);
    assert!(bomb.len() < 1024 * 1024, "{} bytes", bomb.len());
    let (_, problem) = refused(alice.upload(room, "bomb.png", bomb).await);
    assert_eq!(problem.as_deref(), Some("image_too_many_pixels"));
    let (_, problem) = refused(alice.upload(room, "empty.txt", Vec::new()).await);
    assert_eq!(problem.as_deref(), Some("required"));
    let no_room =
        alice.client.post(server.url(app::domain::UPLOAD_PATH)).header("origin", &alice.base).send();
    assert_eq!(no_room.await.expect("a response").status(), StatusCode::BAD_REQUEST);

    assert!(files_on_disk(&server.data_dir).is_empty(), "nothing kept");
    assert_eq!(temporary_files(&server.data_dir), 0, "nothing left half-written");
}

#[tokio::test]
async fn an_upload_is_claimed_by_one_message_of_its_uploader() {
    let server = TestServer::start().await;
    let alice = user(&server, "alice").await;
    let bob = user(&server, "bob").await;
    let room = private_room(&alice, (&bob, "bob")).await;
    let other = alice.create_room("Elsewhere", "private").await;
    let notes = uploaded(&alice.upload(room, "notes.txt", b"first".to_vec()).await);
    let same = uploaded(&alice.upload(room, "copy.txt", b"first".to_vec()).await);
    assert_ne!(notes.id, same.id, "one content, two attachments");
    assert_eq!(files_on_disk(&server.data_dir).len(), 1, "kept once");

    let gone = |result: Result<Message, AppError>| match result {
        Err(error) => error.problem_for(app::error::Field::Attachment).cloned(),
        Ok(message) => panic!("sent: {message:?}"),
    };
    let mut bobs = bob.socket().await;
    assert_eq!(
        gone(send(&mut bobs, room, "steal", "mine", &[&notes]).await),
        Some(app::error::Problem::AttachmentGone),
        "someone else's upload"
    );
    let mut alices = alice.socket().await;
    assert_eq!(
        gone(send(&mut alices, other, "moved", "here", &[&notes]).await),
        Some(app::error::Problem::AttachmentGone),
        "an upload of another room"
    );
    let sent = send(&mut alices, room, "notes-1", "notes", &[&notes]).await.expect("sent");
    assert_eq!(sent.attachments, std::slice::from_ref(&notes));
    assert_eq!(
        gone(send(&mut alices, room, "notes-2", "again", &[&notes]).await),
        Some(app::error::Problem::AttachmentGone),
        "already sent"
    );
    let resent = send(&mut alices, room, "notes-1", "notes", &[&notes]).await.expect("a resend");
    assert_eq!(
        (resent.seq, resent.attachments),
        (sent.seq, vec![notes.clone()]),
        "the original, files and all"
    );
    let eleven: Vec<Attachment> = (0..11).map(|_| same.clone()).collect();
    let refs: Vec<&Attachment> = eleven.iter().collect();
    assert_eq!(
        gone(send(&mut alices, room, "many", "", &refs).await),
        Some(app::error::Problem::TooManyAttachments { max: app::domain::MAX_ATTACHMENTS })
    );

    // Over HTTP, the same.
    let r = room.to_string();
    let posted = alice
        .call(
            "post_message",
            &[("room", &r), ("client_id", "http-1"), ("body", ""), ("attachments[0]", same.id.as_str())],
        )
        .await;
    assert_eq!(posted.status, StatusCode::OK, "{:?}", posted.json);
    assert_eq!(posted.json["attachments"][0]["id"], same.id.as_str());
    // Deleting one message keeps the content the other still carries.
    alice.ok("delete_message", &[("room", &r), ("seq", &sent.seq.to_string())]).await;
    assert_eq!(bob.fetch(&same.url()).await.0, StatusCode::OK);
    assert_eq!(files_on_disk(&server.data_dir).len(), 1);
}

#[tokio::test]
async fn uploads_never_sent_are_forgotten_with_their_files() {
    let server = TestServer::start().await;
    let alice = user(&server, "alice").await;
    let room = alice.create_room("Drafts", "private").await;
    let kept = uploaded(&alice.upload(room, "fresh.txt", b"kept".to_vec()).await);
    let old = uploaded(&alice.upload(room, "old.txt", b"forgotten".to_vec()).await);
    let (data_dir, temp, database) = server.stop().await;
    // A day and more ago (the sweep runs at start-up, then hourly).
    let url = database.as_ref().expect("the server's database").url_in(&data_dir);
    sqlx::any::install_default_drivers();
    let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(&url).await.expect("the database");
    sqlx::query("UPDATE attachments SET created_at = 0 WHERE id = $1")
        .bind(old.id.as_str())
        .execute(&mut db)
        .await
        .expect("aging an upload");
    let server = TestServer::restart(data_dir, database).await;
    let alice = alice.at(&server);
    // The sweep forgets the row, then removes the file: wait for both.
    let mut gone = false;
    for _ in 0..100 {
        if alice.fetch(&old.url()).await.0 == StatusCode::NOT_FOUND
            && files_on_disk(&server.data_dir).len() == 1
        {
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(gone, "an upload never sent for a day is forgotten, and only its file");
    assert_eq!(alice.fetch(&kept.url()).await.0, StatusCode::OK, "a recent one stays");
    drop(temp);
}

#[tokio::test]
async fn another_instance_shows_and_serves_the_files() {
    // Two instances on one database, one data directory and one Redis.
    let cluster = crate::cluster::cluster().await;
    let alice = user(&cluster.a, "alice").await;
    let bob = user(&cluster.b, "bob").await;
    let room = alice.create_room("Everywhere", "public").await;
    bob.join_room(room).await;
    let mut bobs = bob.socket().await;
    bobs.subscribe(room, Some(0)).await;
    let photo = uploaded(&alice.upload(room, "map.png", png(800, 600)).await);
    let mut alices = alice.socket().await;
    send(&mut alices, room, "map-1", "the map", &[&photo]).await.expect("sent");
    assert_eq!(bobs.next_message().await.attachments, std::slice::from_ref(&photo), "live on the other");
    let (status, headers, _) = bob.fetch(&photo.thumbnail_url()).await;
    assert_eq!((status, headers["content-type"].to_str().unwrap()), (StatusCode::OK, "image/jpeg"), "opaque");
    let (_, headers, _) = bob.fetch(&photo.url()).await;
    assert_eq!(headers["content-type"], "image/png", "the full image keeps its format");
}
