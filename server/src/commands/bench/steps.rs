//! Images per second of training steps and of the evaluation protocol, measured the way
//! `bench/torch_reference.py` and `bench/torch_eval_reference.py` measure PyTorch (same
//! models, batches, attacks and step counts).

use astute::attack::{Pgd, eval_copy};
use astute::burn::optim::{GradientsParams, SgdConfig, momentum::MomentumConfig};
use astute::burn::prelude::*;
use astute::burn::tensor::{Distribution, TensorData};
use astute::data::{Dataset, ImageShape};
use astute::method::{Method, MethodContext};
use astute::metric::{Attack, Lipschitz, evaluate};
use astute::model::{Architecture, Network, NetworkConfig};

/// One training-step benchmark: `steps` steps of `method` (after `warm_up` untimed ones)
/// on a fresh network, random images in [0, 1] and labels `i mod 10`, with SGD (momentum 0.9,
/// learning rate 0.01) as the reference.
#[derive(Debug, Clone, Copy)]
pub struct Steps {
    pub architecture: Architecture,
    pub input: ImageShape,
    pub method: Method,
    pub epsilon: f32,
    pub batch: usize,
    pub warm_up: usize,
    pub steps: usize,
}

impl Steps {
    /// Images per second.
    pub fn run(&self, device: &Device) -> anyhow::Result<f64> {
        let device = device.clone().autodiff();
        let mut model = network(self.architecture, self.input, &device)?;
        let [channels, height, width] = [self.input.channels, self.input.height, self.input.width];
        let images = Tensor::<4>::random(
            [self.batch, channels, height, width],
            Distribution::Uniform(0.0, 1.0),
            &device,
        );
        let labels: Vec<i64> = (0..self.batch as i64).map(|i| i % 10).collect();
        let labels = Tensor::<1, Int>::from_data(TensorData::new(labels, [self.batch]), &device);
        let context = MethodContext::paper(self.epsilon);
        let mut optimizer = SgdConfig::new()
            .with_momentum(Some(MomentumConfig {
                momentum: 0.9,
                dampening: 0.0,
                nesterov: false,
            }))
            .init();
        let mut step = |model: Network| {
            let attacker = eval_copy(&model);
            let loss =
                astute::method::loss(self.method, &model, &attacker, &images, &labels, &context);
            let _ = loss.clone().into_scalar::<f32>();
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            optimizer.step(0.01, model, grads)
        };
        for _ in 0..self.warm_up {
            model = step(model);
        }
        let started = web_time::Instant::now();
        for _ in 0..self.steps {
            model = step(model);
        }
        Ok((self.steps * self.batch) as f64 / started.elapsed().as_secs_f64())
    }
}

/// Images per second of the paper's evaluation (clean pass, PGD-10, Eq. (3)) of a CNN2 on
/// `n` random 28×28 images, in batches of 500.
pub fn evaluation(device: &Device, n: usize) -> anyhow::Result<f64> {
    let device = &device.clone().autodiff();
    let model = network(Architecture::Cnn2, ImageShape::new(1, 28, 28), device)?;
    let pixels: Vec<u8> = (0..n * 28 * 28)
        .map(|i| ((i * 2654435761) >> 13) as u8)
        .collect();
    let labels: Vec<u16> = (0..n as u16).map(|i| i % 10).collect();
    let names = (0..10).map(|c| format!("class {c}")).collect();
    let data = Dataset::new(ImageShape::new(1, 28, 28), pixels, labels, names)?;
    let epsilon = 0.1;
    let started = web_time::Instant::now();
    evaluate(
        &eval_copy(&model),
        &data,
        &Attack::SeededPgd {
            pgd: Pgd::paper(epsilon),
            seed: 0,
        },
        &Lipschitz::paper(epsilon),
        500,
        device,
    );
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

/// A freshly initialised network with 10 classes and dropout 0.5 (the reference's).
pub fn network(
    architecture: Architecture,
    input: ImageShape,
    device: &Device,
) -> anyhow::Result<Network> {
    let dropout = if architecture == Architecture::Cnn2 {
        0.5
    } else {
        0.0
    };
    NetworkConfig {
        architecture,
        input,
        classes: 10,
        dropout,
    }
    .init(device)
    .map_err(anyhow::Error::msg)
}
