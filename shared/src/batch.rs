//! Moving dataset batches onto a device: `u8` pixels become `f32` in [0, 1] here, once per batch.

use burn::prelude::*;
use burn::tensor::TensorData;

use crate::data::{Dataset, ImageShape};

/// The images at `indices` as `[N, C, H, W]` in [0, 1] and their labels.
pub fn to_tensors(
    data: &Dataset,
    indices: &[usize],
    device: &Device,
) -> (Tensor<4>, Tensor<1, Int>) {
    let (pixels, labels) = data.batch_f32(indices);
    from_batch(pixels, &labels, data.shape(), device)
}

/// Pixels already in [0, 1] (NCHW, flattened) and their labels, as tensors on `device`.
pub fn from_batch(
    pixels: Vec<f32>,
    labels: &[u16],
    shape: ImageShape,
    device: &Device,
) -> (Tensor<4>, Tensor<1, Int>) {
    let n = labels.len();
    let images = Tensor::from_data(
        TensorData::new(pixels, [n, shape.channels, shape.height, shape.width]),
        device,
    );
    let labels: Vec<i64> = labels.iter().map(|&l| i64::from(l)).collect();
    (
        images,
        Tensor::from_data(TensorData::new(labels, [n]), device),
    )
}

/// `0..len` cut into consecutive batches of at most `batch_size`. Inside
/// [`crate::cancel::within`], a raised flag stops the work before its next batch.
pub fn sequential_batches(len: usize, batch_size: usize) -> impl Iterator<Item = Vec<usize>> {
    let batch_size = batch_size.max(1);
    (0..len).step_by(batch_size).map(move |start| {
        crate::cancel::stop_if_asked();
        (start..(start + batch_size).min(len)).collect()
    })
}
