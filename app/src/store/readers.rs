//! SQLite reads on the hot paths (history pages), each run whole on a
//! connection of its own in one of tokio's blocking threads: a page — its
//! rows and their reactions — costs one hand-over to a thread and one
//! wake-up back. Through sqlx, each statement goes to its connection's
//! thread and each row comes back through a channel, each a wake-up of the
//! request's task (measured in docs/benchmarks.md, "History reads on
//! SQLite's own connections").
//!
//! deadpool-sqlite pools rusqlite connections the same way, but checks
//! each one with a query of its own, another hand-over, at every checkout:
//! the very cost this removes.

use std::future::Future;
use std::path::Path;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use tokio::sync::Semaphore;

/// Reads at once: the blocking threads they take, and connections kept.
const READERS: usize = 8;

/// Read-only connections to the SQLite file, opened as needed and kept.
#[derive(Debug)]
pub(crate) struct Readers {
    path: Arc<Path>,
    idle: Mutex<Vec<rusqlite::Connection>>,
    permits: Arc<Semaphore>,
}

impl Readers {
    pub(crate) fn new(path: Arc<Path>) -> Arc<Self> {
        Arc::new(Self { path, idle: Mutex::new(Vec::new()), permits: Arc::new(Semaphore::new(READERS)) })
    }

    /// Runs `read` on a reader's connection, in a blocking thread.
    pub(crate) async fn read<T, F>(self: &Arc<Self>, read: F) -> Result<T, sqlx::Error>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Connection) -> Result<T, sqlx::Error> + Send + 'static,
    {
        let permit = Arc::clone(&self.permits).acquire_owned().await.map_err(|_| sqlx::Error::PoolClosed)?;
        let readers = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let kept = readers.idle.lock().ok().and_then(|mut idle| idle.pop());
            let connection = match kept {
                Some(connection) => connection,
                None => readers.open().map_err(failed)?,
            };
            let result = read(&connection);
            // Kept only as it was taken: a read that failed, or left a
            // transaction open (and with it a snapshot that would hold the
            // WAL back), gives its connection up.
            if result.is_ok() && connection.is_autocommit() {
                if let Ok(mut idle) = readers.idle.lock() {
                    idle.push(connection);
                }
            }
            result
        })
        .await
        .map_err(|error| sqlx::Error::Io(std::io::Error::other(error)))?
    }

    fn open(&self) -> rusqlite::Result<rusqlite::Connection> {
        use rusqlite::OpenFlags;
        // Read-write, made read-only by a pragma: a read-only connection
        // cannot open a WAL file whose shared memory is not there yet.
        let connection = rusqlite::Connection::open_with_flags(
            &*self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        connection.pragma_update(None, "query_only", true)?;
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        connection.set_prepared_statement_cache_capacity(16);
        Ok(connection)
    }
}

/// A reader's error, as the store's one error type.
pub(crate) fn failed(error: rusqlite::Error) -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::other(error))
}

/// The outcome of `future`, which must be ready at once: a read written
/// once for both engines, whose SQLite source answers without waiting
/// (see `messages::history`).
pub(crate) fn at_once<T>(future: impl Future<Output = Result<T, sqlx::Error>>) -> Result<T, sqlx::Error> {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(outcome) => outcome,
        Poll::Pending => Err(sqlx::Error::Protocol("an SQLite read waited".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idle(readers: &Readers) -> usize {
        readers.idle.lock().map(|idle| idle.len()).unwrap_or_default()
    }

    #[tokio::test]
    async fn only_connections_left_as_they_were_taken_are_kept() {
        let dir = std::env::temp_dir().join(format!("salon-readers-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let path: Arc<Path> = dir.join("readers.db").into();
        rusqlite::Connection::open(&path)
            .and_then(|c| c.execute_batch("CREATE TABLE t (x)"))
            .expect("a database");
        let readers = Readers::new(path);
        let count =
            |c: &rusqlite::Connection| c.query_row("SELECT COUNT(*) FROM t", [], |row| row.get::<_, i64>(0));
        assert_eq!(readers.read(move |c| count(c).map_err(failed)).await.expect("a read"), 0);
        assert_eq!(idle(&readers), 1, "kept after a read");
        let wrong = readers.read(|c| c.execute_batch("SELECT * FROM nowhere").map_err(failed)).await;
        assert!(wrong.is_err());
        assert_eq!(idle(&readers), 0, "given up after a failed read");
        readers.read(|c| c.execute_batch("BEGIN").map_err(failed)).await.expect("a transaction begun");
        assert_eq!(idle(&readers), 0, "given up with a transaction left open");
        assert_eq!(readers.read(move |c| count(c).map_err(failed)).await.expect("a read"), 0);
        assert_eq!(idle(&readers), 1);
        drop(readers);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
