//! The one error type that server functions return and the UI shows.
//!
//! It carries no internal detail (no SQL, no paths): the server logs those and
//! sends only what the user can act on. Validation problems name the field
//! they belong to so that forms can show them next to the right input.

use serde::{Deserialize, Serialize};
use server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};

/// A form field that a validation problem belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Username,
    Email,
    Password,
    PasswordConfirm,
    CurrentPassword,
    Login,
    DisplayName,
    Avatar,
    RoomName,
    Topic,
    Message,
    Emoji,
    Search,
    Attachment,
    /// This device's push notifications.
    Notifications,
    /// A user's role on the whole server.
    Role,
    /// The join link an account is made with.
    JoinLink,
    /// How many accounts a join link may make.
    MaxUses,
}

/// What is wrong with a field's value; the UI words it in the user's language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum Problem {
    Required,
    TooShort {
        min: usize,
    },
    TooLong {
        max: usize,
    },
    UsernameCharacters,
    ControlCharacters,
    InvalidEmail,
    UsernameTaken,
    EmailTaken,
    CommonPassword,
    PasswordMismatch,
    WrongPassword,
    UnsupportedImage,
    ImageTooLarge {
        max_bytes: usize,
    },
    ImageTooManyPixels {
        max_megapixels: u32,
    },
    RoomNameTaken,
    /// No user has this username.
    UnknownUser,
    /// A friend request or invitation to oneself.
    Yourself,
    AlreadyFriends,
    AlreadyRequested,
    AlreadyMember,
    AlreadyInvited,
    /// Banned from the room: unban them first.
    Banned,
    /// They do not take requests, invitations or messages from the user
    /// (blocked, or friends only). Worded without saying which.
    NotAccepting,
    /// Not one emoji.
    NotAnEmoji,
    /// The message has the most distinct reactions it may have.
    TooManyReactions {
        max: usize,
    },
    /// A file over the server's limit.
    FileTooLarge {
        max_bytes: u64,
    },
    /// A file attached to a message that is not (or no longer) the
    /// sender's unsent upload in that room.
    AttachmentGone,
    TooManyAttachments {
        max: usize,
    },
    /// A push service the server does not take (not `https`, or on its
    /// own network).
    PushServiceUnsupported,
    /// The push service refused the notification or did not answer.
    PushServiceRefused,
    /// The server's last admin cannot stop being one.
    LastAdmin,
    /// The account was deactivated by an administrator.
    Deactivated,
    /// An administrator cannot be deactivated (take the role first).
    DeactivateAdmin,
    /// A deactivated account is not made an administrator (reactivate it
    /// first): the server never counts on an admin who cannot sign in.
    PromoteDeactivated,
    /// The server takes no new accounts.
    SignUpClosed,
    /// Only the server's administrators create rooms.
    AdminsOnlyRooms,
    /// Sign-up is by join link only, and none was given.
    JoinLinkRequired,
    /// The join link is unknown, expired, used up or revoked.
    JoinLinkUnusable,
    /// One has as many usable join links as one may.
    TooManyJoinLinks {
        max: usize,
    },
    /// Only a member of the room can be given it.
    NotAMember,
    /// A whole number from `min` to `max` was expected.
    OutOfRange {
        min: u32,
        max: u32,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: Field,
    /// Flattened: `{"field": "username", "problem": "too_short", "min": 3}`.
    #[serde(flatten)]
    pub problem: Problem,
}

/// Every failure a server function can report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum AppError {
    #[error("invalid input: {fields:?}")]
    Invalid { fields: Vec<FieldError> },
    #[error("wrong username or password")]
    BadCredentials,
    #[error("sign-in required")]
    Unauthenticated,
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("too many attempts, retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("request too large")]
    PayloadTooLarge,
    #[error("malformed request")]
    BadRequest,
    /// Only produced in the browser: the server could not be reached.
    #[error("network error")]
    Network,
    #[error("internal error")]
    Internal,
}

impl AppError {
    pub fn field(field: Field, problem: Problem) -> Self {
        Self::Invalid { fields: vec![FieldError { field, problem }] }
    }

    /// The problem reported for `field`, if any.
    pub fn problem_for(&self, field: Field) -> Option<&Problem> {
        match self {
            Self::Invalid { fields } => fields.iter().find(|e| e.field == field).map(|e| &e.problem),
            _ => None,
        }
    }

    /// [`Self::status`] as the server sends it.
    #[cfg(feature = "ssr")]
    pub fn status_code(&self) -> http::StatusCode {
        http::StatusCode::from_u16(self.status()).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The header the response carries with this error, if any: when to
    /// retry, for a rate limit. The one place both the server functions'
    /// answers and the server's own error responses take it from.
    #[cfg(feature = "ssr")]
    pub fn header(&self) -> Option<(http::HeaderName, http::HeaderValue)> {
        match self {
            Self::RateLimited { retry_after_secs } => {
                Some((http::header::RETRY_AFTER, http::HeaderValue::from(*retry_after_secs)))
            }
            _ => None,
        }
    }

    /// The HTTP status this error is sent with: never 500 for bad input.
    pub fn status(&self) -> u16 {
        match self {
            Self::Invalid { .. } => 422,
            Self::BadCredentials | Self::Unauthenticated => 401,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::RateLimited { .. } => 429,
            Self::PayloadTooLarge => 413,
            Self::BadRequest => 400,
            Self::Network => 503,
            Self::Internal => 500,
        }
    }
}

/// Collects field problems so that a form reports all of them at once.
#[derive(Default)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    /// Records the problem of a parse result, returning its value if it parsed.
    pub fn check<T>(&mut self, field: Field, parsed: Result<T, Problem>) -> Option<T> {
        parsed.map_err(|problem| self.0.push(FieldError { field, problem })).ok()
    }

    pub fn add(&mut self, field: Field, problem: Problem) {
        self.0.push(FieldError { field, problem });
    }

    pub fn into_result(self) -> Result<(), AppError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AppError::Invalid { fields: self.0 })
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // Arguments that do not decode are the caller's fault.
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => Self::BadRequest,
            ServerFnErrorErr::Request(_) => Self::Network,
            other => {
                #[cfg(feature = "ssr")]
                tracing::error!(error = %other, "server function failure");
                #[cfg(not(feature = "ssr"))]
                let _ = other;
                Self::Internal
            }
        }
    }

    /// Encodes the error for the response and, on the server, gives that
    /// response the error's status and header: every error response passes
    /// through here, including those for arguments that did not decode.
    fn ser(&self) -> server_fn::Bytes {
        #[cfg(feature = "ssr")]
        if let Some(options) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            options.set_status(self.status_code());
            if let Some((name, value)) = self.header() {
                options.insert_header(name, value);
            }
        }
        serde_json::to_vec(self).unwrap_or_default().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_round_trip_as_json() {
        let error = AppError::field(Field::Username, Problem::TooLong { max: 32 });
        let decoded = AppError::de(error.ser());
        assert_eq!(decoded, error);
        assert_eq!(decoded.problem_for(Field::Username), Some(&Problem::TooLong { max: 32 }));
        assert_eq!(decoded.problem_for(Field::Email), None);
    }

    #[test]
    fn bad_input_is_never_a_server_error() {
        assert_eq!(AppError::field(Field::Email, Problem::Required).status(), 422);
        assert_eq!(AppError::from_server_fn_error(ServerFnErrorErr::Args("x".into())).status(), 400);
        assert_eq!(AppError::PayloadTooLarge.status(), 413);
    }
}
