//! The IDX format of MNIST and Fashion-MNIST as datasets: the bytes are parsed by
//! [`astute_formats::idx`] (shared with the web app and the in-browser engine); here the
//! parsed images meet their labels and class names, and the official files are found and
//! read from folders.

pub use astute_formats::idx::{
    IMAGES_MAGIC, IdxImages, LABELS_MAGIC, TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS,
    encode_images, encode_labels, parse_images, parse_labels,
};

use super::{DataError, Dataset, ImageShape};

/// Pairs parsed images with their labels. Errors say which side is wrong; loaders
/// attach the file names.
pub fn to_dataset(
    images: IdxImages,
    labels: &[u8],
    class_names: Vec<String>,
) -> Result<Dataset, DataError> {
    if labels.len() != images.count {
        return Err(invalid(format!(
            "{} labels for {} images: the image and label files do not belong together",
            labels.len(),
            images.count
        )));
    }
    if let Some((i, &bad)) = labels
        .iter()
        .enumerate()
        .find(|&(_, &l)| usize::from(l) >= class_names.len())
    {
        return Err(invalid(format!(
            "label {bad} at index {i} is not a class: labels must be below {}",
            class_names.len()
        )));
    }
    let shape = ImageShape::new(1, images.rows, images.cols);
    Dataset::new(
        shape,
        images.pixels,
        labels.iter().map(|&l| u16::from(l)).collect(),
        class_names,
    )
}

fn invalid(problem: String) -> DataError {
    DataError::Invalid(problem)
}

#[cfg(feature = "std")]
pub use files::{find, load, load_split};

#[cfg(feature = "std")]
mod files {
    use std::path::{Path, PathBuf};

    use super::super::read::read_file;
    use super::super::{DataError, Dataset, Split};
    use super::*;

    /// The file for official name `stem` in `dir`: `stem.gz`, `stem`, or the
    /// `train-images.idx3-ubyte` spelling some archives unpack to. Gzip is recognised
    /// by content, so a decompressed file keeping its `.gz` name also works.
    pub fn find(dir: &Path, stem: &str) -> Option<PathBuf> {
        let dotted = stem.replacen("-idx", ".idx", 1);
        [
            format!("{stem}.gz"),
            stem.to_owned(),
            dotted.clone(),
            format!("{dotted}.gz"),
        ]
        .into_iter()
        .map(|name| dir.join(name))
        .find(|p| p.is_file())
    }

    /// Loads one image file and its label file.
    pub fn load(
        images_path: &Path,
        labels_path: &Path,
        class_names: Vec<String>,
    ) -> Result<Dataset, DataError> {
        let images = parse_images(read_file(images_path)?)
            .map_err(|e| DataError::from(e).in_file(images_path))?;
        let labels = parse_labels(read_file(labels_path)?)
            .map_err(|e| DataError::from(e).in_file(labels_path))?;
        if labels.len() != images.count {
            return Err(DataError::file(
                labels_path,
                format!(
                    "{} labels but {} has {} images",
                    labels.len(),
                    images_path.display(),
                    images.count
                ),
            ));
        }
        to_dataset(images, &labels, class_names).map_err(|e| e.in_file(labels_path))
    }

    /// Loads the four official files of an MNIST-style folder.
    pub fn load_split(dir: &Path, class_names: &[&str]) -> Result<Split, DataError> {
        let path = |stem: &str| {
            find(dir, stem)
                .ok_or_else(|| DataError::file(dir.join(format!("{stem}.gz")), "file not found"))
        };
        let names: Vec<String> = class_names.iter().map(|&n| n.to_owned()).collect();
        Ok(Split {
            train: load(&path(TRAIN_IMAGES)?, &path(TRAIN_LABELS)?, names.clone())?,
            test: load(&path(TEST_IMAGES)?, &path(TEST_LABELS)?, names)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        (0..10).map(|d| d.to_string()).collect()
    }

    #[test]
    fn images_meet_their_labels_row_major() {
        let pixels: Vec<u8> = (0..12).collect();
        let parsed = parse_images(encode_images(2, 2, 3, &pixels)).unwrap();
        let ds = to_dataset(parsed, &[7, 3], names()).unwrap();
        assert_eq!(ds.shape(), ImageShape::new(1, 2, 3));
        assert_eq!(ds.image(1), &[6, 7, 8, 9, 10, 11]);
        assert_eq!(ds.labels(), &[7, 3]);
    }

    #[test]
    fn rejects_mismatched_counts_and_bad_labels() {
        let images = parse_images(encode_images(2, 1, 1, &[0, 1])).unwrap();
        let err = to_dataset(images.clone(), &[1], names())
            .unwrap_err()
            .to_string();
        assert!(err.contains("1 labels for 2 images"), "{err}");
        let err = to_dataset(images, &[1, 10], names())
            .unwrap_err()
            .to_string();
        assert!(err.contains("label 10 at index 1"), "{err}");
    }
}
