//! Astute's CPU kernels one pass at a time, on the shapes of CNN2 at batch 64: where a
//! training step's time goes, and each pass's rate against the GEMM's own on the same
//! product.
//!
//! `cargo bench -p astute --bench kernels` (`ASTUTE_BENCH_BATCH` sets the batch).

use std::time::Instant;

use astute::ops::cpu::conv::{self, ConvShape};
use astute::ops::cpu::pool::{self, PoolShape};

/// The median of `rounds` timings of `work`, in milliseconds.
fn time(rounds: usize, mut work: impl FnMut()) -> f64 {
    work();
    let mut times: Vec<f64> = (0..rounds)
        .map(|_| {
            let started = Instant::now();
            work();
            started.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[rounds / 2]
}

fn values(len: usize, seed: usize) -> Vec<f32> {
    (0..len)
        .map(|i| ((i * 2654435761 + seed) % 1000) as f32 / 500.0 - 1.0)
        .collect()
}

fn main() {
    let batch: usize = std::env::var("ASTUTE_BENCH_BATCH")
        .ok()
        .and_then(|b| b.parse().ok())
        .unwrap_or(64);
    println!(
        "CNN2 layers, batch {batch}, {} threads (median of 15)",
        rayon::current_num_threads()
    );
    println!("{:<36} {:>9} {:>10}", "pass", "ms", "GFLOP/s");
    let mut total = 0.0;
    for (name, channels, side, filters) in [
        ("conv1 1→32 28²", 1, 28, 32),
        ("conv2 32→32 26²", 32, 26, 32),
        ("conv3 32→64 12²", 32, 12, 64),
        ("conv4 64→64 10²", 64, 10, 64),
    ] {
        let shape = ConvShape {
            batch,
            channels,
            height: side,
            width: side,
            filters,
            kernel: [3, 3],
            stride: [1, 1],
            padding: [(0, 0); 2],
        };
        let x = values(batch * shape.image_len(), 1);
        let weight = values(filters * shape.patch_len(), 2);
        let bias = values(filters, 3);
        let dy = values(batch * shape.out_image_len(), 4);
        let flops = 2.0 * (batch * filters * shape.patch_len() * shape.out_pixels()) as f64;
        let y = conv::forward(&x, &weight, Some(&bias), true, &shape);
        let needed = |input, weight| conv::Needed {
            input,
            weight,
            bias: weight,
        };
        let backward = |needed| {
            time(15, || {
                drop(conv::backward(&x, &weight, &dy, Some(&y), needed, &shape))
            })
        };
        let passes = [
            (
                "forward + ReLU",
                1.0,
                time(15, || {
                    drop(conv::forward(&x, &weight, Some(&bias), true, &shape))
                }),
            ),
            ("backward, input", 1.0, backward(needed(true, false))),
            ("backward, weight", 1.0, backward(needed(false, true))),
            ("backward, both", 2.0, backward(needed(true, true))),
        ];
        for (pass, products, ms) in passes {
            let rate = products * flops / ms / 1e6;
            println!("{:<36} {ms:>9.3} {rate:>10.1}", format!("{name} {pass}"));
        }
        total += passes[0].2 + passes[3].2;
    }
    for (name, channels, side) in [("pool1 32×24²", 32, 24), ("pool2 64×8²", 64, 8)] {
        let shape = PoolShape {
            batch,
            channels,
            height: side,
            width: side,
            kernel: [2, 2],
        };
        // The input a CNN2 pools: a convolution's ReLU output (ties at zero, spatially smooth).
        let conv = ConvShape {
            batch,
            channels,
            height: side + 2,
            width: side + 2,
            filters: channels,
            kernel: [3, 3],
            stride: [1, 1],
            padding: [(0, 0); 2],
        };
        let x = conv::forward(
            &values(batch * conv.image_len(), 7),
            &values(channels * conv.patch_len(), 8),
            None,
            true,
            &conv,
        );
        let forward = time(15, || drop(pool::max_pool(&x, &shape)));
        let (_, picks) = pool::max_pool(&x, &shape);
        let dy = values(picks.len(), 6);
        let backward = time(15, || drop(pool::max_pool_backward(&picks, &dy, &shape)));
        println!("{:<36} {forward:>9.3}", format!("{name} forward"));
        println!("{:<36} {backward:>9.3}", format!("{name} backward"));
        total += forward + backward;
    }
    println!("{:<36} {total:>9.3}", "a training step's passes");
}
