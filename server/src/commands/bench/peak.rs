//! What the achieved GFLOP/s of a step is set against: the machine's arithmetic peak,
//! measured as independent fused multiply–adds on every thread at once, and the
//! arithmetic of one CNN2 training step counted layer by layer.

/// FLOPs of one natural CNN2 training step per 28×28 image: the multiply–adds of the
/// forward pass, as many again for the weight gradients, and as many for the input
/// gradients of every layer but the first (the images need none); two FLOPs each.
pub fn cnn2_step_flops() -> f64 {
    // (inputs, outputs, kernel², output pixels) of each layer; a linear layer is a 1×1
    // "convolution" over one pixel.
    let layers: [(usize, usize, usize, usize); 7] = [
        (1, 32, 9, 26 * 26),
        (32, 32, 9, 24 * 24),
        (32, 64, 9, 10 * 10),
        (64, 64, 9, 8 * 8),
        (64 * 4 * 4, 200, 1, 1),
        (200, 200, 1, 1),
        (200, 10, 1, 1),
    ];
    let macs = |&(inputs, outputs, kernel, pixels): &(usize, usize, usize, usize)| {
        (inputs * outputs * kernel * pixels) as f64
    };
    let forward: f64 = layers.iter().map(macs).sum();
    let input_gradients = forward - macs(&layers[0]);
    2.0 * (forward + forward + input_gradients)
}

/// GFLOP/s of fused multiply–adds with the widest vectors the CPU offers, on every thread
/// of the pool at once, and the instruction set used; `None` where none is known here.
pub fn fma_peak() -> Option<(f64, &'static str)> {
    #[cfg(target_arch = "x86_64")]
    {
        let (run, name): (fn(u64) -> f32, &str) = if is_x86_feature_detected!("avx512f") {
            (x86::fma_avx512, "AVX-512")
        } else if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            (x86::fma_avx2, "AVX2")
        } else {
            return None;
        };
        let lanes = if name == "AVX-512" { 16 } else { 8 };
        const ITERATIONS: u64 = 40_000_000;
        let started = web_time::Instant::now();
        let sums = rayon::broadcast(|_| run(ITERATIONS));
        let seconds = started.elapsed().as_secs_f64();
        let flops = (sums.len() as u64 * ITERATIONS * x86::CHAINS as u64 * lanes * 2) as f64;
        // The sums are printed nowhere but keep the loops from being optimised away.
        std::hint::black_box(sums);
        Some((flops / seconds / 1e9, name))
    }
    #[cfg(not(target_arch = "x86_64"))]
    None
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// Independent accumulators: enough to cover the FMA latency on both FMA ports.
    pub const CHAINS: usize = 12;

    pub fn fma_avx512(iterations: u64) -> f32 {
        // SAFETY: only called after `is_x86_feature_detected!("avx512f")`.
        unsafe { fma_avx512_inner(iterations) }
    }

    pub fn fma_avx2(iterations: u64) -> f32 {
        // SAFETY: only called after detecting AVX2 and FMA.
        unsafe { fma_avx2_inner(iterations) }
    }

    #[target_feature(enable = "avx512f")]
    fn fma_avx512_inner(iterations: u64) -> f32 {
        let (a, b) = (_mm512_set1_ps(0.999_999), _mm512_set1_ps(1e-7));
        let mut chains = [_mm512_set1_ps(1.0); CHAINS];
        for _ in 0..iterations {
            for chain in &mut chains {
                *chain = _mm512_fmadd_ps(*chain, a, b);
            }
        }
        chains
            .iter()
            .map(|&chain| _mm512_reduce_add_ps(chain))
            .sum()
    }

    #[target_feature(enable = "avx2,fma")]
    fn fma_avx2_inner(iterations: u64) -> f32 {
        let (a, b) = (_mm256_set1_ps(0.999_999), _mm256_set1_ps(1e-7));
        let mut chains = [_mm256_set1_ps(1.0); CHAINS];
        for _ in 0..iterations {
            for chain in &mut chains {
                *chain = _mm256_fmadd_ps(*chain, a, b);
            }
        }
        let mut lanes = [0.0f32; 8];
        let total = chains
            .iter()
            .fold(_mm256_setzero_ps(), |sum, &c| _mm256_add_ps(sum, c));
        // SAFETY: `lanes` holds exactly the 8 floats an unaligned 256-bit store writes.
        unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), total) };
        lanes.iter().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CNN2's step, counted by hand: forward 9,952,400 multiply–adds (conv1 194,688, conv2
    /// 5,308,416, conv3 1,843,200, conv4 2,359,296, fc 204,800 + 40,000 + 2,000).
    #[test]
    fn a_cnn2_step_is_counted_by_hand() {
        let forward = 9_952_400.0;
        assert_eq!(cnn2_step_flops(), 2.0 * (3.0 * forward - 194_688.0));
    }
}
