//! Helpers shared by the integration tests: small deterministic data and models.

#![allow(dead_code)]

use astute::burn::prelude::*;
use astute::data::{Dataset, ImageShape};
use astute::train::{TrainConfig, TrainOptions, Trained, train};

pub fn cpu() -> Device {
    Device::flex()
}

/// `config` trained on `data` on the CPU, without checkpoints or progress.
pub fn train_quietly(config: &TrainConfig, data: &Dataset) -> Trained {
    train(
        config,
        data,
        &cpu(),
        TrainOptions {
            checkpoint_dir: None,
            on_event: &mut |_| {},
            cancel: None,
        },
    )
    .unwrap()
}

/// `n` images of `shape` whose label is decided by the mean brightness of the left half,
/// so a small CNN can learn it; deterministic in `seed`.
pub fn toy_dataset(n: usize, shape: ImageShape, classes: usize, seed: u64) -> Dataset {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as u32
    };
    let mut images = Vec::with_capacity(n * shape.len());
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let label = (i % classes) as u16;
        let level = (255 * (usize::from(label) + 1) / (classes + 1)) as i32;
        for p in 0..shape.len() {
            let x = p % shape.width;
            let noise = (next() % 61) as i32 - 30;
            let v = if x < shape.width / 2 {
                level + noise
            } else {
                (next() % 256) as i32
            };
            images.push(v.clamp(0, 255) as u8);
        }
        labels.push(label);
    }
    let names = (0..classes).map(|c| format!("class {c}")).collect();
    Dataset::new(shape, images, labels, names).unwrap()
}

/// Every float of every parameter of a module, in order.
pub fn flat_weights<M: Module>(module: &M) -> Vec<f32> {
    use astute::burn::module::ModuleVisitor;
    use astute::burn::module::Param;
    struct Collect(Vec<f32>);
    impl ModuleVisitor for Collect {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.0
                .extend(param.val().into_data().try_to_vec::<f32>().unwrap());
        }
    }
    let mut c = Collect(Vec::new());
    module.visit(&mut c);
    c.0
}

/// Burn's random numbers come from one generator per device, shared by every thread of
/// the process: tests that compare seeded runs take this lock so that no other test draws
/// from the generator in between.
pub fn device_rng_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Where two weight vectors first differ, for a readable failure.
pub fn first_difference(a: &[f32], b: &[f32]) -> Option<(usize, f32, f32)> {
    if a.len() != b.len() {
        return Some((a.len().min(b.len()), f32::NAN, f32::NAN));
    }
    a.iter()
        .zip(b)
        .enumerate()
        .find(|(_, (x, y))| x.to_bits() != y.to_bits())
        .map(|(i, (x, y))| (i, *x, *y))
}

/// `n` numbers in [0, 1) from a linear congruential generator seeded with `seed`: data
/// that needs no generator crate and is the same everywhere.
pub fn pseudo_random(n: usize, seed: u32) -> Vec<f32> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (s >> 8) as f32 / (1u32 << 24) as f32
        })
        .collect()
}
