//! Join links (issue 19): how people get an account on a server whose
//! sign-up is by link only, and who invited whom. A link is a random code
//! (`/join/CODE`) made by an admin, or by any member when the server's
//! settings allow it, with an optional expiry and number of uses.

use super::PublicProfile;
use crate::error::Problem;
use serde::{Deserialize, Serialize};

/// A join code's length: 16 random bytes in unpadded base64url.
pub const JOIN_CODE_LEN: usize = 22;

/// The most uses a join link may be given.
pub const JOIN_LINK_MAX_USES: u32 = 1000;

/// The most usable join links one person may have at once.
pub const JOIN_LINKS_PER_MAKER: usize = 50;

/// The most join links listed at once (an admin sees everyone's).
pub const JOIN_LINKS_LISTED: usize = 200;

/// A join link's code as it comes from outside: checked for its form only
/// (whether a link has it is the store's to say).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct JoinCode(String);

impl JoinCode {
    pub fn parse(input: &str) -> Option<Self> {
        let valid = input.len() == JOIN_CODE_LEN
            && input.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        valid.then(|| Self(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How long a new join link works.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JoinLinkExpiry {
    Hour,
    Day,
    #[default]
    Week,
    Month,
    Never,
}

impl JoinLinkExpiry {
    pub const ALL: [Self; 5] = [Self::Hour, Self::Day, Self::Week, Self::Month, Self::Never];

    /// How long, in ms; `None`: for ever.
    pub fn millis(self) -> Option<i64> {
        const HOUR: i64 = 3_600_000;
        match self {
            Self::Hour => Some(HOUR),
            Self::Day => Some(24 * HOUR),
            Self::Week => Some(7 * 24 * HOUR),
            Self::Month => Some(30 * 24 * HOUR),
            Self::Never => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hour => "hour",
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
            Self::Never => "never",
        }
    }
}

/// How many accounts a new link may make, as typed (empty: no limit).
pub fn parse_max_uses(input: &str) -> Result<Option<u32>, Problem> {
    let input = input.trim();
    if input.is_empty() {
        return Ok(None);
    }
    let out_of_range = Problem::OutOfRange { min: 1, max: JOIN_LINK_MAX_USES };
    match input.parse::<u32>() {
        Ok(uses) if (1..=JOIN_LINK_MAX_USES).contains(&uses) => Ok(Some(uses)),
        _ => Err(out_of_range),
    }
}

/// Whether a join link still makes accounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JoinLinkState {
    Usable,
    Expired,
    UsedUp,
    Revoked,
}

/// A join link as its maker (or an admin) sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinLink {
    pub code: String,
    pub made_by: PublicProfile,
    /// ms since the epoch.
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub max_uses: Option<u32>,
    pub uses: u32,
    pub revoked: bool,
}

impl JoinLink {
    /// The rule the store applies again when an account uses the link.
    pub fn state(&self, now: i64) -> JoinLinkState {
        if self.revoked {
            JoinLinkState::Revoked
        } else if self.expires_at.is_some_and(|at| at <= now) {
            JoinLinkState::Expired
        } else if self.max_uses.is_some_and(|max| self.uses >= max) {
            JoinLinkState::UsedUp
        } else {
            JoinLinkState::Usable
        }
    }

    /// Where the link leads, from the server's origin.
    pub fn path(&self) -> String {
        format!("/join/{}", self.code)
    }
}

/// The join links one may see: one's own (an admin: everyone's), newest
/// first, and whether one may make more.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinLinks {
    pub links: Vec<JoinLink>,
    pub may_make: bool,
    /// The server's time when it listed them, ms since the epoch: what
    /// their [`JoinLink::state`] is told at.
    pub now: i64,
}

/// What someone opening `/join/CODE` is told: who invites them, and
/// whether the link lets them make an account now (the sign-up setting
/// included).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinInvitation {
    pub made_by: PublicProfile,
    pub usable: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::UserId;

    fn link(expires_at: Option<i64>, max_uses: Option<u32>, uses: u32, revoked: bool) -> JoinLink {
        let made_by = PublicProfile {
            id: UserId(1),
            username: "alice".into(),
            display_name: String::new(),
            avatar_version: None,
        };
        JoinLink { code: "c".repeat(22), made_by, created_at: 0, expires_at, max_uses, uses, revoked }
    }

    #[test]
    fn a_link_works_until_it_expires_is_used_up_or_revoked() {
        assert_eq!(link(None, None, 500, false).state(10), JoinLinkState::Usable);
        assert_eq!(link(Some(11), Some(2), 1, false).state(10), JoinLinkState::Usable);
        assert_eq!(link(Some(10), None, 0, false).state(10), JoinLinkState::Expired);
        assert_eq!(link(None, Some(2), 2, false).state(10), JoinLinkState::UsedUp);
        assert_eq!(link(None, None, 0, true).state(10), JoinLinkState::Revoked);
    }

    #[test]
    fn codes_are_checked_for_their_form() {
        assert!(JoinCode::parse("abcdefghijklmnopqrs-_0").is_some());
        assert!(JoinCode::parse("abcdefghijklmnopqrs-_").is_none());
        assert!(JoinCode::parse("abcdefghijklmnopqrs-_0x").is_none());
        assert!(JoinCode::parse("abcdefghijklmnopqrs/_0").is_none());
        assert!(JoinCode::parse("abcdefghijklmnopqrsé_").is_none());
    }

    #[test]
    fn uses_are_a_number_in_range_or_nothing() {
        assert_eq!(parse_max_uses(" "), Ok(None));
        assert_eq!(parse_max_uses("1"), Ok(Some(1)));
        assert_eq!(parse_max_uses("1000"), Ok(Some(1000)));
        for wrong in ["0", "1001", "-1", "two", "99999999999"] {
            assert_eq!(parse_max_uses(wrong), Err(Problem::OutOfRange { min: 1, max: 1000 }));
        }
    }
}
