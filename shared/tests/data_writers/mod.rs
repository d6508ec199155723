//! Writers for small files in the official dataset formats, for the loader tests.
#![allow(dead_code)] // each test file uses a different subset

use std::io::Write;
use std::path::Path;

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

pub fn zlib(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// IDX3 images: magic 0x00000803, count, rows, cols (big-endian), pixels.
pub fn idx_images(count: u32, rows: u32, cols: u32, pixels: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for word in [0x0803, count, rows, cols] {
        out.extend(u32::to_be_bytes(word));
    }
    out.extend_from_slice(pixels);
    out
}

/// IDX1 labels: magic 0x00000801, count, labels.
pub fn idx_labels(labels: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for word in [0x0801, labels.len() as u32] {
        out.extend(u32::to_be_bytes(word));
    }
    out.extend_from_slice(labels);
    out
}

/// Writes an MNIST-style folder: `train` and `test` are (pixels of 2×3 images, labels).
pub fn write_idx_folder(dir: &Path, train: (&[u8], &[u8]), test: (&[u8], &[u8]), gzipped: bool) {
    std::fs::create_dir_all(dir).unwrap();
    let put = |name: &str, bytes: Vec<u8>| {
        if gzipped {
            std::fs::write(dir.join(format!("{name}.gz")), gzip(&bytes)).unwrap();
        } else {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
    };
    for ((images, labels), (img_name, lab_name)) in [train, test].into_iter().zip([
        ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
        ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
    ]) {
        put(img_name, idx_images(labels.len() as u32, 2, 3, images));
        put(lab_name, idx_labels(labels));
    }
}

/// The CIFAR pixel at (channel c, row y, column x) of image `seed`.
pub fn cifar_pixel(seed: u8, c: usize, y: usize, x: usize) -> u8 {
    ((c * 85 + y * 7 + x * 3 + usize::from(seed) * 11) % 256) as u8
}

/// One CIFAR-10 record: the label, then 3×32×32 bytes in CHW order.
pub fn cifar_record(label: u8, seed: u8) -> Vec<u8> {
    let mut out = vec![label];
    for c in 0..3 {
        for y in 0..32 {
            for x in 0..32 {
                out.push(cifar_pixel(seed, c, y, x));
            }
        }
    }
    out
}

// MAT-file v5 (little-endian) writing.
pub const MI_INT8: u32 = 1;
pub const MI_UINT8: u32 = 2;
pub const MI_INT32: u32 = 5;
pub const MI_UINT32: u32 = 6;
pub const MI_DOUBLE: u32 = 9;
pub const MI_MATRIX: u32 = 14;
pub const MI_COMPRESSED: u32 = 15;
pub const MX_DOUBLE: u8 = 6;
pub const MX_UINT8: u8 = 9;

pub fn mat_header() -> Vec<u8> {
    let mut out = b"MATLAB 5.0 MAT-file, Platform: test, Created on: today".to_vec();
    out.resize(116, b' ');
    out.extend([0; 8]); // subsystem data offset
    out.extend(0x0100u16.to_le_bytes());
    out.extend(b"IM");
    out
}

/// A data element: type, size, data, zero padding to 8 bytes.
pub fn mat_element(kind: u32, data: &[u8]) -> Vec<u8> {
    let mut out = kind.to_le_bytes().to_vec();
    out.extend((data.len() as u32).to_le_bytes());
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(8) * 8, 0);
    out
}

/// A small-format data element (≤ 4 bytes of data packed into the tag).
pub fn mat_small_element(kind: u32, data: &[u8]) -> Vec<u8> {
    assert!(data.len() <= 4);
    let mut out = (((data.len() as u32) << 16) | kind).to_le_bytes().to_vec();
    out.extend_from_slice(data);
    out.resize(8, 0);
    out
}

/// An miMATRIX element: array flags, dimensions, name (small format when it fits),
/// real part stored as `storage` type.
pub fn mat_matrix(name: &str, class: u8, dims: &[usize], storage: u32, real: &[u8]) -> Vec<u8> {
    let flags = [u32::from(class).to_le_bytes(), 0u32.to_le_bytes()].concat();
    let dims: Vec<u8> = dims
        .iter()
        .flat_map(|&d| (d as i32).to_le_bytes())
        .collect();
    let name_el = if name.len() <= 4 {
        mat_small_element(MI_INT8, name.as_bytes())
    } else {
        mat_element(MI_INT8, name.as_bytes())
    };
    let body = [
        mat_element(MI_UINT32, &flags),
        mat_element(MI_INT32, &dims),
        name_el,
        mat_element(storage, real),
    ]
    .concat();
    mat_element(MI_MATRIX, &body)
}

/// Wraps an element in miCOMPRESSED (zlib, no padding, as MATLAB writes it).
pub fn mat_compressed(element: &[u8]) -> Vec<u8> {
    let packed = zlib(element);
    let mut out = MI_COMPRESSED.to_le_bytes().to_vec();
    out.extend((packed.len() as u32).to_le_bytes());
    out.extend(packed);
    out
}

/// The SVHN test value of image n, channel c, row y, column x.
pub fn svhn_pixel(n: usize, c: usize, y: usize, x: usize) -> u8 {
    ((n * 50 + c * 20 + y * 5 + x) % 256) as u8
}

/// `X` (h × w × 3 × n uint8, column-major) and `y` (n × 1 double or uint8) as an SVHN
/// MAT-file, each variable compressed or not.
pub fn svhn_mat(h: usize, w: usize, labels: &[u8], y_double: bool, compress: bool) -> Vec<u8> {
    let n = labels.len();
    let mut x = vec![0u8; h * w * 3 * n];
    for img in 0..n {
        for c in 0..3 {
            for row in 0..h {
                for col in 0..w {
                    x[row + h * col + h * w * c + h * w * 3 * img] = svhn_pixel(img, c, row, col);
                }
            }
        }
    }
    let x_el = mat_matrix("X", MX_UINT8, &[h, w, 3, n], MI_UINT8, &x);
    let y_el = if y_double {
        let bytes: Vec<u8> = labels
            .iter()
            .flat_map(|&l| f64::from(l).to_le_bytes())
            .collect();
        mat_matrix("y", MX_DOUBLE, &[n, 1], MI_DOUBLE, &bytes)
    } else {
        mat_matrix("y", MX_UINT8, &[n, 1], MI_UINT8, labels)
    };
    let wrap = |el: Vec<u8>| if compress { mat_compressed(&el) } else { el };
    [mat_header(), wrap(x_el), wrap(y_el)].concat()
}

/// A PNG of `width` × `height` whose pixel (x, y) is `color(x, y)`.
pub fn png(width: u32, height: u32, color: impl Fn(u32, u32) -> [u8; 3]) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| image::Rgb(color(x, y)));
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// A JPEG of one colour.
pub fn jpeg(width: u32, height: u32, color: [u8; 3]) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(width, height, image::Rgb(color));
    let mut out = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut out),
        image::ImageFormat::Jpeg,
    )
    .unwrap();
    out
}
