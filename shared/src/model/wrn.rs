//! Pre-activation wide residual networks (Zagoruyko & Komodakis), the CIFAR-10 / SVHN model.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AdaptiveAvgPool2d, AdaptiveAvgPool2dConfig};
use burn::nn::{
    BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig2d,
};
use burn::prelude::*;
use burn::tensor::activation::relu;

use super::Classifier;
use crate::ops::conv2d;

fn conv(input: usize, output: usize, kernel: usize, stride: usize, device: &Device) -> Conv2d {
    let pad = kernel / 2;
    Conv2dConfig::new([input, output], [kernel, kernel])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
        .with_bias(false)
        .init(device)
}

/// BN-ReLU-conv3×3-dropout-BN-ReLU-conv3×3 with an identity or 1×1 shortcut.
#[derive(Module, Debug)]
pub struct WideBlock {
    bn1: BatchNorm,
    conv1: Conv2d,
    dropout: Dropout,
    bn2: BatchNorm,
    conv2: Conv2d,
    shortcut: Option<Conv2d>,
}

impl WideBlock {
    fn new(input: usize, output: usize, stride: usize, dropout: f64, device: &Device) -> Self {
        Self {
            bn1: BatchNormConfig::new(input).init(device),
            conv1: conv(input, output, 3, stride, device),
            dropout: DropoutConfig::new(dropout).init(),
            bn2: BatchNormConfig::new(output).init(device),
            conv2: conv(output, output, 3, 1, device),
            shortcut: (input != output || stride != 1)
                .then(|| conv(input, output, 1, stride, device)),
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let activated = relu(self.bn1.forward(x.clone()));
        let residual = match &self.shortcut {
            Some(shortcut) => conv2d(shortcut, activated.clone()),
            None => x,
        };
        let y = self.dropout.forward(conv2d(&self.conv1, activated));
        let y = conv2d(&self.conv2, relu(self.bn2.forward(y)));
        y + residual
    }
}

/// WRN-depth-width; depth = 6n + 4 gives n blocks per group.
#[derive(Module, Debug)]
pub struct Wrn {
    stem: Conv2d,
    blocks: Vec<WideBlock>,
    bn: BatchNorm,
    pool: AdaptiveAvgPool2d,
    fc: Linear,
}

impl Wrn {
    pub fn new(
        channels: usize,
        classes: usize,
        depth: usize,
        width: usize,
        dropout: f64,
        device: &Device,
    ) -> Self {
        let per_group = (depth.saturating_sub(4) / 6).max(1);
        let widths = [16 * width, 32 * width, 64 * width];
        let mut blocks = Vec::with_capacity(3 * per_group);
        let mut input = 16;
        for (group, &output) in widths.iter().enumerate() {
            for i in 0..per_group {
                let stride = if group > 0 && i == 0 { 2 } else { 1 };
                blocks.push(WideBlock::new(input, output, stride, dropout, device));
                input = output;
            }
        }
        Self {
            stem: conv(channels, 16, 3, 1, device),
            blocks,
            bn: BatchNormConfig::new(input).init(device),
            pool: AdaptiveAvgPool2dConfig::new([1, 1]).init(),
            fc: LinearConfig::new(input, classes).init(device),
        }
    }
}

impl Classifier for Wrn {
    fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        let x = self
            .blocks
            .iter()
            .fold(conv2d(&self.stem, images), |x, block| block.forward(x));
        let x = self.pool.forward(relu(self.bn.forward(x)));
        self.fc.forward(x.flatten(1, 3))
    }
}
