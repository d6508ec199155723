//! The byte parsers never panic: thousands of random and corrupted files (truncated,
//! bytes overwritten, junk appended, or pure noise) give `Ok` or a `DataError`.

mod data_writers;

use astute::data::image_folder;
use astute::data::{cifar, idx, mat, svhn};
use data_writers::*;
use proptest::prelude::*;

/// `base` with some bytes overwritten (often in the header), maybe cut short, maybe
/// with junk appended.
fn corrupted(base: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let len = base.len();
    let position = prop_oneof![0..len.min(48), 0..len];
    (
        prop::collection::vec((position, any::<u8>()), 0..6),
        prop::option::of(0..=len),
        prop::collection::vec(any::<u8>(), 0..12),
        any::<bool>(),
    )
        .prop_map(move |(writes, cut, junk, append)| {
            let mut bytes = base.clone();
            for (i, v) in writes {
                bytes[i] = v;
            }
            if let Some(cut) = cut {
                bytes.truncate(cut);
            }
            if append {
                bytes.extend(junk);
            }
            bytes
        })
}

fn noise() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..400)
}

fn idx_files() -> impl Strategy<Value = Vec<u8>> {
    let images = idx_images(2, 2, 3, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    let labels = idx_labels(&[3, 7, 9]);
    prop_oneof![
        noise(),
        corrupted(images.clone()),
        corrupted(gzip(&images)),
        corrupted(labels.clone()),
        corrupted(gzip(&labels)),
        // Plausible headers with random dimensions and short bodies.
        (any::<[u32; 3]>(), prop::collection::vec(any::<u8>(), 0..64))
            .prop_map(|([n, r, c], body)| idx_images(n, r, c, &body)),
    ]
}

fn cifar_files() -> impl Strategy<Value = Vec<u8>> {
    let batch = [cifar_record(1, 0), cifar_record(9, 1)].concat();
    prop_oneof![
        noise(),
        corrupted(batch.clone()),
        corrupted(batch[..cifar::RECORD_BYTES].to_vec())
    ]
}

fn mat_files() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        noise(),
        // Noise after a valid header exercises the element parser.
        noise().prop_map(|body| [mat_header(), body].concat()),
        corrupted(svhn_mat(2, 2, &[1, 10], true, true)),
        corrupted(svhn_mat(2, 2, &[1, 10], false, false)),
        corrupted(svhn_mat(3, 2, &[4], true, false)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn idx_parsers_never_panic(bytes in idx_files()) {
        if let Ok(images) = idx::parse_images(bytes.clone()) {
            prop_assert_eq!(images.pixels.len(), images.count * images.rows * images.cols);
            let names: Vec<String> = (0..10).map(|d| d.to_string()).collect();
            let labels = vec![0; images.count];
            prop_assert!(idx::to_dataset(images, &labels, names).is_ok());
        }
        if let Ok(labels) = idx::parse_labels(bytes.clone()) {
            prop_assert!(labels.len() + 8 <= bytes.len() || astute_is_gzip(&bytes));
        }
    }

    #[test]
    fn cifar_parser_never_panics(bytes in cifar_files()) {
        let names: Vec<String> = cifar::CLASS_NAMES.iter().map(|&n| n.to_owned()).collect();
        if let Ok(ds) = cifar::parse_batch(&bytes, names) {
            prop_assert_eq!(ds.len() * cifar::RECORD_BYTES, bytes.len());
        }
        let _ = cifar::parse_class_names(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn mat_and_svhn_parsers_never_panic(bytes in mat_files()) {
        if let Ok(file) = mat::parse(&bytes) {
            for v in &file.variables {
                if let Some(values) = &v.values {
                    prop_assert_eq!(values.len(), v.dims.iter().product::<usize>());
                }
            }
        }
        if let Ok(ds) = svhn::parse(&bytes) {
            prop_assert_eq!(ds.images().len(), ds.len() * ds.shape().len());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// The image decoder (a dependency) is fed corrupted PNGs and JPEGs too.
    #[test]
    fn image_decoding_never_panics(bytes in prop_oneof![
        corrupted(png(5, 4, |x, y| [x as u8, y as u8, 3])),
        corrupted(jpeg(8, 8, [9, 99, 199])),
        noise(),
    ]) {
        if let Ok(chw) = image_folder::decode(&bytes, 4) {
            prop_assert_eq!(chw.len(), 3 * 4 * 4);
        }
    }
}

fn astute_is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}
