//! Avatar images: checked for size before decoding, decoded with pixel and
//! memory limits, cropped to a square, resized and re-encoded, which also
//! drops every piece of metadata (EXIF, location, comments).

use super::{AppState, OrInternal};
use crate::domain::{UserId, AVATAR_MAX_BYTES, AVATAR_MAX_SIDE, AVATAR_SIZE};
use crate::error::{AppError, Field, Problem};
use crate::store::UserRecord;
use image::{imageops::FilterType, ImageError, ImageFormat, ImageReader, Limits};
use std::io::Cursor;

pub struct EncodedAvatar {
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

pub async fn set_avatar(state: &AppState, user: UserId, upload: Vec<u8>) -> Result<UserRecord, AppError> {
    let avatar = tokio::task::spawn_blocking(move || normalize(&upload))
        .await
        .or_internal("avatar worker")?
        .map_err(|problem| AppError::field(Field::Avatar, problem))?;
    state.store.set_avatar(user, avatar.content_type, &avatar.bytes).await.or_internal("storing an avatar")
}

/// Turns an uploaded file into a square `AVATAR_SIZE` image: JPEG when
/// opaque, PNG when it has transparency.
pub fn normalize(upload: &[u8]) -> Result<EncodedAvatar, Problem> {
    if upload.len() > AVATAR_MAX_BYTES {
        return Err(Problem::ImageTooLarge { max_bytes: AVATAR_MAX_BYTES });
    }
    let format = image::guess_format(upload).map_err(|_| Problem::UnsupportedImage)?;
    if !matches!(format, ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::Gif | ImageFormat::WebP) {
        return Err(Problem::UnsupportedImage);
    }
    let mut reader = ImageReader::with_format(Cursor::new(upload), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(AVATAR_MAX_SIDE);
    limits.max_image_height = Some(AVATAR_MAX_SIDE);
    limits.max_alloc = Some(256 * 1024 * 1024);
    reader.limits(limits);
    let image = reader.decode().map_err(|error| match error {
        ImageError::Limits(_) => Problem::ImageTooManyPixels { max_side: AVATAR_MAX_SIDE },
        _ => Problem::UnsupportedImage,
    })?;
    let square = image.resize_to_fill(AVATAR_SIZE, AVATAR_SIZE, FilterType::Lanczos3);
    let mut bytes = Cursor::new(Vec::new());
    let content_type = if square.color().has_alpha() && square.to_rgba8().pixels().any(|p| p[3] < 255) {
        square.to_rgba8().write_to(&mut bytes, ImageFormat::Png).map_err(|_| Problem::UnsupportedImage)?;
        "image/png"
    } else {
        let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 88);
        square.to_rgb8().write_with_encoder(encoder).map_err(|_| Problem::UnsupportedImage)?;
        "image/jpeg"
    };
    Ok(EncodedAvatar { content_type, bytes: bytes.into_inner() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage, Rgba, RgbaImage};

    fn encode(image: image::DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        image.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    #[test]
    fn photos_become_square_jpegs() {
        let photo = RgbImage::from_pixel(640, 320, Rgb([200, 40, 40]));
        let avatar = normalize(&encode(photo.into(), ImageFormat::Png)).unwrap();
        assert_eq!(avatar.content_type, "image/jpeg");
        let decoded = image::load_from_memory(&avatar.bytes).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (AVATAR_SIZE, AVATAR_SIZE));
    }

    #[test]
    fn transparency_is_kept_as_png() {
        let icon = RgbaImage::from_pixel(100, 100, Rgba([0, 0, 0, 0]));
        assert_eq!(normalize(&encode(icon.into(), ImageFormat::Png)).unwrap().content_type, "image/png");
    }

    #[test]
    fn refuses_what_is_not_a_supported_image() {
        assert_eq!(normalize(b"hello, I am text").err(), Some(Problem::UnsupportedImage));
        assert_eq!(
            normalize(b"<svg xmlns='http://www.w3.org/2000/svg'/>").err(),
            Some(Problem::UnsupportedImage)
        );
        let mut truncated = encode(RgbImage::new(64, 64).into(), ImageFormat::Png);
        truncated.truncate(40);
        assert_eq!(normalize(&truncated).err(), Some(Problem::UnsupportedImage));
        assert_eq!(
            normalize(&vec![0u8; AVATAR_MAX_BYTES + 1]).err(),
            Some(Problem::ImageTooLarge { max_bytes: AVATAR_MAX_BYTES })
        );
    }

    #[test]
    fn refuses_decompression_bombs_before_allocating() {
        let png = encode(RgbImage::new(AVATAR_MAX_SIDE + 1, 1).into(), ImageFormat::Png);
        assert_eq!(normalize(&png).err(), Some(Problem::ImageTooManyPixels { max_side: AVATAR_MAX_SIDE }));
    }
}
