//! The theory page's lab on the spiral: the distance classifier against a brute-force
//! nearest neighbour, an MLP that learns, exact replays, and the paper's point (TRADES
//! is smoother than natural training at equal accuracy).

use astute::burn::prelude::Device;
use astute_engine::TheoryLab;
use astute_engine_api::{TheoryConfig, TheoryData, TheoryMethod, TheorySnapshot};
use futures_executor::block_on;
use std::sync::Mutex;

/// The CPU backend's random generator is process-wide, and the lab seeds it when it
/// initialises the network and at every step: tests take turns so that each sees only
/// its own seeds.
static GENERATOR: Mutex<()> = Mutex::new(());

fn turn() -> std::sync::MutexGuard<'static, ()> {
    GENERATOR
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn config(method: TheoryMethod) -> TheoryConfig {
    TheoryConfig {
        resolution: 24,
        method,
        ..TheoryConfig::default()
    }
}

fn lab(config: TheoryConfig) -> (TheoryLab, TheoryData) {
    TheoryLab::new(&Device::flex(), config).unwrap()
}

fn linf(a: [f32; 2], b: [f32; 2]) -> f32 {
    (a[0] - b[0]).abs().max((a[1] - b[1]).abs())
}

/// Distance from `x` to the nearest training point of `class`.
fn distance_to(data: &TheoryData, x: [f32; 2], class: u8) -> f32 {
    data.train_points
        .iter()
        .zip(&data.train_labels)
        .filter(|&(_, &l)| l == class)
        .map(|(&p, _)| linf(p, x))
        .fold(f32::INFINITY, f32::min)
}

#[test]
fn the_distance_classifier_is_a_nearest_neighbour_and_f_is_theorem_4_4s() {
    let _turn = turn();
    let (_, data) = lab(config(TheoryMethod::Natural));
    let n = data.test_points.len();
    assert_eq!(n, 400);
    assert_eq!(data.train_points.len(), 400);
    // r: half the closest pair of different classes over both splits.
    let all: Vec<_> = data
        .train_points
        .iter()
        .zip(&data.train_labels)
        .chain(data.test_points.iter().zip(&data.test_labels))
        .collect();
    let mut closest = f32::INFINITY;
    for (p, lp) in &all {
        for (q, lq) in &all {
            if lp != lq {
                closest = closest.min(linf(**p, **q));
            }
        }
    }
    assert!((data.separation - closest / 2.0).abs() < 1e-6);

    let (mut correct, mut certified) = (0, 0);
    for (&x, &y) in data.test_points.iter().zip(&data.test_labels) {
        let own = distance_to(&data, x, y);
        let other = distance_to(&data, x, 1 - y);
        if own < other {
            correct += 1;
            if other - own > 2.0 * TheoryConfig::default().epsilon + 1e-6 {
                certified += 1;
            }
        }
    }
    let percent = |k: usize| 100.0 * k as f64 / n as f64;
    assert!((data.distance.test_accuracy - percent(correct)).abs() < 1e-9);
    assert!((data.distance.adversarial_accuracy - percent(certified)).abs() < 1e-9);

    // f and g see only the training points: their r is the training set's.
    let mut closest_in_training = f32::INFINITY;
    for (p, lp) in data.train_points.iter().zip(&data.train_labels) {
        for (q, lq) in data.train_points.iter().zip(&data.train_labels) {
            if lp != lq {
                closest_in_training = closest_in_training.min(linf(*p, *q));
            }
        }
    }
    let r_train = closest_in_training / 2.0;
    assert!((data.training_separation - r_train).abs() < 1e-6);
    assert!(data.training_separation >= data.separation);
    // Each score dist/r is 1/r-Lipschitz, so Eq. (3) on the pair is at most 2/r.
    let bound = 2.0 / f64::from(r_train);
    assert!(data.distance.lipschitz > 0.0 && data.distance.lipschitz <= bound * (1.0 + 1e-5));

    // f on the grid, against the brute-force distances.
    let side = data.axis.len();
    assert_eq!(data.theorem_f.len(), side * side);
    for (j, i) in [(0, 0), (5, 17), (12, 12), (23, 3)] {
        let x = [data.axis[i], data.axis[j]];
        let expected = (distance_to(&data, x, 0) - distance_to(&data, x, 1)) / (2.0 * r_train);
        let f = data.theorem_f[j * side + i];
        assert!(
            (f - expected).abs() < 1e-4,
            "cell ({i}, {j}): f {f}, expected {expected}"
        );
    }
}

fn train(lab: &TheoryLab, steps: usize) -> Vec<f32> {
    block_on(lab.train(steps)).unwrap().losses
}

fn snapshot(lab: &TheoryLab) -> TheorySnapshot {
    block_on(lab.snapshot()).unwrap()
}

#[test]
fn an_mlp_learns_the_spiral_and_its_snapshot_is_consistent() {
    let _turn = turn();
    let (lab, data) = lab(config(TheoryMethod::Natural));
    let before = snapshot(&lab);
    let mut losses = train(&lab, 600);
    losses.extend(train(&lab, 600));
    let after = snapshot(&lab);
    println!(
        "natural: loss {:.3} → {:.3}; accuracy {:.1} → {:.1} %",
        losses[0],
        losses[losses.len() - 1],
        before.scores.test_accuracy,
        after.scores.test_accuracy
    );
    assert_eq!(after.step, 1200);
    assert!(losses[losses.len() - 1] < 0.5 * losses[0]);
    assert!(after.scores.train_accuracy >= 98.0, "{:?}", after.scores);
    assert!(after.scores.test_accuracy >= 95.0, "{:?}", after.scores);

    let side = data.axis.len();
    assert_eq!(after.confidence.len(), side * side);
    // Where g is sure (|f| ≥ 1: at least r from its boundary), a network that fits the
    // spiral mostly agrees with it.
    let (mut sure, mut agree) = (0, 0);
    for (f, p) in data.theorem_f.iter().zip(&after.confidence) {
        if f.abs() >= 1.0 {
            sure += 1;
            if (*f > 0.0) == (*p > 0.5) {
                agree += 1;
            }
        }
    }
    println!("agreement with g where |f| ≥ 1: {agree} of {sure}");
    assert!(agree as f64 >= 0.9 * sure as f64, "{agree} of {sure}");
    // The attack only removes correct answers.
    assert_eq!(after.robust.len(), data.test_points.len());
    assert_eq!(after.correct.len(), data.test_points.len());
    assert!(after.scores.adversarial_accuracy <= after.scores.test_accuracy);
    assert!(
        after.scores.adversarial_accuracy < 100.0,
        "PGD at ε finds some natural point"
    );
}

#[test]
fn a_run_replays_exactly_however_often_it_is_watched() {
    let _turn = turn();
    let method = TheoryMethod::Trades { beta: 6.0 };
    let (watched, _) = lab(config(method));
    let (unwatched, _) = lab(config(method));
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.extend(train(&watched, 5));
        snapshot(&watched);
    }
    assert_eq!(seen, train(&unwatched, 15));
    let (a, b) = (snapshot(&watched), snapshot(&unwatched));
    assert_eq!(a.confidence, b.confidence);
    assert_eq!(a.scores, b.scores);
    assert_eq!(
        snapshot(&watched).scores,
        a.scores,
        "a second look sees the same"
    );
}

/// Figure 5 in numbers, on the default spiral and seed: at ε below r, TRADES(6) fits the
/// spiral as well as natural training does in the same 2,000 steps, with a higher
/// adversarial accuracy and a smaller local Lipschitz constant.
#[test]
fn trades_is_smoother_and_more_robust_than_natural_training() {
    let _turn = turn();
    let (natural, _) = lab(config(TheoryMethod::Natural));
    let (trades, _) = lab(config(TheoryMethod::Trades { beta: 6.0 }));
    for _ in 0..2 {
        train(&natural, 1000);
        train(&trades, 1000);
    }
    let (n, t) = (snapshot(&natural).scores, snapshot(&trades).scores);
    println!("natural {n:?}\nTRADES(6) {t:?}");
    assert!(t.test_accuracy >= n.test_accuracy - 1.0);
    assert!(t.adversarial_accuracy > n.adversarial_accuracy);
    assert!(t.lipschitz < n.lipschitz);
}

#[test]
fn bad_settings_are_refused_in_words() {
    let _turn = turn();
    let refused = |config: TheoryConfig| match TheoryLab::new(&Device::flex(), config) {
        Ok(_) => panic!("accepted"),
        Err(e) => e.0,
    };
    let touching = TheoryConfig {
        points_per_class: 1000,
        turns: 20.0,
        band: 0.99,
        ..TheoryConfig::default()
    };
    assert!(refused(touching).contains("touch"));
    let too_few = TheoryConfig {
        points_per_class: 1,
        ..TheoryConfig::default()
    };
    assert!(refused(too_few).contains("points per class"));
    let (lab, _) = lab(config(TheoryMethod::Natural));
    let error = block_on(lab.train(0)).unwrap_err();
    assert!(error.0.contains("choose 1 to 1000"), "{error}");
}
