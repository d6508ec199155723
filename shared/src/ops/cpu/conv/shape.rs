//! The geometry of one 2-D convolution, and the walk over its kernel taps that im2col and
//! col2im share.

use core::ops::Range;

/// Everything the kernels need to know about a convolution of `x: [batch, channels, height,
/// width]` with `weight: [filters, channels, kernel[0], kernel[1]]` (one group, no dilation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvShape {
    pub batch: usize,
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub filters: usize,
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    /// `(before, after)` zero padding of height and of width.
    pub padding: [(usize, usize); 2],
}

impl ConvShape {
    /// Output rows: `(height + padding − kernel) / stride + 1`.
    pub fn out_height(&self) -> usize {
        out_side(self.height, self.padding[0], self.kernel[0], self.stride[0])
    }

    /// Output columns.
    pub fn out_width(&self) -> usize {
        out_side(self.width, self.padding[1], self.kernel[1], self.stride[1])
    }

    /// Output pixels per filter and image: the GEMMs' long side.
    pub fn out_pixels(&self) -> usize {
        self.out_height() * self.out_width()
    }

    /// Values in one receptive field (`channels · kernel²`): the forward GEMM's contraction.
    pub fn patch_len(&self) -> usize {
        self.channels * self.kernel[0] * self.kernel[1]
    }

    /// Values of one input image.
    pub fn image_len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// Values of one output image.
    pub fn out_image_len(&self) -> usize {
        self.filters * self.out_pixels()
    }

    /// A 1×1 convolution with stride 1 and no padding reads its input as the im2col matrix
    /// itself (`[channels, pixels]`), so it needs no copy.
    pub fn is_pointwise(&self) -> bool {
        self.kernel == [1, 1] && self.stride == [1, 1] && self.padding == [(0, 0); 2]
    }

    /// Whether some outputs read zero padding (im2col then starts from zeros).
    pub fn is_padded(&self) -> bool {
        self.padding != [(0, 0); 2]
    }

    /// The output rows that one im2col matrix covers at a time: as many as keep it near
    /// [`TILE_VALUES`], so that it stays in cache beside the GEMM's packed copies. A
    /// pointwise convolution reads its input in place, in one tile.
    pub fn row_tiles(&self) -> impl Iterator<Item = Range<usize>> {
        let out_height = self.out_height();
        let per_row = self.patch_len() * self.out_width();
        let most = if self.is_pointwise() {
            out_height
        } else {
            (TILE_VALUES / per_row.max(1)).clamp(1, out_height.max(1))
        };
        // Tiles of equal size: 7 rows then 1 would make a second, inefficient product.
        let rows = out_height
            .div_ceil(out_height.div_ceil(most.max(1)).max(1))
            .max(1);
        (0..out_height)
            .step_by(rows)
            .map(move |first| first..(first + rows).min(out_height))
    }

    /// The kernel taps `(channel, ky, kx)` of the im2col matrix of `tile`'s output rows.
    pub fn taps(&self, tile: Range<usize>) -> Taps {
        let [out_height, out_width] = [self.out_height(), self.out_width()];
        // One tap per kernel position, for channel 0: the other channels' taps only move
        // their input one plane further.
        let mut offsets = Vec::with_capacity(self.kernel[0] * self.kernel[1]);
        for ky in 0..self.kernel[0] {
            let rows = valid_outputs(
                ky,
                self.padding[0].0,
                self.stride[0],
                self.height,
                out_height,
            );
            let rows = rows.start.max(tile.start)..rows.end.min(tile.end);
            let rows = rows.start.min(rows.end)..rows.end;
            for kx in 0..self.kernel[1] {
                let columns =
                    valid_outputs(kx, self.padding[1].0, self.stride[1], self.width, out_width);
                let first_input = if rows.is_empty() || columns.is_empty() {
                    0
                } else {
                    let iy = rows.start * self.stride[0] + ky - self.padding[0].0;
                    let ix = columns.start * self.stride[1] + kx - self.padding[1].0;
                    iy * self.width + ix
                };
                offsets.push(Tap {
                    row: offsets.len(),
                    rows: rows.clone(),
                    columns,
                    first_input,
                });
            }
        }
        Taps {
            first_channel: offsets,
            channels: self.channels,
            plane: self.height * self.width,
        }
    }
}

/// The kernel taps of one im2col matrix.
#[derive(Debug, Clone)]
pub struct Taps {
    first_channel: Vec<Tap>,
    channels: usize,
    plane: usize,
}

impl Taps {
    /// Every tap in the order of the im2col matrix's rows, with the outputs that read real
    /// (not padded) input through it.
    pub fn iter(&self) -> impl Iterator<Item = Tap> + '_ {
        let per_channel = self.first_channel.len();
        (0..self.channels).flat_map(move |channel| {
            self.first_channel.iter().map(move |tap| Tap {
                row: channel * per_channel + tap.row,
                rows: tap.rows.clone(),
                columns: tap.columns.clone(),
                first_input: channel * self.plane + tap.first_input,
            })
        })
    }
}

/// Values of one tile's im2col matrix (128 KiB of f32): the size at which a CNN2 training
/// step ran fastest here (whole images: 75 GFLOP/s per core in the forward GEMM; 4–6 rows
/// of 24 outputs: 84–85; 2–3 rows: 65–68).
const TILE_VALUES: usize = 96 * 1024;

/// One kernel tap: a row of the im2col matrix and the input it reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tap {
    /// Its row in the im2col matrix `[patch_len, out_pixels]`.
    pub row: usize,
    /// The output rows (of the tile) and columns whose input through this tap is real,
    /// not padding.
    pub rows: Range<usize>,
    pub columns: Range<usize>,
    /// Index in one input image of the value that output `(rows.start, columns.start)`
    /// reads; the next output column reads `stride[1]` further, the next row `stride[0]`
    /// input rows further.
    pub first_input: usize,
}

fn out_side(size: usize, (before, after): (usize, usize), kernel: usize, stride: usize) -> usize {
    (size + before + after - kernel) / stride + 1
}

/// The outputs `o` whose input `o · stride + k − before` lies in `0..size`.
fn valid_outputs(
    k: usize,
    before: usize,
    stride: usize,
    size: usize,
    outputs: usize,
) -> Range<usize> {
    let first = before.saturating_sub(k).div_ceil(stride);
    let end = (size + before)
        .saturating_sub(k)
        .div_ceil(stride)
        .min(outputs);
    first.min(end)..end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(size: usize, kernel: usize, stride: usize, pad: (usize, usize)) -> ConvShape {
        ConvShape {
            batch: 1,
            channels: 2,
            height: size,
            width: size,
            filters: 1,
            kernel: [kernel; 2],
            stride: [stride; 2],
            padding: [pad; 2],
        }
    }

    /// The tiles cover every output row once, in order.
    #[test]
    fn row_tiles_partition_the_output_rows() {
        for s in [
            shape(26, 3, 1, (0, 0)),
            shape(200, 5, 1, (2, 2)),
            shape(4, 1, 1, (0, 0)),
        ] {
            let rows: Vec<usize> = s.row_tiles().flatten().collect();
            assert_eq!(rows, (0..s.out_height()).collect::<Vec<_>>(), "{s:?}");
        }
    }

    /// Every im2col entry the walk covers reads the input pixel the definition names, and
    /// every entry it leaves out lies in the padding: checked against a brute-force loop.
    #[test]
    fn taps_cover_exactly_the_real_inputs() {
        for (size, kernel, stride, pad) in [
            (5, 3, 1, (0, 0)),
            (6, 3, 2, (1, 1)),
            (7, 5, 2, (2, 1)),
            (4, 1, 1, (0, 0)),
            (3, 3, 1, (2, 2)),
            (9, 3, 3, (0, 2)),
        ] {
            let s = shape(size, kernel, stride, pad);
            let (oh, ow) = (s.out_height(), s.out_width());
            let mut covered = vec![None; s.patch_len() * oh * ow];
            for tap in s.taps(0..oh).iter() {
                for (i, oy) in tap.rows.clone().enumerate() {
                    for (j, ox) in tap.columns.clone().enumerate() {
                        let entry = &mut covered[tap.row * oh * ow + oy * ow + ox];
                        assert!(entry.is_none(), "{s:?} covers twice");
                        *entry = Some(tap.first_input + i * stride * size + j * stride);
                    }
                }
            }
            for c in 0..s.channels {
                for ky in 0..kernel {
                    for kx in 0..kernel {
                        let row = (c * kernel + ky) * kernel + kx;
                        for oy in 0..oh {
                            for ox in 0..ow {
                                let iy = (oy * stride + ky) as isize - pad.0 as isize;
                                let ix = (ox * stride + kx) as isize - pad.0 as isize;
                                let inside = (0..size as isize).contains(&iy)
                                    && (0..size as isize).contains(&ix);
                                let expected = inside
                                    .then(|| c * size * size + iy as usize * size + ix as usize);
                                assert_eq!(
                                    covered[row * oh * ow + oy * ow + ox],
                                    expected,
                                    "{s:?}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}
