//! The datasets by name, and a dataset as the catalog lists it.

use std::fmt;
use std::str::FromStr;

/// A dataset, named on the command line by its id (`mnist`, `cifar10`, ...).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(into = "String", try_from = "String")]
pub enum DatasetId {
    Mnist,
    /// 10,000 real MNIST digits shipped with Astute (`data/mnist-sample`), split again by
    /// class (every 5th digit of a class is a test digit): not the official split.
    MnistSample,
    FashionMnist,
    Cifar10,
    Svhn,
    RestrictedImagenet,
    Spiral,
}

impl DatasetId {
    pub const fn all() -> [Self; 7] {
        [
            Self::Mnist,
            Self::MnistSample,
            Self::FashionMnist,
            Self::Cifar10,
            Self::Svhn,
            Self::RestrictedImagenet,
            Self::Spiral,
        ]
    }

    /// The command-line name, also the folder name under a data directory.
    pub const fn id(self) -> &'static str {
        match self {
            Self::Mnist => "mnist",
            Self::MnistSample => "mnist-sample",
            Self::FashionMnist => "fashion-mnist",
            Self::Cifar10 => "cifar10",
            Self::Svhn => "svhn",
            Self::RestrictedImagenet => "restricted-imagenet",
            Self::Spiral => "spiral",
        }
    }
}

impl fmt::Display for DatasetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

serialize_as_name!(DatasetId);

impl FromStr for DatasetId {
    type Err = crate::NameError;

    /// Accepts the ids case-insensitively, plus `mnist-subset`, `fashion`, `cifar-10`,
    /// `imagenet` and `r-imagenet` as aliases.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        let alias = match lower.as_str() {
            "mnist-subset" => Some(Self::MnistSample),
            "fashion" | "fashionmnist" => Some(Self::FashionMnist),
            "cifar-10" => Some(Self::Cifar10),
            "imagenet" | "r-imagenet" | "restricted_imagenet" => Some(Self::RestrictedImagenet),
            _ => None,
        };
        alias
            .or_else(|| Self::all().into_iter().find(|d| d.id() == lower))
            .ok_or_else(|| {
                let ids: Vec<&str> = Self::all().iter().map(|d| d.id()).collect();
                crate::NameError::new(
                    "dataset",
                    format!("unknown dataset '{s}': expected one of {}", ids.join(", ")),
                )
            })
    }
}

name_schema!(
    DatasetId,
    "A dataset: mnist, mnist-sample, fashion-mnist, cifar10, svhn, restricted-imagenet or spiral."
);

/// One dataset of the catalog (`GET /api/datasets`, `astute datasets --json`) and whether
/// this machine has it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DatasetEntry {
    pub id: DatasetId,
    pub title: String,
    /// Channels, height, width.
    pub shape: [usize; 3],
    pub classes: usize,
    /// The name of each class, by label.
    pub class_names: Vec<String>,
    /// The paper's ℓ∞ radius in pixel units.
    pub epsilon: f32,
    /// The network a run on it trains unless told otherwise.
    pub architecture: crate::Architecture,
    pub available: bool,
    /// Where it was found, or why it is missing (`found` and `missing` on a public site).
    pub location: String,
}
