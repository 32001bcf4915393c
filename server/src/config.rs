//! Settings, from flags or environment variables; every one has a default
//! so that `salon` with no configuration serves on http://127.0.0.1:3000
//! from an SQLite file under `./data`.

use clap::Parser;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Clone, Debug, Parser)]
#[command(name = "salon", version, about = "Salon: self-hosted chat rooms")]
pub struct Config {
    /// What to do instead of serving.
    #[command(subcommand)]
    pub command: Option<Command>,

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

    /// Redis URL (e.g. `redis://127.0.0.1:6379`) for running several
    /// instances on one PostgreSQL database: live events published on one
    /// reach the sockets of all. Without it, one instance serves alone.
    #[arg(long, env = "SALON_REDIS_URL")]
    pub redis_url: Option<String>,

    /// The Redis pub/sub channel the instances share (several Salon sites
    /// can use one Redis server with a channel each).
    #[arg(long, env = "SALON_REDIS_CHANNEL", default_value = "salon")]
    pub redis_channel: String,

    /// Abuse limits on what each user and address may repeat (posting,
    /// creating rooms, requests, uploads…). On by default; turn them off
    /// only for trusted load tests and bulk imports.
    #[arg(long, env = "SALON_RATE_LIMITS", default_value_t = true, action = clap::ArgAction::Set)]
    pub rate_limits: bool,

    /// Log format: `text` for people, `json` (one object per line) for log
    /// collectors.
    #[arg(long, env = "SALON_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// The largest file a message may carry, in megabytes (MiB).
    #[arg(long, env = "SALON_ATTACHMENT_MAX_MB", default_value_t = 25)]
    pub attachment_max_mb: u64,

    /// The VAPID private key push notifications are signed with (a P-256
    /// secret, 32 bytes in base64url). Without one, Salon makes one at
    /// first start and keeps it in the database, shared by every instance.
    #[arg(long, env = "SALON_VAPID_PRIVATE_KEY", hide_env_values = true)]
    pub vapid_private_key: Option<String>,

    /// Whom push services may contact about this server's notifications:
    /// a `mailto:` or `https:` URL. Defaults to the public origin when it
    /// is `https://`. Some push services (Apple's) refuse `localhost`.
    #[arg(long, env = "SALON_PUSH_CONTACT")]
    pub push_contact: Option<String>,

    /// Take push subscriptions whose service is on this machine over plain
    /// `http` (the tests' mock push service). Never in production.
    #[arg(long, env = "SALON_PUSH_ALLOW_HTTP", default_value_t = false, action = clap::ArgAction::Set, hide = true)]
    pub push_allow_http: bool,

    /// An SMTP server to mail password reset links through, e.g.
    /// `smtps://user:password@smtp.example.org` (TLS),
    /// `smtp://user:password@smtp.example.org:587?tls=required` (STARTTLS)
    /// or `smtp://127.0.0.1:25` (a relay on this machine). Without it,
    /// only administrators make reset links.
    #[arg(long, env = "SALON_SMTP_URL")]
    pub smtp_url: Option<String>,

    /// Whom the mail comes from, e.g. `Salon <salon@example.org>`.
    #[arg(long, env = "SALON_SMTP_FROM", default_value = "Salon <salon@localhost>")]
    pub smtp_from: String,

    /// Reverse proxies whose `X-Forwarded-For` gives the client's address
    /// (for rate limits, sign-in throttling and logs): addresses or
    /// networks, comma-separated (e.g. `127.0.0.1,10.0.0.0/8`). Without
    /// it the header is ignored and the client is the TCP peer.
    #[arg(long = "trusted-proxy", env = "SALON_TRUSTED_PROXIES", value_delimiter = ',', value_parser = crate::proxy::parse_network)]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// Directory with the built front end (`pkg/`, icons, manifest).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

impl Config {
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("salon.db").display()))
    }

    /// The origin links sent elsewhere (mail) lead to: the public origin,
    /// or this server's address.
    pub fn link_origin(&self) -> String {
        self.public_origin.clone().unwrap_or_else(|| format!("http://{}", self.bind))
    }

    /// Where attachments are kept: under the data directory, whatever
    /// the database (several instances share it, e.g. over NFS).
    pub fn files_dir(&self) -> PathBuf {
        self.data_dir.join("files")
    }

    pub fn attachment_max_bytes(&self) -> u64 {
        self.attachment_max_mb.saturating_mul(1024 * 1024)
    }

    pub fn push_contact(&self) -> String {
        let https_origin = self.public_origin.clone().filter(|origin| origin.starts_with("https://"));
        self.push_contact.clone().or(https_origin).unwrap_or_else(|| "mailto:postmaster@localhost".into())
    }

    pub fn secure_cookies(&self) -> bool {
        self.secure_cookies
            .unwrap_or_else(|| self.public_origin.as_deref().is_some_and(|o| o.starts_with("https://")))
    }

    /// A configuration for tests: everything under `data_dir`, any port.
    pub fn for_data_dir(data_dir: PathBuf) -> Self {
        Self {
            command: None,
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir,
            database_url: None,
            public_origin: None,
            secure_cookies: None,
            redis_url: None,
            redis_channel: "salon".into(),
            rate_limits: true,
            log_format: LogFormat::Text,
            attachment_max_mb: 25,
            vapid_private_key: None,
            push_contact: None,
            push_allow_http: false,
            trusted_proxies: Vec::new(),
            smtp_url: None,
            smtp_from: "Salon <salon@localhost>".into(),
            site_root: PathBuf::from("target/site"),
        }
    }
}

/// The commands besides serving (the default).
#[derive(Clone, Debug, clap::Subcommand)]
pub enum Command {
    /// Copy the running server's SQLite database and files into DIR (new
    /// or empty), without stopping it. For PostgreSQL use pg_dump.
    Backup { dir: PathBuf },
    /// Put the backup in DIR into the data directory, which must have no
    /// database yet (stop the server and move the old one away first).
    Restore { dir: PathBuf },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_configuration_defaults() {
        let config = Config::try_parse_from(["salon"]).expect("no flags needed");
        assert_eq!(config.bind, SocketAddr::from(([127, 0, 0, 1], 3000)));
        assert_eq!(config.database_url(), "sqlite://data/salon.db");
        assert!(!config.secure_cookies());
        assert_eq!(config.redis_url, None, "one instance, no Redis");
        assert_eq!(config.log_format, LogFormat::Text);
        assert!(config.rate_limits, "abuse limits are on");
    }

    #[test]
    fn cookies_are_secure_behind_https_unless_told_otherwise() {
        let https = Config::try_parse_from(["salon", "--public-origin", "https://chat.example.org"]).unwrap();
        assert!(https.secure_cookies());
        let forced_off = Config::try_parse_from([
            "salon",
            "--public-origin",
            "https://chat.example.org",
            "--secure-cookies",
            "false",
        ])
        .unwrap();
        assert!(!forced_off.secure_cookies());
        let database =
            Config::try_parse_from(["salon", "--data-dir", "/var/lib/salon"]).unwrap().database_url();
        assert_eq!(database, "sqlite:///var/lib/salon/salon.db");
    }
}
