//! What a run measures: accuracies, robustness and the local Lipschitz constant on each
//! set, the gaps between them, and who measured it how.

use crate::{
    Architecture, AttackName, DatasetId, MaskingCheck, MaskingFlag, Method, RobustEvaluation,
};

/// Accuracies in percent and the mean local Lipschitz estimate over one set.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetEvaluation {
    pub accuracy: f64,
    pub adversarial_accuracy: f64,
    pub lipschitz: f64,
    pub images: usize,
}

/// A row of the paper's Tables 2–4: both sets evaluated, and the gaps between them.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunMetrics {
    pub train: SetEvaluation,
    pub test: SetEvaluation,
    /// train accuracy − test accuracy, percentage points.
    pub gap: f64,
    /// adversarial train accuracy − adversarial test accuracy, percentage points.
    pub adv_gap: f64,
}

impl RunMetrics {
    pub fn new(train: SetEvaluation, test: SetEvaluation) -> Self {
        Self {
            train,
            test,
            gap: train.accuracy - test.accuracy,
            adv_gap: train.adversarial_accuracy - test.adversarial_accuracy,
        }
    }
}

/// A finished run's result: what was trained, what it measured, and how long it took.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunResult {
    pub dataset: DatasetId,
    pub architecture: Architecture,
    pub method: Method,
    pub dropout: f64,
    pub epsilon: f32,
    pub epochs: usize,
    pub metrics: RunMetrics,
    pub train_seconds: f64,
    pub wall_seconds: f64,
    /// Test accuracy (%) under PGD-10 at each ε, when asked for: `[ε, accuracy]` pairs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Vec<f64>>))]
    pub accuracy_vs_epsilon: Vec<(f32, f64)>,
    /// Test accuracies under further attacks (APGD, AutoAttack, …), added when the run was
    /// evaluated with them, at training or later.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub robust: Vec<RobustEvaluation>,
    /// The gradient-masking checks of the latest evaluation that ran them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub masking: Vec<MaskingFlag>,
}

impl RunResult {
    /// The test accuracy under `attack` at the run's radius, the latest measured on the
    /// most images.
    pub fn robust_accuracy(&self, attack: AttackName) -> Option<&RobustEvaluation> {
        self.robust
            .iter()
            .filter(|r| r.attack == attack && r.epsilon == self.epsilon)
            .max_by_key(|r| r.images)
    }

    /// Records `evaluations`, each replacing an earlier one of the same measurement, and
    /// the masking checks that ran, each replacing the earlier result of the same check (a
    /// quick evaluation keeps the flags a full one raised for checks it did not run).
    pub fn add_robust(&mut self, evaluations: &[RobustEvaluation], masking: Vec<MaskingFlag>) {
        for new in evaluations {
            self.robust.retain(|old| !old.same_measurement(new));
            self.robust.push(*new);
        }
        for new in masking {
            self.masking.retain(|old| old.check != new.check);
            self.masking.push(new);
        }
    }

    /// The names of the masking checks that raised a flag.
    pub fn masking_raised(&self) -> Vec<MaskingCheck> {
        self.masking
            .iter()
            .filter(|flag| flag.raised)
            .map(|flag| flag.check)
            .collect()
    }
}

/// Who made a result and how: shown beside every measured number.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Provenance {
    /// The command line, without what is private to the machine that ran it.
    pub command: String,
    pub version: String,
    pub commit: String,
    /// The compute backend (`cpu`, `cuda`, `wgpu`).
    pub backend: String,
}
