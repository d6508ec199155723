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

/// A checkpoint that could not be written or read back, with the file and the cause.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("checkpoint: {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("checkpoint: {}: not a checkpoint position file: {source}", .path.display())]
    Position {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// burn's stores report their failures as text.
    #[error("checkpoint: {}: {message}", .path.display())]
    Store { path: PathBuf, message: String },
    #[error("checkpoint: {} holds a checkpoint of a different configuration; use another folder", .0.display())]
    OtherConfiguration(PathBuf),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CheckpointError + '_ {
    move |source| CheckpointError::Io {
        path: path.to_owned(),
        source,
    }
}

fn store(path: &Path) -> impl FnOnce(String) -> CheckpointError + '_ {
    move |message| CheckpointError::Store {
        path: path.to_owned(),
        message,
    }
}

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
    ) -> Result<(), CheckpointError> {
        let staging = dir.join("checkpoint.partial");
        let _ = fs::remove_dir_all(&staging);
        fs::create_dir_all(&staging).map_err(io(&staging))?;
        let model_file = staging.join(MODEL_FILE);
        let mut burnpack = BurnpackStore::from_file(&model_file).overwrite(true);
        model
            .save_into(&mut burnpack)
            .map_err(|e| store(&model_file)(e.to_string()))?;
        let optimizer_file = staging.join(OPTIMIZER_FILE);
        optimizer
            .save(&optimizer_file)
            .map_err(|e| store(&optimizer_file)(format!("{e:?}")))?;
        let position_file = staging.join(POSITION_FILE);
        let position =
            serde_json::to_vec_pretty(self).map_err(|source| CheckpointError::Position {
                path: position_file.clone(),
                source,
            })?;
        fs::write(&position_file, position).map_err(io(&position_file))?;
        let target = Self::folder(dir);
        let _ = fs::remove_dir_all(&target);
        fs::rename(&staging, &target).map_err(io(&target))
    }

    /// Reads the position, if a checkpoint exists under `dir`.
    pub fn read(dir: &Path) -> Result<Option<Self>, CheckpointError> {
        let path = Self::folder(dir).join(POSITION_FILE);
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|source| CheckpointError::Position { path, source }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(&path)(e)),
        }
    }

    /// Restores weights and optimizer state into freshly built `model` and `optimizer`.
    pub fn restore(
        dir: &Path,
        model: &mut Network,
        optimizer: ModuleOptimizer,
    ) -> Result<ModuleOptimizer, CheckpointError> {
        let folder = Self::folder(dir);
        let model_file = folder.join(MODEL_FILE);
        let mut burnpack = BurnpackStore::from_file(&model_file);
        model
            .load_from(&mut burnpack)
            .map_err(|e| store(&model_file)(e.to_string()))?;
        let optimizer_file = folder.join(OPTIMIZER_FILE);
        optimizer
            .load(&optimizer_file)
            .map_err(|e| store(&optimizer_file)(format!("{e:?}")))
    }
}
