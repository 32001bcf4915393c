//! Login throttling: fixed windows per account and per client address, kept
//! in memory (a restart forgets them, which is acceptable for throttling).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed sign-ins allowed per account within [`WINDOW`].
pub const ACCOUNT_FAILURES: u32 = 10;
/// Sign-in attempts allowed per client address within [`WINDOW`].
pub const ADDRESS_ATTEMPTS: u32 = 30;
pub const WINDOW: Duration = Duration::from_secs(10 * 60);
/// Beyond this many tracked keys, expired windows are swept on insert.
const SWEEP_ABOVE: usize = 10_000;

#[derive(Default)]
pub struct LoginLimiter {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl LoginLimiter {
    /// Counts an attempt from `address`; `Err(seconds)` when over the limit.
    pub fn attempt_from(&self, address: &str) -> Result<(), u64> {
        self.hit(format!("addr:{address}"), ADDRESS_ATTEMPTS, true)
    }

    /// Whether `account` may try again; does not count anything.
    pub fn check_account(&self, account: &str) -> Result<(), u64> {
        self.hit(format!("acct:{account}"), ACCOUNT_FAILURES, false)
    }

    pub fn failed_for_account(&self, account: &str) {
        let _ = self.hit(format!("acct:{account}"), ACCOUNT_FAILURES, true);
    }

    pub fn succeeded_for_account(&self, account: &str) {
        self.lock().remove(&format!("acct:{account}"));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, u32)>> {
        self.windows.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn hit(&self, key: String, limit: u32, count: bool) -> Result<(), u64> {
        let now = Instant::now();
        let mut windows = self.lock();
        if windows.len() > SWEEP_ABOVE {
            windows.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let entry = windows.entry(key).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        if entry.1 >= limit {
            let left = WINDOW.saturating_sub(now.duration_since(entry.0));
            return Err(left.as_secs().max(1));
        }
        if count {
            entry.1 += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_lock_after_failures_and_unlock_on_success() {
        let limiter = LoginLimiter::default();
        for _ in 0..ACCOUNT_FAILURES {
            assert!(limiter.check_account("alice").is_ok());
            limiter.failed_for_account("alice");
        }
        let retry = limiter.check_account("alice").unwrap_err();
        assert!(retry > 0 && retry <= WINDOW.as_secs());
        assert!(limiter.check_account("bob").is_ok());
        limiter.succeeded_for_account("alice");
        assert!(limiter.check_account("alice").is_ok());
    }

    #[test]
    fn addresses_are_limited_on_every_attempt() {
        let limiter = LoginLimiter::default();
        for _ in 0..ADDRESS_ATTEMPTS {
            assert!(limiter.attempt_from("10.0.0.1").is_ok());
        }
        assert!(limiter.attempt_from("10.0.0.1").is_err());
        assert!(limiter.attempt_from("10.0.0.2").is_ok());
    }
}
