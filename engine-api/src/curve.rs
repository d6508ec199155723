//! Robust accuracy against ε on a set of images: which attack, the points, and the signs of
//! gradient masking a curve shows by itself.

use serde::{Deserialize, Serialize};

/// The attack behind a robust-accuracy curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CurveAttack {
    /// The paper's PGD-10: step ε/5, one seeded start.
    #[default]
    Pgd,
    /// APGD-CE, 100 iterations.
    ApgdCe,
    /// AutoAttack-lite: APGD-CE, then APGD-T on the points still robust (`astute eval
    /// --attack apgd`).
    Apgd,
}

impl CurveAttack {
    pub const ALL: [Self; 3] = [Self::Pgd, Self::ApgdCe, Self::Apgd];

    /// The name `astute eval --attack` takes, and the page's `?curve=`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Pgd => "pgd",
            Self::ApgdCe => "apgd-ce",
            Self::Apgd => "apgd",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Pgd => "PGD-10 (step ε/5)",
            Self::ApgdCe => "APGD-CE (100 iterations)",
            Self::Apgd => "AutoAttack-lite (APGD-CE, then APGD-T)",
        }
    }
}

/// Robust accuracy at each ε on a set of images, under a [`CurveAttack`], image `i` seeded
/// by `seed + i`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    pub epsilon: f32,
    /// Percent of the images still classified correctly.
    pub accuracy: f64,
    pub milliseconds: f64,
}

/// The radius at which every [0, 1] image can be turned grey: accuracy there should be near 0.
pub const LARGE_RADIUS: f32 = 0.5;
/// "Near 0" at [`LARGE_RADIUS`], in percent (as `astute eval --masking` has it).
const NEAR_ZERO: f64 = 5.0;
/// How many points accuracy may rise between radii before it counts (sampling aside, a
/// larger ball holds every point of a smaller one, so a sound attack never does better).
const RISE_TOLERANCE: f64 = 1.0;

/// A sign of gradient masking read off a curve, with the numbers behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct CurveWarning {
    /// The check's name, as `astute eval --masking` names it where it has one.
    pub check: &'static str,
    pub evidence: String,
}

/// The warnings a curve raises by itself: accuracy that rises with ε (the attack misses
/// points it broke at a smaller radius), and accuracy not near 0 at ε = 0.5.
pub fn curve_warnings(points: &[CurvePoint]) -> Vec<CurveWarning> {
    let mut sorted: Vec<&CurvePoint> = points.iter().collect();
    sorted.sort_by(|a, b| a.epsilon.total_cmp(&b.epsilon));
    let mut warnings = Vec::new();
    let rise = sorted
        .windows(2)
        .map(|w| (w[0], w[1]))
        .filter(|(a, b)| a.epsilon > 0.0 && b.accuracy > a.accuracy + RISE_TOLERANCE)
        .max_by(|x, y| (x.1.accuracy - x.0.accuracy).total_cmp(&(y.1.accuracy - y.0.accuracy)));
    if let Some((a, b)) = rise {
        warnings.push(CurveWarning {
            check: "accuracy-rises-with-radius",
            evidence: format!(
                "{:.1} % at ε = {} but {:.1} % at ε = {}: a larger ball holds every point of a \
                 smaller one, so the attack is missing what it found before",
                a.accuracy, a.epsilon, b.accuracy, b.epsilon
            ),
        });
    }
    if let Some(large) = sorted
        .iter()
        .find(|p| p.epsilon >= LARGE_RADIUS && p.accuracy > NEAR_ZERO)
    {
        warnings.push(CurveWarning {
            check: "robust-at-large-radius",
            evidence: format!(
                "{:.1} % at ε = {}: at this radius every image can be turned grey",
                large.accuracy, large.epsilon
            ),
        });
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve(values: &[(f32, f64)]) -> Vec<CurvePoint> {
        values
            .iter()
            .map(|&(epsilon, accuracy)| CurvePoint {
                epsilon,
                accuracy,
                milliseconds: 1.0,
            })
            .collect()
    }

    fn checks(values: &[(f32, f64)]) -> Vec<&'static str> {
        curve_warnings(&curve(values))
            .into_iter()
            .map(|w| w.check)
            .collect()
    }

    #[test]
    fn an_ordinary_curve_raises_nothing() {
        assert!(checks(&[(0.0, 98.0), (0.1, 60.0), (0.3, 12.0), (0.5, 0.0)]).is_empty());
        // Clean accuracy may sit below a robust point's only through noise; a rise within
        // the tolerance is noise too.
        assert!(checks(&[(0.0, 90.0), (0.1, 50.0), (0.2, 50.9), (0.5, 4.0)]).is_empty());
    }

    #[test]
    fn a_rising_curve_names_the_largest_rise() {
        let warnings = curve_warnings(&curve(&[(0.1, 40.0), (0.2, 45.0), (0.3, 70.0), (0.5, 0.0)]));
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].check, "accuracy-rises-with-radius");
        assert!(
            warnings[0]
                .evidence
                .contains("45.0 % at ε = 0.2 but 70.0 % at ε = 0.3")
        );
    }

    #[test]
    fn accuracy_at_a_large_radius_is_flagged_in_any_order() {
        assert_eq!(
            checks(&[(0.5, 30.0), (0.0, 95.0), (0.3, 31.0)]),
            vec!["robust-at-large-radius"]
        );
    }
}
