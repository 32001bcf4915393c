//! `salon backup DIR` and `salon restore DIR` (issue 19): a consistent
//! copy of a running server's SQLite database and files, taken without
//! stopping it, and putting one back into an empty data directory.
//!
//! The database is copied with SQLite's `VACUUM INTO`, which reads one
//! snapshot (a read transaction in WAL mode) while the server goes on
//! writing. Attachments' files are content-addressed and never change:
//! they are copied before the snapshot and again after it, so that every
//! file the snapshot names is there (one removed after the snapshot was
//! copied the first time; one added before it, the second). PostgreSQL
//! has its own tools (`pg_dump`: see the README).

use crate::config::Config;
use app::store::Engine;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The database's file name inside a backup.
pub const DATABASE_FILE: &str = "salon.db";
/// The attachments' directory inside a backup and a data directory.
const FILES_DIR: &str = "files";

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("this server runs on PostgreSQL: back it up with pg_dump (see the README)")]
    Postgres,
    #[error("{0} is not empty: give a new or empty directory")]
    NotEmpty(PathBuf),
    #[error("{0} holds no backup ({DATABASE_FILE} is missing)")]
    NoBackup(PathBuf),
    #[error("the data directory already has a database ({0}): stop the server and move it away first")]
    HasDatabase(PathBuf),
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("the database: {0}")]
    Database(#[from] sqlx::Error),
}

/// What a backup copied.
#[derive(Debug)]
pub struct Copied {
    pub database_bytes: u64,
    pub files: usize,
}

/// Copies the database and files of the server `config` describes into
/// `to` (new or empty), while it runs.
pub async fn backup(config: &Config, to: &Path) -> Result<Copied, BackupError> {
    let url = config.database_url();
    if Engine::of(&url) == Engine::Postgres {
        return Err(BackupError::Postgres);
    }
    if std::fs::read_dir(to).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(BackupError::NotEmpty(to.to_owned()));
    }
    // It holds password hashes, sessions and the server's keys: its
    // owner's only.
    private_dir(to)?;
    let (files, copies) = (config.files_dir(), to.join(FILES_DIR));
    let mut copied = copy_missing(&files, &copies)?;
    let target = to.join(DATABASE_FILE);
    let options = SqliteConnectOptions::from_str(&url)?.create_if_missing(false);
    let mut connection = options.connect().await?;
    sqlx::query("VACUUM INTO $1").bind(target.to_string_lossy().as_ref()).execute(&mut connection).await?;
    connection.close().await?;
    copied += copy_missing(&files, &copies)?;
    let database_bytes = std::fs::metadata(&target).map_err(|e| BackupError::Io(target.clone(), e))?.len();
    Ok(Copied { database_bytes, files: copied })
}

/// Puts the backup in `from` into the data directory `config` names,
/// which must have no database yet (the server stopped, the old directory
/// moved away).
pub fn restore(config: &Config, from: &Path) -> Result<Copied, BackupError> {
    let url = config.database_url();
    if Engine::of(&url) == Engine::Postgres {
        return Err(BackupError::Postgres);
    }
    let source = from.join(DATABASE_FILE);
    if !source.is_file() {
        return Err(BackupError::NoBackup(from.to_owned()));
    }
    // The file the server opens (its URL may name one outside the data
    // directory), with no journal of an earlier database beside it, which
    // SQLite would apply to this one.
    let target = SqliteConnectOptions::from_str(&url)?.get_filename().to_owned();
    for leftover in [target.clone(), journal(&target, "-wal"), journal(&target, "-shm")] {
        if leftover.exists() {
            return Err(BackupError::HasDatabase(leftover));
        }
    }
    let parent = target.parent().unwrap_or(Path::new(".")).to_owned();
    std::fs::create_dir_all(&parent).map_err(|e| BackupError::Io(parent.clone(), e))?;
    // Whole or not at all: a copy cut short leaves no database behind.
    let partial = journal(&target, ".restoring");
    let database_bytes = std::fs::copy(&source, &partial).map_err(|e| BackupError::Io(partial.clone(), e))?;
    std::fs::rename(&partial, &target).map_err(|e| BackupError::Io(target.clone(), e))?;
    let files = copy_missing(&from.join(FILES_DIR), &config.files_dir())?;
    Ok(Copied { database_bytes, files })
}

/// `database` with `suffix` added to its name (`salon.db-wal`).
fn journal(database: &Path, suffix: &str) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Makes `dir` (and its parents), readable by its owner only.
fn private_dir(dir: &Path) -> Result<(), BackupError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| BackupError::Io(dir.to_owned(), e))
}

/// Copies the files under `from` (two levels: `ab/abcd…`, no `tmp`) that
/// `to` lacks; how many.
fn copy_missing(from: &Path, to: &Path) -> Result<usize, BackupError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |error| BackupError::Io(path, error)
    };
    let Ok(groups) = std::fs::read_dir(from) else { return Ok(0) };
    let mut copied = 0;
    for group in groups {
        let group = group.map_err(io(from))?;
        if group.file_name() == "tmp" || !group.file_type().map_err(io(&group.path()))?.is_dir() {
            continue;
        }
        let target_group = to.join(group.file_name());
        for file in std::fs::read_dir(group.path()).map_err(io(&group.path()))? {
            let file = file.map_err(io(&group.path()))?;
            let target = target_group.join(file.file_name());
            if target.exists() {
                continue;
            }
            std::fs::create_dir_all(&target_group).map_err(io(&target_group))?;
            match std::fs::copy(file.path(), &target) {
                Ok(_) => copied += 1,
                // Removed since it was listed: no longer anyone's.
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => return Err(BackupError::Io(target, error)),
            }
        }
    }
    Ok(copied)
}
