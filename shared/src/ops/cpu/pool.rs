//! Max pooling over non-overlapping windows (stride = kernel, no padding), the pooling of
//! the paper's CNNs, on plain NCHW slices.
//!
//! The forward pass records which value of its window each output took (one byte), so the
//! backward pass routes each gradient from that byte alone, without reading the input
//! again.

use super::select::{select, select_f32};
use super::workers::{for_each_image, for_each_image_pair};

/// Max pooling of `x: [batch, channels, height, width]` over `kernel` windows that tile the
/// input from its top-left corner (rows and columns that do not fill a window are dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolShape {
    pub batch: usize,
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub kernel: [usize; 2],
}

impl PoolShape {
    pub fn out_height(&self) -> usize {
        self.height / self.kernel[0]
    }

    pub fn out_width(&self) -> usize {
        self.width / self.kernel[1]
    }

    /// Whether every window position fits in the byte that records it.
    pub fn is_supported(&self) -> bool {
        let window = self.kernel[0] * self.kernel[1];
        (1..=256).contains(&window) && self.height >= self.kernel[0] && self.width >= self.kernel[1]
    }

    fn plane(&self) -> usize {
        self.height * self.width
    }

    fn out_plane(&self) -> usize {
        self.out_height() * self.out_width()
    }
}

/// Max pooling: `[batch, channels, out_height, out_width]`, and which value of its window
/// each output took (`ky · kernel[1] + kx`): the first maximum in row-major order, or the
/// first NaN (a NaN propagates, as in burn and PyTorch).
pub fn max_pool(x: &[f32], shape: &PoolShape) -> (Vec<f32>, Vec<u8>) {
    assert!(shape.is_supported(), "{shape:?}");
    assert_eq!(
        x.len(),
        shape.batch * shape.channels * shape.plane(),
        "input size"
    );
    let offsets = pick_offsets(shape);
    let outputs = shape.batch * shape.channels * shape.out_plane();
    let (mut y, mut picks) = (vec![0.0; outputs], vec![0u8; outputs]);
    let per_image = shape.channels * shape.out_plane();
    for_each_image_pair(&mut y, per_image, &mut picks, per_image, |n, y, picks| {
        let planes = y
            .chunks_exact_mut(shape.out_plane())
            .zip(picks.chunks_exact_mut(shape.out_plane()));
        for (c, (y, picks)) in planes.enumerate() {
            let plane = &x[(n * shape.channels + c) * shape.plane()..][..shape.plane()];
            if shape.kernel == [2, 2] {
                pool_2x2(plane, shape, y, picks);
                continue;
            }
            for ((y, pick), origin) in y.iter_mut().zip(picks.iter_mut()).zip(windows(shape)) {
                let (mut best, mut max) = (0, plane[origin]);
                for (p, &offset) in (0..).zip(&offsets) {
                    let value = plane[origin + offset];
                    let take = wins(value, max);
                    best = select(take, p, best);
                    max = select_f32(take, value, max);
                }
                (*y, *pick) = (max, best as u8);
            }
        }
    });
    (y, picks)
}

/// One plane's 2×2 windows (the paper's CNNs), a row of windows at a time.
fn pool_2x2(plane: &[f32], shape: &PoolShape, y: &mut [f32], picks: &mut [u8]) {
    let (width, out_width) = (shape.width, shape.out_width());
    let rows = y
        .chunks_exact_mut(out_width)
        .zip(picks.chunks_exact_mut(out_width));
    for (oy, (y, picks)) in rows.enumerate() {
        let top = plane[2 * oy * width..][..2 * out_width].chunks_exact(2);
        let bottom = plane[(2 * oy + 1) * width..][..2 * out_width].chunks_exact(2);
        for (((y, pick), top), bottom) in y.iter_mut().zip(picks.iter_mut()).zip(top).zip(bottom) {
            let (mut best, mut max) = (0, top[0]);
            for (p, value) in [(1, top[1]), (2, bottom[0]), (3, bottom[1])] {
                let take = wins(value, max);
                best = select(take, p, best);
                max = select_f32(take, value, max);
            }
            (*y, *pick) = (max, best as u8);
        }
    }
}

/// Whether `value` replaces `max` as a window's pick: it is larger, or the first NaN.
#[inline(always)]
fn wins(value: f32, max: f32) -> bool {
    (value > max) | (value.is_nan() & !max.is_nan())
}

/// The gradient with respect to the input given `dy` for the output: each output's
/// gradient at the value its window took, zero elsewhere.
pub fn max_pool_backward(picks: &[u8], dy: &[f32], shape: &PoolShape) -> Vec<f32> {
    assert_eq!(picks.len(), dy.len(), "picks and gradient sizes");
    assert_eq!(
        dy.len(),
        shape.batch * shape.channels * shape.out_plane(),
        "gradient size"
    );
    let offsets = pick_offsets(shape);
    let mut dx = vec![0.0; shape.batch * shape.channels * shape.plane()];
    for_each_image(&mut dx, shape.channels * shape.plane(), |n, dx| {
        for (c, dx) in dx.chunks_exact_mut(shape.plane()).enumerate() {
            let plane = n * shape.channels + c;
            let picks = &picks[plane * shape.out_plane()..][..shape.out_plane()];
            let dy = &dy[plane * shape.out_plane()..][..shape.out_plane()];
            for ((&pick, &dy), origin) in picks.iter().zip(dy).zip(windows(shape)) {
                dx[origin + offsets[usize::from(pick)]] = dy;
            }
        }
    });
    dx
}

/// Index in its input plane of each window's top-left value, in output order.
fn windows(shape: &PoolShape) -> impl Iterator<Item = usize> + '_ {
    let [kh, kw] = shape.kernel;
    (0..shape.out_height())
        .flat_map(move |oy| (0..shape.out_width()).map(move |ox| oy * kh * shape.width + ox * kw))
}

/// Offset from a window's top-left value of the value each pick names.
fn pick_offsets(shape: &PoolShape) -> Vec<usize> {
    let [kh, kw] = shape.kernel;
    (0..kh * kw)
        .map(|p| p / kw * shape.width + p % kw)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_take_their_first_maximum_and_route_the_gradient_there() {
        let shape = PoolShape {
            batch: 1,
            channels: 1,
            height: 3,
            width: 4,
            kernel: [2, 2],
        };
        #[rustfmt::skip]
        let x = [
            1.0, 5.0, 2.0, 2.0,
            3.0, 5.0, 2.0, 0.5,
            9.0, 9.0, 9.0, 9.0, // the last row fills no window: dropped
        ];
        let (y, picks) = max_pool(&x, &shape);
        assert_eq!(picks, [1, 0]);
        assert_eq!(y, [5.0, 2.0]);
        #[rustfmt::skip]
        let expected = [
            0.0, 10.0, 20.0, 0.0,
            0.0, 0.0, 0.0, 0.0,
            0.0, 0.0, 0.0, 0.0,
        ];
        assert_eq!(max_pool_backward(&picks, &[10.0, 20.0], &shape), expected);
        let with_nan = [
            1.0,
            f32::NAN,
            2.0,
            2.0,
            3.0,
            5.0,
            2.0,
            0.5,
            0.0,
            0.0,
            0.0,
            0.0,
        ];
        let (y, picks) = max_pool(&with_nan, &shape);
        assert!(y[0].is_nan());
        assert_eq!(picks[0], 1);
    }
}
