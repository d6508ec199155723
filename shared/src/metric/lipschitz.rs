//! The empirical local Lipschitz constant of Eq. (3):
//! max over x′ in the ε-ball of ‖f(x) − f(x′)‖₁ / ‖x − x′‖∞, found by signed-gradient ascent.

use burn::prelude::*;
use burn::tensor::TensorData;
use rand::{RngExt, SeedableRng, rngs::StdRng};

use crate::attack::{input_gradient, project};
use crate::model::Classifier;

/// The ascent step: ε/5 as the paper's text says, or the reference code's fixed 0.003.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LipschitzStep {
    FifthOfEpsilon,
    Fixed(f32),
}

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Lipschitz {
    pub epsilon: f32,
    pub steps: usize,
    pub step: LipschitzStep,
    /// Image `k` of a batch starts from noise drawn from its own generator, seeded from
    /// `seed + k`.
    pub seed: u64,
}

/// ‖a − b‖∞ per example, kept away from 0 so the ratio stays finite.
fn linf_per_example(a: Tensor<4>, b: Tensor<4>) -> Tensor<1> {
    let [n, ..] = a.dims();
    (a - b)
        .abs()
        .reshape([n as i32, -1])
        .max_dim(1)
        .squeeze_dim(1)
        .clamp_min(1e-12)
}

/// ‖f(x) − f(x′)‖₁ / ‖x − x′‖∞ per example.
fn ratio(
    clean_logits: Tensor<2>,
    logits: Tensor<2>,
    clean: Tensor<4>,
    perturbed: Tensor<4>,
) -> Tensor<1> {
    let numerator = (clean_logits - logits).abs().sum_dim(1).squeeze_dim(1);
    numerator / linf_per_example(clean, perturbed)
}

impl Lipschitz {
    /// The paper's setting: 10 steps of ε/5 (from seed 0).
    pub fn paper(epsilon: f32) -> Self {
        Self {
            epsilon,
            steps: 10,
            step: LipschitzStep::FifthOfEpsilon,
            seed: 0,
        }
    }

    fn step_size(&self) -> f32 {
        match self.step {
            LipschitzStep::FifthOfEpsilon => self.epsilon / 5.0,
            LipschitzStep::Fixed(s) => s,
        }
    }

    /// The estimate at each image of the batch, `[N]`. The ascent starts from N(0, 0.001²)
    /// noise around each image, as the paper's code does, drawn on the host so that an
    /// image's estimate is the same in any batch and on any backend.
    pub fn estimate<M: Classifier>(&self, model: &M, images: &Tensor<4>) -> Tensor<1> {
        let clean_logits = model.forward(images.clone()).detach();
        let noise = seeded_normal(images, self.seed).mul_scalar(0.001);
        let mut x = project(images.clone() + noise, images, self.epsilon);
        for _ in 0..self.steps {
            let g = input_gradient(model, &x, |logits, tracked| {
                ratio(clean_logits.clone(), logits, images.clone(), tracked)
            });
            x = project(
                x.detach() + g.sign().mul_scalar(self.step_size()),
                images,
                self.epsilon,
            );
        }
        ratio(clean_logits, model.forward(x.clone()), images.clone(), x).detach()
    }
}

/// Eq. (3)'s generators are this far from PGD's (`seed + k + r·2³²` for restart r), so an
/// image's two starts are independent draws.
const LIPSCHITZ_SEED_OFFSET: u64 = 1 << 48;

/// Standard normal noise of the shape of `images`, image `k` drawn from
/// `seed + 2⁴⁸ + k` (the Box–Muller transform of the generator's uniforms).
fn seeded_normal(images: &Tensor<4>, seed: u64) -> Tensor<4> {
    let shape = images.shape();
    let [n, ..] = images.dims();
    let per_image = shape.num_elements() / n.max(1);
    let first = seed.wrapping_add(LIPSCHITZ_SEED_OFFSET);
    let noise: Vec<f32> = (0..n as u64)
        .flat_map(|k| {
            let mut rng = StdRng::seed_from_u64(first.wrapping_add(k));
            (0..per_image)
                .map(|_| {
                    // 1 − u lies in (0, 1], so the logarithm is finite.
                    let radius = (-2.0 * (1.0 - rng.random::<f64>()).ln()).sqrt();
                    let angle = std::f64::consts::TAU * rng.random::<f64>();
                    (radius * angle.cos()) as f32
                })
                .collect::<Vec<_>>()
        })
        .collect();
    Tensor::from_data(TensorData::new(noise, shape), &images.device())
}
