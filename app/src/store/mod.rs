//! SQL access, and nothing else: no rules live here.
//!
//! Queries use `$n` placeholders and `RETURNING`, which SQLite and PostgreSQL
//! both understand, so that the scale-out engine can reuse them.

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::str::FromStr;
use std::time::Duration;

mod invitations;
mod messages;
mod rooms;
mod social;
mod users;

pub use messages::{Appended, MessageLog, NewMessage};
pub use rooms::{Departure, Removed, Standing};
pub use social::{RequestOutcome, Ties};
pub use users::{NewUser, StoredAvatar, UserRecord};

/// Why a write was refused by the database itself.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unique constraint on {0}")]
    Duplicate(&'static str),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The database: a pool and the queries that run on it.
#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
    /// The database file, for the message writer's own connection
    /// ([`MessageLog`]).
    path: std::sync::Arc<std::path::Path>,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

impl Store {
    /// Opens (creating it if needed) the database at `url` and applies every
    /// pending migration.
    pub async fn open(url: &str) -> Result<Self, sqlx::Error> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let path = std::sync::Arc::from(options.get_filename());
        let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool, path })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// A connection for the message writer (one per process).
    pub fn message_log(&self) -> rusqlite::Result<MessageLog> {
        MessageLog::open(&self.path)
    }
}

/// Maps a unique-constraint violation to the name of the column it guards
/// (`username_key`, `email_key`), leaving other errors as they are.
fn classify(error: sqlx::Error, columns: &[&'static str]) -> StoreError {
    if let sqlx::Error::Database(db) = &error {
        if db.is_unique_violation() {
            let message = db.message();
            let constraint = db.constraint().unwrap_or_default();
            if let Some(column) = columns.iter().find(|c| message.contains(*c) || constraint.contains(*c)) {
                return StoreError::Duplicate(column);
            }
        }
    }
    StoreError::Database(error)
}

pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}
