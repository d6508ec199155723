//! A visitor's own images measured where they are: the files dropped on the Datasets page
//! (an IDX pair, as MNIST ships, CIFAR-10 binary batches, gzipped or not, or a folder of
//! labelled PNGs) read by the parsers the native loaders use, then the exact ℓ∞ Train–Train separation (every image's
//! nearest image of another class) by the same search and report as `astute separation`,
//! on the browser's one thread. Nothing leaves the browser.

use astute::data::{Dataset, ImageShape};
use astute::separation::{
    Control, Kernel, Metric, ReportOptions, SearchOptions, Split, build_report, train_train,
};
use astute_engine_api::{OwnData, OwnReport};
use astute_formats::{FormatError, cifar, idx, inflate};

use crate::LabError;

mod png_folder;

/// The largest file accepted once decompressed: a ceiling against gzip bombs, above
/// [`astute_engine_api::MAX_PIXEL_BYTES`] by a CIFAR batch's worth.
const MAX_FILE_BYTES: u64 = 128 << 20;

/// Labelled images read from the visitor's files.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnSet {
    pub data: OwnData,
    pub images: Vec<u8>,
    pub labels: Vec<u8>,
    pub class_names: Vec<String>,
    /// Where the images came from, in words ("from “a” and “b”").
    pub source: String,
}

/// What a file turned out to be.
enum Found {
    Images(idx::IdxImages),
    Labels(Vec<u8>),
    Cifar(cifar::Batch),
    /// Decoded later, once the whole set's size has been checked.
    Png(Vec<u8>),
}

fn in_file(name: &str) -> impl Fn(FormatError) -> LabError + '_ {
    move |e| LabError(format!("“{name}”: {e}"))
}

/// Recognises one file by its content (never its name): a PNG by its signature, an IDX
/// image or label file by its magic number, a CIFAR-10 batch by its 3,073-byte records.
fn recognise(name: &str, bytes: Vec<u8>) -> Result<Found, LabError> {
    if png_folder::is_png(&bytes) {
        return Ok(Found::Png(bytes));
    }
    let bytes = if inflate::is_gzip(&bytes) {
        inflate::gunzip(&bytes, MAX_FILE_BYTES).map_err(in_file(name))?
    } else {
        bytes
    };
    let magic = bytes
        .get(..4)
        .map(|m| u32::from_be_bytes([m[0], m[1], m[2], m[3]]));
    match magic {
        Some(idx::IMAGES_MAGIC) => Ok(Found::Images(
            idx::parse_images(bytes).map_err(in_file(name))?,
        )),
        Some(idx::LABELS_MAGIC) => Ok(Found::Labels(
            idx::parse_labels(bytes).map_err(in_file(name))?,
        )),
        _ if !bytes.is_empty() && bytes.len() % cifar::RECORD_BYTES == 0 => Ok(Found::Cifar(
            cifar::parse_batch(&bytes, cifar::CLASS_NAMES.len()).map_err(in_file(name))?,
        )),
        _ => Err(LabError(format!(
            "“{name}” is neither an IDX file (MNIST's format: its first bytes would be 00 00 08 03 or 00 00 08 01) \
             nor a CIFAR-10 binary batch (a whole number of 3,073-byte records; it has {} bytes) nor a PNG",
            bytes.len()
        ))),
    }
}

/// The number of classes `labels` use: one more than the largest.
fn classes(labels: &[u8]) -> usize {
    labels.iter().max().map_or(0, |&l| usize::from(l) + 1)
}

/// A file a folder drop brings along that is not an image: `.DS_Store`, `Thumbs.db`,
/// `desktop.ini`, dot-files.
fn is_folder_clutter(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    path.contains('/')
        && (name.starts_with('.')
            || name.eq_ignore_ascii_case("thumbs.db")
            || name.eq_ignore_ascii_case("desktop.ini"))
}

/// Reads `files` (name or path in a dropped folder, bytes) as one labelled set: an IDX image
/// file with its label file, any number of CIFAR-10 batches, or PNGs in class folders.
pub fn read_files(files: Vec<(String, Vec<u8>)>, epsilon: Option<f64>) -> Result<OwnSet, LabError> {
    let files: Vec<_> = files
        .into_iter()
        .filter(|(name, _)| !is_folder_clutter(name))
        .collect();
    let names: Vec<String> = files.iter().map(|(n, _)| format!("“{n}”")).collect();
    let mut images = Vec::new();
    let mut labels = Vec::new();
    let mut batches = Vec::new();
    let mut pngs = Vec::new();
    for (name, bytes) in files {
        match recognise(&name, bytes)? {
            Found::Images(i) => images.push((name, i)),
            Found::Labels(l) => labels.push((name, l)),
            Found::Cifar(b) => batches.push(b),
            Found::Png(p) => pngs.push((name, p)),
        }
    }
    let set = match (images.len(), labels.len(), batches.len(), pngs.len()) {
        (0, 0, 0, n) if n > 0 => png_folder::read(pngs, epsilon)?,
        (1, 1, 0, 0) => {
            let ((image_file, images), (label_file, labels)) = (images.remove(0), labels.remove(0));
            if images.count != labels.len() {
                return Err(LabError(format!(
                    "“{image_file}” holds {} images but “{label_file}” {} labels",
                    images.count,
                    labels.len()
                )));
            }
            let classes = classes(&labels);
            OwnSet {
                data: OwnData {
                    shape: [1, images.rows, images.cols],
                    classes,
                    epsilon,
                },
                images: images.pixels,
                class_names: (0..classes).map(|k| k.to_string()).collect(),
                labels,
                source: format!("from {}", names.join(" and ")),
            }
        }
        (0, 0, n, 0) if n > 0 => {
            let (mut pixels, mut all_labels) = (Vec::new(), Vec::new());
            for batch in batches {
                pixels.extend(batch.images);
                all_labels.extend(batch.labels);
            }
            OwnSet {
                data: OwnData {
                    shape: cifar::SHAPE,
                    classes: cifar::CLASS_NAMES.len(),
                    epsilon,
                },
                images: pixels,
                labels: all_labels,
                class_names: cifar::CLASS_NAMES.iter().map(|&n| n.to_owned()).collect(),
                source: format!("from {}", names.join(" and ")),
            }
        }
        (0, 0, 0, 0) => return Err(LabError("no files were given".into())),
        (i, l, 0, 0) if i != 1 || l != 1 => {
            return Err(LabError(format!(
                "an IDX set is one image file and its label file; {i} image file(s) and {l} label file(s) were given"
            )));
        }
        _ => {
            return Err(LabError(
                "give one kind of set: an IDX image file with its label file, CIFAR-10 batches, or a folder of PNGs"
                    .into(),
            ));
        }
    };
    let [c, h, w] = set.data.shape;
    let source = format!(
        "{} images of {c}×{h}×{w} in {} classes, {}",
        set.labels.len(),
        set.data.classes,
        set.source
    );
    Ok(OwnSet { source, ..set })
}

/// The exact ℓ∞ Train–Train separation of `set`, with the closest pairs' pixels; sets
/// beyond [`OwnData::check`]'s sizes are refused with the reason.
pub fn separation(set: OwnSet) -> Result<OwnReport, LabError> {
    let started = web_time::Instant::now();
    set.data.check(set.labels.len()).map_err(LabError)?;
    let [channels, height, width] = set.data.shape;
    let labels = set.labels.iter().map(|&l| u16::from(l)).collect();
    let data = Dataset::new(
        ImageShape::new(channels, height, width),
        set.images,
        labels,
        set.class_names.clone(),
    )
    .map_err(|e| LabError(e.to_string()))?;
    let options = SearchOptions {
        metric: Metric::Linf,
        kernel: Kernel::best(),
        threads: None,
    };
    let (index, nearest) =
        train_train(&data, &options, &Control::default()).map_err(|e| LabError(e.to_string()))?;
    // As `astute separation` reports: ten closest pairs, twenty bins.
    let options = ReportOptions {
        epsilon: set.data.epsilon,
        ..ReportOptions::default()
    };
    let report = build_report(
        Split::TrainTrain,
        Metric::Linf,
        data.labels(),
        &index,
        &nearest,
        &options,
    )
    .map_err(|e| LabError(e.to_string()))?;
    let pair_pixels = report
        .closest_pairs
        .iter()
        .map(|p| {
            [
                data.image(p.query_index).to_vec(),
                data.image(p.train_index).to_vec(),
            ]
        })
        .collect();
    Ok(OwnReport {
        source: set.source,
        shape: set.data.shape,
        class_names: set.class_names,
        report,
        pair_pixels,
        milliseconds: started.elapsed().as_secs_f64() * 1e3,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes that look random (Fibonacci hashing of their index): no dependency for a test.
    fn bytes(count: usize, seed: u64) -> Vec<u8> {
        (0..count as u64)
            .map(|i| ((i + seed * 1_000_003).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as u8)
            .collect()
    }

    fn idx_pair(count: usize, side: usize, classes: u8) -> (Vec<u8>, Vec<u8>) {
        let pixels = bytes(count * side * side, 7);
        let labels: Vec<u8> = bytes(count, 11).iter().map(|b| b % classes).collect();
        let side = side as u32;
        (
            idx::encode_images(count as u32, side, side, &pixels),
            idx::encode_labels(&labels),
        )
    }

    #[test]
    fn an_idx_pair_gives_the_brute_force_minimum_mean_and_histogram() {
        let (count, side) = (300, 5);
        let (image_file, label_file) = idx_pair(count, side, 3);
        let files = vec![
            ("labels".to_owned(), label_file),
            ("images".to_owned(), image_file),
        ];
        let set = read_files(files, Some(0.1)).unwrap();
        assert_eq!(
            set.source,
            "300 images of 1×5×5 in 3 classes, from “labels” and “images”"
        );
        let (images, labels) = (set.images.clone(), set.labels.clone());
        let own = separation(set).unwrap();
        // Every image against every image of another class.
        let pixels = side * side;
        let image = |i: usize| &images[i * pixels..(i + 1) * pixels];
        let nearest: Vec<u32> = (0..count)
            .map(|i| {
                (0..count)
                    .filter(|&j| labels[j] != labels[i])
                    .map(|j| {
                        image(i)
                            .iter()
                            .zip(image(j))
                            .map(|(&a, &b)| u32::from(a.abs_diff(b)))
                            .max()
                            .unwrap()
                    })
                    .min()
                    .unwrap()
            })
            .collect();
        let min = f64::from(*nearest.iter().min().unwrap()) / 255.0;
        let mean = nearest.iter().map(|&d| f64::from(d)).sum::<f64>() / count as f64 / 255.0;
        assert_eq!(own.report.min, min);
        assert!(
            (own.report.mean - mean).abs() < 1e-12,
            "{} vs {mean}",
            own.report.mean
        );
        let mut counts = vec![0u64; 20];
        for &d in &nearest {
            counts[(d as usize * 20 / 255).min(19)] += 1;
        }
        assert_eq!(own.report.histogram.counts, counts);
        assert_eq!(own.report.separation_over_epsilon, Some(min / 2.0 / 0.1));
        // The first pair's pixels are the two images that far apart.
        let [query, train] = &own.pair_pixels[0];
        let far = query
            .iter()
            .zip(train)
            .map(|(a, b)| a.abs_diff(*b))
            .max()
            .unwrap();
        assert_eq!(f64::from(far) / 255.0, min);
    }

    #[test]
    fn a_folder_of_pngs_measures_as_the_same_images_in_idx() {
        let (count, side) = (120, 4);
        let (image_file, label_file) = idx_pair(count, side, 3);
        let from_idx = read_files(
            vec![("i".into(), image_file), ("l".into(), label_file)],
            None,
        )
        .unwrap();
        let pixels = side * side;
        let mut files: Vec<(String, Vec<u8>)> = (0..count)
            .map(|i| {
                let mut png = Vec::new();
                let mut encoder = png::Encoder::new(&mut png, side as u32, side as u32);
                encoder.set_color(png::ColorType::Grayscale);
                let mut writer = encoder.write_header().unwrap();
                writer
                    .write_image_data(&from_idx.images[i * pixels..(i + 1) * pixels])
                    .unwrap();
                writer.finish().unwrap();
                (format!("digits/{}/{i:03}.png", from_idx.labels[i]), png)
            })
            .collect();
        files.push(("digits/.DS_Store".into(), b"clutter".to_vec()));
        let from_png = read_files(files, None).unwrap();
        assert_eq!(
            from_png.source,
            "120 images of 1×4×4 in 3 classes, from PNGs in the folders 0, 1, 2"
        );
        assert_eq!(
            (&from_png.images, &from_png.labels),
            (&from_idx.images, &from_idx.labels)
        );
        let (png_report, idx_report) =
            (separation(from_png).unwrap(), separation(from_idx).unwrap());
        assert_eq!(png_report.report, idx_report.report);
        assert_eq!(png_report.class_names, ["0", "1", "2"]);
    }

    #[test]
    fn cifar_batches_are_read_together_and_gzip_is_recognised() {
        let record = |label: u8, fill: u8| {
            let mut r = vec![label];
            r.extend(std::iter::repeat_n(fill, cifar::RECORD_BYTES - 1));
            r
        };
        // Class k filled with 25·k; the second batch adds a class-0 image 3 from class 4's.
        let first: Vec<u8> = (0..10).flat_map(|k| record(k, 25 * k)).collect();
        let second = record(0, 103);
        let mut gzipped = Vec::new();
        {
            use std::io::Write;
            let mut encoder =
                flate2::write::GzEncoder::new(&mut gzipped, flate2::Compression::fast());
            encoder.write_all(&second).unwrap();
        }
        let set = read_files(
            vec![("a.bin".into(), first), ("b.bin.gz".into(), gzipped)],
            None,
        )
        .unwrap();
        assert_eq!(set.labels, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0]);
        assert_eq!(set.class_names[2], "bird");
        let own = separation(set).unwrap();
        assert_eq!(own.report.min, 3.0 / 255.0);
        // A mutual pair, listed once, from its smaller index: image 4 (class 4) and image 10.
        let pair = &own.report.closest_pairs[0];
        assert_eq!([pair.query_index, pair.train_index], [4, 10]);
    }

    #[test]
    fn files_that_are_not_a_set_are_refused_by_name() {
        let (images, labels) = idx_pair(20, 4, 2);
        let truncated = images[..images.len() - 3].to_vec();
        let error = read_files(
            vec![
                ("t10k-images".into(), truncated),
                ("l".into(), labels.clone()),
            ],
            None,
        )
        .unwrap_err();
        assert!(error.0.starts_with("“t10k-images”: "), "{}", error.0);
        assert!(error.0.contains("truncated"), "{}", error.0);
        let error = read_files(vec![("notes.txt".into(), b"hello".to_vec())], None).unwrap_err();
        assert!(
            error.0.starts_with("“notes.txt” is neither an IDX file"),
            "{}",
            error.0
        );
        let error = read_files(vec![("l".into(), labels)], None).unwrap_err();
        assert_eq!(
            error.0,
            "an IDX set is one image file and its label file; 0 image file(s) and 1 label file(s) were given"
        );
        let (images, _) = idx_pair(20, 4, 2);
        let (_, labels) = idx_pair(21, 4, 2);
        let error = read_files(vec![("i".into(), images), ("l".into(), labels)], None).unwrap_err();
        assert_eq!(error.0, "“i” holds 20 images but “l” 21 labels");
    }
}
