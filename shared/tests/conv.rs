//! Astute's CPU kernels against burn's own: the convolution's forward pass, input gradient
//! and weight gradient (alone and through a fused ReLU) and max pooling with its gradient,
//! on random shapes; and attacks that compute no weight gradients.

mod common;

use astute::attack::{Pgd, eval_copy};
use astute::burn::module::Param;
use astute::burn::nn::PaddingConfig2d;
use astute::burn::nn::conv::Conv2d;
use astute::burn::nn::pool::MaxPool2dConfig;
use astute::burn::prelude::*;
use astute::burn::tensor::activation::relu;
use astute::burn::tensor::module::conv2d as burn_conv2d;
use astute::burn::tensor::ops::ConvOptions;
use astute::burn::tensor::{Distribution, TensorData};
use astute::data::ImageShape;
use astute::model::{Architecture, Classifier, NetworkConfig};
use astute::ops::{conv2d, conv2d_relu, max_pool2d, passes};
use rand::{RngExt, SeedableRng, rngs::StdRng};

/// The pass counters are process-wide: tests that read them run one at a time.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[derive(Debug, Clone, Copy)]
struct Case {
    batch: usize,
    channels: usize,
    filters: usize,
    height: usize,
    width: usize,
    kernel: usize,
    stride: usize,
    /// top, left, bottom, right
    padding: [usize; 4],
    bias: bool,
}

fn random_case(rng: &mut StdRng) -> Case {
    let kernel = [1, 3, 5][rng.random_range(0..3)];
    let padding = if rng.random_bool(0.2) {
        [0; 4].map(|_| rng.random_range(0..=2))
    } else {
        [rng.random_range(0..=2); 4]
    };
    // Odd sides from 5 to 19.
    let height = 2 * rng.random_range(2..=9) + 1;
    let width = 2 * rng.random_range(2..=9) + 1;
    Case {
        batch: rng.random_range(1..=70),
        channels: rng.random_range(1..=67),
        filters: rng.random_range(1..=67),
        height,
        width,
        kernel,
        stride: rng.random_range(1..=2),
        padding,
        bias: rng.random_bool(0.8),
    }
}

/// `max |a − b| ≤ 1e-4 · max |b|`: relative to the reference's scale, since summing in
/// another order moves near-zero entries by more than their own size.
fn assert_close(
    name: &str,
    case: &(impl core::fmt::Debug + ?Sized),
    ours: Tensor<4>,
    reference: Tensor<4>,
) {
    assert_eq!(ours.dims(), reference.dims(), "{name} shape, {case:?}");
    let ours = ours.into_data().try_to_vec::<f32>().unwrap();
    let reference = reference.into_data().try_to_vec::<f32>().unwrap();
    let scale = reference.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let error = ours
        .iter()
        .zip(&reference)
        .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(
        error <= 1e-4 * scale,
        "{name}: max error {error} at scale {scale}, {case:?}"
    );
}

#[test]
fn forward_and_both_gradients_equal_burns_convolution_on_random_shapes() {
    let _serial = serial();
    let device = Device::flex().autodiff();
    let mut rng = StdRng::seed_from_u64(13);
    for _ in 0..40 {
        let case = random_case(&mut rng);
        let random =
            |shape: Vec<usize>| Tensor::<4>::random(shape, Distribution::Normal(0.0, 1.0), &device);
        let x = random(vec![case.batch, case.channels, case.height, case.width]);
        let weight = random(vec![case.filters, case.channels, case.kernel, case.kernel]);
        let bias = Tensor::<1>::random([case.filters], Distribution::Normal(0.0, 1.0), &device);
        let [top, left, bottom, right] = case.padding;
        let options = ConvOptions::new_with_padding(
            [case.stride; 2],
            [(top, bottom), (left, right)],
            [1, 1],
            1,
        );

        // Where a pre-activation lies within rounding of 0, the two implementations may
        // put it on either side of ReLU's kink, where the derivative is undefined: with
        // ReLU the output gradient is 0 there (10× the forward tolerance keeps the sides
        // apart).
        let pre = burn_conv2d(
            x.clone().detach(),
            weight.clone().detach(),
            case.bias.then(|| bias.clone().detach()),
            options.clone(),
        );
        let kink = 1e-3 * pre.clone().abs().max().into_scalar::<f32>();
        let near_kink = pre.abs().lower_equal_elem(kink);
        let run = |astute: bool, fused_relu: bool| {
            let x = x.clone().detach().require_grad();
            let w = weight.clone().detach().require_grad();
            let b = bias.clone().detach().require_grad();
            let y = if astute {
                let conv = Conv2d {
                    weight: Param::from_tensor(w.clone()),
                    bias: case.bias.then(|| Param::from_tensor(b.clone())),
                    stride: [case.stride; 2],
                    kernel_size: [case.kernel; 2],
                    dilation: [1, 1],
                    groups: 1,
                    padding: PaddingConfig2d::Explicit(top, left, bottom, right),
                };
                if fused_relu {
                    conv2d_relu(&conv, x.clone())
                } else {
                    conv2d(&conv, x.clone())
                }
            } else {
                let y = burn_conv2d(
                    x.clone(),
                    w.clone(),
                    case.bias.then(|| b.clone()),
                    options.clone(),
                );
                if fused_relu { relu(y) } else { y }
            };
            // A fixed random output gradient: the loss Σ y ⊙ r has ∂loss/∂y = r.
            let r = Tensor::<4>::from_data(
                TensorData::new(
                    (0..y.shape().num_elements())
                        .map(|i| ((i * 7919) % 101) as f32 / 50.0 - 1.0)
                        .collect::<Vec<_>>(),
                    y.shape(),
                ),
                &device,
            );
            let r = if fused_relu {
                r.mask_fill(near_kink.clone(), 0.0)
            } else {
                r
            };
            let grads = (y.clone() * r).sum().backward();
            let dx = x.grad(&grads).unwrap();
            let dw = w.grad(&grads).unwrap();
            let db = case.bias.then(|| b.grad(&grads).unwrap());
            (y.inner(), dx, dw, db)
        };
        for fused_relu in [false, true] {
            let before = passes();
            let (y, dx, dw, db) = run(true, fused_relu);
            let after = passes();
            assert_eq!(
                (
                    after.forward - before.forward,
                    after.weight_gradient - before.weight_gradient
                ),
                (1, 1),
                "Astute's kernels did not run for {case:?}"
            );
            let (y_ref, dx_ref, dw_ref, db_ref) = run(false, fused_relu);
            let case = &format!("{case:?}, ReLU {fused_relu}");
            assert_close("forward", case, y, y_ref);
            assert_close("input gradient", case, dx, dx_ref);
            assert_close("weight gradient", case, dw, dw_ref);
            if let (Some(db), Some(db_ref)) = (db, db_ref) {
                let filters = db.dims()[0];
                let as_4d = |t: Tensor<1>| t.reshape([1, 1, 1, filters]);
                assert_close("bias gradient", case, as_4d(db), as_4d(db_ref));
            }
        }
    }
}

/// Max pooling over non-overlapping windows, and its gradient, equal burn's on random
/// shapes (odd sides leave rows and columns out of every window).
#[test]
fn max_pooling_and_its_gradient_equal_burns_on_random_shapes() {
    let _serial = serial();
    let device = Device::flex().autodiff();
    let mut rng = StdRng::seed_from_u64(17);
    for _ in 0..30 {
        let kernel = [rng.random_range(1..=3), rng.random_range(1..=3)];
        let dims = [
            rng.random_range(1..=20),
            rng.random_range(1..=40),
            rng.random_range(kernel[0]..=19),
            rng.random_range(kernel[1]..=19),
        ];
        // ReLU outputs: ties at zero, as the CNNs pool them.
        let x = relu(Tensor::<4>::random(
            dims,
            Distribution::Normal(0.0, 1.0),
            &device,
        ));
        let pool = MaxPool2dConfig::new(kernel).init();
        let out = [dims[0], dims[1], dims[2] / kernel[0], dims[3] / kernel[1]];
        let r = Tensor::<4>::random(out, Distribution::Uniform(-1.0, 1.0), &device);
        let run = |astute: bool| {
            let x = x.clone().detach().require_grad();
            let y = if astute {
                max_pool2d(&pool, x.clone())
            } else {
                pool.forward(x.clone())
            };
            let grads = (y.clone() * r.clone()).sum().backward();
            (y.inner(), x.grad(&grads).unwrap())
        };
        let (y, dx) = run(true);
        let (y_ref, dx_ref) = run(false);
        let case = &format!("pool {kernel:?} of {dims:?}");
        assert_close("forward", case, y, y_ref);
        assert_close("input gradient", case, dx, dx_ref);
    }
}

/// The forward pass off autodiff (evaluation, `predict`) agrees too.
#[test]
fn forward_without_autodiff_equals_burns() {
    let _serial = serial();
    let device = Device::flex();
    let x = Tensor::<4>::random([3, 5, 11, 9], Distribution::Uniform(0.0, 1.0), &device);
    let conv = astute::burn::nn::conv::Conv2dConfig::new([5, 7], [3, 3])
        .with_stride([2, 1])
        .with_padding(PaddingConfig2d::Explicit(1, 2, 1, 0))
        .init(&device);
    let before = passes().forward;
    let ours = conv2d(&conv, x.clone());
    assert_eq!(passes().forward, before + 1);
    let case = Case {
        batch: 3,
        channels: 5,
        filters: 7,
        height: 11,
        width: 9,
        kernel: 3,
        stride: 2,
        padding: [1, 2, 1, 0],
        bias: true,
    };
    assert_close("forward (no autodiff)", &case, ours, conv.forward(x));
}

/// A PGD attack runs on a frozen copy: its backward passes ask for the input's gradient
/// only, so it adds input gradients (one per convolution and step, the first layer's
/// included since the images are the input) and not one weight gradient.
#[test]
fn attacks_compute_no_weight_gradients() {
    let _serial = serial();
    let device = Device::flex().autodiff();
    let model = NetworkConfig {
        architecture: Architecture::Cnn2,
        input: ImageShape::new(1, 28, 28),
        classes: 10,
        dropout: 0.0,
    }
    .init(&device)
    .unwrap();
    let images = Tensor::<4>::random([4, 1, 28, 28], Distribution::Uniform(0.0, 1.0), &device);
    let labels = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64, 1, 2, 3], [4]), &device);
    let attacker = eval_copy(&model);
    let before = passes();
    let adversarial = Pgd::paper(0.1).attack(&attacker, &images, &labels);
    let after = passes();
    assert_eq!(adversarial.dims(), [4, 1, 28, 28]);
    assert_eq!(after.weight_gradient - before.weight_gradient, 0);
    assert_eq!(after.input_gradient - before.input_gradient, 4 * 10);
    assert_eq!(after.forward - before.forward, 4 * 10);

    // Training the model itself computes every weight gradient: one per convolution.
    let before = passes().weight_gradient;
    let loss = model.forward(images).sum();
    let _ = loss.backward();
    assert_eq!(passes().weight_gradient - before, 4);
}
