//! Checkpoints of the SQLite log, on a thread of their own.
//!
//! A checkpoint copies the pages committed to the write-ahead log into the
//! database file and syncs it. Run by the message writer's commit (SQLite's
//! automatic checkpoint), it held up every sender waiting for the next
//! groups: at 10,000 messages a second the acks' p99 was 13.2–13.7 ms, and
//! 2.4–3.0 ms with no checkpoint at all (docs/benchmarks.md). This thread
//! checkpoints soon after each commit instead, with a connection of its
//! own (4.8–5.4 ms): a passive checkpoint never waits for the writer nor
//! holds it up. The writer's automatic checkpoint stays, for its other
//! task: once every page is copied, it lets the next commit start the log
//! again from its beginning, which a checkpoint running beside a busy
//! writer never catches up to. It now finds little left to copy.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

/// After a checkpoint, how long the thread lets commits gather before the
/// next one: a page rewritten by several groups (a busy room's last page)
/// is copied once in that time. Acks' p99 at 10,000 messages a second:
/// 4.8–5.4 ms after 10 ms, 7.4–7.5 after 50, 10.9 after 250 (measured).
const GATHER: Duration = Duration::from_millis(10);

/// The handle the writer tells of its commits.
pub(super) struct Checkpoints {
    committed: mpsc::SyncSender<()>,
}

impl Checkpoints {
    /// Starts the thread, with its own connection to the database at
    /// `path`. It ends when the handle is dropped. Without it (no thread
    /// to be had), the writer's own checkpoints do its work.
    pub(super) fn start(path: &Path) -> rusqlite::Result<Self> {
        let connection = rusqlite::Connection::open(path)?;
        // One commit told is enough to checkpoint: the others told
        // meanwhile find the signal already there.
        let (committed, commits) = mpsc::sync_channel(1);
        let spawned = std::thread::Builder::new()
            .name("salon-checkpoints".into())
            .spawn(move || checkpoint_after_commits(&connection, &commits));
        if let Err(error) = spawned {
            tracing::warn!(%error, "no checkpoint thread: the message writer checkpoints alone");
        }
        Ok(Self { committed })
    }

    /// A group was committed: its pages are for the next checkpoint.
    pub(super) fn committed(&self) {
        // Full means a checkpoint is already due.
        let _ = self.committed.try_send(());
    }
}

fn checkpoint_after_commits(connection: &rusqlite::Connection, commits: &mpsc::Receiver<()>) {
    while commits.recv().is_ok() {
        let done = connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
            Ok((row.get::<_, i64>(1)?, row.get::<_, i64>(2)?))
        });
        match done {
            Ok((log, copied)) => tracing::trace!(log, copied, "checkpointed"),
            // The writer's own checkpoint copies what this one could not.
            Err(error) => tracing::warn!(%error, "checkpointing the message log"),
        }
        std::thread::sleep(GATHER);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_pages_reach_the_database_file_without_the_writer() {
        let dir = std::env::temp_dir().join(format!("salon-checkpoints-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let path = dir.join("log.db");
        let writer = rusqlite::Connection::open(&path).expect("open");
        writer.pragma_update(None, "journal_mode", "wal").expect("wal");
        writer.pragma_update(None, "wal_autocheckpoint", 0).expect("no automatic checkpoint");
        // Two pages in the log (the schema and the table), none in the
        // file yet beyond its header page.
        writer.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);").expect("write");
        let file_pages = || std::fs::metadata(&path).map(|m| m.len() / 4096).unwrap_or(0);
        assert!(file_pages() < 2, "nothing checkpointed yet");

        let checkpoints = Checkpoints::start(&path).expect("start");
        checkpoints.committed();
        // The writer stays open (the last connection to close would
        // checkpoint): only the thread can have copied the pages.
        let started = std::time::Instant::now();
        while file_pages() < 2 && started.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(file_pages(), 2);
        drop((checkpoints, writer));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
