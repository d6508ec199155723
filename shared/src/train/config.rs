//! What a training run does, validated before anything runs, with the paper's presets.

use astute_api::{ExperimentSpec, Optimizer};

use crate::data::{Catalog, DatasetId};
use crate::method::Method;
use crate::model::Architecture;

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum OptimizerSpec {
    /// SGD with (PyTorch-style, undampened) momentum and L2 weight decay.
    Sgd {
        lr: f64,
        momentum: f64,
        weight_decay: f64,
    },
    Adam {
        lr: f64,
        weight_decay: f64,
    },
}

impl OptimizerSpec {
    pub fn learning_rate(&self) -> f64 {
        match *self {
            OptimizerSpec::Sgd { lr, .. } | OptimizerSpec::Adam { lr, .. } => lr,
        }
    }

    pub fn kind(&self) -> Optimizer {
        match self {
            OptimizerSpec::Sgd { .. } => Optimizer::Sgd,
            OptimizerSpec::Adam { .. } => Optimizer::Adam,
        }
    }

    /// This optimizer if it is of `kind`, else `kind` at its usual learning rate, with
    /// momentum 0.9 for SGD and this one's weight decay.
    pub fn switched_to(self, kind: Optimizer) -> Self {
        let weight_decay = match self {
            OptimizerSpec::Sgd { weight_decay, .. } | OptimizerSpec::Adam { weight_decay, .. } => {
                weight_decay
            }
        };
        if self.kind() == kind {
            return self;
        }
        match kind {
            Optimizer::Sgd => OptimizerSpec::Sgd {
                lr: kind.usual_learning_rate(),
                momentum: 0.9,
                weight_decay,
            },
            Optimizer::Adam => OptimizerSpec::Adam {
                lr: kind.usual_learning_rate(),
                weight_decay,
            },
        }
    }

    pub fn with_learning_rate(self, lr: f64) -> Self {
        match self {
            OptimizerSpec::Sgd {
                momentum,
                weight_decay,
                ..
            } => OptimizerSpec::Sgd {
                lr,
                momentum,
                weight_decay,
            },
            OptimizerSpec::Adam { weight_decay, .. } => OptimizerSpec::Adam { lr, weight_decay },
        }
    }
}

/// Data augmentation applied to training batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Augmentation {
    None,
    /// Random crop with 4 pixels of zero padding and random horizontal flip (CIFAR-10).
    CropFlip,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainConfig {
    pub architecture: Architecture,
    pub dropout: f64,
    pub method: Method,
    pub epsilon: f32,
    pub optimizer: OptimizerSpec,
    pub epochs: usize,
    pub batch_size: usize,
    /// Epochs (0-based) from which the learning rate is multiplied by `lr_decay` once more.
    pub milestones: Vec<usize>,
    pub lr_decay: f64,
    /// Epochs over which the learning rate and the method's regularisation weights rise
    /// linearly from 0 to their values, batch by batch (0 = none): it lets the
    /// cross-entropy term find a classifier before the regulariser pulls towards a flat
    /// one, and keeps a short schedule's large step from throwing the network into dead
    /// ReLUs (see `docs/methods.md`).
    #[serde(default)]
    pub warmup_epochs: usize,
    pub augmentation: Augmentation,
    pub seed: u64,
    /// Train on the first `n` images only (quick runs).
    pub subset: Option<usize>,
}

/// A training configuration that would make training meaningless or panic: the value,
/// and the range it must be in.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrainConfigError {
    #[error("invalid training configuration: learning rate {0} must be in (0, 10]")]
    LearningRate(f64),
    #[error("invalid training configuration: momentum {0} must be in [0, 1)")]
    Momentum(f64),
    #[error("invalid training configuration: weight decay {0} must be in [0, 1]")]
    WeightDecay(f64),
    #[error("invalid training configuration: dropout rate {0} must be in [0, 1)")]
    Dropout(f64),
    #[error("invalid training configuration: ε = {0} must be in (0, 1] (pixels are in [0, 1])")]
    Epsilon(f32),
    #[error("invalid training configuration: {0} epochs: choose 1 to 10000")]
    Epochs(usize),
    #[error("invalid training configuration: batch size {0} must be 1 to 65536")]
    BatchSize(usize),
    #[error("invalid training configuration: learning-rate decay {0} must be in (0, 1]")]
    LearningRateDecay(f64),
    #[error(
        "invalid training configuration: a warm-up of {warmup} epochs is longer than the {epochs} epochs of training"
    )]
    Warmup { warmup: usize, epochs: usize },
    #[error("invalid training configuration: a training subset of 0 images")]
    EmptySubset,
    #[error("invalid training configuration: {0}")]
    Network(#[from] crate::model::NetworkError),
    #[error("invalid training configuration: {0}")]
    Spec(#[from] astute_api::SpecError),
}

impl TrainConfig {
    /// The preset of `docs/methods.md` for a dataset (Fashion-MNIST, which the paper does not use,
    /// takes Adam 1e-3, the usual baseline for it), with the dataset's default architecture
    /// and ε.
    pub fn preset(dataset: DatasetId, method: Method) -> Self {
        let info = dataset.info();
        let sgd = |lr| OptimizerSpec::Sgd {
            lr,
            momentum: 0.9,
            weight_decay: 0.0,
        };
        let (optimizer, epochs, batch_size, milestones, augmentation) = match dataset {
            DatasetId::Mnist | DatasetId::MnistSample => (
                sgd(0.01),
                160,
                64,
                vec![40, 80, 120, 140],
                Augmentation::None,
            ),
            DatasetId::FashionMnist => (
                OptimizerSpec::Adam {
                    lr: 1e-3,
                    weight_decay: 0.0,
                },
                20,
                64,
                vec![],
                Augmentation::None,
            ),
            DatasetId::Svhn => (sgd(0.01), 60, 64, vec![30, 50], Augmentation::None),
            DatasetId::Cifar10 => (
                OptimizerSpec::Sgd {
                    lr: 0.1,
                    momentum: 0.9,
                    weight_decay: 2e-4,
                },
                120,
                64,
                vec![40, 80, 100],
                Augmentation::CropFlip,
            ),
            DatasetId::RestrictedImagenet => (
                OptimizerSpec::Adam {
                    lr: 1e-3,
                    weight_decay: 0.0,
                },
                70,
                128,
                vec![40, 60],
                Augmentation::None,
            ),
            DatasetId::Spiral => (
                OptimizerSpec::Adam {
                    lr: 1e-2,
                    weight_decay: 0.0,
                },
                200,
                64,
                vec![],
                Augmentation::None,
            ),
        };
        Self {
            architecture: info.architecture,
            dropout: 0.0,
            method,
            epsilon: info.epsilon,
            optimizer,
            epochs,
            batch_size,
            milestones,
            lr_decay: 0.1,
            warmup_epochs: 0,
            augmentation,
            seed: 0,
            subset: None,
        }
    }

    /// The learning rate during `epoch` (0-based).
    pub fn learning_rate(&self, epoch: usize) -> f64 {
        let decays = self.milestones.iter().filter(|&&m| epoch >= m).count();
        self.optimizer.learning_rate() * self.lr_decay.powi(decays as i32)
    }

    /// How far warm-up has come at `batch` (0-based) of `batches` in `epoch`: the factor in
    /// (0, 1] on the learning rate and the method's regularisation weights.
    pub fn warmup(&self, epoch: usize, batch: usize, batches: usize) -> f64 {
        if self.warmup_epochs == 0 {
            return 1.0;
        }
        let done = (epoch * batches + batch + 1) as f64;
        (done / (self.warmup_epochs * batches) as f64).min(1.0)
    }

    /// Rejects every value that would make training meaningless or panic.
    pub fn validate(&self) -> Result<(), TrainConfigError> {
        use TrainConfigError as E;
        let lr = self.optimizer.learning_rate();
        if !(lr.is_finite() && lr > 0.0 && lr <= 10.0) {
            return Err(E::LearningRate(lr));
        }
        if let OptimizerSpec::Sgd {
            momentum,
            weight_decay,
            ..
        } = self.optimizer
        {
            if !(0.0..1.0).contains(&momentum) {
                return Err(E::Momentum(momentum));
            }
            if !(0.0..=1.0).contains(&weight_decay) {
                return Err(E::WeightDecay(weight_decay));
            }
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(E::Dropout(self.dropout));
        }
        if !(self.epsilon.is_finite() && self.epsilon > 0.0 && self.epsilon <= 1.0) {
            return Err(E::Epsilon(self.epsilon));
        }
        if self.epochs == 0 || self.epochs > 10_000 {
            return Err(E::Epochs(self.epochs));
        }
        if self.batch_size == 0 || self.batch_size > 65_536 {
            return Err(E::BatchSize(self.batch_size));
        }
        if !(self.lr_decay.is_finite() && self.lr_decay > 0.0 && self.lr_decay <= 1.0) {
            return Err(E::LearningRateDecay(self.lr_decay));
        }
        if self.warmup_epochs > self.epochs {
            return Err(E::Warmup {
                warmup: self.warmup_epochs,
                epochs: self.epochs,
            });
        }
        if self.subset == Some(0) {
            return Err(E::EmptySubset);
        }
        Ok(())
    }

    /// The dataset's preset with `spec`'s overrides, validated.
    pub fn from_spec(spec: &ExperimentSpec) -> Result<Self, TrainConfigError> {
        let mut config = Self::preset(spec.dataset, spec.method);
        config.architecture = spec.architecture.unwrap_or(config.architecture);
        config.dropout = spec.dropout;
        config.epsilon = spec.epsilon.unwrap_or(config.epsilon);
        config.epochs = spec.epochs.unwrap_or(config.epochs);
        config.batch_size = spec.batch_size.unwrap_or(config.batch_size);
        if let Some(kind) = spec.optimizer {
            config.optimizer = config.optimizer.switched_to(kind);
        }
        if let Some(lr) = spec.learning_rate {
            config.optimizer = config.optimizer.with_learning_rate(lr);
        }
        config.warmup_epochs = spec.warmup_epochs.unwrap_or(config.warmup_epochs);
        config.subset = spec.subset;
        config.seed = spec.seed;
        config.validate()?;
        spec.validate()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_schedule_decays_at_each_milestone() {
        let c = TrainConfig::preset(DatasetId::Mnist, Method::Natural);
        assert_eq!(c.learning_rate(0), 0.01);
        assert_eq!(c.learning_rate(39), 0.01);
        assert!((c.learning_rate(40) - 0.001).abs() < 1e-12);
        assert!((c.learning_rate(159) - 0.01 * 1e-4).abs() < 1e-15);
    }

    #[test]
    fn a_switched_optimizer_starts_from_its_usual_rate_and_keeps_the_weight_decay() {
        let cifar = TrainConfig::preset(DatasetId::Cifar10, Method::At).optimizer;
        assert_eq!(cifar.switched_to(Optimizer::Sgd), cifar);
        assert_eq!(
            cifar.switched_to(Optimizer::Adam),
            OptimizerSpec::Adam {
                lr: 1e-3,
                weight_decay: 2e-4
            }
        );
        let fashion = TrainConfig::preset(DatasetId::FashionMnist, Method::At).optimizer;
        assert_eq!(
            fashion.switched_to(Optimizer::Sgd),
            OptimizerSpec::Sgd {
                lr: 0.01,
                momentum: 0.9,
                weight_decay: 0.0
            }
        );
    }

    #[test]
    fn warmup_rises_linearly_batch_by_batch_then_holds() {
        let mut c = TrainConfig::preset(DatasetId::Mnist, Method::At);
        assert_eq!(c.warmup(0, 0, 10), 1.0);
        c.warmup_epochs = 2;
        // 20 batches of warm-up: the k-th batch (1-based) runs at k/20.
        assert_eq!(c.warmup(0, 0, 10), 1.0 / 20.0);
        assert_eq!(c.warmup(0, 9, 10), 10.0 / 20.0);
        assert_eq!(c.warmup(1, 4, 10), 15.0 / 20.0);
        assert_eq!(c.warmup(1, 9, 10), 1.0);
        assert_eq!(c.warmup(5, 0, 10), 1.0);
        c.epochs = 1;
        assert_eq!(
            c.validate(),
            Err(TrainConfigError::Warmup {
                warmup: 2,
                epochs: 1
            })
        );
    }

    #[test]
    fn validation_names_the_bad_value() {
        let mut c = TrainConfig::preset(DatasetId::FashionMnist, Method::Natural);
        c.epsilon = 2.0;
        assert!(c.validate().unwrap_err().to_string().contains("ε = 2"));
        c.epsilon = 0.1;
        c.dropout = 1.0;
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("dropout rate 1")
        );
        c.dropout = 0.5;
        c.batch_size = 0;
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("batch size 0")
        );
    }

    #[test]
    fn config_round_trips_through_json() {
        let c = TrainConfig::preset(DatasetId::Cifar10, Method::Trades { beta: 6.0 });
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<TrainConfig>(&json).unwrap(), c);
    }

    fn parse(json: &str) -> ExperimentSpec {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn left_out_fields_take_the_preset() {
        let spec = parse(r#"{"dataset": "fashion-mnist", "method": "trades:6"}"#);
        assert_eq!(
            spec,
            ExperimentSpec::new(DatasetId::FashionMnist, Method::Trades { beta: 6.0 })
        );
        assert_eq!(
            TrainConfig::from_spec(&spec).unwrap(),
            TrainConfig::preset(DatasetId::FashionMnist, Method::Trades { beta: 6.0 })
        );
    }

    #[test]
    fn overrides_reach_the_configuration() {
        let spec = parse(
            r#"{"dataset": "mnist", "architecture": "cnn1", "method": "rst:0.5", "dropout": 0.25,
                "epsilon": 0.2, "epochs": 3, "batch_size": 32, "learning_rate": 0.05,
                "subset": 100, "seed": 7, "warmup_epochs": 1}"#,
        );
        let config = TrainConfig::from_spec(&spec).unwrap();
        assert!(matches!(config.optimizer, OptimizerSpec::Sgd { lr, .. } if lr == 0.05));
        let spec = parse(
            r#"{"dataset": "mnist", "architecture": "cnn1", "method": "rst:0.5", "dropout": 0.25,
                "epsilon": 0.2, "epochs": 3, "batch_size": 32, "learning_rate": 0.05,
                "subset": 100, "seed": 7, "warmup_epochs": 1, "optimizer": "adam"}"#,
        );
        let config = TrainConfig::from_spec(&spec).unwrap();
        assert_eq!(config.architecture, Architecture::Cnn1);
        assert_eq!(config.method, Method::Rst { lambda: 0.5 });
        assert_eq!((config.dropout, config.epsilon), (0.25, 0.2));
        assert_eq!((config.epochs, config.batch_size), (3, 32));
        assert_eq!(
            config.optimizer,
            OptimizerSpec::Adam {
                lr: 0.05,
                weight_decay: 0.0
            }
        );
        assert_eq!((config.subset, config.seed), (Some(100), 7));
        assert_eq!(config.warmup_epochs, 1);
        // And back: the spec serializes with the same names.
        let again: ExperimentSpec =
            serde_json::from_str(&serde_json::to_string(&spec).unwrap()).unwrap();
        assert_eq!(again, spec);
    }

    #[test]
    fn bad_overrides_name_the_value() {
        let invalid = |edit: fn(&mut ExperimentSpec)| {
            let mut spec = ExperimentSpec::new(DatasetId::Mnist, Method::At);
            edit(&mut spec);
            TrainConfig::from_spec(&spec).unwrap_err()
        };
        assert_eq!(invalid(|s| s.dropout = 1.0), TrainConfigError::Dropout(1.0));
        assert!(
            invalid(|s| s.dropout = 1.0)
                .to_string()
                .contains("dropout rate 1 must be in [0, 1)")
        );
        assert!(
            invalid(|s| s.epsilon = Some(0.0))
                .to_string()
                .contains("ε = 0 must be in (0, 1]")
        );
        assert_eq!(invalid(|s| s.epochs = Some(0)), TrainConfigError::Epochs(0));
        assert!(
            matches!(invalid(|s| s.learning_rate = Some(f64::NAN)), TrainConfigError::LearningRate(lr) if lr.is_nan())
        );
        assert_eq!(
            invalid(|s| s.subset = Some(0)),
            TrainConfigError::EmptySubset
        );
        assert_eq!(
            invalid(|s| s.curve = vec![2.0]),
            TrainConfigError::Spec(astute_api::SpecError::CurveRadius(2.0))
        );
    }
}
