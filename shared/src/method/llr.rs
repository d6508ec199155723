//! Locally linear regularisation (Qin et al.): as the paper defines it, with the real
//! input gradient in its linear terms, and as the paper's reference code ran it, with that
//! gradient zeroed by accident (`llr-ref`), so both can be set beside the paper's numbers.

use burn::prelude::*;
use burn::tensor::Distribution;

use crate::attack::{input_gradient, project};
use crate::loss::cross_entropy;
use crate::model::Classifier;

/// Step of the central difference that stands in for δ·∇ₓCE inside the loss, so its
/// weight-gradient needs no second-order autodiff.
const CENTRAL_DIFFERENCE_STEP: f32 = 1e-2;

/// Σ over pixels of `a · b`, per example.
fn dot_per_example(a: Tensor<4>, b: Tensor<4>) -> Tensor<1> {
    let [n, ..] = a.dims();
    (a * b).reshape([n as i32, -1]).sum_dim(1).squeeze_dim(1)
}

/// Which input gradient g = ∇ₓCE(x) the linear terms use.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Linearity {
    /// The real gradient, with the weight μ of the |δ·g| term (LLR as defined).
    AsDefined { mu: f32 },
    /// g zeroed, as in the reference code (which zeroed the tensor it had just returned):
    /// the linear terms vanish and δ maximises |CE(x+δ) − CE(x)|.
    ReferenceCode,
}

/// CE(x) + λ·|CE(x+δ) − CE(x) − δ·g| + μ·|δ·g|, with δ the 2-step search (steps ε/2) for
/// the largest non-linearity inside the ε-ball.
pub fn loss<M: Classifier>(
    model: &M,
    attacker: &M,
    images: &Tensor<4>,
    labels: &Tensor<1, Int>,
    epsilon: f32,
    lambda: f32,
    linearity: Linearity,
) -> Tensor<1> {
    let gradient = match linearity {
        Linearity::AsDefined { mu } => Some((
            input_gradient(attacker, images, |logits, _| cross_entropy(logits, labels)),
            mu,
        )),
        Linearity::ReferenceCode => None,
    };
    let ce_clean = cross_entropy(attacker.forward(images.clone()), labels).detach();

    let start = images.random_like(Distribution::Uniform(
        -f64::from(epsilon),
        f64::from(epsilon),
    ));
    let mut perturbed = project(images.clone() + start, images, epsilon);
    for _ in 0..2 {
        let g = input_gradient(attacker, &perturbed, |logits, tracked| {
            let change = cross_entropy(logits, labels) - ce_clean.clone();
            match &gradient {
                Some((gradient, _)) => {
                    (change - dot_per_example(tracked - images.clone(), gradient.clone())).abs()
                }
                None => change.abs(),
            }
        });
        perturbed = project(
            perturbed.detach() + g.sign().mul_scalar(epsilon / 2.0),
            images,
            epsilon,
        );
    }
    let delta = (perturbed.clone() - images.clone()).detach();

    let ce = cross_entropy(model.forward(images.clone()), labels);
    let ce_perturbed = cross_entropy(model.forward(perturbed), labels);
    let Some((_, mu)) = gradient else {
        let nonlinearity = (ce_perturbed - ce.clone()).abs();
        return ce.mean() + nonlinearity.mean().mul_scalar(lambda);
    };
    let t = CENTRAL_DIFFERENCE_STEP;
    let forward = cross_entropy(
        model.forward(images.clone() + delta.clone().mul_scalar(t)),
        labels,
    );
    let backward = cross_entropy(model.forward(images.clone() - delta.mul_scalar(t)), labels);
    let linear = (forward - backward).div_scalar(2.0 * t);
    let nonlinearity = (ce_perturbed - ce.clone() - linear.clone()).abs();
    ce.mean() + nonlinearity.mean().mul_scalar(lambda) + linear.abs().mean().mul_scalar(mu)
}
