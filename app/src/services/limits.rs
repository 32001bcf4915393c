//! Abuse limits: how often one person, and one client address, may repeat
//! each kind of request. Every server function is classed by its endpoint
//! ([`Action::of_endpoint`]); the WebSocket's `send` frames count as
//! [`Action::Post`], like posting over HTTP. Limiters are governor's GCRA
//! (a burst, then a steady rate), keyed, in memory per instance.
//!
//! Requests from loopback addresses have no per-address limit: they come
//! from this machine, which is also where a reverse proxy connects from, so
//! an address limit there would be one limit shared by every user. Behind
//! a trusted proxy (`--trusted-proxy`) the address is the client's, which
//! the proxy forwarded ([`ClientAddress`]). Per-user limits always apply. Sign-in failures have their own throttle
//! ([`super::sign_in_throttle`]).

use crate::domain::UserId;
use crate::error::AppError;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

/// The client's address as the server believes it: the TCP peer's, or
/// the one a trusted reverse proxy forwarded (put in each request's
/// extensions by the server).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

/// What a request does, as far as abuse limits go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    Register,
    Post,
    /// Editing or deleting a message, adding or removing a reaction.
    Change,
    /// Searching messages (a costlier read).
    Search,
    CreateRoom,
    /// Joining, leaving, accepting or declining an invitation.
    Membership,
    FriendRequest,
    Invite,
    Avatar,
    /// Uploading a file to attach.
    Upload,
    /// Profile, password (a costly hash), direct-message policy.
    AccountChange,
    /// A test notification: a request to a push service.
    PushTest,
    /// Anything else: reads, moderation, friends' answers.
    Other,
}

/// How many at once, then how often.
struct Rate {
    burst: u32,
    every: Duration,
}

fn quota(rate: Rate) -> Quota {
    let burst = NonZeroU32::new(rate.burst).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(rate.every).unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN)).allow_burst(burst)
}

impl Action {
    pub const ALL: [Action; 13] = [
        Action::Register,
        Action::Post,
        Action::Change,
        Action::Search,
        Action::CreateRoom,
        Action::Membership,
        Action::FriendRequest,
        Action::Invite,
        Action::Avatar,
        Action::Upload,
        Action::AccountChange,
        Action::PushTest,
        Action::Other,
    ];

    /// The action of a server function, by its endpoint under `/api/`.
    pub fn of_endpoint(endpoint: &str) -> Self {
        match endpoint {
            "register" | "reset_password" | "reset_check" | "reset_request" => Self::Register,
            "post_message" => Self::Post,
            "edit_message" | "delete_message" | "react" => Self::Change,
            "search" => Self::Search,
            "create_room" | "direct" => Self::CreateRoom,
            "join_room" | "leave_room" | "invitation_accept" | "invitation_decline" => Self::Membership,
            "friend_request" => Self::FriendRequest,
            "invite" | "join_link_make" => Self::Invite,
            "avatar" => Self::Avatar,
            "attachments" => Self::Upload,
            "profile" | "password" | "dm_policy" | "push_subscribe" | "push_unsubscribe"
            | "push_previews" | "room_notify" | "export" | "delete_account" => Self::AccountChange,
            "push_test" => Self::PushTest,
            _ => Self::Other,
        }
    }

    /// Per signed-in user. Posting matches the WebSocket's frame rate, so
    /// a fast typist or a bot within the socket's limits is never refused.
    fn per_user(self) -> Rate {
        let (burst, every_ms) = match self {
            Self::Register => (5, 60_000),
            Self::Post => (120, 33),
            Self::Change => (60, 250),
            Self::Search => (30, 500),
            Self::CreateRoom => (10, 30_000),
            Self::Membership => (60, 1_000),
            Self::FriendRequest => (20, 30_000),
            Self::Invite => (30, 10_000),
            Self::Avatar => (20, 30_000),
            Self::Upload => (30, 2_000),
            Self::AccountChange => (10, 10_000),
            Self::PushTest => (5, 20_000),
            Self::Other => (300, 20),
        };
        Rate { burst, every: Duration::from_millis(every_ms) }
    }

    /// Per client address: several people may share one (an office, a
    /// school), so a few times the per-user rate.
    fn per_address(self) -> Rate {
        let user = self.per_user();
        Rate { burst: user.burst * 4, every: user.every / 4 }
    }
}

type Limiter<K> = DefaultKeyedRateLimiter<K>;

pub struct Limits {
    by_user: Vec<Limiter<UserId>>,
    by_address: Vec<Limiter<IpAddr>>,
    clock: DefaultClock,
    /// Off (`SALON_RATE_LIMITS=false`): for trusted load tests only.
    enabled: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Self::new(true)
    }
}

impl Limits {
    pub fn new(enabled: bool) -> Self {
        Self {
            by_user: Action::ALL.iter().map(|a| Limiter::keyed(quota(a.per_user()))).collect(),
            by_address: Action::ALL.iter().map(|a| Limiter::keyed(quota(a.per_address()))).collect(),
            clock: DefaultClock::default(),
            enabled,
        }
    }

    /// Counts one `action` by `user` (if signed in) from `address`, or
    /// says in how many seconds it may be tried again.
    pub fn check(
        &self,
        action: Action,
        user: Option<UserId>,
        address: Option<IpAddr>,
    ) -> Result<(), AppError> {
        if !self.enabled {
            return Ok(());
        }
        let index = Action::ALL.iter().position(|a| *a == action).unwrap_or(Action::ALL.len() - 1);
        if let Some(address) = address.filter(|a| !a.is_loopback()) {
            self.by_address[index].check_key(&address).map_err(|not_until| self.refusal(&not_until))?;
        }
        if let Some(user) = user {
            self.by_user[index].check_key(&user).map_err(|not_until| self.refusal(&not_until))?;
        }
        Ok(())
    }

    fn refusal(&self, not_until: &governor::NotUntil<<DefaultClock as Clock>::Instant>) -> AppError {
        let wait = not_until.wait_time_from(self.clock.now());
        AppError::RateLimited { retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64 }
    }

    /// Forgets the keys whose limits have fully recovered (call now and then).
    pub fn forget_recovered(&self) {
        for limiter in &self.by_user {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        for limiter in &self.by_address {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(last: u8) -> Option<IpAddr> {
        Some(IpAddr::from([203, 0, 113, last]))
    }

    #[test]
    fn a_user_gets_a_burst_then_a_clear_wait() {
        let limits = Limits::default();
        let alice = Some(UserId(1));
        for n in 0..10 {
            assert!(limits.check(Action::CreateRoom, alice, address(n)).is_ok(), "room {n}");
        }
        let Err(AppError::RateLimited { retry_after_secs }) =
            limits.check(Action::CreateRoom, alice, address(99))
        else {
            panic!("the eleventh room at once is refused");
        };
        assert!((1..=30).contains(&retry_after_secs), "{retry_after_secs}");
        assert!(limits.check(Action::CreateRoom, Some(UserId(2)), address(99)).is_ok(), "others are free");
        assert!(limits.check(Action::Post, alice, address(99)).is_ok(), "each action has its own limit");
    }

    #[test]
    fn an_address_is_limited_across_accounts_but_not_loopback() {
        let limits = Limits::default();
        for n in 0..20 {
            assert!(limits.check(Action::Register, None, address(1)).is_ok(), "account {n}");
        }
        assert!(limits.check(Action::Register, None, address(1)).is_err());
        assert!(limits.check(Action::Register, None, address(2)).is_ok());
        let loopback = Some(IpAddr::from([127, 0, 0, 1]));
        for _ in 0..100 {
            assert!(limits.check(Action::Register, None, loopback).is_ok());
        }
    }

    #[test]
    fn limits_can_be_turned_off() {
        let limits = Limits::new(false);
        for _ in 0..100 {
            assert!(limits.check(Action::CreateRoom, Some(UserId(1)), address(1)).is_ok());
        }
    }

    #[test]
    fn endpoints_are_classed() {
        assert_eq!(Action::of_endpoint("post_message"), Action::Post);
        assert_eq!(Action::of_endpoint("avatar"), Action::Avatar);
        assert_eq!(Action::of_endpoint("room_history"), Action::Other);
        assert_eq!(Action::of_endpoint("something_new"), Action::Other);
    }
}
