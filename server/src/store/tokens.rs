//! API tokens: stored by the hash of their secret, with a name, powers and a life.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, now_ms};

/// An API token as stored: its name, powers and life.
#[derive(Debug, Clone)]
pub struct TokenRecord {
    /// The first 12 hex digits of its hash: how `astute token list` and `revoke` name it.
    pub id: String,
    pub name: String,
    pub admin: bool,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl TokenRecord {
    /// Whether it may be used at `now` (ms).
    pub fn is_valid_at(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|t| now < t)
    }
}

const TOKEN_SELECT: &str =
    "SELECT hash, name, admin, created_at, expires_at, revoked_at FROM tokens";

fn token_record(row: &AnyRow) -> anyhow::Result<TokenRecord> {
    let hash: String = row.try_get("hash")?;
    Ok(TokenRecord {
        id: hash.chars().take(12).collect(),
        name: row.try_get("name")?,
        admin: row.try_get::<i64, _>("admin")? != 0,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

impl Store {
    /// Stores a token's hash under a name.
    pub async fn add_token(
        &self,
        hash: &str,
        name: &str,
        admin: bool,
        expires_at: Option<i64>,
    ) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO tokens (hash, name, created_at, admin, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(hash)
        .bind(name)
        .bind(now_ms())
        .bind(i64::from(admin))
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The token with this hash, if there is one.
    pub async fn token(&self, hash: &str) -> anyhow::Result<Option<TokenRecord>> {
        let row = sqlx::query(&format!("{TOKEN_SELECT} WHERE hash = $1"))
            .bind(hash)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| token_record(&row)).transpose()
    }

    /// Every token, oldest first.
    pub async fn tokens(&self) -> anyhow::Result<Vec<TokenRecord>> {
        sqlx::query(&format!("{TOKEN_SELECT} ORDER BY created_at, hash"))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(token_record)
            .collect()
    }

    /// Revokes the tokens whose id (hash prefix) or name is `which`; returns how many.
    pub async fn revoke_token(&self, which: &str) -> anyhow::Result<u64> {
        let updated = sqlx::query(
            "UPDATE tokens SET revoked_at = $1 WHERE revoked_at IS NULL \
             AND (name = $2 OR (LENGTH($2) >= 6 AND hash LIKE $3))",
        )
        .bind(now_ms())
        .bind(which)
        .bind(format!("{}%", which.to_ascii_lowercase()))
        .execute(&self.pool)
        .await?;
        Ok(updated.rows_affected())
    }
}
