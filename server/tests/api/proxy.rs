//! Behind a reverse proxy (issue 19): rate limits count the address a
//! trusted proxy forwards, and only a trusted proxy's.

use crate::support::TestServer;
use reqwest::StatusCode;

/// Registration attempts (refused forms: cheap) from `client` as told by
/// `X-Forwarded-For`, until one is over the per-address limit: how many
/// passed (`None`: none was refused within `tries`).
async fn passed_before_limit(server: &TestServer, client: &str, tries: usize) -> Option<usize> {
    let http = reqwest::Client::new();
    for n in 0..tries {
        let reply = http
            .post(server.url("/api/register"))
            .header("origin", server.url("").trim_end_matches('/'))
            .header("x-forwarded-for", client)
            .form(&[("username", ""), ("email", ""), ("password", ""), ("password_confirm", "")])
            .send()
            .await
            .expect("request");
        match reply.status() {
            StatusCode::TOO_MANY_REQUESTS => return Some(n),
            StatusCode::UNPROCESSABLE_ENTITY => {}
            other => panic!("unexpected {other}"),
        }
    }
    None
}

#[tokio::test]
async fn a_trusted_proxys_forwarded_address_is_the_client() {
    let server = TestServer::start_configured(|config| {
        config.trusted_proxies = vec!["127.0.0.1/32".parse().expect("a network")];
    })
    .await;
    // Registration: 5 per user, 20 per address at once.
    assert_eq!(passed_before_limit(&server, "203.0.113.5", 30).await, Some(20));
    assert_eq!(passed_before_limit(&server, "203.0.113.5", 1).await, Some(0), "still limited");
    assert_eq!(passed_before_limit(&server, "203.0.113.6", 1).await, None, "another client is not");
    // The proxy's own hops are skipped; what is left of them is the client.
    assert_eq!(passed_before_limit(&server, "198.51.100.9, 203.0.113.5, 127.0.0.1", 1).await, Some(0));
}

#[tokio::test]
async fn an_untrusted_peer_cannot_choose_its_address() {
    // No trusted proxy: the header is ignored, and the peer (loopback, as a
    // proxy on this machine would be) has no per-address limit at all.
    let server = TestServer::start().await;
    assert_eq!(passed_before_limit(&server, "203.0.113.5", 30).await, None);
}
