//! Sign-in throttling that keeps guessing slow without handing out
//! lockouts (OWASP's "device cookies").
//!
//! A browser that signed in to an account before carries a device cookie
//! for it ([`DeviceKeys`]); its attempts on that account count only against
//! its own allowance, so nobody can keep the owner out of an account from
//! elsewhere. Attempts without one count against the account and address
//! together, the address across accounts, and, more slowly, the account from
//! anywhere (a guesser with many addresses). Fixed windows, in memory per
//! instance (a restart forgets them).
//!
//! Every attempt counts when it starts, so a burst of parallel guesses is
//! cut off as surely as a sequence; a successful sign-in gives its attempt
//! back. (Not governor's limiters, which count requests and cannot give one
//! back; these count failures.)

use crate::domain::UserId;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A fixed window's length and the attempts allowed in it.
#[derive(Clone, Copy)]
pub struct Allowance {
    pub attempts: u32,
    pub window: Duration,
}

const TEN_MINUTES: Duration = Duration::from_secs(10 * 60);
/// One trusted device on its account.
pub const DEVICE: Allowance = Allowance { attempts: 10, window: TEN_MINUTES };
/// One account from one address, without a device cookie.
pub const ACCOUNT_AT_ADDRESS: Allowance = Allowance { attempts: 10, window: TEN_MINUTES };
/// One address, across accounts, without device cookies.
pub const ADDRESS: Allowance = Allowance { attempts: 30, window: TEN_MINUTES };
/// One account from anywhere, without device cookies.
pub const ACCOUNT: Allowance = Allowance { attempts: 100, window: Duration::from_secs(60 * 60) };
/// Beyond this many tracked keys, expired windows are swept on insert.
const SWEEP_ABOVE: usize = 10_000;

/// Who is trying: the account (by id, or by the name typed when there is
/// none), the client's address, and whether it showed a valid device cookie
/// for this account.
pub struct Attempt<'a> {
    pub account: &'a str,
    pub address: &'a str,
    pub device: Option<&'a str>,
}

impl Attempt<'_> {
    fn keys(&self) -> Vec<(String, Allowance)> {
        match self.device {
            Some(device) => vec![(format!("device:{device}"), DEVICE)],
            None => vec![
                (format!("pair:{}|{}", self.account, self.address), ACCOUNT_AT_ADDRESS),
                (format!("addr:{}", self.address), ADDRESS),
                (format!("acct:{}", self.account), ACCOUNT),
            ],
        }
    }
}

#[derive(Default)]
pub struct SignInThrottle {
    windows: Mutex<HashMap<String, Window>>,
}

struct Window {
    started: Instant,
    length: Duration,
    count: u32,
}

impl SignInThrottle {
    /// Starts an attempt, or says in how many seconds one may be tried
    /// again.
    pub fn begin(&self, attempt: &Attempt) -> Result<(), u64> {
        let now = Instant::now();
        let keys = attempt.keys();
        let mut windows = self.lock();
        if windows.len() > SWEEP_ABOVE {
            windows.retain(|_, w| now.duration_since(w.started) < w.length);
        }
        for (key, allowance) in &keys {
            if let Some(window) = windows.get(key) {
                let age = now.duration_since(window.started);
                if age < window.length && window.count >= allowance.attempts {
                    return Err(window.length.saturating_sub(age).as_secs().max(1));
                }
            }
        }
        for (key, allowance) in keys {
            let fresh = Window { started: now, length: allowance.window, count: 0 };
            let window = windows.entry(key).or_insert(fresh);
            if now.duration_since(window.started) >= window.length {
                *window = Window { started: now, length: allowance.window, count: 0 };
            }
            window.count += 1;
        }
        Ok(())
    }

    /// The attempt succeeded: it is given back.
    pub fn succeeded(&self, attempt: &Attempt) {
        let mut windows = self.lock();
        for (key, _) in attempt.keys() {
            if let Some(window) = windows.get_mut(&key) {
                window.count = window.count.saturating_sub(1);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Window>> {
        self.windows.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Issues and checks device cookies: `USER.NONCE.MAC`, the MAC an
/// HMAC-SHA256 of the user and nonce under a key every instance shares (kept
/// in the database). A cookie names one account; it proves only that this
/// browser once signed in to it, so a stolen one buys no more than its own
/// small allowance.
#[derive(Clone)]
pub struct DeviceKeys {
    key: std::sync::Arc<[u8]>,
}

/// The cookie's name.
pub const DEVICE_COOKIE: &str = "salon_device";
/// How long a browser stays trusted.
pub const DEVICE_COOKIE_MAX_AGE: Duration = Duration::from_secs(365 * 24 * 3600);

impl DeviceKeys {
    pub fn new(key: &[u8]) -> Self {
        Self { key: key.into() }
    }

    fn mac(&self, user: UserId, nonce: &str) -> Option<Hmac<Sha256>> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).ok()?;
        mac.update(format!("salon-device-v1.{}.{nonce}", user.0).as_bytes());
        Some(mac)
    }

    /// A new cookie value for `user`.
    pub fn issue(&self, user: UserId) -> Option<String> {
        let nonce = format!("{:016x}{:016x}", getrandom::u64().ok()?, getrandom::u64().ok()?);
        let tag = self.mac(user, &nonce)?.finalize().into_bytes();
        Some(format!("{}.{nonce}.{}", user.0, hex::encode(tag)))
    }

    /// The device's id (its nonce) if `cookie` is a valid device cookie for
    /// `user`. The MAC is compared in constant time.
    pub fn verify(&self, cookie: &str, user: UserId) -> Option<String> {
        let mut parts = cookie.split('.');
        let (id, nonce, tag) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || id.parse::<i64>().ok()? != user.0 || nonce.len() != 32 {
            return None;
        }
        if tag.len() > 128 {
            return None;
        }
        let tag = hex::decode(tag).ok()?;
        self.mac(user, nonce)?.verify_slice(&tag).ok()?;
        Some(nonce.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(address: &str) -> Attempt<'_> {
        Attempt { account: "#1", address, device: None }
    }

    #[test]
    fn guessing_from_one_address_stops_there() {
        let throttle = SignInThrottle::default();
        for _ in 0..ACCOUNT_AT_ADDRESS.attempts {
            assert!(throttle.begin(&from("10.0.0.1")).is_ok());
        }
        let retry = throttle.begin(&from("10.0.0.1")).unwrap_err();
        assert!(retry > 0 && retry <= TEN_MINUTES.as_secs());
        assert!(throttle.begin(&from("10.0.0.2")).is_ok(), "the owner elsewhere still signs in");
    }

    #[test]
    fn a_trusted_device_is_never_locked_out_by_others() {
        let throttle = SignInThrottle::default();
        // Guesses from many addresses exhaust the account's own allowance…
        for n in 0..ACCOUNT.attempts {
            assert!(throttle.begin(&from(&format!("10.0.{}.{}", n / 10, n % 10))).is_ok());
        }
        assert!(throttle.begin(&from("10.9.9.9")).is_err(), "untrusted attempts wait");
        // …but the owner's browser has its own.
        let owner = Attempt { account: "#1", address: "10.0.0.1", device: Some("abc") };
        assert!(throttle.begin(&owner).is_ok());
        throttle.succeeded(&owner);
        for _ in 0..DEVICE.attempts {
            assert!(throttle.begin(&owner).is_ok());
        }
        assert!(throttle.begin(&owner).is_err(), "a device too has a limit");
    }

    #[test]
    fn addresses_are_limited_across_accounts_but_successes_are_given_back() {
        let throttle = SignInThrottle::default();
        for n in 0..ADDRESS.attempts * 2 {
            let account = format!("user{n}");
            let attempt = Attempt { account: &account, address: "10.0.0.1", device: None };
            assert!(throttle.begin(&attempt).is_ok());
            throttle.succeeded(&attempt);
        }
        for n in 0..ADDRESS.attempts {
            let account = format!("guess{n}");
            assert!(throttle
                .begin(&Attempt { account: &account, address: "10.0.0.1", device: None })
                .is_ok());
        }
        assert!(throttle.begin(&Attempt { account: "more", address: "10.0.0.1", device: None }).is_err());
        assert!(throttle.begin(&Attempt { account: "more", address: "10.0.0.2", device: None }).is_ok());
    }

    #[test]
    fn device_cookies_are_bound_to_their_account_and_key() {
        let keys = DeviceKeys::new(b"a key of thirty-two bytes, or so");
        let cookie = keys.issue(UserId(7)).unwrap();
        let device = keys.verify(&cookie, UserId(7)).expect("valid");
        assert_eq!(device.len(), 32);
        assert_eq!(keys.verify(&cookie, UserId(8)), None, "another account");
        assert_eq!(DeviceKeys::new(b"another key").verify(&cookie, UserId(7)), None, "another key");
        let forged = cookie.replace(&device, &"0".repeat(32));
        assert_eq!(keys.verify(&forged, UserId(7)), None, "another nonce");
        for junk in ["", "7", "7..", "7.x.y.z", "7.0123456789abcdef0123456789abcdef.zz", "-1.a.b"] {
            assert_eq!(keys.verify(junk, UserId(7)), None, "{junk:?}");
        }
    }
}
