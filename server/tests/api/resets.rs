//! Forgotten passwords (issue 19): an admin's one-time reset link works
//! once, expires, voids the earlier ones and signs the account out.

use crate::support::{TestServer, PASSWORD, PATIENCE};
use reqwest::StatusCode;

const NEW: &str = "a brand new passphrase";

fn token(path: &serde_json::Value) -> String {
    path.as_str().and_then(|p| p.strip_prefix("/reset/")).expect("a reset path").to_owned()
}

async fn reset(server: &TestServer, token: &str, password: &str, confirm: &str) -> crate::support::Reply {
    let args = [("token", token), ("password", password), ("password_confirm", confirm)];
    server.browser().call("reset_password", &args).await
}

#[tokio::test]
async fn a_reset_link_works_once_and_signs_the_account_out() {
    let server = TestServer::start_unlimited().await;
    let (admin, bob) = (server.browser(), server.browser());
    admin.sign_up("admin").await;
    let bob_id = bob.sign_up("bob").await.to_string();
    let args = [("user", bob_id.as_str())];

    assert_eq!(server.browser().call("admin_reset_link", &args).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(bob.call("admin_reset_link", &args).await.status, StatusCode::NOT_FOUND, "a member");
    assert_eq!(admin.call("admin_reset_link", &[("user", "999999")]).await.status, StatusCode::NOT_FOUND);
    let first = token(&admin.ok("admin_reset_link", &args).await);
    let second = token(&admin.ok("admin_reset_link", &args).await);
    let check = |token: &str| {
        let (browser, token) = (server.browser(), token.to_owned());
        async move { browser.call("reset_check", &[("token", token.as_str())]).await.status }
    };
    assert_eq!(check(&first).await, StatusCode::NOT_FOUND, "a newer link voids it");
    assert_eq!(check(&second).await, StatusCode::OK);
    for wrong in ["", "short", &"x".repeat(43), &"/".repeat(43), &"y".repeat(5000)] {
        assert_eq!(check(wrong).await, StatusCode::NOT_FOUND);
    }

    let mismatch = reset(&server, &second, NEW, "something else").await;
    assert_eq!(mismatch.problem("password_confirm").as_deref(), Some("password_mismatch"));
    assert_eq!(
        reset(&server, &second, "short", "short").await.problem("password").as_deref(),
        Some("too_short")
    );
    let mut socket = bob.socket().await;
    assert_eq!(reset(&server, &second, NEW, NEW).await.status, StatusCode::OK);
    assert!(socket.close_code(PATIENCE).await.is_some(), "signed out at once");
    assert_eq!(bob.call("my_rooms", &[]).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        reset(&server, &second, "yet another one!", "yet another one!").await.status,
        StatusCode::NOT_FOUND,
        "once"
    );
    assert_eq!(server.browser().login("bob", PASSWORD).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(server.browser().login("bob", NEW).await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_expired_link_does_nothing_and_two_uses_at_once_make_one() {
    let server = TestServer::start_unlimited().await;
    let admin = server.browser();
    admin.sign_up("admin").await;
    let bob_id = server.browser().sign_up("bob").await.to_string();
    let args = [("user", bob_id.as_str())];
    let expired = token(&admin.ok("admin_reset_link", &args).await);
    sqlx::query("UPDATE password_resets SET expires_at = $1")
        .bind(app::store::now_millis() - 1)
        .execute(&mut server.database().await)
        .await
        .expect("ageing the link");
    assert_eq!(reset(&server, &expired, NEW, NEW).await.status, StatusCode::NOT_FOUND);

    let raced = token(&admin.ok("admin_reset_link", &args).await);
    let (a, b) = tokio::join!(
        reset(&server, &raced, NEW, NEW),
        reset(&server, &raced, "other passphrase!", "other passphrase!")
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::NOT_FOUND]);
    let winner = if a.status == StatusCode::OK { NEW } else { "other passphrase!" };
    assert_eq!(server.browser().login("bob", winner).await.status, StatusCode::OK);
}

/// A local SMTP server that keeps each mail's data (as the test's own
/// port, not the machine's mail system).
async fn smtp_sink() -> (u16, tokio::sync::mpsc::UnboundedReceiver<String>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let port = listener.local_addr().expect("its address").port();
    let (mails, received) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let mails = mails.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 sink ESMTP\r\n").await;
                while let Ok(Some(line)) = lines.next_line().await {
                    let verb = line.get(..4).unwrap_or_default().to_ascii_uppercase();
                    let answer: &[u8] = match verb.as_str() {
                        "DATA" => {
                            let _ = write.write_all(b"354 go on\r\n").await;
                            let mut data = String::new();
                            while let Ok(Some(line)) = lines.next_line().await {
                                if line == "." {
                                    break;
                                }
                                data.push_str(&line);
                                data.push('\n');
                            }
                            let _ = mails.send(data);
                            b"250 kept\r\n"
                        }
                        "QUIT" => {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            break;
                        }
                        _ => b"250 ok\r\n",
                    };
                    let _ = write.write_all(answer).await;
                }
            });
        }
    });
    (port, received)
}

#[tokio::test]
async fn with_smtp_a_user_mails_themselves_a_reset_link() {
    let (port, mut mails) = smtp_sink().await;
    let server = TestServer::start_configured(|config| {
        config.rate_limits = false;
        config.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
        config.smtp_from = "Salon <salon@chat.example.org>".into();
        config.public_origin = None;
    })
    .await;
    server.browser().sign_up("bob").await;
    let anonymous = server.browser();
    assert_eq!(anonymous.ok("reset_by_mail", &[]).await, true);

    anonymous.ok("reset_request", &[("email", "BOB@example.com")]).await;
    let mail = tokio::time::timeout(PATIENCE, mails.recv()).await.expect("a mail in time").expect("a mail");
    assert!(mail.contains("To: bob@example.com"), "{mail}");
    assert!(mail.contains("From: Salon <salon@chat.example.org>"), "{mail}");
    let token = mail
        .split("/reset/")
        .nth(1)
        .map(|rest| {
            rest.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect::<String>()
        })
        .expect("a reset link in the mail");
    assert_eq!(reset(&server, &token, NEW, NEW).await.status, StatusCode::OK);
    assert_eq!(server.browser().login("bob", NEW).await.status, StatusCode::OK);

    // The same answer for an unknown address, and no mail; nor a second
    // one within five minutes.
    anonymous.ok("reset_request", &[("email", "nobody@example.com")]).await;
    anonymous.ok("reset_request", &[("email", "bob@example.com")]).await;
    let more = tokio::time::timeout(std::time::Duration::from_millis(500), mails.recv()).await;
    assert!(more.is_err(), "no more mail: {more:?}");
}

#[tokio::test]
async fn without_smtp_users_are_told_to_ask_an_admin() {
    let server = TestServer::start().await;
    assert_eq!(server.browser().ok("reset_by_mail", &[]).await, false);
    let reply = server.browser().call("reset_request", &[("email", "bob@example.com")]).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}
