//! Datasets: the `u8` image container, loaders for the official file formats, synthetic
//! data, and the catalog of what Astute knows.
//!
//! The parsers work on byte slices and build for the browser too; reading files,
//! gzip/zlib, JPEG decoding and the data-directory search need the `std` feature.

mod dataset;
mod error;
#[cfg(feature = "std")]
mod read;

pub mod catalog;
pub mod cifar;
pub mod idx;
pub mod image_folder;
#[cfg(feature = "std")]
pub mod locate;
pub mod mat;
pub mod svhn;
pub mod synthetic;

pub use catalog::{Catalog, DatasetId, DatasetInfo, OfficialFile};
pub use dataset::{Dataset, ImageShape, Split};
pub use error::DataError;
#[cfg(feature = "std")]
pub use locate::{Availability, DataDirs, load};
pub use synthetic::{Spiral, SpiralConfig, Staircase, StaircaseConfig, StaircaseSplit};
