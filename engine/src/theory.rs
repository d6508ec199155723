//! The theory page's work (Figures 4 and 5): a spiral with a known separation r, the
//! distance classifier of Theorems 4.2 and 4.4 on it, and an MLP trained on it one Adam
//! step at a time, with Natural or TRADES(β), measured like the paper's networks.

use std::cell::RefCell;

use astute::attack::{Goal, Pgd, eval_copy, seeded_start};
use astute::batch::to_tensors;
use astute::burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use astute::burn::prelude::*;
use astute::data::{Dataset, SpiralConfig};
use astute::loss::{predictions, probabilities};
use astute::method::{Method, MethodContext};
use astute::metric::Lipschitz;
use astute::model::{Architecture, Classifier, Network, NetworkConfig};
use astute::separation::{Control, SearchOptions, decision_grid, distance_classifier};
use astute_engine_api::{
    TheoryConfig, TheoryData, TheoryMethod, TheoryScores, TheorySnapshot, TrainProgress,
};
use web_time::Instant;

use crate::LabError;
use crate::lab::elapsed_ms;
use crate::readback::floats;

/// Offsets per axis of the mesh over each ε-square on which the distance classifier's
/// Eq. (3) is maximised (it has no gradient to ascend; 9 × 9 includes the corners, where
/// an ℓ∞ ratio peaks for a piecewise-linear function).
const MESH: usize = 9;

struct Training {
    model: Network,
    optimizer: ModuleOptimizer,
    step: usize,
}

/// One spiral and one network being trained on it. Methods take `&self` and hold no
/// borrow across an await; a call made while another one trains is refused, not queued.
pub struct TheoryLab {
    device: Device,
    config: TheoryConfig,
    method: Method,
    train: (Tensor<4>, Tensor<1, Int>),
    test: (Tensor<4>, Tensor<1, Int>),
    grid: Tensor<4>,
    training: RefCell<Option<Training>>,
}

fn points(data: &Dataset) -> Vec<[f32; 2]> {
    data.images()
        .chunks(2)
        .map(|p| [f32::from(p[0]) / 255.0, f32::from(p[1]) / 255.0])
        .collect()
}

fn labels(data: &Dataset) -> Vec<u8> {
    data.labels().iter().map(|&l| l as u8).collect()
}

/// The whole dataset as one batch.
fn all_of(data: &Dataset, device: &Device) -> (Tensor<4>, Tensor<1, Int>) {
    to_tensors(data, &(0..data.len()).collect::<Vec<_>>(), device)
}

fn percent(part: usize, whole: usize) -> f64 {
    100.0 * part as f64 / whole.max(1) as f64
}

/// Eq. (3) for the distance classifier's scores f_i(x) = dist(x, X_i) / r: the largest
/// ‖f(x) − f(x′)‖₁ / ‖x − x′‖∞ over a mesh of x′ in each test point's ε-square (clipped
/// to [0, 1]²), averaged over the test points. Theorem 4.2 bounds it by 2/r.
fn distance_lipschitz(
    train: &[[f32; 2]],
    train_labels: &[u8],
    test: &[[f32; 2]],
    r: f32,
    epsilon: f32,
) -> f64 {
    let scores = |x: [f32; 2]| {
        let mut nearest = [f32::INFINITY; 2];
        for (p, &l) in train.iter().zip(train_labels) {
            let d = (p[0] - x[0]).abs().max((p[1] - x[1]).abs());
            nearest[usize::from(l)] = nearest[usize::from(l)].min(d);
        }
        nearest.map(|d| d / r)
    };
    let offset = |k: usize| epsilon * (2.0 * k as f32 / (MESH - 1) as f32 - 1.0);
    let total: f64 = test
        .iter()
        .map(|&x| {
            let fx = scores(x);
            let mut best = 0.0f32;
            for i in 0..MESH {
                for j in 0..MESH {
                    let moved = [
                        (x[0] + offset(i)).clamp(0.0, 1.0),
                        (x[1] + offset(j)).clamp(0.0, 1.0),
                    ];
                    let step = (moved[0] - x[0]).abs().max((moved[1] - x[1]).abs());
                    if step > 0.0 {
                        let fm = scores(moved);
                        best = best.max(((fx[0] - fm[0]).abs() + (fx[1] - fm[1]).abs()) / step);
                    }
                }
            }
            f64::from(best)
        })
        .sum();
    total / test.len().max(1) as f64
}

impl TheoryLab {
    /// Generates the spiral, measures the distance classifier on it and initialises the
    /// network on `device` (an autodiff device is derived from it).
    pub fn new(device: &Device, config: TheoryConfig) -> Result<(Self, TheoryData), LabError> {
        let started = Instant::now();
        config.validate().map_err(LabError)?;
        let spiral = SpiralConfig {
            train_per_class: config.points_per_class,
            test_per_class: config.points_per_class,
            turns: config.turns,
            band: config.band,
            seed: config.seed,
        }
        .generate()
        .map_err(|e| LabError(e.to_string()))?;
        let (train, test) = (&spiral.split.train, &spiral.split.test);
        let search = SearchOptions::default();
        let control = Control::default();
        let failed = |e: astute::separation::SeparationError| LabError(e.to_string());
        let grid = decision_grid(train, config.resolution, &search, &control).map_err(failed)?;
        let on_test =
            distance_classifier(train, test, &[f64::from(config.epsilon)], &search, &control)
                .map_err(failed)?;
        let (train_points, test_points) = (points(train), points(test));
        let train_labels = labels(train);
        let training_separation = grid.separation as f32;
        let distance = TheoryScores {
            // Each training point is its own nearest neighbour, and the spiral's classes
            // never touch: g fits its training set by construction.
            train_accuracy: 100.0,
            test_accuracy: 100.0 * on_test.clean_accuracy,
            adversarial_accuracy: 100.0 * on_test.certified[0].astuteness,
            lipschitz: distance_lipschitz(
                &train_points,
                &train_labels,
                &test_points,
                training_separation,
                config.epsilon,
            ),
        };
        let axis: Vec<f32> = grid.xs.iter().map(|&x| x as f32).collect();
        let theorem_f: Vec<f32> = grid.values.iter().map(|&v| v as f32).collect();

        let device = device.clone().autodiff();
        device.seed(config.seed);
        let model = NetworkConfig {
            architecture: Architecture::Mlp {
                layers: config.layers,
                width: config.width,
            },
            input: train.shape(),
            classes: 2,
            dropout: 0.0,
        }
        .init(&device)
        .map_err(|e| LabError(e.to_string()))?;
        // burn draws parameters on first use: one forward pass draws them now, from this
        // seed, whatever the page asks for first.
        let _ = model.forward(Tensor::zeros([1, 1, 1, 2], &device));
        let cells: Vec<f32> = axis
            .iter()
            .flat_map(|&y| axis.iter().flat_map(move |&x| [x, y]))
            .collect();
        let n = axis.len() * axis.len();
        let grid = Tensor::from_data(
            astute::burn::tensor::TensorData::new(cells, [n, 1, 1, 2]),
            &device,
        );
        let lab = Self {
            method: match config.method {
                TheoryMethod::Natural => Method::Natural,
                TheoryMethod::Trades { beta } => Method::Trades { beta },
            },
            train: all_of(train, &device),
            test: all_of(test, &device),
            grid,
            training: RefCell::new(Some(Training {
                model,
                optimizer: AdamConfig::new().with_epsilon(1e-8).init(),
                step: 0,
            })),
            device,
            config,
        };
        let data = TheoryData {
            train_points,
            train_labels,
            test_labels: labels(test),
            test_points,
            separation: spiral.r,
            training_separation,
            axis,
            theorem_f,
            distance,
            milliseconds: elapsed_ms(started),
        };
        Ok((lab, data))
    }

    fn take(&self) -> Result<Training, LabError> {
        self.training
            .borrow_mut()
            .take()
            .ok_or_else(|| LabError("the network is busy with another request".into()))
    }

    /// `steps` full-batch Adam steps on the training points.
    pub async fn train(&self, steps: usize) -> Result<TrainProgress, LabError> {
        if !(1..=1000).contains(&steps) {
            return Err(LabError(format!("{steps} steps at once: choose 1 to 1000")));
        }
        let started = Instant::now();
        let mut training = self.take()?;
        let result = self.train_steps(&mut training, steps).await;
        let step = training.step;
        self.training.replace(Some(training));
        Ok(TrainProgress {
            step,
            losses: result?,
            milliseconds: elapsed_ms(started),
        })
    }

    async fn train_steps(
        &self,
        training: &mut Training,
        steps: usize,
    ) -> Result<Vec<f32>, LabError> {
        let context = MethodContext::paper(self.config.epsilon);
        let (images, labels) = &self.train;
        let mut losses = Vec::with_capacity(steps);
        for _ in 0..steps {
            // TRADES' noise depends on the seed and the step only, so a run replays
            // exactly however often the page looked at it in between.
            self.device
                .seed(self.config.seed ^ (training.step as u64 + 1).wrapping_mul(0x9E37_79B9));
            let attacker = eval_copy(&training.model);
            let loss = astute::method::loss(
                self.method,
                &training.model,
                &attacker,
                images,
                labels,
                &context,
            );
            let value = floats(loss.clone()).await?[0];
            if !value.is_finite() {
                return Err(LabError(format!(
                    "the loss became {value} at step {}: lower the learning rate",
                    training.step + 1
                )));
            }
            let grads = GradientsParams::from_grads(loss.backward(), &training.model);
            training.model =
                training
                    .optimizer
                    .step(self.config.learning_rate, training.model.clone(), grads);
            training.step += 1;
            losses.push(value);
        }
        Ok(losses)
    }

    /// The network's confidence on the grid and its scores: accuracy, PGD-10 accuracy at
    /// ε (seeded start, test point `i` from seed + i) and Eq. (3) at ε on the test points.
    pub async fn snapshot(&self) -> Result<TheorySnapshot, LabError> {
        let training = self.take()?;
        let result = self.measure(&training).await;
        self.training.replace(Some(training));
        result
    }

    async fn measure(&self, training: &Training) -> Result<TheorySnapshot, LabError> {
        let started = Instant::now();
        let model = eval_copy(&training.model);
        let confidence = floats(
            probabilities(model.forward(self.grid.clone()))
                .narrow(1, 1, 1)
                .squeeze_dim::<1>(1),
        )
        .await?;
        let hits = async |x: Tensor<4>, y: &Tensor<1, Int>| -> Result<Vec<bool>, LabError> {
            let hit = predictions(model.forward(x)).equal(y.clone()).int();
            Ok(floats(hit).await?.iter().map(|&h| h > 0.5).collect())
        };
        let (train_x, train_y) = &self.train;
        let (test_x, test_y) = &self.test;
        let epsilon = self.config.epsilon;
        let attacked = Pgd::paper(epsilon).attack_with(
            &model,
            test_x,
            &Goal::Untargeted(test_y.clone()),
            |r| seeded_start(test_x, epsilon, self.config.seed, r),
            |_, _| (),
        );
        let robust = hits(attacked, test_y).await?;
        let correct = hits(test_x.clone(), test_y).await?;
        let on_train = hits(train_x.clone(), train_y).await?;
        // Eq. (3)'s random start, from the run's seed: a snapshot is a function of the
        // network alone, so a replayed link shows the same numbers.
        let lipschitz = Lipschitz {
            seed: self.config.seed,
            ..Lipschitz::paper(epsilon)
        };
        let lipschitz = floats(lipschitz.estimate(&model, test_x).mean()).await?[0];
        let share = |v: &[bool]| percent(v.iter().filter(|&&h| h).count(), v.len());
        Ok(TheorySnapshot {
            step: training.step,
            scores: TheoryScores {
                train_accuracy: share(&on_train),
                test_accuracy: share(&correct),
                adversarial_accuracy: share(&robust),
                lipschitz: f64::from(lipschitz),
            },
            confidence,
            correct,
            robust,
            milliseconds: elapsed_ms(started),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Between one point of each class, moving toward X+ shortens one distance and
    /// lengthens the other at full speed: Eq. (3) is exactly 2/r there.
    #[test]
    fn the_distance_lipschitz_estimate_is_exact_between_two_points() {
        let train = [[0.2, 0.5], [0.8, 0.5]];
        let r = 0.3;
        let estimate = distance_lipschitz(&train, &[0, 1], &[[0.5, 0.5]], r, 0.05);
        assert!((estimate - f64::from(2.0 / r)).abs() < 1e-3, "{estimate}");
    }

    /// Each score is 1/r-Lipschitz in ℓ∞ (a distance divided by r), so their ℓ1 change is
    /// at most 2/r per unit of step, anywhere; and it is never 0 (some distance moves).
    #[test]
    fn the_distance_lipschitz_estimate_never_exceeds_two_over_r() {
        let spiral = SpiralConfig::default().generate().unwrap();
        let (train, test) = (&spiral.split.train, &spiral.split.test);
        let r = spiral.r;
        for (k, point) in points(test).into_iter().enumerate().step_by(25) {
            let estimate = distance_lipschitz(&points(train), &labels(train), &[point], r, 0.02);
            assert!(
                estimate > 0.0 && estimate <= f64::from(2.0 / r) * (1.0 + 1e-5),
                "test point {k}: {estimate} against 2/r = {}",
                2.0 / r
            );
        }
    }
}
