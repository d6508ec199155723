//! Per-example losses written once: cross-entropy, KL divergence and the logit margin.
//! Per-example (not batch-mean) so methods can regularise example by example and
//! attacks get each example's own gradient from one backward pass over the batch sum.

use burn::prelude::*;
use burn::tensor::activation::{log_softmax, softmax};

/// Labels as the `[N, 1]` index tensor that `gather` wants.
fn label_index(labels: &Tensor<1, Int>) -> Tensor<2, Int> {
    labels.clone().unsqueeze_dim(1)
}

/// Cross-entropy of each example: `−log softmax(z)_y`, shape `[N]`.
pub fn cross_entropy(logits: Tensor<2>, labels: &Tensor<1, Int>) -> Tensor<1> {
    log_softmax(logits, 1)
        .gather(1, label_index(labels))
        .neg()
        .squeeze_dim(1)
}

/// KL(softmax(p_logits) ‖ softmax(q_logits)) of each example, shape `[N]`.
pub fn kl_divergence(p_logits: Tensor<2>, q_logits: Tensor<2>) -> Tensor<1> {
    let log_p = log_softmax(p_logits, 1);
    let log_q = log_softmax(q_logits, 1);
    (log_p.clone().exp() * (log_p - log_q))
        .sum_dim(1)
        .squeeze_dim(1)
}

/// Class probabilities, `[N, classes]`.
pub fn probabilities(logits: Tensor<2>) -> Tensor<2> {
    softmax(logits, 1)
}

/// `z_target − z_label` of each example: positive when the target class wins over the label.
pub fn margin(logits: Tensor<2>, labels: &Tensor<1, Int>, targets: &Tensor<1, Int>) -> Tensor<1> {
    let z_t = logits.clone().gather(1, label_index(targets));
    let z_y = logits.gather(1, label_index(labels));
    (z_t - z_y).squeeze_dim(1)
}

/// Predicted class of each example.
pub fn predictions(logits: Tensor<2>) -> Tensor<1, Int> {
    logits.argmax(1).squeeze_dim(1)
}

/// The logits of each example sorted descending by class score, as `[N, C]`, through a
/// gather so that gradients flow to the logits themselves.
fn sorted_descending(logits: Tensor<2>) -> Tensor<2> {
    let order = logits.clone().argsort_descending(1);
    logits.gather(1, order)
}

/// Column `k` of a `[N, C]` tensor, as `[N]`.
fn column(values: Tensor<2>, k: usize) -> Tensor<1> {
    values.narrow(1, k, 1).squeeze_dim(1)
}

/// The Difference of Logits Ratio of Croce & Hein (2020), per example:
/// −(z_y − max_{i≠y} z_i) / (z_π1 − z_π3 + 10⁻¹²), π the classes by descending logit.
/// Invariant to shifting and scaling the logits; needs at least 3 classes.
pub fn dlr(logits: Tensor<2>, labels: &Tensor<1, Int>) -> Tensor<1> {
    let sorted = sorted_descending(logits.clone());
    let top_is_label = predictions(logits.clone()).equal(labels.clone());
    let best_other =
        column(sorted.clone(), 1).mask_where(top_is_label.bool_not(), column(sorted.clone(), 0));
    let z_y = logits.gather(1, label_index(labels)).squeeze_dim(1);
    let scale = column(sorted.clone(), 0) - column(sorted, 2) + 1e-12;
    (z_y - best_other).neg() / scale
}

/// The targeted DLR, per example: −(z_y − z_t) / (z_π1 − ½(z_π3 + z_π4) + 10⁻¹²); needs
/// at least 4 classes.
pub fn targeted_dlr(
    logits: Tensor<2>,
    labels: &Tensor<1, Int>,
    targets: &Tensor<1, Int>,
) -> Tensor<1> {
    let sorted = sorted_descending(logits.clone());
    let z_y = logits.clone().gather(1, label_index(labels)).squeeze_dim(1);
    let z_t = logits.gather(1, label_index(targets)).squeeze_dim(1);
    let scale = column(sorted.clone(), 0)
        - (column(sorted.clone(), 2) + column(sorted, 3)).mul_scalar(0.5)
        + 1e-12;
    (z_y - z_t).neg() / scale
}
