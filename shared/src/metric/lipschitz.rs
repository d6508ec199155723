//! The empirical local Lipschitz constant of Eq. (3):
//! max over x′ in the ε-ball of ‖f(x) − f(x′)‖₁ / ‖x − x′‖∞, found by signed-gradient ascent.

use burn::prelude::*;
use burn::tensor::Distribution;

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
    /// The paper's setting: 10 steps of ε/5.
    pub fn paper(epsilon: f32) -> Self {
        Self {
            epsilon,
            steps: 10,
            step: LipschitzStep::FifthOfEpsilon,
        }
    }

    fn step_size(&self) -> f32 {
        match self.step {
            LipschitzStep::FifthOfEpsilon => self.epsilon / 5.0,
            LipschitzStep::Fixed(s) => s,
        }
    }

    /// The estimate at each image of the batch, `[N]`.
    pub fn estimate<M: Classifier>(&self, model: &M, images: &Tensor<4>) -> Tensor<1> {
        let clean_logits = model.forward(images.clone()).detach();
        let noise = images
            .random_like(Distribution::Normal(0.0, 1.0))
            .mul_scalar(0.001);
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
