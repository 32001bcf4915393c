//! SQL access, and nothing else: no rules live here.
//!
//! One store, two engines chosen by the database URL: SQLite (a file,
//! the zero-configuration default) and PostgreSQL (several instances on
//! one database). Queries go through sqlx's `Any` driver and are written
//! once, in the SQL both engines understand: `$n` placeholders,
//! `RETURNING`, `ON CONFLICT`, flags as `CAST(EXISTS (…) AS INTEGER)`.
//! Only the message writer speaks each engine's own dialect
//! ([`MessageLog`], [`PgMessageLog`]); on SQLite, history is read on
//! connections of its own ([`readers`]).

use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sqlx::{Any, AnyPool, ConnectOptions, Connection, Executor, Transaction};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

mod account_data;
mod admin;
mod attachments;
mod invitations;
mod join_links;
mod messages;
mod push;
mod readers;
mod resets;
mod rooms;
mod sessions;
mod social;
mod users;

pub use account_data::{ExportedMessage, ExportedPerson, ExportedRoom};
pub use admin::RoleSet;
pub use attachments::{NewAttachment, StoredAttachment};
pub use join_links::LinkMade;
pub(crate) use messages::stored_preview;
pub use messages::{Appended, Changed, MessageLog, NewChange, NewMessage, PgMessageLog};
pub use push::PushTarget;
pub use rooms::{Admission, Departure, Removed, Standing};
pub use sessions::Sessions;
pub use social::{RequestOutcome, Ties};
pub use users::{NewAccount, NewUser, StoredAvatar, UserRecord};

/// Why a write was refused by the database itself.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unique constraint on {0}")]
    Duplicate(&'static str),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The database engine a store runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    /// The engine a database URL names: PostgreSQL for `postgres://` and
    /// `postgresql://`, SQLite otherwise.
    pub fn of(url: &str) -> Self {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self::Postgres
        } else {
            Self::Sqlite
        }
    }
}

/// The database: a pool and the queries that run on it.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    engine: Engine,
    /// The SQLite database file, for the message writer's own connection
    /// ([`MessageLog`]).
    path: Option<Arc<std::path::Path>>,
    /// On SQLite, the connections history is read on.
    readers: Option<Arc<readers::Readers>>,
}

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

/// The advisory lock (class, key) on PostgreSQL that transactions relying
/// on who may do what take: see [`Store::begin_write`].
pub(crate) const RULES_LOCK: (i32, i32) = (0, 0);

impl Store {
    /// Opens the database at `url` (creating an SQLite file if needed) and
    /// applies every pending migration of its engine.
    pub async fn open(url: &str) -> Result<Self, sqlx::Error> {
        sqlx::any::install_default_drivers();
        match Engine::of(url) {
            Engine::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .after_connect(|connection, _| {
                        Box::pin(async move {
                            // Short statements, many at once: starting
                            // parallel workers costs more than they save
                            // (measured: a search's rest query took 10 ms
                            // with two workers, of which 0.2 in the index).
                            connection.execute("SET max_parallel_workers_per_gather = 0").await?;
                            Ok(())
                        })
                    })
                    .connect(url)
                    .await?;
                POSTGRES_MIGRATIONS.run(&pool).await?;
                Ok(Self { pool, engine: Engine::Postgres, path: None, readers: None })
            }
            Engine::Sqlite => {
                // Create the file and switch it to write-ahead logging (a
                // lasting property of the file) before the pool opens it.
                let options = SqliteConnectOptions::from_str(url)?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal);
                options.connect().await?.close().await?;
                // The pool and the message writer must open the very same
                // file: both get its canonical path (the `Any` driver
                // reparses the URL, and would tidy `a/../b` differently).
                let path: Arc<std::path::Path> =
                    Arc::from(std::fs::canonicalize(options.get_filename()).map_err(sqlx::Error::Io)?);
                let url = sqlite_url(&path)?;
                let pool = AnyPoolOptions::new()
                    .max_connections(8)
                    .after_connect(|connection, _| {
                        Box::pin(async move {
                            // Commits in WAL mode are durable at the next
                            // checkpoint; the message writer syncs fully.
                            connection.execute("PRAGMA synchronous = NORMAL").await?;
                            Ok(())
                        })
                    })
                    .connect(&url)
                    .await?;
                SQLITE_MIGRATIONS.run(&pool).await?;
                Ok(Self {
                    pool,
                    engine: Engine::Sqlite,
                    readers: Some(readers::Readers::new(Arc::clone(&path))),
                    path: Some(path),
                })
            }
        }
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// The SQLite message writer's own connection (one per process); an
    /// error on PostgreSQL, whose writer is [`Store::pg_message_log`].
    pub fn message_log(&self) -> rusqlite::Result<MessageLog> {
        match &self.path {
            Some(path) => MessageLog::open(path),
            None => Err(rusqlite::Error::InvalidPath("not an SQLite database".into())),
        }
    }

    /// The PostgreSQL message writer, with a connection of its own to this
    /// store's database.
    pub fn pg_message_log(&self) -> PgMessageLog {
        PgMessageLog::new(&self.pool)
    }

    /// The shared secret `name`: `fresh` if none was kept yet (it is kept
    /// then), else the one kept, so that every instance uses the same.
    pub async fn server_secret(&self, name: &str, fresh: &[u8]) -> Result<Vec<u8>, sqlx::Error> {
        sqlx::query("INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .bind(fresh)
            .execute(&self.pool)
            .await?;
        sqlx::query_scalar("SELECT value FROM server_secrets WHERE name = $1")
            .bind(name)
            .fetch_one(&self.pool)
            .await
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map(drop)
    }

    /// The sessions of signed-in browsers, kept in this database so that
    /// every instance sees them.
    pub fn sessions(&self) -> Sessions {
        Sessions::new(self.pool.clone())
    }

    /// Begins a transaction whose checks must hold until it commits (who is
    /// a member, banned, blocked, a friend…). On SQLite every writing
    /// transaction takes the database's one write lock at once (`BEGIN
    /// IMMEDIATE`). On PostgreSQL these transactions take turns on one
    /// advisory lock, which message groups take shared: a kick and a
    /// message never interleave, on any instance.
    pub(crate) async fn begin_write(&self) -> Result<Transaction<'static, Any>, sqlx::Error> {
        match self.engine {
            Engine::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Engine::Postgres => {
                let mut tx = self.pool.begin().await?;
                lock_rules(&mut tx, RulesLock::Exclusive).await?;
                Ok(tx)
            }
        }
    }
}

/// How a PostgreSQL transaction holds [`RULES_LOCK`].
pub(crate) enum RulesLock {
    /// Message groups: any number at once.
    Shared,
    /// Changes to who may do what: alone.
    Exclusive,
}

/// Takes [`RULES_LOCK`] until the transaction ends.
pub(crate) async fn lock_rules(tx: &mut Transaction<'_, Any>, lock: RulesLock) -> Result<(), sqlx::Error> {
    let sql = match lock {
        RulesLock::Shared => "SELECT 1 FROM (SELECT pg_advisory_xact_lock_shared($1, $2)) AS locked",
        RulesLock::Exclusive => "SELECT 1 FROM (SELECT pg_advisory_xact_lock($1, $2)) AS locked",
    };
    sqlx::query(sql).bind(RULES_LOCK.0).bind(RULES_LOCK.1).execute(&mut **tx).await?;
    Ok(())
}

/// The URL of the SQLite file at absolute `path`, with the characters a URL
/// would misread escaped.
fn sqlite_url(path: &std::path::Path) -> Result<String, sqlx::Error> {
    let path =
        path.to_str().ok_or_else(|| sqlx::Error::Configuration("the database path is not UTF-8".into()))?;
    let mut url = String::from("sqlite://");
    for c in path.chars() {
        match c {
            '%' => url.push_str("%25"),
            '?' => url.push_str("%3F"),
            '#' => url.push_str("%23"),
            ' ' => url.push_str("%20"),
            c => url.push(c),
        }
    }
    Ok(url)
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
