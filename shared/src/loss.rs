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

/// The `k` largest logits of each example, largest first, each `[N]`, found by taking the
/// maximum and masking it out `k` times: no sort, because sorting on WebGPU reads the
/// tensor back synchronously, which a browser cannot do. Gradients flow to the logits.
fn largest(logits: Tensor<2>, k: usize) -> Vec<Tensor<1>> {
    let [n, classes] = logits.dims();
    assert!(k <= classes, "the {k} largest of {classes} logits");
    let class_of = Tensor::<1, Int>::arange(0..classes as i64, &logits.device())
        .unsqueeze::<2>()
        .expand([n, classes]);
    let mut remaining = logits;
    (0..k)
        .map(|_| {
            let index = remaining.clone().argmax(1);
            let value = remaining.clone().gather(1, index.clone()).squeeze_dim(1);
            let taken = class_of.clone().equal(index.expand([n, classes]));
            remaining = remaining.clone().mask_fill(taken, f32::NEG_INFINITY);
            value
        })
        .collect()
}

/// The Difference of Logits Ratio of Croce & Hein (2020), per example:
/// −(z_y − max_{i≠y} z_i) / (z_π1 − z_π3 + 10⁻¹²), π the classes by descending logit.
/// Invariant to shifting and scaling the logits; needs at least 3 classes.
pub fn dlr(logits: Tensor<2>, labels: &Tensor<1, Int>) -> Tensor<1> {
    let [first, second, third]: [Tensor<1>; 3] =
        largest(logits.clone(), 3).try_into().expect("three values");
    let top_is_label = predictions(logits.clone()).equal(labels.clone());
    let best_other = second.mask_where(top_is_label.bool_not(), first.clone());
    let z_y = logits.gather(1, label_index(labels)).squeeze_dim(1);
    let scale = first - third + 1e-12;
    (z_y - best_other).neg() / scale
}

/// The targeted DLR, per example: −(z_y − z_t) / (z_π1 − ½(z_π3 + z_π4) + 10⁻¹²); needs
/// at least 4 classes.
pub fn targeted_dlr(
    logits: Tensor<2>,
    labels: &Tensor<1, Int>,
    targets: &Tensor<1, Int>,
) -> Tensor<1> {
    let [first, _, third, fourth]: [Tensor<1>; 4] =
        largest(logits.clone(), 4).try_into().expect("four values");
    let scale = first - (third + fourth).mul_scalar(0.5) + 1e-12;
    margin(logits, labels, targets) / scale
}
