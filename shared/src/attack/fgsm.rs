//! Fast gradient sign method: one step of size ε (Goodfellow et al.).

use burn::prelude::*;

use super::{input_gradient, project};
use crate::loss::cross_entropy;
use crate::model::Classifier;

pub fn fgsm<M: Classifier>(
    model: &M,
    images: &Tensor<4>,
    labels: &Tensor<1, Int>,
    epsilon: f32,
) -> Tensor<4> {
    let g = input_gradient(model, images, |logits, _| cross_entropy(logits, labels));
    project(
        images.clone() + g.sign().mul_scalar(epsilon),
        images,
        epsilon,
    )
}
