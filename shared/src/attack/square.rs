//! The Square attack (Andriushchenko et al., ECCV 2020), ℓ∞: a black-box random search that
//! needs only the model's outputs. From vertical stripes at ±ε it tries, query by query, a
//! square of ±2ε per channel at a random place, and keeps it when the margin of the true
//! class drops; squares shrink on a fixed schedule. No gradient is taken, so a model that
//! hides its gradients (gradient masking) is attacked as well as any other.
//!
//! The search runs on the host (it is elementwise and cheap); the model runs on its device,
//! on the examples not yet fooled. Each image draws from its own generator (`seed + k`), so
//! a result does not depend on the batch it was in.

use burn::prelude::*;
use burn::tensor::TensorData;
use rand::{RngExt, SeedableRng, rngs::StdRng};

use super::{consecutive_seeds, host};
use crate::model::Classifier;

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Square {
    pub epsilon: f32,
    /// Model evaluations per image, the first included.
    pub queries: usize,
    /// The fraction of pixels the first squares cover.
    pub p_init: f32,
    pub seed: u64,
}

impl Square {
    /// As AutoAttack runs it: 5,000 queries, p_init = 0.8.
    pub fn standard(epsilon: f32, seed: u64) -> Self {
        Self {
            epsilon,
            queries: 5_000,
            p_init: 0.8,
            seed,
        }
    }

    /// The fraction of pixels a square covers at query `i` (the reference schedule for
    /// 10,000 queries, not rescaled, as AutoAttack uses it).
    pub fn fraction(&self, i: usize) -> f32 {
        let halvings = match i {
            0..=10 => 0,
            11..=50 => 1,
            51..=200 => 2,
            201..=500 => 3,
            501..=1000 => 4,
            1001..=2000 => 5,
            2001..=4000 => 6,
            4001..=6000 => 7,
            6001..=8000 => 8,
            _ => 9,
        };
        self.p_init / (1u32 << halvings) as f32
    }

    /// Adversarial images: for each example the point of lowest margin found, which is
    /// misclassified when the search succeeded. Image `k` searches with `seed + k`.
    pub fn attack<M: Classifier>(
        &self,
        model: &M,
        images: &Tensor<4>,
        labels: &Tensor<1, Int>,
    ) -> Tensor<4> {
        let seeds = consecutive_seeds(self.seed, images.dims()[0]);
        self.attack_seeded(model, images, labels, &seeds)
    }

    /// [`Square::attack`] with image `k` searching from `seeds[k]`.
    pub fn attack_seeded<M: Classifier>(
        &self,
        model: &M,
        images: &Tensor<4>,
        labels: &Tensor<1, Int>,
        seeds: &[u64],
    ) -> Tensor<4> {
        let [n, c, h, w] = images.dims();
        let device = images.device();
        let per_image = c * h * w;
        let clean = host::floats(images.clone());
        let labels = host::ints(labels.clone());
        let eps = self.epsilon;
        let mut rngs: Vec<StdRng> = seeds.iter().map(|&s| StdRng::seed_from_u64(s)).collect();
        let clip =
            |value: f32, original: f32| value.clamp(original - eps, original + eps).clamp(0.0, 1.0);
        // Vertical stripes: one random sign per channel and column.
        let mut best = clean.clone();
        for (k, rng) in rngs.iter_mut().enumerate() {
            for channel in 0..c {
                for column in 0..w {
                    let sign = if rng.random_bool(0.5) { eps } else { -eps };
                    for row in 0..h {
                        let at = k * per_image + (channel * h + row) * w + column;
                        best[at] = clip(clean[at] + sign, clean[at]);
                    }
                }
            }
        }
        let margins = |points: &[f32], which: &[usize]| -> Vec<f32> {
            let batch = Tensor::<4>::from_data(
                TensorData::new(points.to_vec(), [which.len(), c, h, w]),
                &device,
            );
            let logits = host::floats(model.forward(batch));
            let classes = logits.len() / which.len().max(1);
            which
                .iter()
                .zip(logits.chunks(classes))
                .map(|(&k, z)| {
                    let y = labels[k] as usize;
                    let other = z
                        .iter()
                        .enumerate()
                        .filter(|&(j, _)| j != y)
                        .map(|(_, &v)| v)
                        .fold(f32::NEG_INFINITY, f32::max);
                    z[y] - other
                })
                .collect()
        };
        let everyone: Vec<usize> = (0..n).collect();
        let mut margin = margins(&best, &everyone);
        for i in 1..self.queries {
            let remaining: Vec<usize> = (0..n).filter(|&k| margin[k] > 0.0).collect();
            if remaining.is_empty() {
                break;
            }
            let side = ((self.fraction(i - 1) * (per_image / c) as f32)
                .sqrt()
                .round() as usize)
                .clamp(1, h.min(w).saturating_sub(1).max(1));
            let mut candidates = Vec::with_capacity(remaining.len() * per_image);
            for &k in &remaining {
                let rng = &mut rngs[k];
                let top = rng.random_range(0..=h - side);
                let left = rng.random_range(0..=w - side);
                let start = k * per_image;
                let mut candidate = best[start..start + per_image].to_vec();
                for channel in 0..c {
                    let sign = if rng.random_bool(0.5) {
                        2.0 * eps
                    } else {
                        -2.0 * eps
                    };
                    for row in top..top + side {
                        for column in left..left + side {
                            let at = (channel * h + row) * w + column;
                            candidate[at] = clip(candidate[at] + sign, clean[start + at]);
                        }
                    }
                }
                candidates.extend(candidate);
            }
            let tried = margins(&candidates, &remaining);
            for (slot, (&k, &m)) in remaining.iter().zip(&tried).enumerate() {
                if m < margin[k] {
                    margin[k] = m;
                    best[k * per_image..(k + 1) * per_image]
                        .copy_from_slice(&candidates[slot * per_image..(slot + 1) * per_image]);
                }
            }
        }
        Tensor::from_data(TensorData::new(best, [n, c, h, w]), &device)
    }
}
