//! The state after an epoch: weights, optimizer state and position. Written to a fresh
//! folder and renamed into place, so a crash mid-write never leaves a broken checkpoint.

use std::fs;
use std::path::{Path, PathBuf};

use burn::optim::ModuleOptimizer;
use burn::store::{BurnpackStore, ModuleSnapshot};

use super::TrainConfig;
use crate::model::Network;

const MODEL_FILE: &str = "model.bpk";
const OPTIMIZER_FILE: &str = "optimizer.bpk";
const POSITION_FILE: &str = "position.json";

/// Where training stands: the configuration it runs and the last finished epoch.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Checkpoint {
    pub config: TrainConfig,
    /// Epochs finished (the next epoch to run, 0-based).
    pub epochs_done: usize,
    pub mean_losses: Vec<f64>,
}

impl Checkpoint {
    fn folder(dir: &Path) -> PathBuf {
        dir.join("checkpoint")
    }

    /// Writes the checkpoint under `dir/checkpoint`, replacing the previous one.
    /// The burnpack format keeps parameter ids, which the optimizer state is keyed by.
    pub fn save(
        &self,
        dir: &Path,
        model: &Network,
        optimizer: &ModuleOptimizer,
    ) -> Result<(), String> {
        let staging = dir.join("checkpoint.partial");
        let _ = fs::remove_dir_all(&staging);
        fs::create_dir_all(&staging).map_err(|e| format!("{}: {e}", staging.display()))?;
        let mut store = BurnpackStore::from_file(staging.join(MODEL_FILE)).overwrite(true);
        model
            .save_into(&mut store)
            .map_err(|e| format!("saving the model checkpoint: {e}"))?;
        optimizer
            .save(staging.join(OPTIMIZER_FILE))
            .map_err(|e| format!("saving the optimizer checkpoint: {e:?}"))?;
        let position = serde_json::to_vec_pretty(self).map_err(|e| e.to_string())?;
        fs::write(staging.join(POSITION_FILE), position)
            .map_err(|e| format!("{}: {e}", staging.display()))?;
        let target = Self::folder(dir);
        let _ = fs::remove_dir_all(&target);
        fs::rename(&staging, &target).map_err(|e| format!("{}: {e}", target.display()))
    }

    /// Reads the position, if a checkpoint exists under `dir`.
    pub fn read(dir: &Path) -> Result<Option<Self>, String> {
        let path = Self::folder(dir).join(POSITION_FILE);
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| format!("{}: not a checkpoint position file: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// Restores weights and optimizer state into freshly built `model` and `optimizer`.
    pub fn restore(
        dir: &Path,
        model: &mut Network,
        optimizer: ModuleOptimizer,
    ) -> Result<ModuleOptimizer, String> {
        let folder = Self::folder(dir);
        let mut store = BurnpackStore::from_file(folder.join(MODEL_FILE));
        model
            .load_from(&mut store)
            .map_err(|e| format!("{}: {e}", folder.join(MODEL_FILE).display()))?;
        optimizer
            .load(folder.join(OPTIMIZER_FILE))
            .map_err(|e| format!("{}: {e:?}", folder.join(OPTIMIZER_FILE).display()))
    }
}
