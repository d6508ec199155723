//! The most one run may cost on a server. A spec is measured against it before it is
//! queued and again before a worker builds anything, so that no request can ask for a
//! network that does not fit in memory or a run that would take months.

use astute_api::{Architecture, DatasetId, ExperimentSpec};

use crate::data::Catalog;
use crate::method::{Method, MethodContext};
use crate::metric::masking::QUICK_PASSES_PER_IMAGE;
use crate::model::{NetworkConfig, NetworkSize};
use crate::train::{TrainConfig, TrainConfigError};

/// Limits on one run, each an estimate made from the spec alone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    /// Trainable parameters of the network.
    pub max_parameters: u64,
    /// Arithmetic of training and evaluation together, in PFLOP (10¹⁵).
    pub max_petaflop: f64,
    /// Memory of one training step (weights, gradients, optimizer state, the batch's
    /// activations and their gradients), in GiB.
    pub max_memory_gib: f64,
}

impl Budget {
    /// Generous enough for the paper's own runs (WRN-40-10 on CIFAR-10 with AT for 120
    /// epochs is about 3,300 PFLOP, 56 M parameters and 13 GiB at its batch of 64), tight
    /// enough that nothing asks for terabytes or years.
    pub const DEFAULT: Self = Self {
        max_parameters: 100_000_000,
        max_petaflop: 10_000.0,
        max_memory_gib: 32.0,
    };
}

/// What a run is estimated to cost.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cost {
    pub network: NetworkSize,
    /// Training and evaluation, in PFLOP.
    pub petaflop: f64,
    /// One training step, in GiB.
    pub memory_gib: f64,
}

/// Forward-and-backward passes of the network per image of a batch, for each method:
/// the attack's steps plus the passes of the loss.
fn passes_per_image(method: Method, context: &MethodContext) -> f64 {
    match method {
        Method::Natural => 1.0,
        Method::Gr { .. } => 3.0,
        Method::Llr { .. } => 8.0,
        // No input gradient and no central difference: the 2-step search and two passes.
        Method::LlrRef { .. } => 5.0,
        Method::At => (context.pgd.steps + 1) as f64,
        Method::Rst { .. } | Method::Trades { .. } => {
            (context.trades_steps.max(context.pgd.steps) + 2) as f64
        }
    }
}

/// Passes per image of the evaluation protocol: clean, PGD-10 and the Lipschitz estimate
/// (10 steps), and PGD-10 per radius of the accuracy curve.
const EVALUATION_PASSES: f64 = 21.0;
const CURVE_PASSES: f64 = 11.0;

/// FLOPs of one forward-and-backward pass per multiply–add of the forward pass: two per
/// multiply–add, three passes' worth (forward, input and weight gradients).
const FLOPS_PER_FORWARD_MAC: f64 = 6.0;

const GIB: f64 = (1u64 << 30) as f64;

/// A spec refused: invalid, or over one of the budget's limits (each names the field at
/// fault and the limit).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BudgetError {
    #[error(transparent)]
    Config(#[from] TrainConfigError),
    #[error("architecture {architecture}: {} parameters, over the limit of {}", millions(*.parameters as f64), millions(*.limit as f64))]
    Parameters {
        architecture: Architecture,
        parameters: u64,
        limit: u64,
    },
    #[error(
        "batch_size {batch_size} with {architecture}: a training step needs about {gib:.1} GiB, over the limit of {limit} GiB"
    )]
    Memory {
        batch_size: usize,
        architecture: Architecture,
        gib: f64,
        limit: f64,
    },
    #[error(
        "{epochs} epochs of {method} with {architecture} on {dataset}: about {petaflop:.0} PFLOP of training and evaluation, over the limit of {limit} PFLOP (fewer epochs, a subset, a smaller eval_train or fewer attack_images)"
    )]
    Compute {
        epochs: usize,
        method: Method,
        architecture: Architecture,
        dataset: DatasetId,
        petaflop: f64,
        limit: f64,
    },
}

impl Cost {
    /// The estimated cost of `spec` trained with `config` (its
    /// [`TrainConfig::from_spec`]), training on the dataset's official number of images (or
    /// the subset) and evaluating `eval_train` training images, or `default_eval_train`
    /// when the spec leaves it out (all when both are `None`).
    pub fn estimate(
        spec: &ExperimentSpec,
        config: &TrainConfig,
        default_eval_train: Option<usize>,
    ) -> Self {
        let info = spec.dataset.info();
        let [train_images, test_images] = info.images.map(|n| n as f64);
        let network = NetworkConfig {
            architecture: config.architecture,
            input: info.shape,
            classes: info.class_names.len(),
            dropout: config.dropout,
        }
        .size();
        let context = MethodContext::paper(config.epsilon);
        let trained = config
            .subset
            .map_or(train_images, |n| train_images.min(n as f64));
        let evaluated_train = spec
            .eval_train
            .or(default_eval_train)
            .map_or(train_images, |n| train_images.min(n as f64));
        let attacked = spec
            .attacked_images()
            .map_or(test_images, |n| test_images.min(n as f64));
        let classes = info.class_names.len();
        let attack_passes: f64 = spec
            .attacks
            .iter()
            .map(|attack| attack.passes_per_image(classes))
            .sum::<f64>()
            + QUICK_PASSES_PER_IMAGE;
        let passes = config.epochs as f64 * trained * passes_per_image(config.method, &context)
            + (test_images + evaluated_train) * EVALUATION_PASSES
            + test_images * CURVE_PASSES * spec.curve.len() as f64
            + attacked * attack_passes;
        let petaflop = passes * network.forward_macs as f64 * FLOPS_PER_FORWARD_MAC / 1e15;
        // Weights, gradients and up to two optimizer moments; the activations of the
        // clean and the adversarial batch, and their gradients.
        let graphs = if config.method.is_adversarial() {
            2.0
        } else {
            1.0
        };
        let values = 4.0 * network.parameters as f64
            + 2.0 * graphs * config.batch_size as f64 * network.activations as f64;
        Cost {
            network,
            petaflop,
            memory_gib: values * 4.0 / GIB,
        }
    }
}

impl Budget {
    /// `spec`'s training configuration, validated and within this budget (see
    /// [`Cost::estimate`] for `default_eval_train`).
    pub fn check(
        &self,
        spec: &ExperimentSpec,
        default_eval_train: Option<usize>,
    ) -> Result<(TrainConfig, Cost), BudgetError> {
        let config = TrainConfig::from_spec(spec)?;
        let cost = Cost::estimate(spec, &config, default_eval_train);
        if cost.network.parameters > self.max_parameters {
            return Err(BudgetError::Parameters {
                architecture: config.architecture,
                parameters: cost.network.parameters,
                limit: self.max_parameters,
            });
        }
        if cost.memory_gib > self.max_memory_gib {
            return Err(BudgetError::Memory {
                batch_size: config.batch_size,
                architecture: config.architecture,
                gib: cost.memory_gib,
                limit: self.max_memory_gib,
            });
        }
        if cost.petaflop > self.max_petaflop {
            return Err(BudgetError::Compute {
                epochs: config.epochs,
                method: config.method,
                architecture: config.architecture,
                dataset: spec.dataset,
                petaflop: cost.petaflop,
                limit: self.max_petaflop,
            });
        }
        Ok((config, cost))
    }
}

/// A parameter count as people read it: millions from a million on.
fn millions(count: f64) -> String {
    if count >= 1e6 {
        format!("{:.1} M", count / 1e6)
    } else {
        format!("{count:.0}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use astute_api::AttackName;

    fn spec(dataset: DatasetId, method: &str) -> ExperimentSpec {
        ExperimentSpec::new(dataset, method.parse().unwrap())
    }

    fn refusal(spec: &ExperimentSpec) -> String {
        Budget::DEFAULT.check(spec, None).unwrap_err().to_string()
    }

    /// Every dataset's preset, with every method, fits the default budget.
    #[test]
    fn presets_fit() {
        for dataset in DatasetId::all() {
            for method in Method::table_methods() {
                let spec = ExperimentSpec::new(dataset, method);
                assert!(
                    Budget::DEFAULT.check(&spec, None).is_ok(),
                    "{dataset} {method}"
                );
            }
        }
    }

    /// CNN2 natural, 5 epochs of Fashion-MNIST, 1,000 training images evaluated, by hand:
    /// 9,952,400 multiply–adds per forward pass, 6 FLOPs each per pass; 300,000 training
    /// passes, 11,000 × 21 evaluation passes, and the quick masking checks' 35 passes on
    /// the first 1,000 test images.
    #[test]
    fn cost_by_hand() {
        let mut spec = spec(DatasetId::FashionMnist, "natural");
        spec.epochs = Some(5);
        let cost = Cost::estimate(&spec, &TrainConfig::from_spec(&spec).unwrap(), Some(1_000));
        let passes = 300_000.0 + 11_000.0 * 21.0 + 1_000.0 * 35.0;
        assert!((cost.petaflop - passes * 9_952_400.0 * 6.0 / 1e15).abs() < 1e-12);
        // AutoAttack on the same 1,000 test images: APGD-CE and 9 targets of APGD-T, 101
        // passes each; 9 targets of FAB-T, 100 iterations of a pass and a forward-only
        // check (a third of a pass) and one pass more; 5,000 forward-only Square queries.
        spec.attacks = vec![AttackName::AutoAttack];
        spec.attack_images = Some(1_000);
        let cost = Cost::estimate(&spec, &TrainConfig::from_spec(&spec).unwrap(), Some(1_000));
        let fab = 9.0 * (100.0 * (1.0 + 1.0 / 3.0) + 1.0);
        let passes = passes + 1_000.0 * (10.0 * 101.0 + fab + 5_000.0 / 3.0);
        assert!((cost.petaflop - passes * 9_952_400.0 * 6.0 / 1e15).abs() < 1e-12);
    }

    #[test]
    fn each_limit_names_the_field() {
        let mut wide = spec(DatasetId::Spiral, "natural");
        wide.architecture = Some(Architecture::Mlp {
            layers: 16,
            width: 4096,
        });
        let message = refusal(&wide);
        assert!(
            message.contains("architecture mlp-16-4096: 251.7 M parameters"),
            "{message}"
        );
        assert!(message.contains("limit of 100.0 M"), "{message}");

        let mut months = spec(DatasetId::Cifar10, "at");
        months.architecture = Some(Architecture::WRN_PAPER);
        months.epochs = Some(10_000);
        let message = refusal(&months);
        assert!(
            message.contains("10000 epochs of at with wrn-40-10"),
            "{message}"
        );
        assert!(message.contains("limit of 10000 PFLOP"), "{message}");
        months.epochs = Some(120);
        assert!(Budget::DEFAULT.check(&months, None).is_ok());

        let mut batch = spec(DatasetId::Cifar10, "trades:6");
        batch.batch_size = Some(65_536);
        let message = refusal(&batch);
        assert!(
            message.contains("batch_size 65536 with wrn-16-4"),
            "{message}"
        );
        assert!(message.contains("limit of 32 GiB"), "{message}");
    }
}
