//! Projected gradient descent in ℓ∞ (Madry et al.): signed-gradient ascent on the
//! cross-entropy, projected after every step.

use burn::prelude::*;
use burn::tensor::{Bool, Distribution, TensorData};
use rand::{RngExt, SeedableRng, rngs::StdRng};

use super::{input_gradient, project};
use crate::loss::{cross_entropy, predictions};
use crate::model::Classifier;

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Pgd {
    pub epsilon: f32,
    pub steps: usize,
    pub step_size: f32,
    /// Independent random starts; an example counts as broken if any of them breaks it.
    pub restarts: usize,
    /// Start from a uniform point in the ε-ball (the paper) rather than the clean image.
    pub random_start: bool,
}

/// What an attack pushes the prediction toward.
#[derive(Debug, Clone)]
pub enum Goal {
    /// Away from these true labels: ascend their cross-entropy.
    Untargeted(Tensor<1, Int>),
    /// Toward these classes: descend their cross-entropy.
    Targeted(Tensor<1, Int>),
}

impl Goal {
    /// The per-example objective the attack ascends.
    pub fn objective(&self, logits: Tensor<2>) -> Tensor<1> {
        match self {
            Self::Untargeted(labels) => cross_entropy(logits, labels),
            Self::Targeted(targets) => cross_entropy(logits, targets).neg(),
        }
    }

    /// Which examples the attack has already won: misclassified, or classified as the target.
    pub fn reached(&self, logits: Tensor<2>) -> Tensor<1, Bool> {
        match self {
            Self::Untargeted(labels) => predictions(logits).not_equal(labels.clone()),
            Self::Targeted(targets) => predictions(logits).equal(targets.clone()),
        }
    }
}

/// PGD settings that would not attack anything.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum PgdError {
    #[error("PGD ε = {0} is outside [0, 1]")]
    Epsilon(f32),
    #[error("PGD step size {0} must be a finite number ≥ 0")]
    StepSize(f32),
    #[error("PGD needs at least one restart")]
    NoRestart,
}

impl Pgd {
    /// The paper's evaluation attack: 10 steps of ε/5 from a random start.
    pub fn paper(epsilon: f32) -> Self {
        Self {
            epsilon,
            steps: 10,
            step_size: epsilon / 5.0,
            restarts: 1,
            random_start: true,
        }
    }

    pub fn validate(&self) -> Result<(), PgdError> {
        if !(self.epsilon.is_finite() && (0.0..=1.0).contains(&self.epsilon)) {
            return Err(PgdError::Epsilon(self.epsilon));
        }
        if !(self.step_size.is_finite() && self.step_size >= 0.0) {
            return Err(PgdError::StepSize(self.step_size));
        }
        if self.restarts == 0 {
            return Err(PgdError::NoRestart);
        }
        Ok(())
    }

    /// Untargeted adversarial images, random starts drawn by the backend's generator.
    pub fn attack<M: Classifier>(
        &self,
        model: &M,
        images: &Tensor<4>,
        labels: &Tensor<1, Int>,
    ) -> Tensor<4> {
        let goal = Goal::Untargeted(labels.clone());
        self.attack_with(
            model,
            images,
            &goal,
            |_| self.backend_start(images),
            |_, _| (),
        )
    }

    /// Adversarial images toward `goal`, restart `r` starting from `start(r)` when
    /// `random_start` is set (from the clean images otherwise); `observe(r, x)` sees every
    /// iterate. Each example keeps the first restart that reaches the goal, or the last one.
    pub fn attack_with<M: Classifier>(
        &self,
        model: &M,
        images: &Tensor<4>,
        goal: &Goal,
        mut start: impl FnMut(usize) -> Tensor<4>,
        mut observe: impl FnMut(usize, &Tensor<4>),
    ) -> Tensor<4> {
        let mut run = |r| {
            let from = if self.random_start {
                start(r)
            } else {
                images.clone()
            };
            self.ascend(model, images, from, goal, |x| observe(r, x))
        };
        let mut best = run(0);
        for r in 1..self.restarts {
            let reached = goal.reached(model.forward(best.clone().detach()));
            let candidate = run(r);
            let mask = reached.reshape([-1, 1, 1, 1]).expand(images.shape());
            best = candidate.mask_where(mask, best);
        }
        best
    }

    /// `steps` projected signed-gradient steps on `goal` from `start`; `observe` sees
    /// every iterate (the playground steps through them).
    pub fn ascend<M: Classifier>(
        &self,
        model: &M,
        images: &Tensor<4>,
        start: Tensor<4>,
        goal: &Goal,
        mut observe: impl FnMut(&Tensor<4>),
    ) -> Tensor<4> {
        let mut x = start;
        for _ in 0..self.steps {
            let g = input_gradient(model, &x, |logits, _| goal.objective(logits));
            x = project(
                x.detach() + g.sign().mul_scalar(self.step_size),
                images,
                self.epsilon,
            );
            observe(&x);
        }
        x.detach()
    }

    /// A uniform start in the ε-ball from the backend's generator (fast, on the device).
    fn backend_start(&self, images: &Tensor<4>) -> Tensor<4> {
        let eps = f64::from(self.epsilon);
        project(
            images.clone() + images.random_like(Distribution::Uniform(-eps, eps)),
            images,
            self.epsilon,
        )
    }
}

/// Seeds of one restart are this far apart, so restarts never share an image's seed.
const RESTART_SEED_STRIDE: u64 = 1 << 32;

/// A uniform start in the ε-ball drawn on the host: image `k` of the batch from
/// `seed + k`, restart `r` from `seed + r·2³²`. Backends generate random numbers
/// differently; these are the same on every backend and platform, and a set cut into
/// batches draws what it draws in one batch (each batch passes `seed + its offset`), so an
/// attack replays exactly in the browser and on a server.
pub fn seeded_start(images: &Tensor<4>, epsilon: f32, seed: u64, restart: usize) -> Tensor<4> {
    let seeds = consecutive_seeds(seed, images.dims()[0]);
    let noise = seeded_uniform(images, &seeds, restart).mul_scalar(epsilon);
    project(images.clone() + noise, images, epsilon)
}

/// The seeds of `n` images that start at `seed`: `seed`, `seed + 1`, …
pub fn consecutive_seeds(seed: u64, n: usize) -> Vec<u64> {
    (0..n as u64).map(|k| seed.wrapping_add(k)).collect()
}

/// Noise uniform in [−1, 1] of the shape of `images`, image `k` drawn on the host from
/// `seeds[k]` (restart `r` from `seeds[k] + r·2³²`), as [`seeded_start`] draws it.
pub fn seeded_uniform(images: &Tensor<4>, seeds: &[u64], restart: usize) -> Tensor<4> {
    let shape = images.shape();
    let [n, ..] = images.dims();
    debug_assert_eq!(seeds.len(), n, "one seed per image");
    let per_image = shape.num_elements() / n.max(1);
    let stride = (restart as u64).wrapping_mul(RESTART_SEED_STRIDE);
    let noise: Vec<f32> = seeds
        .iter()
        .flat_map(|&seed| {
            let mut rng = StdRng::seed_from_u64(seed.wrapping_add(stride));
            (0..per_image)
                .map(|_| rng.random_range(-1.0f32..=1.0))
                .collect::<Vec<_>>()
        })
        .collect();
    Tensor::from_data(TensorData::new(noise, shape), &images.device())
}
