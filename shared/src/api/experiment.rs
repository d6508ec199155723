//! One training run as a user asks for it: a dataset and a method, and overrides of the
//! dataset's preset where wanted.

use serde::{Deserialize, Serialize};

use crate::data::DatasetId;
use crate::method::Method;
use crate::model::Architecture;
use crate::train::{TrainConfig, TrainConfigError};

/// What to train. Fields left out take the dataset's preset (see [`TrainConfig::preset`]);
/// unknown fields are refused, so a misspelt override is an error, not a silent default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentSpec {
    pub dataset: DatasetId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<Architecture>,
    /// `natural`, `gr[:λ[:h]]`, `llr[:λ[:μ]]`, `at`, `rst:λ`, `trades:β`.
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub learning_rate: Option<f64>,
    /// Train on the first `n` training images only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subset: Option<usize>,
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
}

impl ExperimentSpec {
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
            learning_rate: None,
            subset: None,
            seed: 0,
            eval_train: None,
            curve: Vec::new(),
        }
    }

    /// The full training configuration: the preset with this spec's overrides, validated.
    pub fn train_config(&self) -> Result<TrainConfig, TrainConfigError> {
        let mut config = TrainConfig::preset(self.dataset, self.method);
        config.architecture = self.architecture.unwrap_or(config.architecture);
        config.dropout = self.dropout;
        config.epsilon = self.epsilon.unwrap_or(config.epsilon);
        config.epochs = self.epochs.unwrap_or(config.epochs);
        config.batch_size = self.batch_size.unwrap_or(config.batch_size);
        if let Some(lr) = self.learning_rate {
            config.optimizer = config.optimizer.with_learning_rate(lr);
        }
        config.subset = self.subset;
        config.seed = self.seed;
        config.validate()?;
        if let Some(bad) = self.curve.iter().find(|e| !(0.0..=1.0).contains(*e)) {
            return Err(TrainConfigError(format!(
                "curve radius {bad}: radii are in [0, 1] (pixel units)"
            )));
        }
        if self.curve.len() > 32 {
            return Err(TrainConfigError(format!(
                "{} curve radii: at most 32",
                self.curve.len()
            )));
        }
        if self.eval_train == Some(0) {
            return Err(TrainConfigError(
                "eval_train 0: evaluate at least one training image (leave it out for the default)"
                    .into(),
            ));
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::OptimizerSpec;

    fn parse(json: &str) -> Result<ExperimentSpec, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn left_out_fields_take_the_preset() {
        let spec = parse(r#"{"dataset": "fashion-mnist", "method": "trades:6"}"#).unwrap();
        assert_eq!(
            spec,
            ExperimentSpec::new(DatasetId::FashionMnist, Method::Trades { beta: 6.0 })
        );
        let config = spec.train_config().unwrap();
        assert_eq!(
            config,
            TrainConfig::preset(DatasetId::FashionMnist, Method::Trades { beta: 6.0 })
        );
    }

    #[test]
    fn overrides_reach_the_configuration() {
        let spec = parse(
            r#"{"dataset": "mnist", "architecture": "cnn1", "method": "rst:0.5", "dropout": 0.25,
                "epsilon": 0.2, "epochs": 3, "batch_size": 32, "learning_rate": 0.05,
                "subset": 100, "seed": 7}"#,
        )
        .unwrap();
        let config = spec.train_config().unwrap();
        assert_eq!(config.architecture, Architecture::Cnn1);
        assert_eq!(config.method, Method::Rst { lambda: 0.5 });
        assert_eq!((config.dropout, config.epsilon), (0.25, 0.2));
        assert_eq!((config.epochs, config.batch_size), (3, 32));
        assert!(matches!(config.optimizer, OptimizerSpec::Sgd { lr, .. } if lr == 0.05));
        assert_eq!((config.subset, config.seed), (Some(100), 7));
        // And back: the spec serializes with the same names.
        let again: ExperimentSpec =
            serde_json::from_str(&serde_json::to_string(&spec).unwrap()).unwrap();
        assert_eq!(again, spec);
    }

    #[test]
    fn bad_values_name_the_field() {
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

        let invalid = |edit: fn(&mut ExperimentSpec)| {
            let mut spec = ExperimentSpec::new(DatasetId::Mnist, Method::At);
            edit(&mut spec);
            spec.train_config().unwrap_err().to_string()
        };
        assert!(invalid(|s| s.dropout = 1.0).contains("dropout rate 1 must be in [0, 1)"));
        assert!(invalid(|s| s.epsilon = Some(0.0)).contains("ε = 0 must be in (0, 1]"));
        assert!(invalid(|s| s.epochs = Some(0)).contains("0 epochs"));
        assert!(invalid(|s| s.learning_rate = Some(f64::NAN)).contains("learning rate NaN"));
        assert!(invalid(|s| s.subset = Some(0)).contains("subset of 0"));
    }
}
