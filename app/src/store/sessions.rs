//! Signed-in browsers' sessions, stored with everything else: whichever
//! instance a request reaches finds its session.

use async_trait::async_trait;
use sqlx::AnyPool;
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

/// The `sessions` table as tower-sessions' store: records as JSON, with
/// their expiry in Unix seconds.
#[derive(Clone, Debug)]
pub struct Sessions {
    pool: AnyPool,
}

impl Sessions {
    pub(super) fn new(pool: AnyPool) -> Self {
        Self { pool }
    }
}

fn backend(error: sqlx::Error) -> session_store::Error {
    session_store::Error::Backend(error.to_string())
}

fn encode(record: &Record) -> session_store::Result<Vec<u8>> {
    serde_json::to_vec(record).map_err(|error| session_store::Error::Encode(error.to_string()))
}

fn decode(data: &[u8]) -> session_store::Result<Record> {
    serde_json::from_slice(data).map_err(|error| session_store::Error::Decode(error.to_string()))
}

#[async_trait]
impl SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A new id that is already taken (vanishingly rare) gets another.
        loop {
            let inserted = sqlx::query(
                "INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(record.id.to_string())
            .bind(encode(record)?)
            .bind(record.expiry_date.unix_timestamp())
            .execute(&self.pool)
            .await
            .map_err(backend)?
            .rows_affected();
            if inserted == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        sqlx::query(
            "INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3)
             ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at",
        )
        .bind(record.id.to_string())
        .bind(encode(record)?)
        .bind(record.expiry_date.unix_timestamp())
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let data: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT data FROM sessions WHERE id = $1 AND expires_at > $2")
                .bind(id.to_string())
                .bind(OffsetDateTime::now_utc().unix_timestamp())
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
        data.as_deref().map(decode).transpose()
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

impl Sessions {
    /// The sessions that expired at `now` (Unix seconds) or before. One
    /// that cannot be read is left out, and deleted with the others.
    pub async fn expired(&self, now: i64) -> Result<Vec<Record>, sqlx::Error> {
        let rows: Vec<Vec<u8>> = sqlx::query_scalar("SELECT data FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .filter_map(|data| {
                decode(data)
                    .inspect_err(|error| tracing::warn!(%error, "an expired session cannot be read"))
                    .ok()
            })
            .collect())
    }

    /// Deletes the sessions that expired at `now` (Unix seconds) or before:
    /// the same ones as [`Sessions::expired`] with the same `now` (an
    /// expired session is never loaded, so never renewed).
    pub async fn delete_expired(&self, now: i64) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await
            .map(drop)
    }
}
