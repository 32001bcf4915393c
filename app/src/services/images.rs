//! Receiving and decoding uploaded images (avatars and attachments) within
//! a memory bound.
//!
//! Two budgets, taken in this order and each only for its step, so that no
//! burst of uploads grows the server by more than their sum (≈ 48 MiB):
//! - bodies being received: [`BODY_BUDGET_BYTES`], each upload reserving
//!   its declared length ([`receive`]) before reading it;
//! - images being decoded: [`DECODE_BUDGET_BYTES`]. An image's header says
//!   what decoding it will cost (width × height × bytes per pixel) before
//!   anything is allocated: one that would cost more than
//!   [`IMAGE_MAX_DECODED_BYTES`] is refused from its header, the others
//!   wait for their cost. The decoder is also given the `image` crate's own
//!   allocation limit, in case a header understates.

use crate::domain::{IMAGE_MAX_MEGAPIXELS, IMAGE_MAX_SIDE};
use crate::error::{AppError, Problem};
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits};
use std::io::{BufRead, BufReader, Cursor, Seek};
use std::time::Duration;
use tokio::sync::{Semaphore, SemaphorePermit};

/// The most one image may take decoded: 12 megapixels of 8-bit RGB (a
/// phone camera's photo; fewer with transparency).
pub const IMAGE_MAX_DECODED_BYTES: u64 = IMAGE_MAX_MEGAPIXELS as u64 * 1_000_000 * 3;
/// Room for what decoding needs besides its output (the decoder's own
/// buffers, the reductions, the re-encoding), counted in each image's
/// cost: about what a 12-megapixel PNG took beyond its pixels, measured.
const DECODER_OVERHEAD: u64 = 6 << 20;
/// The decoded bytes the whole process may hold at once: one largest
/// image, or several small ones.
pub const DECODE_BUDGET_BYTES: u64 = IMAGE_MAX_DECODED_BYTES + DECODER_OVERHEAD;
/// The memory upload bodies may take at once while they are received: a
/// body takes about twice its length then (the multipart parser's buffer
/// and the copy that is decoded), so one of the largest, or many small ones.
pub const BODY_BUDGET_BYTES: u64 = 8 << 20;
/// The budgets' unit, one permit.
const UNIT: u64 = 64 * 1024;

const DECODING_UNITS: u64 = DECODE_BUDGET_BYTES.div_ceil(UNIT);
const RECEIVING_UNITS: u64 = BODY_BUDGET_BYTES.div_ceil(UNIT);
static DECODING: Semaphore = Semaphore::const_new(DECODING_UNITS as usize);
static RECEIVING: Semaphore = Semaphore::const_new(RECEIVING_UNITS as usize);

/// The units `bytes` take of a budget of `total` units: never more than
/// the whole budget, or they could never be had.
fn units(bytes: u64, total: u64) -> Result<u32, Problem> {
    u32::try_from(bytes.div_ceil(UNIT).clamp(1, total)).map_err(|_| Problem::UnsupportedImage)
}

/// A share of the body budget, given back when dropped.
pub struct Receiving(#[allow(dead_code)] SemaphorePermit<'static>);

/// How long an upload may wait for its share of the body budget before it
/// is asked to try again.
pub const WAIT_FOR_BUDGET: Duration = Duration::from_secs(20);
/// How long a body may take to arrive once it holds its share: a sender
/// that trickles bytes cannot keep the budget from everyone else.
pub const RECEIVE_WITHIN: Duration = Duration::from_secs(120);

/// Waits (at most [`WAIT_FOR_BUDGET`]) until an upload body of `length`
/// bytes may be received.
pub async fn receive(length: u64) -> Result<Receiving, AppError> {
    let units = units(length.saturating_mul(2), RECEIVING_UNITS).map_err(|_| AppError::BadRequest)?;
    match tokio::time::timeout(WAIT_FOR_BUDGET, RECEIVING.acquire_many(units)).await {
        Ok(Ok(permit)) => Ok(Receiving(permit)),
        Ok(Err(_)) => Err(super::internal("receiving an upload", "the body budget is closed")),
        Err(_) => Err(AppError::RateLimited { retry_after_secs: 5 }),
    }
}

/// The formats Salon accepts.
const FORMATS: [ImageFormat; 4] = [ImageFormat::Png, ImageFormat::Jpeg, ImageFormat::Gif, ImageFormat::WebP];

/// Decodes an uploaded image (its first frame) and hands it to `work`, on
/// the blocking pool, holding the image's share of the decode budget until
/// `work` is done with it.
pub async fn with_decoded<T: Send + 'static>(
    upload: Vec<u8>,
    work: impl FnOnce(DynamicImage) -> Result<T, Problem> + Send + 'static,
) -> Result<T, Problem> {
    let format = format_of(&upload).ok_or(Problem::UnsupportedImage)?;
    let cost = decoded_bytes(Cursor::new(&upload), format)? + DECODER_OVERHEAD;
    let _share =
        DECODING.acquire_many(units(cost, DECODING_UNITS)?).await.map_err(|_| Problem::UnsupportedImage)?;
    tokio::task::spawn_blocking(move || work(decode_now(Cursor::new(&upload), format)?))
        .await
        .map_err(|_| Problem::UnsupportedImage)?
}

/// The same for an image in the file at `path`, in `format`, read from
/// disk rather than memory.
pub async fn with_decoded_file<T: Send + 'static>(
    path: std::path::PathBuf,
    format: ImageFormat,
    work: impl FnOnce(DynamicImage, ImageFormat) -> Result<T, Problem> + Send + 'static,
) -> Result<T, Problem> {
    let open = |path: &std::path::Path| {
        std::fs::File::open(path).map(BufReader::new).map_err(|_| Problem::UnsupportedImage)
    };
    let header = path.clone();
    let cost = tokio::task::spawn_blocking(move || decoded_bytes(open(&header)?, format))
        .await
        .map_err(|_| Problem::UnsupportedImage)??
        + DECODER_OVERHEAD;
    let _share =
        DECODING.acquire_many(units(cost, DECODING_UNITS)?).await.map_err(|_| Problem::UnsupportedImage)?;
    tokio::task::spawn_blocking(move || work(decode_now(open(&path)?, format)?, format))
        .await
        .map_err(|_| Problem::UnsupportedImage)?
}

/// The format of an image Salon accepts, from its first bytes.
pub fn format_of(head: &[u8]) -> Option<ImageFormat> {
    image::guess_format(head).ok().filter(|format| FORMATS.contains(format))
}

/// What the image will take decoded, from its header; refused beyond the
/// limits.
fn decoded_bytes<R: BufRead + Seek>(source: R, format: ImageFormat) -> Result<u64, Problem> {
    let decoder = reader(source, format).into_decoder().map_err(problem)?;
    let (width, height) = decoder.dimensions();
    let bytes = decoder.total_bytes();
    if width > IMAGE_MAX_SIDE || height > IMAGE_MAX_SIDE || bytes > IMAGE_MAX_DECODED_BYTES {
        return Err(too_many_pixels());
    }
    Ok(bytes)
}

/// Decodes the image, turned as its metadata says it was taken (a phone
/// photo's EXIF orientation), since the metadata goes when it is
/// re-encoded.
fn decode_now<R: BufRead + Seek>(source: R, format: ImageFormat) -> Result<DynamicImage, Problem> {
    let mut decoder = reader(source, format).into_decoder().map_err(problem)?;
    let orientation = decoder.orientation().map_err(problem)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(problem)?;
    image.apply_orientation(orientation);
    Ok(image)
}

fn reader<R: BufRead + Seek>(source: R, format: ImageFormat) -> ImageReader<R> {
    let mut reader = ImageReader::with_format(source, format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(IMAGE_MAX_SIDE);
    limits.max_image_height = Some(IMAGE_MAX_SIDE);
    limits.max_alloc = Some(DECODE_BUDGET_BYTES);
    reader.limits(limits);
    reader
}

/// A small image encoded compactly: JPEG when opaque, PNG when it has
/// transparency. Encoding drops every piece of metadata.
pub fn encode_compact(image: &DynamicImage) -> Result<(&'static str, Vec<u8>), Problem> {
    let mut bytes = Cursor::new(Vec::new());
    let content_type = if image.color().has_alpha() && image.to_rgba8().pixels().any(|p| p[3] < 255) {
        image.to_rgba8().write_to(&mut bytes, ImageFormat::Png).map_err(|_| Problem::UnsupportedImage)?;
        "image/png"
    } else {
        let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 88);
        image.to_rgb8().write_with_encoder(encoder).map_err(|_| Problem::UnsupportedImage)?;
        "image/jpeg"
    };
    Ok((content_type, bytes.into_inner()))
}

fn problem(error: ImageError) -> Problem {
    match error {
        ImageError::Limits(_) => too_many_pixels(),
        _ => Problem::UnsupportedImage,
    }
}

fn too_many_pixels() -> Problem {
    Problem::ImageTooManyPixels { max_megapixels: IMAGE_MAX_MEGAPIXELS }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage, RgbaImage};

    fn png(image: DynamicImage) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        image.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[tokio::test]
    async fn bombs_are_refused_from_their_header() {
        // 8192 × 8192 RGBA: 256 MiB decoded, far less encoded.
        let bomb = png(RgbaImage::new(8192, 8192).into());
        assert!(bomb.len() < crate::domain::AVATAR_MAX_BYTES, "{} bytes", bomb.len());
        assert_eq!(with_decoded(bomb, Ok).await.err(), Some(too_many_pixels()));
        let wide = png(RgbImage::new(IMAGE_MAX_SIDE + 1, 1).into());
        assert_eq!(with_decoded(wide, Ok).await.err(), Some(too_many_pixels()));
    }

    #[tokio::test]
    async fn a_twelve_megapixel_photo_decodes() {
        let photo = png(RgbImage::from_pixel(4000, 3000, Rgb([10, 20, 30])).into());
        assert_eq!(IMAGE_MAX_DECODED_BYTES, 4000 * 3000 * 3, "the largest accepted");
        let image = with_decoded(photo, Ok).await.unwrap();
        assert_eq!((image.width(), image.height()), (4000, 3000));
        assert_eq!(DECODING.available_permits() as u64, DECODING_UNITS, "its share is given back");
    }
}
