//! Avatar images: checked for size before decoding, decoded within the
//! memory bound of [`images`], cropped to a square, resized and re-encoded, which also
//! drops every piece of metadata (EXIF, location, comments).

use super::{images, AppState, OrInternal};
use crate::domain::{UserId, AVATAR_MAX_BYTES, AVATAR_SIZE};
use crate::error::{AppError, Field, Problem};
use crate::store::UserRecord;
use image::{imageops::FilterType, DynamicImage};

pub struct EncodedAvatar {
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

#[tracing::instrument(skip_all, fields(user = %user))]
pub async fn set_avatar(state: &AppState, user: UserId, upload: Vec<u8>) -> Result<UserRecord, AppError> {
    let avatar = normalize(upload).await.map_err(|problem| AppError::field(Field::Avatar, problem))?;
    state.store.set_avatar(user, avatar.content_type, &avatar.bytes).await.or_internal("storing an avatar")
}

/// Turns an uploaded file into a square `AVATAR_SIZE` image: JPEG when
/// opaque, PNG when it has transparency.
pub async fn normalize(upload: Vec<u8>) -> Result<EncodedAvatar, Problem> {
    if upload.len() > AVATAR_MAX_BYTES {
        return Err(Problem::ImageTooLarge { max_bytes: AVATAR_MAX_BYTES });
    }
    images::with_decoded(upload, encode).await
}

fn encode(image: DynamicImage) -> Result<EncodedAvatar, Problem> {
    // A quick reduction to twice the size first (a box filter, little
    // memory), then the fine filter on what is left.
    let (width, height) = (image.width(), image.height());
    let scale = f64::from(2 * AVATAR_SIZE) / f64::from(width.min(height).max(1));
    let image = if scale < 1.0 {
        let to = |side: u32| ((f64::from(side) * scale).round() as u32).max(AVATAR_SIZE);
        image.thumbnail_exact(to(width), to(height))
    } else {
        image
    };
    let square = image.resize_to_fill(AVATAR_SIZE, AVATAR_SIZE, FilterType::Lanczos3);
    drop(image);
    let (content_type, bytes) = images::encode_compact(&square)?;
    Ok(EncodedAvatar { content_type, bytes })
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
    use std::io::Cursor;

    fn encode_as(image: image::DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        image.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    #[tokio::test]
    async fn photos_become_square_jpegs() {
        let photo = RgbImage::from_pixel(640, 320, Rgb([200, 40, 40]));
        let avatar = normalize(encode_as(photo.into(), ImageFormat::Png)).await.unwrap();
        assert_eq!(avatar.content_type, "image/jpeg");
        let decoded = image::load_from_memory(&avatar.bytes).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (AVATAR_SIZE, AVATAR_SIZE));
    }

    #[tokio::test]
    async fn transparency_is_kept_as_png() {
        let icon = RgbaImage::from_pixel(100, 100, Rgba([0, 0, 0, 0]));
        assert_eq!(
            normalize(encode_as(icon.into(), ImageFormat::Png)).await.unwrap().content_type,
            "image/png"
        );
    }

    #[tokio::test]
    async fn refuses_what_is_not_a_supported_image() {
        assert_eq!(normalize(b"hello, I am text".to_vec()).await.err(), Some(Problem::UnsupportedImage));
        assert_eq!(
            normalize(b"<svg xmlns='http://www.w3.org/2000/svg'/>".to_vec()).await.err(),
            Some(Problem::UnsupportedImage)
        );
        let mut truncated = encode_as(RgbImage::new(64, 64).into(), ImageFormat::Png);
        truncated.truncate(40);
        assert_eq!(normalize(truncated).await.err(), Some(Problem::UnsupportedImage));
        assert_eq!(
            normalize(vec![0u8; AVATAR_MAX_BYTES + 1]).await.err(),
            Some(Problem::ImageTooLarge { max_bytes: AVATAR_MAX_BYTES })
        );
    }
}
