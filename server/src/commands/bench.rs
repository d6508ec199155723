//! `astute bench train`: images per second of one CNN2 training step, the figure to set
//! beside `shared/bench/torch_reference.py` (same model, batch and steps).

use astute::attack::eval_copy;
use astute::burn::optim::{GradientsParams, SgdConfig, momentum::MomentumConfig};
use astute::burn::prelude::*;
use astute::burn::tensor::{Distribution, TensorData};
use astute::data::ImageShape;
use astute::method::{Method, MethodContext};
use astute::model::{Architecture, NetworkConfig};

use crate::device::Backend;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long, default_value_t = 64)]
    batch: usize,
    /// Timed steps for AT and TRADES (natural runs five times as many).
    #[arg(long, default_value_t = 20)]
    steps: usize,
    #[arg(long, value_enum, default_value = "cpu")]
    backend: Backend,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let device = args.backend.device()?.autodiff();
    device.seed(0);
    let config = NetworkConfig {
        architecture: Architecture::Cnn2,
        input: ImageShape::new(1, 28, 28),
        classes: 10,
        dropout: 0.5,
    };
    let mut model = config.init(&device).map_err(anyhow::Error::msg)?;
    let mut optimizer = SgdConfig::new()
        .with_momentum(Some(MomentumConfig {
            momentum: 0.9,
            dampening: 0.0,
            nesterov: false,
        }))
        .init();
    let images = Tensor::<4>::random(
        [args.batch, 1, 28, 28],
        Distribution::Uniform(0.0, 1.0),
        &device,
    );
    let labels: Vec<i64> = (0..args.batch as i64).map(|i| i % 10).collect();
    let labels = Tensor::<1, Int>::from_data(TensorData::new(labels, [args.batch]), &device);
    let context = MethodContext::paper(0.1);
    println!(
        "astute (burn flex) batch={} threads={}",
        args.batch,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    for (name, method, steps) in [
        ("natural", Method::Natural, args.steps * 5),
        ("at_pgd10", Method::At, args.steps),
        ("trades10", Method::Trades { beta: 6.0 }, args.steps),
    ] {
        let mut step = |model: astute::model::Network| {
            let attacker = eval_copy(&model);
            let loss = method.loss(&model, &attacker, &images, &labels, &context);
            let _ = loss.clone().into_scalar::<f32>();
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            optimizer.step(0.01, model, grads)
        };
        for _ in 0..3 {
            model = step(model);
        }
        let started = web_time::Instant::now();
        for _ in 0..steps {
            model = step(model);
        }
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "{name}: {:.1} images/s ({:.1} ms/step)",
            (steps * args.batch) as f64 / seconds,
            seconds / steps as f64 * 1000.0
        );
    }
    Ok(())
}
