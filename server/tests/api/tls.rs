//! TLS to the scale-out engines (issue 19): a PostgreSQL URL asking for
//! `sslmode=require` gets encrypted connections, `verify-full` checks the
//! server's certificate (this machine's is self-signed: refused), and a
//! `rediss://` URL is understood. Needs PostgreSQL (with `ssl = on`), so
//! it runs in the PostgreSQL pass of `scripts/test.sh`.

use crate::support::{TestDatabase, TestServer, POSTGRES_ENV};
use reqwest::StatusCode;
use sqlx::Connection;

#[tokio::test]
async fn postgres_connections_are_encrypted_when_the_url_asks() {
    let server_url =
        std::env::var(POSTGRES_ENV).expect("this test needs PostgreSQL: set SALON_TEST_POSTGRES_URL");
    let database = TestDatabase::fresh().await;
    let plain = database.url.clone().expect("a PostgreSQL database");
    let name = plain.rsplit('/').next().expect("a database name").to_owned();
    let verified = format!("{plain}?sslmode=verify-full");
    let refused =
        app::store::Store::open(&verified).await.err().map(|error| error.to_string().to_lowercase());
    assert!(
        refused.as_deref().is_some_and(|error| error.contains("certificate")),
        "{refused:?}: a self-signed certificate is refused"
    );

    let encrypted = format!("{plain}?sslmode=require");
    let server =
        TestServer::start_on_database(database, |config| config.database_url = Some(encrypted)).await;
    assert_eq!(server.browser().register("tls", crate::support::PASSWORD).await.status, StatusCode::OK);
    let mut admin = sqlx::PgConnection::connect(&format!("{}/postgres", server_url.trim_end_matches('/')))
        .await
        .expect("PostgreSQL");
    let (encrypted, plain): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*) FILTER (WHERE s.ssl), COUNT(*) FILTER (WHERE NOT s.ssl)
         FROM pg_stat_ssl s JOIN pg_stat_activity a ON a.pid = s.pid WHERE a.datname = $1",
    )
    .bind(&name)
    .fetch_one(&mut admin)
    .await
    .expect("reading pg_stat_ssl");
    assert!(encrypted > 0 && plain == 0, "{encrypted} encrypted, {plain} plain connections");
}

#[test]
fn rediss_urls_are_understood() {
    assert!(redis::Client::open("rediss://cache.example.org:6380/").is_ok());
}
