//! Which network to build, named the way the paper and the CLI name it.

use std::fmt;
use std::str::FromStr;

/// The paper's architectures plus an MLP for the 2-D and 1-D synthetic data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Architecture {
    /// The small MNIST CNN of the paper's Table 2 (two convolutions, FC 128).
    Cnn1,
    /// The TRADES MNIST CNN (four convolutions, FC 200, FC 200).
    Cnn2,
    /// Pre-activation wide ResNet with `depth` layers and widening factor `width`.
    Wrn { depth: usize, width: usize },
    /// ResNet-50 with bottleneck blocks (Restricted ImageNet).
    ResNet50,
    /// Fully connected ReLU network with `layers` hidden layers of `width` units.
    Mlp { layers: usize, width: usize },
}

impl Architecture {
    /// WRN-16-4: the preset that keeps CIFAR-10 / SVHN runs practical on a CPU.
    pub const WRN_CPU: Self = Self::Wrn {
        depth: 16,
        width: 4,
    };
    /// WRN-40-10: the paper's GPU-scale network.
    pub const WRN_PAPER: Self = Self::Wrn {
        depth: 40,
        width: 10,
    };
    pub const MLP_DEFAULT: Self = Self::Mlp {
        layers: 3,
        width: 64,
    };
}

impl fmt::Display for Architecture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cnn1 => write!(f, "cnn1"),
            Self::Cnn2 => write!(f, "cnn2"),
            Self::Wrn { depth, width } => write!(f, "wrn-{depth}-{width}"),
            Self::ResNet50 => write!(f, "resnet50"),
            Self::Mlp { layers, width } => write!(f, "mlp-{layers}-{width}"),
        }
    }
}

serialize_as_name!(Architecture);
name_schema!(
    Architecture,
    "A network: cnn1, cnn2, wrn-DEPTH-WIDTH, resnet50 or mlp-LAYERS-WIDTH."
);

impl FromStr for Architecture {
    type Err = crate::NameError;

    /// Accepts `cnn1`, `cnn2`, `wrn-D-K` (D = 6n + 4), `wrn` (WRN-16-4), `resnet50`,
    /// `mlp` and `mlp-L-W`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse_name(s).map_err(|message| crate::NameError::new("architecture", message))
    }
}

impl Architecture {
    fn parse_name(s: &str) -> Result<Self, String> {
        let lower = s.trim().to_ascii_lowercase();
        let parse_pair = |rest: &str| -> Option<(usize, usize)> {
            let (a, b) = rest.split_once('-')?;
            Some((a.parse().ok()?, b.parse().ok()?))
        };
        let arch = match lower.as_str() {
            "cnn1" => Self::Cnn1,
            "cnn2" => Self::Cnn2,
            "wrn" => Self::WRN_CPU,
            "resnet50" | "resnet-50" => Self::ResNet50,
            "mlp" => Self::MLP_DEFAULT,
            other => {
                if let Some(rest) = other.strip_prefix("wrn-") {
                    let (depth, width) = parse_pair(rest)
                        .ok_or_else(|| format!("'{s}': expected wrn-DEPTH-WIDTH, e.g. wrn-16-4"))?;
                    if !(10..=100).contains(&depth)
                        || (depth - 4) % 6 != 0
                        || !(1..=20).contains(&width)
                    {
                        return Err(format!(
                            "'{s}': a WRN depth is 6n + 4 from 10 to 100 (10, 16, 22, 28, 34, 40, …) and the width 1 to 20"
                        ));
                    }
                    Self::Wrn { depth, width }
                } else if let Some(rest) = other.strip_prefix("mlp-") {
                    let (layers, width) = parse_pair(rest).ok_or_else(|| {
                        format!("'{s}': expected mlp-LAYERS-WIDTH, e.g. mlp-3-64")
                    })?;
                    if !(1..=16).contains(&layers) || !(1..=4096).contains(&width) {
                        return Err(format!(
                            "'{s}': an MLP has 1 to 16 hidden layers of 1 to 4096 units"
                        ));
                    }
                    Self::Mlp { layers, width }
                } else {
                    return Err(format!(
                        "unknown architecture '{s}': expected cnn1, cnn2, wrn-DEPTH-WIDTH, resnet50 or mlp-LAYERS-WIDTH"
                    ));
                }
            }
        };
        Ok(arch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for arch in [
            Architecture::Cnn1,
            Architecture::Cnn2,
            Architecture::WRN_CPU,
            Architecture::ResNet50,
            Architecture::MLP_DEFAULT,
        ] {
            assert_eq!(arch.to_string().parse::<Architecture>().unwrap(), arch);
        }
    }

    #[test]
    fn rejects_impossible_wrn_depth() {
        assert!(
            "wrn-17-4"
                .parse::<Architecture>()
                .unwrap_err()
                .to_string()
                .contains("6n + 4")
        );
        // Sizes that would ask for terabytes are refused before anything is counted.
        for huge in [
            "wrn-6000000004-1",
            "wrn-18446744073709551610-1",
            "wrn-106-4",
        ] {
            assert!(
                huge.parse::<Architecture>()
                    .unwrap_err()
                    .to_string()
                    .contains("from 10 to 100")
            );
        }
        assert!(
            "vgg"
                .parse::<Architecture>()
                .unwrap_err()
                .to_string()
                .contains("unknown architecture")
        );
    }
}
