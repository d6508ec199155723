//! Artifacts in the store's database (PostgreSQL for a lab): every process that reaches
//! the database reaches them. Read a chunk at a time, each checked against the artifact's
//! SHA-256 once the last one is in.

use std::path::Path;

use anyhow::Context;
use axum::body::Bytes;
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::{ArtifactStore, Download, Kind, staging_path};
use crate::store::{Store, StoredArtifact, hex};

/// Artifacts in `store`'s database.
pub struct Database {
    store: Store,
}

impl Database {
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

/// Reads `artifact` a chunk at a time, checking its checksum at the end: an upload
/// replaced during the read, or bytes changed in the database, fail the read.
struct Reader {
    store: Store,
    run: String,
    artifact: StoredArtifact,
    seq: i64,
    read: u64,
    hash: Sha256,
}

impl Reader {
    fn new(store: Store, run: &str, artifact: StoredArtifact) -> Self {
        Self {
            store,
            run: run.to_owned(),
            artifact,
            seq: 0,
            read: 0,
            hash: Sha256::new(),
        }
    }

    /// The next chunk; `None` after the last, once the whole was checked.
    async fn next(&mut self) -> anyhow::Result<Option<Vec<u8>>> {
        if self.read == self.artifact.size {
            let sha256 = hex(&std::mem::take(&mut self.hash).finalize());
            anyhow::ensure!(
                sha256 == self.artifact.sha256,
                "run {}: a stored artifact does not match its checksum (sha256 {sha256}, \
                 stored as {})",
                self.run,
                self.artifact.sha256
            );
            return Ok(None);
        }
        let chunk = self
            .store
            .artifact_chunk(&self.artifact.upload, self.seq)
            .await?
            .with_context(|| {
                format!(
                    "run {}: chunk {} of its artifact is missing (replaced while read?)",
                    self.run, self.seq
                )
            })?;
        self.seq += 1;
        self.read += chunk.len() as u64;
        self.hash.update(&chunk);
        anyhow::ensure!(
            self.read <= self.artifact.size,
            "run {}: a stored artifact is longer than its {} bytes",
            self.run,
            self.artifact.size
        );
        Ok(Some(chunk))
    }
}

impl ArtifactStore for Database {
    fn put<'a>(
        &'a self,
        run: &'a str,
        kind: Kind,
        source: &'a Path,
    ) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            let file = tokio::fs::File::open(source)
                .await
                .with_context(|| format!("reading {}", source.display()))?;
            self.store
                .put_artifact(run, kind.file_name(), tokio::io::BufReader::new(file))
                .await?;
            Ok(())
        })
    }

    fn fetch<'a>(
        &'a self,
        run: &'a str,
        kind: Kind,
        target: &'a Path,
    ) -> BoxFuture<'a, anyhow::Result<bool>> {
        Box::pin(async move {
            let Some(artifact) = self.store.artifact(run, kind.file_name()).await? else {
                return Ok(false);
            };
            let staging = staging_path(target, ".partial");
            let mut file = tokio::fs::File::create(&staging).await?;
            let mut reader = Reader::new(self.store.clone(), run, artifact);
            let written = async {
                while let Some(chunk) = reader.next().await? {
                    file.write_all(&chunk).await?;
                }
                file.sync_all().await?;
                anyhow::Ok(())
            }
            .await;
            if let Err(error) = written {
                let _ = tokio::fs::remove_file(&staging).await;
                return Err(error);
            }
            tokio::fs::rename(&staging, target).await?;
            Ok(true)
        })
    }

    fn download<'a>(
        &'a self,
        run: &'a str,
        kind: Kind,
    ) -> BoxFuture<'a, anyhow::Result<Option<Download>>> {
        Box::pin(async move {
            let Some(artifact) = self.store.artifact(run, kind.file_name()).await? else {
                return Ok(None);
            };
            let size = artifact.size;
            let reader = Reader::new(self.store.clone(), run, artifact);
            // The stream ends after the first error.
            let bytes = futures_util::stream::unfold(Some(reader), |reader| async move {
                let mut reader = reader?;
                match reader.next().await {
                    Ok(Some(chunk)) => Some((Ok(Bytes::from(chunk)), Some(reader))),
                    Ok(None) => None,
                    Err(error) => Some((Err(std::io::Error::other(format!("{error:#}"))), None)),
                }
            });
            // Fused: a body may be polled once more after its end.
            Ok(Some(Download::Stream {
                size,
                bytes: Box::pin(bytes.fuse()),
            }))
        })
    }

    fn delete<'a>(&'a self, run: &'a str, kind: Option<Kind>) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(self.store.delete_artifacts(run, kind.map(Kind::file_name)))
    }
}
