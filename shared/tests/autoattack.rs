//! AutoAttack's attacks against analytic answers on linear models, their invariants, their
//! seeds, and the gradient-masking checks on masked and ordinary models.

mod common;

use astute::api::AttackName;
use astute::api::{MaskingCheck, MaskingFlag, RobustEvaluation};
use astute::attack::{Apgd, AutoAttack, Fab, Square, eval_copy, linf_projection, project};
use astute::burn::module::Param;
use astute::burn::prelude::*;
use astute::burn::tensor::TensorData;
use astute::data::{DatasetId, ImageShape};
use astute::method::Method;
use astute::metric::masking;
use astute::metric::{Attack, RobustProtocol, robust_accuracy};
use astute::model::{Classifier, Network};
use astute::train::TrainConfig;
use common::{cpu, device_rng_lock, pseudo_random, toy_dataset, train_quietly};

/// logits = flatten(x) · W + b: the worst case in an ℓ∞ ball has a closed form.
#[derive(Module, Debug)]
struct Linear {
    weight: Param<Tensor<2>>,
    bias: Param<Tensor<1>>,
}

impl Classifier for Linear {
    fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        images.flatten(1, 3).matmul(self.weight.val()) + self.bias.val().unsqueeze()
    }
}

/// A `classes`-class linear model on `d` inputs, and `n` points in [0.3, 0.7]^d labelled
/// by the model itself (every point correct before the attack).
struct LinearCase {
    model: Linear,
    w: Vec<f32>,
    b: Vec<f32>,
    x: Vec<f32>,
    y: Vec<usize>,
    d: usize,
    classes: usize,
}

fn linear_case(d: usize, classes: usize, n: usize, device: &Device) -> LinearCase {
    let w: Vec<f32> = pseudo_random(d * classes, 7)
        .iter()
        .map(|v| v - 0.5)
        .collect();
    let b: Vec<f32> = pseudo_random(classes, 8)
        .iter()
        .map(|v| 0.2 * (v - 0.5))
        .collect();
    let x: Vec<f32> = pseudo_random(n * d, 9)
        .iter()
        .map(|v| 0.3 + 0.4 * v)
        .collect();
    let logit = |i: usize, c: usize| -> f32 {
        (0..d)
            .map(|k| x[i * d + k] * w[k * classes + c])
            .sum::<f32>()
            + b[c]
    };
    let y = (0..n)
        .map(|i| {
            (0..classes)
                .max_by(|&a, &c| logit(i, a).total_cmp(&logit(i, c)))
                .unwrap()
        })
        .collect();
    let model = Linear {
        weight: Param::from_tensor(Tensor::from_data(
            TensorData::new(w.clone(), [d, classes]),
            device,
        )),
        bias: Param::from_tensor(Tensor::from_data(
            TensorData::new(b.clone(), [classes]),
            device,
        )),
    };
    LinearCase {
        model,
        w,
        b,
        x,
        y,
        d,
        classes,
    }
}

impl LinearCase {
    fn images(&self, device: &Device) -> Tensor<4> {
        let n = self.y.len();
        Tensor::from_data(TensorData::new(self.x.clone(), [n, 1, 1, self.d]), device)
    }

    fn labels(&self, device: &Device) -> Tensor<1, Int> {
        let y: Vec<i64> = self.y.iter().map(|&c| c as i64).collect();
        Tensor::from_data(TensorData::new(y, [self.y.len()]), device)
    }

    /// For point `i` at radius ε, the smallest slack over the other classes of
    /// (w_y − w_j)·x + b_y − b_j − ε‖w_y − w_j‖₁: the point survives every attack iff it is
    /// positive (the box [0, 1] does not bind: x ± ε stays inside it).
    fn slack(&self, i: usize, eps: f32) -> f32 {
        self.margins(i)
            .map(|(margin, l1)| margin - eps * l1)
            .fold(f32::INFINITY, f32::min)
    }

    /// The smallest radius at which point `i` can be moved to another class.
    fn breaking_radius(&self, i: usize) -> f32 {
        self.margins(i)
            .map(|(margin, l1)| margin / l1)
            .fold(f32::INFINITY, f32::min)
    }

    /// For each other class j: (w_y − w_j)·x + b_y − b_j and ‖w_y − w_j‖₁.
    fn margins(&self, i: usize) -> impl Iterator<Item = (f32, f32)> + '_ {
        let (d, c, y) = (self.d, self.classes, self.y[i]);
        (0..c).filter(move |&j| j != y).map(move |j| {
            let mut value = self.b[y] - self.b[j];
            let mut l1 = 0.0;
            for k in 0..d {
                let diff = self.w[k * c + y] - self.w[k * c + j];
                value += diff * self.x[i * d + k];
                l1 += diff.abs();
            }
            (value, l1)
        })
    }
}

fn correct(model: &impl Classifier, x: Tensor<4>, y: &Tensor<1, Int>) -> Vec<bool> {
    model
        .forward(x)
        .argmax(1)
        .squeeze_dim::<1>(1)
        .equal(y.clone())
        .into_data()
        .try_to_vec()
        .unwrap()
}

/// APGD (CE, then targeted DLR) breaks exactly the points the closed form says can be
/// broken, at several radii; points within 10⁻³ of the boundary are left out.
#[test]
fn apgd_reaches_the_analytic_worst_case_of_a_linear_model() {
    let device = cpu().autodiff();
    let case = linear_case(24, 5, 96, &device);
    let (x, y) = (case.images(&device), case.labels(&device));
    let mut counts = Vec::new();
    for eps in [0.01, 0.02, 0.03, 0.04] {
        let adversarial = AutoAttack::apgd(eps, 3).run(&case.model, &x, &y, case.classes);
        let survived = correct(&case.model, adversarial, &y);
        let (mut compared, mut breakable) = (0, 0);
        for (i, &held) in survived.iter().enumerate() {
            let slack = case.slack(i, eps);
            if slack.abs() < 1e-3 {
                continue;
            }
            compared += 1;
            breakable += usize::from(slack < 0.0);
            assert_eq!(held, slack > 0.0, "point {i} at ε {eps}: slack {slack}");
        }
        counts.push((eps, breakable, compared));
    }
    // The radii span the interesting range: some points breakable, not all, at some ε.
    assert!(
        counts
            .iter()
            .any(|&(_, breakable, compared)| breakable > 10 && breakable + 10 < compared),
        "{counts:?}"
    );
}

/// DLR and targeted DLR by hand on logits [3, 1, 2, 0] (sorted 3, 2, 1, 0), with their
/// gradients: the losses read the 1st, 3rd and 4th largest logits without sorting.
#[test]
fn dlr_losses_by_hand() {
    let device = cpu().autodiff();
    let logits = || {
        Tensor::<2>::from_data(
            TensorData::new(vec![3.0f32, 1.0, 2.0, 0.0], [1, 4]),
            &device,
        )
        .require_grad()
    };
    let label = |c: i64| Tensor::<1, Int>::from_data(TensorData::new(vec![c], [1]), &device);
    let value = |t: Tensor<1>| t.into_data().try_to_vec::<f32>().unwrap()[0];
    // Label 0 on top: −(3 − 2) / (3 − 1).
    assert!((value(astute::loss::dlr(logits(), &label(0))) + 0.5).abs() < 1e-6);
    // Label 2 not on top: the best other is the top, −(2 − 3) / (3 − 1).
    assert!((value(astute::loss::dlr(logits(), &label(2))) - 0.5).abs() < 1e-6);
    // Toward class 3: −(3 − 0) / (3 − ½(1 + 0)).
    let targeted = astute::loss::targeted_dlr(logits(), &label(0), &label(3));
    assert!((value(targeted) + 1.2).abs() < 1e-6);
    // f = −(z₀ − z₂) / (z₀ − z₁): ∂f/∂z = (−(z₂ − z₁), −(z₀ − z₂), z₀ − z₁, 0) / (z₀ − z₁)².
    let z = logits();
    let grads = astute::loss::dlr(z.clone(), &label(0)).sum().backward();
    let gradient = z
        .grad(&grads)
        .unwrap()
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    for (got, want) in gradient.iter().zip([-0.25f32, -0.25, 0.5, 0.0]) {
        assert!((got - want).abs() < 1e-6, "{gradient:?}");
    }
}

/// FAB-T breaks exactly the points the closed form says can be broken. On a linear model
/// its linearised boundary is the boundary, and it approaches it from the adversarial side
/// (overshoot η, pull-back β), so points whose smallest breaking radius lies within 1 % of
/// ε are left out.
#[test]
fn fab_reaches_the_analytic_worst_case_of_a_linear_model() {
    let device = cpu().autodiff();
    let case = linear_case(24, 5, 96, &device);
    let (x, y) = (case.images(&device), case.labels(&device));
    let mut breakable_somewhere = false;
    for eps in [0.01, 0.02, 0.03, 0.04] {
        let adversarial = Fab::targeted(eps).attack(&case.model, &x, &y);
        let moved: f32 = (adversarial.clone() - x.clone()).abs().max().into_scalar();
        assert!(moved <= eps + 1e-6, "FAB-T moved {moved} at ε {eps}");
        let survived = correct(&case.model, adversarial, &y);
        let (mut compared, mut breakable) = (0, 0);
        for (i, &held) in survived.iter().enumerate() {
            // The radius that breaks point i is where its slack crosses 0.
            let radius = case.breaking_radius(i);
            if (radius - eps).abs() < 0.01 * eps {
                continue;
            }
            compared += 1;
            breakable += usize::from(radius < eps);
            assert_eq!(
                held,
                radius > eps,
                "point {i} at ε {eps}: breaks at {radius}"
            );
        }
        breakable_somewhere |= breakable > 10 && breakable + 10 < compared;
    }
    assert!(
        breakable_somewhere,
        "no radius both breaks and spares points"
    );
}

/// The ℓ∞ projection onto a hyperplane within [0, 1] against an independent search: the
/// smallest radius λ at which the box [x − λ, x + λ] ∩ [0, 1] reaches the hyperplane is
/// where its corners' values of w · x straddle b (bisection over the 2⁴ corners).
#[test]
fn the_linf_projection_is_the_smallest_step_to_the_hyperplane() {
    let values = pseudo_random(40 * 13, 17);
    let mut scratch = Vec::new();
    let (mut reachable, mut unreachable) = (0, 0);
    for case in values.chunks(13) {
        let x: Vec<f32> = case[0..4].to_vec();
        let mut w: Vec<f32> = case[4..8].iter().map(|v| 2.0 * v - 1.0).collect();
        // Some coordinates play no part.
        if case[12] < 0.3 {
            w[1] = 0.0;
        }
        let offset = f64::from(case[8] * 3.0 - 1.0);
        let step = linf_projection(&x, &w, offset, &mut scratch);
        let value = |d: &[f32]| -> f64 {
            (0..4)
                .map(|i| f64::from(w[i]) * f64::from(x[i] + d[i]))
                .sum()
        };
        // The corners of the box around x at radius λ, clipped to [0, 1].
        let range = |radius: f32| {
            let mut low = f64::INFINITY;
            let mut high = f64::NEG_INFINITY;
            for corner in 0..16u32 {
                let d: Vec<f32> = (0..4)
                    .map(|i| {
                        let edge = if corner >> i & 1 == 1 {
                            (x[i] + radius).min(1.0)
                        } else {
                            (x[i] - radius).max(0.0)
                        };
                        edge - x[i]
                    })
                    .collect();
                low = low.min(value(&d));
                high = high.max(value(&d));
            }
            (low, high)
        };
        let reaches = |radius: f32| {
            let (low, high) = range(radius);
            low <= offset && offset <= high
        };
        let norm = step.iter().fold(0.0f32, |m, d| m.max(d.abs()));
        for (i, d) in step.iter().enumerate() {
            assert!(
                (0.0..=1.0).contains(&(x[i] + d)),
                "left the box: {x:?} + {step:?}"
            );
            if w[i] == 0.0 {
                assert_eq!(*d, 0.0, "moved a coordinate that plays no part");
            }
        }
        if reaches(1.0) {
            reachable += 1;
            assert!(
                (value(&step) - offset).abs() < 1e-5,
                "missed the hyperplane: {step:?}"
            );
            let (mut below, mut above) = (0.0f32, 1.0f32);
            for _ in 0..40 {
                let middle = 0.5 * (below + above);
                if reaches(middle) {
                    above = middle;
                } else {
                    below = middle;
                }
            }
            assert!(
                (norm - above).abs() < 1e-5,
                "radius {norm}, smallest {above}"
            );
        } else {
            unreachable += 1;
            // As close as the box allows: w · (x + d) is the end of the range nearest b.
            let (low, high) = range(1.0);
            let nearest = if offset > high { high } else { low };
            assert!(
                (value(&step) - nearest).abs() < 1e-5,
                "not the nearest corner"
            );
        }
    }
    assert!(
        reachable > 10 && unreachable > 3,
        "{reachable} reachable, {unreachable} not"
    );
}

/// Square needs no gradient and still finds most of the breakable points, and never one
/// the closed form says is robust.
#[test]
fn square_breaks_what_can_be_broken_without_gradients() {
    let device = cpu().autodiff();
    let case = linear_case(24, 5, 96, &device);
    let (x, y) = (case.images(&device), case.labels(&device));
    let eps = 0.1;
    let adversarial = Square {
        queries: 1_000,
        ..Square::standard(eps, 11)
    }
    .attack(&case.model, &x, &y);
    let survived = correct(&case.model, adversarial, &y);
    let (mut breakable, mut broken) = (0, 0);
    for (i, &held) in survived.iter().enumerate() {
        if case.slack(i, eps) > 1e-3 {
            assert!(held, "point {i} is robust but Square broke it");
        } else if case.slack(i, eps) < -1e-3 {
            breakable += 1;
            broken += usize::from(!held);
        }
    }
    assert!(
        broken * 10 >= breakable * 8,
        "Square broke {broken} of {breakable}"
    );
}

/// A small MLP, untrained (seeded), on 1×16×16 toy images: attacks have work to do.
fn toy_network(device: &Device) -> Network {
    astute::model::NetworkConfig {
        architecture: astute::model::Architecture::Mlp {
            layers: 2,
            width: 32,
        },
        input: ImageShape::new(1, 16, 16),
        classes: 4,
        dropout: 0.0,
    }
    .init(device)
    .unwrap()
}

/// Every attack stays in the ε-ball around the clean images and in [0, 1].
#[test]
fn every_attack_stays_in_the_ball_and_the_box() {
    let device = cpu().autodiff();
    let data = toy_dataset(24, ImageShape::new(1, 16, 16), 4, 5);
    let model = eval_copy(&toy_network(&device));
    let (x, y) = astute::batch::to_tensors(&data, &(0..data.len()).collect::<Vec<_>>(), &device);
    for eps in [0.03, 0.3] {
        for name in [
            AttackName::ApgdCe,
            AttackName::ApgdT,
            AttackName::FabT,
            AttackName::Square,
            AttackName::AutoAttack,
        ] {
            let attack = match Attack::new(name, eps, 1) {
                // Fewer queries keep the test quick; the geometry is the same.
                Attack::Square(square) => Attack::Square(Square {
                    queries: 300,
                    ..square
                }),
                other => other,
            };
            let adversarial = attack.run(&model, &x, &y, 4, 0);
            let projected = project(adversarial.clone(), &x, eps);
            let moved: f32 = (adversarial.clone() - x.clone()).abs().max().into_scalar();
            let outside: f32 = (adversarial - projected).abs().max().into_scalar();
            assert!(moved <= eps + 1e-6, "{name} moved {moved} at ε {eps}");
            assert_eq!(outside, 0.0, "{name} left the ball or the box at ε {eps}");
        }
    }
}

/// With the same seed an evaluation repeats to the digit, in any batch size (a point keeps
/// its seeds when only a few points of its batch are still robust); another seed draws
/// other starts.
#[test]
fn a_seeded_evaluation_repeats_exactly() {
    let device = cpu().autodiff();
    let data = toy_dataset(40, ImageShape::new(1, 16, 16), 4, 6);
    let model = eval_copy(&toy_network(&device));
    let (x, y) = astute::batch::to_tensors(&data, &(0..data.len()).collect::<Vec<_>>(), &device);
    let once = Apgd::ce(0.1, 5).attack(&model, &x, &y);
    let again = Apgd::ce(0.1, 5).attack(&model, &x, &y);
    let other = Apgd::ce(0.1, 6).attack(&model, &x, &y);
    let bits = |t: Tensor<4>| t.into_data().try_to_vec::<f32>().unwrap();
    assert_eq!(bits(once.clone()), bits(again));
    assert_ne!(bits(once), bits(other));
    // A trained model at a radius where some points hold and some break.
    let natural = eval_copy(&trained(Method::Natural));
    for name in [AttackName::Apgd, AttackName::ApgdT, AttackName::FabT] {
        let attack = Attack::new(name, 0.05, 9);
        let first = robust_accuracy(&natural, &data, &attack, 16, &device);
        // Some points hold and some break: the batches have something to disagree on.
        assert!(0.0 < first && first < 100.0, "{name}: {first} %");
        for batch in [16, 7, 40] {
            let again = robust_accuracy(&natural, &data, &attack, batch, &device);
            assert_eq!(first, again, "{name} in batches of {batch}");
        }
    }
}

/// The steps after which APGD may halve its step size, for the reference's 100 iterations.
#[test]
fn apgd_checkpoints_follow_the_reference_schedule() {
    assert_eq!(Apgd::checkpoints(100), vec![21, 40, 56, 69, 79, 86, 92, 98]);
}

/// `model` behind a quantiser that rounds every pixel to one of 4 levels: the gradient
/// through it is zero everywhere, the textbook case of gradient masking.
#[derive(Module, Debug)]
struct Quantized {
    inner: Network,
}

impl Classifier for Quantized {
    fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        self.inner
            .forward(images.mul_scalar(3.0).round().div_scalar(3.0))
    }
}

fn trained(method: Method) -> Network {
    let _rng = device_rng_lock();
    let data = toy_dataset(512, ImageShape::new(1, 16, 16), 4, 3);
    let mut config = TrainConfig::preset(DatasetId::Spiral, method);
    config.architecture = astute::model::Architecture::Mlp {
        layers: 2,
        width: 64,
    };
    config.epsilon = 0.05;
    config.epochs = 12;
    config.batch_size = 32;
    config.seed = 4;
    train_quietly(&config, &data).model
}

fn raised(flags: &[MaskingFlag]) -> Vec<MaskingCheck> {
    flags.iter().filter(|f| f.raised).map(|f| f.check).collect()
}

fn full_check(
    model: &impl Classifier,
    test: &astute::data::Dataset,
    device: &Device,
) -> Vec<MaskingFlag> {
    masking::Checks {
        epsilon: 0.05,
        seed: 1,
        batch_size: 100,
        measured: &[],
        depth: masking::Depth::Full,
    }
    .run(model, test, device)
}

/// The quick checks run the cheap attacks and take the others' accuracies from what the
/// evaluation measured: given Square far below APGD-CE + APGD-T, the black-box flag is
/// raised with those numbers; without them, the check is left out, as is the
/// multi-targeted one.
#[test]
fn quick_masking_checks_use_what_was_measured() {
    let device = cpu().autodiff();
    // A trained model at a radius where PGD-10 breaks some points and not all.
    let test = toy_dataset(40, ImageShape::new(1, 16, 16), 4, 6);
    let model = eval_copy(&trained(Method::Natural));
    let measured = |attack, accuracy| RobustEvaluation {
        attack,
        epsilon: 0.05,
        seed: 1,
        images: test.len(),
        accuracy,
        seconds: 0.0,
    };
    let quick = |known: &[RobustEvaluation]| {
        masking::Checks {
            epsilon: 0.05,
            seed: 1,
            batch_size: 20,
            measured: known,
            depth: masking::Depth::Quick,
        }
        .run(&model, &test, &device)
    };
    let checks = |flags: &[MaskingFlag]| flags.iter().map(|f| f.check).collect::<Vec<_>>();
    let alone = quick(&[]);
    assert_eq!(
        checks(&alone),
        vec![
            MaskingCheck::FgsmBeatsPgd,
            MaskingCheck::RobustAtLargeRadius,
            MaskingCheck::ZeroGradients
        ]
    );
    let known = [
        measured(AttackName::Square, 0.0),
        measured(AttackName::Apgd, 50.0),
        // Another radius: not this evaluation's.
        RobustEvaluation {
            epsilon: 0.1,
            ..measured(AttackName::MultiTargeted, 0.0)
        },
    ];
    let flags = quick(&known);
    assert_eq!(checks(&flags).len(), 4, "{flags:#?}");
    let black_box = flags
        .iter()
        .find(|f| f.check == MaskingCheck::BlackBoxBeatsWhiteBox)
        .expect("the black-box check ran");
    assert!(black_box.raised, "{black_box:?}");
    assert!(
        black_box.evidence.starts_with("Square 0.00 %"),
        "{black_box:?}"
    );
    assert!(
        black_box.evidence.contains("APGD-CE + APGD-T 50.00"),
        "{black_box:?}"
    );
}

/// A masked model raises the zero-gradient and black-box flags; the same network
/// unmasked, and a TRADES model, raise none.
#[test]
fn masking_checks_tell_a_masked_model_from_ordinary_ones() {
    let device = cpu().autodiff();
    let test = toy_dataset(200, ImageShape::new(1, 16, 16), 4, 99);
    let natural = trained(Method::Natural);
    let flags = |model: &dyn Fn(&Device) -> Vec<MaskingFlag>| model(&device);
    let natural_flags = flags(&|device| full_check(&eval_copy(&natural), &test, device));
    assert_eq!(raised(&natural_flags), vec![], "{natural_flags:#?}");
    let masked = Quantized {
        inner: natural.clone(),
    };
    let masked_flags = flags(&|device| full_check(&eval_copy(&masked), &test, device));
    let masked_raised = raised(&masked_flags);
    assert!(
        masked_raised.contains(&MaskingCheck::ZeroGradients),
        "{masked_flags:#?}"
    );
    assert!(
        masked_raised.contains(&MaskingCheck::BlackBoxBeatsWhiteBox),
        "{masked_flags:#?}"
    );
    let trades = trained(Method::Trades { beta: 6.0 });
    let trades_flags = flags(&|device| full_check(&eval_copy(&trades), &test, device));
    assert_eq!(raised(&trades_flags), vec![], "{trades_flags:#?}");
}

/// On a trained model: AutoAttack ≤ APGD-CE (it starts with the same run) and APGD-CE does
/// not do worse than PGD-10 beyond noise.
#[test]
fn autoattack_is_at_least_as_strong_as_its_parts() {
    let device = cpu().autodiff();
    let test = toy_dataset(200, ImageShape::new(1, 16, 16), 4, 98);
    let model = eval_copy(&trained(Method::Natural));
    let accuracy = |name| robust_accuracy(&model, &test, &Attack::new(name, 0.05, 2), 100, &device);
    let pgd = accuracy(AttackName::PGD_10);
    let apgd = accuracy(AttackName::ApgdCe);
    let auto = accuracy(AttackName::AutoAttack);
    assert!(auto <= apgd, "AutoAttack {auto} against APGD-CE {apgd}");
    assert!(apgd <= pgd + 1.0, "APGD-CE {apgd} against PGD-10 {pgd}");
}

/// A protocol with further attacks measures PGD-10 on the same images first, once, so a
/// strong attack on a prefix of the test set stands beside the paper's attack there.
#[test]
fn further_attacks_come_with_pgd10_on_the_same_images() {
    let device = cpu().autodiff();
    let test = toy_dataset(60, ImageShape::new(1, 16, 16), 4, 7);
    let model = eval_copy(&trained(Method::Natural));
    let protocol = |attacks: Vec<AttackName>| RobustProtocol {
        attacks,
        images: Some(25),
        epsilon: 0.05,
        seed: 3,
    };
    let names = |attacks| {
        protocol(attacks)
            .run(&model, &test, &device, |_| ())
            .iter()
            .map(|e| (e.attack, e.images, e.accuracy))
            .collect::<Vec<_>>()
    };
    let pgd_there = robust_accuracy(
        &model,
        &test.take(25),
        &Attack::new(AttackName::PGD_10, 0.05, 3),
        25,
        &device,
    );
    let fgsm_there = robust_accuracy(
        &model,
        &test.take(25),
        &Attack::new(AttackName::Fgsm, 0.05, 3),
        25,
        &device,
    );
    let expected = vec![
        (AttackName::PGD_10, 25, pgd_there),
        (AttackName::Fgsm, 25, fgsm_there),
    ];
    assert_eq!(names(vec![AttackName::Fgsm]), expected);
    assert_eq!(names(vec![AttackName::PGD_10, AttackName::Fgsm]), expected);
    assert_eq!(names(Vec::new()), Vec::new());
}
