//! Evaluation: clean and adversarial accuracy, the empirical local Lipschitz constant of
//! Eq. (3), gaps, and accuracy as a function of ε.

mod lipschitz;
pub mod masking;

pub use astute_api::{RunMetrics, SetEvaluation};
pub use lipschitz::{Lipschitz, LipschitzStep};

use burn::prelude::*;

use astute_api::{AttackName, RobustEvaluation};

use crate::attack::{Apgd, AutoAttack, Fab, Goal, MultiTargeted, Pgd, Square, fgsm, seeded_start};
use crate::batch::{sequential_batches, to_tensors};
use crate::data::Dataset;
use crate::loss::predictions;
use crate::model::Classifier;

/// Which attack measures adversarial accuracy, set up at a radius.
#[derive(Debug, Clone, PartialEq)]
pub enum Attack {
    /// PGD with starts drawn on the host from a seed: image `k` of a set from `seed + k`.
    /// (Training draws its starts from the backend's generator instead, which is faster.)
    SeededPgd {
        pgd: Pgd,
        seed: u64,
    },
    Fgsm {
        epsilon: f32,
    },
    MultiTargeted(MultiTargeted),
    Apgd(Apgd),
    Fab(Fab),
    Square(Square),
    AutoAttack(AutoAttack),
}

impl Attack {
    /// The attack `name` at radius `epsilon`, drawing its randomness from `seed`.
    pub fn new(name: AttackName, epsilon: f32, seed: u64) -> Self {
        match name {
            AttackName::Pgd { steps, restarts } => Self::SeededPgd {
                pgd: Pgd {
                    steps,
                    restarts,
                    ..Pgd::paper(epsilon)
                },
                seed,
            },
            AttackName::Fgsm => Self::Fgsm { epsilon },
            AttackName::MultiTargeted => Self::MultiTargeted(MultiTargeted::paper(epsilon)),
            AttackName::ApgdCe => Self::Apgd(Apgd::ce(epsilon, seed)),
            AttackName::ApgdT => Self::Apgd(Apgd::targeted(epsilon, seed)),
            AttackName::FabT => Self::Fab(Fab::targeted(epsilon)),
            AttackName::Square => Self::Square(Square::standard(epsilon, seed)),
            AttackName::Apgd => Self::AutoAttack(AutoAttack::apgd(epsilon, seed)),
            AttackName::AutoAttack => Self::AutoAttack(AutoAttack::standard(epsilon, seed)),
        }
    }

    pub fn epsilon(&self) -> f32 {
        match self {
            Self::SeededPgd { pgd: a, .. } => a.epsilon,
            Self::Fgsm { epsilon } => *epsilon,
            Self::MultiTargeted(a) => a.epsilon,
            Self::Apgd(a) => a.epsilon,
            Self::Fab(a) => a.epsilon,
            Self::Square(a) => a.epsilon,
            Self::AutoAttack(a) => a.epsilon,
        }
    }

    /// Adversarial images for a batch whose first image is image `offset` of its set: the
    /// seeded attacks draw image `k`'s randomness from `seed + offset + k`.
    pub fn run<M: Classifier>(
        &self,
        model: &M,
        images: &Tensor<4>,
        labels: &Tensor<1, Int>,
        classes: usize,
        offset: u64,
    ) -> Tensor<4> {
        match self {
            Self::SeededPgd { pgd, seed } => pgd.attack_with(
                model,
                images,
                &Goal::Untargeted(labels.clone()),
                |r| seeded_start(images, pgd.epsilon, seed.wrapping_add(offset), r),
                |_, _| (),
            ),
            Self::Fgsm { epsilon } => fgsm(model, images, labels, *epsilon),
            Self::MultiTargeted(a) => a.attack(model, images, labels, classes),
            Self::Apgd(a) => Apgd {
                seed: a.seed.wrapping_add(offset),
                ..*a
            }
            .attack(model, images, labels),
            Self::Fab(a) => a.attack(model, images, labels),
            Self::Square(a) => Square {
                seed: a.seed.wrapping_add(offset),
                ..*a
            }
            .attack(model, images, labels),
            Self::AutoAttack(a) => AutoAttack {
                seed: a.seed.wrapping_add(offset),
                ..a.clone()
            }
            .run(model, images, labels, classes),
        }
    }
}

/// Accuracy (%) of `model` on `data` under `attack`, over all points (a point the model
/// gets wrong unattacked counts as broken).
pub fn robust_accuracy<M: Classifier>(
    model: &M,
    data: &Dataset,
    attack: &Attack,
    batch_size: usize,
    device: &Device,
) -> f64 {
    let correct: usize = sequential_batches(data.len(), batch_size)
        .map(|idx| {
            let (x, y) = to_tensors(data, &idx, device);
            let offset = idx.first().map_or(0, |&i| i as u64);
            let adversarial = attack.run(model, &x, &y, data.num_classes(), offset);
            count_correct(model.forward(adversarial), &y)
        })
        .sum();
    percent(correct, data.len())
}

/// Test accuracy under named attacks beside the paper's protocol: which attacks, on how
/// many test images, at which radius, from which seed.
#[derive(Debug, Clone, PartialEq)]
pub struct RobustProtocol {
    pub attacks: Vec<AttackName>,
    /// The first `images` test images (all when `None`).
    pub images: Option<usize>,
    pub epsilon: f32,
    pub seed: u64,
}

impl RobustProtocol {
    /// Each attack's accuracy on `test`, with the time it took; `measured` hears each as it
    /// finishes (the strong ones take minutes). PGD-10 comes first whenever it is not
    /// asked for: every further attack then stands beside the paper's attack on the same
    /// images (a prefix of the test set is not its average), and the masking checks reuse it.
    pub fn run<M: Classifier>(
        &self,
        model: &M,
        test: &Dataset,
        device: &Device,
        mut measured: impl FnMut(&RobustEvaluation),
    ) -> Vec<RobustEvaluation> {
        let data = self.images_of(test);
        let mut attacks = self.attacks.clone();
        if !attacks.is_empty() && !attacks.contains(&AttackName::PGD_10) {
            attacks.insert(0, AttackName::PGD_10);
        }
        attacks
            .iter()
            .map(|&attack| {
                let started = web_time::Instant::now();
                let accuracy = robust_accuracy(
                    model,
                    &data,
                    &Attack::new(attack, self.epsilon, self.seed),
                    ATTACK_BATCH,
                    device,
                );
                let evaluation = RobustEvaluation {
                    attack,
                    epsilon: self.epsilon,
                    seed: self.seed,
                    images: data.len(),
                    accuracy,
                    seconds: started.elapsed().as_secs_f64(),
                };
                measured(&evaluation);
                evaluation
            })
            .collect()
    }

    /// The test images the protocol attacks.
    pub fn images_of(&self, test: &Dataset) -> Dataset {
        match self.images {
            Some(n) if n < test.len() => test.take(n),
            _ => test.clone(),
        }
    }

    /// The gradient-masking checks of `depth` on the same images, reusing the accuracies
    /// already `measured` there.
    pub fn masking<M: Classifier>(
        &self,
        model: &M,
        test: &Dataset,
        device: &Device,
        measured: &[RobustEvaluation],
        depth: masking::Depth,
    ) -> Vec<astute_api::MaskingFlag> {
        masking::Checks {
            epsilon: self.epsilon,
            seed: self.seed,
            batch_size: ATTACK_BATCH,
            measured,
            depth,
        }
        .run(model, &self.images_of(test), device)
    }
}

/// Images per batch of the named attacks.
pub const ATTACK_BATCH: usize = 256;

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
        let offset = idx.first().map_or(0, |&i| i as u64);
        let adversarial = attack.run(model, &x, &y, data.num_classes(), offset);
        robust += count_correct(model.forward(adversarial), &y);
        let estimates = Lipschitz {
            seed: lipschitz.seed.wrapping_add(offset),
            ..*lipschitz
        }
        .estimate(model, &x);
        // Added image by image in order, so the mean does not depend on the batch size.
        for estimate in estimates.into_data().iter::<f32>() {
            lipschitz_sum += f64::from(estimate);
        }
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

/// Adversarial accuracy (%) under the paper's PGD-10 at each ε (ε = 0 is clean accuracy),
/// image `k` starting from `seed + k`.
pub fn accuracy_vs_epsilon<M: Classifier>(
    model: &M,
    data: &Dataset,
    epsilons: &[f32],
    seed: u64,
    batch_size: usize,
    device: &Device,
) -> Vec<(f32, f64)> {
    epsilons
        .iter()
        .map(|&eps| {
            let accuracy = if eps > 0.0 {
                let attack = Attack::SeededPgd {
                    pgd: Pgd::paper(eps),
                    seed,
                };
                robust_accuracy(model, data, &attack, batch_size, device)
            } else {
                accuracy(model, data, batch_size, device)
            };
            (eps, accuracy)
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
    /// Image `k` of each set draws PGD's random start and Eq. (3)'s starting noise from
    /// generators seeded from `seed + k`: one set of weights gives one row, in any batch
    /// size (on the CPU backend, to the last digit).
    pub seed: u64,
}

impl EvalProtocol {
    pub fn paper(epsilon: f32) -> Self {
        Self {
            epsilon,
            lipschitz_step: LipschitzStep::FifthOfEpsilon,
            train_images: Some(10_000),
            test_images: None,
            batch_size: 256,
            seed: 0,
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
        let attack = Attack::SeededPgd {
            pgd: Pgd::paper(self.epsilon),
            seed: self.seed,
        };
        let lipschitz = Lipschitz {
            step: self.lipschitz_step,
            seed: self.seed,
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
