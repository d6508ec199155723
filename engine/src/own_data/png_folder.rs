//! A folder of labelled PNGs, laid out as torchvision's `ImageFolder` and most exports
//! are: every image sits in a folder named after its class (`shirts/001.png`). Classes are
//! numbered in the order of their names; grey images stay one channel, colour ones three
//! (CHW, as CIFAR's batches are); transparency is dropped, palettes and 16-bit samples are
//! brought to 8 bits.

use astute_engine_api::OwnData;

use crate::LabError;

/// The eight bytes every PNG file starts with.
const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];

pub fn is_png(bytes: &[u8]) -> bool {
    bytes.starts_with(&SIGNATURE)
}

/// The class of the image at `path`: the name of the folder it sits in.
fn class_of(path: &str) -> Option<&str> {
    let mut parts = path.rsplit('/');
    parts.next()?;
    parts.next().filter(|folder| !folder.is_empty())
}

/// One decoded image: `[channels, height, width]` and its CHW bytes.
struct Decoded {
    shape: [usize; 3],
    pixels: Vec<u8>,
}

/// The shape `bytes` will decode to, read from its header alone.
fn shape_of(reader: &png::Reader<std::io::Cursor<&[u8]>>) -> [usize; 3] {
    let (colour, _) = reader.output_color_type();
    let (width, height) = reader.info().size();
    let channels = match colour {
        png::ColorType::Grayscale | png::ColorType::GrayscaleAlpha => 1,
        _ => 3,
    };
    [channels, height as usize, width as usize]
}

fn reader<'a>(
    name: &str,
    bytes: &'a [u8],
) -> Result<png::Reader<std::io::Cursor<&'a [u8]>>, LabError> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    decoder
        .read_info()
        .map_err(|e| LabError(format!("“{name}”: not a PNG it can read ({e})")))
}

/// Decodes `bytes` to 8-bit CHW pixels without their alpha channel.
fn decode(name: &str, bytes: &[u8]) -> Result<Decoded, LabError> {
    let mut reader = reader(name, bytes)?;
    let shape = shape_of(&reader);
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| LabError(format!("“{name}” is too large to decode")))?;
    let mut buffer = vec![0; size];
    let frame = reader
        .next_frame(&mut buffer)
        .map_err(|e| LabError(format!("“{name}”: {e}")))?;
    let samples = frame.color_type.samples();
    let [channels, height, width] = shape;
    let plane = height * width;
    let mut pixels = vec![0; channels * plane];
    // Rows may be padded past `width · samples`: read each through the frame's line size.
    for y in 0..height {
        let row = &buffer[y * frame.line_size..][..width * samples];
        for (x, sample) in row.chunks_exact(samples).enumerate() {
            for (c, &value) in sample[..channels].iter().enumerate() {
                pixels[c * plane + y * width + x] = value;
            }
        }
    }
    Ok(Decoded { shape, pixels })
}

/// Reads `files` (path, bytes), all PNGs, as one labelled set: refuses an image outside a
/// class folder or of another shape than the first, naming it, and a set too large for a
/// tab before decoding more than one image.
pub fn read(
    files: Vec<(String, Vec<u8>)>,
    epsilon: Option<f64>,
) -> Result<super::OwnSet, LabError> {
    // Each file's class, then the classes in name order.
    let file_classes = files
        .iter()
        .map(|(path, _)| {
            class_of(path).ok_or_else(|| {
                LabError(format!(
                    "“{path}” is not in a class folder: give a folder whose subfolders are named after the classes (shirts/001.png)"
                ))
            })
        })
        .collect::<Result<Vec<&str>, _>>()?;
    let mut classes = file_classes.clone();
    classes.sort_unstable();
    classes.dedup();
    let Some((first_path, first_bytes)) = files.first() else {
        return Err(LabError("no PNG files were given".into()));
    };
    let shape = shape_of(&reader(first_path, first_bytes)?);
    let data = OwnData {
        shape,
        classes: classes.len(),
        epsilon,
    };
    data.check(files.len()).map_err(LabError)?;
    let mut images = Vec::with_capacity(files.len() * shape.iter().product::<usize>());
    let mut labels = Vec::with_capacity(files.len());
    for ((path, bytes), class) in files.iter().zip(&file_classes) {
        let decoded = decode(path, bytes)?;
        if decoded.shape != shape {
            let [c, h, w] = decoded.shape;
            let [c0, h0, w0] = shape;
            return Err(LabError(format!(
                "“{path}” is {c}×{h}×{w} but “{first_path}” {c0}×{h0}×{w0}: every image of a set has one shape"
            )));
        }
        images.extend(decoded.pixels);
        // At most 256 classes (checked above): the index fits a byte.
        labels.push(classes.partition_point(|c| c < class) as u8);
    }
    let folders = if classes.len() > 4 {
        format!(
            "{}, … {}",
            classes[..3].join(", "),
            classes[classes.len() - 1]
        )
    } else {
        classes.join(", ")
    };
    Ok(super::OwnSet {
        data,
        images,
        labels,
        class_names: classes.iter().map(|&c| c.to_owned()).collect(),
        source: format!("from PNGs in the folders {folders}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(
        width: u32,
        height: u32,
        colour: png::ColorType,
        depth: png::BitDepth,
        data: &[u8],
    ) -> Vec<u8> {
        let mut bytes = Vec::new();
        let mut encoder = png::Encoder::new(&mut bytes, width, height);
        encoder.set_color(colour);
        encoder.set_depth(depth);
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(data).unwrap();
        writer.finish().unwrap();
        bytes
    }

    fn grey(width: u32, pixels: &[u8]) -> Vec<u8> {
        encode(
            width,
            pixels.len() as u32 / width,
            png::ColorType::Grayscale,
            png::BitDepth::Eight,
            pixels,
        )
    }

    #[test]
    fn colour_is_stored_channel_by_channel_and_alpha_dropped() {
        // Two RGBA pixels: (1, 2, 3, a) and (4, 5, 6, a).
        let rgba = encode(
            2,
            1,
            png::ColorType::Rgba,
            png::BitDepth::Eight,
            &[1, 2, 3, 9, 4, 5, 6, 9],
        );
        let decoded = decode("x.png", &rgba).unwrap();
        assert_eq!(decoded.shape, [3, 1, 2]);
        assert_eq!(decoded.pixels, [1, 4, 2, 5, 3, 6]);
        // 16-bit grey keeps its high byte.
        let wide = encode(
            1,
            2,
            png::ColorType::Grayscale,
            png::BitDepth::Sixteen,
            &[0x12, 0x34, 0xAB, 0xCD],
        );
        let decoded = decode("y.png", &wide).unwrap();
        assert_eq!(
            (decoded.shape, decoded.pixels),
            ([1, 2, 1], vec![0x12, 0xAB])
        );
    }

    #[test]
    fn classes_are_the_folders_in_name_order() {
        let files = vec![
            ("set/shirts/a.png".to_owned(), grey(2, &[0, 0, 0, 0])),
            ("set/coats/b.png".to_owned(), grey(2, &[10, 0, 0, 0])),
            ("set/shirts/c.png".to_owned(), grey(2, &[0, 30, 0, 0])),
        ];
        let set = read(files, Some(0.1)).unwrap();
        assert_eq!(set.class_names, ["coats", "shirts"]);
        assert_eq!(set.labels, [1, 0, 1]);
        assert_eq!(set.data.shape, [1, 2, 2]);
        assert_eq!(set.images, [0, 0, 0, 0, 10, 0, 0, 0, 0, 30, 0, 0]);
        assert_eq!(set.source, "from PNGs in the folders coats, shirts");
    }

    #[test]
    fn images_that_do_not_make_a_set_are_refused_by_name() {
        let loose = read(vec![("a.png".into(), grey(1, &[0]))], None).unwrap_err();
        assert!(
            loose.0.starts_with("“a.png” is not in a class folder"),
            "{}",
            loose.0
        );
        let files = vec![
            ("p/a.png".to_owned(), grey(2, &[0, 0])),
            ("q/b.png".to_owned(), grey(1, &[0, 0])),
        ];
        assert_eq!(
            read(files, None).unwrap_err().0,
            "“q/b.png” is 1×2×1 but “p/a.png” 1×1×2: every image of a set has one shape"
        );
        let mut cut = grey(2, &[1, 2, 3, 4]);
        cut.truncate(cut.len() - 20);
        let files = vec![
            ("p/a.png".to_owned(), grey(2, &[0, 0, 0, 0])),
            ("q/b.png".to_owned(), cut),
        ];
        let error = read(files, None).unwrap_err().0;
        assert!(error.starts_with("“q/b.png”: "), "{error}");
        // One class only: refused before any image is decoded.
        let files = vec![
            ("p/a.png".to_owned(), grey(1, &[0])),
            ("p/b.png".to_owned(), grey(1, &[9])),
        ];
        assert_eq!(
            read(files, None).unwrap_err().0,
            "1 class(es): a separation needs 2 to 256"
        );
    }
}
