//! Password hashing with argon2id (m = 19456 KiB, t = 2, p = 1, the OWASP
//! recommendation), always on the blocking pool: a hash takes tens of
//! milliseconds of CPU and must never stall the async workers.

use crate::error::AppError;
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::{Arc, OnceLock};

fn argon2() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("OWASP argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

#[derive(Clone)]
pub struct Passwords {
    /// A hash of nothing anyone knows, verified when the login names no
    /// account, so that "no such user" takes as long as "wrong password".
    decoy: Arc<OnceLock<String>>,
}

impl Passwords {
    pub fn new() -> Self {
        Self { decoy: Arc::new(OnceLock::new()) }
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
        run_blocking(move || hash_now(&password)).await?
    }

    /// Checks `password` against `hash`, or against the decoy when there is
    /// no account, taking the same time either way.
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool, AppError> {
        let decoy = self.decoy.clone();
        run_blocking(move || {
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

async fn run_blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
    tokio::task::spawn_blocking(work).await.map_err(|cause| super::internal("password worker", cause))
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
