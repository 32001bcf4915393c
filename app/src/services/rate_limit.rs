//! Sign-in throttling: fixed windows per account and per client address,
//! kept in memory (a restart forgets them, which is acceptable here).
//!
//! Every attempt counts when it starts, so a burst of parallel guesses is
//! cut off as surely as a sequence; a successful sign-in gives its attempt
//! back, so many people signing in from one office address are not locked
//! out by each other.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed sign-ins allowed per account within [`WINDOW`].
pub const ACCOUNT_FAILURES: u32 = 10;
/// Failed sign-ins allowed per client address within [`WINDOW`].
pub const ADDRESS_FAILURES: u32 = 30;
pub const WINDOW: Duration = Duration::from_secs(10 * 60);
/// Beyond this many tracked keys, expired windows are swept on insert.
const SWEEP_ABOVE: usize = 10_000;

#[derive(Default)]
pub struct LoginLimiter {
    windows: Mutex<HashMap<String, Window>>,
}

struct Window {
    started: Instant,
    count: u32,
}

impl LoginLimiter {
    /// Starts an attempt on `account` from `address`, or says in how many
    /// seconds one may be tried again.
    pub fn begin(&self, address: &str, account: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut windows = self.lock();
        if windows.len() > SWEEP_ABOVE {
            windows.retain(|_, w| now.duration_since(w.started) < WINDOW);
        }
        let keys = [(address_key(address), ADDRESS_FAILURES), (account_key(account), ACCOUNT_FAILURES)];
        for (key, limit) in &keys {
            if let Some(window) = windows.get(key) {
                let age = now.duration_since(window.started);
                if age < WINDOW && window.count >= *limit {
                    return Err(WINDOW.saturating_sub(age).as_secs().max(1));
                }
            }
        }
        for (key, _) in keys {
            let window = windows.entry(key).or_insert(Window { started: now, count: 0 });
            if now.duration_since(window.started) >= WINDOW {
                *window = Window { started: now, count: 0 };
            }
            window.count += 1;
        }
        Ok(())
    }

    /// The attempt succeeded: the account starts afresh and the address
    /// gets its attempt back.
    pub fn succeeded(&self, address: &str, account: &str) {
        let mut windows = self.lock();
        windows.remove(&account_key(account));
        if let Some(window) = windows.get_mut(&address_key(address)) {
            window.count = window.count.saturating_sub(1);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Window>> {
        self.windows.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn address_key(address: &str) -> String {
    format!("addr:{address}")
}

fn account_key(account: &str) -> String {
    format!("acct:{account}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_lock_after_failures_and_unlock_on_success() {
        let limiter = LoginLimiter::default();
        for n in 0..ACCOUNT_FAILURES {
            assert!(limiter.begin(&format!("10.0.0.{n}"), "alice").is_ok());
        }
        let retry = limiter.begin("10.0.1.1", "alice").unwrap_err();
        assert!(retry > 0 && retry <= WINDOW.as_secs());
        assert!(limiter.begin("10.0.1.1", "bob").is_ok(), "other accounts are free");
        limiter.succeeded("10.0.1.1", "alice");
        assert!(limiter.begin("10.0.1.1", "alice").is_ok());
    }

    #[test]
    fn addresses_lock_after_failures_but_not_after_successes() {
        let limiter = LoginLimiter::default();
        for n in 0..ADDRESS_FAILURES * 2 {
            let account = format!("user{n}");
            assert!(limiter.begin("10.0.0.1", &account).is_ok());
            limiter.succeeded("10.0.0.1", &account);
        }
        for n in 0..ADDRESS_FAILURES {
            assert!(limiter.begin("10.0.0.1", &format!("guess{n}")).is_ok());
        }
        assert!(limiter.begin("10.0.0.1", "one more").is_err());
        assert!(limiter.begin("10.0.0.2", "one more").is_ok(), "other addresses are free");
    }
}
