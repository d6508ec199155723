//! Evaluation: clean and adversarial accuracy, the empirical local Lipschitz constant of
//! Eq. (3), gaps, and accuracy as a function of ε.

mod lipschitz;

pub use astute_api::{RunMetrics, SetEvaluation};
pub use lipschitz::{Lipschitz, LipschitzStep};

use burn::prelude::*;

use crate::attack::{MultiTargeted, Pgd};
use crate::batch::{sequential_batches, to_tensors};
use crate::data::Dataset;
use crate::loss::predictions;
use crate::model::Classifier;

/// Which attack measures adversarial accuracy.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum Attack {
    Pgd(Pgd),
    MultiTargeted(MultiTargeted),
}

impl Attack {
    pub fn epsilon(&self) -> f32 {
        match self {
            Attack::Pgd(a) => a.epsilon,
            Attack::MultiTargeted(a) => a.epsilon,
        }
    }

    pub fn run<M: Classifier>(
        &self,
        model: &M,
        images: &Tensor<4>,
        labels: &Tensor<1, Int>,
        classes: usize,
    ) -> Tensor<4> {
        match self {
            Attack::Pgd(a) => a.attack(model, images, labels),
            Attack::MultiTargeted(a) => a.attack(model, images, labels, classes),
        }
    }
}

fn count_correct(logits: Tensor<2>, labels: &Tensor<1, Int>) -> usize {
    predictions(logits)
        .equal(labels.clone())
        .int()
        .sum()
        .into_scalar::<i64>() as usize
}

fn percent(correct: usize, total: usize) -> f64 {
    if total == 0 {
        0.0
    } else {
        100.0 * correct as f64 / total as f64
    }
}

/// Clean accuracy (%) of `model` (an evaluation copy) on `data`.
pub fn accuracy<M: Classifier>(
    model: &M,
    data: &Dataset,
    batch_size: usize,
    device: &Device,
) -> f64 {
    let correct: usize = sequential_batches(data.len(), batch_size)
        .map(|idx| {
            let (x, y) = to_tensors(data, &idx, device);
            count_correct(model.forward(x), &y)
        })
        .sum();
    percent(correct, data.len())
}

/// Clean accuracy, adversarial accuracy (over all points, not only the correctly
/// classified ones) and the mean local Lipschitz estimate, in one pass over `data`.
pub fn evaluate<M: Classifier>(
    model: &M,
    data: &Dataset,
    attack: &Attack,
    lipschitz: &Lipschitz,
    batch_size: usize,
    device: &Device,
) -> SetEvaluation {
    let (mut clean, mut robust, mut lipschitz_sum) = (0usize, 0usize, 0f64);
    for idx in sequential_batches(data.len(), batch_size) {
        let (x, y) = to_tensors(data, &idx, device);
        clean += count_correct(model.forward(x.clone()), &y);
        let adversarial = attack.run(model, &x, &y, data.num_classes());
        robust += count_correct(model.forward(adversarial), &y);
        lipschitz_sum += lipschitz.estimate(model, &x).sum().into_scalar::<f64>();
    }
    SetEvaluation {
        accuracy: percent(clean, data.len()),
        adversarial_accuracy: percent(robust, data.len()),
        lipschitz: if data.is_empty() {
            0.0
        } else {
            lipschitz_sum / data.len() as f64
        },
        images: data.len(),
    }
}

/// Adversarial accuracy (%) under PGD at each ε (ε = 0 is clean accuracy).
pub fn accuracy_vs_epsilon<M: Classifier>(
    model: &M,
    data: &Dataset,
    epsilons: &[f32],
    batch_size: usize,
    device: &Device,
) -> Vec<(f32, f64)> {
    epsilons
        .iter()
        .map(|&eps| {
            let attack = Pgd::paper(eps);
            let correct: usize = sequential_batches(data.len(), batch_size)
                .map(|idx| {
                    let (x, y) = to_tensors(data, &idx, device);
                    let x = if eps > 0.0 {
                        attack.attack(model, &x, &y)
                    } else {
                        x
                    };
                    count_correct(model.forward(x), &y)
                })
                .sum();
            (eps, percent(correct, data.len()))
        })
        .collect()
}

/// The evaluation protocol of a run: PGD-10 (ε/5 steps) and the Lipschitz estimate at the
/// run's ε, on the test set and on (a prefix of) the training set.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EvalProtocol {
    pub epsilon: f32,
    pub lipschitz_step: LipschitzStep,
    /// Images of the training set to evaluate (all when `None`): evaluating every
    /// training image under attack costs as much as several training epochs.
    pub train_images: Option<usize>,
    pub test_images: Option<usize>,
    pub batch_size: usize,
}

impl EvalProtocol {
    pub fn paper(epsilon: f32) -> Self {
        Self {
            epsilon,
            lipschitz_step: LipschitzStep::FifthOfEpsilon,
            train_images: Some(10_000),
            test_images: None,
            batch_size: 256,
        }
    }

    /// Evaluates `model` (any mode; an evaluation copy is taken) on both sets.
    pub fn run<M: Classifier>(
        &self,
        model: &M,
        train: &Dataset,
        test: &Dataset,
        device: &Device,
    ) -> RunMetrics {
        let model = crate::attack::eval_copy(model);
        let attack = Attack::Pgd(Pgd::paper(self.epsilon));
        let lipschitz = Lipschitz {
            step: self.lipschitz_step,
            ..Lipschitz::paper(self.epsilon)
        };
        let prefix =
            |data: &Dataset, n: Option<usize>| n.map_or_else(|| data.clone(), |n| data.take(n));
        let train_eval = evaluate(
            &model,
            &prefix(train, self.train_images),
            &attack,
            &lipschitz,
            self.batch_size,
            device,
        );
        let test_eval = evaluate(
            &model,
            &prefix(test, self.test_images),
            &attack,
            &lipschitz,
            self.batch_size,
            device,
        );
        RunMetrics::new(train_eval, test_eval)
    }
}
