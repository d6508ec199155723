//! The passes of a 2-D convolution on plain NCHW slices, each the GEMM it is.
//!
//! With `col` the im2col matrix of one image (`[patch_len, out_pixels]`, see [`im2col`])
//! and `W` the weight as `[filters, patch_len]`:
//! - forward: `y = W · col + b` (through a ReLU when fused);
//! - input gradient: `dx = col2im(Wᵀ · dy)`;
//! - weight gradient: `dW = Σ_images dy · colᵀ`, `db = Σ_images Σ_pixels dy`.
//!
//! Images are spread over threads; a batch smaller than the pool runs each product on all
//! threads instead. The backward pass takes one image at a time through all of its work
//! (the ReLU mask, both gradients) while the image's data is in cache.

mod im2col;
mod shape;

pub use shape::ConvShape;

use core::ops::Range;

use super::matmul::{Matrix, matmul, transpose};
use super::select::{self, select_f32};
use super::workers::{for_each_image, for_each_run, per_image_threads, with_scratch};
use im2col::{col2im, im2col};

/// The convolution of `x` (`[batch, channels, height, width]`) with `weight` (`[filters,
/// channels, kh, kw]`) plus `bias` (`[filters]`): `[batch, filters, out_height, out_width]`,
/// through a ReLU when `relu`.
pub fn forward(
    x: &[f32],
    weight: &[f32],
    bias: Option<&[f32]>,
    relu: bool,
    shape: &ConvShape,
) -> Vec<f32> {
    assert_eq!(x.len(), shape.batch * shape.image_len(), "input size");
    assert_eq!(
        weight.len(),
        shape.filters * shape.patch_len(),
        "weight size"
    );
    let (patch, pixels) = (shape.patch_len(), shape.out_pixels());
    let weight = Matrix::row_major(weight, shape.filters, patch);
    let threads = per_image_threads(shape.batch);
    let mut y = vec![0.0; shape.batch * shape.out_image_len()];
    for_each_image(&mut y, shape.out_image_len(), |n, out| {
        for tile in shape.row_tiles() {
            let first = tile.start * shape.out_width();
            with_patches(image(x, shape, n), shape, tile, |col| {
                let col = Matrix::row_major(col, patch, col.len() / patch);
                matmul(&mut out[first..], pixels, false, weight, col, threads);
            });
        }
        for (filter, row) in out.chunks_exact_mut(pixels).enumerate() {
            let b = bias.map_or(0.0, |bias| bias[filter]);
            if relu {
                for value in row {
                    *value = select::relu(*value + b);
                }
            } else {
                for value in row {
                    *value += b;
                }
            }
        }
    });
    y
}

/// What the backward pass computes: the gradients with respect to the input (`[batch,
/// channels, height, width]`), the weight and the bias, each only when asked for.
#[derive(Debug, Default)]
pub struct Gradients {
    pub input: Option<Vec<f32>>,
    pub weight: Option<Vec<f32>>,
    pub bias: Option<Vec<f32>>,
}

/// Which gradients a backward pass needs: an attack on a frozen model asks for the
/// input's alone, and no weight gradient is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needed {
    pub input: bool,
    pub weight: bool,
    pub bias: bool,
}

/// The backward pass, given `dy` for the output and, for a fused ReLU, its output `y`
/// (no gradient flows where `y ≤ 0`, as burn defines the ReLU's backward).
pub fn backward(
    x: &[f32],
    weight: &[f32],
    dy: &[f32],
    relu_output: Option<&[f32]>,
    needed: Needed,
    shape: &ConvShape,
) -> Gradients {
    assert_eq!(x.len(), shape.batch * shape.image_len(), "input size");
    assert_eq!(
        weight.len(),
        shape.filters * shape.patch_len(),
        "weight size"
    );
    assert_eq!(
        dy.len(),
        shape.batch * shape.out_image_len(),
        "output gradient size"
    );
    if let Some(y) = relu_output {
        assert_eq!(y.len(), dy.len(), "ReLU output size");
    }
    let (filters, patch, pixels) = (shape.filters, shape.patch_len(), shape.out_pixels());
    let weight_t = Matrix::transposed(weight, patch, filters);
    let threads = per_image_threads(shape.batch);
    let weight_len = if needed.weight { filters * patch } else { 0 };
    // The weight gradient's GEMM contracts over pixels. Reading the im2col matrix across
    // its rows runs at two thirds of the GEMM's rate here; when the patch is the longer
    // side, the runs sum dWᵀ = col · dyᵀ instead (dyᵀ is the small copy) and it is turned
    // around once at the end.
    let sum_transposed = patch > filters && !shape.is_pointwise();
    let bias_len = if needed.bias { filters } else { 0 };
    let mut dx = vec![0.0; if needed.input { x.len() } else { 0 }];
    let per_image = if needed.input { shape.image_len() } else { 0 };
    let mut sums = for_each_run(
        shape.batch,
        &mut dx,
        per_image,
        weight_len + bias_len,
        |images, dx, sum| {
            let (dw, db) = sum.split_at_mut(weight_len);
            for (i, n) in images.enumerate() {
                let dy = out_image(dy, shape, n);
                with_scratch(dy.len(), |masked| {
                    let dy = match relu_output {
                        Some(y) => {
                            for ((m, &g), &y) in
                                masked.iter_mut().zip(dy).zip(out_image(y, shape, n))
                            {
                                *m = select_f32(y <= 0.0, 0.0, g);
                            }
                            &*masked
                        }
                        None => dy,
                    };
                    for tile in shape.row_tiles() {
                        let first = tile.start * shape.out_width();
                        let tile_pixels = tile.len() * shape.out_width();
                        let dy = Matrix::columns(&dy[first..], filters, tile_pixels, pixels);
                        if needed.input {
                            let dx = &mut dx[i * per_image..(i + 1) * per_image];
                            if shape.is_pointwise() {
                                matmul(dx, pixels, false, weight_t, dy, threads);
                            } else {
                                with_scratch(patch * tile_pixels, |dcol| {
                                    matmul(dcol, tile_pixels, false, weight_t, dy, threads);
                                    col2im(dcol, shape, tile.clone(), dx);
                                });
                            }
                        }
                        if needed.weight {
                            let accumulate = i > 0 || tile.start > 0;
                            with_patches(image(x, shape, n), shape, tile.clone(), |col| {
                                if sum_transposed {
                                    // dWᵀ += col · dyᵀ, with dyᵀ copied out row-major.
                                    with_scratch(filters * tile_pixels, |dy_t| {
                                        transpose(dy, dy_t);
                                        let col = Matrix::row_major(col, patch, tile_pixels);
                                        let dy_t = Matrix::row_major(dy_t, tile_pixels, filters);
                                        matmul(dw, filters, accumulate, col, dy_t, threads);
                                    });
                                } else {
                                    let col_t = Matrix::transposed(col, tile_pixels, patch);
                                    matmul(dw, patch, accumulate, dy, col_t, threads);
                                }
                            });
                        }
                    }
                    for (b, row) in db.iter_mut().zip(dy.chunks_exact(pixels)) {
                        *b += sum_of(row);
                    }
                });
            }
        },
    );
    let bias = needed.bias.then(|| sums.split_off(weight_len));
    let weight = needed.weight.then(|| {
        if sum_transposed {
            let mut dw = vec![0.0; weight_len];
            transpose(Matrix::row_major(&sums, patch, filters), &mut dw);
            dw
        } else {
            sums
        }
    });
    Gradients {
        input: needed.input.then_some(dx),
        weight,
        bias,
    }
}

/// Runs `work` on the im2col matrix of one image's output rows `tile`: the image itself
/// for a pointwise convolution (one tile), a scratch buffer otherwise.
fn with_patches<R>(
    image: &[f32],
    shape: &ConvShape,
    tile: Range<usize>,
    work: impl FnOnce(&[f32]) -> R,
) -> R {
    if shape.is_pointwise() {
        return work(image);
    }
    with_scratch(shape.patch_len() * tile.len() * shape.out_width(), |col| {
        im2col(image, shape, tile, col);
        work(col)
    })
}

fn image<'a>(x: &'a [f32], shape: &ConvShape, n: usize) -> &'a [f32] {
    &x[n * shape.image_len()..(n + 1) * shape.image_len()]
}

fn out_image<'a>(y: &'a [f32], shape: &ConvShape, n: usize) -> &'a [f32] {
    &y[n * shape.out_image_len()..(n + 1) * shape.out_image_len()]
}

/// A sum in eight independent lanes, which the compiler turns into vector adds (a plain
/// fold must keep its order, so it stays scalar).
fn sum_of(values: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let chunks = values.chunks_exact(8);
    let rest: f32 = chunks.remainder().iter().sum();
    for chunk in chunks {
        for (lane, &v) in lanes.iter_mut().zip(chunk) {
            *lane += v;
        }
    }
    lanes.iter().sum::<f32>() + rest
}
