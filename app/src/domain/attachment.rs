//! Files attached to messages: what a message carries about each, and the
//! rules for their names and numbers. The files themselves are served at
//! [`Attachment::url`], to the people who may read the room only.

use serde::{Deserialize, Serialize};

/// Most files one message carries.
pub const MAX_ATTACHMENTS: usize = 10;
/// The largest file taken by default (a setting: `--attachment-max-mb`).
pub const ATTACHMENT_MAX_BYTES: u64 = 25 * 1024 * 1024;
/// The longest file name kept, in characters.
pub const FILE_NAME_MAX: usize = 200;
/// Where uploads are sent (`POST`, the file as the body, `?room=ID&name=…`).
pub const UPLOAD_PATH: &str = "/api/attachments";

/// An attachment's id: 128 random bits in hex, so that nobody can guess
/// one (and even a guessed one is served only to the room's readers).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AttachmentId(String);

impl AttachmentId {
    pub const LEN: usize = 32;

    pub fn parse(text: &str) -> Option<Self> {
        let valid = text.len() == Self::LEN && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        valid.then(|| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AttachmentId {
    type Error = &'static str;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text).ok_or("not an attachment id")
    }
}

impl From<AttachmentId> for String {
    fn from(id: AttachmentId) -> Self {
        id.0
    }
}

impl std::fmt::Display for AttachmentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A file attached to a message, as everyone who reads the room sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: AttachmentId,
    /// The name it was uploaded under (see [`file_name`]).
    pub name: String,
    /// Its size as served, in bytes.
    pub size: u64,
    /// Set for an image, shown inline; anything else is a download.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageSize>,
}

/// An image's size in pixels, as served in full.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageSize {
    pub width: u32,
    pub height: u32,
}

impl Attachment {
    /// The file in full.
    pub fn url(&self) -> String {
        format!("/files/{}", self.id)
    }

    /// A small version of an image, for the timeline.
    pub fn thumbnail_url(&self) -> String {
        format!("/files/{}/thumbnail", self.id)
    }
}

/// The name a file is kept under: the last part of what the browser gave
/// (no folders), without control characters or the characters that
/// Windows forbids, at most [`FILE_NAME_MAX`] characters (the extension
/// kept), and "file" when nothing is left.
pub fn file_name(given: &str) -> String {
    let last = given.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*'))
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.');
    if cleaned.is_empty() {
        return "file".to_owned();
    }
    if cleaned.chars().count() <= FILE_NAME_MAX {
        return cleaned.to_owned();
    }
    let extension = cleaned.rsplit_once('.').map(|(_, ext)| ext).filter(|ext| ext.chars().count() <= 10);
    let keep = FILE_NAME_MAX - extension.map_or(0, |ext| ext.chars().count() + 1);
    let stem: String = cleaned.chars().take(keep).collect();
    match extension {
        Some(ext) => format!("{stem}.{ext}"),
        None => stem,
    }
}

/// A size for people: "820 B", "14 KB", "3.2 MB".
pub fn human_size(bytes: u64) -> String {
    const KB: f64 = 1024.0;
    let value = bytes as f64;
    if value < KB {
        format!("{bytes} B")
    } else if value < KB * KB {
        format!("{:.0} KB", value / KB)
    } else {
        format!("{:.1} MB", value / (KB * KB))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_hex_of_one_length() {
        assert!(AttachmentId::parse("0123456789abcdef0123456789abcdef").is_some());
        assert!(AttachmentId::parse("0123456789ABCDEF0123456789abcdef").is_none());
        assert!(AttachmentId::parse("../etc/passwd").is_none());
        assert!(serde_json::from_str::<AttachmentId>("\"x\"").is_err());
    }

    #[test]
    fn names_lose_folders_and_unsafe_characters() {
        assert_eq!(file_name("C:\\Users\\me\\photo.jpg"), "photo.jpg");
        assert_eq!(file_name("../../etc/passwd"), "passwd");
        assert_eq!(file_name("a<b>\u{0}c?.txt"), "abc.txt");
        assert_eq!(file_name(" .hidden "), "hidden");
        assert_eq!(file_name("///"), "file");
        let long = file_name(&format!("{}.pdf", "x".repeat(500)));
        assert_eq!(long.chars().count(), FILE_NAME_MAX);
        assert!(long.ends_with(".pdf"));
    }

    #[test]
    fn sizes_read_like_a_file_manager() {
        assert_eq!(human_size(820), "820 B");
        assert_eq!(human_size(14 * 1024), "14 KB");
        assert_eq!(human_size(3_355_443), "3.2 MB");
    }
}
