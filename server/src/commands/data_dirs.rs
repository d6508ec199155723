//! The `--data-dir` option every command that reads a dataset shares.

use std::path::PathBuf;

use astute::data::{DataDirs, DatasetId, Split};

#[derive(Debug, Clone, clap::Args)]
pub struct DataArgs {
    /// Folder holding one sub-folder per dataset (searched before $ASTUTE_DATA_DIR, the
    /// data Astute ships and /usr/share/datasets).
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
}

impl DataArgs {
    pub fn dirs(&self) -> DataDirs {
        DataDirs::new(self.data_dir.as_deref())
    }

    pub fn load(&self, id: DatasetId) -> anyhow::Result<Split> {
        Ok(astute::data::load(id, &self.dirs())?)
    }
}
