//! Attacks and the Lipschitz estimate against analytic answers on linear models.

mod common;

use astute::attack::{Goal, MultiTargeted, Pgd, eval_copy, fgsm, seeded_start};
use astute::burn::module::Param;
use astute::burn::prelude::*;
use astute::burn::tensor::{Distribution, TensorData};
use astute::data::ImageShape;
use astute::metric::{Attack, EvalProtocol, Lipschitz, evaluate};
use astute::model::{Classifier, Network, NetworkConfig};
use common::{cpu, pseudo_random, toy_dataset};

/// logits = flatten(x) · W, no bias: every quantity has a closed form.
#[derive(Module, Debug)]
struct LinearModel {
    weight: Param<Tensor<2>>,
}

impl Classifier for LinearModel {
    fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        images.flatten(1, 3).matmul(self.weight.val())
    }
}

/// Two classes with opposite weights: logits (w·x, −w·x).
fn antisymmetric(w: &[f32], device: &Device) -> LinearModel {
    let mut cols = Vec::with_capacity(2 * w.len());
    for &v in w {
        cols.extend([v, -v]);
    }
    LinearModel {
        weight: Param::from_tensor(Tensor::from_data(
            TensorData::new(cols, [w.len(), 2]),
            device,
        )),
    }
}

fn images(values: Vec<f32>, n: usize, d: usize, device: &Device) -> Tensor<4> {
    Tensor::from_data(TensorData::new(values, [n, 1, 1, d]), device)
}

fn labels(values: Vec<i64>, device: &Device) -> Tensor<1, Int> {
    let n = values.len();
    Tensor::from_data(TensorData::new(values, [n]), device)
}

#[test]
fn pgd_matches_the_analytic_optimum_of_a_linear_model() {
    let device = cpu().autodiff();
    let d = 37;
    let w: Vec<f32> = pseudo_random(d, 1).into_iter().map(|v| v - 0.5).collect();
    let model = antisymmetric(&w, &device);
    let n = 4;
    let x: Vec<f32> = pseudo_random(n * d, 2)
        .into_iter()
        .map(|v| 0.2 + 0.6 * v)
        .collect();
    let y = vec![0, 1, 0, 1];
    let eps = 0.1;
    let adv = Pgd::paper(eps).attack(
        &model,
        &images(x.clone(), n, d, &device),
        &labels(y.clone(), &device),
    );
    let adv = adv.into_data().try_to_vec::<f32>().unwrap();
    // The loss of label 0 grows fastest along −sign(w); of label 1 along +sign(w).
    for i in 0..n {
        let direction = if y[i] == 0 { -1.0 } else { 1.0 };
        for j in 0..d {
            let expected = x[i * d + j] + direction * eps * w[j].signum();
            assert!(
                (adv[i * d + j] - expected).abs() < 1e-6,
                "image {i} pixel {j}: {} vs {expected}",
                adv[i * d + j]
            );
        }
    }
}

#[test]
fn fgsm_takes_one_full_signed_step() {
    let device = cpu().autodiff();
    let w = [0.5, -0.25, 1.0];
    let model = antisymmetric(&w, &device);
    let x = images(vec![0.5, 0.5, 0.95], 1, 3, &device);
    let adv = fgsm(&model, &x, &labels(vec![1], &device), 0.1)
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    // Label 1 loss grows along +sign(w); the last pixel is clipped at 1.
    let expected = [0.6, 0.4, 1.0];
    for (a, e) in adv.iter().zip(expected) {
        assert!((a - e).abs() < 1e-6, "{adv:?}");
    }
}

#[test]
fn targeted_pgd_walks_toward_the_target_of_a_linear_model() {
    let device = cpu().autodiff();
    // Three classes; class 2's weights are w, the others' are 0: the gradient of class 2's
    // cross-entropy is −(1 − p₂)·w, so descending it moves x along +sign(w), the analytic
    // optimum. The clean image is class 0 (z₂ = −0.3 < 0); the attacked one is class 2.
    let w = [1.0f32, -1.0, 0.5, -0.5];
    let mut cols = Vec::new();
    for &v in &w {
        cols.extend([0.0, 0.0, v]);
    }
    let model = LinearModel {
        weight: Param::from_tensor(Tensor::from_data(TensorData::new(cols, [4, 3]), &device)),
    };
    let x = vec![0.4f32, 0.6, 0.4, 0.6];
    let clean = images(x.clone(), 1, 4, &device);
    let goal = Goal::Targeted(labels(vec![2], &device));
    let reached = |images: Tensor<4>| {
        goal.reached(model.forward(images))
            .into_data()
            .try_to_vec::<bool>()
            .unwrap()
    };
    assert_eq!(reached(clean.clone()), [false]);
    let attack = Pgd {
        epsilon: 0.2,
        steps: 5,
        step_size: 0.05,
        restarts: 1,
        random_start: false,
    };
    let mut iterates = 0;
    let adv = attack.attack_with(
        &model,
        &clean,
        &goal,
        |_| unreachable!(),
        |_, _| iterates += 1,
    );
    assert_eq!(iterates, 5, "one observation per step");
    assert_eq!(reached(adv.clone()), [true]);
    let adv = adv.into_data().try_to_vec::<f32>().unwrap();
    for (j, ((a, v), c)) in adv.iter().zip(w).zip(&x).enumerate() {
        let expected = c + 0.2 * v.signum();
        assert!((a - expected).abs() < 1e-6, "pixel {j}: {a} vs {expected}");
    }
}

#[test]
fn seeded_starts_depend_on_image_seeds_only() {
    let device = cpu();
    let (n, d, eps) = (3, 50, 0.1);
    let x: Vec<f32> = pseudo_random(n * d, 9);
    let batch = seeded_start(&images(x.clone(), n, d, &device), eps, 7, 0)
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    for i in 0..n {
        let alone = images(x[i * d..(i + 1) * d].to_vec(), 1, d, &device);
        let start = seeded_start(&alone, eps, 7 + i as u64, 0)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert_eq!(
            start,
            batch[i * d..(i + 1) * d],
            "image {i} alone and in a batch"
        );
        for (s, c) in start.iter().zip(&x[i * d..]) {
            assert!((s - c).abs() <= eps + 1e-6 && (0.0..=1.0).contains(s));
        }
    }
    let restart = seeded_start(&images(x.clone(), n, d, &device), eps, 7, 1)
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    assert_ne!(restart, batch, "a restart draws new numbers");
    let moved = batch
        .iter()
        .zip(&x)
        .filter(|(s, c)| (*s - *c).abs() > 1e-3)
        .count();
    assert!(
        moved > n * d / 2,
        "the start is spread over the ball, not the clean image"
    );
}

/// A freshly initialised CNN2 with 10 classes and no dropout.
fn cnn2(shape: ImageShape, device: &Device) -> Network {
    NetworkConfig {
        architecture: "cnn2".parse().unwrap(),
        input: shape,
        classes: 10,
        dropout: 0.0,
    }
    .init(device)
    .unwrap()
}

#[test]
fn attacks_never_leave_the_ball_or_the_unit_box() {
    let device = cpu().autodiff();
    let shape = ImageShape::new(1, 28, 28);
    device.seed(7);
    let model = cnn2(shape, &device);
    let model = eval_copy(&model);
    // Pixels at exactly 0 and 1 are where clipping matters.
    let x = Tensor::<4>::random([6, 1, 28, 28], Distribution::Uniform(-0.5, 1.5), &device)
        .clamp(0.0, 1.0);
    let y = labels(vec![0, 1, 2, 3, 4, 5], &device);
    let eps = 0.1;
    let runs = [
        Pgd {
            restarts: 2,
            ..Pgd::paper(eps)
        }
        .attack(&model, &x, &y),
        MultiTargeted {
            steps: 3,
            ..MultiTargeted::paper(eps)
        }
        .attack(&model, &x, &y, 10),
        fgsm(&model, &x, &y, eps),
    ];
    for adv in runs {
        let distance = (adv.clone() - x.clone()).abs().max().into_scalar::<f32>();
        assert!(distance <= eps + 1e-6, "ℓ∞ distance {distance} > ε");
        assert!(adv.clone().min().into_scalar::<f32>() >= 0.0);
        assert!(adv.max().into_scalar::<f32>() <= 1.0);
    }
}

#[test]
fn lipschitz_estimate_of_a_linear_model_reaches_its_analytic_value() {
    let device = cpu().autodiff();
    let d = 20;
    let w: Vec<f32> = pseudo_random(d, 3).into_iter().map(|v| v - 0.5).collect();
    let model = antisymmetric(&w, &device);
    // sup ‖W δ‖₁ / ‖δ‖∞ = 2‖w‖₁, reached at δ = ε·sign(w).
    let analytic: f32 = 2.0 * w.iter().map(|v| v.abs()).sum::<f32>();
    let largest = w.iter().fold(0f32, |m, v| m.max(v.abs()));
    let x = images(
        pseudo_random(3 * d, 4)
            .into_iter()
            .map(|v| 0.3 + 0.4 * v)
            .collect(),
        3,
        d,
        &device,
    );
    let estimates = Lipschitz {
        steps: 20,
        ..Lipschitz::paper(0.1)
    }
    .estimate(&model, &x)
    .into_data()
    .try_to_vec::<f32>()
    .unwrap();
    for e in estimates {
        assert!(
            e <= analytic * (1.0 + 1e-5),
            "estimate {e} above the analytic maximum {analytic}"
        );
        // At the corner the arg-max coordinate of ‖δ‖∞ steps back by 2ε/5 before the last
        // evaluation, costing at most 0.8·max|wᵢ|.
        assert!(
            e >= analytic - 0.8 * largest - 1e-4,
            "estimate {e} far below {analytic}"
        );
    }
    // One pixel: no ties, the estimate is exactly 2|w|.
    let single = antisymmetric(&[0.75], &device);
    let e = Lipschitz::paper(0.1)
        .estimate(&single, &images(vec![0.5], 1, 1, &device))
        .into_scalar::<f32>();
    assert!((e - 1.5).abs() < 1e-4, "{e}");
}

#[test]
fn adversarial_accuracy_never_exceeds_clean_accuracy() {
    let device = cpu().autodiff();
    let shape = ImageShape::new(1, 16, 16);
    let data = toy_dataset(96, shape, 3, 5);
    let w: Vec<f32> = pseudo_random(shape.len() * 3, 9)
        .into_iter()
        .map(|v| v - 0.5)
        .collect();
    let model = LinearModel {
        weight: Param::from_tensor(Tensor::from_data(
            TensorData::new(w, [shape.len(), 3]),
            &device,
        )),
    };
    for eps in [0.01, 0.05, 0.2] {
        let attack = Attack::SeededPgd {
            pgd: Pgd::paper(eps),
            seed: 3,
        };
        let e = evaluate(&model, &data, &attack, &Lipschitz::paper(eps), 32, &device);
        assert!(e.adversarial_accuracy <= e.accuracy, "ε {eps}: {e:?}");
    }
}

#[test]
fn a_seeded_evaluation_gives_one_row_in_any_batch_size() {
    let device = cpu().autodiff();
    let shape = ImageShape::new(1, 28, 28);
    let (train, test) = (toy_dataset(30, shape, 10, 1), toy_dataset(40, shape, 10, 2));
    let model = cnn2(shape, &device);
    let row = |seed: u64, batch_size: usize| {
        EvalProtocol {
            train_images: None,
            batch_size,
            seed,
            ..EvalProtocol::paper(0.1)
        }
        .run(&model, &train, &test, &device)
    };
    let first = row(5, 16);
    // Whatever the device's generator drew in between.
    let _ = Tensor::<2>::random([64, 64], Distribution::Default, &device);
    assert_eq!(row(5, 16), first, "the same seed and batch size");
    assert_eq!(row(5, 7), first, "the same seed in batches of 7");
    assert_eq!(row(5, 64), first, "the same seed in one batch");
    // The seed is what decides: Eq. (3)'s ascent starts elsewhere under another.
    let other = row(6, 16);
    assert_ne!(other.test.lipschitz, first.test.lipschitz);
    assert_ne!(other.train.lipschitz, first.train.lipschitz);
}

#[test]
fn accuracy_vs_epsilon_matches_the_closed_form_of_a_linear_model() {
    let device = cpu().autodiff();
    let d = 24;
    let w: Vec<f32> = pseudo_random(d, 11).into_iter().map(|v| v - 0.5).collect();
    let w_l1: f64 = w.iter().map(|v| f64::from(v.abs())).sum();
    let model = antisymmetric(&w, &device);
    // Pixels in [0.2, 0.8], so no ε ≤ 0.2 reaches the edge of [0, 1].
    let n = 300;
    let pixels: Vec<u8> = pseudo_random(n * d, 12)
        .into_iter()
        .map(|v| 51 + (v * 153.0) as u8)
        .collect();
    let scores: Vec<f64> = (0..n)
        .map(|i| {
            (0..d)
                .map(|j| f64::from(w[j]) * f64::from(pixels[i * d + j]) / 255.0)
                .sum()
        })
        .collect();
    // The model says 0 where w·x > 0; every 7th label disagrees.
    let right: Vec<u16> = scores.iter().map(|&s| u16::from(s <= 0.0)).collect();
    let labels: Vec<u16> = (0..n)
        .map(|i| if i % 7 == 0 { 1 - right[i] } else { right[i] })
        .collect();
    let names = vec!["0".to_string(), "1".to_string()];
    let data = astute::data::Dataset::new(ImageShape::new(1, 1, d), pixels, labels.clone(), names)
        .unwrap();

    let epsilons = [0.0, 0.01, 0.02, 0.05, 0.1];
    let curve = astute::metric::accuracy_vs_epsilon(&model, &data, &epsilons, 0, 64, &device);
    // The best ℓ∞ attack moves w·x by ε‖w‖₁ towards 0: a correctly classified point
    // survives exactly when |w·x| > ε‖w‖₁.
    for (&eps, &(at, accuracy)) in epsilons.iter().zip(&curve) {
        let budget = f64::from(eps) * w_l1;
        assert!(
            scores.iter().all(|s| (s.abs() - budget).abs() > 1e-4),
            "a point lies on the ε = {eps} boundary: pick other data"
        );
        let robust = (0..n)
            .filter(|&i| labels[i] == right[i] && scores[i].abs() > budget)
            .count();
        assert_eq!(at, eps);
        assert!(
            (accuracy - 100.0 * robust as f64 / n as f64).abs() < 1e-9,
            "ε {eps}: measured {accuracy}%, closed form {robust}/{n}"
        );
    }
    // The curve is not trivial: it starts at the clean accuracy and falls.
    assert!(curve[0].1 > curve[4].1 && curve[4].1 > 0.0, "{curve:?}");
}
