//! The layers whose CPU kernels are Astute's own: 2-D convolution (optionally through a
//! ReLU) and max pooling, with backward passes of their own, plugged into burn's CPU
//! backend as an extension.
//!
//! A convolution's three passes are each the GEMM they are (im2col · W, Wᵀ · dY then
//! col2im, dY · colᵀ summed over the batch) on the `gemm` crate, parallel over the batch,
//! with scratch buffers reused across calls. burn's CPU backend has no convolution
//! backward of its own: it computes the input gradient through a transposed 3-D
//! convolution and the weight gradient through a convolution of the swapped batch, whose
//! GEMM has an output side of kernel² and a contraction over the whole feature map. Those
//! two were most of every training and attack step.
//!
//! Models call [`conv2d`], [`conv2d_relu`] and [`max_pool2d`] instead of the burn modules'
//! `forward`. On the CPU backend (natively and in WebAssembly, with or without autodiff)
//! they run these kernels; on every other backend (wgpu, CUDA), and for configurations the
//! kernels do not cover (groups, dilation, `Same` padding, non-f32 data), burn's own.

#[cfg(any(feature = "flex", feature = "flex-wasm"))]
pub mod cpu;

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use burn::nn::conv::Conv2d;
use burn::nn::pool::MaxPool2d;
use burn::prelude::*;
use burn::tensor::activation::relu;

/// `conv.forward(x)`.
pub fn conv2d(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    #[cfg(any(feature = "flex", feature = "flex-wasm"))]
    if let Some(options) = cpu::conv_options(conv, &x) {
        return cpu::conv2d(conv, x, options, false);
    }
    conv.forward(x)
}

/// `relu(conv.forward(x))`, the ReLU fused into the convolution on the CPU.
pub fn conv2d_relu(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    #[cfg(any(feature = "flex", feature = "flex-wasm"))]
    if let Some(options) = cpu::conv_options(conv, &x) {
        return cpu::conv2d(conv, x, options, true);
    }
    relu(conv.forward(x))
}

/// `pool.forward(x)`.
pub fn max_pool2d(pool: &MaxPool2d, x: Tensor<4>) -> Tensor<4> {
    #[cfg(any(feature = "flex", feature = "flex-wasm"))]
    if cpu::pool_applies(pool, &x) {
        return cpu::max_pool2d(pool, x);
    }
    pool.forward(x)
}

/// Which kernels compute these layers on the CPU backend, for the whole process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernels {
    /// Astute's (the default).
    Astute,
    /// burn's own, to compare against: `astute bench` measures both, tests train with both.
    Burn,
}

static BURN_KERNELS: AtomicBool = AtomicBool::new(false);

pub fn select(kernels: Kernels) {
    BURN_KERNELS.store(kernels == Kernels::Burn, Ordering::Relaxed);
}

pub fn selected() -> Kernels {
    if BURN_KERNELS.load(Ordering::Relaxed) {
        Kernels::Burn
    } else {
        Kernels::Astute
    }
}

/// How many convolution passes of each kind Astute's kernels have run in this process: an
/// attack on a frozen model must add input gradients and no weight gradients.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Passes {
    pub forward: u64,
    pub input_gradient: u64,
    pub weight_gradient: u64,
}

static PASSES: [AtomicU64; 3] = [const { AtomicU64::new(0) }; 3];

pub fn passes() -> Passes {
    let [forward, input_gradient, weight_gradient] =
        PASSES.each_ref().map(|count| count.load(Ordering::Relaxed));
    Passes {
        forward,
        input_gradient,
        weight_gradient,
    }
}

#[derive(Debug, Clone, Copy)]
enum Pass {
    Forward = 0,
    InputGradient = 1,
    WeightGradient = 2,
}

fn count(pass: Pass) {
    PASSES[pass as usize].fetch_add(1, Ordering::Relaxed);
}
