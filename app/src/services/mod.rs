//! The rules of Salon. Every path that changes state (server function or,
//! later, WebSocket frame) goes through a service; each rule is checked here
//! and only here.

pub mod accounts;
pub mod auth;
pub mod avatars;
pub mod cluster;
pub mod hub;
pub mod messages;
pub mod metrics;
pub mod moderation;
pub mod passwords;
pub mod rate_limit;
pub mod rooms;
pub mod social;

use crate::error::AppError;
use crate::store::Store;
use std::sync::Arc;

/// Everything the services need, shared by every request.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub login_limiter: Arc<rate_limit::LoginLimiter>,
    pub passwords: passwords::Passwords,
    pub hub: Arc<hub::Hub>,
    pub writer: messages::MessageWriter,
}

impl AppState {
    /// Must be called within a Tokio runtime. Fails when the message
    /// writer cannot open its connection or thread.
    pub fn new(store: Store) -> std::io::Result<Self> {
        let passwords = passwords::Passwords::new();
        passwords.warm_up();
        let hub = Arc::new(hub::Hub::default());
        let writer = messages::MessageWriter::start(&store, hub.clone())?;
        Ok(Self {
            store,
            login_limiter: Arc::new(rate_limit::LoginLimiter::default()),
            passwords,
            hub,
            writer,
        })
    }
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
