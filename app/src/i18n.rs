//! Every piece of UI text, in English and French.
//!
//! Each language is one `Texts` value: the compiler refuses a language that
//! misses a string, so both stay complete. The language follows the browser
//! (`Accept-Language` when rendering on the server), can be switched by the
//! user, and the choice is remembered in a `lang` cookie so that the server
//! renders the next page in it too.

use crate::error::{AppError, Field, Problem};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Lang {
    #[default]
    En,
    Fr,
}

pub const LANG_COOKIE: &str = "lang";

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Fr];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }

    /// The language's own name, as shown in the language menu.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Fr => "Français",
        }
    }

    /// Reads a language tag such as `fr`, `fr-CA` or `EN-us`.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        Lang::ALL.into_iter().find(|lang| lang.code() == primary)
    }

    /// Picks the best language of an `Accept-Language` header.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(Lang, f32)> = None;
        for item in header.split(',').take(16) {
            let mut parts = item.split(';');
            let Some(lang) = parts.next().and_then(Lang::from_tag) else { continue };
            let quality = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            if best.is_none_or(|(_, q)| quality > q) {
                best = Some((lang, quality));
            }
        }
        best.map(|(lang, _)| lang)
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::En => &EN,
            Lang::Fr => &FR,
        }
    }
}

/// The UI language of this page, shared through context.
#[derive(Clone, Copy)]
pub struct I18n {
    pub lang: RwSignal<Lang>,
}

impl I18n {
    /// The texts in the current language (tracked: views update on a switch).
    pub fn t(&self) -> &'static Texts {
        self.lang.get().texts()
    }

    /// Switches the language and remembers the choice for a year.
    pub fn switch(&self, lang: Lang) {
        self.lang.set(lang);
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            if let Some(document) = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.dyn_into::<web_sys::HtmlDocument>().ok())
            {
                let _ = document.set_cookie(&format!(
                    "{LANG_COOKIE}={}; path=/; max-age=31536000; samesite=lax",
                    lang.code()
                ));
            }
        }
    }
}

/// Works out the page's language and provides it to every component.
pub fn provide_i18n() -> I18n {
    let i18n = I18n { lang: RwSignal::new(initial_lang()) };
    provide_context(i18n);
    i18n
}

pub fn use_i18n() -> I18n {
    expect_context::<I18n>()
}

/// Shorthand for a reactive text: `t!(i18n, sign_in)`.
#[macro_export]
macro_rules! t {
    ($i18n:expr, $key:ident) => {
        move || $i18n.t().$key
    };
}

#[cfg(feature = "ssr")]
fn initial_lang() -> Lang {
    use_context::<http::request::Parts>().map(|parts| Lang::of_request(&parts.headers)).unwrap_or_default()
}

#[cfg(feature = "ssr")]
impl Lang {
    /// The language a request asks for: the user's choice (the `lang`
    /// cookie), else the browser's (`Accept-Language`), else English.
    pub fn of_request(headers: &http::HeaderMap) -> Lang {
        let from_cookie = headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == LANG_COOKIE)
            .and_then(|(_, value)| Lang::from_tag(value));
        from_cookie
            .or_else(|| {
                headers
                    .get(http::header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(Lang::from_accept_language)
            })
            .unwrap_or_default()
    }
}

/// In the browser, the language is the one the server rendered the page in.
#[cfg(not(feature = "ssr"))]
fn initial_lang() -> Lang {
    #[cfg(feature = "hydrate")]
    {
        web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
            .and_then(|html| html.get_attribute("lang"))
            .and_then(|tag| Lang::from_tag(&tag))
            .unwrap_or_default()
    }
    #[cfg(not(feature = "hydrate"))]
    Lang::default()
}

pub struct Texts {
    pub app_name: &'static str,
    pub tagline: &'static str,
    pub language: &'static str,
    pub account_menu: &'static str,
    pub open_navigation: &'static str,
    pub my_profile: &'static str,
    pub sign_out: &'static str,
    pub sign_in: &'static str,
    pub signing_in: &'static str,
    pub register: &'static str,
    pub registering: &'static str,
    pub sign_in_title: &'static str,
    pub sign_in_lead: &'static str,
    pub register_title: &'static str,
    pub register_lead: &'static str,
    pub no_account: &'static str,
    pub have_account: &'static str,
    pub login_label: &'static str,
    pub username: &'static str,
    pub username_hint: &'static str,
    pub email: &'static str,
    pub password: &'static str,
    pub password_hint: &'static str,
    pub password_confirm: &'static str,
    pub rooms: &'static str,
    pub direct_messages: &'static str,
    pub friends: &'static str,
    pub coming_soon: &'static str,
    pub welcome: fn(&str) -> String,
    pub profile_title: &'static str,
    pub profile_details: &'static str,
    pub display_name: &'static str,
    pub display_name_hint: &'static str,
    pub save: &'static str,
    pub saving: &'static str,
    pub saved: &'static str,
    pub avatar: &'static str,
    pub avatar_hint: &'static str,
    pub avatar_choose: &'static str,
    pub avatar_upload: &'static str,
    pub avatar_uploading: &'static str,
    pub avatar_updated: &'static str,
    pub avatar_of: fn(&str) -> String,
    pub change_password: &'static str,
    pub current_password: &'static str,
    pub new_password: &'static str,
    pub new_password_confirm: &'static str,
    pub changing_password: &'static str,
    pub password_changed: &'static str,
    pub member_since: &'static str,
    pub user_not_found: &'static str,
    pub page_not_found: &'static str,
    pub back_home: &'static str,
    pub loading: &'static str,
    pub room_name_taken: &'static str,
    pub my_rooms: &'static str,
    pub no_rooms_yet: &'static str,
    pub browse_rooms: &'static str,
    pub search_rooms: &'static str,
    pub search_title: &'static str,
    pub search_messages: &'static str,
    pub search_room: &'static str,
    pub search: &'static str,
    pub search_results: &'static str,
    pub no_results: &'static str,
    pub more_results: &'static str,
    pub search_rooms_hint: &'static str,
    pub no_rooms_found: &'static str,
    pub create_room: &'static str,
    pub creating_room: &'static str,
    pub room_name: &'static str,
    pub room_topic: &'static str,
    pub room_topic_hint: &'static str,
    pub visibility: &'static str,
    pub public_room: &'static str,
    pub private_room: &'static str,
    pub public_badge: &'static str,
    pub private_badge: &'static str,
    pub join: &'static str,
    pub joining: &'static str,
    pub leave_room: &'static str,
    pub leaving_room: &'static str,
    pub member_count: fn(i64) -> String,
    pub unread_count: fn(i64) -> String,
    pub mention_count: fn(i64) -> String,
    pub members: &'static str,
    pub back_to_chat: &'static str,
    pub online: &'static str,
    pub offline: &'static str,
    pub owner: &'static str,
    pub admin: &'static str,
    pub message_label: fn(&str) -> String,
    pub composer_hint: &'static str,
    pub attach_files: &'static str,
    pub files_to_send: &'static str,
    pub uploading_file: fn(&str) -> String,
    pub cancel_upload: fn(&str) -> String,
    pub remove_file: fn(&str) -> String,
    pub wait_for_uploads: &'static str,
    pub upload_failed: &'static str,
    pub drop_to_attach: &'static str,
    pub full_size: fn(&str) -> String,
    pub open_original: &'static str,
    pub close: &'static str,
    pub empty_message: &'static str,
    pub send: &'static str,
    pub not_sent: &'static str,
    pub retry: &'static str,
    pub sending: &'static str,
    pub waiting_for_network: &'static str,
    pub typing: fn(&[String]) -> String,
    pub reconnecting: &'static str,
    pub offline_notice: &'static str,
    pub new_version: &'static str,
    pub reload: &'static str,
    pub install_app: &'static str,
    pub loading_older: &'static str,
    pub load_more_messages: &'static str,
    pub room_beginning: &'static str,
    pub no_messages: &'static str,
    /// The line above the first message not read yet.
    pub new_messages: &'static str,
    pub message_actions: &'static str,
    pub react: &'static str,
    pub reply: &'static str,
    pub edit: &'static str,
    pub delete_message: &'static str,
    pub cancel: &'static str,
    pub edited: &'static str,
    pub message_deleted: &'static str,
    pub delete_confirm: &'static str,
    pub react_with: fn(&str) -> String,
    pub any_emoji: &'static str,
    pub add_reaction: &'static str,
    pub reaction_label: fn(&str, &[String]) -> String,
    pub replying_to: fn(&str) -> String,
    pub cancel_reply: &'static str,
    pub mention_someone: &'static str,
    pub go_to_quote: fn(&str) -> String,
    pub edit_label: &'static str,
    pub join_to_chat: &'static str,
    pub room_not_found: &'static str,
    pub messages_label: &'static str,
    pub no_messages_preview: &'static str,
    pub this_is_you: &'static str,
    pub edit_profile: &'static str,
    pub unknown_user: &'static str,
    pub yourself: &'static str,
    pub already_friends: &'static str,
    pub already_requested: &'static str,
    pub already_member: &'static str,
    pub already_invited: &'static str,
    pub banned_user: &'static str,
    pub not_accepting: &'static str,
    pub not_an_emoji: &'static str,
    pub too_many_reactions: fn(usize) -> String,
    pub friends_title: &'static str,
    pub friends_link: fn(i64) -> String,
    pub invitations_link: fn(i64) -> String,
    pub invitations: &'static str,
    pub invited_by: fn(&str) -> String,
    pub accept: &'static str,
    pub decline: &'static str,
    pub cancel_request: &'static str,
    pub remove_friend: &'static str,
    pub add_friend: &'static str,
    pub add_friend_hint: &'static str,
    pub send_request: &'static str,
    pub sending_request: &'static str,
    pub request_sent: &'static str,
    pub now_friends: &'static str,
    pub incoming_requests: &'static str,
    pub outgoing_requests: &'static str,
    pub my_friends: &'static str,
    pub no_friends: &'static str,
    pub none_now: &'static str,
    pub blocked_users: &'static str,
    pub block: &'static str,
    pub unblock: &'static str,
    pub send_message: &'static str,
    pub wants_to_be_friends: &'static str,
    pub request_pending: &'static str,
    pub you_are_friends: &'static str,
    pub you_blocked: &'static str,
    pub dm_policy: &'static str,
    pub dm_everyone: &'static str,
    pub dm_friends: &'static str,
    pub no_direct_messages: &'static str,
    pub invite_someone: &'static str,
    pub invite: &'static str,
    pub inviting: &'static str,
    pub invited_done: &'static str,
    pub pending_invitations: &'static str,
    pub revoke: &'static str,
    pub manage_member: fn(&str) -> String,
    pub kick: &'static str,
    pub ban: &'static str,
    pub unban: &'static str,
    pub make_admin: &'static str,
    pub make_member: &'static str,
    pub make_owner: &'static str,
    pub banned_list: &'static str,
    pub room_settings: &'static str,
    pub delete_room: &'static str,
    pub confirm_delete: &'static str,
    pub notice_removed: fn(&str, &str) -> String,
    pub notice_banned: fn(&str, &str) -> String,
    pub notice_deleted: fn(&str, &str) -> String,
    pub event_removed: fn(&str, &str) -> String,
    pub event_banned: fn(&str, &str) -> String,
    pub dismiss: &'static str,
    pub direct_badge: &'static str,
    pub blocked_message: &'static str,
    // errors
    pub bad_credentials: &'static str,
    pub unauthenticated: &'static str,
    pub forbidden: &'static str,
    pub not_found: &'static str,
    pub rate_limited: fn(u64) -> String,
    pub payload_too_large: &'static str,
    pub bad_request: &'static str,
    pub network: &'static str,
    pub internal: &'static str,
    pub check_fields: &'static str,
    // field problems
    pub required: &'static str,
    pub too_short: fn(usize) -> String,
    pub too_long: fn(usize) -> String,
    pub username_characters: &'static str,
    pub control_characters: &'static str,
    pub invalid_email: &'static str,
    pub username_taken: &'static str,
    pub email_taken: &'static str,
    pub common_password: &'static str,
    pub password_mismatch: &'static str,
    pub wrong_password: &'static str,
    pub unsupported_image: &'static str,
    pub image_too_large: fn(usize) -> String,
    pub image_too_many_pixels: fn(u32) -> String,
    pub file_too_large: fn(u64) -> String,
    pub attachment_gone: &'static str,
    pub too_many_attachments: fn(usize) -> String,
    pub push_service_unsupported: &'static str,
    pub push_service_refused: &'static str,
    pub notifications: &'static str,
    pub notifications_intro: &'static str,
    pub notify_this_device: &'static str,
    pub notifications_on: &'static str,
    pub notifications_turn_off: &'static str,
    pub send_test_notification: &'static str,
    pub test_notification_sent: &'static str,
    pub notifications_unsupported: &'static str,
    pub notifications_denied: &'static str,
    pub notification_previews: &'static str,
    pub notify_all: &'static str,
    pub notify_mentions: &'static str,
    pub notify_nothing: &'static str,
    pub muted: &'static str,
    pub push_new_message: &'static str,
    pub push_new_message_from: fn(&str) -> String,
    pub push_test_body: &'static str,
    pub last_admin: &'static str,
    pub administration: &'static str,
    pub admin_users: &'static str,
    pub admin_search_users: &'static str,
    pub admin_badge: &'static str,
    pub make_admin_of_server: &'static str,
    pub remove_admin_of_server: &'static str,
    pub load_more: &'static str,
    pub no_users_found: &'static str,
    pub you_administer: &'static str,
    pub admin_joined: &'static str,
    pub admin_rooms: fn(i64) -> String,
}

impl Texts {
    /// The sentence for a field problem.
    pub fn problem(&self, problem: &Problem) -> String {
        match problem {
            Problem::Required => self.required.into(),
            Problem::TooShort { min } => (self.too_short)(*min),
            Problem::TooLong { max } => (self.too_long)(*max),
            Problem::UsernameCharacters => self.username_characters.into(),
            Problem::ControlCharacters => self.control_characters.into(),
            Problem::InvalidEmail => self.invalid_email.into(),
            Problem::UsernameTaken => self.username_taken.into(),
            Problem::EmailTaken => self.email_taken.into(),
            Problem::CommonPassword => self.common_password.into(),
            Problem::PasswordMismatch => self.password_mismatch.into(),
            Problem::WrongPassword => self.wrong_password.into(),
            Problem::UnsupportedImage => self.unsupported_image.into(),
            Problem::ImageTooLarge { max_bytes } => (self.image_too_large)(max_bytes / (1024 * 1024)),
            Problem::ImageTooManyPixels { max_megapixels } => (self.image_too_many_pixels)(*max_megapixels),
            Problem::RoomNameTaken => self.room_name_taken.into(),
            Problem::UnknownUser => self.unknown_user.into(),
            Problem::Yourself => self.yourself.into(),
            Problem::AlreadyFriends => self.already_friends.into(),
            Problem::AlreadyRequested => self.already_requested.into(),
            Problem::AlreadyMember => self.already_member.into(),
            Problem::AlreadyInvited => self.already_invited.into(),
            Problem::Banned => self.banned_user.into(),
            Problem::NotAccepting => self.not_accepting.into(),
            Problem::NotAnEmoji => self.not_an_emoji.into(),
            Problem::TooManyReactions { max } => (self.too_many_reactions)(*max),
            Problem::FileTooLarge { max_bytes } => (self.file_too_large)(max_bytes / (1024 * 1024)),
            Problem::AttachmentGone => self.attachment_gone.into(),
            Problem::TooManyAttachments { max } => (self.too_many_attachments)(*max),
            Problem::PushServiceUnsupported => self.push_service_unsupported.into(),
            Problem::PushServiceRefused => self.push_service_refused.into(),
            Problem::LastAdmin => self.last_admin.into(),
        }
    }

    /// The sentence for `error` where there is no form field to show it
    /// at: its problem at `field` if it has one, or the error as a whole.
    pub fn error_at(&self, error: &AppError, field: Field) -> String {
        error.problem_for(field).map_or_else(|| self.error(error), |problem| self.problem(problem))
    }

    /// The sentence for an error as a whole (field errors point at the fields).
    pub fn error(&self, error: &AppError) -> String {
        match error {
            AppError::Invalid { .. } => self.check_fields.into(),
            AppError::BadCredentials => self.bad_credentials.into(),
            AppError::Unauthenticated => self.unauthenticated.into(),
            AppError::Forbidden => self.forbidden.into(),
            AppError::NotFound => self.not_found.into(),
            AppError::RateLimited { retry_after_secs } => (self.rate_limited)(*retry_after_secs),
            AppError::PayloadTooLarge => self.payload_too_large.into(),
            AppError::BadRequest => self.bad_request.into(),
            AppError::Network => self.network.into(),
            AppError::Internal => self.internal.into(),
        }
    }
}

pub static EN: Texts = Texts {
    app_name: "Salon",
    tagline: "Chat rooms for your team, class or club, on your own server.",
    language: "Language",
    account_menu: "Account menu",
    open_navigation: "Open navigation",
    my_profile: "My profile",
    sign_out: "Sign out",
    sign_in: "Sign in",
    signing_in: "Signing in…",
    register: "Create account",
    registering: "Creating account…",
    sign_in_title: "Welcome back",
    sign_in_lead: "Sign in to pick up the conversation.",
    register_title: "Create your account",
    register_lead: "It takes ten seconds. No email confirmation.",
    no_account: "New to Salon?",
    have_account: "Already have an account?",
    login_label: "Username or email",
    username: "Username",
    username_hint: "3–32 letters, digits, _ . or -",
    email: "Email",
    password: "Password",
    password_hint: "At least 8 characters",
    password_confirm: "Confirm password",
    rooms: "Rooms",
    direct_messages: "Direct messages",
    friends: "Friends",
    coming_soon: "Coming soon",
    welcome: |name| format!("Welcome, {name}!"),
    profile_title: "My profile",
    profile_details: "Profile details",
    display_name: "Display name",
    display_name_hint: "Shown instead of your username. Optional.",
    save: "Save changes",
    saving: "Saving…",
    saved: "Saved.",
    avatar: "Avatar",
    avatar_hint: "PNG, JPEG, WebP or GIF, up to 5 MB. It is cropped to a square.",
    avatar_choose: "Image file",
    avatar_upload: "Upload avatar",
    avatar_uploading: "Uploading…",
    avatar_updated: "Avatar updated.",
    avatar_of: |name| format!("Avatar of {name}"),
    change_password: "Change password",
    current_password: "Current password",
    new_password: "New password",
    new_password_confirm: "Confirm new password",
    changing_password: "Changing…",
    password_changed: "Password changed. Your other sessions were signed out.",
    member_since: "Member",
    user_not_found: "There is no user with that name.",
    page_not_found: "This page does not exist.",
    back_home: "Back home",
    loading: "Loading…",
    room_name_taken: "A room with this name already exists.",
    my_rooms: "My rooms",
    no_rooms_yet: "You are not in any room yet: join a public room below, or create one.",
    browse_rooms: "Browse public rooms",
    search_rooms: "Search rooms",
    search_title: "Search",
    search_messages: "Search messages",
    search_room: "Search this room",
    search: "Search",
    search_results: "Results",
    no_results: "No message has these words.",
    more_results: "More results",
    search_rooms_hint: "By name or topic.",
    no_rooms_found: "No public room matches.",
    create_room: "Create a room",
    creating_room: "Creating…",
    room_name: "Room name",
    room_topic: "Topic (optional)",
    room_topic_hint: "What the room is about, in one line.",
    visibility: "Who can join",
    public_room: "Public: anyone can find and join it",
    private_room: "Private: members only",
    public_badge: "Public",
    private_badge: "Private",
    join: "Join",
    joining: "Joining…",
    leave_room: "Leave room",
    leaving_room: "Leaving…",
    member_count: |n| if n == 1 { "1 member".into() } else { format!("{n} members") },
    unread_count: |n| if n == 1 { "1 unread message".into() } else { format!("{n} unread messages") },
    mention_count: |n| if n == 1 { "1 mention of you".into() } else { format!("{n} mentions of you") },
    members: "Members",
    back_to_chat: "Back to the chat",
    online: "Online",
    offline: "Offline",
    owner: "Owner",
    admin: "Admin",
    message_label: |room| format!("Message {room}"),
    composer_hint: "Enter to send, Shift+Enter for a new line.",
    attach_files: "Attach files",
    files_to_send: "Files to send",
    uploading_file: |name| format!("Uploading {name}"),
    cancel_upload: |name| format!("Cancel upload of {name}"),
    remove_file: |name| format!("Remove {name}"),
    wait_for_uploads: "It will be sent as soon as the files are uploaded.",
    upload_failed: "The upload failed: check the connection and try again.",
    drop_to_attach: "Drop files to attach them",
    full_size: |name| format!("{name}, full size"),
    open_original: "Open the original",
    close: "Close",
    empty_message: "Write something first.",
    send: "Send",
    not_sent: "Not sent.",
    retry: "Retry",
    sending: "Sending…",
    waiting_for_network: "Waiting for the network…",
    typing: |names| match names {
        [] => String::new(),
        [one] => format!("{one} is typing…"),
        [one, two] => format!("{one} and {two} are typing…"),
        _ => "Several people are typing…".into(),
    },
    reconnecting: "Reconnecting…",
    offline_notice: "Offline: showing what you last saw",
    new_version: "A new version of Salon is ready.",
    reload: "Reload",
    install_app: "Install Salon",
    loading_older: "Loading older messages…",
    load_more_messages: "Show the messages in between",
    room_beginning: "This is the very beginning of the room.",
    no_messages: "No messages yet. Say hello!",
    new_messages: "New messages",
    message_actions: "Message actions",
    react: "React",
    reply: "Reply",
    edit: "Edit",
    delete_message: "Delete",
    cancel: "Cancel",
    edited: "edited",
    message_deleted: "Message deleted",
    delete_confirm: "Delete this message for everyone?",
    react_with: |emoji| format!("React with {emoji}"),
    any_emoji: "Any emoji",
    add_reaction: "Add",
    reaction_label: |emoji, names| format!("{emoji} {}: {}", names.len(), names.join(", ")),
    replying_to: |name| format!("Replying to {name}"),
    cancel_reply: "Cancel reply",
    mention_someone: "Mention someone",
    go_to_quote: |name| format!("Go to the message from {name}"),
    edit_label: "Edit your message",
    join_to_chat: "Join this room to take part in the conversation.",
    room_not_found: "This room does not exist, or you cannot see it.",
    messages_label: "Messages",
    no_messages_preview: "No messages yet",
    this_is_you: "This is you.",
    edit_profile: "Edit profile",
    bad_credentials: "Wrong username or password.",
    unauthenticated: "Please sign in first.",
    forbidden: "You are not allowed to do that.",
    not_found: "Not found.",
    rate_limited: |secs| format!("Too many attempts. Try again in {secs} seconds."),
    payload_too_large: "That is too large to send.",
    bad_request: "The request was not understood.",
    network: "Cannot reach the server. Check your connection and try again.",
    internal: "Something went wrong on our side. Please try again.",
    check_fields: "Please correct the highlighted fields.",
    required: "This field is required.",
    too_short: |min| format!("Use at least {min} characters."),
    too_long: |max| format!("Use at most {max} characters."),
    username_characters: "Use only letters, digits, _ . and -.",
    control_characters: "Invisible control characters are not allowed.",
    invalid_email: "This is not a valid email address.",
    username_taken: "This username is already taken.",
    email_taken: "An account already uses this email.",
    common_password: "This password is too common. Choose another one.",
    password_mismatch: "The passwords do not match.",
    wrong_password: "The current password is wrong.",
    unsupported_image: "Choose a PNG, JPEG, WebP or GIF image.",
    image_too_large: |mb| format!("The image is larger than {mb} MB."),
    file_too_large: |mb| format!("The file is larger than {mb} MB."),
    attachment_gone: "This file is no longer there: attach it again.",
    too_many_attachments: |max| format!("A message can carry at most {max} files."),
    push_service_unsupported: "This browser’s push service cannot be used by this server.",
    push_service_refused: "The push service did not take the notification. Try again later.",
    notifications: "Notifications",
    notifications_intro: "Get a notification on this device for direct messages and mentions, even when Salon is closed. Choose what each room sends from its header.",
    notify_this_device: "Notify me on this device",
    notifications_on: "Notifications are on for this device.",
    notifications_turn_off: "Turn off on this device",
    send_test_notification: "Send a test notification",
    test_notification_sent: "Test notification sent.",
    notifications_unsupported: "This browser cannot show notifications from Salon.",
    notifications_denied: "Notifications are blocked for Salon in this browser’s settings.",
    notification_previews: "Show the message’s text in notifications",
    notify_all: "All messages",
    notify_mentions: "Mentions only",
    notify_nothing: "Nothing (muted)",
    muted: "Muted",
    push_new_message: "New message",
    push_new_message_from: |who| format!("New message from {who}"),
    push_test_body: "Notifications work on this device.",
    last_admin: "This is the server's last administrator: make someone else one first.",
    administration: "Administration",
    admin_users: "Users",
    admin_search_users: "Search users",
    admin_badge: "Admin",
    make_admin_of_server: "Make administrator",
    remove_admin_of_server: "Remove administrator",
    load_more: "Load more",
    no_users_found: "No user matches.",
    you_administer: "You administer this Salon: manage it from Administration, in your account menu.",
    admin_joined: "Joined",
    admin_rooms: |n| if n == 1 { "1 room".into() } else { format!("{n} rooms") },
    image_too_many_pixels: |mp| {
        format!(
            "The image is too large: at most {mp} megapixels (fewer with transparency), 8192 pixels a side."
        )
    },
    unknown_user: "No one has this username.",
    yourself: "That is you.",
    already_friends: "You are already friends.",
    already_requested: "You already asked them; wait for their answer.",
    already_member: "They are already a member of this room.",
    already_invited: "They are already invited.",
    banned_user: "They are banned from this room: unban them first.",
    not_accepting: "This person does not accept this from you.",
    not_an_emoji: "Choose one emoji.",
    too_many_reactions: |max| format!("This message already has {max} different reactions."),
    friends_title: "Friends",
    friends_link: |n| if n == 0 { "Friends".into() } else { format!("Friends, {n} waiting") },
    invitations_link: |n| if n == 0 { "Invitations".into() } else { format!("Invitations, {n} waiting") },
    invitations: "Invitations",
    invited_by: |name| format!("Invited by {name}"),
    accept: "Accept",
    decline: "Decline",
    cancel_request: "Cancel request",
    remove_friend: "Remove friend",
    add_friend: "Add a friend",
    add_friend_hint: "Their username, as shown on their profile.",
    send_request: "Send request",
    sending_request: "Sending…",
    request_sent: "Request sent.",
    now_friends: "You are now friends.",
    incoming_requests: "Requests for you",
    outgoing_requests: "Requests you sent",
    my_friends: "My friends",
    no_friends: "No friends yet: add someone by username.",
    none_now: "None right now.",
    blocked_users: "Blocked",
    block: "Block",
    unblock: "Unblock",
    send_message: "Message",
    wants_to_be_friends: "They asked to be your friend.",
    request_pending: "Friend request sent",
    you_are_friends: "You are friends",
    you_blocked: "You blocked this person.",
    dm_policy: "Who may message me",
    dm_everyone: "Everyone",
    dm_friends: "Friends only",
    no_direct_messages: "No conversations yet.",
    invite_someone: "Invite someone",
    invite: "Invite",
    inviting: "Inviting…",
    invited_done: "Invitation sent.",
    pending_invitations: "Invited",
    revoke: "Revoke",
    manage_member: |name| format!("Manage {name}"),
    kick: "Remove from room",
    ban: "Ban",
    unban: "Unban",
    make_admin: "Make admin",
    make_member: "Remove admin rights",
    make_owner: "Make owner",
    banned_list: "Banned",
    room_settings: "Room settings",
    delete_room: "Delete room",
    confirm_delete: "Delete for everyone",
    notice_removed: |room, by| format!("You were removed from {room} by {by}."),
    notice_banned: |room, by| format!("You were banned from {room} by {by}."),
    notice_deleted: |room, by| format!("{by} deleted {room}."),
    event_removed: |user, by| format!("{user} was removed by {by}."),
    event_banned: |user, by| format!("{user} was banned by {by}."),
    dismiss: "Dismiss",
    direct_badge: "Direct message",
    blocked_message: "A message from someone you blocked.",
};

pub static FR: Texts = Texts {
    app_name: "Salon",
    tagline: "Des salons de discussion pour votre équipe, classe ou club, sur votre propre serveur.",
    language: "Langue",
    account_menu: "Menu du compte",
    open_navigation: "Ouvrir la navigation",
    my_profile: "Mon profil",
    sign_out: "Se déconnecter",
    sign_in: "Se connecter",
    signing_in: "Connexion…",
    register: "Créer le compte",
    registering: "Création du compte…",
    sign_in_title: "Bon retour",
    sign_in_lead: "Connectez-vous pour reprendre la conversation.",
    register_title: "Créez votre compte",
    register_lead: "Dix secondes suffisent. Pas de confirmation par e-mail.",
    no_account: "Nouveau sur Salon ?",
    have_account: "Vous avez déjà un compte ?",
    login_label: "Nom d’utilisateur ou e-mail",
    username: "Nom d’utilisateur",
    username_hint: "3 à 32 lettres, chiffres, _ . ou -",
    email: "E-mail",
    password: "Mot de passe",
    password_hint: "Au moins 8 caractères",
    password_confirm: "Confirmer le mot de passe",
    rooms: "Salons",
    direct_messages: "Messages privés",
    friends: "Amis",
    coming_soon: "Bientôt",
    welcome: |name| format!("Bienvenue, {name} !"),
    profile_title: "Mon profil",
    profile_details: "Informations du profil",
    display_name: "Nom affiché",
    display_name_hint: "Affiché à la place de votre nom d’utilisateur. Facultatif.",
    save: "Enregistrer",
    saving: "Enregistrement…",
    saved: "Enregistré.",
    avatar: "Avatar",
    avatar_hint: "PNG, JPEG, WebP ou GIF, 5 Mo au plus. L’image est recadrée en carré.",
    avatar_choose: "Fichier image",
    avatar_upload: "Envoyer l’avatar",
    avatar_uploading: "Envoi…",
    avatar_updated: "Avatar mis à jour.",
    avatar_of: |name| format!("Avatar de {name}"),
    change_password: "Changer le mot de passe",
    current_password: "Mot de passe actuel",
    new_password: "Nouveau mot de passe",
    new_password_confirm: "Confirmer le nouveau mot de passe",
    changing_password: "Modification…",
    password_changed: "Mot de passe changé. Vos autres sessions ont été déconnectées.",
    member_since: "Membre",
    user_not_found: "Aucun utilisateur ne porte ce nom.",
    page_not_found: "Cette page n’existe pas.",
    back_home: "Retour à l’accueil",
    loading: "Chargement…",
    room_name_taken: "Un salon porte déjà ce nom.",
    my_rooms: "Mes salons",
    no_rooms_yet: "Vous n’êtes dans aucun salon : rejoignez un salon public ci-dessous, ou créez-en un.",
    browse_rooms: "Parcourir les salons publics",
    search_rooms: "Rechercher un salon",
    search_title: "Recherche",
    search_messages: "Rechercher dans les messages",
    search_room: "Rechercher dans ce salon",
    search: "Rechercher",
    search_results: "Résultats",
    no_results: "Aucun message ne contient ces mots.",
    more_results: "Plus de résultats",
    search_rooms_hint: "Par nom ou par sujet.",
    no_rooms_found: "Aucun salon public ne correspond.",
    create_room: "Créer un salon",
    creating_room: "Création…",
    room_name: "Nom du salon",
    room_topic: "Sujet (facultatif)",
    room_topic_hint: "De quoi parle le salon, en une ligne.",
    visibility: "Qui peut rejoindre",
    public_room: "Public : tout le monde peut le trouver et le rejoindre",
    private_room: "Privé : membres seulement",
    public_badge: "Public",
    private_badge: "Privé",
    join: "Rejoindre",
    joining: "Connexion au salon…",
    leave_room: "Quitter le salon",
    leaving_room: "Départ…",
    member_count: |n| if n <= 1 { format!("{n} membre") } else { format!("{n} membres") },
    unread_count: |n| if n <= 1 { format!("{n} message non lu") } else { format!("{n} messages non lus") },
    mention_count: |n| if n <= 1 { format!("{n} mention de vous") } else { format!("{n} mentions de vous") },
    members: "Membres",
    back_to_chat: "Retour à la discussion",
    online: "En ligne",
    offline: "Hors ligne",
    owner: "Propriétaire",
    admin: "Admin",
    message_label: |room| format!("Message dans {room}"),
    composer_hint: "Entrée pour envoyer, Maj+Entrée pour aller à la ligne.",
    attach_files: "Joindre des fichiers",
    files_to_send: "Fichiers à envoyer",
    uploading_file: |name| format!("Envoi de {name}"),
    cancel_upload: |name| format!("Annuler l’envoi de {name}"),
    remove_file: |name| format!("Retirer {name}"),
    wait_for_uploads: "Il partira dès que les fichiers seront envoyés.",
    upload_failed: "L’envoi a échoué : vérifiez la connexion et réessayez.",
    drop_to_attach: "Déposez des fichiers pour les joindre",
    full_size: |name| format!("{name}, en taille réelle"),
    open_original: "Ouvrir l’original",
    close: "Fermer",
    empty_message: "Écrivez d’abord quelque chose.",
    send: "Envoyer",
    not_sent: "Non envoyé.",
    retry: "Réessayer",
    sending: "Envoi…",
    waiting_for_network: "En attente du réseau…",
    typing: |names| match names {
        [] => String::new(),
        [one] => format!("{one} écrit…"),
        [one, two] => format!("{one} et {two} écrivent…"),
        _ => "Plusieurs personnes écrivent…".into(),
    },
    reconnecting: "Reconnexion…",
    offline_notice: "Hors ligne : voici ce que vous avez vu en dernier",
    new_version: "Une nouvelle version de Salon est prête.",
    reload: "Recharger",
    install_app: "Installer Salon",
    loading_older: "Chargement des messages précédents…",
    load_more_messages: "Afficher les messages intermédiaires",
    room_beginning: "C’est le tout début du salon.",
    no_messages: "Pas encore de message. Dites bonjour !",
    new_messages: "Nouveaux messages",
    message_actions: "Actions du message",
    react: "Réagir",
    reply: "Répondre",
    edit: "Modifier",
    delete_message: "Supprimer",
    cancel: "Annuler",
    edited: "modifié",
    message_deleted: "Message supprimé",
    delete_confirm: "Supprimer ce message pour tout le monde ?",
    react_with: |emoji| format!("Réagir avec {emoji}"),
    any_emoji: "Un autre emoji",
    add_reaction: "Ajouter",
    reaction_label: |emoji, names| format!("{emoji} {} : {}", names.len(), names.join(", ")),
    replying_to: |name| format!("Réponse à {name}"),
    cancel_reply: "Annuler la réponse",
    mention_someone: "Mentionner quelqu’un",
    go_to_quote: |name| format!("Aller au message de {name}"),
    edit_label: "Modifier votre message",
    join_to_chat: "Rejoignez ce salon pour participer à la conversation.",
    room_not_found: "Ce salon n’existe pas, ou vous ne pouvez pas le voir.",
    messages_label: "Messages",
    no_messages_preview: "Pas encore de message",
    this_is_you: "C’est vous.",
    edit_profile: "Modifier le profil",
    bad_credentials: "Nom d’utilisateur ou mot de passe incorrect.",
    unauthenticated: "Veuillez d’abord vous connecter.",
    forbidden: "Vous n’avez pas le droit de faire cela.",
    not_found: "Introuvable.",
    rate_limited: |secs| format!("Trop de tentatives. Réessayez dans {secs} secondes."),
    payload_too_large: "C’est trop volumineux pour être envoyé.",
    bad_request: "La requête n’a pas été comprise.",
    network: "Impossible de joindre le serveur. Vérifiez votre connexion et réessayez.",
    internal: "Une erreur est survenue de notre côté. Veuillez réessayer.",
    check_fields: "Veuillez corriger les champs signalés.",
    required: "Ce champ est obligatoire.",
    too_short: |min| format!("Utilisez au moins {min} caractères."),
    too_long: |max| format!("Utilisez au plus {max} caractères."),
    username_characters: "Utilisez uniquement des lettres, chiffres, _ . et -.",
    control_characters: "Les caractères de contrôle invisibles ne sont pas autorisés.",
    invalid_email: "Cette adresse e-mail n’est pas valide.",
    username_taken: "Ce nom d’utilisateur est déjà pris.",
    email_taken: "Un compte utilise déjà cette adresse e-mail.",
    common_password: "Ce mot de passe est trop courant. Choisissez-en un autre.",
    password_mismatch: "Les mots de passe ne correspondent pas.",
    wrong_password: "Le mot de passe actuel est incorrect.",
    unsupported_image: "Choisissez une image PNG, JPEG, WebP ou GIF.",
    image_too_large: |mb| format!("L’image dépasse {mb} Mo."),
    file_too_large: |mb| format!("Le fichier dépasse {mb} Mo."),
    attachment_gone: "Ce fichier n’est plus là : joignez-le à nouveau.",
    too_many_attachments: |max| format!("Un message peut porter au plus {max} fichiers."),
    push_service_unsupported: "Le service de notifications de ce navigateur ne peut pas être utilisé par ce serveur.",
    push_service_refused: "Le service de notifications n’a pas accepté la notification. Réessayez plus tard.",
    notifications: "Notifications",
    notifications_intro: "Recevez une notification sur cet appareil pour les messages directs et les mentions, même quand Salon est fermé. Chaque salon se règle depuis son en-tête.",
    notify_this_device: "M’avertir sur cet appareil",
    notifications_on: "Les notifications sont activées sur cet appareil.",
    notifications_turn_off: "Désactiver sur cet appareil",
    send_test_notification: "Envoyer une notification de test",
    test_notification_sent: "Notification de test envoyée.",
    notifications_unsupported: "Ce navigateur ne peut pas afficher les notifications de Salon.",
    notifications_denied: "Les notifications sont bloquées pour Salon dans les réglages de ce navigateur.",
    notification_previews: "Afficher le texte des messages dans les notifications",
    notify_all: "Tous les messages",
    notify_mentions: "Mentions seulement",
    notify_nothing: "Rien (en sourdine)",
    muted: "En sourdine",
    push_new_message: "Nouveau message",
    push_new_message_from: |who| format!("Nouveau message de {who}"),
    push_test_body: "Les notifications fonctionnent sur cet appareil.",
    last_admin: "C’est le dernier administrateur du serveur : nommez-en d’abord un autre.",
    administration: "Administration",
    admin_users: "Utilisateurs",
    admin_search_users: "Rechercher des utilisateurs",
    admin_badge: "Admin",
    make_admin_of_server: "Nommer administrateur",
    remove_admin_of_server: "Retirer l’administration",
    load_more: "Afficher plus",
    no_users_found: "Aucun utilisateur ne correspond.",
    you_administer: "Vous administrez ce Salon : gérez-le depuis Administration, dans le menu de votre compte.",
    admin_joined: "Inscrit",
    admin_rooms: |n| if n <= 1 { format!("{n} salon") } else { format!("{n} salons") },
    image_too_many_pixels: |mp| {
        format!("L’image est trop grande : {mp} mégapixels au plus (moins avec de la transparence), 8192 pixels de côté.")
    },
    unknown_user: "Personne ne porte ce nom d’utilisateur.",
    yourself: "C’est vous.",
    already_friends: "Vous êtes déjà amis.",
    already_requested: "Vous avez déjà envoyé une demande ; attendez sa réponse.",
    already_member: "Cette personne est déjà membre du salon.",
    already_invited: "Cette personne est déjà invitée.",
    banned_user: "Cette personne est bannie du salon : levez d’abord le bannissement.",
    not_accepting: "Cette personne n’accepte pas cela de votre part.",
    not_an_emoji: "Choisissez un emoji.",
    too_many_reactions: |max| format!("Ce message a déjà {max} réactions différentes."),
    friends_title: "Amis",
    friends_link: |n| if n == 0 { "Amis".into() } else { format!("Amis, {n} en attente") },
    invitations_link: |n| if n == 0 { "Invitations".into() } else { format!("Invitations, {n} en attente") },
    invitations: "Invitations",
    invited_by: |name| format!("Invitation de {name}"),
    accept: "Accepter",
    decline: "Refuser",
    cancel_request: "Annuler la demande",
    remove_friend: "Retirer des amis",
    add_friend: "Ajouter un ami",
    add_friend_hint: "Son nom d’utilisateur, tel qu’affiché sur son profil.",
    send_request: "Envoyer la demande",
    sending_request: "Envoi…",
    request_sent: "Demande envoyée.",
    now_friends: "Vous êtes maintenant amis.",
    incoming_requests: "Demandes reçues",
    outgoing_requests: "Demandes envoyées",
    my_friends: "Mes amis",
    no_friends: "Pas encore d’amis : ajoutez quelqu’un par son nom d’utilisateur.",
    none_now: "Aucune pour l’instant.",
    blocked_users: "Bloqués",
    block: "Bloquer",
    unblock: "Débloquer",
    send_message: "Écrire",
    wants_to_be_friends: "Cette personne vous a demandé en ami.",
    request_pending: "Demande d’ami envoyée",
    you_are_friends: "Vous êtes amis",
    you_blocked: "Vous avez bloqué cette personne.",
    dm_policy: "Qui peut m’écrire",
    dm_everyone: "Tout le monde",
    dm_friends: "Mes amis seulement",
    no_direct_messages: "Aucune conversation pour l’instant.",
    invite_someone: "Inviter quelqu’un",
    invite: "Inviter",
    inviting: "Invitation…",
    invited_done: "Invitation envoyée.",
    pending_invitations: "Invités",
    revoke: "Retirer",
    manage_member: |name| format!("Gérer {name}"),
    kick: "Retirer du salon",
    ban: "Bannir",
    unban: "Lever le bannissement",
    make_admin: "Nommer admin",
    make_member: "Retirer les droits d’admin",
    make_owner: "Nommer propriétaire",
    banned_list: "Bannis",
    room_settings: "Réglages du salon",
    delete_room: "Supprimer le salon",
    confirm_delete: "Supprimer pour tout le monde",
    notice_removed: |room, by| format!("{by} vous a retiré du salon {room}."),
    notice_banned: |room, by| format!("{by} vous a banni du salon {room}."),
    notice_deleted: |room, by| format!("{by} a supprimé le salon {room}."),
    event_removed: |user, by| format!("{user} a été retiré par {by}."),
    event_banned: |user, by| format!("{user} a été banni par {by}."),
    dismiss: "Fermer",
    direct_badge: "Message privé",
    blocked_message: "Un message d’une personne que vous avez bloquée.",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_supported() {
        assert_eq!(Lang::from_accept_language("fr-FR,fr;q=0.9,en;q=0.8"), Some(Lang::Fr));
        assert_eq!(Lang::from_accept_language("de-DE,en;q=0.5,fr;q=0.7"), Some(Lang::Fr));
        assert_eq!(Lang::from_accept_language("en-US"), Some(Lang::En));
        assert_eq!(Lang::from_accept_language("de,it"), None);
        assert_eq!(Lang::from_accept_language(""), None);
    }

    #[test]
    fn problems_are_worded_in_both_languages() {
        let problem = Problem::TooShort { min: 8 };
        assert_eq!(EN.problem(&problem), "Use at least 8 characters.");
        assert_eq!(FR.problem(&problem), "Utilisez au moins 8 caractères.");
        assert_eq!(
            EN.problem(&Problem::ImageTooLarge { max_bytes: 5 * 1024 * 1024 }),
            "The image is larger than 5 MB."
        );
    }
}
