//! A run's files, its checkpoint while it trains and its weights once done, behind one
//! trait, so that any process of a lab can resume a run or serve its weights whichever
//! worker trained it. The embedded default keeps them as files in the state folder
//! ([`Files`]); a lab on PostgreSQL keeps them in the database ([`Database`]). Another
//! shared backend (an object store) is one more implementation of [`ArtifactStore`].

mod database;
mod files;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Bytes;
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;

pub use database::Database;
pub use files::Files;

/// Which of a run's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The state after the last finished epoch (weights, optimizer state, position), as
    /// one archive of the training checkpoint's folder.
    Checkpoint,
    /// The trained weights (safetensors).
    Weights,
}

impl Kind {
    /// The artifact's name in a run's folder, and its kind in the database.
    pub fn file_name(self) -> &'static str {
        match self {
            Self::Checkpoint => "checkpoint.tar",
            Self::Weights => "weights.safetensors",
        }
    }
}

/// An artifact to send: a file served as it is (with ranges), or a stream of its bytes.
pub enum Download {
    File(PathBuf),
    Stream {
        size: u64,
        bytes: BoxStream<'static, std::io::Result<Bytes>>,
    },
}

/// Where artifacts live. Every write is whole or invisible: a reader never sees part of
/// an upload, and an upload cut short leaves the previous artifact in place.
pub trait ArtifactStore: Send + Sync {
    /// Stores the file at `source` as run `run`'s `kind`, replacing the previous one.
    fn put<'a>(
        &'a self,
        run: &'a str,
        kind: Kind,
        source: &'a Path,
    ) -> BoxFuture<'a, anyhow::Result<()>>;

    /// Writes run `run`'s `kind` to `target` (whole, checksum checked, or not at all);
    /// false when there is none.
    fn fetch<'a>(
        &'a self,
        run: &'a str,
        kind: Kind,
        target: &'a Path,
    ) -> BoxFuture<'a, anyhow::Result<bool>>;

    /// Run `run`'s `kind` to send, if there is one.
    fn download<'a>(
        &'a self,
        run: &'a str,
        kind: Kind,
    ) -> BoxFuture<'a, anyhow::Result<Option<Download>>>;

    /// Removes run `run`'s `kind`, or all of its artifacts when `kind` is `None`.
    fn delete<'a>(&'a self, run: &'a str, kind: Option<Kind>) -> BoxFuture<'a, anyhow::Result<()>>;
}

/// The artifact store the processes of a lab share.
pub type Artifacts = Arc<dyn ArtifactStore>;

/// Which backend keeps the artifacts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// Files in the state folder: one machine, or folders every process mounts.
    Files,
    /// The store's database: every process that reaches the database reaches them.
    Database,
}

/// `path` with `suffix` appended to its file name: where a file is written before it is
/// renamed into place.
fn staging_path(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(suffix);
    path.with_file_name(name)
}

/// Archives the training checkpoint folder `folder` into `archive`.
fn pack(folder: &Path, archive: &Path) -> anyhow::Result<()> {
    let mut tar = tar::Builder::new(std::fs::File::create(archive)?);
    tar.append_dir_all(".", folder)?;
    tar.into_inner()?.sync_all()?;
    Ok(())
}

/// Stores the training checkpoint in `folder` (written whole by the core) as run `run`'s
/// checkpoint.
pub async fn put_checkpoint(
    artifacts: &dyn ArtifactStore,
    run: &str,
    folder: &Path,
) -> anyhow::Result<()> {
    let archive = staging_path(folder, ".tar");
    let packed = {
        let (folder, archive) = (folder.to_owned(), archive.clone());
        tokio::task::spawn_blocking(move || pack(&folder, &archive)).await?
    };
    let stored = match packed {
        Ok(()) => artifacts.put(run, Kind::Checkpoint, &archive).await,
        Err(error) => Err(error),
    };
    let _ = tokio::fs::remove_file(&archive).await;
    stored
}

/// Unpacks run `run`'s stored checkpoint into `folder` (emptied first), for training to
/// resume from; false, with `folder` left empty, when there is none.
pub async fn fetch_checkpoint(
    artifacts: &dyn ArtifactStore,
    run: &str,
    folder: &Path,
) -> anyhow::Result<bool> {
    let _ = tokio::fs::remove_dir_all(folder).await;
    tokio::fs::create_dir_all(folder).await?;
    let archive = staging_path(folder, ".tar");
    let found = artifacts.fetch(run, Kind::Checkpoint, &archive).await?;
    if found {
        let (folder, archive) = (folder.to_owned(), archive.clone());
        tokio::task::spawn_blocking(move || {
            tar::Archive::new(std::fs::File::open(&archive)?).unpack(&folder)
        })
        .await??;
    }
    let _ = tokio::fs::remove_file(&archive).await;
    Ok(found)
}

#[cfg(test)]
mod tests;
