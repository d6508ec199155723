//! The theory page's messages (Figures 4 and 5): a spiral with its separation r, an MLP
//! trained on it step by step in the browser, and what the page draws and tabulates for
//! the network and for the distance classifier of Theorems 4.2 and 4.4.

use serde::{Deserialize, Serialize};

/// How the MLP is trained.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "lowercase")]
pub enum TheoryMethod {
    Natural,
    /// TRADES(β): cross-entropy plus β·KL to the prediction 10 ascent steps away.
    Trades {
        beta: f32,
    },
}

/// Everything that defines a theory-page run; the page keeps it in its URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TheoryConfig {
    /// Points of each class, in the training set and again in the test set.
    pub points_per_class: usize,
    /// Turns of each spiral arm.
    pub turns: f64,
    /// Fraction of the gap between the arms that each arm's band fills.
    pub band: f64,
    /// Seeds the points, the network's initial weights and TRADES' noise.
    pub seed: u64,
    pub layers: usize,
    pub width: usize,
    pub method: TheoryMethod,
    /// The ℓ∞ radius of training (TRADES), of the attack and of the Lipschitz estimate.
    pub epsilon: f32,
    /// Adam's step size.
    pub learning_rate: f64,
    /// Cells per side of the heat maps.
    pub resolution: usize,
}

impl Default for TheoryConfig {
    fn default() -> Self {
        Self {
            points_per_class: 200,
            turns: 1.5,
            band: 0.4,
            seed: 0,
            layers: 3,
            width: 64,
            method: TheoryMethod::Natural,
            epsilon: 0.02,
            learning_rate: 0.005,
            resolution: 64,
        }
    }
}

impl TheoryConfig {
    /// What the engine would otherwise fail on, as a sentence. The spiral's own limits
    /// (its arms must not touch) are checked when it is generated.
    pub fn validate(&self) -> Result<(), String> {
        if !(10..=1000).contains(&self.points_per_class) {
            return Err(format!(
                "{} points per class: choose 10 to 1000",
                self.points_per_class
            ));
        }
        if !(self.turns > 0.0 && self.turns <= 20.0) {
            return Err(format!(
                "{} spiral turns: choose more than 0, at most 20",
                self.turns
            ));
        }
        if !(0.0..1.0).contains(&self.band) {
            return Err(format!("arm width {} is outside [0, 1)", self.band));
        }
        if !(1..=6).contains(&self.layers) {
            return Err(format!("{} hidden layers: choose 1 to 6", self.layers));
        }
        if !(2..=256).contains(&self.width) {
            return Err(format!("{} units per layer: choose 2 to 256", self.width));
        }
        if !(self.epsilon.is_finite() && self.epsilon > 0.0 && self.epsilon <= 0.25) {
            return Err(format!("ε = {} is outside (0, 0.25]", self.epsilon));
        }
        if !(self.learning_rate.is_finite()
            && self.learning_rate > 0.0
            && self.learning_rate <= 1.0)
        {
            return Err(format!(
                "learning rate {} is outside (0, 1]",
                self.learning_rate
            ));
        }
        if let TheoryMethod::Trades { beta } = self.method
            && !(beta.is_finite() && (0.0..=100.0).contains(&beta))
        {
            return Err(format!("TRADES β = {beta} is outside [0, 100]"));
        }
        if !(8..=256).contains(&self.resolution) {
            return Err(format!(
                "heat-map resolution {} is outside 8 to 256",
                self.resolution
            ));
        }
        Ok(())
    }
}

/// Accuracy, robustness and smoothness of one classifier on the spiral, in percent and
/// logit (or score) units per unit of input.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TheoryScores {
    pub train_accuracy: f64,
    pub test_accuracy: f64,
    /// Test points still classified correctly under attack at ε: PGD-10 for the MLP,
    /// certified by the margin (no attack needed) for the distance classifier.
    pub adversarial_accuracy: f64,
    /// Eq. (3), averaged over the test points.
    pub lipschitz: f64,
}

/// The spiral and the distance classifier, computed once per configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TheoryData {
    /// Coordinates in [0, 1]², as `[x, y]`.
    pub train_points: Vec<[f32; 2]>,
    pub train_labels: Vec<u8>,
    pub test_points: Vec<[f32; 2]>,
    pub test_labels: Vec<u8>,
    /// The separation r of training and test points together (half the closest ℓ∞
    /// distance between the classes): the data's r, which decides the theorem's regime.
    pub separation: f32,
    /// The separation of the training points alone (at least `separation`): the r of
    /// f and of the distance classifier, which only sees them.
    pub training_separation: f32,
    /// Coordinates of the grid's cells along each axis.
    pub axis: Vec<f32>,
    /// Theorem 4.4's f = (dist(x, X−) − dist(x, X+)) / 2r on the grid (X+ is arm B, r the
    /// training separation),
    /// row by row: `theorem_f[j * axis.len() + i]` is at `(axis[i], axis[j])`.
    pub theorem_f: Vec<f32>,
    /// The distance classifier g = sign(f) on the same points.
    pub distance: TheoryScores,
    pub milliseconds: f64,
}

/// Training steps taken: the loss of each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainProgress {
    /// Steps taken since the network was initialised.
    pub step: usize,
    pub losses: Vec<f32>,
    pub milliseconds: f64,
}

/// The MLP as it stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TheorySnapshot {
    pub step: usize,
    pub scores: TheoryScores,
    /// The network's probability of arm B on the grid, laid out as `theorem_f`.
    pub confidence: Vec<f32>,
    /// Whether each test point is classified correctly, before and after the PGD attack.
    pub correct: Vec<bool>,
    pub robust: Vec<bool>,
    pub milliseconds: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_valid_and_each_bad_field_is_named() {
        assert_eq!(TheoryConfig::default().validate(), Ok(()));
        let bad = |change: fn(&mut TheoryConfig)| {
            let mut c = TheoryConfig::default();
            change(&mut c);
            c.validate().unwrap_err()
        };
        assert!(bad(|c| c.points_per_class = 5).contains("points per class"));
        assert!(bad(|c| c.turns = f64::NAN).contains("turns"));
        assert!(bad(|c| c.band = 1.0).contains("arm width"));
        assert!(bad(|c| c.layers = 0).contains("hidden layers"));
        assert!(bad(|c| c.width = 1000).contains("units"));
        assert!(bad(|c| c.epsilon = 0.0).contains("ε"));
        assert!(bad(|c| c.epsilon = f32::NAN).contains("ε"));
        assert!(bad(|c| c.learning_rate = 2.0).contains("learning rate"));
        assert!(bad(|c| c.method = TheoryMethod::Trades { beta: -1.0 }).contains("β"));
        assert!(bad(|c| c.resolution = 4).contains("resolution"));
    }

    #[test]
    fn the_method_reads_as_tagged_json() {
        let m: TheoryMethod = serde_json::from_str(r#"{"name":"trades","beta":6}"#).unwrap();
        assert_eq!(m, TheoryMethod::Trades { beta: 6.0 });
        let m: TheoryMethod = serde_json::from_str(r#"{"name":"natural"}"#).unwrap();
        assert_eq!(m, TheoryMethod::Natural);
    }
}
