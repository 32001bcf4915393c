//! Profiles over HTTP: editing, password changes, avatars, public views.

use crate::support::{png, TestServer, PASSWORD};
use reqwest::StatusCode;

#[tokio::test]
async fn profile_edit_validates_and_saves() {
    let server = TestServer::start().await;
    let alice = server.browser();
    alice.register("alice", PASSWORD).await;
    server.browser().register("bob", PASSWORD).await;

    let saved =
        alice.call("profile", &[("display_name", "  Alice Liddell "), ("email", "alice@wonder.land")]).await;
    assert_eq!(saved.status, StatusCode::OK, "{:?}", saved.json);
    let account = alice.account().await;
    assert_eq!(account["display_name"], "Alice Liddell");
    assert_eq!(account["email"], "alice@wonder.land");

    let long_name = "n".repeat(65);
    for (display_name, email, field, problem) in [
        ("Alice", "nope", "email", "invalid_email"),
        ("Alice", "", "email", "required"),
        ("Alice", "BOB@example.com", "email", "email_taken"),
        (long_name.as_str(), "alice@wonder.land", "display_name", "too_long"),
        ("tab\there", "alice@wonder.land", "display_name", "control_characters"),
    ] {
        let reply = alice.call("profile", &[("display_name", display_name), ("email", email)]).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(reply.problem(field).as_deref(), Some(problem), "{:?}", reply.json);
    }
    assert_eq!(alice.account().await["email"], "alice@wonder.land", "refused edits change nothing");

    let visitor = server.browser();
    let reply = visitor.call("profile", &[("display_name", "x"), ("email", "x@example.com")]).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.error(), "unauthenticated");
}

#[tokio::test]
async fn password_change_needs_the_current_one_and_ends_other_sessions() {
    let server = TestServer::start().await;
    let laptop = server.browser();
    laptop.register("carol", PASSWORD).await;
    let phone = server.browser();
    assert_eq!(phone.login("carol", PASSWORD).await.status, StatusCode::OK);

    let new_password = "an even longer secret";
    let wrong = laptop.change_password("not it at all", new_password).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong.problem("current_password").as_deref(), Some("wrong_password"));
    let weak = laptop.change_password(PASSWORD, "qwertyuiop").await;
    assert_eq!(weak.problem("password").as_deref(), Some("common_password"));
    assert_eq!(phone.account().await["username"], "carol", "failed changes end nothing");

    let before = laptop.session_cookie();
    let changed = laptop.change_password(PASSWORD, new_password).await;
    assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.json);
    assert_ne!(laptop.session_cookie(), before, "the session id changes too");
    assert_eq!(laptop.account().await["username"], "carol", "this session continues");
    assert!(phone.account().await.is_null(), "other sessions are signed out");

    assert_eq!(server.browser().login("carol", PASSWORD).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(server.browser().login("carol", new_password).await.status, StatusCode::OK);
}

#[tokio::test]
async fn avatars_are_normalised_served_with_caching_and_checked() {
    let server = TestServer::start().await;
    let dave = server.browser();
    dave.register("dave", PASSWORD).await;
    assert!(dave.account().await["avatar_version"].is_null());

    let reply = dave.upload_avatar(png(800, 600), "me.png").await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    assert_eq!(reply.json["avatar_version"], 1);
    let id = reply.json["id"].as_i64().expect("id");

    let served =
        server.browser().client.get(server.url(&format!("/avatars/{id}/1"))).send().await.expect("avatar");
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.headers()["content-type"], "image/jpeg");
    assert!(served.headers()["cache-control"].to_str().unwrap().contains("immutable"));
    let image = image::load_from_memory(&served.bytes().await.expect("bytes")).expect("a decodable image");
    assert_eq!((image.width(), image.height()), (256, 256));

    let second = dave.upload_avatar(png(64, 64), "again.png").await;
    assert_eq!(second.json["avatar_version"], 2);
    let old =
        server.browser().client.get(server.url(&format!("/avatars/{id}/1"))).send().await.expect("avatar");
    assert_eq!(old.status(), StatusCode::NOT_FOUND, "old versions are gone");

    for (bytes, problem) in [
        (b"just some text".to_vec(), "unsupported_image"),
        (b"<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>".to_vec(), "unsupported_image"),
        (png(64, 64)[..100].to_vec(), "unsupported_image"),
        (png(9000, 1), "image_too_many_pixels"),
        (Vec::new(), "required"),
    ] {
        let reply = dave.upload_avatar(bytes, "bad.png").await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}: {:?}", reply.json);
        assert_eq!(reply.problem("avatar").as_deref(), Some(problem));
    }

    let oversized = dave.upload_avatar(vec![0x89; 6 * 1024 * 1024], "huge.png").await;
    assert_eq!(oversized.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(oversized.error(), "payload_too_large");
    let just_over = dave.upload_avatar(vec![0x89; 5 * 1024 * 1024 + 1], "big.png").await;
    assert_eq!(just_over.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(just_over.problem("avatar").as_deref(), Some("image_too_large"));
    assert_eq!(dave.account().await["avatar_version"], 2, "refused uploads change nothing");

    let visitor = server.browser().upload_avatar(png(10, 10), "x.png").await;
    assert_eq!(visitor.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn public_profiles_never_show_the_email() {
    let server = TestServer::start().await;
    let erin = server.browser();
    erin.register("erin", PASSWORD).await;
    erin.call("profile", &[("display_name", "Erin"), ("email", "erin@example.com")]).await;
    let frank = server.browser();
    frank.register("frank", PASSWORD).await;

    let profile = frank.call("user", &[("username", "ERIN")]).await;
    assert_eq!(profile.status, StatusCode::OK);
    assert_eq!(profile.json["profile"]["username"], "erin");
    assert_eq!(profile.json["profile"]["display_name"], "Erin");
    assert!(!profile.json.to_string().contains("erin@example.com"), "{:?}", profile.json);

    let page = frank.get("/u/erin").await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.json.as_str().expect("html");
    assert!(html.contains("Erin") && !html.contains("erin@example.com"));

    assert_eq!(frank.call("user", &[("username", "nobody")]).await.status, StatusCode::NOT_FOUND);
    assert_eq!(server.browser().call("user", &[("username", "erin")]).await.status, StatusCode::UNAUTHORIZED);
}

/// This process's resident memory and its peak, in bytes (Linux).
fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches(" kB").parse::<u64>().ok())
            .map(|kb| kb * 1024)
            .expect("a memory figure")
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Image bombs and the largest images accepted, uploaded all at once by
/// several people, grow the server by less than 64 MiB at its peak: bombs
/// are refused from their header, the rest decode a few at a time. (The
/// server runs in this test's process, so its peak is the process's.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_uploads_stays_within_the_memory_bound() {
    const BOUND: u64 = 64 << 20;
    let server = TestServer::start().await;
    // 8192 × 8192 RGBA: 256 MiB decoded, far less encoded.
    let bomb = {
        let mut out = std::io::Cursor::new(Vec::new());
        image::RgbaImage::new(8192, 8192).write_to(&mut out, image::ImageFormat::Png).expect("encode");
        out.into_inner()
    };
    assert!(bomb.len() < app::domain::AVATAR_MAX_BYTES, "{} bytes", bomb.len());
    // 12 megapixels, the most accepted: 36 MB decoded.
    let photo = png(4000, 3000);
    let mut people = Vec::new();
    for n in 0..6 {
        let person = server.browser();
        person.sign_up(&format!("uploader{n}")).await;
        people.push(std::sync::Arc::new(person));
    }
    println!("a bomb is {} KB, a photo {} KB", bomb.len() / 1024, photo.len() / 1024);
    // Every body made before measuring: the test's own copies are not the
    // server's.
    let mut bodies = Vec::new();
    for person in &people {
        for is_bomb in [true, false, true, false] {
            bodies.push((person.clone(), if is_bomb { bomb.clone() } else { photo.clone() }, is_bomb));
        }
    }
    let (rss_before, _) = memory();
    // Start the peak afresh (writing 5 to clear_refs resets VmHWM).
    std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak");
    let mut uploads = tokio::task::JoinSet::new();
    for (person, bytes, bomb) in bodies {
        uploads.spawn(async move { (person.upload_avatar(bytes, "up.png").await, bomb) });
    }
    while let Some(done) = uploads.join_next().await {
        let (reply, bomb) = done.expect("an upload");
        if bomb {
            assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(reply.problem("avatar").as_deref(), Some("image_too_many_pixels"));
        } else {
            assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
        }
    }
    let (_, peak) = memory();
    let growth = peak.saturating_sub(rss_before);
    println!("24 uploads at once: the peak grew by {:.1} MiB", growth as f64 / f64::from(1 << 20));
    assert!(growth < BOUND, "the peak grew by {} MiB", growth >> 20);
}

#[tokio::test]
async fn a_username_changes_and_the_old_one_keeps_leading_to_its_owner() {
    let server = TestServer::start_unlimited().await;
    let (alice, bob, carol) = (server.browser(), server.browser(), server.browser());
    let alice_id = alice.sign_up("alice").await;
    bob.sign_up("bob").await;
    let rename = |browser: &crate::support::Browser, username: &str| {
        let (browser, username) = (browser.clone_session(), username.to_owned());
        async move {
            let email =
                format!("{}@example.com", browser.account().await["username"].as_str().unwrap_or_default());
            browser.call("profile", &[("display_name", ""), ("email", &email), ("username", &username)]).await
        }
    };
    // The rules of registration.
    assert_eq!(rename(&alice, "a").await.problem("username").as_deref(), Some("too_short"));
    assert_eq!(rename(&alice, "al ice").await.problem("username").as_deref(), Some("username_characters"));
    assert_eq!(rename(&alice, "BOB").await.problem("username").as_deref(), Some("username_taken"));
    assert_eq!(rename(&alice, "Alicia").await.status, StatusCode::OK);
    assert_eq!(alice.account().await["username"], "Alicia");
    // Without a username the profile's other fields change alone.
    alice.ok("profile", &[("display_name", "Al"), ("email", "alice@example.com")]).await;
    assert_eq!(alice.account().await["username"], "Alicia");

    // The old name leads to her, and no one else takes it; she may.
    let card = bob.ok("user", &[("username", "alice")]).await;
    assert_eq!(card["profile"]["id"], alice_id);
    assert_eq!(card["profile"]["username"], "Alicia");
    assert_eq!(
        carol.register("alice", PASSWORD).await.problem("username").as_deref(),
        Some("username_taken")
    );
    assert_eq!(rename(&bob, "ALICE").await.problem("username").as_deref(), Some("username_taken"));
    assert_eq!(rename(&alice, "alice").await.status, StatusCode::OK, "her own former name");
    assert_eq!(
        bob.ok("user", &[("username", "alicia")]).await["profile"]["id"],
        alice_id,
        "both lead to her"
    );
    // Signing in takes the current name only.
    assert_eq!(server.browser().login("alicia", PASSWORD).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(server.browser().login("alice", PASSWORD).await.status, StatusCode::OK);
}
