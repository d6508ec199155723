//! CIFAR-10's binary batches (`cifar-10-binary.tar.gz`, Krizhevsky 2009): each batch file
//! is a run of 3,073-byte records, one label byte then a 32×32 RGB image already in CHW
//! order (1,024 red, 1,024 green, 1,024 blue bytes, rows top to bottom).

use crate::FormatError;

/// One image: `[channels, height, width]`.
pub const SHAPE: [usize; 3] = [3, 32, 32];
/// Bytes in one record: the label, then the image.
pub const RECORD_BYTES: usize = 1 + SHAPE[0] * SHAPE[1] * SHAPE[2];
/// The names `batches.meta.txt` holds, label by label.
pub const CLASS_NAMES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];

/// A batch's images (CHW bytes, one after another) and labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub images: Vec<u8>,
    pub labels: Vec<u8>,
}

/// Parses one batch file whose labels go from 0 to `classes − 1`.
pub fn parse_batch(bytes: &[u8], classes: usize) -> Result<Batch, FormatError> {
    let (records, stray) = (bytes.len() / RECORD_BYTES, bytes.len() % RECORD_BYTES);
    if stray != 0 {
        return Err(FormatError(format!(
            "truncated or padded: {} bytes is {records} records of {RECORD_BYTES} bytes and {stray} more",
            bytes.len()
        )));
    }
    if records == 0 {
        return Err(FormatError("empty file: no records".into()));
    }
    let mut images = Vec::with_capacity(records * (RECORD_BYTES - 1));
    let mut labels = Vec::with_capacity(records);
    for (i, record) in bytes.chunks_exact(RECORD_BYTES).enumerate() {
        let (&label, image) = record.split_first().expect("records are 3,073 bytes");
        if usize::from(label) >= classes {
            return Err(FormatError(format!(
                "record {i} has label {label}; labels go from 0 to {}",
                classes.saturating_sub(1)
            )));
        }
        labels.push(label);
        images.extend_from_slice(image);
    }
    Ok(Batch { images, labels })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_split_into_labels_and_images() {
        let mut bytes = vec![7u8];
        bytes.extend((0..RECORD_BYTES - 1).map(|i| (i % 251) as u8));
        bytes.push(2);
        bytes.extend(std::iter::repeat_n(9u8, RECORD_BYTES - 1));
        let batch = parse_batch(&bytes, 10).unwrap();
        assert_eq!(batch.labels, [7, 2]);
        assert_eq!(batch.images.len(), 2 * 3072);
        assert_eq!(
            batch.images[1024],
            (1024 % 251) as u8,
            "green starts at byte 1,024"
        );
        assert!(batch.images[3072..].iter().all(|&b| b == 9));
    }

    #[test]
    fn truncated_files_and_bad_labels_say_what_is_wrong() {
        let bytes = vec![0u8; RECORD_BYTES + 5];
        let error = parse_batch(&bytes, 10).unwrap_err().0;
        assert!(
            error.contains("1 records of 3073 bytes and 5 more"),
            "{error}"
        );
        let mut bytes = vec![0u8; 2 * RECORD_BYTES];
        bytes[RECORD_BYTES] = 10;
        let error = parse_batch(&bytes, 10).unwrap_err().0;
        assert_eq!(error, "record 1 has label 10; labels go from 0 to 9");
        assert_eq!(
            parse_batch(&[], 10).unwrap_err().0,
            "empty file: no records"
        );
    }
}
