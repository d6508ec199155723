//! Random crop (zero padding 4) and horizontal flip on `u8` images, before conversion.

use rand::{Rng, RngExt};

use crate::data::ImageShape;

const PAD: usize = 4;

/// Crops and flips `pixels` (`n` images of `shape`, NCHW) in place.
pub fn crop_flip(pixels: &mut [f32], shape: ImageShape, rng: &mut impl Rng) {
    let (c, h, w) = (shape.channels, shape.height, shape.width);
    let mut source = vec![0.0; shape.len()];
    for image in pixels.chunks_exact_mut(shape.len()) {
        source.copy_from_slice(image);
        let dy = rng.random_range(0..=2 * PAD) as isize - PAD as isize;
        let dx = rng.random_range(0..=2 * PAD) as isize - PAD as isize;
        let flip = rng.random_bool(0.5);
        for ch in 0..c {
            for y in 0..h {
                for x in 0..w {
                    let sy = y as isize + dy;
                    let sx0 = if flip { w - 1 - x } else { x } as isize + dx;
                    let inside = (0..h as isize).contains(&sy) && (0..w as isize).contains(&sx0);
                    image[(ch * h + y) * w + x] = if inside {
                        source[(ch * h + sy as usize) * w + sx0 as usize]
                    } else {
                        0.0
                    };
                }
            }
        }
    }
}
