//! The two small MNIST CNNs of the paper's Table 2.
//!
//! Their tensor names follow the equivalent PyTorch `nn.Sequential` (see
//! [`crate::weights`]), so weights move between Astute and PyTorch both ways.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::relu;

use super::Classifier;
use crate::data::ImageShape;
use crate::ops::{conv2d_relu, max_pool2d};

fn conv3x3(input: usize, output: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([input, output], [3, 3]).init(device)
}

/// Side length after a valid 3×3 convolution.
fn after_conv(side: usize) -> usize {
    side.saturating_sub(2)
}

/// CNN1: conv 32, conv 64, max-pool, dropout, FC 128, dropout, FC.
/// With dropout rate `p` the two dropouts are `p / 2` and `p` (the paper's 0.25 and 0.5 at p = 0.5).
#[derive(Module, Debug)]
pub struct Cnn1 {
    conv1: Conv2d,
    conv2: Conv2d,
    pool: MaxPool2d,
    dropout1: Dropout,
    fc1: Linear,
    dropout2: Dropout,
    fc2: Linear,
}

impl Cnn1 {
    pub fn new(shape: ImageShape, classes: usize, dropout: f64, device: &Device) -> Self {
        let side = |s: usize| after_conv(after_conv(s)) / 2;
        let flat = 64 * side(shape.height) * side(shape.width);
        Self {
            conv1: conv3x3(shape.channels, 32, device),
            conv2: conv3x3(32, 64, device),
            pool: MaxPool2dConfig::new([2, 2]).init(),
            dropout1: DropoutConfig::new(dropout / 2.0).init(),
            fc1: LinearConfig::new(flat, 128).init(device),
            dropout2: DropoutConfig::new(dropout).init(),
            fc2: LinearConfig::new(128, classes).init(device),
        }
    }
}

impl Classifier for Cnn1 {
    fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        let x = conv2d_relu(&self.conv1, images);
        let x = conv2d_relu(&self.conv2, x);
        let x = self.dropout1.forward(max_pool2d(&self.pool, x));
        let x = relu(self.fc1.forward(x.flatten(1, 3)));
        self.fc2.forward(self.dropout2.forward(x))
    }
}

/// CNN2, the TRADES small CNN: conv 32, conv 32, max-pool, conv 64, conv 64, max-pool,
/// FC 200, dropout, FC 200, FC.
#[derive(Module, Debug)]
pub struct Cnn2 {
    conv1: Conv2d,
    conv2: Conv2d,
    conv3: Conv2d,
    conv4: Conv2d,
    pool: MaxPool2d,
    fc1: Linear,
    dropout: Dropout,
    fc2: Linear,
    fc3: Linear,
}

impl Cnn2 {
    pub fn new(shape: ImageShape, classes: usize, dropout: f64, device: &Device) -> Self {
        let side = |s: usize| after_conv(after_conv(after_conv(after_conv(s)) / 2)) / 2;
        let flat = 64 * side(shape.height) * side(shape.width);
        Self {
            conv1: conv3x3(shape.channels, 32, device),
            conv2: conv3x3(32, 32, device),
            conv3: conv3x3(32, 64, device),
            conv4: conv3x3(64, 64, device),
            pool: MaxPool2dConfig::new([2, 2]).init(),
            fc1: LinearConfig::new(flat, 200).init(device),
            dropout: DropoutConfig::new(dropout).init(),
            fc2: LinearConfig::new(200, 200).init(device),
            fc3: LinearConfig::new(200, classes).init(device),
        }
    }
}

impl Classifier for Cnn2 {
    fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        let x = conv2d_relu(&self.conv1, images);
        let x = max_pool2d(&self.pool, conv2d_relu(&self.conv2, x));
        let x = conv2d_relu(&self.conv3, x);
        let x = max_pool2d(&self.pool, conv2d_relu(&self.conv4, x));
        let x = self
            .dropout
            .forward(relu(self.fc1.forward(x.flatten(1, 3))));
        let x = relu(self.fc2.forward(x));
        self.fc3.forward(x)
    }
}
