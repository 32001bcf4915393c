//! Password hashing with argon2id (m = 19456 KiB, t = 2, p = 1, the OWASP
//! recommendation), always on the blocking pool: a hash takes tens of
//! milliseconds of CPU and must never stall the async workers.
//!
//! At most one hash per core runs at once; the others wait their turn.
//! Each hash takes 19 MiB: unbounded, 100 registrations arriving together
//! took the server to 1.9 GB of memory, kept after they were done.

use crate::error::AppError;
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::{Arc, OnceLock};
use tokio::sync::Semaphore;

fn argon2() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("OWASP argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

#[derive(Clone)]
pub struct Passwords {
    /// A hash of nothing anyone knows, verified when the login names no
    /// account, so that "no such user" takes as long as "wrong password".
    decoy: Arc<OnceLock<String>>,
    /// One permit per core: the hashes that may run at once.
    turns: Arc<Semaphore>,
}

impl Passwords {
    pub fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self { decoy: Arc::new(OnceLock::new()), turns: Arc::new(Semaphore::new(cores)) }
    }

    /// Computes the decoy hash ahead of the first unknown-account sign-in,
    /// which would otherwise take twice as long as the others.
    pub fn warm_up(&self) {
        let decoy = self.decoy.clone();
        tokio::task::spawn_blocking(move || {
            decoy.get_or_init(decoy_hash);
        });
    }

    pub async fn hash(&self, password: String) -> Result<String, AppError> {
        self.run(move || hash_now(&password)).await?
    }

    /// Checks `password` against `hash`, or against the decoy when there is
    /// no account, taking the same time either way.
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool, AppError> {
        let decoy = self.decoy.clone();
        self.run(move || {
            let known = hash.is_some();
            let hash = match hash {
                Some(hash) => hash,
                None => decoy.get_or_init(decoy_hash).clone(),
            };
            let matches = PasswordHash::new(&hash)
                .map(|parsed| argon2().verify_password(password.as_bytes(), &parsed).is_ok())
                .unwrap_or(false);
            known && matches
        })
        .await
    }
}

impl Default for Passwords {
    fn default() -> Self {
        Self::new()
    }
}

fn decoy_hash() -> String {
    hash_now("no account has this password").unwrap_or_default()
}

fn hash_now(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|cause| super::internal("hashing a password", cause))
}

impl Passwords {
    /// Runs `work` on the blocking pool once a core is free for it.
    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
        let turn = self
            .turns
            .clone()
            .acquire_owned()
            .await
            .map_err(|cause| super::internal("password turn", cause))?;
        tokio::task::spawn_blocking(move || {
            let done = work();
            drop(turn);
            done
        })
        .await
        .map_err(|cause| super::internal("password worker", cause))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_use_argon2id_with_owasp_parameters() {
        let passwords = Passwords::new();
        let hash = passwords.hash("correct horse".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(passwords.verify("correct horse".into(), Some(hash.clone())).await.unwrap());
        assert!(!passwords.verify("wrong horse".into(), Some(hash)).await.unwrap());
        assert!(!passwords.verify("decoy".into(), None).await.unwrap());
    }
}
