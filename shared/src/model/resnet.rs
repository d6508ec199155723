//! ResNet-50 (bottleneck blocks 3-4-6-3), the Restricted ImageNet model.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AdaptiveAvgPool2d, AdaptiveAvgPool2dConfig, MaxPool2d, MaxPool2dConfig};
use burn::nn::{
    BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig2d,
};
use burn::prelude::*;
use burn::tensor::activation::relu;

use super::Classifier;
use crate::ops::conv2d;

fn conv_bn(
    input: usize,
    output: usize,
    kernel: usize,
    stride: usize,
    device: &Device,
) -> (Conv2d, BatchNorm) {
    let pad = kernel / 2;
    let conv = Conv2dConfig::new([input, output], [kernel, kernel])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
        .with_bias(false)
        .init(device);
    (conv, BatchNormConfig::new(output).init(device))
}

/// 1×1 reduce, 3×3, 1×1 expand (×4); dropout after the 3×3 convolution.
#[derive(Module, Debug)]
pub struct Bottleneck {
    conv1: Conv2d,
    bn1: BatchNorm,
    conv2: Conv2d,
    bn2: BatchNorm,
    dropout: Dropout,
    conv3: Conv2d,
    bn3: BatchNorm,
    downsample: Option<(Conv2d, BatchNorm)>,
}

impl Bottleneck {
    fn new(input: usize, planes: usize, stride: usize, dropout: f64, device: &Device) -> Self {
        let output = planes * 4;
        let (conv1, bn1) = conv_bn(input, planes, 1, 1, device);
        let (conv2, bn2) = conv_bn(planes, planes, 3, stride, device);
        let (conv3, bn3) = conv_bn(planes, output, 1, 1, device);
        Self {
            conv1,
            bn1,
            conv2,
            bn2,
            dropout: DropoutConfig::new(dropout).init(),
            conv3,
            bn3,
            downsample: (input != output || stride != 1)
                .then(|| conv_bn(input, output, 1, stride, device)),
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let residual = match &self.downsample {
            Some((conv, bn)) => bn.forward(conv2d(conv, x.clone())),
            None => x.clone(),
        };
        let y = relu(self.bn1.forward(conv2d(&self.conv1, x)));
        let y = self
            .dropout
            .forward(relu(self.bn2.forward(conv2d(&self.conv2, y))));
        let y = self.bn3.forward(conv2d(&self.conv3, y));
        relu(y + residual)
    }
}

#[derive(Module, Debug)]
pub struct ResNet50 {
    stem: Conv2d,
    stem_bn: BatchNorm,
    stem_pool: MaxPool2d,
    blocks: Vec<Bottleneck>,
    pool: AdaptiveAvgPool2d,
    fc: Linear,
}

impl ResNet50 {
    pub fn new(channels: usize, classes: usize, dropout: f64, device: &Device) -> Self {
        let (stem, stem_bn) = conv_bn(channels, 64, 7, 2, device);
        let mut blocks = Vec::with_capacity(16);
        let mut input = 64;
        for (stage, (&planes, &count)) in [64, 128, 256, 512].iter().zip(&[3, 4, 6, 3]).enumerate()
        {
            for i in 0..count {
                let stride = if stage > 0 && i == 0 { 2 } else { 1 };
                blocks.push(Bottleneck::new(input, planes, stride, dropout, device));
                input = planes * 4;
            }
        }
        Self {
            stem,
            stem_bn,
            stem_pool: MaxPool2dConfig::new([3, 3])
                .with_strides([2, 2])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(),
            blocks,
            pool: AdaptiveAvgPool2dConfig::new([1, 1]).init(),
            fc: LinearConfig::new(input, classes).init(device),
        }
    }
}

impl Classifier for ResNet50 {
    fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        let x = relu(self.stem_bn.forward(conv2d(&self.stem, images)));
        let x = self
            .blocks
            .iter()
            .fold(self.stem_pool.forward(x), |x, block| block.forward(x));
        self.fc.forward(self.pool.forward(x).flatten(1, 3))
    }
}
