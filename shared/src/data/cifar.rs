//! CIFAR-10, binary version (`cifar-10-binary.tar.gz`, Krizhevsky 2009): each batch
//! file is a run of 3,073-byte records, one label byte then a 32×32 RGB image already
//! in CHW order (1,024 red, 1,024 green, 1,024 blue bytes, rows top to bottom).

use super::{DataError, Dataset, ImageShape};

pub use astute_formats::cifar::{CLASS_NAMES, RECORD_BYTES};

/// One image: 3 channels of 32 × 32.
pub const SHAPE: ImageShape = ImageShape::new(
    astute_formats::cifar::SHAPE[0],
    astute_formats::cifar::SHAPE[1],
    astute_formats::cifar::SHAPE[2],
);
/// The folder the official archive unpacks to.
pub const ARCHIVE_FOLDER: &str = "cifar-10-batches-bin";
pub const TRAIN_FILES: [&str; 5] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
];
pub const TEST_FILE: &str = "test_batch.bin";
/// Class names, one per line; used when present.
pub const META_FILE: &str = "batches.meta.txt";

/// Parses one batch file. Labels must name one of `class_names`.
pub fn parse_batch(bytes: &[u8], class_names: Vec<String>) -> Result<Dataset, DataError> {
    let batch = astute_formats::cifar::parse_batch(bytes, class_names.len())?;
    let labels = batch.labels.into_iter().map(u16::from).collect();
    Dataset::new(SHAPE, batch.images, labels, class_names)
}

/// Class names from `batches.meta.txt`: the non-blank lines, which must be 10.
pub fn parse_class_names(text: &str) -> Result<Vec<String>, DataError> {
    let names: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    if names.len() != CLASS_NAMES.len() {
        return Err(DataError::Invalid(format!(
            "{} class names, expected {} (one per line)",
            names.len(),
            CLASS_NAMES.len()
        )));
    }
    Ok(names)
}

#[cfg(feature = "std")]
pub use files::{batch_folder, load};

#[cfg(feature = "std")]
mod files {
    use std::path::{Path, PathBuf};

    use super::super::Split;
    use super::super::read::read_file;
    use super::*;

    /// Where the batch files are: `dir` itself or the `cifar-10-batches-bin` folder the
    /// archive unpacks to inside it.
    pub fn batch_folder(dir: &Path) -> PathBuf {
        let nested = dir.join(ARCHIVE_FOLDER);
        if !dir.join(TEST_FILE).is_file() && nested.join(TEST_FILE).is_file() {
            nested
        } else {
            dir.to_path_buf()
        }
    }

    /// Loads the five training batches and the test batch.
    pub fn load(dir: &Path) -> Result<Split, DataError> {
        let dir = batch_folder(dir);
        let meta = dir.join(META_FILE);
        let class_names = if meta.is_file() {
            let text = String::from_utf8(read_file(&meta)?)
                .map_err(|_| DataError::file(&meta, "not UTF-8 text"))?;
            parse_class_names(&text).map_err(|e| e.in_file(&meta))?
        } else {
            CLASS_NAMES.iter().map(|&n| n.to_owned()).collect()
        };
        let batch = |name: &str| {
            let path = dir.join(name);
            parse_batch(&read_file(&path)?, class_names.clone()).map_err(|e| e.in_file(&path))
        };
        let train = TRAIN_FILES
            .iter()
            .map(|name| batch(name))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Split {
            train: Dataset::concat(&train)?,
            test: batch(TEST_FILE)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        CLASS_NAMES.iter().map(|&n| n.to_owned()).collect()
    }

    /// A record whose pixel at (channel c, row y, column x) is (c·7 + y·3 + x + seed) mod 256.
    fn record(label: u8, seed: u8) -> Vec<u8> {
        let mut out = vec![label];
        for c in 0..3u32 {
            for y in 0..32u32 {
                for x in 0..32u32 {
                    out.push(((c * 7 + y * 3 + x + u32::from(seed)) % 256) as u8);
                }
            }
        }
        out
    }

    #[test]
    fn parses_records_in_chw_order() {
        let bytes = [record(3, 0), record(9, 100)].concat();
        let ds = parse_batch(&bytes, names()).unwrap();
        assert_eq!(ds.labels(), &[3, 9]);
        assert_eq!(ds.shape(), SHAPE);
        let img = ds.image(1);
        // channel 2, row 5, column 31: 14 + 15 + 31 + 100 = 160
        assert_eq!(img[2 * 1024 + 5 * 32 + 31], 160);
        assert_eq!(img[0], 100);
        assert_eq!(ds.class_names()[3], "cat");
    }

    #[test]
    fn rejects_partial_records_empty_files_and_bad_labels() {
        let bytes = record(1, 0);
        let err = parse_batch(&bytes[..3000], names())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("truncated") && err.contains("3000 more"),
            "{err}"
        );
        let err = parse_batch(&[], names()).unwrap_err().to_string();
        assert!(err.contains("empty"), "{err}");
        let bad = [record(0, 0), record(10, 0)].concat();
        let err = parse_batch(&bad, names()).unwrap_err().to_string();
        assert!(err.contains("record 1 has label 10"), "{err}");
    }

    #[test]
    fn meta_file_names_the_classes() {
        let text = CLASS_NAMES.join("\n") + "\n\n";
        assert_eq!(parse_class_names(&text).unwrap(), names());
        assert!(
            parse_class_names("a\nb\n")
                .unwrap_err()
                .to_string()
                .contains("2 class names")
        );
    }
}
