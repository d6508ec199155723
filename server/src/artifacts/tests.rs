//! Both backends against the same expectations: bytes come back as they went in, across
//! several chunks; a replaced artifact is replaced whole; an upload cut short (a failing
//! source, or the uploading process killed with SIGKILL) leaves the previous artifact
//! readable and nothing of its own; a changed byte in the database fails the read.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::pin::Pin;
use std::process::{Command, Stdio};
use std::task::{Context, Poll};

use futures_util::StreamExt;
use tokio::io::{AsyncRead, ReadBuf};

use super::*;
use crate::store::{CHUNK_BYTES, Store};

/// `len` bytes that differ from chunk to chunk and from `seed` to `seed`.
fn bytes(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[3] ^ seed)
        .collect()
}

async fn read_back(
    artifacts: &dyn ArtifactStore,
    run: &str,
    kind: Kind,
    dir: &Path,
) -> Option<Vec<u8>> {
    let target = dir.join("fetched");
    if !artifacts.fetch(run, kind, &target).await.unwrap() {
        return None;
    }
    let fetched = std::fs::read(&target).unwrap();
    let downloaded = match artifacts.download(run, kind).await.unwrap().unwrap() {
        Download::File(path) => std::fs::read(path).unwrap(),
        Download::Stream { size, bytes } => {
            let chunks: Vec<_> = bytes.collect().await;
            let all: Vec<u8> = chunks.into_iter().flat_map(|c| c.unwrap()).collect();
            assert_eq!(all.len() as u64, size);
            all
        }
    };
    assert_eq!(fetched, downloaded, "fetch and download disagree");
    Some(fetched)
}

/// Puts, replaces, reads back and deletes through `artifacts`.
async fn round_trip(artifacts: &dyn ArtifactStore, dir: &Path) {
    let source = dir.join("source");
    assert_eq!(read_back(artifacts, "r1", Kind::Weights, dir).await, None);
    for (len, seed) in [
        (2 * CHUNK_BYTES + 12_345, 1),
        (CHUNK_BYTES, 2),
        (0, 3),
        (17, 4),
    ] {
        let written = bytes(len, seed);
        std::fs::write(&source, &written).unwrap();
        artifacts
            .put("r1", Kind::Checkpoint, &source)
            .await
            .unwrap();
        assert_eq!(
            read_back(artifacts, "r1", Kind::Checkpoint, dir).await,
            Some(written),
            "{len} bytes"
        );
    }
    std::fs::write(&source, b"weights").unwrap();
    artifacts.put("r1", Kind::Weights, &source).await.unwrap();
    artifacts.put("r2", Kind::Weights, &source).await.unwrap();
    artifacts
        .delete("r1", Some(Kind::Checkpoint))
        .await
        .unwrap();
    assert_eq!(
        read_back(artifacts, "r1", Kind::Checkpoint, dir).await,
        None
    );
    assert_eq!(
        read_back(artifacts, "r1", Kind::Weights, dir).await,
        Some(b"weights".to_vec())
    );
    artifacts.delete("r1", None).await.unwrap();
    assert_eq!(read_back(artifacts, "r1", Kind::Weights, dir).await, None);
    // Another run's artifacts stay.
    assert_eq!(
        read_back(artifacts, "r2", Kind::Weights, dir).await,
        Some(b"weights".to_vec())
    );
    // Deleting what is not there is not an error.
    artifacts.delete("r1", None).await.unwrap();
}

#[tokio::test]
async fn files_keep_what_was_put() {
    let dir = tempfile::tempdir().unwrap();
    round_trip(&Files::new(dir.path()), dir.path()).await;
    // A failed put (a source that is not there) leaves the artifact before it.
    let files = Files::new(dir.path());
    assert!(
        files
            .put("r2", Kind::Weights, &dir.path().join("missing"))
            .await
            .is_err()
    );
    assert_eq!(
        read_back(&files, "r2", Kind::Weights, dir.path()).await,
        Some(b"weights".to_vec())
    );
}

#[tokio::test]
async fn the_database_keeps_what_was_put() {
    let dir = tempfile::tempdir().unwrap();
    let mut stores = vec![Store::open_in(dir.path()).await.unwrap()];
    if let Some(url) = crate::store::test_postgres("artifacts_round_trip").await {
        stores.push(Store::open(&url).await.unwrap());
    }
    for store in stores {
        round_trip(&Database::new(store.clone()), dir.path()).await;
        assert_eq!(store.orphan_artifact_chunks().await.unwrap(), 0);
    }
}

/// A source that yields `len` bytes and then fails.
struct FailingAfter {
    len: usize,
}

impl AsyncRead for FailingAfter {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.len == 0 {
            return Poll::Ready(Err(std::io::Error::other("the source broke")));
        }
        let n = self.len.min(buf.remaining());
        buf.put_slice(&vec![7; n]);
        self.len -= n;
        Poll::Ready(Ok(()))
    }
}

#[tokio::test]
async fn an_upload_whose_source_fails_leaves_the_previous_artifact() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).await.unwrap();
    let previous = bytes(CHUNK_BYTES + 5, 9);
    let before = store
        .put_artifact("r", "checkpoint.tar", previous.as_slice())
        .await
        .unwrap();
    let failed = store
        .put_artifact(
            "r",
            "checkpoint.tar",
            FailingAfter {
                len: 2 * CHUNK_BYTES + 1,
            },
        )
        .await;
    assert!(failed.is_err());
    assert_eq!(
        store.artifact("r", "checkpoint.tar").await.unwrap(),
        Some(before)
    );
    assert_eq!(store.orphan_artifact_chunks().await.unwrap(), 0);
    let database = Database::new(store);
    assert_eq!(
        read_back(&database, "r", Kind::Checkpoint, dir.path()).await,
        Some(previous)
    );
}

#[tokio::test]
async fn a_changed_byte_fails_the_read() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).await.unwrap();
    let stored = store
        .put_artifact(
            "r",
            "weights.safetensors",
            bytes(CHUNK_BYTES + 100, 1).as_slice(),
        )
        .await
        .unwrap();
    store
        .corrupt_artifact_chunk(&stored.upload, 1)
        .await
        .unwrap();
    let database = Database::new(store);
    let target = dir.path().join("fetched");
    let error = database
        .fetch("r", Kind::Weights, &target)
        .await
        .unwrap_err();
    assert!(
        format!("{error:#}").contains("does not match its checksum"),
        "{error:#}"
    );
    assert!(!target.exists(), "a failed fetch left a file");
    let Some(Download::Stream { bytes, .. }) = database.download("r", Kind::Weights).await.unwrap()
    else {
        panic!("no stream");
    };
    let chunks: Vec<_> = bytes.collect().await;
    assert!(
        chunks.last().unwrap().is_err(),
        "the stream ended without its error"
    );
}

/// A source that never ends, saying on standard output which chunk it starts.
struct Endless {
    given: usize,
}

impl AsyncRead for Endless {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.given.is_multiple_of(CHUNK_BYTES) {
            println!("reading chunk {}", self.given / CHUNK_BYTES);
        }
        let n = buf.remaining().min(CHUNK_BYTES - self.given % CHUNK_BYTES);
        buf.put_slice(&vec![1; n]);
        self.given += n;
        Poll::Ready(Ok(()))
    }
}

const CHILD_STORE: &str = "ASTUTE_TEST_UPLOADING_CHILD_STORE";

/// The process the next test kills: an upload to the store at `CHILD_STORE` that never
/// ends.
#[tokio::test]
#[ignore = "run in a child process by an_upload_killed_mid_artifact_leaves_the_previous_one"]
async fn uploading_child() {
    let url = std::env::var(CHILD_STORE).unwrap();
    let store = Store::open(&url).await.unwrap();
    let _ = store
        .put_artifact("r", "checkpoint.tar", Endless { given: 0 })
        .await;
}

/// Kills (SIGKILL) a process three chunks into an upload to the store at `url`, then
/// checks the artifact it was replacing.
async fn kill_mid_upload(url: &str, dir: &Path) {
    let store = Store::open(url).await.unwrap();
    let previous = bytes(CHUNK_BYTES / 2, 5);
    let before = store
        .put_artifact("r", "checkpoint.tar", previous.as_slice())
        .await
        .unwrap();
    store.close().await;
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "artifacts::tests::uploading_child",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .env(CHILD_STORE, url)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    for line in lines {
        let line = line.unwrap();
        seen.push(line.clone());
        if line == "reading chunk 3" {
            break;
        }
    }
    assert_eq!(
        seen.last().map(String::as_str),
        Some("reading chunk 3"),
        "{seen:?}"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    let store = Store::open(url).await.unwrap();
    assert_eq!(
        store.artifact("r", "checkpoint.tar").await.unwrap(),
        Some(before)
    );
    assert_eq!(store.orphan_artifact_chunks().await.unwrap(), 0);
    let database = Database::new(store);
    assert_eq!(
        read_back(&database, "r", Kind::Checkpoint, dir).await,
        Some(previous)
    );
}

#[tokio::test]
async fn an_upload_killed_mid_artifact_leaves_the_previous_one() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite:{}?mode=rwc", dir.path().join("astute.db").display());
    kill_mid_upload(&sqlite, dir.path()).await;
    if let Some(url) = crate::store::test_postgres("artifacts_kill").await {
        kill_mid_upload(&url, dir.path()).await;
    }
}

#[tokio::test]
async fn a_checkpoint_folder_comes_back_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let artifacts = Files::new(&dir.path().join("state"));
    let folder = dir.path().join("train");
    std::fs::create_dir_all(folder.join("checkpoint")).unwrap();
    std::fs::write(folder.join("checkpoint/model.bpk"), bytes(5_000, 1)).unwrap();
    std::fs::write(
        folder.join("checkpoint/position.json"),
        b"{\"epochs_done\": 2}",
    )
    .unwrap();
    put_checkpoint(&artifacts, "r", &folder).await.unwrap();
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::write(elsewhere.join("stale"), b"from before").unwrap();
    assert!(fetch_checkpoint(&artifacts, "r", &elsewhere).await.unwrap());
    assert_eq!(
        std::fs::read(elsewhere.join("checkpoint/model.bpk")).unwrap(),
        bytes(5_000, 1)
    );
    assert_eq!(
        std::fs::read(elsewhere.join("checkpoint/position.json")).unwrap(),
        b"{\"epochs_done\": 2}"
    );
    assert!(
        !elsewhere.join("stale").exists(),
        "the folder was not emptied first"
    );
    // No stored checkpoint: an empty folder.
    assert!(
        !fetch_checkpoint(&artifacts, "other", &elsewhere)
            .await
            .unwrap()
    );
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
}
