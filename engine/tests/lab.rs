//! The engine's work on a CNN2 (random weights, written and read as safetensors): every
//! answer checked against the model run directly or against a property it must have.

use astute::burn::prelude::*;
use astute::burn::tensor::TensorData;
use astute::data::ImageShape;
use astute::model::{Architecture, Classifier, NetworkConfig};
use astute_engine::Lab;
use astute_engine_api::{AttackKind, AttackRequest, margin};
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
    let whole = block_on(lab.curve(handle, &x, &labels, &epsilons, 11)).unwrap();
    assert_eq!(whole[0].accuracy, 100.0);
    assert!(whole.windows(2).all(|w| w[1].accuracy <= w[0].accuracy));
    // Image i starts from seed + i: two halves with their offsets give the same count.
    let half = n / 2;
    let first =
        block_on(lab.curve(handle, &x[..half * PIXELS], &labels[..half], &epsilons, 11)).unwrap();
    let second = block_on(lab.curve(
        handle,
        &x[half * PIXELS..],
        &labels[half..],
        &epsilons,
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
