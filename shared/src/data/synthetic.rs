//! Synthetic data of the paper: the 2-D spiral of Figure 4 (binary, r-separated with
//! a known r) and the 1-D staircase regression of the appendix (Raghunathan et al.
//! 2020). Both are generated from a seed with the Xoshiro256++ generator, whose output
//! is fixed by its published algorithm, so a seed names the same data everywhere
//! (up to the last bit of `sin`/`cos`, which the spiral rounds away in all but
//! pathological cases).

use std::f64::consts::{FRAC_PI_2, PI, TAU};

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

use super::{DataError, Dataset, ImageShape, Split};

/// The spiral as an "image": one channel, one row, the two coordinates as pixels, so
/// the separation engine, the attacks and the models treat it like any dataset.
pub const SPIRAL_SHAPE: ImageShape = ImageShape::new(1, 1, 2);
pub const SPIRAL_CLASSES: [&str; 2] = ["arm A", "arm B"];

/// Radius of the arms' outer ends, leaving room for the band inside [0, 1]².
const OUTER_RADIUS: f64 = 0.45;
/// Angle where the arms start: there the two inner ends are as far apart as
/// neighbouring turns (the arm spacing), so the centre is no closer than elsewhere.
const START_ANGLE: f64 = FRAC_PI_2;

/// Two interleaved Archimedean spirals (ρ = aθ, the second turned by π) around the
/// centre of [0, 1]². Neighbouring turns of the two arms are a·π apart radially; each
/// arm's points scatter uniformly across a band of `band` times that spacing, so a gap
/// of (1 − band)·a·π stays empty between them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpiralConfig {
    pub train_per_class: usize,
    pub test_per_class: usize,
    /// Turns of each arm.
    pub turns: f64,
    /// Fraction of the spacing between the arms that each arm's band fills, in [0, 1).
    pub band: f64,
    pub seed: u64,
}

impl Default for SpiralConfig {
    fn default() -> Self {
        Self {
            train_per_class: 250,
            test_per_class: 250,
            turns: 1.5,
            band: 0.4,
            seed: 0,
        }
    }
}

/// The generated spiral and its separation.
#[derive(Debug, Clone)]
pub struct Spiral {
    pub split: Split,
    /// The exact smallest ℓ∞ distance between points of different classes over the
    /// training and test points together, after quantization (a multiple of 1/255).
    pub min_distance: f32,
    /// The separation r = `min_distance` / 2: every point's ℓ∞ ball of radius r holds
    /// no point of the other class, in either split.
    pub r: f32,
}

impl SpiralConfig {
    /// Generates the points, quantizes them to bytes and measures the separation;
    /// errors when the configuration is unusable or the classes touch.
    pub fn generate(&self) -> Result<Spiral, DataError> {
        if self.train_per_class == 0 || self.test_per_class == 0 {
            return Err(DataError::Invalid(
                "the spiral needs at least one point per class in each split".into(),
            ));
        }
        let turns_ok = self.turns > 0.0 && self.turns <= 20.0; // false for NaN too
        if !turns_ok || !(0.0..1.0).contains(&self.band) {
            return Err(DataError::Invalid(format!(
                "spiral turns must be in (0, 20] and the band in [0, 1), got {} and {}",
                self.turns, self.band
            )));
        }
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(self.seed);
        let train = self.points(&mut rng, self.train_per_class);
        let test = self.points(&mut rng, self.test_per_class);
        let steps = min_cross_class_distance(train.iter().chain(&test));
        if steps == 0 {
            return Err(DataError::Invalid(
                "the spiral's classes touch after quantization: use fewer turns or a narrower band"
                    .into(),
            ));
        }
        let min_distance = f32::from(steps) / 255.0;
        Ok(Spiral {
            split: Split {
                train: dataset(&train)?,
                test: dataset(&test)?,
            },
            min_distance,
            r: min_distance / 2.0,
        })
    }

    /// `n` points per class, alternating classes, as ([x, y] bytes, label).
    fn points(&self, rng: &mut Xoshiro256PlusPlus, n: usize) -> Vec<([u8; 2], u16)> {
        let end_angle = START_ANGLE + TAU * self.turns;
        let a = OUTER_RADIUS / end_angle;
        let half_band = self.band * a * PI / 2.0;
        let mut out = Vec::with_capacity(2 * n);
        for _ in 0..n {
            for label in 0..2u16 {
                // Uniform along the arm's length, which grows with θ².
                let u: f64 = rng.random();
                let theta =
                    (START_ANGLE.powi(2) + u * (end_angle.powi(2) - START_ANGLE.powi(2))).sqrt();
                let radius = a * theta + rng.random_range(-1.0..=1.0) * half_band;
                let angle = theta + PI * f64::from(label);
                out.push((
                    [
                        quantize(0.5 + radius * angle.cos()),
                        quantize(0.5 + radius * angle.sin()),
                    ],
                    label,
                ));
            }
        }
        out
    }
}

/// A coordinate in [0, 1] as the nearest multiple of 1/255.
fn quantize(v: f64) -> u8 {
    (v.clamp(0.0, 1.0) * 255.0).round() as u8
}

/// Smallest ℓ∞ distance, in steps of 1/255, between points of different labels
/// (255 when only one label occurs).
fn min_cross_class_distance<'a>(points: impl Iterator<Item = &'a ([u8; 2], u16)> + Clone) -> u8 {
    let mut best = u8::MAX;
    for (p, lp) in points.clone() {
        for (q, lq) in points.clone() {
            if lp < lq {
                best = best.min(p[0].abs_diff(q[0]).max(p[1].abs_diff(q[1])));
            }
        }
    }
    best
}

fn dataset(points: &[([u8; 2], u16)]) -> Result<Dataset, DataError> {
    let images = points.iter().flat_map(|(p, _)| *p).collect();
    let labels = points.iter().map(|&(_, l)| l).collect();
    Dataset::new(
        SPIRAL_SHAPE,
        images,
        labels,
        SPIRAL_CLASSES.iter().map(|&n| n.to_owned()).collect(),
    )
}

/// The 1-D staircase regression: `stairs` steps of height 1, stair k being the flat
/// interval [k − ½, k + ½) with value k. Inputs sit on the stairs' centres (the
/// integers) except a fraction `off_center` drawn uniformly over the whole staircase;
/// training targets carry Gaussian noise. With ε = 1/3 the ε-balls around the centres
/// lie on their stairs, so a function can be both accurate and robust there.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StaircaseConfig {
    pub stairs: usize,
    /// The ℓ∞ radius attacks and robust training use on this data.
    pub epsilon: f32,
    /// Standard deviation of the noise added to training targets.
    pub noise_std: f32,
    /// Fraction of the inputs drawn anywhere on the staircase instead of on a centre.
    pub off_center: f32,
    pub train_points: usize,
    pub test_points: usize,
    pub seed: u64,
}

impl Default for StaircaseConfig {
    fn default() -> Self {
        Self {
            stairs: 10,
            epsilon: 1.0 / 3.0,
            noise_std: 0.1,
            off_center: 0.1,
            train_points: 200,
            test_points: 1000,
            seed: 0,
        }
    }
}

/// Inputs and targets of a 1-D regression.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Staircase {
    pub x: Vec<f32>,
    pub y: Vec<f32>,
}

impl Staircase {
    pub fn len(&self) -> usize {
        self.x.len()
    }

    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }
}

/// Training data (noisy targets) and test data (exact targets, so test MSE measures
/// the fit rather than the noise).
#[derive(Debug, Clone, PartialEq)]
pub struct StaircaseSplit {
    pub train: Staircase,
    pub test: Staircase,
}

impl StaircaseConfig {
    /// The noise-free staircase f*(x): the nearest stair, clamped to the staircase.
    pub fn target(&self, x: f32) -> f32 {
        x.round().clamp(0.0, self.stairs.saturating_sub(1) as f32)
    }

    pub fn generate(&self) -> Result<StaircaseSplit, DataError> {
        if self.stairs == 0 || self.train_points == 0 || self.test_points == 0 {
            return Err(DataError::Invalid(
                "the staircase needs at least one stair and one point per split".into(),
            ));
        }
        let noise_ok = self.noise_std.is_finite() && self.noise_std >= 0.0;
        if !(0.0..=1.0).contains(&self.off_center) || !noise_ok {
            return Err(DataError::Invalid(format!(
                "off_center must be in [0, 1] and noise_std finite and ≥ 0, got {} and {}",
                self.off_center, self.noise_std
            )));
        }
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(self.seed);
        let train = self.sample(&mut rng, self.train_points, self.noise_std);
        let test = self.sample(&mut rng, self.test_points, 0.0);
        Ok(StaircaseSplit { train, test })
    }

    fn sample(&self, rng: &mut Xoshiro256PlusPlus, n: usize, noise_std: f32) -> Staircase {
        let top = self.stairs as f64 - 0.5;
        let mut data = Staircase {
            x: Vec::with_capacity(n),
            y: Vec::with_capacity(n),
        };
        for _ in 0..n {
            let x = if rng.random::<f64>() < f64::from(self.off_center) {
                rng.random_range(-0.5..top) as f32
            } else {
                rng.random_range(0..self.stairs) as f32
            };
            data.x.push(x);
            data.y
                .push(self.target(x) + noise_std * standard_normal(rng));
        }
        data
    }
}

/// One N(0, 1) draw (Box–Muller), so no extra dependency is needed.
fn standard_normal(rng: &mut Xoshiro256PlusPlus) -> f32 {
    let u1 = 1.0 - rng.random::<f64>(); // in (0, 1], so ln is finite
    let u2: f64 = rng.random();
    ((-2.0 * u1.ln()).sqrt() * (TAU * u2).cos()) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spiral_is_deterministic_balanced_and_separated() {
        let spiral = SpiralConfig::default().generate().unwrap();
        let again = SpiralConfig::default().generate().unwrap();
        assert_eq!(spiral.split.train, again.split.train);
        assert_eq!(spiral.split.train.len(), 500);
        assert_eq!(spiral.split.test.class_counts(), vec![250, 250]);
        assert_eq!(spiral.split.train.shape(), SPIRAL_SHAPE);
        // 15/255 with the default seed; any seed keeps r well above the default ε.
        assert!(spiral.r > 0.025, "r = {}", spiral.r);
        // Recheck the separation by brute force in f32.
        let all: Vec<(&[u8], u16)> = [&spiral.split.train, &spiral.split.test]
            .iter()
            .flat_map(|d| (0..d.len()).map(move |i| (d.image(i), d.labels()[i])))
            .collect();
        let min = all
            .iter()
            .flat_map(|(p, lp)| {
                all.iter()
                    .filter(move |(_, lq)| lq != lp)
                    .map(move |(q, _)| (p, q))
            })
            .map(|(p, q)| (p[0].abs_diff(q[0]).max(p[1].abs_diff(q[1]))) as f32 / 255.0)
            .fold(f32::INFINITY, f32::min);
        assert_eq!(min, spiral.min_distance);
        assert_ne!(
            SpiralConfig {
                seed: 1,
                ..Default::default()
            }
            .generate()
            .unwrap()
            .split
            .train,
            spiral.split.train
        );
    }

    #[test]
    fn spiral_rejects_bad_configs() {
        assert!(
            SpiralConfig {
                band: 1.0,
                ..Default::default()
            }
            .generate()
            .is_err()
        );
        assert!(
            SpiralConfig {
                train_per_class: 0,
                ..Default::default()
            }
            .generate()
            .is_err()
        );
        assert!(
            SpiralConfig {
                turns: f64::NAN,
                ..Default::default()
            }
            .generate()
            .is_err()
        );
        let crowded = SpiralConfig {
            train_per_class: 2000,
            turns: 20.0,
            band: 0.99,
            ..Default::default()
        };
        let err = crowded.generate().unwrap_err();
        assert!(err.to_string().contains("touch"), "{err}");
    }

    #[test]
    fn staircase_targets_and_noise() {
        let config = StaircaseConfig::default();
        assert_eq!(config.target(2.4), 2.0);
        assert_eq!(config.target(2.6), 3.0);
        assert_eq!(config.target(11.0), 9.0);
        assert_eq!(config.target(-0.4), 0.0);
        let data = config.generate().unwrap();
        assert_eq!((data.train.len(), data.test.len()), (200, 1000));
        assert!(
            data.train
                .x
                .iter()
                .chain(&data.test.x)
                .all(|&x| (-0.5..9.5).contains(&x))
        );
        let residuals: Vec<f32> = data
            .train
            .x
            .iter()
            .zip(&data.train.y)
            .map(|(&x, &y)| y - config.target(x))
            .collect();
        let var = residuals.iter().map(|r| r * r).sum::<f32>() / residuals.len() as f32;
        assert!((0.005..0.02).contains(&var), "noise variance {var}");
        assert!(
            data.test
                .x
                .iter()
                .zip(&data.test.y)
                .all(|(&x, &y)| y == config.target(x))
        );
        let on_centres = data.test.x.iter().filter(|x| x.fract() == 0.0).count();
        assert!((850..=950).contains(&on_centres), "{on_centres}");
        assert_eq!(data, config.generate().unwrap());
    }
}
