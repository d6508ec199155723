//! Every loader on small files written here in the official formats: exact pixels,
//! NCHW order, labels, and errors that name the file and the problem.

mod data_writers;

use std::path::Path;

use astute::data::image_folder::{self, ImageFolderOptions};
use astute::data::{DataDirs, DataError, DatasetId, ImageShape, cifar, idx, load, svhn};
use data_writers::*;

fn temp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// The error's text, checked to name `path`.
fn err_for(result: Result<impl std::fmt::Debug, DataError>, path: &Path) -> String {
    let err = result.unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(&err, DataError::File { path: p, .. } if p == path),
        "{text} should name {}",
        path.display()
    );
    text
}

// ---------- IDX (MNIST, Fashion-MNIST) ----------

const TRAIN_PIXELS: [u8; 12] = [0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255];
const TEST_PIXELS: [u8; 6] = [9, 8, 7, 6, 5, 4];

#[test]
fn idx_folder_loads_gzipped_and_raw_files_alike() {
    for gzipped in [true, false] {
        let root = temp();
        let dir = root.path().join("mnist");
        write_idx_folder(
            &dir,
            (&TRAIN_PIXELS, &[3, 9]),
            (&TEST_PIXELS, &[0]),
            gzipped,
        );
        let split = load(
            DatasetId::Mnist,
            &DataDirs::only([root.path().to_path_buf()]),
        )
        .unwrap();
        assert_eq!(split.train.shape(), ImageShape::new(1, 2, 3));
        assert_eq!(split.train.images(), &TRAIN_PIXELS);
        assert_eq!(split.train.image(1), &[250, 251, 252, 253, 254, 255]);
        assert_eq!(split.train.labels(), &[3, 9]);
        assert_eq!(split.test.images(), &TEST_PIXELS);
        assert_eq!(split.test.labels(), &[0]);
        assert_eq!(split.train.class_names()[9], "9");
    }
}

#[test]
fn idx_gzip_is_detected_by_content_not_name() {
    let root = temp();
    let dir = root.path().join("fashion-mnist");
    write_idx_folder(&dir, (&TRAIN_PIXELS, &[3, 9]), (&TEST_PIXELS, &[0]), false);
    // A gzipped file without the .gz suffix.
    let images = dir.join("train-images-idx3-ubyte");
    std::fs::write(&images, gzip(&idx_images(2, 2, 3, &TRAIN_PIXELS))).unwrap();
    let split = load(
        DatasetId::FashionMnist,
        &DataDirs::only([root.path().to_path_buf()]),
    )
    .unwrap();
    assert_eq!(split.train.images(), &TRAIN_PIXELS);
    assert_eq!(split.train.class_names()[0], "T-shirt/top");
}

#[test]
fn idx_errors_name_the_file_and_the_problem() {
    let root = temp();
    let dir = root.path();
    let images = dir.join("images");
    let labels = dir.join("labels");
    let names = || (0..10).map(|d| d.to_string()).collect::<Vec<_>>();
    std::fs::write(&labels, idx_labels(&[1, 2])).unwrap();

    std::fs::write(&images, &idx_images(2, 2, 3, &TRAIN_PIXELS)[..20]).unwrap();
    let text = err_for(idx::load(&images, &labels, names()), &images);
    assert!(
        text.contains("truncated") && text.contains("only 4 bytes"),
        "{text}"
    );

    std::fs::write(&images, gzip(&idx_images(2, 2, 3, &TRAIN_PIXELS)[..20])).unwrap();
    assert!(err_for(idx::load(&images, &labels, names()), &images).contains("truncated"));

    let gz = gzip(&idx_images(2, 2, 3, &TRAIN_PIXELS));
    std::fs::write(&images, &gz[..gz.len() - 5]).unwrap();
    assert!(err_for(idx::load(&images, &labels, names()), &images).contains("corrupt gzip"));

    std::fs::write(
        &images,
        [&idx_images(2, 2, 3, &TRAIN_PIXELS)[..], &[0]].concat(),
    )
    .unwrap();
    assert!(err_for(idx::load(&images, &labels, names()), &images).contains("1 unexpected bytes"));

    std::fs::write(&images, idx_labels(&[1, 2])).unwrap();
    assert!(
        err_for(idx::load(&images, &labels, names()), &images)
            .contains("wrong magic number 0x00000801")
    );

    std::fs::write(&images, idx_images(3, 2, 3, &[0; 18])).unwrap();
    let text = err_for(idx::load(&images, &labels, names()), &labels);
    assert!(
        text.contains("2 labels") && text.contains("3 images"),
        "{text}"
    );

    std::fs::write(&images, idx_images(2, 2, 3, &TRAIN_PIXELS)).unwrap();
    std::fs::write(&labels, idx_labels(&[1, 12])).unwrap();
    assert!(err_for(idx::load(&images, &labels, names()), &labels).contains("label 12 at index 1"));

    let missing = dir.join("nope");
    assert!(err_for(idx::load(&missing, &labels, names()), &missing).contains("file not found"));
}

#[test]
fn idx_folder_with_a_missing_file_is_not_found() {
    let root = temp();
    let dir = root.path().join("mnist");
    write_idx_folder(&dir, (&TRAIN_PIXELS, &[3, 9]), (&TEST_PIXELS, &[0]), true);
    std::fs::remove_file(dir.join("t10k-labels-idx1-ubyte.gz")).unwrap();
    let err = load(
        DatasetId::Mnist,
        &DataDirs::only([root.path().to_path_buf()]),
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, DataError::NotFound { .. }), "{text}");
    assert!(
        text.contains("t10k-labels-idx1-ubyte[.gz]") && text.contains(&dir.display().to_string()),
        "{text}"
    );
    // The loader itself names the missing file.
    let text = err_for(
        idx::load_split(&dir, &["a"; 10]),
        &dir.join("t10k-labels-idx1-ubyte.gz"),
    );
    assert!(text.contains("file not found"), "{text}");
}

// ---------- CIFAR-10 ----------

fn write_cifar(dir: &Path, meta: Option<&str>) {
    std::fs::create_dir_all(dir).unwrap();
    for (b, name) in cifar::TRAIN_FILES.iter().enumerate() {
        let batch = [
            cifar_record(b as u8, b as u8 * 2),
            cifar_record(9 - b as u8, b as u8 * 2 + 1),
        ]
        .concat();
        std::fs::write(dir.join(name), batch).unwrap();
    }
    std::fs::write(dir.join(cifar::TEST_FILE), cifar_record(7, 200)).unwrap();
    if let Some(meta) = meta {
        std::fs::write(dir.join(cifar::META_FILE), meta).unwrap();
    }
}

#[test]
fn cifar_batches_load_in_order_with_chw_pixels() {
    let root = temp();
    let dir = root.path().join("cifar10").join("cifar-10-batches-bin");
    write_cifar(&dir, None);
    let split = load(
        DatasetId::Cifar10,
        &DataDirs::only([root.path().to_path_buf()]),
    )
    .unwrap();
    assert_eq!(split.train.len(), 10);
    assert_eq!(split.train.shape(), ImageShape::new(3, 32, 32));
    assert_eq!(split.train.labels(), &[0, 9, 1, 8, 2, 7, 3, 6, 4, 5]);
    for i in 0..10 {
        let img = split.train.image(i);
        for (c, y, x) in [(0, 0, 0), (0, 0, 31), (1, 5, 7), (2, 31, 0), (2, 31, 31)] {
            assert_eq!(
                img[c * 1024 + y * 32 + x],
                cifar_pixel(i as u8, c, y, x),
                "image {i} ({c}, {y}, {x})"
            );
        }
    }
    assert_eq!(split.test.labels(), &[7]);
    assert_eq!(
        split.test.image(0)[1024 + 32 + 1],
        cifar_pixel(200, 1, 1, 1)
    );
    assert_eq!(split.train.class_names()[0], "airplane");
}

#[test]
fn cifar_class_names_come_from_the_meta_file() {
    let root = temp();
    let names: Vec<String> = (0..10).map(|i| format!("class {i}")).collect();
    write_cifar(root.path(), Some(&(names.join("\n") + "\n\n")));
    let split = cifar::load(root.path()).unwrap();
    assert_eq!(split.test.class_names(), &names[..]);

    std::fs::write(root.path().join(cifar::META_FILE), "just\ntwo\n").unwrap();
    let meta = root.path().join(cifar::META_FILE);
    assert!(err_for(cifar::load(root.path()), &meta).contains("2 class names"));
}

#[test]
fn cifar_errors_name_the_file_and_the_problem() {
    let root = temp();
    write_cifar(root.path(), None);
    let batch = root.path().join("data_batch_3.bin");
    let good = std::fs::read(&batch).unwrap();

    std::fs::write(&batch, &good[..good.len() - 100]).unwrap();
    assert!(err_for(cifar::load(root.path()), &batch).contains("truncated"));

    std::fs::write(&batch, [&good[..], &[1, 2, 3]].concat()).unwrap();
    assert!(err_for(cifar::load(root.path()), &batch).contains("3 more"));

    let mut bad_label = good.clone();
    bad_label[cifar::RECORD_BYTES] = 10;
    std::fs::write(&batch, bad_label).unwrap();
    assert!(err_for(cifar::load(root.path()), &batch).contains("record 1 has label 10"));

    std::fs::remove_file(&batch).unwrap();
    assert!(err_for(cifar::load(root.path()), &batch).contains("file not found"));
}

// ---------- SVHN (MAT v5) ----------

#[test]
fn svhn_mat_files_become_nchw_with_digit_labels() {
    let labels = [10, 1, 5];
    for (h, w) in [(32, 32), (4, 3)] {
        for y_double in [true, false] {
            for compress in [true, false] {
                let ds = svhn::parse(&svhn_mat(h, w, &labels, y_double, compress)).unwrap();
                assert_eq!(ds.shape(), ImageShape::new(3, h, w));
                assert_eq!(ds.labels(), &[0, 1, 5], "10 means the digit 0");
                for n in 0..3 {
                    let img = ds.image(n);
                    for c in 0..3 {
                        for y in 0..h {
                            for x in 0..w {
                                assert_eq!(img[c * h * w + y * w + x], svhn_pixel(n, c, y, x));
                            }
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn svhn_folder_loads_both_files() {
    let root = temp();
    let dir = root.path().join("svhn");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(svhn::TRAIN_FILE),
        svhn_mat(32, 32, &[1, 2, 3, 10], true, true),
    )
    .unwrap();
    std::fs::write(
        dir.join(svhn::TEST_FILE),
        svhn_mat(32, 32, &[9], false, false),
    )
    .unwrap();
    let split = load(
        DatasetId::Svhn,
        &DataDirs::only([root.path().to_path_buf()]),
    )
    .unwrap();
    assert_eq!(split.train.labels(), &[1, 2, 3, 0]);
    assert_eq!(split.test.labels(), &[9]);
    assert_eq!(
        split.test.image(0)[2 * 1024 + 31 * 32 + 30],
        svhn_pixel(0, 2, 31, 30)
    );
}

#[test]
fn svhn_errors_name_the_file_and_the_problem() {
    let root = temp();
    let dir = root.path();
    std::fs::write(dir.join(svhn::TEST_FILE), svhn_mat(2, 2, &[1], true, true)).unwrap();
    let train = dir.join(svhn::TRAIN_FILE);

    let good = svhn_mat(2, 2, &[1, 2], true, true);
    std::fs::write(&train, &good[..good.len() - 10]).unwrap();
    assert!(err_for(svhn::load(dir), &train).contains("truncated"));

    std::fs::write(&train, &good[..100]).unwrap();
    assert!(err_for(svhn::load(dir), &train).contains("too short for a MAT-file header"));

    let mut wrong_magic = good.clone();
    wrong_magic[126..128].copy_from_slice(b"XX");
    std::fs::write(&train, wrong_magic).unwrap();
    assert!(err_for(svhn::load(dir), &train).contains("endian indicator"));

    let x = mat_matrix("X", MX_UINT8, &[2, 2, 3, 2], MI_UINT8, &[0; 24]);
    let y = mat_matrix(
        "y",
        MX_DOUBLE,
        &[3, 1],
        MI_DOUBLE,
        &[1f64, 2.0, 3.0].map(f64::to_le_bytes).concat(),
    );
    std::fs::write(&train, [mat_header(), x.clone(), y].concat()).unwrap();
    assert!(err_for(svhn::load(dir), &train).contains("'y' has 3 labels for the 2 images"));

    let y = mat_matrix(
        "y",
        MX_DOUBLE,
        &[2, 1],
        MI_DOUBLE,
        &[1f64, 11.0].map(f64::to_le_bytes).concat(),
    );
    std::fs::write(&train, [mat_header(), x.clone(), y].concat()).unwrap();
    assert!(err_for(svhn::load(dir), &train).contains("y[1] = 11"));

    std::fs::write(&train, [mat_header(), x].concat()).unwrap();
    assert!(err_for(svhn::load(dir), &train).contains("no variable 'y'"));

    std::fs::remove_file(&train).unwrap();
    assert!(err_for(svhn::load(dir), &train).contains("file not found"));
}

// ---------- Restricted ImageNet (image folders) ----------

fn wnid(index: usize) -> String {
    format!("n{index:08}")
}

/// A tree with a mapping file of 1,000 made-up wnids (wnid of class i = n0000000i).
fn write_imagenet(root: &Path) {
    let mapping: String = (0..1000)
        .map(|i| format!("{} class {i}\n", wnid(i)))
        .collect();
    std::fs::write(root.join("LOC_synset_mapping.txt"), mapping).unwrap();
    let put = |split: &str, class: usize, file: &str, bytes: Vec<u8>| {
        let dir = root.join(split).join(wnid(class));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(file), bytes).unwrap();
    };
    // dog (151): a 6×3 PNG with distinct columns; the 3×3 centre crop keeps columns 1–3.
    put(
        "train",
        151,
        "b.png",
        png(6, 3, |x, y| [x as u8 * 40, y as u8 * 50, 7]),
    );
    // dog (200): a solid PNG, downscaled.
    put("train", 200, "a.PNG", png(10, 20, |_, _| [10, 20, 30]));
    // frog (30): a JPEG, lossy but nearly solid.
    put("train", 30, "z.JPEG", jpeg(16, 16, [200, 100, 50]));
    // class 5 (not restricted) is dropped; so is a text file.
    put("train", 5, "x.png", png(3, 3, |_, _| [1, 1, 1]));
    put("train", 151, "notes.txt", b"not an image".to_vec());
    put(
        "val",
        319,
        "v.png",
        png(3, 3, |x, y| [x as u8, y as u8, 99]),
    );
}

#[test]
fn image_folders_become_restricted_imagenet() {
    let root = temp();
    write_imagenet(root.path());
    let options = ImageFolderOptions {
        size: 3,
        max_per_class: None,
    };
    let split = image_folder::load(root.path(), &options).unwrap();
    assert_eq!(split.train.shape(), ImageShape::new(3, 3, 3));
    // Ordered by ImageNet index: frog (30), dog (151), dog (200).
    assert_eq!(split.train.labels(), &[2, 0, 0]);
    assert_eq!(split.train.class_names()[8], "insect");
    let frog = split.train.image(0);
    for (c, want) in [200i32, 100, 50].into_iter().enumerate() {
        assert!(
            frog[c * 9..(c + 1) * 9]
                .iter()
                .all(|&v| (i32::from(v) - want).abs() <= 3),
            "{frog:?}"
        );
    }
    let dog = split.train.image(1);
    let red: Vec<u8> = (0..3).flat_map(|_| [40, 80, 120]).collect();
    let green: Vec<u8> = (0..3).flat_map(|y| [y as u8 * 50; 3]).collect();
    assert_eq!(&dog[..9], &red[..], "R plane: columns 1–3 of every row");
    assert_eq!(&dog[9..18], &green[..], "G plane");
    assert_eq!(&dog[18..], &[7; 9]);
    assert_eq!(
        split.train.image(2),
        &[[10u8; 9], [20; 9], [30; 9]].concat()[..]
    );
    assert_eq!(split.test.labels(), &[8]);
    assert_eq!(
        split.test.image(0),
        &[
            0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 0, 0, 1, 1, 1, 2, 2, 2, 99, 99, 99, 99, 99, 99, 99, 99,
            99
        ]
    );

    let limited = image_folder::load(
        root.path(),
        &ImageFolderOptions {
            size: 3,
            max_per_class: Some(0),
        },
    );
    assert!(limited.unwrap_err().to_string().contains("no images"));
}

#[test]
fn image_folder_errors_name_the_file_and_the_problem() {
    let root = temp();
    write_imagenet(root.path());
    let options = ImageFolderOptions {
        size: 4,
        max_per_class: None,
    };

    let broken = root.path().join("train").join(wnid(200)).join("c.jpg");
    std::fs::write(&broken, b"\xff\xd8\xff garbage").unwrap();
    assert!(err_for(image_folder::load(root.path(), &options), &broken).contains("cannot decode"));
    std::fs::remove_file(&broken).unwrap();

    std::fs::remove_file(root.path().join("LOC_synset_mapping.txt")).unwrap();
    let train = root.path().join("train");
    let text = err_for(image_folder::load(root.path(), &options), &train);
    assert!(
        text.contains("4 class folders") && text.contains("LOC_synset_mapping.txt"),
        "{text}"
    );

    let dirs = DataDirs::only([root.path().to_path_buf()]);
    let text = load(DatasetId::RestrictedImagenet, &dirs)
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("train/, val/") && text.contains("restricted-imagenet"),
        "{text}"
    );
}

#[test]
fn sorted_folder_names_give_indices_when_all_1000_are_present() {
    let root = temp();
    for i in 0..1000 {
        std::fs::create_dir_all(root.path().join("train").join(wnid(i))).unwrap();
    }
    let indices = image_folder::class_indices(root.path()).unwrap();
    assert_eq!(indices[&wnid(151)], 151);
    assert_eq!(indices.len(), 1000);
}
