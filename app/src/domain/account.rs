//! Accounts: usernames, emails, passwords, display names and the views of a
//! user that each side is allowed to see.

use crate::error::{AppError, Field, FieldErrors, Problem};
use serde::{Deserialize, Serialize};

/// A user's id. Ids are public (they appear in avatar URLs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
#[cfg_attr(feature = "ssr", derive(sqlx::Type), sqlx(transparent))]
pub struct UserId(pub i64);

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

pub const USERNAME_MIN: usize = 3;
pub const USERNAME_MAX: usize = 32;
pub const EMAIL_MAX: usize = 254;
pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 128;
pub const DISPLAY_NAME_MAX: usize = 64;

/// 3–32 ASCII letters, digits, `_`, `.` or `-`. Unique case-insensitively:
/// [`Username::key`] is what uniqueness is checked on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Username(String);

/// Whether `c` may be part of a username (see [`Username`]).
pub fn is_username_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

impl Username {
    pub fn parse(input: &str) -> Result<Self, Problem> {
        let name = super::parse_name(
            input,
            (USERNAME_MIN, USERNAME_MAX),
            is_username_char,
            Problem::UsernameCharacters,
        )?;
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-folded form that must be unique.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

/// A syntactically valid email address (a pragmatic subset of RFC 5322:
/// what people type, not comments or quoted local parts).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Self, Problem> {
        let email = input.trim();
        if email.is_empty() {
            return Err(Problem::Required);
        }
        if email.chars().count() > EMAIL_MAX {
            return Err(Problem::TooLong { max: EMAIL_MAX });
        }
        let Some((local, domain)) = email.rsplit_once('@') else {
            return Err(Problem::InvalidEmail);
        };
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local.chars().all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if local_ok && domain_ok {
            Ok(Self(email.to_owned()))
        } else {
            Err(Problem::InvalidEmail)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-folded form that must be unique.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

/// A new password: 8–128 characters, not one of the most common passwords.
/// No composition rules (NIST SP 800-63B).
pub struct Password(String);

impl Password {
    pub fn parse(input: &str) -> Result<Self, Problem> {
        let len = input.chars().count();
        if len == 0 {
            return Err(Problem::Required);
        }
        if len < PASSWORD_MIN {
            return Err(Problem::TooShort { min: PASSWORD_MIN });
        }
        if len > PASSWORD_MAX {
            return Err(Problem::TooLong { max: PASSWORD_MAX });
        }
        if is_common_password(input) {
            return Err(Problem::CommonPassword);
        }
        Ok(Self(input.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

fn is_common_password(password: &str) -> bool {
    let lowered = password.to_lowercase();
    COMMON_PASSWORDS.lines().any(|common| common == lowered)
}

/// What other people see instead of the username; empty means "use the
/// username". Up to 64 characters, no control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(input: &str) -> Result<Self, Problem> {
        let name = input.trim();
        if name.chars().count() > DISPLAY_NAME_MAX {
            return Err(Problem::TooLong { max: DISPLAY_NAME_MAX });
        }
        if name.chars().any(char::is_control) {
            return Err(Problem::ControlCharacters);
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A registration form as typed.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Registration {
    pub username: String,
    pub email: String,
    pub password: String,
    pub password_confirm: String,
}

/// A registration that passed every rule that does not need the database.
#[derive(Debug)]
pub struct ValidRegistration {
    pub username: Username,
    pub email: Email,
    pub password: Password,
}

impl Registration {
    pub fn validate(&self) -> Result<ValidRegistration, AppError> {
        let mut errors = FieldErrors::default();
        let username = errors.check(Field::Username, Username::parse(&self.username));
        let email = errors.check(Field::Email, Email::parse(&self.email));
        let password = errors.check(Field::Password, Password::parse(&self.password));
        check_confirmation(&mut errors, &self.password, &self.password_confirm);
        errors.into_result()?;
        match (username, email, password) {
            (Some(username), Some(email), Some(password)) => {
                Ok(ValidRegistration { username, email, password })
            }
            _ => Err(AppError::Internal),
        }
    }
}

/// A password change as typed.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PasswordChange {
    pub current_password: String,
    pub password: String,
    pub password_confirm: String,
}

impl PasswordChange {
    pub fn validate(&self) -> Result<Password, AppError> {
        let mut errors = FieldErrors::default();
        if self.current_password.is_empty() {
            errors.add(Field::CurrentPassword, Problem::Required);
        }
        let password = errors.check(Field::Password, Password::parse(&self.password));
        check_confirmation(&mut errors, &self.password, &self.password_confirm);
        errors.into_result()?;
        password.ok_or(AppError::Internal)
    }
}

/// A new password typed twice, without the current one (a reset link).
pub fn new_password(password: &str, confirmation: &str) -> Result<Password, AppError> {
    let mut errors = FieldErrors::default();
    let parsed = errors.check(Field::Password, Password::parse(password));
    check_confirmation(&mut errors, password, confirmation);
    errors.into_result()?;
    parsed.ok_or(AppError::Internal)
}

fn check_confirmation(errors: &mut FieldErrors, password: &str, confirmation: &str) {
    if confirmation.is_empty() {
        errors.add(Field::PasswordConfirm, Problem::Required);
    } else if password != confirmation {
        errors.add(Field::PasswordConfirm, Problem::PasswordMismatch);
    }
}

/// A profile edit as typed.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ProfileEdit {
    pub display_name: String,
    pub email: String,
    /// A new username, by the rules of registration (`None`: unchanged).
    pub username: Option<String>,
}

/// A profile edit that passed every rule that does not need the database.
pub struct ValidProfileEdit {
    pub display_name: DisplayName,
    pub email: Email,
    pub username: Option<Username>,
}

impl ProfileEdit {
    pub fn validate(&self) -> Result<ValidProfileEdit, AppError> {
        let mut errors = FieldErrors::default();
        let display_name = errors.check(Field::DisplayName, DisplayName::parse(&self.display_name));
        let email = errors.check(Field::Email, Email::parse(&self.email));
        let username = match &self.username {
            Some(username) => errors.check(Field::Username, Username::parse(username)).map(Some),
            None => Some(None),
        };
        errors.into_result()?;
        match (display_name, email, username) {
            (Some(display_name), Some(email), Some(username)) => {
                Ok(ValidProfileEdit { display_name, email, username })
            }
            _ => Err(AppError::Internal),
        }
    }
}

/// The signed-in user's own view of their account (with the email).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub avatar_version: Option<i64>,
    /// Whether they administer this server.
    #[serde(default)]
    pub admin: bool,
}

impl Account {
    pub fn public(&self) -> PublicProfile {
        PublicProfile {
            id: self.id,
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            avatar_version: self.avatar_version,
        }
    }
}

/// What anyone may see of a user: never the email.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicProfile {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub avatar_version: Option<i64>,
}

/// What a person is called on screen, from names read apart from a
/// profile: as [`PublicProfile::shown_name`].
pub fn shown_name(username: String, display_name: String) -> String {
    if display_name.is_empty() {
        username
    } else {
        display_name
    }
}

impl PublicProfile {
    /// The display name, or the username when none was chosen.
    pub fn shown_name(&self) -> &str {
        if self.display_name.is_empty() {
            &self.username
        } else {
            &self.display_name
        }
    }

    /// Where the uploaded avatar is served; `None` means "draw initials".
    /// The version makes the URL change with every upload, so it can be
    /// cached forever.
    pub fn avatar_url(&self) -> Option<String> {
        self.avatar_version.map(|version| format!("/avatars/{}/{version}", self.id))
    }
}

pub const AVATAR_MAX_BYTES: usize = 5 * 1024 * 1024;
/// Uploaded images: at most this many pixels on a side, and this many
/// megapixels in all (what a phone camera takes).
pub const IMAGE_MAX_SIDE: u32 = 8192;
pub const IMAGE_MAX_MEGAPIXELS: u32 = 12;
pub const AVATAR_SIZE: u32 = 256;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(Username::parse("  alice_1.b-c ").map(|u| u.key()), Ok("alice_1.b-c".into()));
        assert_eq!(Username::parse("Alice").map(|u| u.key()), Ok("alice".into()));
        assert_eq!(Username::parse(""), Err(Problem::Required));
        assert_eq!(Username::parse("   "), Err(Problem::Required));
        assert_eq!(Username::parse("ab"), Err(Problem::TooShort { min: 3 }));
        assert_eq!(Username::parse(&"a".repeat(33)), Err(Problem::TooLong { max: 32 }));
        assert!(Username::parse(&"a".repeat(32)).is_ok());
        for bad in ["al ice", "alice!", "<b>", "héloïse", "a@b", "ali\u{0}ce"] {
            assert_eq!(Username::parse(bad), Err(Problem::UsernameCharacters), "{bad}");
        }
    }

    #[test]
    fn emails() {
        for good in ["a@b.co", "Alice.Smith+tag@Example.COM", "x_y@sub.domain.fr", "élise@exemple.fr"] {
            assert!(Email::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "a",
            "a@",
            "@b.co",
            "a@b",
            "a@@b.co",
            "a b@c.de",
            "a@b..co",
            ".a@b.co",
            "a@-b.co",
            "a@b.co<script>",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Email::parse("A@B.CO").map(|e| e.key()), Ok("a@b.co".into()));
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(Email::parse(&long), Err(Problem::TooLong { max: EMAIL_MAX }));
    }

    #[test]
    fn passwords() {
        assert!(Password::parse("correct horse battery").is_ok());
        assert_eq!(Password::parse("").err(), Some(Problem::Required));
        assert_eq!(Password::parse("short").err(), Some(Problem::TooShort { min: 8 }));
        assert_eq!(Password::parse(&"x".repeat(129)).err(), Some(Problem::TooLong { max: 128 }));
        assert!(Password::parse(&"x".repeat(128)).is_ok_and(|p| p.expose().len() == 128));
        assert_eq!(Password::parse("password").err(), Some(Problem::CommonPassword));
        assert_eq!(Password::parse("Password1").err(), Some(Problem::CommonPassword));
        assert_eq!(Password::parse("12345678").err(), Some(Problem::CommonPassword));
        assert_eq!(format!("{:?}", Password::parse("s3cret-enough").ok()), "Some(Password(..))");
    }

    #[test]
    fn display_names() {
        assert_eq!(
            DisplayName::parse("  Hélène Dupont ").map(|d| d.as_str().to_owned()),
            Ok("Hélène Dupont".into())
        );
        assert!(DisplayName::parse("").is_ok());
        assert_eq!(DisplayName::parse(&"é".repeat(65)), Err(Problem::TooLong { max: 64 }));
        assert_eq!(DisplayName::parse("a\u{7}b"), Err(Problem::ControlCharacters));
    }

    #[test]
    fn registration_reports_every_field() {
        let form = Registration {
            username: "a".into(),
            email: "nope".into(),
            password: "123".into(),
            password_confirm: "1234".into(),
        };
        let error = form.validate().unwrap_err();
        assert_eq!(error.problem_for(Field::Username), Some(&Problem::TooShort { min: 3 }));
        assert_eq!(error.problem_for(Field::Email), Some(&Problem::InvalidEmail));
        assert_eq!(error.problem_for(Field::Password), Some(&Problem::TooShort { min: 8 }));
        assert_eq!(error.problem_for(Field::PasswordConfirm), Some(&Problem::PasswordMismatch));
    }

    #[test]
    fn public_profile_falls_back_to_username() {
        let profile = PublicProfile {
            id: UserId(7),
            username: "bob".into(),
            display_name: String::new(),
            avatar_version: Some(3),
        };
        assert_eq!(profile.shown_name(), "bob");
        assert_eq!(profile.avatar_url().as_deref(), Some("/avatars/7/3"));
    }
}
