//! The IDX format of MNIST and Fashion-MNIST (LeCun et al.): a big-endian header with
//! a magic number and the dimensions, then the raw `u8` values. Files may be gzipped
//! (detected by content, not by name) or raw.
//!
//! Every declared size is checked against the bytes actually present before anything is
//! allocated.

use crate::{FormatError, inflate};

/// Magic number of an IDX file of `u8` values with 3 dimensions (images).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of `u8` values with 1 dimension (labels).
pub const LABELS_MAGIC: u32 = 0x0000_0801;

/// Official file names (without `.gz`) of the training and test parts.
pub const TRAIN_IMAGES: &str = "train-images-idx3-ubyte";
pub const TRAIN_LABELS: &str = "train-labels-idx1-ubyte";
pub const TEST_IMAGES: &str = "t10k-images-idx3-ubyte";
pub const TEST_LABELS: &str = "t10k-labels-idx1-ubyte";

/// The largest decompressed IDX file accepted (2 GiB, 40× MNIST's training images):
/// a ceiling against gzip bombs.
const MAX_DECOMPRESSED: u64 = 1 << 31;

/// The images of an IDX3 file: `count` grey images of `rows` × `cols`, row-major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxImages {
    pub count: usize,
    pub rows: usize,
    pub cols: usize,
    pub pixels: Vec<u8>,
}

/// Parses an IDX3 image file (gzipped or raw). Takes the file's bytes by value so the
/// pixels stay where they were read or decompressed: a loaded dataset is never copied.
pub fn parse_images(bytes: Vec<u8>) -> Result<IdxImages, FormatError> {
    let bytes = decompress(bytes)?;
    let [count, rows, cols] = header(&bytes, IMAGES_MAGIC)?;
    if rows == 0 || cols == 0 {
        return Err(invalid(format!(
            "header declares images of {rows}×{cols} pixels"
        )));
    }
    let what = format!("{count} images of {rows}×{cols}");
    Ok(IdxImages {
        count: count as usize,
        rows: rows as usize,
        cols: cols as usize,
        pixels: body(bytes, 16, [count, rows, cols], &what)?,
    })
}

/// Parses an IDX1 label file (gzipped or raw).
pub fn parse_labels(bytes: Vec<u8>) -> Result<Vec<u8>, FormatError> {
    let bytes = decompress(bytes)?;
    let [count] = header(&bytes, LABELS_MAGIC)?;
    body(bytes, 8, [count, 1, 1], &format!("{count} labels"))
}

fn decompress(bytes: Vec<u8>) -> Result<Vec<u8>, FormatError> {
    if inflate::is_gzip(&bytes) {
        inflate::gunzip(&bytes, MAX_DECOMPRESSED)
    } else {
        Ok(bytes)
    }
}

/// Checks the magic number (whose low byte is the number of dimensions, `N`) and
/// returns the dimensions, as `u64` so their product cannot overflow unnoticed.
fn header<const N: usize>(bytes: &[u8], expected: u32) -> Result<[u64; N], FormatError> {
    let kind = |magic| match magic {
        IMAGES_MAGIC => "an image file",
        LABELS_MAGIC => "a label file",
        _ => "not an IDX file of bytes",
    };
    let Some(magic) = be_u32(bytes, 0) else {
        return Err(invalid(format!(
            "{} bytes is too short for an IDX header",
            bytes.len()
        )));
    };
    if magic != expected {
        return Err(invalid(format!(
            "wrong magic number 0x{magic:08x} ({}), expected 0x{expected:08x} ({})",
            kind(magic),
            kind(expected)
        )));
    }
    let mut dims = [0; N];
    for (d, dim) in dims.iter_mut().enumerate() {
        *dim = be_u32(bytes, 4 + 4 * d).map(u64::from).ok_or_else(|| {
            invalid(format!(
                "truncated header: {} of its {} bytes",
                bytes.len(),
                4 + 4 * N
            ))
        })?;
    }
    Ok(dims)
}

/// The data after the header, which must hold exactly the product of `dims` bytes,
/// moved to the front of the same buffer.
fn body(
    mut bytes: Vec<u8>,
    header_len: usize,
    dims: [u64; 3],
    what: &str,
) -> Result<Vec<u8>, FormatError> {
    let expected = dims.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d));
    let actual = bytes.len().saturating_sub(header_len) as u64;
    match expected {
        Some(n) if n == actual => {
            bytes.drain(..header_len);
            bytes.shrink_to_fit();
            Ok(bytes)
        }
        Some(n) if n > actual => Err(invalid(format!(
            "truncated: the header declares {what} ({n} bytes) but only {actual} bytes follow"
        ))),
        Some(n) => Err(invalid(format!(
            "{} unexpected bytes after the {what}",
            actual - n
        ))),
        None => Err(invalid(format!(
            "the header declares an impossible size ({what})"
        ))),
    }
}

fn be_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let word = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes(word.try_into().ok()?))
}

fn invalid(problem: String) -> FormatError {
    FormatError(problem)
}

/// An IDX3 file declaring `count` images of `rows` × `cols`, followed by `pixels` (the
/// caller keeps them consistent; tests write inconsistent files on purpose).
pub fn encode_images(count: u32, rows: u32, cols: u32, pixels: &[u8]) -> Vec<u8> {
    let mut out = IMAGES_MAGIC.to_be_bytes().to_vec();
    for d in [count, rows, cols] {
        out.extend(d.to_be_bytes());
    }
    out.extend_from_slice(pixels);
    out
}

/// An IDX1 file of `labels`.
pub fn encode_labels(labels: &[u8]) -> Vec<u8> {
    let mut out = LABELS_MAGIC.to_be_bytes().to_vec();
    out.extend((labels.len() as u32).to_be_bytes());
    out.extend_from_slice(labels);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use encode_images as images_file;
    use encode_labels as labels_file;

    #[test]
    fn parses_images_row_major() {
        let pixels: Vec<u8> = (0..12).collect();
        let parsed = parse_images(images_file(2, 2, 3, &pixels)).unwrap();
        assert_eq!((parsed.count, parsed.rows, parsed.cols), (2, 2, 3));
        assert_eq!(parsed.pixels, pixels);
        assert_eq!(parse_labels(labels_file(&[7, 3])).unwrap(), [7, 3]);
    }

    #[test]
    fn rejects_swapped_magic() {
        let err = parse_images(labels_file(&[1, 2])).unwrap_err().to_string();
        assert!(
            err.contains("wrong magic number 0x00000801 (a label file)"),
            "{err}"
        );
        let err = parse_labels(images_file(1, 1, 1, &[0]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("expected 0x00000801"), "{err}");
    }
    #[test]
    fn rejects_truncated_and_trailing_data() {
        let err = parse_images(images_file(2, 2, 2, &[0; 7]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("truncated") && err.contains("8 bytes") && err.contains("only 7"),
            "{err}"
        );
        let err = parse_images(images_file(2, 2, 2, &[0; 9]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("1 unexpected bytes"), "{err}");
        let err = parse_images(images_file(2, 2, 2, &[])[..10].to_vec())
            .unwrap_err()
            .to_string();
        assert!(err.contains("truncated header"), "{err}");
        let err = parse_labels(vec![0, 0]).unwrap_err().to_string();
        assert!(err.contains("too short"), "{err}");
    }
    #[test]
    fn huge_declared_sizes_are_rejected_without_allocating() {
        let err = parse_images(images_file(u32::MAX, u32::MAX, u32::MAX, &[1, 2, 3]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("impossible size"), "{err}");
        let err = parse_images(images_file(u32::MAX, 65535, 1, &[1, 2, 3]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("truncated"), "{err}");
        let err = parse_images(images_file(1, 0, 5, &[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("0×5"), "{err}");
    }
    #[cfg(feature = "compressed")]
    #[test]
    fn gzipped_files_parse_like_raw_ones() {
        use std::io::Write;
        let raw = labels_file(&[4, 2, 0]);
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&raw).unwrap();
        assert_eq!(parse_labels(enc.finish().unwrap()).unwrap(), vec![4, 2, 0]);
    }
}
