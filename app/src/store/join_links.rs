//! Join links: made, listed, revoked, and used as an account is made
//! (`Store::insert_user`).

use super::{now_millis, Store};
use crate::domain::{JoinLink, PublicProfile, UserId};
use sqlx::Any;

#[derive(sqlx::FromRow)]
struct JoinLinkRow {
    code: String,
    created_by: UserId,
    username: String,
    display_name: String,
    avatar_version: Option<i64>,
    created_at: i64,
    expires_at: Option<i64>,
    max_uses: Option<i64>,
    uses: i64,
    revoked_at: Option<i64>,
}

impl From<JoinLinkRow> for JoinLink {
    fn from(row: JoinLinkRow) -> Self {
        JoinLink {
            code: row.code,
            made_by: PublicProfile {
                id: row.created_by,
                username: row.username,
                display_name: row.display_name,
                avatar_version: row.avatar_version,
            },
            created_at: row.created_at,
            expires_at: row.expires_at,
            max_uses: row.max_uses.and_then(|max| u32::try_from(max).ok()),
            uses: u32::try_from(row.uses).unwrap_or(u32::MAX),
            revoked: row.revoked_at.is_some(),
        }
    }
}

const LINK_COLUMNS: &str = "l.code, l.created_by, u.username, u.display_name, u.avatar_version,
     l.created_at, l.expires_at, l.max_uses, l.uses, l.revoked_at";

/// The SQL form of `JoinLink::state` being `Usable` at `$now`; and its
/// maker still in good standing (a deactivated member's links stop).
const USABLE: &str = "revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $now)
     AND (max_uses IS NULL OR uses < max_uses)
     AND EXISTS (SELECT 1 FROM users maker WHERE maker.id = join_links.created_by AND maker.deactivated_at IS NULL)";

/// What making a join link did.
#[derive(Debug, PartialEq, Eq)]
pub enum LinkMade {
    Made(JoinLink),
    /// Refused: the maker has `max` usable links already (the rule of
    /// `services::join_links`, checked again in the write transaction).
    TooMany,
}

impl Store {
    /// Makes a join link with `code` by `maker`, unless they already have
    /// `max_usable` usable ones.
    pub async fn insert_join_link(
        &self,
        maker: UserId,
        code: &str,
        expires_at: Option<i64>,
        max_uses: Option<u32>,
        max_usable: usize,
    ) -> Result<LinkMade, sqlx::Error> {
        let now = now_millis();
        let mut tx = self.begin_write().await?;
        let usable: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM join_links WHERE created_by = $1 AND {}",
            USABLE.replace("$now", "$2")
        ))
        .bind(maker)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        if usable >= max_usable as i64 {
            return Ok(LinkMade::TooMany);
        }
        sqlx::query(
            "INSERT INTO join_links (code, created_by, created_at, expires_at, max_uses) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(code)
        .bind(maker)
        .bind(now)
        .bind(expires_at)
        .bind(max_uses.map(i64::from))
        .execute(&mut *tx)
        .await?;
        let link = link_by_code(&mut *tx, code).await?;
        tx.commit().await?;
        Ok(link.map_or(LinkMade::TooMany, LinkMade::Made))
    }

    /// The join links made by `maker` (everyone's: `None`), newest first.
    pub async fn join_links(
        &self,
        maker: Option<UserId>,
        limit: usize,
    ) -> Result<Vec<JoinLink>, sqlx::Error> {
        let rows: Vec<JoinLinkRow> = sqlx::query_as(&format!(
            "SELECT {LINK_COLUMNS} FROM join_links l JOIN users u ON u.id = l.created_by
             WHERE $1 = 0 OR l.created_by = $1 ORDER BY l.id DESC LIMIT $2"
        ))
        .bind(maker.unwrap_or(UserId(0)))
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(JoinLink::from).collect())
    }

    pub async fn join_link(&self, code: &str) -> Result<Option<JoinLink>, sqlx::Error> {
        link_by_code(&self.pool, code).await
    }

    /// Revokes the link with `code`, if `by` made it (anyone's: `None`).
    /// Whether there was such a link.
    pub async fn revoke_join_link(&self, code: &str, by: Option<UserId>) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE join_links SET revoked_at = COALESCE(revoked_at, $3) WHERE code = $1 AND ($2 = 0 OR created_by = $2)",
        )
        .bind(code)
        .bind(by.unwrap_or(UserId(0)))
        .bind(now_millis())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }
}

async fn link_by_code<'c>(
    executor: impl sqlx::Executor<'c, Database = Any>,
    code: &str,
) -> Result<Option<JoinLink>, sqlx::Error> {
    let row: Option<JoinLinkRow> = sqlx::query_as(&format!(
        "SELECT {LINK_COLUMNS} FROM join_links l JOIN users u ON u.id = l.created_by WHERE l.code = $1"
    ))
    .bind(code)
    .fetch_optional(executor)
    .await?;
    Ok(row.map(JoinLink::from))
}

/// Counts one use of the join link `code` if it is usable now (the rule
/// of `JoinLink::state`), inside the transaction that makes the account:
/// two sign-ups racing for a link's last use make one account. Who made
/// the link, if it was used.
pub(super) async fn use_join_link(
    tx: &mut sqlx::Transaction<'static, Any>,
    code: &str,
) -> Result<Option<UserId>, sqlx::Error> {
    sqlx::query_scalar(&format!(
        "UPDATE join_links SET uses = uses + 1 WHERE code = $1 AND {} RETURNING created_by",
        USABLE.replace("$now", "$2")
    ))
    .bind(code)
    .bind(now_millis())
    .fetch_optional(&mut **tx)
    .await
}
