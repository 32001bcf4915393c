// See lib.rs: release builds need a deeper limit for the full view types.
#![recursion_limit = "512"]

//! `salon`: parse the configuration, start serving, stop on Ctrl-C or SIGTERM.

use clap::Parser;
use server::config::{Command, Config, LogFormat};
use server::StartError;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    return_big_allocations();
    let config = Config::parse();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    match config.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().flatten_event(true).with_current_span(false).init(),
    }
    if let Some(command) = config.command.clone() {
        return run_command(&config, command).await;
    }
    raise_open_file_limit();
    match run(config).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// `salon backup DIR` or `salon restore DIR`.
async fn run_command(config: &Config, command: Command) -> std::process::ExitCode {
    let done = match &command {
        Command::Backup { dir } => server::backup::backup(config, dir).await,
        Command::Restore { dir } => server::backup::restore(config, dir),
    };
    match done {
        Ok(copied) => {
            tracing::info!(database_bytes = copied.database_bytes, files = copied.files, "{command:?}: done");
            std::process::ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!("{error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> Result<(), StartError> {
    let listener =
        tokio::net::TcpListener::bind(config.bind).await.map_err(|e| StartError::Bind(config.bind, e))?;
    tracing::info!("Salon is listening on http://{}", config.bind);
    server::serve(config, listener, shutdown_signal()).await
}

/// Memory that big allocations return goes back to the system. glibc
/// raises its mmap threshold after each freed large block, so the 19 MiB
/// that each password hash takes would then come from, and stay in, a
/// per-thread arena: 100 registrations left the server at 600 MB. With a
/// fixed threshold, blocks above 1 MiB are always mapped and unmapped.
fn return_big_allocations() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a parameter of the allocator, under the
    // allocator's own locks.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

/// Every WebSocket is a file descriptor: use all the ones we may.
fn raise_open_file_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::debug!(limit, "open-file limit"),
        Err(error) => tracing::warn!(%error, "could not raise the open-file limit"),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}
