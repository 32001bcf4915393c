//! Attachments' rows: uploads before their message is sent, and what the
//! file server needs to know of one. Claiming them for a message happens in
//! the message writer's transaction (`messages`), deleting them with their
//! message's deletion.

use super::{now_millis, Store};
use crate::domain::{Attachment, AttachmentId, ImageSize, RoomId, Seq, UserId};

/// An upload to record, its files already stored.
pub struct NewAttachment<'a> {
    pub id: &'a AttachmentId,
    pub room: RoomId,
    pub uploader: UserId,
    pub name: &'a str,
    pub size: u64,
    pub media_type: &'a str,
    pub file: &'a str,
    /// The thumbnail's file and type.
    pub thumbnail: Option<(&'a str, &'a str)>,
    pub image: Option<ImageSize>,
}

/// What serving an attachment needs.
#[derive(sqlx::FromRow)]
pub struct StoredAttachment {
    pub room_id: RoomId,
    pub uploader_id: UserId,
    /// `None` while unsent.
    pub message_seq: Option<Seq>,
    pub name: String,
    pub media_type: String,
    pub file: String,
    pub thumbnail: Option<String>,
    pub thumbnail_type: Option<String>,
}

#[derive(sqlx::FromRow)]
struct AttachmentRow {
    id: String,
    name: String,
    size: i64,
    width: Option<i64>,
    height: Option<i64>,
}

impl AttachmentRow {
    fn attachment(self) -> Option<Attachment> {
        let image = match (self.width, self.height) {
            (Some(width), Some(height)) => {
                Some(ImageSize { width: u32::try_from(width).ok()?, height: u32::try_from(height).ok()? })
            }
            _ => None,
        };
        Some(Attachment {
            id: AttachmentId::parse(&self.id)?,
            name: self.name,
            size: u64::try_from(self.size).ok()?,
            image,
        })
    }
}

impl Store {
    pub async fn insert_attachment(&self, new: &NewAttachment<'_>) -> Result<(), sqlx::Error> {
        let (width, height) = new.image.map_or((None, None), |size| (Some(size.width), Some(size.height)));
        sqlx::query(
            "INSERT INTO attachments (id, room_id, uploader_id, name, size, media_type, file, thumbnail,
                                      thumbnail_type, width, height, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(new.id.as_str())
        .bind(new.room)
        .bind(new.uploader)
        .bind(new.name)
        .bind(i64::try_from(new.size).unwrap_or(i64::MAX))
        .bind(new.media_type)
        .bind(new.file)
        .bind(new.thumbnail.map(|(file, _)| file))
        .bind(new.thumbnail.map(|(_, media_type)| media_type))
        .bind(width.map(i64::from))
        .bind(height.map(i64::from))
        .bind(now_millis())
        .execute(&self.pool)
        .await
        .map(drop)
    }

    /// Those of `ids` that are `uploader`'s unsent uploads in `room`.
    pub async fn unsent_attachments(
        &self,
        uploader: UserId,
        room: RoomId,
        ids: &[AttachmentId],
    ) -> Result<Vec<Attachment>, sqlx::Error> {
        let places: Vec<String> = (0..ids.len()).map(|n| format!("${}", n + 3)).collect();
        let sql = format!(
            "SELECT id, name, size, width, height FROM attachments
             WHERE uploader_id = $1 AND room_id = $2 AND message_seq IS NULL AND id IN ({})",
            places.join(", ")
        );
        let mut query = sqlx::query_as::<_, AttachmentRow>(&sql).bind(uploader).bind(room);
        for id in ids {
            query = query.bind(id.as_str());
        }
        Ok(query.fetch_all(&self.pool).await?.into_iter().filter_map(AttachmentRow::attachment).collect())
    }

    /// Whether `author` already sent a message under `client_id` (a
    /// resend, which gets the original, files and all).
    pub async fn sent_before(&self, author: UserId, client_id: &str) -> Result<bool, sqlx::Error> {
        let found: Option<(i64,)> =
            sqlx::query_as("SELECT 1 FROM messages WHERE author_id = $1 AND client_id = $2")
                .bind(author)
                .bind(client_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(found.is_some())
    }

    pub async fn attachment(&self, id: &AttachmentId) -> Result<Option<StoredAttachment>, sqlx::Error> {
        sqlx::query_as(
            "SELECT room_id, uploader_id, message_seq, name, media_type, file, thumbnail, thumbnail_type
             FROM attachments WHERE id = $1",
        )
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await
    }

    /// The files of message `seq`'s attachments (each file and thumbnail).
    pub async fn attachment_files(&self, room: RoomId, seq: Seq) -> Result<Vec<String>, sqlx::Error> {
        let rows: Vec<(String, Option<String>)> =
            sqlx::query_as("SELECT file, thumbnail FROM attachments WHERE room_id = $1 AND message_seq = $2")
                .bind(room)
                .bind(seq)
                .fetch_all(&self.pool)
                .await?;
        Ok(file_names(rows))
    }

    /// Whether an attachment still names `file`.
    pub async fn file_in_use(&self, file: &str) -> Result<bool, sqlx::Error> {
        let (used,): (i64,) = sqlx::query_as(
            "SELECT CASE WHEN EXISTS (SELECT 1 FROM attachments WHERE file = $1 OR thumbnail = $1)
                         THEN 1 ELSE 0 END",
        )
        .bind(file)
        .fetch_one(&self.pool)
        .await?;
        Ok(used != 0)
    }

    /// Forgets the uploads made before `before` (ms) and never sent; returns
    /// the files they named.
    pub async fn forget_unsent(&self, before: i64) -> Result<Vec<String>, sqlx::Error> {
        let rows: Vec<(String, Option<String>)> = sqlx::query_as(
            "DELETE FROM attachments WHERE message_seq IS NULL AND created_at < $1 RETURNING file, thumbnail",
        )
        .bind(before)
        .fetch_all(&self.pool)
        .await?;
        Ok(file_names(rows))
    }
}

/// The files that rows of (file, thumbnail) name.
fn file_names(rows: Vec<(String, Option<String>)>) -> Vec<String> {
    rows.into_iter().flat_map(|(file, thumbnail)| [Some(file), thumbnail]).flatten().collect()
}
