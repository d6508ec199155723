//! Projected gradient descent in ℓ∞ (Madry et al.): signed-gradient ascent on the
//! cross-entropy, projected after every step.

use burn::prelude::*;
use burn::tensor::Distribution;

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

    pub fn validate(&self) -> Result<(), String> {
        if !(self.epsilon.is_finite() && (0.0..=1.0).contains(&self.epsilon)) {
            return Err(format!("PGD ε = {} is outside [0, 1]", self.epsilon));
        }
        if !(self.step_size.is_finite() && self.step_size >= 0.0) {
            return Err(format!(
                "PGD step size {} must be a finite number ≥ 0",
                self.step_size
            ));
        }
        if self.restarts == 0 {
            return Err("PGD needs at least one restart".into());
        }
        Ok(())
    }

    pub fn attack<M: Classifier>(
        &self,
        model: &M,
        images: &Tensor<4>,
        labels: &Tensor<1, Int>,
    ) -> Tensor<4> {
        let mut best = self.single_run(model, images, labels);
        for _ in 1..self.restarts {
            let still_correct =
                predictions(model.forward(best.clone().detach())).equal(labels.clone());
            let candidate = self.single_run(model, images, labels);
            let mask = still_correct.reshape([-1, 1, 1, 1]).expand(images.shape());
            best = best.mask_where(mask, candidate);
        }
        best
    }

    fn single_run<M: Classifier>(
        &self,
        model: &M,
        images: &Tensor<4>,
        labels: &Tensor<1, Int>,
    ) -> Tensor<4> {
        let mut x = if self.random_start {
            let noise = images.random_like(Distribution::Uniform(
                -f64::from(self.epsilon),
                f64::from(self.epsilon),
            ));
            project(images.clone() + noise, images, self.epsilon)
        } else {
            images.clone()
        };
        for _ in 0..self.steps {
            let g = input_gradient(model, &x, |logits, _| cross_entropy(logits, labels));
            x = project(
                x.detach() + g.sign().mul_scalar(self.step_size),
                images,
                self.epsilon,
            );
        }
        x.detach()
    }
}
