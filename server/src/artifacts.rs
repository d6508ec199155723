//! Where a run's files live under the state folder: its checkpoints while it trains and
//! its weights once done.

use std::path::{Path, PathBuf};

/// The trained weights' file in a run's folder.
const WEIGHTS_FILE: &str = "weights.safetensors";

/// Where run `id`'s files live.
pub fn run_dir(state_dir: &Path, id: &str) -> PathBuf {
    state_dir.join("runs").join(id)
}

/// Run `id`'s trained weights (safetensors), whether or not they exist.
pub fn weights_path(state_dir: &Path, id: &str) -> PathBuf {
    run_dir(state_dir, id).join(WEIGHTS_FILE)
}
