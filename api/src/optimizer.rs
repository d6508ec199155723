//! The optimizer a spec may choose instead of its dataset's preset.

use std::fmt;
use std::str::FromStr;

/// `sgd` (momentum 0.9) or `adam`, written as its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Optimizer {
    Sgd,
    Adam,
}

impl Optimizer {
    /// The learning rate a switch to this optimizer starts from when the spec sets none.
    pub fn usual_learning_rate(self) -> f64 {
        match self {
            Optimizer::Sgd => 0.01,
            Optimizer::Adam => 1e-3,
        }
    }
}

impl fmt::Display for Optimizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Optimizer::Sgd => "sgd",
            Optimizer::Adam => "adam",
        })
    }
}

impl FromStr for Optimizer {
    type Err = crate::NameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "sgd" => Ok(Optimizer::Sgd),
            "adam" => Ok(Optimizer::Adam),
            _ => Err(crate::NameError::new(
                "optimizer",
                format!("unknown optimizer '{s}': expected sgd or adam"),
            )),
        }
    }
}

serialize_as_name!(Optimizer);
name_schema!(Optimizer, "An optimizer: sgd (momentum 0.9) or adam.");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_ones_are_refused() {
        for o in [Optimizer::Sgd, Optimizer::Adam] {
            assert_eq!(o.to_string().parse::<Optimizer>().unwrap(), o);
        }
        assert_eq!(" Adam".parse::<Optimizer>().unwrap(), Optimizer::Adam);
        let error = "rmsprop".parse::<Optimizer>().unwrap_err();
        assert_eq!(error.kind, "optimizer");
        assert!(error.to_string().contains("'rmsprop'"));
    }
}
