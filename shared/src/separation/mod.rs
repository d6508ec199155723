//! Exact dataset separation (Section 3 of the paper): for every query image, the distance to
//! the nearest training image of another class, in ℓ∞ (the paper's metric) or ℓ2, computed
//! exactly on the `u8` pixels; the reports of Table 1 and Figure 3; the distance classifier
//! of Theorem 4.2; and adversarial pruning to an r-separated training set.
//!
//! Distances are integers internally ([`Neighbor::raw`]): the largest byte difference for ℓ∞
//! and the sum of squared byte differences for ℓ2; in reports they are in pixel units,
//! `raw / 255` and `sqrt(raw) / 255`. See [`Index`] for how the search stays exact while
//! skipping almost all of the `n_query × n_train × d` byte comparisons.
//!
//! ```no_run
//! # use astute::data::Dataset;
//! # use astute::separation::*;
//! # fn demo(train: &Dataset) -> Result<(), SeparationError> {
//! let index = Index::build(train, IndexOptions::default())?;
//! let nearest = index.nearest_within(false, &SearchOptions::default(), &Control::default())?;
//! let report = build_report(
//!     Split::TrainTrain, Metric::Linf, train.labels(), &index, &nearest, &ReportOptions::default())?;
//! println!("min {} mean {}", report.min, report.mean);
//! # Ok(()) }
//! ```

mod classifier;
mod dist;
mod index;
mod prune;
mod report;
mod simd;

pub use astute_api::{ClosestPair, Histogram, Metric, SeparationReport, Split};
pub use classifier::{
    CertifiedPoint, ClassifierReport, DecisionGrid, decision_grid, distance_classifier,
};
pub use index::{Index, IndexOptions};
pub use prune::{PruneMethod, PruneReport, prune, verify_separated};
pub use report::{ReportOptions, build_report, histogram};

use crate::data::{Dataset, ImageShape};
use core::sync::atomic::AtomicBool;

/// What can go wrong, with a message that says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum SeparationError {
    #[error("the training images are {}×{}×{} but the query images are {}×{}×{}: the shapes must match",
        .train.channels, .train.height, .train.width, .test.channels, .test.height, .test.width)]
    ShapeMismatch { train: ImageShape, test: ImageShape },
    #[error("the {what} set is empty")]
    EmptySet { what: &'static str },
    #[error("class {class} ({name}) has no training images")]
    EmptyClass { class: u16, name: String },
    #[error("unknown split {0:?}: expected train-train, test-train or both")]
    UnknownSplit(String),
    #[error("unknown kernel {0:?}: expected auto, scalar, avx2, avx512, neon or simd128")]
    UnknownKernel(String),
    #[error("the {0} kernel is not available on this machine (available: {1})")]
    KernelUnavailable(Kernel, String),
    #[error(
        "no query has a training image of another class: separation needs at least two classes"
    )]
    NoCrossClassPairs,
    #[error("the search was cancelled")]
    Cancelled,
    #[error("thread pool: {0}")]
    Threads(String),
    #[error("{0}")]
    Invalid(String),
}

/// The distance kernel (instruction set) to run. `Auto` picks the widest one the CPU has;
/// the others are for testing and benchmarking and fail if the CPU lacks them.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Kernel {
    #[default]
    Auto,
    /// Portable code, no explicit SIMD.
    Scalar,
    /// x86-64 AVX2.
    Avx2,
    /// x86-64 AVX-512BW.
    Avx512,
    /// AArch64 NEON.
    Neon,
    /// WebAssembly SIMD (builds with `target_feature = "simd128"`).
    Simd128,
}

/// A kernel that is known to run here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Isa {
    Portable,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    #[cfg(target_arch = "x86_64")]
    Avx512,
    #[cfg(target_arch = "aarch64")]
    Neon,
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    Simd128,
}

impl Kernel {
    pub const ALL: [Kernel; 5] = [
        Kernel::Scalar,
        Kernel::Avx2,
        Kernel::Avx512,
        Kernel::Neon,
        Kernel::Simd128,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Scalar => "scalar",
            Self::Avx2 => "avx2",
            Self::Avx512 => "avx512",
            Self::Neon => "neon",
            Self::Simd128 => "simd128",
        }
    }

    fn isa(self) -> Option<Isa> {
        match self {
            Self::Auto => Some(Self::best().isa().unwrap_or(Isa::Portable)),
            Self::Scalar => Some(Isa::Portable),
            #[cfg(target_arch = "x86_64")]
            Self::Avx2 => std::arch::is_x86_feature_detected!("avx2").then_some(Isa::Avx2),
            #[cfg(target_arch = "x86_64")]
            Self::Avx512 => (std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512bw"))
            .then_some(Isa::Avx512),
            #[cfg(target_arch = "aarch64")]
            Self::Neon => std::arch::is_aarch64_feature_detected!("neon").then_some(Isa::Neon),
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            Self::Simd128 => Some(Isa::Simd128),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    /// The concrete kernels this machine can run, portable first.
    pub fn available() -> Vec<Kernel> {
        Self::ALL
            .into_iter()
            .filter(|k| k.isa().is_some())
            .collect()
    }

    /// The kernel `Auto` stands for here.
    pub fn best() -> Kernel {
        [Kernel::Avx512, Kernel::Avx2, Kernel::Neon, Kernel::Simd128]
            .into_iter()
            .find(|k| k.isa().is_some())
            .unwrap_or(Kernel::Scalar)
    }

    pub(crate) fn resolve(self) -> Result<Isa, SeparationError> {
        self.isa().ok_or_else(|| {
            let names: Vec<&str> = Self::available().iter().map(|k| k.name()).collect();
            SeparationError::KernelUnavailable(self, names.join(", "))
        })
    }
}

impl core::fmt::Display for Kernel {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

impl core::str::FromStr for Kernel {
    type Err = SeparationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "scalar" | "portable" => Ok(Self::Scalar),
            "avx2" => Ok(Self::Avx2),
            "avx512" | "avx512bw" | "avx-512" => Ok(Self::Avx512),
            "neon" => Ok(Self::Neon),
            "simd128" | "wasm" => Ok(Self::Simd128),
            _ => Err(SeparationError::UnknownKernel(s.to_string())),
        }
    }
}

/// How to run a search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SearchOptions {
    pub metric: Metric,
    pub kernel: Kernel,
    /// Worker threads; `None` uses rayon's global pool (all cores). Ignored without `std`.
    pub threads: Option<usize>,
}

/// Progress reporting and cancellation for long searches.
#[derive(Clone, Copy, Default)]
pub struct Control<'a> {
    /// Called from worker threads with (queries done, total queries).
    pub progress: Option<&'a (dyn Fn(usize, usize) + Sync)>,
    /// When set to `true`, the search stops early with [`SeparationError::Cancelled`].
    pub cancel: Option<&'a AtomicBool>,
}

impl Control<'_> {
    pub(crate) fn is_cancelled(&self) -> bool {
        self.cancel
            .is_some_and(|c| c.load(core::sync::atomic::Ordering::Relaxed))
    }
}

/// A training image found by the search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Neighbor {
    /// Index in the training set.
    pub index: u32,
    /// ℓ∞: the largest absolute byte difference; ℓ2: the sum of squared byte differences.
    pub raw: u32,
}

/// The nearest training images of one query. Ties go to the smaller training index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Nearest {
    /// Nearest training image with a different label (`None` if there is none).
    pub other: Option<Neighbor>,
    /// Nearest training image with the same label (not the query itself), when asked for.
    pub same: Option<Neighbor>,
}

/// Runs `f` on a pool of `threads` workers (rayon's global pool when `None`).
#[cfg(feature = "std")]
pub(crate) fn with_threads<T: Send>(
    threads: Option<usize>,
    f: impl FnOnce() -> T + Send,
) -> Result<T, SeparationError> {
    match threads {
        None => Ok(f()),
        Some(n) => {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .map_err(|e| SeparationError::Threads(e.to_string()))?;
            Ok(pool.install(f))
        }
    }
}

#[cfg(not(feature = "std"))]
pub(crate) fn with_threads<T: Send>(
    _threads: Option<usize>,
    f: impl FnOnce() -> T + Send,
) -> Result<T, SeparationError> {
    Ok(f())
}

/// Fails with [`SeparationError::EmptyClass`] if a class of `train` has no image.
pub fn check_classes(train: &Dataset) -> Result<(), SeparationError> {
    if train.is_empty() {
        return Err(SeparationError::EmptySet { what: "training" });
    }
    match train.class_counts().iter().position(|&c| c == 0) {
        Some(class) => Err(SeparationError::EmptyClass {
            class: class as u16,
            name: train.class_names()[class].clone(),
        }),
        None => Ok(()),
    }
}

/// Checks that `queries` can be searched against `train`.
pub fn check_pair(train: &Dataset, queries: &Dataset) -> Result<(), SeparationError> {
    if queries.shape() != train.shape() {
        return Err(SeparationError::ShapeMismatch {
            train: train.shape(),
            test: queries.shape(),
        });
    }
    if queries.num_classes() != train.num_classes() {
        return Err(SeparationError::Invalid(format!(
            "the queries have {} classes but the training set has {}",
            queries.num_classes(),
            train.num_classes()
        )));
    }
    if queries.is_empty() {
        return Err(SeparationError::EmptySet { what: "query" });
    }
    Ok(())
}

/// Nearest other-class training image of every training image (Train–Train), exact.
/// Builds an [`Index`]; keep one yourself to run several searches on the same set.
pub fn train_train(
    train: &Dataset,
    options: &SearchOptions,
    control: &Control<'_>,
) -> Result<(Index, Vec<Nearest>), SeparationError> {
    check_classes(train)?;
    let index = Index::for_search(train, options)?;
    let nearest = index.nearest_within(false, options, control)?;
    Ok((index, nearest))
}

/// Nearest other-class training image of every test image (Test–Train), exact.
pub fn test_train(
    train: &Dataset,
    test: &Dataset,
    options: &SearchOptions,
    control: &Control<'_>,
) -> Result<(Index, Vec<Nearest>), SeparationError> {
    check_classes(train)?;
    check_pair(train, test)?;
    let index = Index::for_search(train, options)?;
    let nearest = index.nearest(test.images(), test.labels(), false, options, control)?;
    Ok((index, nearest))
}
