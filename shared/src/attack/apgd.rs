//! Auto-PGD (Croce & Hein, ICML 2020), ℓ∞, with the reference implementation's defaults:
//! a step size that starts at 2ε and halves at checkpoints where the loss stopped rising,
//! momentum 0.75, and the best point kept. The loss is cross-entropy, DLR, or targeted DLR
//! toward a class (APGD-T runs one target after another).

use burn::prelude::*;

use super::survivors::{Survivors, ranked_target};
use super::{consecutive_seeds, input_gradient, project, seeded_uniform};
use crate::loss::{cross_entropy, dlr, predictions, targeted_dlr};
use crate::model::Classifier;

/// The loss APGD ascends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ApgdLoss {
    CrossEntropy,
    Dlr,
    /// Targeted DLR toward each of the classes ranked 2nd, 3rd, … on the clean input.
    TargetedDlr,
}

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Apgd {
    pub epsilon: f32,
    pub iterations: usize,
    /// Random starts (untargeted), or runs per target class (targeted).
    pub restarts: usize,
    pub loss: ApgdLoss,
    /// Target classes of the targeted loss: those ranked 2nd … (targets + 1)th.
    pub targets: usize,
    /// Seed of the random starts: image `k` of a batch draws from `seed + k`, on every
    /// backend (see [`Apgd::attack_seeded`] for other seeds).
    pub seed: u64,
}

/// One run of an attack: which target (by rank on the clean input, 1 = the class ranked
/// second) and which start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApgdRun {
    pub rank: Option<usize>,
    /// Runs of one attack draw different starts from the same seed.
    pub number: usize,
}

impl ApgdRun {
    /// The target class of each point of a part (`index` into the batch whose classes are
    /// `ranked` by clean logit), for a targeted run.
    pub fn target(
        &self,
        ranked: &Tensor<2, Int>,
        index: &Tensor<1, Int>,
    ) -> Option<Tensor<1, Int>> {
        self.rank.map(|rank| ranked_target(ranked, index, rank))
    }
}

/// What a run shows of itself after its start and after each iteration, per example: the
/// point it reached, the loss there, the step size that led there, and at a checkpoint
/// whether the step size halves (and the run goes back to its best point).
pub struct ApgdIterate<'a> {
    pub point: &'a Tensor<4>,
    pub loss: &'a Tensor<1>,
    pub step_size: &'a Tensor<1>,
    pub halved: Option<&'a Tensor<1, Bool>>,
}

/// The fraction of the last steps that must have raised the loss for the step size to stay.
const RHO: f32 = 0.75;
/// Momentum: the weight of the new step against the previous displacement.
const MOMENTUM: f32 = 0.75;

impl Apgd {
    /// APGD-CE as AutoAttack runs it: 100 iterations, one random start.
    pub fn ce(epsilon: f32, seed: u64) -> Self {
        Self {
            epsilon,
            iterations: 100,
            restarts: 1,
            loss: ApgdLoss::CrossEntropy,
            targets: 9,
            seed,
        }
    }

    /// APGD-T as AutoAttack runs it: 100 iterations toward each of 9 target classes.
    pub fn targeted(epsilon: f32, seed: u64) -> Self {
        Self {
            loss: ApgdLoss::TargetedDlr,
            ..Self::ce(epsilon, seed)
        }
    }

    /// The 0-based iterations after which the step size may halve: the first after 22 %
    /// of the iterations, each next one 3 % sooner than the last, at least 6 % apart (for
    /// 100: 21, 40, 56, 69, 79, 86, 92, 98).
    pub fn checkpoints(iterations: usize) -> Vec<usize> {
        let first = ((0.22 * iterations as f64) as usize).max(1);
        let least = ((0.06 * iterations as f64) as usize).max(1);
        let shrink = ((0.03 * iterations as f64) as usize).max(1);
        let mut checkpoints = Vec::new();
        let (mut at, mut gap) = (first, first);
        while at <= iterations {
            checkpoints.push(at - 1);
            gap = gap.saturating_sub(shrink).max(least);
            at += gap;
        }
        checkpoints
    }

    /// Adversarial images for `images` labelled `labels`: for each example a misclassified
    /// point when one was found, else the point of highest loss. Image `k` draws its random
    /// starts from `seed + k`. The targeted loss needs at least 4 classes.
    pub fn attack<M: Classifier>(
        &self,
        model: &M,
        images: &Tensor<4>,
        labels: &Tensor<1, Int>,
    ) -> Tensor<4> {
        let seeds = consecutive_seeds(self.seed, images.dims()[0]);
        self.attack_seeded(model, images, labels, &seeds)
    }

    /// [`Apgd::attack`] with image `k` drawing from `seeds[k]`: a subset of a set keeps
    /// the seeds its images have in the whole set. Each run (restart or target) attacks
    /// only the points no earlier run broke; a point misclassified unattacked is left as
    /// it is.
    pub fn attack_seeded<M: Classifier>(
        &self,
        model: &M,
        images: &Tensor<4>,
        labels: &Tensor<1, Int>,
        seeds: &[u64],
    ) -> Tensor<4> {
        let (mut survivors, ranked) = Survivors::ranked(model, images, labels);
        let classes = ranked.dims()[1];
        for run in self.runs(classes) {
            survivors.attack(|part| {
                let seeds: Vec<u64> = part.positions.iter().map(|&k| seeds[k]).collect();
                let target = run.target(&ranked, &part.index);
                self.run_once(
                    model,
                    &part.images,
                    &part.labels,
                    target.as_ref(),
                    &seeds,
                    run.number,
                    |_| (),
                )
            });
        }
        survivors.into_images()
    }

    /// The runs in order: one per restart, and with the targeted loss one per restart and
    /// target class (at most `classes − 1` targets).
    pub fn runs(&self, classes: usize) -> Vec<ApgdRun> {
        let ranks: Vec<Option<usize>> = match self.loss {
            ApgdLoss::TargetedDlr => (1..=self.targets.min(classes.saturating_sub(1)))
                .map(Some)
                .collect(),
            _ => vec![None],
        };
        ranks
            .into_iter()
            .flat_map(|rank| std::iter::repeat_n(rank, self.restarts))
            .enumerate()
            .map(|(number, rank)| ApgdRun { rank, number })
            .collect()
    }

    /// One run from a random start: per image the latest misclassified point, else the
    /// point of highest loss. Image `k` starts from `seeds[k]`; `run` numbers the start
    /// (runs differ). `target` is each image's target class for the targeted loss (without
    /// one, or with fewer than 4 classes, it falls back to DLR; DLR with fewer than 3 to the
    /// cross-entropy). `observe` sees the start and every iterate.
    #[allow(clippy::too_many_arguments)]
    pub fn run_once<M: Classifier>(
        &self,
        model: &M,
        images: &Tensor<4>,
        labels: &Tensor<1, Int>,
        target: Option<&Tensor<1, Int>>,
        seeds: &[u64],
        run: usize,
        mut observe: impl FnMut(ApgdIterate<'_>),
    ) -> Tensor<4> {
        let [n, ..] = images.dims();
        let eps = self.epsilon;
        // The DLR losses read the 3rd (and 4th) largest logit: with fewer classes the
        // targeted one falls back to DLR, and DLR to the cross-entropy.
        let loss = |logits: Tensor<2>| {
            let classes = logits.dims()[1];
            match (self.loss, target) {
                (ApgdLoss::TargetedDlr, Some(t)) if classes >= 4 => targeted_dlr(logits, labels, t),
                (ApgdLoss::Dlr | ApgdLoss::TargetedDlr, _) if classes >= 3 => dlr(logits, labels),
                _ => cross_entropy(logits, labels),
            }
        };
        // Gradient, loss and whether the model is fooled, at `x`.
        let probe = |x: &Tensor<4>| {
            let mut measured = None;
            let gradient = input_gradient(model, x, |logits, _| {
                let value = loss(logits.clone());
                measured = Some((value.clone().detach(), logits.detach()));
                value
            });
            let (value, logits) = measured.expect("the objective ran");
            let fooled = predictions(logits).not_equal(labels.clone());
            (gradient, value, fooled)
        };
        let per_example =
            |mask: Tensor<1, Bool>| mask.reshape([-1, 1, 1, 1]).expand(images.shape());

        // x + ε·t/‖t‖∞, t uniform in [−1, 1]: a corner-heavy start, clamped to the box.
        let t = seeded_uniform(images, seeds, run);
        let norm = t
            .clone()
            .abs()
            .flatten::<2>(1, 3)
            .max_dim(1)
            .reshape([-1, 1, 1, 1]);
        let mut x = (images.clone() + t.div(norm.clamp_min(1e-12)).mul_scalar(eps)).clamp(0.0, 1.0);
        let mut x_previous = x.clone();
        let (mut gradient, mut current, mut fooled) = probe(&x);
        let mut x_fooling = x.clone();
        let (mut x_best, mut gradient_best, mut loss_best) =
            (x.clone(), gradient.clone(), current.clone());
        let mut step = Tensor::<1>::full([n], 2.0 * eps, &images.device());
        // Steps that raised the loss since the last checkpoint, per example.
        let mut raised = Tensor::<1>::zeros([n], &images.device());
        let mut loss_at_last_check = loss_best.clone();
        // Whether the step size halved at the last checkpoint (as if it had before the first).
        let mut halved_last = Tensor::<1, Bool>::full([n], true, &images.device());
        let checkpoints = Self::checkpoints(self.iterations);
        let mut since_check = 0usize;
        let mut window = checkpoints.first().map_or(self.iterations, |&c| c + 1);
        observe(ApgdIterate {
            point: &x,
            loss: &current,
            step_size: &step,
            halved: None,
        });

        for i in 0..self.iterations {
            let momentum = if i == 0 { 1.0 } else { MOMENTUM };
            let displacement = x.clone() - x_previous;
            x_previous = x.clone();
            let step4 = step.clone().reshape([-1, 1, 1, 1]);
            let z = project(x.clone() + gradient.sign() * step4, images, eps);
            x = project(
                x.clone()
                    + (z - x.clone()).mul_scalar(momentum)
                    + displacement.mul_scalar(1.0 - momentum),
                images,
                eps,
            )
            .detach();
            let previous = current;
            let fooled_now;
            (gradient, current, fooled_now) = probe(&x);
            // The latest misclassified point of each example (as the reference keeps it).
            x_fooling = x
                .clone()
                .mask_where(per_example(fooled_now.clone().bool_not()), x_fooling);
            fooled = fooled.bool_or(fooled_now);
            let improved = current.clone().greater(loss_best.clone());
            x_best = x
                .clone()
                .mask_where(per_example(improved.clone().bool_not()), x_best);
            gradient_best = gradient
                .clone()
                .mask_where(per_example(improved.clone().bool_not()), gradient_best);
            loss_best = current.clone().mask_where(improved.bool_not(), loss_best);
            raised = raised + current.clone().greater(previous).float();
            since_check += 1;
            let halve = (since_check == window).then(|| {
                let oscillating = raised.clone().lower_equal_elem(RHO * window as f32);
                let stalled = halved_last
                    .clone()
                    .bool_not()
                    .bool_and(loss_at_last_check.clone().greater_equal(loss_best.clone()));
                oscillating.bool_or(stalled)
            });
            observe(ApgdIterate {
                point: &x,
                loss: &current,
                step_size: &step,
                halved: halve.as_ref(),
            });
            if let Some(halve) = halve {
                step = step
                    .clone()
                    .mul_scalar(0.5)
                    .mask_where(halve.clone().bool_not(), step);
                x = x_best
                    .clone()
                    .mask_where(per_example(halve.clone().bool_not()), x);
                gradient = gradient_best
                    .clone()
                    .mask_where(per_example(halve.clone().bool_not()), gradient);
                halved_last = halve;
                loss_at_last_check = loss_best.clone();
                raised = raised.zeros_like();
                since_check = 0;
                let next = checkpoints.iter().find(|&&c| c > i).copied();
                window = next.map_or(usize::MAX, |c| c - i);
            }
        }
        x_fooling
            .mask_where(per_example(fooled.bool_not()), x_best)
            .detach()
    }
}
