//! Artifacts as files in the state folder, at `runs/ID/NAME`: written beside their place
//! and renamed into it, so a process killed mid-write leaves the previous file whole.

use std::path::{Path, PathBuf};

use futures_util::future::BoxFuture;

use super::{ArtifactStore, Download, Kind, staging_path};

/// The embedded default: artifacts under one state folder.
pub struct Files {
    state_dir: PathBuf,
}

impl Files {
    pub fn new(state_dir: &Path) -> Self {
        Self {
            state_dir: state_dir.to_owned(),
        }
    }

    fn run_dir(&self, run: &str) -> PathBuf {
        self.state_dir.join("runs").join(run)
    }

    fn path(&self, run: &str, kind: Kind) -> PathBuf {
        self.run_dir(run).join(kind.file_name())
    }
}

/// Copies `from` to `to` through a staging file renamed into place.
async fn copy_whole(from: &Path, to: &Path) -> anyhow::Result<()> {
    if let Some(dir) = to.parent() {
        tokio::fs::create_dir_all(dir).await?;
    }
    let staging = staging_path(to, ".partial");
    tokio::fs::copy(from, &staging).await?;
    tokio::fs::File::open(&staging).await?.sync_all().await?;
    tokio::fs::rename(&staging, to).await?;
    Ok(())
}

impl ArtifactStore for Files {
    fn put<'a>(
        &'a self,
        run: &'a str,
        kind: Kind,
        source: &'a Path,
    ) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move { copy_whole(source, &self.path(run, kind)).await })
    }

    fn fetch<'a>(
        &'a self,
        run: &'a str,
        kind: Kind,
        target: &'a Path,
    ) -> BoxFuture<'a, anyhow::Result<bool>> {
        Box::pin(async move {
            let path = self.path(run, kind);
            if !tokio::fs::try_exists(&path).await? {
                return Ok(false);
            }
            copy_whole(&path, target).await?;
            Ok(true)
        })
    }

    fn download<'a>(
        &'a self,
        run: &'a str,
        kind: Kind,
    ) -> BoxFuture<'a, anyhow::Result<Option<Download>>> {
        Box::pin(async move {
            let path = self.path(run, kind);
            let is_file = tokio::fs::metadata(&path).await.is_ok_and(|m| m.is_file());
            Ok(is_file.then_some(Download::File(path)))
        })
    }

    fn delete<'a>(&'a self, run: &'a str, kind: Option<Kind>) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            let removed = match kind {
                Some(kind) => tokio::fs::remove_file(self.path(run, kind)).await,
                None => tokio::fs::remove_dir_all(self.run_dir(run)).await,
            };
            match removed {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
                _ => Ok(()),
            }
        })
    }
}
