//! Separation: the distance between images, which points are measured against which, a
//! measurement's summary (Table 1, Figure 3) and a measurement as stored.

use crate::{DatasetId, Provenance, Status};

/// The distance between images.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// Largest absolute pixel difference (the paper's).
    #[default]
    Linf,
    /// Euclidean.
    L2,
}

impl Metric {
    /// A raw distance in pixel units ([0, 1] per pixel).
    pub fn to_unit(self, raw: u32) -> f64 {
        match self {
            Self::Linf => f64::from(raw) / 255.0,
            Self::L2 => f64::from(raw).sqrt() / 255.0,
        }
    }

    /// The largest raw distance whose pixel-unit value is strictly below `d`
    /// (`None` when even 0 is not), consistent with [`Metric::to_unit`].
    pub fn raw_below(self, d: f64) -> Option<u32> {
        if d.is_nan() || self.to_unit(0) >= d {
            return None;
        }
        let max = match self {
            Self::Linf => 255,
            Self::L2 => u32::MAX,
        };
        // Largest raw with to_unit(raw) < d, by bisection (to_unit is non-decreasing).
        let (mut lo, mut hi) = (0u32, max);
        if self.to_unit(hi) < d {
            return Some(hi);
        }
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if self.to_unit(mid) < d {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Some(lo)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Linf => "linf",
            Self::L2 => "l2",
        }
    }

    /// The mathematical symbol, for figures.
    pub fn symbol(self) -> &'static str {
        match self {
            Self::Linf => "ℓ∞",
            Self::L2 => "ℓ2",
        }
    }
}

impl core::fmt::Display for Metric {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

impl core::str::FromStr for Metric {
    type Err = crate::NameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "linf" | "l-inf" | "inf" | "l∞" => Ok(Self::Linf),
            "l2" | "euclidean" => Ok(Self::L2),
            _ => Err(crate::NameError::new(
                "metric",
                format!("unknown metric {s:?}: expected linf or l2"),
            )),
        }
    }
}

/// Which points are queried against which pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Split {
    /// Every training point against the other training points.
    TrainTrain,
    /// Every test point against the training points.
    TestTrain,
}

impl Split {
    pub fn name(self) -> &'static str {
        match self {
            Self::TrainTrain => "train-train",
            Self::TestTrain => "test-train",
        }
    }
}

impl core::fmt::Display for Split {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// Fractions of queries per distance bin on `[lo, hi]` (the last bin includes `hi`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Histogram {
    pub lo: f64,
    pub hi: f64,
    pub counts: Vec<u64>,
    pub fractions: Vec<f64>,
    /// Queries beyond `hi` (possible only in ℓ2), not in any bin.
    pub above: u64,
}

/// One query and its nearest training image of another class.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClosestPair {
    /// Index of the query (in the training set for Train–Train, the test set for Test–Train).
    pub query_index: usize,
    pub query_label: u16,
    pub train_index: usize,
    pub train_label: u16,
    /// In pixel units.
    pub distance: f64,
    /// ℓ∞: largest byte difference; ℓ2: sum of squared byte differences.
    pub raw: u32,
}

/// Separation of a dataset: the distance from each query to the nearest training image of
/// another class, summarised. Field names are stable (JSON output).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeparationReport {
    pub split: Split,
    pub metric: Metric,
    /// Number of query images.
    pub queries: usize,
    /// Number of training images searched.
    pub train: usize,
    /// Queries that have some training image of another class (all, unless a single class).
    pub measured: usize,
    pub min: f64,
    pub mean: f64,
    pub median: f64,
    pub max: f64,
    /// The `top_k` smallest distances, ascending (one per query).
    pub smallest: Vec<f64>,
    pub drop_smallest: usize,
    /// The minimum once the `drop_smallest` smallest distances are left out.
    pub min_after_drop: f64,
    pub histogram: Histogram,
    /// The `top_k` queries closest to another class, with that training image; for
    /// Train–Train a mutual pair is listed once.
    pub closest_pairs: Vec<ClosestPair>,
    /// r = min / 2: the dataset is r-separated.
    pub separation: f64,
    /// The dataset's ε, when given.
    pub epsilon: Option<f64>,
    /// r / ε: above 1, the ε-balls around differently labelled points cannot overlap.
    pub separation_over_epsilon: Option<f64>,
}

/// How far a running measurement's search is.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchProgress {
    pub split: Split,
    /// Queries done, of `total`.
    pub done: usize,
    pub total: usize,
}

/// A separation measurement as listed (`GET /api/separations`) and shown
/// (`GET /api/separations/{id}`, with its reports).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeparationRecord {
    pub id: String,
    pub dataset: DatasetId,
    pub metric: Metric,
    pub status: Status,
    pub created_at: i64,
    pub finished_at: Option<i64>,
    pub error: Option<String>,
    pub min_train_train: Option<f64>,
    pub min_test_train: Option<f64>,
    /// Seconds of search (index and both splits).
    pub seconds: Option<f64>,
    /// Train–Train then Test–Train; present once done (not in lists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reports: Option<Vec<SeparationReport>>,
    pub provenance: Provenance,
    pub scale: Option<String>,
    /// While running: the split being searched and how far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<SearchProgress>,
}
