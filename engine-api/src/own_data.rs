//! A visitor's own images, measured in the browser: what the Datasets page sends the
//! engine with the pixels, and the sizes a browser tab is asked to handle.

use astute_api::SeparationReport;
use serde::{Deserialize, Serialize};

/// The most images one in-browser measurement takes: all of MNIST's training set.
pub const MAX_IMAGES: usize = 70_000;
/// The most pixel bytes: MNIST's 70,000 images, or two CIFAR-10 batches. The search keeps
/// the pixels and an index of about the same size in the tab's memory, on one thread.
pub const MAX_PIXEL_BYTES: usize = 64 << 20;
/// The most classes (labels are bytes in every format the page reads).
pub const MAX_CLASSES: usize = 256;

/// Labelled images to measure: their shape and classes, and the ε for r/ε.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OwnData {
    /// `[channels, height, width]`.
    pub shape: [usize; 3],
    pub classes: usize,
    pub epsilon: Option<f64>,
}

/// What the engine measured of the visitor's images.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OwnReport {
    /// What was read, in words ("10000 images of 1×28×28 in 10 classes, from …").
    pub source: String,
    /// `[channels, height, width]`.
    pub shape: [usize; 3],
    pub class_names: Vec<String>,
    /// Train–Train: each image's distance to the nearest image of another class.
    pub report: SeparationReport,
    /// The pixels (CHW bytes) of each of the report's closest pairs: query, then neighbour.
    pub pair_pixels: Vec<[Vec<u8>; 2]>,
    /// Reading the files and the search, in the engine.
    pub milliseconds: f64,
}

impl OwnData {
    /// Refuses what one browser tab should not be asked to measure, saying why.
    pub fn check(&self, images: usize) -> Result<(), String> {
        let [channels, height, width] = self.shape;
        let pixels = channels * height * width;
        if pixels == 0 {
            return Err(format!(
                "images of {channels}×{height}×{width} have no pixels"
            ));
        }
        if images < 2 {
            return Err(format!(
                "{images} image(s): a separation needs two at least"
            ));
        }
        if images > MAX_IMAGES {
            return Err(format!(
                "{images} images: the browser measures {MAX_IMAGES} at most (`astute separation` measures any size on your machine)"
            ));
        }
        let bytes = images.saturating_mul(pixels);
        if bytes > MAX_PIXEL_BYTES {
            return Err(format!(
                "{:.0} MB of pixels: the browser measures {:.0} MB at most (`astute separation` measures any size on your machine)",
                bytes as f64 / 1e6,
                MAX_PIXEL_BYTES as f64 / 1e6
            ));
        }
        if !(2..=MAX_CLASSES).contains(&self.classes) {
            return Err(format!(
                "{} class(es): a separation needs 2 to {MAX_CLASSES}",
                self.classes
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(shape: [usize; 3], classes: usize) -> OwnData {
        OwnData {
            shape,
            classes,
            epsilon: None,
        }
    }

    #[test]
    fn sizes_a_tab_can_measure_pass_and_others_say_why() {
        assert_eq!(data([1, 28, 28], 10).check(70_000), Ok(()));
        assert_eq!(data([3, 32, 32], 10).check(20_000), Ok(()));
        let too_many = data([1, 28, 28], 10).check(70_001).unwrap_err();
        assert!(
            too_many.starts_with("70001 images: the browser measures 70000 at most"),
            "{too_many}"
        );
        let too_big = data([3, 32, 32], 10).check(30_000).unwrap_err();
        assert!(
            too_big.starts_with("92 MB of pixels: the browser measures 67 MB at most"),
            "{too_big}"
        );
        assert_eq!(
            data([1, 28, 28], 1).check(10).unwrap_err(),
            "1 class(es): a separation needs 2 to 256"
        );
        assert_eq!(
            data([1, 0, 28], 10).check(10).unwrap_err(),
            "images of 1×0×28 have no pixels"
        );
        assert_eq!(
            data([1, 28, 28], 10).check(1).unwrap_err(),
            "1 image(s): a separation needs two at least"
        );
    }
}
