//! GR in finite-difference form: the reference code's way to penalise the input gradient
//! with first-order autodiff only.

use burn::prelude::*;

use crate::attack::input_gradient;
use crate::loss::cross_entropy;
use crate::model::Classifier;

/// Scales each example of `[N, C, H, W]` to unit ℓ2 norm (zero stays zero).
pub(super) fn normalize_per_example(g: Tensor<4>) -> Tensor<4> {
    let [n, ..] = g.dims();
    let norms = g
        .clone()
        .powi_scalar(2)
        .reshape([n as i32, -1])
        .sum_dim(1)
        .sqrt()
        .clamp_min(1e-12);
    g / norms.reshape([n, 1, 1, 1])
}

/// CE(x) + λ/2 · ((CE(x + h·v) − CE(x)) / h)², v the detached, normalised ∇ₓCE.
pub fn loss<M: Classifier>(
    model: &M,
    attacker: &M,
    images: &Tensor<4>,
    labels: &Tensor<1, Int>,
    lambda: f32,
    h: f32,
) -> Tensor<1> {
    let ce = cross_entropy(model.forward(images.clone()), labels);
    let direction = normalize_per_example(input_gradient(attacker, images, |logits, _| {
        cross_entropy(logits, labels)
    }));
    let shifted = cross_entropy(
        model.forward(images.clone() + direction.mul_scalar(h)),
        labels,
    );
    let derivative = (shifted - ce.clone()).div_scalar(h);
    ce.mean() + derivative.powi_scalar(2).mean().mul_scalar(lambda / 2.0)
}
