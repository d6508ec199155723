//! SVHN cropped digits (`train_32x32.mat`, `test_32x32.mat`, Netzer et al. 2011):
//! MAT-files with `X`, a uint8 array of 32 × 32 × 3 × N in MATLAB's column-major order,
//! and `y`, N labels from 1 to 10 where 10 stands for the digit 0.

use super::mat::{self, MatVariable};
use super::{DataError, Dataset, ImageShape};

pub const TRAIN_FILE: &str = "train_32x32.mat";
pub const TEST_FILE: &str = "test_32x32.mat";
/// Class `d` is the digit `d` (SVHN's label 10 becomes class 0).
pub const CLASS_NAMES: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

/// Parses one SVHN MAT-file into NCHW images labelled with their digit.
pub fn parse(bytes: &[u8]) -> Result<Dataset, DataError> {
    let mut file = mat::parse(bytes)?;
    let x = file
        .take("X")
        .ok_or_else(|| invalid("no variable 'X' (the images)"))?;
    let y = file
        .take("y")
        .ok_or_else(|| invalid("no variable 'y' (the labels)"))?;
    let (shape, count) = image_layout(&x)?;
    let labels = digit_labels(y, count)?;
    let pixels = numbers(x)?.into_bytes().map_err(|e| prefixed(e, "X"))?;
    let class_names = CLASS_NAMES.iter().map(|&n| n.to_owned()).collect();
    Dataset::new(
        shape,
        column_major_to_nchw(&pixels, shape),
        labels,
        class_names,
    )
}

/// `X` is height × width × channels × N (N may be dropped when it is 1, as MATLAB
/// drops trailing singleton dimensions).
fn image_layout(x: &MatVariable) -> Result<(ImageShape, usize), DataError> {
    let (h, w, c, n) = match x.dims[..] {
        [h, w, c] => (h, w, c, 1),
        [h, w, c, n] => (h, w, c, n),
        _ => {
            return Err(invalid(format!(
                "'X' has {} dimensions, expected height × width × channels × N",
                x.dims.len()
            )));
        }
    };
    if h == 0 || w == 0 || c == 0 {
        return Err(invalid(format!("'X' has images of {h}×{w}×{c}")));
    }
    Ok((ImageShape::new(c, h, w), n))
}

/// Maps SVHN's labels 1–10 to digits 0–9; `y` may be stored as doubles or bytes.
fn digit_labels(y: MatVariable, count: usize) -> Result<Vec<u16>, DataError> {
    let values = numbers(y)?.to_f64();
    if values.len() != count {
        return Err(invalid(format!(
            "'y' has {} labels for the {count} images in 'X'",
            values.len()
        )));
    }
    values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if v.fract() == 0.0 && (1.0..=10.0).contains(&v) {
                Ok((v as u16) % 10)
            } else {
                Err(invalid(format!(
                    "label y[{i}] = {v} is not a digit label from 1 to 10"
                )))
            }
        })
        .collect()
}

fn numbers(v: MatVariable) -> Result<mat::MatValues, DataError> {
    if v.complex {
        return Err(invalid(format!(
            "'{}' is complex, expected real numbers",
            v.name
        )));
    }
    let (name, class) = (v.name, v.class);
    v.values
        .ok_or_else(|| invalid(format!("'{name}' is a {class:?} array, expected numbers")))
}

/// Each (image, channel) plane is stored column by column; NCHW wants it row by row.
/// The planes themselves are already in image-major, channel-minor order.
fn column_major_to_nchw(pixels: &[u8], shape: ImageShape) -> Vec<u8> {
    let (h, w) = (shape.height, shape.width);
    let mut out = vec![0; pixels.len()];
    for (src, dst) in pixels.chunks_exact(h * w).zip(out.chunks_exact_mut(h * w)) {
        for (col, column) in src.chunks_exact(h).enumerate() {
            for (row, &v) in column.iter().enumerate() {
                dst[row * w + col] = v;
            }
        }
    }
    out
}

fn invalid(problem: impl Into<String>) -> DataError {
    DataError::Invalid(problem.into())
}

fn prefixed(e: DataError, name: &str) -> DataError {
    match e {
        DataError::Invalid(p) => invalid(format!("'{name}': {p}")),
        other => other,
    }
}

/// Loads `train_32x32.mat` and `test_32x32.mat` from `dir`.
#[cfg(feature = "std")]
pub fn load(dir: &std::path::Path) -> Result<super::Split, DataError> {
    let part = |name: &str| {
        let path = dir.join(name);
        parse(&super::read::read_file(&path)?).map_err(|e| e.in_file(&path))
    };
    Ok(super::Split {
        train: part(TRAIN_FILE)?,
        test: part(TEST_FILE)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transposes_each_plane() {
        // One 2×3 single-channel image stored column-major: columns (0,3), (1,4), (2,5).
        let pixels = [0, 3, 1, 4, 2, 5];
        assert_eq!(
            column_major_to_nchw(&pixels, ImageShape::new(1, 2, 3)),
            vec![0, 1, 2, 3, 4, 5]
        );
    }
}
