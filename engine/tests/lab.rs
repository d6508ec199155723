//! The engine's work on a CNN2 (random weights, written and read as safetensors): every
//! answer checked against the model run directly or against a property it must have.

use astute::burn::prelude::*;
use astute::burn::tensor::TensorData;
use astute::data::ImageShape;
use astute::model::{Architecture, Classifier, NetworkConfig};
use astute_engine::Lab;
use astute_engine_api::{AttackKind, AttackRequest, CurveAttack, margin};
use futures_executor::block_on;

const SIDE: usize = 28;
const PIXELS: usize = SIDE * SIDE;

fn config() -> NetworkConfig {
    NetworkConfig {
        architecture: Architecture::Cnn2,
        input: ImageShape::new(1, SIDE, SIDE),
        classes: 10,
        dropout: 0.0,
    }
}

/// A lab with one CNN2 loaded, and the network itself.
fn lab() -> (Lab, usize, astute::model::Network) {
    let device = Device::flex();
    device.seed(3);
    let network = config().init(&device).unwrap();
    let bytes =
        astute::weights::to_bytes(&network, &config(), astute::weights::Precision::Full).unwrap();
    let lab = Lab::new(device);
    let handle = lab.load(bytes).unwrap();
    (lab, handle, network)
}

fn images(n: usize, seed: u32) -> Vec<f32> {
    let mut s = seed;
    (0..n * PIXELS)
        .map(|_| {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (s >> 8) as f32 / (1u32 << 24) as f32
        })
        .collect()
}

fn request(kind: AttackKind) -> AttackRequest {
    AttackRequest {
        kind,
        epsilon: 0.1,
        steps: 7,
        step_size: 0.02,
        restarts: 2,
        target: None,
        seed: 5,
    }
}

#[test]
fn logits_are_the_networks() {
    let (lab, handle, network) = lab();
    let x = images(3, 1);
    let from_lab = block_on(lab.logits(handle, &x)).unwrap();
    let direct = network
        .forward(Tensor::from_data(
            TensorData::new(x, [3, 1, SIDE, SIDE]),
            &Device::flex(),
        ))
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    assert_eq!(from_lab.len(), 30);
    for (a, b) in from_lab.iter().zip(&direct) {
        assert!((a - b).abs() < 1e-5, "{a} vs {b}");
    }
}

#[test]
fn attacks_stay_in_the_ball_and_report_their_steps() {
    let (lab, handle, _) = lab();
    let x = images(1, 2);
    for (kind, traced) in [
        (AttackKind::Fgsm, 1),
        (AttackKind::Pgd, 7),
        (AttackKind::MultiTargeted, 0),
        // APGD shows its start and every iteration of the run shown.
        (AttackKind::ApgdCe, 8),
    ] {
        let result = block_on(lab.attack(handle, &x, 4, &request(kind))).unwrap();
        assert_eq!(result.steps.len(), traced, "{kind:?}: one iterate per step");
        let linf = result
            .adversarial
            .iter()
            .zip(&x)
            .map(|(a, c)| (a - c).abs())
            .fold(0.0f32, f32::max);
        assert!((linf - result.linf).abs() < 1e-6, "{kind:?}: reported ℓ∞");
        assert!(linf <= 0.1 + 1e-6, "{kind:?}: left the ball ({linf})");
        assert!(result.adversarial.iter().all(|p| (0.0..=1.0).contains(p)));
        for step in &result.steps {
            assert_eq!(step.image.len(), PIXELS);
            assert_eq!(step.logits.len(), 10);
        }
        // The attack ascends the loss: the true class's margin does not grow.
        assert!(
            margin(&result.adversarial_logits, 4) <= margin(&result.clean_logits, 4) + 1e-4,
            "{kind:?}"
        );
    }
}

#[test]
fn a_targeted_attack_raises_its_target() {
    let (lab, handle, _) = lab();
    let x = images(1, 3);
    let request = AttackRequest {
        target: Some(7),
        ..request(AttackKind::Pgd)
    };
    let result = block_on(lab.attack(handle, &x, 1, &request)).unwrap();
    assert!(margin(&result.adversarial_logits, 7) > margin(&result.clean_logits, 7));
}

#[test]
fn the_same_seed_replays_the_same_attack() {
    let (lab, handle, _) = lab();
    let x = images(1, 4);
    let first = block_on(lab.attack(handle, &x, 0, &request(AttackKind::Pgd))).unwrap();
    let again = block_on(lab.attack(handle, &x, 0, &request(AttackKind::Pgd))).unwrap();
    assert_eq!(first.adversarial, again.adversarial);
    let other = AttackRequest {
        seed: 6,
        ..request(AttackKind::Pgd)
    };
    let different = block_on(lab.attack(handle, &x, 0, &other)).unwrap();
    assert_ne!(first.steps[0].image, different.steps[0].image);
}

#[test]
fn the_curve_does_not_depend_on_batching_and_falls_with_epsilon() {
    let (lab, handle, _) = lab();
    let n = 6;
    let x = images(n, 5);
    // Label every image with the network's own prediction: clean accuracy is 100 %.
    let logits = block_on(lab.logits(handle, &x)).unwrap();
    let labels: Vec<u8> = logits
        .chunks(10)
        .map(|l| astute_engine_api::prediction(l) as u8)
        .collect();
    let epsilons = [0.0, 0.05, 0.3];
    let whole = block_on(lab.curve(handle, &x, &labels, &epsilons, CurveAttack::Pgd, 11)).unwrap();
    assert_eq!(whole[0].accuracy, 100.0);
    assert!(whole.windows(2).all(|w| w[1].accuracy <= w[0].accuracy));
    // Image i starts from seed + i: two halves with their offsets give the same count.
    let half = n / 2;
    let first = block_on(lab.curve(
        handle,
        &x[..half * PIXELS],
        &labels[..half],
        &epsilons,
        CurveAttack::Pgd,
        11,
    ))
    .unwrap();
    let second = block_on(lab.curve(
        handle,
        &x[half * PIXELS..],
        &labels[half..],
        &epsilons,
        CurveAttack::Pgd,
        11 + half as u64,
    ))
    .unwrap();
    for k in 0..epsilons.len() {
        let joined = (first[k].accuracy + second[k].accuracy) / 2.0;
        assert!(
            (joined - whole[k].accuracy).abs() < 1e-9,
            "ε = {}",
            epsilons[k]
        );
    }
}

#[test]
fn bad_input_is_explained() {
    let (lab, handle, _) = lab();
    fn fail<T: std::fmt::Debug>(result: Result<T, astute_engine::LabError>) -> String {
        result.unwrap_err().to_string()
    }
    assert!(fail(block_on(lab.logits(handle, &[0.5; 100]))).contains("whole 1×28×28 images"));
    assert!(fail(block_on(lab.logits(handle, &[1.5; PIXELS]))).contains("outside [0, 1]"));
    assert!(fail(block_on(lab.logits(9, &[0.5; PIXELS]))).contains("no model 9"));
    let x = images(1, 6);
    assert!(
        fail(block_on(lab.attack(
            handle,
            &x,
            12,
            &request(AttackKind::Pgd)
        )))
        .contains("label 12")
    );
    let targeted_mt = AttackRequest {
        target: Some(3),
        ..request(AttackKind::MultiTargeted)
    };
    assert!(fail(block_on(lab.attack(handle, &x, 1, &targeted_mt))).contains("every class"));
    let too_far = AttackRequest {
        epsilon: 2.0,
        ..request(AttackKind::Fgsm)
    };
    assert!(fail(block_on(lab.attack(handle, &x, 1, &too_far))).contains("outside [0, 1]"));
    assert!(fail(lab.load(vec![1, 2, 3])).contains("cannot be loaded"));
    assert!(fail(block_on(lab.lipschitz(handle, &x, 0.0))).contains("outside (0, 1]"));
    let estimate = block_on(lab.lipschitz(handle, &x, 0.1)).unwrap();
    assert!(estimate.value.is_finite() && estimate.value > 0.0);
}

/// APGD in the engine shows each step's loss and step size: the step size starts at 2ε and
/// changes only by halving, at checkpoints, where the run is marked; the loss shown is
/// the cross-entropy of the true class, as the logits give it.
#[test]
fn apgd_reports_its_step_sizes_and_halvings() {
    let (lab, handle, _) = lab();
    let x = images(1, 12);
    let request = AttackRequest {
        steps: 100,
        restarts: 1,
        ..request(AttackKind::ApgdCe)
    };
    let result = block_on(lab.attack(handle, &x, 2, &request)).unwrap();
    assert_eq!(result.steps.len(), 101);
    let mut size = 0.2f32;
    for (k, step) in result.steps.iter().enumerate() {
        let loss = step.loss.expect("APGD reports its loss");
        let expected = astute_engine_api::cross_entropy(&step.logits, 2);
        let loss = f64::from(loss);
        assert!(
            (loss - expected).abs() < 1e-3 * expected.abs().max(1.0),
            "step {k}"
        );
        assert_eq!(step.step_size, Some(size), "step {k}");
        if step.halved {
            // Halvings happen only at the reference checkpoints (0-based iteration i is
            // step i + 1, the start being step 0).
            assert!(
                astute::attack::Apgd::checkpoints(100).contains(&(k - 1)),
                "halved after step {k}"
            );
            size *= 0.5;
        }
    }
}

/// APGD-T without a chosen class tries the classes ranked 2nd, 3rd, … in turn and shows the
/// last run: toward the class that fooled the model, or the last one tried.
#[test]
fn apgd_t_names_the_target_of_the_run_it_shows() {
    let (lab, handle, _) = lab();
    let x = images(1, 13);
    let clean = block_on(lab.logits(handle, &x)).unwrap();
    let mut ranked: Vec<usize> = (0..10).collect();
    ranked.sort_by(|&a, &b| clean[b].total_cmp(&clean[a]));
    let label = ranked[0] as u8;
    let request = AttackRequest {
        steps: 20,
        restarts: 1,
        ..request(AttackKind::ApgdT)
    };
    let result = block_on(lab.attack(handle, &x, label, &request)).unwrap();
    let target = result.target.expect("APGD-T names its target");
    let fooled = astute_engine_api::prediction(&result.adversarial_logits) != usize::from(label);
    let position = ranked.iter().position(|&c| c == target).unwrap();
    if fooled {
        assert!((1..=9).contains(&position));
    } else {
        assert_eq!(position, 9, "every target tried, the last one shown");
    }
}

/// The playground's samples and a shipped model: the engine's curve under APGD-CE and under
/// AutoAttack-lite gives exactly what `astute eval --attack apgd-ce|apgd` measures with the
/// same seed, in other batches.
#[test]
fn the_apgd_curve_is_astute_evals() {
    use astute::api::AttackName;
    use astute::metric::{Attack, robust_accuracy};

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../static/playground");
    let read = |path: &str| std::fs::read(root.join(path)).unwrap();
    let images = astute::data::idx::parse_images(read("samples/fashion-mnist-images.idx")).unwrap();
    let labels = astute::data::idx::parse_labels(read("samples/fashion-mnist-labels.idx")).unwrap();
    let n = 30;
    let pixels: Vec<f32> = images.pixels[..n * PIXELS]
        .iter()
        .map(|&p| f32::from(p) / 255.0)
        .collect();
    let labels = &labels[..n];
    let device = Device::flex();
    let lab = Lab::new(device.clone());
    let weights = read("models/fashion-mnist-trades6-plain.safetensors");
    let handle = lab.load(weights.clone()).unwrap();
    let autodiff = device.clone().autodiff();
    let (network, config) = astute::weights::from_bytes(weights, None, &autodiff).unwrap();
    let network = astute::attack::eval_copy(&network);
    let data = astute::data::Dataset::new(
        config.input,
        images.pixels[..n * PIXELS].to_vec(),
        labels.iter().map(|&l| u16::from(l)).collect(),
        (0..10).map(|c| c.to_string()).collect(),
    )
    .unwrap();
    let (epsilon, seed) = (0.15, 21);
    for (curve, name) in [
        (CurveAttack::ApgdCe, AttackName::ApgdCe),
        (CurveAttack::Apgd, AttackName::Apgd),
    ] {
        let engine = block_on(lab.curve(handle, &pixels, labels, &[epsilon], curve, seed)).unwrap();
        let native = robust_accuracy(
            &network,
            &data,
            &Attack::new(name, epsilon, seed),
            7,
            &autodiff,
        );
        assert!(
            0.0 < native && native < 100.0,
            "{name}: {native} % leaves nothing to compare"
        );
        assert_eq!(engine[0].accuracy, native, "{name}");
    }
}
