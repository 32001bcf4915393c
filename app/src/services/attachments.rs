//! Files attached to messages: receiving an upload onto disk, making an
//! image safe to show, serving a file to the people who may read its room,
//! and removing files nobody needs any more.
//!
//! An upload is streamed to a temporary file under the files directory
//! while its SHA-256 is computed, never held in memory whole, and refused
//! as soon as it passes the size limit. An image (known by its content,
//! not by what the browser calls it) is decoded within the memory bound of
//! [`images`], turned upright, and re-encoded, which drops its metadata
//! (EXIF, location, comments); a small version is made for the timeline.
//! Anything else is kept as it came and only ever served as a download.
//!
//! Files are named by the SHA-256 of their content and moved into place by
//! a rename, so a reader never sees half a file, and one content is kept
//! once however often it is uploaded. Placing a file and recording its
//! row, or checking that no row names a file and removing it, happen under
//! one lock ([`Files::lock`]), so a removal never takes a file that an
//! upload of the same content has just recorded.
//!
//! Nothing is left behind by a failed upload (its temporary file goes when
//! it is dropped), and uploads never sent are forgotten after
//! [`UNSENT_KEPT`] by [`sweep`].

use super::{images, rooms, AppState, OrInternal};
use crate::domain::{file_name, Attachment, AttachmentId, ImageSize, RoomId, UserId, MAX_ATTACHMENTS};
use crate::error::{AppError, Field, Problem};
use crate::store::{now_millis, NewAttachment, StoredAttachment};
use image::{DynamicImage, ImageFormat};
use sha2::{Digest, Sha256};
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// How long an upload may wait for the next piece of its body.
pub const CHUNK_WITHIN: Duration = Duration::from_secs(30);
/// How long an upload never sent is kept.
pub const UNSENT_KEPT: Duration = Duration::from_secs(24 * 3600);
/// The box a thumbnail fits in: twice what the timeline shows, for dense
/// screens.
const THUMBNAIL_BOX: (u32, u32) = (640, 480);
/// Uploads received at once: more wait (and are told to retry).
const UPLOADS_AT_ONCE: usize = 16;
static UPLOADING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(UPLOADS_AT_ONCE);

/// Where files are kept, and the largest one taken.
pub struct Files {
    root: PathBuf,
    pub max_bytes: u64,
    /// Held while placing a file and recording it, or while checking that
    /// a file is unused and removing it.
    lock: tokio::sync::Mutex<()>,
}

impl Files {
    /// Files under `root` (made if missing), at most `max_bytes` each.
    /// Temporary files of uploads cut short by a stop are removed.
    pub fn open(root: PathBuf, max_bytes: u64) -> std::io::Result<Self> {
        let temporary = root.join("tmp");
        if temporary.exists() {
            std::fs::remove_dir_all(&temporary)?;
        }
        std::fs::create_dir_all(&temporary)?;
        Ok(Self { root, max_bytes, lock: tokio::sync::Mutex::new(()) })
    }

    /// The error for a file over the limit.
    fn too_large(&self) -> AppError {
        AppError::field(Field::Attachment, Problem::FileTooLarge { max_bytes: self.max_bytes })
    }

    /// Where the file of content hash `name` is kept.
    pub fn path(&self, name: &str) -> Option<PathBuf> {
        let valid = name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit());
        valid.then(|| self.root.join(&name[..2]).join(name))
    }

    fn temporary(&self) -> Result<Temporary, AppError> {
        Ok(Temporary(self.root.join("tmp").join(random_hex()?)))
    }

    /// Moves `from` into place as the file `name` (its content's hash).
    async fn place(&self, from: &Temporary, name: &str) -> Result<(), AppError> {
        let to = self.path(name).ok_or_else(|| super::internal("placing a file", "a bad hash"))?;
        if let Some(dir) = to.parent() {
            tokio::fs::create_dir_all(dir).await.or_internal("making a files directory")?;
        }
        tokio::fs::rename(&from.0, &to).await.or_internal("placing a file")
    }
}

/// A temporary file, removed when dropped unless it was moved into place.
struct Temporary(PathBuf);

impl Drop for Temporary {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A file ready to be recorded: in a temporary file, with its hash.
struct Received {
    temporary: Temporary,
    hash: String,
    size: u64,
}

/// What was made of an upload, ready to be recorded.
struct Prepared {
    file: Received,
    media_type: &'static str,
    /// An image's small version, and what it is served as.
    thumbnail: Option<(Received, &'static str)>,
    image: Option<ImageSize>,
}

impl Prepared {
    /// Its files: the upload's, and the thumbnail's if any.
    fn files(&self) -> impl Iterator<Item = &Received> {
        std::iter::once(&self.file).chain(self.thumbnail.as_ref().map(|(thumbnail, _)| thumbnail))
    }
}

/// Receives a file that `user` attaches in `room`, under the name the
/// browser gave (`name`), and records it as their unsent upload there. The
/// body arrives as `chunks`; `declared` is its announced length, if any.
#[tracing::instrument(skip_all, fields(user = %user, room = %room))]
pub async fn upload<S, B, E>(
    state: &AppState,
    user: UserId,
    room: RoomId,
    name: &str,
    declared: Option<u64>,
    chunks: S,
) -> Result<Attachment, AppError>
where
    S: futures_util::Stream<Item = Result<B, E>> + Unpin,
    B: AsRef<[u8]>,
{
    // Only a member attaches: an outsider is told what they would be
    // told of a post, before a byte is stored.
    rooms::membership(state, user, room).await?;
    let files = &state.files;
    if declared.is_some_and(|length| length > files.max_bytes) {
        return Err(files.too_large());
    }
    let _turn = tokio::time::timeout(images::WAIT_FOR_BUDGET, UPLOADING.acquire())
        .await
        .map_err(|_| AppError::RateLimited { retry_after_secs: 5 })?
        .or_internal("waiting to receive an upload")?;
    let received = receive(files, chunks).await?;
    if received.size == 0 {
        return Err(AppError::field(Field::Attachment, Problem::Required));
    }
    let prepared = prepare(files, received).await?;

    let id = random_id()?;
    let name = file_name(name);
    let attachment =
        Attachment { id: id.clone(), name: name.clone(), size: prepared.file.size, image: prepared.image };
    let _placing = files.lock.lock().await;
    for received in prepared.files() {
        files.place(&received.temporary, &received.hash).await?;
    }
    let new = NewAttachment {
        id: &id,
        room,
        uploader: user,
        name: &name,
        size: prepared.file.size,
        media_type: prepared.media_type,
        file: &prepared.file.hash,
        thumbnail: prepared
            .thumbnail
            .as_ref()
            .map(|(thumbnail, media_type)| (thumbnail.hash.as_str(), *media_type)),
        image: prepared.image,
    };
    if let Err(error) = state.store.insert_attachment(&new).await {
        remove_unused_now(state, prepared.files().map(|received| received.hash.clone()).collect()).await;
        return Err(super::internal("recording an upload", error));
    }
    Ok(attachment)
}

/// Streams `chunks` into a temporary file, hashing them, refused as soon as
/// they pass the limit or stall.
async fn receive<S, B, E>(files: &Files, mut chunks: S) -> Result<Received, AppError>
where
    S: futures_util::Stream<Item = Result<B, E>> + Unpin,
    B: AsRef<[u8]>,
{
    use futures_util::StreamExt;
    let temporary = files.temporary()?;
    let mut out = tokio::fs::File::create(&temporary.0).await.or_internal("creating a temporary file")?;
    let mut hash = Sha256::new();
    let mut size = 0u64;
    loop {
        let next =
            tokio::time::timeout(CHUNK_WITHIN, chunks.next()).await.map_err(|_| AppError::BadRequest)?;
        let Some(chunk) = next else { break };
        // A body cut short (a cancelled upload) or over the server's
        // own limit.
        let chunk = chunk.map_err(|_| AppError::BadRequest)?;
        let chunk = chunk.as_ref();
        size += chunk.len() as u64;
        if size > files.max_bytes {
            return Err(files.too_large());
        }
        hash.update(chunk);
        out.write_all(chunk).await.or_internal("writing an upload")?;
    }
    out.sync_all().await.or_internal("writing an upload")?;
    Ok(Received { temporary, hash: hex::encode(hash.finalize()), size })
}

/// An image made safe, or any other file as it is.
async fn prepare(files: &Files, received: Received) -> Result<Prepared, AppError> {
    let mut head = [0u8; 32];
    let read = {
        use tokio::io::AsyncReadExt;
        let mut file = tokio::fs::File::open(&received.temporary.0).await.or_internal("reading an upload")?;
        file.read(&mut head).await.or_internal("reading an upload")?
    };
    let Some(format) = images::format_of(&head[..read]) else {
        return Ok(Prepared { file: received, thumbnail: None, media_type: DOWNLOAD_TYPE, image: None });
    };
    let path = received.temporary.0.clone();
    let encoded = images::with_decoded_file(path, format, encode)
        .await
        .map_err(|problem| AppError::field(Field::Attachment, problem))?;
    drop(received);
    let file = write_received(files, &encoded.full).await?;
    let thumbnail = match &encoded.thumbnail {
        Some((media_type, bytes)) => Some((write_received(files, bytes).await?, *media_type)),
        None => None,
    };
    Ok(Prepared { file, thumbnail, media_type: encoded.media_type, image: Some(encoded.size) })
}

/// What anything but an image is served as.
pub const DOWNLOAD_TYPE: &str = "application/octet-stream";

async fn write_received(files: &Files, bytes: &[u8]) -> Result<Received, AppError> {
    let temporary = files.temporary()?;
    let mut out = tokio::fs::File::create(&temporary.0).await.or_internal("creating a temporary file")?;
    out.write_all(bytes).await.or_internal("writing an image")?;
    out.sync_all().await.or_internal("writing an image")?;
    Ok(Received { temporary, hash: hex::encode(Sha256::digest(bytes)), size: bytes.len() as u64 })
}

/// An image re-encoded: in full, and small when it is larger than the
/// timeline shows.
struct EncodedImage {
    full: Vec<u8>,
    media_type: &'static str,
    size: ImageSize,
    /// What the thumbnail is, and its bytes.
    thumbnail: Option<(&'static str, Vec<u8>)>,
}

/// A photo stays a JPEG (re-encoded at a high quality); anything else
/// becomes a PNG, which loses nothing (an animated GIF keeps its first
/// frame).
fn encode(image: DynamicImage, format: ImageFormat) -> Result<EncodedImage, Problem> {
    let size = ImageSize { width: image.width(), height: image.height() };
    let mut full = Cursor::new(Vec::new());
    let media_type = if format == ImageFormat::Jpeg {
        let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut full, 90);
        image.to_rgb8().write_with_encoder(encoder).map_err(|_| Problem::UnsupportedImage)?;
        "image/jpeg"
    } else {
        image.write_to(&mut full, ImageFormat::Png).map_err(|_| Problem::UnsupportedImage)?;
        "image/png"
    };
    let (width, height) = THUMBNAIL_BOX;
    let thumbnail = if size.width > width || size.height > height {
        Some(images::encode_compact(&image.thumbnail(width, height))?)
    } else {
        None
    };
    Ok(EncodedImage { full: full.into_inner(), media_type, size, thumbnail })
}

/// 128 random bits in hex: an attachment's id, a temporary file's name.
fn random_hex() -> Result<String, AppError> {
    let mut random = [0u8; 16];
    getrandom::fill(&mut random).or_internal("drawing random bits")?;
    Ok(hex::encode(random))
}

fn random_id() -> Result<AttachmentId, AppError> {
    AttachmentId::parse(&random_hex()?).ok_or_else(|| super::internal("making an attachment id", "bad hex"))
}

/// The attachments `ids` as `author`'s unsent uploads in `room`, in order;
/// refused if one is not (any more). The message writer checks this again
/// when the message commits (`store::messages`, `Group::claim`).
pub async fn unsent(
    state: &AppState,
    author: UserId,
    room: RoomId,
    ids: &[AttachmentId],
) -> Result<Vec<Attachment>, AppError> {
    if ids.len() > MAX_ATTACHMENTS {
        return Err(AppError::field(Field::Attachment, Problem::TooManyAttachments { max: MAX_ATTACHMENTS }));
    }
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut found = state.store.unsent_attachments(author, room, ids).await.or_internal("reading uploads")?;
    let mut ordered = Vec::with_capacity(ids.len());
    for id in ids {
        let at = found.iter().position(|a| &a.id == id);
        match at {
            Some(at) => ordered.push(found.swap_remove(at)),
            None => return Err(AppError::field(Field::Attachment, Problem::AttachmentGone)),
        }
    }
    Ok(ordered)
}

/// A file to serve, once allowed.
pub struct Served {
    pub path: PathBuf,
    pub media_type: String,
    pub name: String,
    /// An image, shown in the page; anything else is only downloaded.
    pub inline: bool,
}

/// Attachment `id` (its thumbnail with `thumbnail`), for `viewer`: an
/// unsent upload for its uploader only, a sent one for whoever may read its
/// room. Anything else is `NotFound`, exactly like a missing one.
pub async fn open(
    state: &AppState,
    viewer: Option<UserId>,
    id: &str,
    thumbnail: bool,
) -> Result<Served, AppError> {
    let id = AttachmentId::parse(id).ok_or(AppError::NotFound)?;
    let viewer = viewer.ok_or(AppError::NotFound)?;
    let stored: StoredAttachment =
        state.store.attachment(&id).await.or_internal("reading an attachment")?.ok_or(AppError::NotFound)?;
    match stored.message_seq {
        None if stored.uploader_id == viewer => {}
        None => return Err(AppError::NotFound),
        Some(_) => {
            rooms::check_readable(state, viewer, stored.room_id).await.map_err(|_| AppError::NotFound)?;
        }
    }
    let inline = stored.media_type != DOWNLOAD_TYPE;
    let (file, media_type) = match (thumbnail, stored.thumbnail, stored.thumbnail_type) {
        (true, Some(small), Some(media_type)) => (small, media_type),
        (true, _, _) if !inline => return Err(AppError::NotFound),
        _ => (stored.file, stored.media_type),
    };
    let path = state.files.path(&file).ok_or_else(|| super::internal("serving a file", "a bad file name"))?;
    Ok(Served { path, media_type, name: stored.name, inline })
}

/// Removes those of `files` that no attachment names any more.
pub async fn remove_unused(state: &AppState, files: Vec<String>) {
    let _removing = state.files.lock.lock().await;
    remove_unused_now(state, files).await;
}

/// [`remove_unused`], the lock held.
async fn remove_unused_now(state: &AppState, files: Vec<String>) {
    for file in files {
        match state.store.file_in_use(&file).await {
            Ok(true) => {}
            Ok(false) => {
                if let Some(path) = state.files.path(&file) {
                    remove(&path).await;
                }
            }
            Err(error) => tracing::error!(%error, "checking whether a file is in use"),
        }
    }
}

async fn remove(path: &Path) {
    if let Err(error) = tokio::fs::remove_file(path).await {
        if error.kind() != std::io::ErrorKind::NotFound {
            tracing::error!(%error, path = %path.display(), "removing a file");
        }
    }
}

/// Forgets the uploads never sent within [`UNSENT_KEPT`], and their files.
pub async fn sweep(state: &AppState) {
    let before = now_millis() - UNSENT_KEPT.as_millis() as i64;
    match state.store.forget_unsent(before).await {
        Ok(files) if !files.is_empty() => {
            tracing::info!(files = files.len(), "forgetting unsent uploads");
            remove_unused(state, files).await;
        }
        Ok(_) => {}
        Err(error) => tracing::error!(%error, "forgetting unsent uploads"),
    }
}

/// The files of message `seq` of `room`, read before it is deleted, so
/// that they can be removed once it is.
pub async fn files_of(
    state: &AppState,
    room: RoomId,
    seq: crate::domain::Seq,
) -> Result<Vec<String>, AppError> {
    state.store.attachment_files(room, seq).await.or_internal("reading a message's files")
}

/// A file name for `Content-Disposition` (RFC 6266): an ASCII fallback and
/// the name itself, percent-encoded (RFC 8187).
pub fn content_disposition(name: &str, inline: bool) -> String {
    let fallback: String = name
        .chars()
        .map(|c| if c.is_ascii_graphic() && !matches!(c, '"' | '\\' | '%') { c } else { '_' })
        .collect();
    let encoded = percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC);
    let kind = if inline { "inline" } else { "attachment" };
    format!("{kind}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_names_survive_any_characters() {
        assert_eq!(
            content_disposition("été \"1\".pdf", false),
            "attachment; filename=\"_t___1_.pdf\"; filename*=UTF-8''%C3%A9t%C3%A9%20%221%22%2Epdf"
        );
        assert!(content_disposition("a.png", true).starts_with("inline; "));
    }
}
