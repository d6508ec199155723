//! im2col and its adjoint col2im, on one image in NCHW order.
//!
//! The im2col matrix `[patch_len, out_pixels]` holds in row `(channel, ky, kx)` the input
//! pixel each output pixel sees through that kernel tap, so a convolution is one GEMM with
//! it. Its rows are shifted copies of input rows: with stride 1 each segment is a plain
//! `memcpy` (forward) or a vector add (col2im).

use core::ops::Range;

use super::ConvShape;

/// Writes the im2col matrix of `image` (`[channels, height, width]`) for the output rows
/// `tile` into `col` (`[patch_len, tile rows · out_width]`).
pub fn im2col(image: &[f32], shape: &ConvShape, tile: Range<usize>, col: &mut [f32]) {
    assert_eq!(image.len(), shape.image_len());
    assert_eq!(
        col.len(),
        shape.patch_len() * tile.len() * shape.out_width()
    );
    if shape.is_padded() {
        col.fill(0.0);
    }
    let step = shape.stride[1];
    for_each_segment(shape, tile, |col_start, input_start, len| {
        let into = &mut col[col_start..][..len];
        if step == 1 {
            into.copy_from_slice(&image[input_start..][..len]);
        } else {
            for (value, &pixel) in into
                .iter_mut()
                .zip(image[input_start..].iter().step_by(step))
            {
                *value = pixel;
            }
        }
    });
}

/// Adds every entry of the im2col-shaped gradient `col` of the output rows `tile` into the
/// input pixel it was read from: the adjoint of [`im2col`].
pub fn col2im(col: &[f32], shape: &ConvShape, tile: Range<usize>, image: &mut [f32]) {
    assert_eq!(image.len(), shape.image_len());
    assert_eq!(
        col.len(),
        shape.patch_len() * tile.len() * shape.out_width()
    );
    let step = shape.stride[1];
    for_each_segment(shape, tile, |col_start, input_start, len| {
        let from = &col[col_start..][..len];
        if step == 1 {
            for (pixel, &value) in image[input_start..][..len].iter_mut().zip(from) {
                *pixel += value;
            }
        } else {
            for (pixel, &value) in image[input_start..].iter_mut().step_by(step).zip(from) {
                *pixel += value;
            }
        }
    });
}

/// Calls `segment(col_start, input_start, len)` for every run of one output row seen
/// through one kernel tap that lies inside the image: `len` entries of the im2col matrix
/// from `col_start` on, read from the input every `stride[1]` values from `input_start`.
/// The entries no segment covers are padding.
fn for_each_segment(
    shape: &ConvShape,
    tile: Range<usize>,
    mut segment: impl FnMut(usize, usize, usize),
) {
    let out_width = shape.out_width();
    let pixels = tile.len() * out_width;
    let row_step = shape.stride[0] * shape.width;
    for tap in shape.taps(tile.clone()).iter() {
        let mut input_start = tap.first_input;
        for oy in tap.rows.clone() {
            let col_start = tap.row * pixels + (oy - tile.start) * out_width + tap.columns.start;
            segment(col_start, input_start, tap.columns.len());
            input_start += row_step;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// col2im is im2col's adjoint: ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩ for any x and c.
    #[test]
    fn col2im_is_the_adjoint_of_im2col() {
        let shape = ConvShape {
            batch: 1,
            channels: 3,
            height: 7,
            width: 6,
            filters: 1,
            kernel: [3, 2],
            stride: [2, 1],
            padding: [(1, 2), (0, 1)],
        };
        let x: Vec<f32> = (0..shape.image_len())
            .map(|i| ((i * 37) % 11) as f32 - 5.0)
            .collect();
        let c: Vec<f32> = (0..shape.patch_len() * shape.out_pixels())
            .map(|i| ((i * 13) % 7) as f32 - 3.0)
            .collect();
        let rows = 0..shape.out_height();
        let mut col = vec![f32::NAN; c.len()];
        im2col(&x, &shape, rows.clone(), &mut col);
        let mut image = vec![0.0; x.len()];
        col2im(&c, &shape, rows, &mut image);
        let left: f32 = col.iter().zip(&c).map(|(a, b)| a * b).sum();
        let right: f32 = x.iter().zip(&image).map(|(a, b)| a * b).sum();
        assert_eq!(left, right);
        assert!(col.iter().all(|v| v.is_finite()), "padding left unwritten");
    }
}
