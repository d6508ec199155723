//! Run artifacts kept in the database (see `migrations/0008_artifacts.sql`): each one a row
//! naming its current upload and that upload's numbered chunks, written in one transaction
//! and read a chunk at a time, so that neither side ever holds a whole artifact in memory.

use sha2::{Digest, Sha256};
use sqlx::Row;
use tokio::io::{AsyncRead, AsyncReadExt};

use super::{Store, hex, now_ms, random_hex};

/// Bytes per stored chunk: large enough that a checkpoint of a wide network is a few
/// hundred rows, small enough to hold one in memory per transfer.
pub const CHUNK_BYTES: usize = 1 << 20;

/// An artifact as stored: its current upload, size and checksum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredArtifact {
    pub upload: String,
    pub size: u64,
    /// Hex SHA-256 of the whole artifact, checked by every reader.
    pub sha256: String,
}

impl Store {
    /// Run `run`'s artifact of `kind`, if one was stored.
    pub async fn artifact(&self, run: &str, kind: &str) -> anyhow::Result<Option<StoredArtifact>> {
        let row = sqlx::query(
            "SELECT upload, size, sha256 FROM artifacts WHERE run_id = $1 AND kind = $2",
        )
        .bind(run)
        .bind(kind)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(StoredArtifact {
                upload: row.try_get("upload")?,
                size: u64::try_from(row.try_get::<i64, _>("size")?)?,
                sha256: row.try_get("sha256")?,
            })
        })
        .transpose()
    }

    /// Chunk `seq` (from 0) of `upload`; `None` past its end or once the upload was
    /// replaced.
    pub async fn artifact_chunk(&self, upload: &str, seq: i64) -> anyhow::Result<Option<Vec<u8>>> {
        let row = sqlx::query("SELECT bytes FROM artifact_chunks WHERE upload = $1 AND seq = $2")
            .bind(upload)
            .bind(seq)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| row.try_get("bytes")).transpose()?)
    }

    /// Stores everything `bytes` yields as run `run`'s artifact of `kind`, replacing the
    /// previous one only when the whole of it is in: one transaction, so a failed read or a
    /// process killed mid-upload leaves the previous artifact as it was.
    pub async fn put_artifact(
        &self,
        run: &str,
        kind: &str,
        mut bytes: impl AsyncRead + Unpin,
    ) -> anyhow::Result<StoredArtifact> {
        let upload = random_hex(16)?;
        let mut tx = self.pool.begin().await?;
        let (mut size, mut hash, mut seq) = (0u64, Sha256::new(), 0i64);
        let mut chunk = vec![0u8; CHUNK_BYTES];
        loop {
            let mut filled = 0;
            while filled < chunk.len() {
                let read = bytes.read(&mut chunk[filled..]).await?;
                if read == 0 {
                    break;
                }
                filled += read;
            }
            if filled == 0 {
                break;
            }
            hash.update(&chunk[..filled]);
            size += filled as u64;
            sqlx::query("INSERT INTO artifact_chunks (upload, seq, bytes) VALUES ($1, $2, $3)")
                .bind(&upload)
                .bind(seq)
                .bind(chunk[..filled].to_vec())
                .execute(&mut *tx)
                .await?;
            seq += 1;
            if filled < chunk.len() {
                break;
            }
        }
        let sha256 = hex(&hash.finalize());
        sqlx::query(
            "DELETE FROM artifact_chunks WHERE upload IN \
             (SELECT upload FROM artifacts WHERE run_id = $1 AND kind = $2)",
        )
        .bind(run)
        .bind(kind)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO artifacts (run_id, kind, upload, size, sha256, stored_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (run_id, kind) DO UPDATE SET upload = excluded.upload, \
             size = excluded.size, sha256 = excluded.sha256, stored_at = excluded.stored_at",
        )
        .bind(run)
        .bind(kind)
        .bind(&upload)
        .bind(i64::try_from(size)?)
        .bind(&sha256)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(StoredArtifact {
            upload,
            size,
            sha256,
        })
    }

    /// Removes run `run`'s artifact of `kind`, or all of its artifacts when `kind` is
    /// `None`.
    pub async fn delete_artifacts(&self, run: &str, kind: Option<&str>) -> anyhow::Result<()> {
        let which = if kind.is_some() {
            "run_id = $1 AND kind = $2"
        } else {
            "run_id = $1"
        };
        let mut tx = self.pool.begin().await?;
        for sql in [
            format!(
                "DELETE FROM artifact_chunks WHERE upload IN (SELECT upload FROM artifacts WHERE {which})"
            ),
            format!("DELETE FROM artifacts WHERE {which}"),
        ] {
            let mut query = sqlx::query(&sql).bind(run);
            if let Some(kind) = kind {
                query = query.bind(kind);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Chunks of uploads that no artifact names (none, unless the database was changed by
    /// hand: an upload cut short leaves none behind).
    #[cfg(test)]
    pub async fn orphan_artifact_chunks(&self) -> anyhow::Result<i64> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM artifact_chunks \
             WHERE upload NOT IN (SELECT upload FROM artifacts)",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("n")?)
    }

    /// Flips the bits of chunk `seq` of `upload`, as a damaged disk or a hand edit would.
    #[cfg(test)]
    pub async fn corrupt_artifact_chunk(&self, upload: &str, seq: i64) -> anyhow::Result<()> {
        let mut bytes = self
            .artifact_chunk(upload, seq)
            .await?
            .ok_or_else(|| anyhow::anyhow!("no chunk {seq}"))?;
        bytes.iter_mut().for_each(|b| *b = !*b);
        sqlx::query("UPDATE artifact_chunks SET bytes = $1 WHERE upload = $2 AND seq = $3")
            .bind(bytes)
            .bind(upload)
            .bind(seq)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
