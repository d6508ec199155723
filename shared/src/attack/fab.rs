//! FAB-T (Croce & Hein, ICML 2020), ℓ∞: the targeted fast adaptive boundary attack, as
//! AutoAttack's standard version runs it (100 iterations toward each of the 9 classes ranked
//! next on the clean input, no random start, α_max 0.1, η 1.05, β 0.9).
//!
//! Each step linearises the decision boundary between the true class and the target at the
//! current point and projects onto that hyperplane (within [0, 1]) twice: from the current
//! point and from the clean image. It moves to a mix of the two that leans toward the clean
//! image when the current point is far from it, so the attack looks for the *smallest*
//! adversarial perturbation; a point counts as broken when one within ε was found.
//!
//! The model runs on its device; the projections run on the host (a sort per image). FAB-T
//! draws no random numbers, so a point's result does not depend on its batch.

use burn::prelude::*;
use burn::tensor::TensorData;

use super::survivors::{Survivors, ranked_target};
use super::{host, input_gradient};
use crate::loss::{margin, predictions};
use crate::model::Classifier;

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Fab {
    pub epsilon: f32,
    pub iterations: usize,
    /// Target classes: those ranked 2nd … (targets + 1)th on the clean input.
    pub targets: usize,
}

/// The largest weight of the step from the clean image.
const ALPHA_MAX: f32 = 0.1;
/// Overshoot past the linearised boundary.
const ETA: f32 = 1.05;
/// How far toward the clean image an adversarial point is pulled back.
const BETA: f32 = 0.9;

impl Fab {
    /// FAB-T as AutoAttack runs it.
    pub fn targeted(epsilon: f32) -> Self {
        Self {
            epsilon,
            iterations: 100,
            targets: 9,
        }
    }

    /// Per point, an adversarial image within ε when one was found toward any target, else
    /// the clean image. Each target is tried only on the points the earlier ones left robust.
    pub fn attack<M: Classifier>(
        &self,
        model: &M,
        images: &Tensor<4>,
        labels: &Tensor<1, Int>,
    ) -> Tensor<4> {
        let (mut survivors, ranked) = Survivors::ranked(model, images, labels);
        let classes = ranked.dims()[1];
        for rank in self.ranks(classes) {
            survivors.attack(|part| {
                let target = ranked_target(&ranked, &part.index, rank);
                self.toward(model, &part.images, &part.labels, &target)
            });
        }
        survivors.into_images()
    }

    /// The ranks (on the clean input) of the target classes, 1 being the class ranked second.
    pub fn ranks(&self, classes: usize) -> std::ops::RangeInclusive<usize> {
        1..=self.targets.min(classes.saturating_sub(1))
    }

    /// FAB toward one target class per point: the smallest adversarial point found when it
    /// is within ε, else the clean image. A point broken within ε stops being attacked:
    /// whether it can be broken is all that counts.
    pub fn toward<M: Classifier>(
        &self,
        model: &M,
        images: &Tensor<4>,
        labels: &Tensor<1, Int>,
        targets: &Tensor<1, Int>,
    ) -> Tensor<4> {
        let [n, c, h, w] = images.dims();
        let size = c * h * w;
        let device = images.device();
        let clean = host::floats(images.clone());
        let labels_host = host::ints(labels.clone());
        let mut current = clean.clone();
        let mut found: Vec<Option<Vec<f32>>> = vec![None; n];
        let mut scratch = Vec::with_capacity(size);
        let mut active: Vec<usize> = (0..n).collect();
        for _ in 0..self.iterations {
            if active.is_empty() {
                break;
            }
            let index = Tensor::<1, Int>::from_data(
                TensorData::new(active.iter().map(|&k| k as i64).collect(), [active.len()]),
                &device,
            );
            let points = gather_rows(&current, &active, size);
            let x = Tensor::<4>::from_data(
                TensorData::new(points.clone(), [active.len(), c, h, w]),
                &device,
            );
            let (y, t) = (
                labels.clone().select(0, index.clone()),
                targets.clone().select(0, index),
            );
            // f = z_t − z_y (negative while the point is correct) and its gradient.
            let mut difference = None;
            let gradient = input_gradient(model, &x, |logits, _| {
                let f = margin(logits, &y, &t);
                difference = Some(f.clone().detach());
                f
            });
            let f = host::floats(difference.expect("the objective ran"));
            let g = host::floats(gradient);
            for (slot, &k) in active.iter().enumerate() {
                let point = &points[slot * size..(slot + 1) * size];
                let normal = &g[slot * size..(slot + 1) * size];
                let origin = &clean[k * size..(k + 1) * size];
                // The linearised boundary: normal · x' = offset.
                let offset = dot(normal, point) - f64::from(f[slot]);
                let from_point = linf_projection(point, normal, offset, &mut scratch);
                let from_origin = linf_projection(origin, normal, offset, &mut scratch);
                let a1 = linf_norm(&from_point).max(1e-8);
                let a2 = linf_norm(&from_origin).max(1e-8);
                let alpha = (a1 / (a1 + a2)).clamp(0.0, ALPHA_MAX);
                let next = &mut current[k * size..(k + 1) * size];
                let steps = point.iter().zip(&from_point);
                let returns = origin.iter().zip(&from_origin);
                for (value, ((&p, &dp), (&o, &d0))) in next.iter_mut().zip(steps.zip(returns)) {
                    *value =
                        ((p + ETA * dp) * (1.0 - alpha) + (o + ETA * d0) * alpha).clamp(0.0, 1.0);
                }
            }
            let moved = gather_rows(&current, &active, size);
            let predicted = host::ints(predictions(model.forward(Tensor::<4>::from_data(
                TensorData::new(moved, [active.len(), c, h, w]),
                &device,
            ))));
            let mut still = Vec::with_capacity(active.len());
            for (slot, &k) in active.iter().enumerate() {
                if predicted[slot] == labels_host[k] {
                    still.push(k);
                    continue;
                }
                let origin = &clean[k * size..(k + 1) * size];
                let point = &mut current[k * size..(k + 1) * size];
                let distance = point
                    .iter()
                    .zip(origin)
                    .map(|(p, o)| (p - o).abs())
                    .fold(0.0f32, f32::max);
                if distance <= self.epsilon {
                    found[k] = Some(point.to_vec());
                    continue;
                }
                for (p, &o) in point.iter_mut().zip(origin) {
                    *p = o + (*p - o) * BETA;
                }
                still.push(k);
            }
            active = still;
        }
        let mut result = clean;
        for (k, point) in found.into_iter().enumerate() {
            if let Some(point) = point {
                result[k * size..(k + 1) * size].copy_from_slice(&point);
            }
        }
        Tensor::from_data(TensorData::new(result, [n, c, h, w]), &device)
    }
}

/// The smallest ℓ∞ step `d` with `normal · (point + d) = offset` and `point + d` in
/// [0, 1]; when the box does not reach the hyperplane, the step that gets closest (every
/// coordinate as far as the box lets it go toward the hyperplane).
///
/// With a radius λ, coordinate i can change `normal · point` by |normalᵢ|·min(λ, roomᵢ),
/// where roomᵢ is its distance to the box's edge in the helpful direction. That sum is
/// piecewise linear and increasing in λ, so the coordinates sorted by room give λ exactly.
pub fn linf_projection(
    point: &[f32],
    normal: &[f32],
    offset: f64,
    scratch: &mut Vec<(f32, f32)>,
) -> Vec<f32> {
    let needed = offset - dot(normal, point);
    let mut step = vec![0.0f32; point.len()];
    if needed == 0.0 || !needed.is_finite() {
        return step;
    }
    let up = needed > 0.0;
    // Each coordinate's room in the helpful direction, and its weight |normalᵢ|.
    let room = |i: usize| {
        if (normal[i] > 0.0) == up {
            1.0 - point[i]
        } else {
            point[i]
        }
    };
    scratch.clear();
    scratch.extend(
        (0..point.len())
            .filter(|&i| normal[i] != 0.0)
            .map(|i| (room(i), normal[i].abs())),
    );
    scratch.sort_by(|a, b| a.0.total_cmp(&b.0));
    let target = needed.abs();
    let mut slope: f64 = scratch.iter().map(|&(_, weight)| f64::from(weight)).sum();
    let mut saturated = 0.0f64;
    let mut radius = f32::INFINITY;
    for &(room, weight) in scratch.iter() {
        let reach = saturated + slope * f64::from(room);
        if reach >= target {
            radius = ((target - saturated) / slope) as f32;
            break;
        }
        saturated += f64::from(weight) * f64::from(room);
        slope -= f64::from(weight);
    }
    for (i, d) in step.iter_mut().enumerate() {
        if normal[i] != 0.0 {
            let direction = if (normal[i] > 0.0) == up { 1.0 } else { -1.0 };
            *d = direction * radius.min(room(i));
        }
    }
    step
}

fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| f64::from(x) * f64::from(y))
        .sum()
}

fn linf_norm(v: &[f32]) -> f32 {
    v.iter().fold(0.0f32, |m, x| m.max(x.abs()))
}

/// Rows `which` of a row-major host array of rows of `size`.
fn gather_rows(values: &[f32], which: &[usize], size: usize) -> Vec<f32> {
    which
        .iter()
        .flat_map(|&k| &values[k * size..(k + 1) * size])
        .copied()
        .collect()
}
