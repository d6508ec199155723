//! What a user asks for: a training run (a dataset, a method, and overrides of the
//! dataset's preset where wanted) or a separation measurement.

use crate::{Architecture, AttackName, DatasetId, Method, Metric, Optimizer};

/// The most radii one accuracy-vs-ε curve may ask for.
pub const MAX_CURVE_RADII: usize = 32;
/// The most further attacks one spec may ask for.
pub const MAX_ATTACKS: usize = 8;

/// What to train. Fields left out take the dataset's preset (the core's `TrainConfig::preset`);
/// unknown fields are refused, so a misspelt override is an error, not a silent default.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ExperimentSpec {
    pub dataset: DatasetId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<Architecture>,
    /// `natural`, `gr[:λ[:h]]`, `llr[:λ[:μ]]`, `llr-ref[:λ]`, `at`, `rst:λ`, `trades:β`.
    pub method: Method,
    /// Rate where the architecture places dropout; 0 = none.
    #[serde(default)]
    pub dropout: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epsilon: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epochs: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<usize>,
    /// `sgd` or `adam` instead of the preset's optimizer: a switch to the other kind starts
    /// at its usual rate (0.01 or 1e-3) unless `learning_rate` says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optimizer: Option<Optimizer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub learning_rate: Option<f64>,
    /// Train on the first `n` training images only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subset: Option<usize>,
    /// Epochs over which the learning rate and the method's regularisation weights rise
    /// from 0 to their values (0 = none, the preset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup_epochs: Option<usize>,
    #[serde(default)]
    pub seed: u64,
    /// Training images evaluated after training (the first `n`): attacking every
    /// training image costs as much as several epochs. Left out: the worker's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eval_train: Option<usize>,
    /// Radii at which to measure test accuracy under PGD-10 after training (accuracy as a
    /// function of ε); none when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub curve: Vec<f32>,
    /// Attacks measured on the test set after training, beside the paper's PGD-10 (for
    /// example `autoattack`); none when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attacks: Vec<AttackName>,
    /// The test images `attacks` and the gradient-masking checks run on (the first `n`);
    /// when left out, all of them with `attacks`, else the first
    /// [`MASKING_IMAGES`](ExperimentSpec::MASKING_IMAGES).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attack_images: Option<usize>,
}

/// A spec asks for something that cannot be measured.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpecError {
    #[error("curve radius {0}: radii are in [0, 1] (pixel units)")]
    CurveRadius(f32),
    #[error("{0} curve radii: at most {MAX_CURVE_RADII}")]
    TooManyRadii(usize),
    #[error("eval_train 0: evaluate at least one training image (leave it out for the default)")]
    NoTrainImages,
    #[error("attack_images 0: attack at least one test image (leave it out for all)")]
    NoAttackImages,
    #[error("{0} attacks: at most {MAX_ATTACKS}")]
    TooManyAttacks(usize),
}

impl ExperimentSpec {
    /// The test images the masking checks run on when nothing else says.
    pub const MASKING_IMAGES: usize = 1000;

    /// The first test images the further attacks and the masking checks run on (`None`:
    /// all of them).
    pub fn attacked_images(&self) -> Option<usize> {
        match self.attack_images {
            Some(n) => Some(n),
            None if self.attacks.is_empty() => Some(Self::MASKING_IMAGES),
            None => None,
        }
    }

    /// The dataset's preset for `method` and nothing overridden.
    pub fn new(dataset: DatasetId, method: Method) -> Self {
        Self {
            dataset,
            architecture: None,
            method,
            dropout: 0.0,
            epsilon: None,
            epochs: None,
            batch_size: None,
            optimizer: None,
            learning_rate: None,
            subset: None,
            warmup_epochs: None,
            seed: 0,
            eval_train: None,
            curve: Vec::new(),
            attacks: Vec::new(),
            attack_images: None,
        }
    }

    /// Checks what the spec asks beyond the training configuration (the core checks that,
    /// against the dataset's preset): the curve's radii and the training images evaluated.
    pub fn validate(&self) -> Result<(), SpecError> {
        if let Some(&bad) = self.curve.iter().find(|e| !(0.0..=1.0).contains(*e)) {
            return Err(SpecError::CurveRadius(bad));
        }
        if self.curve.len() > MAX_CURVE_RADII {
            return Err(SpecError::TooManyRadii(self.curve.len()));
        }
        if self.eval_train == Some(0) {
            return Err(SpecError::NoTrainImages);
        }
        if self.attack_images == Some(0) {
            return Err(SpecError::NoAttackImages);
        }
        if self.attacks.len() > MAX_ATTACKS {
            return Err(SpecError::TooManyAttacks(self.attacks.len()));
        }
        Ok(())
    }
}

/// Measure how separated `dataset`'s classes are: Train–Train and Test–Train nearest
/// other-class distances in `metric` (ℓ∞ by default, the paper's).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SeparationSpec {
    pub dataset: DatasetId,
    #[serde(default)]
    pub metric: Metric,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<ExperimentSpec, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn unknown_fields_and_bad_names_are_refused() {
        let error = |json: &str| parse(json).unwrap_err();
        assert!(error(r#"{"dataset": "mnist", "method": "trades:-1"}"#).contains("'-1'"));
        assert!(
            error(r#"{"dataset": "emnist", "method": "at"}"#).contains("unknown dataset 'emnist'")
        );
        assert!(
            error(r#"{"dataset": "mnist", "method": "at", "epoch": 3}"#)
                .contains("unknown field `epoch`")
        );
        assert!(
            error(r#"{"dataset": "mnist", "architecture": "wrn-11-2", "method": "at"}"#)
                .contains("6n + 4")
        );
    }

    #[test]
    fn curve_and_training_images_are_checked() {
        let mut spec = ExperimentSpec::new(DatasetId::Mnist, Method::At);
        assert_eq!(spec.validate(), Ok(()));
        spec.curve = vec![0.1, 1.5];
        assert_eq!(spec.validate(), Err(SpecError::CurveRadius(1.5)));
        spec.curve = vec![0.1; 33];
        assert_eq!(spec.validate(), Err(SpecError::TooManyRadii(33)));
        spec.curve.clear();
        spec.eval_train = Some(0);
        assert_eq!(spec.validate(), Err(SpecError::NoTrainImages));
        spec.eval_train = None;
        spec.attack_images = Some(0);
        assert_eq!(spec.validate(), Err(SpecError::NoAttackImages));
        spec.attack_images = Some(1000);
        spec.attacks = vec![crate::AttackName::AutoAttack; 9];
        assert_eq!(spec.validate(), Err(SpecError::TooManyAttacks(9)));
    }

    #[test]
    fn metric_defaults_to_linf_and_unknown_fields_are_refused() {
        let spec: SeparationSpec = serde_json::from_str(r#"{"dataset": "mnist"}"#).unwrap();
        assert_eq!(
            (spec.dataset, spec.metric),
            (DatasetId::Mnist, Metric::Linf)
        );
        let spec: SeparationSpec =
            serde_json::from_str(r#"{"dataset": "spiral", "metric": "l2"}"#).unwrap();
        assert_eq!(spec.metric, Metric::L2);
        let error = serde_json::from_str::<SeparationSpec>(r#"{"dataset": "mnist", "k": 3}"#)
            .unwrap_err()
            .to_string();
        assert!(error.contains("unknown field `k`"), "{error}");
        assert!(serde_json::from_str::<SeparationSpec>(r#"{"dataset": "x"}"#).is_err());
    }
}
