//! A fully connected ReLU network for the synthetic 2-D and 1-D data.

use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::relu;

use super::Classifier;

/// `layers` hidden layers of `width` units, dropout after each hidden activation.
#[derive(Module, Debug)]
pub struct Mlp {
    hidden: Vec<Linear>,
    dropout: Dropout,
    output: Linear,
}

impl Mlp {
    pub fn new(
        inputs: usize,
        outputs: usize,
        layers: usize,
        width: usize,
        dropout: f64,
        device: &Device,
    ) -> Self {
        let hidden = (0..layers)
            .map(|i| LinearConfig::new(if i == 0 { inputs } else { width }, width).init(device))
            .collect();
        Self {
            hidden,
            dropout: DropoutConfig::new(dropout).init(),
            output: LinearConfig::new(if layers == 0 { inputs } else { width }, outputs)
                .init(device),
        }
    }

    /// Logits (or a regression output) for flat feature vectors `[N, inputs]`.
    pub fn forward_flat(&self, features: Tensor<2>) -> Tensor<2> {
        let x = self.hidden.iter().fold(features, |x, layer| {
            self.dropout.forward(relu(layer.forward(x)))
        });
        self.output.forward(x)
    }
}

impl Classifier for Mlp {
    fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        self.forward_flat(images.flatten(1, 3))
    }
}
