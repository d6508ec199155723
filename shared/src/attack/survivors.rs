//! The points of a batch an attack has not broken yet. Strong attacks run in parts (APGD-T
//! one target after another, AutoAttack one attack after another); each part runs only on
//! the points every earlier part left correctly classified, which is where the time goes,
//! and a broken point keeps the image that broke it.

use burn::prelude::*;
use burn::tensor::TensorData;

use super::host;
use crate::loss::predictions;
use crate::model::Classifier;

/// The points still robust, and the adversarial images so far.
pub struct Survivors<'a, M> {
    model: &'a M,
    images: &'a Tensor<4>,
    labels: &'a Tensor<1, Int>,
    /// Whether each point is still classified correctly.
    robust: Vec<bool>,
    /// Each point's image: the one that broke it, or the latest attempt's result.
    adversarial: Vec<f32>,
    per_image: usize,
}

/// What a part of an attack is given: the still-robust points' images and labels, their
/// indices in the batch (as a tensor and on the host).
pub struct Part<'p> {
    pub images: Tensor<4>,
    pub labels: Tensor<1, Int>,
    pub index: Tensor<1, Int>,
    pub positions: &'p [usize],
}

impl<'p> Part<'p> {
    /// The points `positions` of a batch.
    pub fn of(images: &Tensor<4>, labels: &Tensor<1, Int>, positions: &'p [usize]) -> Self {
        let index = Tensor::<1, Int>::from_data(
            TensorData::new(
                positions.iter().map(|&k| k as i64).collect(),
                [positions.len()],
            ),
            &images.device(),
        );
        Self {
            images: images.clone().select(0, index.clone()),
            labels: labels.clone().select(0, index.clone()),
            index,
            positions,
        }
    }
}

impl<'a, M: Classifier> Survivors<'a, M> {
    /// The batch before any attack, given the model's `clean_logits` on it: a point the
    /// model already gets wrong is broken.
    fn new(
        model: &'a M,
        images: &'a Tensor<4>,
        labels: &'a Tensor<1, Int>,
        clean_logits: Tensor<2>,
    ) -> Self {
        let robust = host::bools(predictions(clean_logits).equal(labels.clone()));
        let [n, ..] = images.dims();
        Self {
            model,
            images,
            labels,
            robust,
            adversarial: host::floats(images.clone()),
            per_image: images.shape().num_elements() / n.max(1),
        }
    }

    /// The batch before any attack, and its classes ranked by clean logit (`[N, C]`) for the
    /// targeted parts to aim at.
    pub fn ranked(
        model: &'a M,
        images: &'a Tensor<4>,
        labels: &'a Tensor<1, Int>,
    ) -> (Self, Tensor<2, Int>) {
        let clean_logits = model.forward(images.clone().detach()).detach();
        let ranked = clean_logits.clone().argsort_descending(1);
        (Self::new(model, images, labels, clean_logits), ranked)
    }

    /// Runs `attack` on the points still robust and records what it found: a point it
    /// broke keeps that image for good; one it did not takes the attempt's image.
    pub fn attack(&mut self, attack: impl FnOnce(Part<'_>) -> Tensor<4>) {
        let positions: Vec<usize> = (0..self.robust.len()).filter(|&k| self.robust[k]).collect();
        if positions.is_empty() {
            return;
        }
        let part = Part::of(self.images, self.labels, &positions);
        let labels = part.labels.clone();
        let attacked = attack(part).detach();
        let holds = host::bools(predictions(self.model.forward(attacked.clone())).equal(labels));
        let values = host::floats(attacked);
        let size = self.per_image;
        for (slot, &k) in positions.iter().enumerate() {
            self.robust[k] = holds[slot];
            self.adversarial[k * size..(k + 1) * size]
                .copy_from_slice(&values[slot * size..(slot + 1) * size]);
        }
    }

    /// The adversarial images of the whole batch.
    pub fn into_images(self) -> Tensor<4> {
        Tensor::from_data(
            TensorData::new(self.adversarial, self.images.shape()),
            &self.images.device(),
        )
    }
}

/// The class ranked `rank` (0 = the top class) of each point `index` of a batch whose
/// classes are `ranked` by clean logit: a targeted run's targets.
pub fn ranked_target(
    ranked: &Tensor<2, Int>,
    index: &Tensor<1, Int>,
    rank: usize,
) -> Tensor<1, Int> {
    ranked
        .clone()
        .select(0, index.clone())
        .narrow(1, rank, 1)
        .squeeze_dim(1)
}
