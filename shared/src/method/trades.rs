//! TRADES (Zhang et al.): cross-entropy plus β times the KL divergence between the
//! predictions on clean and perturbed images.

use burn::prelude::*;
use burn::tensor::Distribution;

use crate::attack::{input_gradient, project};
use crate::loss::{cross_entropy, kl_divergence};
use crate::model::Classifier;

/// x′: start at x + 0.001·N(0, 1), then `steps` signed ascent steps of ε/5 on the KL.
pub fn perturb<M: Classifier>(
    attacker: &M,
    images: &Tensor<4>,
    epsilon: f32,
    steps: usize,
) -> Tensor<4> {
    let clean_logits = attacker.forward(images.clone()).detach();
    let noise = images
        .random_like(Distribution::Normal(0.0, 1.0))
        .mul_scalar(0.001);
    let mut x = (images.clone() + noise).clamp(0.0, 1.0);
    for _ in 0..steps {
        let g = input_gradient(attacker, &x, |logits, _| {
            kl_divergence(clean_logits.clone(), logits)
        });
        x = project(
            x.detach() + g.sign().mul_scalar(epsilon / 5.0),
            images,
            epsilon,
        );
    }
    x.detach()
}

pub fn loss<M: Classifier>(
    model: &M,
    attacker: &M,
    images: &Tensor<4>,
    labels: &Tensor<1, Int>,
    epsilon: f32,
    steps: usize,
    beta: f32,
) -> Tensor<1> {
    let adversarial = perturb(attacker, images, epsilon, steps);
    let logits = model.forward(images.clone());
    let ce = cross_entropy(logits.clone(), labels).mean();
    let kl = kl_divergence(logits, model.forward(adversarial)).mean();
    ce + kl.mul_scalar(beta)
}
