//! The real files: Fashion-MNIST from Debian's `dataset-fashion-mnist` (a missing folder
//! skips its test with a message, except on CI, `CI` set, where it fails) and the MNIST
//! sample Astute ships in `data/mnist-sample`.

use std::path::Path;

use astute::data::{DataDirs, DatasetId, ImageShape, Split, load};

/// Loads `id` from `dir` only, or `None` (skip) when the files are absent off CI.
fn load_from(id: DatasetId, dir: &Path) -> Option<Split> {
    let dirs = DataDirs::only([dir.to_path_buf()]);
    if dirs.locate(id).is_err() {
        let message = format!("{id}: no files under {}", dir.display());
        assert!(
            std::env::var_os("CI").is_none(),
            "{message} (required on CI)"
        );
        eprintln!("skipping: {message}");
        return None;
    }
    Some(load(id, &dirs).unwrap())
}

#[test]
fn fashion_mnist_official_split() {
    let Some(split) = load_from(DatasetId::FashionMnist, Path::new("/usr/share/datasets")) else {
        return;
    };
    assert_eq!(split.train.len(), 60_000);
    assert_eq!(split.test.len(), 10_000);
    assert_eq!(split.train.shape(), ImageShape::new(1, 28, 28));
    assert_eq!(split.train.class_counts(), vec![6_000; 10]);
    assert_eq!(split.test.class_counts(), vec![1_000; 10]);
    assert_eq!(split.train.labels()[..10], [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
    assert_eq!(split.test.labels()[..10], [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]);
    let first = split.train.image(0);
    assert_eq!(first.iter().map(|&p| u32::from(p)).sum::<u32>(), 76_247);
    assert_eq!(first[14 * 28 + 12..14 * 28 + 16], [237, 226, 217, 223]);
    assert_eq!(split.train.class_names()[9], "Ankle boot");
}

#[test]
fn mnist_sample_shipped_with_astute() {
    let split = load_from(
        DatasetId::MnistSample,
        &astute::data::locate::shipped_data_dir(),
    )
    .expect("the MNIST sample ships in data/mnist-sample");
    assert_eq!(split.train.shape(), ImageShape::new(1, 28, 28));
    // All 10,000 digits, per class, as the files hold them (the shipped test file is
    // 887 fours and 886 nines out of 2,000; the loader splits again by class).
    let totals = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];
    let every = astute::data::locate::MNIST_SAMPLE_TEST_EVERY;
    let test: Vec<usize> = totals.iter().map(|t| t / every).collect();
    let train: Vec<usize> = totals.iter().zip(&test).map(|(t, s)| t - s).collect();
    assert_eq!(split.test.class_counts(), test);
    assert_eq!(split.train.class_counts(), train);
    assert_eq!((split.train.len(), split.test.len()), (8_004, 1_996));
    // Classes interleave, so a prefix is balanced: the first ten are one of each digit.
    assert_eq!(split.train.labels()[..10], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert_eq!(split.test.labels()[..10], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // The first training digit is the first image of the shipped training file.
    assert_eq!(
        split
            .train
            .image(0)
            .iter()
            .map(|&p| u32::from(p))
            .sum::<u32>(),
        31_095
    );
}
