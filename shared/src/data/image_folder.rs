//! Restricted ImageNet (Tsipras et al. 2019): the ImageNet classes in nine index ranges
//! merged into nine super-classes, read from an ImageNet folder tree
//! (`train/<wnid>/*.JPEG`, `val/<wnid>/*.JPEG`) and reduced to small RGB images.
//!
//! **Class indices.** An image's ImageNet class index is the position of its wnid in
//! the canonical list of the 1,000 ILSVRC-2012 wnids, which is their sorted order. The
//! list comes from a mapping file in the tree's root (`LOC_synset_mapping.txt` from
//! Kaggle, or `synset_words.txt` / `synsets.txt`: one wnid per line, first word of the
//! line, in class-index order) or, without one, from the sorted names of the class
//! folders in `train/`, which must then be exactly 1,000. A partial tree without a
//! mapping file is refused, since its sorted positions would be wrong indices.
//!
//! **Images.** Each image is decoded (JPEG or PNG, any colour type), its shorter side
//! resized to `size` (bilinear), the centre `size` × `size` cropped and stored as RGB,
//! CHW. The paper's reference code used 64 × 64.

use std::ops::RangeInclusive;

/// The super-classes in label order, with their ImageNet class index ranges (inclusive).
pub const RESTRICTED_CLASSES: [(&str, RangeInclusive<usize>); 9] = [
    ("dog", 151..=268),
    ("cat", 281..=285),
    ("frog", 30..=32),
    ("turtle", 33..=37),
    ("bird", 80..=100),
    ("primate", 365..=382),
    ("fish", 389..=397),
    ("crab", 118..=121),
    ("insect", 300..=319),
];

/// Number of ImageNet (ILSVRC-2012) classes.
pub const IMAGENET_CLASSES: usize = 1000;
/// Side of the stored images unless configured otherwise.
pub const DEFAULT_SIZE: u32 = 64;
/// Mapping files searched for in the tree's root, in this order.
pub const MAPPING_FILES: [&str; 3] = ["LOC_synset_mapping.txt", "synset_words.txt", "synsets.txt"];
pub const TRAIN_FOLDER: &str = "train";
pub const VAL_FOLDER: &str = "val";

/// The Restricted ImageNet label of ImageNet class `index`, or `None` for classes the
/// dataset drops.
pub fn restricted_label(index: usize) -> Option<u16> {
    RESTRICTED_CLASSES
        .iter()
        .position(|(_, range)| range.contains(&index))
        .map(|i| i as u16)
}

/// How images are reduced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageFolderOptions {
    /// Side of the square images, in pixels.
    pub size: u32,
    /// Keep at most this many images (the first, by file name) of each ImageNet class,
    /// for runs that cannot hold all ~250,000 training images.
    pub max_per_class: Option<usize>,
}

impl Default for ImageFolderOptions {
    fn default() -> Self {
        Self {
            size: DEFAULT_SIZE,
            max_per_class: None,
        }
    }
}

#[cfg(feature = "std")]
pub use files::{class_indices, decode, load, load_folder};

#[cfg(feature = "std")]
mod files {
    use std::collections::HashMap;
    use std::path::{Path, PathBuf};

    use image::imageops::FilterType;
    use rayon::prelude::*;

    use super::super::read::read_file;
    use super::super::{DataError, Dataset, ImageShape, Split};
    use super::*;

    /// Loads `train/` and `val/` of the ImageNet tree at `root`.
    pub fn load(root: &Path, options: &ImageFolderOptions) -> Result<Split, DataError> {
        let indices = class_indices(root)?;
        Ok(Split {
            train: load_folder(&root.join(TRAIN_FOLDER), &indices, options)?,
            test: load_folder(&root.join(VAL_FOLDER), &indices, options)?,
        })
    }

    /// The ImageNet class index of every wnid, by the rule in the module docs.
    pub fn class_indices(root: &Path) -> Result<HashMap<String, usize>, DataError> {
        if let Some(path) = MAPPING_FILES
            .iter()
            .map(|name| root.join(name))
            .find(|p| p.is_file())
        {
            let text = String::from_utf8(read_file(&path)?)
                .map_err(|_| DataError::file(&path, "not UTF-8 text"))?;
            return parse_mapping(&text).map_err(|e| e.in_file(&path));
        }
        let train = root.join(TRAIN_FOLDER);
        let wnids = subfolders(&train)?;
        if wnids.len() != IMAGENET_CLASSES {
            return Err(DataError::file(
                &train,
                format!(
                    "{} class folders, not ImageNet's {IMAGENET_CLASSES}, so their ImageNet class indices are unknown: \
                     put LOC_synset_mapping.txt (one wnid per line, in class-index order) in {}",
                    wnids.len(),
                    root.display()
                ),
            ));
        }
        Ok(wnids.into_iter().enumerate().map(|(i, w)| (w, i)).collect())
    }

    /// The first word of each non-blank line is a wnid; its line is its class index.
    fn parse_mapping(text: &str) -> Result<HashMap<String, usize>, DataError> {
        let wnids: Vec<&str> = text
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        if wnids.len() != IMAGENET_CLASSES {
            return Err(DataError::Invalid(format!(
                "{} wnids, expected {IMAGENET_CLASSES} (one per line, in class-index order)",
                wnids.len()
            )));
        }
        let map: HashMap<String, usize> = wnids
            .iter()
            .enumerate()
            .map(|(i, &w)| (w.to_owned(), i))
            .collect();
        if map.len() != wnids.len() {
            return Err(DataError::Invalid("a wnid appears twice".into()));
        }
        Ok(map)
    }

    /// Decodes, resizes and crops every image of the Restricted ImageNet classes in
    /// `dir` (one folder per wnid), in parallel. Images are ordered by ImageNet class
    /// index, then file name, so a tree always loads the same way.
    pub fn load_folder(
        dir: &Path,
        indices: &HashMap<String, usize>,
        options: &ImageFolderOptions,
    ) -> Result<Dataset, DataError> {
        if options.size == 0 {
            return Err(DataError::Invalid(
                "the image size must be at least 1 pixel".into(),
            ));
        }
        let mut classes: Vec<(usize, u16, String)> = subfolders(dir)?
            .into_iter()
            .filter_map(|wnid| {
                let index = *indices.get(&wnid)?;
                Some((index, restricted_label(index)?, wnid))
            })
            .collect();
        classes.sort();
        let mut files: Vec<(PathBuf, u16)> = Vec::new();
        for (_, label, wnid) in &classes {
            let mut images = image_files(&dir.join(wnid))?;
            images.truncate(options.max_per_class.unwrap_or(usize::MAX));
            files.extend(images.into_iter().map(|p| (p, *label)));
        }
        if files.is_empty() {
            return Err(DataError::file(
                dir,
                "no images of the 9 Restricted ImageNet super-classes",
            ));
        }
        let size = options.size as usize;
        let shape = ImageShape::new(3, size, size);
        let total = files
            .len()
            .checked_mul(shape.len())
            .ok_or_else(|| DataError::file(dir, "too many images to hold in memory"))?;
        let mut pixels = vec![0u8; total];
        pixels
            .par_chunks_mut(shape.len())
            .zip(files.par_iter())
            .try_for_each(|(out, (path, _))| {
                let image = decode(&read_file(path)?, options.size).map_err(|e| e.in_file(path))?;
                out.copy_from_slice(&image);
                Ok::<_, DataError>(())
            })?;
        let labels = files.iter().map(|(_, l)| *l).collect();
        let names = RESTRICTED_CLASSES
            .iter()
            .map(|(n, _)| (*n).to_owned())
            .collect();
        Dataset::new(shape, pixels, labels, names)
    }

    /// Decodes one JPEG or PNG and returns its centre `size` × `size` crop, after
    /// resizing the shorter side to `size`, as RGB bytes in CHW order.
    pub fn decode(bytes: &[u8], size: u32) -> Result<Vec<u8>, DataError> {
        let image = image::load_from_memory(bytes)
            .map_err(|e| DataError::Invalid(format!("cannot decode the image: {e}")))?;
        let rgb = image
            .resize_to_fill(size, size, FilterType::Triangle)
            .to_rgb8();
        let plane = (size as usize) * (size as usize);
        let mut chw = vec![0u8; 3 * plane];
        for (i, pixel) in rgb.pixels().enumerate().take(plane) {
            for (c, &v) in pixel.0.iter().enumerate() {
                chw[c * plane + i] = v;
            }
        }
        Ok(chw)
    }

    /// Names of the folders in `dir`, sorted.
    fn subfolders(dir: &Path) -> Result<Vec<String>, DataError> {
        let mut names: Vec<String> = entries(dir)?
            .into_iter()
            .filter(|p| p.is_dir())
            .filter_map(|p| p.file_name().and_then(|n| n.to_str()).map(str::to_owned))
            .collect();
        names.sort();
        Ok(names)
    }

    /// JPEG and PNG files in `dir`, sorted by name.
    fn image_files(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
        let is_image = |p: &Path| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| ["jpeg", "jpg", "png"].contains(&e.to_ascii_lowercase().as_str()))
        };
        let mut files: Vec<PathBuf> = entries(dir)?
            .into_iter()
            .filter(|p| is_image(p) && p.is_file())
            .collect();
        files.sort();
        Ok(files)
    }

    fn entries(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
        let read = std::fs::read_dir(dir).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => DataError::file(dir, "folder not found"),
            _ => DataError::file(dir, format!("cannot list: {e}")),
        })?;
        read.map(|entry| {
            entry
                .map(|e| e.path())
                .map_err(|e| DataError::file(dir, format!("cannot list: {e}")))
        })
        .collect()
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn mapping_needs_all_classes_once() {
            let text: String = (0..1000).map(|i| format!("n{i:08} name {i}\n")).collect();
            let map = parse_mapping(&text).unwrap();
            assert_eq!(map["n00000151"], 151);
            assert!(
                parse_mapping("n1\nn2\n")
                    .unwrap_err()
                    .to_string()
                    .contains("2 wnids")
            );
            let dup = text.replace("n00000001", "n00000000");
            assert!(
                parse_mapping(&dup)
                    .unwrap_err()
                    .to_string()
                    .contains("twice")
            );
        }

        #[test]
        fn decode_crops_the_centre_to_chw() {
            // 4×2 image: left half red, right half blue; the centre 2×2 crop of the
            // image resized to height 2 is one red column then one blue column.
            let mut img = image::RgbImage::new(4, 2);
            for (x, _, p) in img.enumerate_pixels_mut() {
                *p = if x < 2 {
                    image::Rgb([255, 0, 0])
                } else {
                    image::Rgb([0, 0, 255])
                };
            }
            let mut png = Vec::new();
            img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
                .unwrap();
            assert_eq!(
                decode(&png, 2).unwrap(),
                vec![255, 0, 255, 0, 0, 0, 0, 0, 0, 255, 0, 255]
            );
            assert!(
                decode(b"not an image", 2)
                    .unwrap_err()
                    .to_string()
                    .contains("cannot decode")
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_map_to_super_classes() {
        assert_eq!(restricted_label(151), Some(0));
        assert_eq!(restricted_label(268), Some(0));
        assert_eq!(restricted_label(269), None);
        assert_eq!(restricted_label(30), Some(2));
        assert_eq!(restricted_label(37), Some(3));
        assert_eq!(restricted_label(319), Some(8));
        assert_eq!(restricted_label(0), None);
        assert_eq!(restricted_label(999), None);
    }
}
