//! Settings, from flags or environment variables; every one has a default
//! so that `salon` with no configuration serves on http://127.0.0.1:3000
//! from an SQLite file under `./data`.

use clap::Parser;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Clone, Debug, Parser)]
#[command(name = "salon", version, about = "Salon: self-hosted chat rooms")]
pub struct Config {
    /// Address and port to listen on.
    #[arg(long, env = "SALON_BIND", default_value = "127.0.0.1:3000")]
    pub bind: SocketAddr,

    /// Directory for Salon's own files (the SQLite database by default).
    #[arg(long, env = "SALON_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// Database URL; defaults to `sqlite://<data-dir>/salon.db`.
    #[arg(long, env = "SALON_DATABASE_URL")]
    pub database_url: Option<String>,

    /// The origin browsers use to reach Salon (e.g. `https://chat.example.org`),
    /// when it differs from the `Host` the server sees (behind a proxy).
    /// State-changing requests from any other origin are refused.
    #[arg(long, env = "SALON_PUBLIC_ORIGIN")]
    pub public_origin: Option<String>,

    /// Mark the session cookie `Secure` (on by default when the public
    /// origin is `https://`).
    #[arg(long, env = "SALON_SECURE_COOKIES")]
    pub secure_cookies: Option<bool>,

    /// Directory with the built front end (`pkg/`, icons, manifest).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,
}

impl Config {
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("salon.db").display()))
    }

    pub fn secure_cookies(&self) -> bool {
        self.secure_cookies
            .unwrap_or_else(|| self.public_origin.as_deref().is_some_and(|o| o.starts_with("https://")))
    }

    /// A configuration for tests: everything under `data_dir`, any port.
    pub fn for_data_dir(data_dir: PathBuf) -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir,
            database_url: None,
            public_origin: None,
            secure_cookies: None,
            site_root: PathBuf::from("target/site"),
        }
    }
}
