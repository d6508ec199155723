//! The projection every attack shares: onto the ε-ball around the clean images, within [0, 1].

use burn::prelude::*;

/// Clips `candidate` to `[clean − ε, clean + ε] ∩ [0, 1]`, element by element.
pub fn project(candidate: Tensor<4>, clean: &Tensor<4>, epsilon: f32) -> Tensor<4> {
    let low = clean.clone().sub_scalar(epsilon).clamp_min(0.0);
    let high = clean.clone().add_scalar(epsilon).clamp_max(1.0);
    candidate.max_pair(low).min_pair(high)
}
