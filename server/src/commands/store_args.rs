//! Where the store lives: the options `serve`, `worker` and `token` share.

use std::path::PathBuf;
use std::sync::Arc;

use crate::artifacts::{self, Artifacts};
use crate::store::{Dialect, Store};

#[derive(Debug, Clone, clap::Args)]
pub struct StoreArgs {
    /// Folder for the embedded database, run checkpoints and weights
    /// [default: $XDG_DATA_HOME/astute or ~/.local/share/astute].
    #[arg(long, env = "ASTUTE_STATE_DIR")]
    pub state_dir: Option<PathBuf>,
    /// A shared database instead of the embedded one: postgres://USER@HOST/DB (or sqlite:PATH).
    #[arg(long, env = "ASTUTE_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Where run checkpoints and weights are kept: `files` in the state folder, or
    /// `database` in the store's database, where every process of a lab reaches them
    /// [default: database with PostgreSQL, files with the embedded database].
    #[arg(long, value_enum, env = "ASTUTE_ARTIFACTS")]
    pub artifacts: Option<artifacts::Backend>,
}

impl StoreArgs {
    pub fn state_dir(&self) -> PathBuf {
        if let Some(dir) = &self.state_dir {
            return dir.clone();
        }
        let data_home = std::env::var_os("XDG_DATA_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")));
        data_home.map_or_else(|| PathBuf::from("astute-state"), |d| d.join("astute"))
    }

    /// The artifact store of the lab whose database `store` is.
    pub fn artifacts(&self, store: &Store) -> Artifacts {
        let backend = self.artifacts.unwrap_or(match store.dialect() {
            Dialect::Postgres => artifacts::Backend::Database,
            Dialect::Sqlite => artifacts::Backend::Files,
        });
        match backend {
            artifacts::Backend::Files => Arc::new(artifacts::Files::new(&self.state_dir())),
            artifacts::Backend::Database => Arc::new(artifacts::Database::new(store.clone())),
        }
    }

    pub async fn open(&self) -> anyhow::Result<Store> {
        match &self.database_url {
            Some(url) => Store::open(url).await,
            None => Store::open_in(&self.state_dir()).await,
        }
    }
}

/// Runs `write` on the store of `args`, from a command that has no runtime of its own.
pub fn record(
    args: &StoreArgs,
    write: impl AsyncFnOnce(&Store) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let store = args.open().await?;
        let written = write(&store).await;
        store.close().await;
        written
    })
}
