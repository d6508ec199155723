//! Astute's CPU kernels (natively and in WebAssembly): when they apply to a layer, and
//! the calls into the burn extension that runs them.

pub mod conv;
mod extension;
mod matmul;
pub mod pool;
mod select;
mod workers;

use burn::backend::ops::ConvOptions;
use burn::backend::{Dispatch, DispatchDevice};
use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2d;
use burn::nn::pool::MaxPool2d;
use burn::prelude::*;
use burn::tensor::DType;

use super::{Kernels, selected};
use extension::CpuKernels;
use pool::PoolShape;

/// On the CPU backend, in f32, with the process set to Astute's kernels.
fn applies(x: &Tensor<4>) -> bool {
    selected() == Kernels::Astute
        && x.dtype() == DType::F32
        && matches!(x.device().inner().as_dispatch(), DispatchDevice::Flex(_))
}

/// The options of `conv` applied to `x` when the kernels compute it: one group, no
/// dilation, explicit or no padding, matching channels and an input at least as large
/// as the kernel.
pub(super) fn conv_options(conv: &Conv2d, x: &Tensor<4>) -> Option<ConvOptions<2>> {
    let weight = conv.weight.val();
    if !applies(x) || weight.dtype() != DType::F32 || conv.groups != 1 {
        return None;
    }
    if conv.dilation != [1, 1] {
        return None;
    }
    let padding = match conv.padding {
        PaddingConfig2d::Valid => [(0, 0), (0, 0)],
        PaddingConfig2d::Explicit(top, left, bottom, right) => [(top, bottom), (left, right)],
        PaddingConfig2d::Same => return None,
    };
    let [_, channels, height, width] = x.dims();
    let [_, weight_channels, kh, kw] = weight.dims();
    let fits =
        height + padding[0].0 + padding[0].1 >= kh && width + padding[1].0 + padding[1].1 >= kw;
    (channels == weight_channels && fits)
        .then(|| ConvOptions::new_with_padding(conv.stride, padding, [1, 1], 1))
}

pub(super) fn conv2d(
    conv: &Conv2d,
    x: Tensor<4>,
    options: ConvOptions<2>,
    relu: bool,
) -> Tensor<4> {
    let weight = conv.weight.val();
    let bias = match &conv.bias {
        Some(bias) => bias.val(),
        None => Tensor::zeros([weight.dims()[0]], &weight.device()),
    };
    Tensor::from_dispatch(<Dispatch as CpuKernels>::astute_conv2d(
        x.into_dispatch(),
        weight.into_dispatch(),
        bias.into_dispatch(),
        options,
        relu,
    ))
}

/// Non-overlapping windows (stride = kernel) without padding or dilation, that fit.
pub(super) fn pool_applies(pool: &MaxPool2d, x: &Tensor<4>) -> bool {
    let [batch, channels, height, width] = x.dims();
    let shape = PoolShape {
        batch,
        channels,
        height,
        width,
        kernel: pool.kernel_size,
    };
    let unpadded = matches!(
        pool.padding,
        PaddingConfig2d::Valid | PaddingConfig2d::Explicit(0, 0, 0, 0)
    );
    applies(x)
        && unpadded
        && pool.stride == pool.kernel_size
        && pool.dilation == [1, 1]
        && shape.is_supported()
}

pub(super) fn max_pool2d(pool: &MaxPool2d, x: Tensor<4>) -> Tensor<4> {
    Tensor::from_dispatch(<Dispatch as CpuKernels>::astute_max_pool2d(
        x.into_dispatch(),
        pool.kernel_size,
    ))
}
