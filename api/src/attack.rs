//! Attacks by name, as the CLI takes them and results are labelled with them.

use std::fmt;
use std::str::FromStr;

/// Which attack measures a robust accuracy. Every robust accuracy Astute shows says which
/// attack produced it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum AttackName {
    /// PGD with the paper's step ε/5 from a random start (`pgd` is PGD-10, one start).
    Pgd {
        steps: usize,
        restarts: usize,
    },
    Fgsm,
    /// The multi-targeted attack (`mt`), every other class in turn.
    MultiTargeted,
    /// APGD on the cross-entropy, 100 iterations.
    ApgdCe,
    /// APGD on the targeted DLR loss toward the 9 classes ranked next on the clean input.
    ApgdT,
    /// The targeted fast adaptive boundary attack toward the 9 classes ranked next, 100
    /// iterations each.
    FabT,
    /// The Square attack, black-box, 5,000 queries.
    Square,
    /// APGD-CE, then APGD-T on the points still robust: AutoAttack's cheaper version.
    Apgd,
    /// AutoAttack's standard version: APGD-CE, APGD-T, FAB-T and Square, each on the points
    /// still robust.
    AutoAttack,
}

impl AttackName {
    /// The paper's PGD-10.
    pub const PGD_10: Self = Self::Pgd {
        steps: 10,
        restarts: 1,
    };

    /// Forward-and-backward passes per image at most (every point robust to every part),
    /// on data with `classes` classes: what a budget charges. Square's forward-only
    /// queries and FAB's check of each step count a third of a pass each.
    pub fn passes_per_image(self, classes: usize) -> f64 {
        let targets = classes.saturating_sub(1).min(9) as f64;
        const APGD: f64 = 101.0;
        const SQUARE: f64 = 5_000.0 / 3.0;
        const FAB: f64 = 100.0 * (1.0 + 1.0 / 3.0) + 1.0;
        match self {
            Self::Pgd { steps, restarts } => ((steps + 1) * restarts) as f64,
            Self::Fgsm => 2.0,
            Self::MultiTargeted => 21.0 * classes.saturating_sub(1) as f64,
            Self::ApgdCe => APGD,
            Self::ApgdT => APGD * targets,
            Self::FabT => FAB * targets,
            Self::Square => SQUARE,
            Self::Apgd => APGD * (1.0 + targets),
            Self::AutoAttack => APGD * (1.0 + targets) + FAB * targets + SQUARE,
        }
    }
}

impl fmt::Display for AttackName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Pgd {
                steps: 10,
                restarts: 1,
            } => write!(f, "pgd"),
            Self::Pgd { steps, restarts: 1 } => write!(f, "pgd:{steps}"),
            Self::Pgd { steps, restarts } => write!(f, "pgd:{steps}:{restarts}"),
            Self::Fgsm => write!(f, "fgsm"),
            Self::MultiTargeted => write!(f, "mt"),
            Self::ApgdCe => write!(f, "apgd-ce"),
            Self::ApgdT => write!(f, "apgd-t"),
            Self::FabT => write!(f, "fab-t"),
            Self::Square => write!(f, "square"),
            Self::Apgd => write!(f, "apgd"),
            Self::AutoAttack => write!(f, "autoattack"),
        }
    }
}

serialize_as_name!(AttackName);
name_schema!(
    AttackName,
    "An attack: pgd[:steps[:restarts]], fgsm, mt, apgd-ce, apgd-t, fab-t, square, apgd or \
     autoattack."
);

impl FromStr for AttackName {
    type Err = crate::NameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let fail = |why: String| crate::NameError::new("attack", why);
        let lower = s.trim().to_ascii_lowercase();
        let mut parts = lower.split(':');
        let name = parts.next().unwrap_or_default();
        let numbers: Vec<&str> = parts.collect();
        if name != "pgd" && !numbers.is_empty() {
            return Err(fail(format!(
                "'{s}': only pgd takes numbers (pgd:steps:restarts)"
            )));
        }
        let count = |text: Option<&&str>, default: usize, what: &str| match text {
            None => Ok(default),
            Some(text) => text
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=10_000).contains(n))
                .ok_or_else(|| {
                    fail(format!(
                        "'{s}': {what} must be a whole number from 1 to 10000"
                    ))
                }),
        };
        Ok(match name {
            "pgd" if numbers.len() <= 2 => Self::Pgd {
                steps: count(numbers.first(), 10, "the steps")?,
                restarts: count(numbers.get(1), 1, "the restarts")?,
            },
            "pgd" => return Err(fail(format!("'{s}': expected pgd[:steps[:restarts]]"))),
            "fgsm" => Self::Fgsm,
            "mt" | "multi-targeted" => Self::MultiTargeted,
            "apgd-ce" => Self::ApgdCe,
            "apgd-t" => Self::ApgdT,
            "fab-t" => Self::FabT,
            "square" => Self::Square,
            "apgd" => Self::Apgd,
            "autoattack" | "aa" => Self::AutoAttack,
            _ => {
                return Err(fail(format!(
                    "unknown attack '{s}': expected pgd[:steps[:restarts]], fgsm, mt, apgd-ce, \
                     apgd-t, fab-t, square, apgd or autoattack"
                )));
            }
        })
    }
}

/// A robust accuracy and what produced it: the attack, the radius, the seed and the test
/// images attacked.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RobustEvaluation {
    pub attack: AttackName,
    pub epsilon: f32,
    pub seed: u64,
    /// The first `images` test images were attacked.
    pub images: usize,
    /// Accuracy (%) on those images under the attack; a point misclassified unattacked
    /// counts as broken.
    pub accuracy: f64,
    pub seconds: f64,
}

impl RobustEvaluation {
    /// Whether `other` measured the same thing (attack, radius, seed and images), so that
    /// the newer one replaces it.
    pub fn same_measurement(&self, other: &Self) -> bool {
        self.attack == other.attack
            && self.epsilon == other.epsilon
            && self.seed == other.seed
            && self.images == other.images
    }
}

/// The gradient-masking checks, by name (see `docs/methods.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum MaskingCheck {
    /// A single FGSM step does better than 10 steps of PGD.
    FgsmBeatsPgd,
    /// A black-box attack (Square) does better than the white-box ones.
    BlackBoxBeatsWhiteBox,
    /// Accuracy at a radius that can erase any image is not near 0.
    RobustAtLargeRadius,
    /// Many images have an input gradient that is exactly zero.
    ZeroGradients,
    /// The multi-targeted attack does far better than PGD.
    MultiTargetedBeatsPgd,
}

impl MaskingCheck {
    /// What a raised flag tells a reader, in a few words.
    pub fn headline(self) -> &'static str {
        match self {
            Self::FgsmBeatsPgd => "FGSM beats PGD",
            Self::BlackBoxBeatsWhiteBox => "black-box beats white-box",
            Self::RobustAtLargeRadius => "robust at a huge radius",
            Self::ZeroGradients => "zero gradients",
            Self::MultiTargetedBeatsPgd => "multi-targeted beats PGD",
        }
    }
}

/// One gradient-masking check: raised or not, and the numbers behind it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MaskingFlag {
    pub check: MaskingCheck,
    pub raised: bool,
    pub evidence: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_bad_ones_say_why() {
        for name in [
            "pgd",
            "pgd:20",
            "pgd:20:5",
            "fgsm",
            "mt",
            "apgd-ce",
            "apgd-t",
            "fab-t",
            "square",
            "apgd",
            "autoattack",
        ] {
            assert_eq!(name.parse::<AttackName>().unwrap().to_string(), name);
        }
        assert_eq!(
            "PGD:10:1".parse::<AttackName>().unwrap(),
            AttackName::PGD_10
        );
        let error = |s: &str| s.parse::<AttackName>().unwrap_err().to_string();
        assert!(
            error("pgd:0").contains("from 1 to 10000"),
            "{}",
            error("pgd:0")
        );
        assert!(error("square:3").contains("only pgd takes numbers"));
        assert!(error("cw").contains("unknown attack 'cw'"));
    }
}
