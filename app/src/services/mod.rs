//! The rules of Salon. Every path that changes state (server function or,
//! later, WebSocket frame) goes through a service; each rule is checked here
//! and only here.

pub mod account_data;
pub mod accounts;
pub mod admin;
pub mod attachments;
pub mod auth;
pub mod avatars;
pub mod cluster;
pub mod hub;
pub mod images;
pub mod join_links;
pub mod limits;
pub mod live;
pub mod mail;
pub mod messages;
pub mod metrics;
pub mod moderation;
pub mod passwords;
pub mod push;
pub mod resets;
pub mod rooms;
pub mod search;
pub mod sign_in_throttle;
pub mod social;

use crate::error::AppError;
use crate::store::{Store, StoreError};
use std::sync::Arc;

/// Everything the services need, shared by every request and socket: one
/// allocation, cloned as a pointer (each open socket keeps a clone for its
/// whole life, and every request takes one).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] shares.
pub struct Shared {
    pub store: Store,
    pub sign_in_throttle: Arc<sign_in_throttle::SignInThrottle>,
    pub devices: sign_in_throttle::DeviceKeys,
    /// Cookies are marked `Secure` (served over HTTPS).
    pub secure_cookies: bool,
    pub limits: Arc<limits::Limits>,
    pub passwords: passwords::Passwords,
    pub hub: Arc<hub::Hub>,
    pub writer: messages::MessageWriter,
    /// Where attachments are kept.
    pub files: Arc<attachments::Files>,
    /// Mail (password reset links), when SMTP is set up.
    pub mail: Option<mail::Mailer>,
    pub push: push::Pusher,
}

impl AppState {
    /// Must be called within a Tokio runtime. Fails when the database
    /// does not answer or the message writer cannot open its connection or
    /// thread.
    pub async fn new(store: Store, settings: Settings) -> Result<Self, StartError> {
        let fresh = (0..4)
            .map(|_| getrandom::u64().map(u64::to_le_bytes))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| StartError::Random)?
            .concat();
        let device_key = store.server_secret("device_cookies", &fresh).await?;
        let passwords = passwords::Passwords::new();
        passwords.warm_up();
        let hub = Arc::new(hub::Hub::default());
        tokio::spawn(hub::flush_presence_continuously(Arc::downgrade(&hub)));
        let vapid_key = match settings.vapid_key {
            Some(key) => push::Vapid::decode_key(&key).map_err(StartError::Vapid)?,
            None => store.server_secret("vapid", &push::Vapid::generate_key()).await?,
        };
        let vapid = push::Vapid::new(&vapid_key, settings.push_contact).map_err(|error| {
            StartError::Vapid(format!("the VAPID key is not a P-256 private key: {error}"))
        })?;
        let push = push::Pusher::start(store.clone(), hub.clone(), vapid, settings.push_allow_http)
            .map_err(|error| StartError::Vapid(error.to_string()))?;
        let writer =
            messages::MessageWriter::start(&store, hub.clone(), push.clone()).map_err(StartError::Writer)?;
        let files = attachments::Files::open(settings.files, settings.attachment_max_bytes)
            .map_err(StartError::Files)?;
        Ok(Self(Arc::new(Shared {
            store,
            sign_in_throttle: Arc::new(sign_in_throttle::SignInThrottle::default()),
            devices: sign_in_throttle::DeviceKeys::new(&device_key),
            secure_cookies: settings.secure_cookies,
            limits: Arc::new(limits::Limits::new(settings.rate_limits)),
            passwords,
            hub,
            writer,
            files: Arc::new(files),
            push,
            mail: settings.mail,
        })))
    }
}

/// What the services take from the server's configuration.
pub struct Settings {
    /// Cookies are marked `Secure` (served over HTTPS).
    pub secure_cookies: bool,
    /// Abuse limits are applied ([`limits`]).
    pub rate_limits: bool,
    /// The directory attachments are kept in.
    pub files: std::path::PathBuf,
    /// The largest attachment taken, in bytes.
    pub attachment_max_bytes: u64,
    /// The VAPID private key pushes are signed with (32 bytes,
    /// base64url); without one, a key made at first start and kept in the
    /// database (shared by every instance).
    pub vapid_key: Option<String>,
    /// Whom push services may contact about this server's pushes: a
    /// `mailto:` or `https:` URL.
    pub push_contact: String,
    /// Push services on this machine over plain `http` are taken: for
    /// tests only.
    pub push_allow_http: bool,
    /// Mail, when SMTP is set up ([`mail::Mailer::new`]).
    pub mail: Option<mail::Mailer>,
}

/// Why the services cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot read the shared secrets: {0}")]
    Secrets(#[from] sqlx::Error),
    #[error("the system gives no random numbers")]
    Random,
    #[error("cannot start the message writer: {0}")]
    Writer(std::io::Error),
    #[error("cannot open the attachments' directory: {0}")]
    Files(std::io::Error),
    #[error("cannot set up push notifications: {0}")]
    Vapid(String),
}

/// Logs an unexpected failure with its cause and returns the error the user
/// sees, which says nothing about the cause.
pub fn internal(context: &'static str, cause: impl std::fmt::Display) -> AppError {
    tracing::error!(%cause, "{context}");
    metrics::METRICS.errors.increment();
    AppError::Internal
}

/// `result.or_internal("loading a user")`: see [`internal`].
pub trait OrInternal<T> {
    fn or_internal(self, context: &'static str) -> Result<T, AppError>;
}

impl<T, E: std::fmt::Display> OrInternal<T> for Result<T, E> {
    fn or_internal(self, context: &'static str) -> Result<T, AppError> {
        self.map_err(|cause| internal(context, cause))
    }
}

/// `result.on_constraint("creating a room", |_| taken)`: a write refused by
/// a unique constraint becomes the error `taken` makes from the
/// constraint's key (the form field it belongs to); any other failure is
/// internal (see [`internal`]). The one place such violations are mapped,
/// as realworld-axum-sqlx's `ResultExt::on_constraint`.
pub trait OnConstraint<T> {
    fn on_constraint(
        self,
        context: &'static str,
        taken: impl FnOnce(&'static str) -> AppError,
    ) -> Result<T, AppError>;
}

impl<T> OnConstraint<T> for Result<T, StoreError> {
    fn on_constraint(
        self,
        context: &'static str,
        taken: impl FnOnce(&'static str) -> AppError,
    ) -> Result<T, AppError> {
        self.map_err(|error| match error {
            StoreError::Duplicate(key) => taken(key),
            StoreError::Database(cause) => internal(context, cause),
        })
    }
}
