//! Push notifications: which messages a member wants pushed to their
//! devices, the subscription a device hands over, and what a push carries.

use serde::{Deserialize, Serialize};

/// Which of a room's messages are pushed to a member's devices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Notify {
    All,
    Mentions,
    Nothing,
}

impl Notify {
    pub const ALL: [Notify; 3] = [Notify::All, Notify::Mentions, Notify::Nothing];

    /// Until the member chooses: every message of a direct conversation,
    /// only those that mention them elsewhere.
    pub fn default_for(direct: bool) -> Self {
        if direct {
            Self::All
        } else {
            Self::Mentions
        }
    }

    /// Whether a message is pushed, as it does (`mentioned`) or does not
    /// mention the member.
    pub fn wants(self, mentioned: bool) -> bool {
        match self {
            Self::All => true,
            Self::Mentions => mentioned,
            Self::Nothing => false,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Mentions => "mentions",
            Self::Nothing => "nothing",
        }
    }

    /// A member's level as stored (`None`: never chosen), for a room that
    /// is or is not `direct`: the default applies until they choose.
    pub fn resolve(stored: Option<&str>, direct: bool) -> Self {
        stored.and_then(Self::from_db).unwrap_or(Self::default_for(direct))
    }

    /// Reads [`Self::as_str`]'s form back.
    pub fn from_db(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|level| level.as_str() == value)
    }
}

/// The longest push endpoint taken (the push services' are a few hundred
/// characters).
pub const MAX_PUSH_ENDPOINT: usize = 1024;

/// The most devices one user may have notified; subscribing another drops
/// the oldest.
pub const MAX_PUSH_DEVICES: usize = 10;

/// A device's push subscription, as the browser's
/// `PushSubscription.toJSON()` gives it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushDevice {
    /// The push service's URL for this device.
    pub endpoint: String,
    /// The device's P-256 public key (base64url, uncompressed point).
    pub p256dh: String,
    /// The device's 16-byte authentication secret (base64url).
    pub auth: String,
}

/// What a push carries: the notification as the service worker shows it
/// (`server/src/sw.js`), worded by the server in the device's language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushPayload {
    /// The room's name, or for a direct conversation the author's.
    pub title: String,
    /// Who wrote what (the first line, shortened), or only who when the
    /// user turned previews off.
    pub body: String,
    /// Where a click leads.
    pub url: String,
    /// Notifications with the same tag replace each other: one per room.
    pub tag: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_decide_what_is_pushed() {
        assert!(Notify::All.wants(false));
        assert!(Notify::Mentions.wants(true));
        assert!(!Notify::Mentions.wants(false));
        assert!(!Notify::Nothing.wants(true));
        assert_eq!(Notify::default_for(true), Notify::All);
        assert_eq!(Notify::default_for(false), Notify::Mentions);
        for level in Notify::ALL {
            assert_eq!(Notify::from_db(level.as_str()), Some(level));
        }
        assert_eq!(Notify::from_db("loud"), None);
    }
}
