//! What a network costs before it is built: its parameters, the multiply–adds of one
//! forward pass and the values that pass produces, counted layer by layer from the
//! architecture alone. A server checks a spec against its limits with these numbers
//! before anything is allocated.

use super::{Architecture, NetworkConfig};
use crate::data::ImageShape;

/// The size of one network on one image.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetworkSize {
    /// Trainable parameters (weights, biases, batch-norm scales and shifts).
    pub parameters: u64,
    /// Multiply–adds of the convolutions and linear layers in one forward pass of one image.
    pub forward_macs: u64,
    /// Values the layers of one forward pass of one image write (convolutions, linear
    /// layers, batch norms and ReLUs that are not fused, pools): what training keeps for
    /// its backward pass.
    pub activations: u64,
}

/// A feature map's shape while counting.
#[derive(Debug, Clone, Copy)]
struct Map {
    channels: u64,
    height: u64,
    width: u64,
}

impl Map {
    fn len(self) -> u64 {
        self.channels * self.height * self.width
    }
}

/// Output side of a convolution or pool along one axis.
fn out_side(side: u64, kernel: u64, stride: u64, padding: u64) -> u64 {
    (side + 2 * padding).saturating_sub(kernel) / stride + 1
}

impl NetworkSize {
    fn conv(&mut self, x: Map, filters: u64, kernel: u64, stride: u64, padding: u64) -> Map {
        let out = Map {
            channels: filters,
            height: out_side(x.height, kernel, stride, padding),
            width: out_side(x.width, kernel, stride, padding),
        };
        let taps = x.channels * kernel * kernel;
        self.parameters += filters * taps;
        self.forward_macs += filters * taps * out.height * out.width;
        self.activations += out.len();
        out
    }

    fn bias(&mut self, x: Map) -> Map {
        self.parameters += x.channels;
        x
    }

    fn batch_norm(&mut self, x: Map) -> Map {
        self.parameters += 2 * x.channels;
        self.activations += x.len();
        x
    }

    fn batch_norm_relu(&mut self, x: Map) -> Map {
        let x = self.batch_norm(x);
        self.relu(x)
    }

    fn relu(&mut self, x: Map) -> Map {
        self.activations += x.len();
        x
    }

    fn pool(&mut self, x: Map, kernel: u64, stride: u64, padding: u64) -> Map {
        let out = Map {
            channels: x.channels,
            height: out_side(x.height, kernel, stride, padding),
            width: out_side(x.width, kernel, stride, padding),
        };
        self.activations += out.len();
        out
    }

    /// A linear layer with bias on the flattened input.
    fn linear(&mut self, x: Map, outputs: u64) -> Map {
        let inputs = x.len();
        self.parameters += inputs * outputs + outputs;
        self.forward_macs += inputs * outputs;
        self.activations += outputs;
        Map {
            channels: outputs,
            height: 1,
            width: 1,
        }
    }

    /// The two small CNNs: valid 3×3 convolutions with bias and fused ReLU, 2×2 pools.
    fn cnn(&mut self, mut x: Map, blocks: &[&[u64]], hidden: &[u64], classes: u64) {
        for filters in blocks {
            for &filters in *filters {
                x = self.conv(x, filters, 3, 1, 0);
                x = self.bias(x);
            }
            x = self.pool(x, 2, 2, 0);
        }
        for &units in hidden {
            x = self.linear(x, units);
            x = self.relu(x);
        }
        self.linear(x, classes);
    }

    fn wrn(&mut self, mut x: Map, depth: u64, width: u64, classes: u64) {
        let per_group = (depth.saturating_sub(4) / 6).max(1);
        x = self.conv(x, 16, 3, 1, 1);
        for (group, filters) in [16 * width, 32 * width, 64 * width].into_iter().enumerate() {
            for block in 0..per_group {
                let stride = if group > 0 && block == 0 { 2 } else { 1 };
                let activated = self.batch_norm_relu(x);
                if x.channels != filters || stride != 1 {
                    self.conv(activated, filters, 1, stride, 0);
                }
                let y = self.conv(activated, filters, 3, stride, 1);
                let y = self.batch_norm_relu(y);
                x = self.conv(y, filters, 3, 1, 1);
                self.activations += x.len(); // the residual sum
            }
        }
        x = self.batch_norm_relu(x);
        x = self.pool(x, x.height, x.height.max(1), 0);
        self.linear(x, classes);
    }

    fn resnet50(&mut self, mut x: Map, classes: u64) {
        x = self.conv(x, 64, 7, 2, 3);
        x = self.batch_norm_relu(x);
        x = self.pool(x, 3, 2, 1);
        for (stage, (planes, blocks)) in [(64, 3), (128, 4), (256, 6), (512, 3)]
            .into_iter()
            .enumerate()
        {
            for block in 0..blocks {
                let stride = if stage > 0 && block == 0 { 2 } else { 1 };
                if x.channels != 4 * planes || stride != 1 {
                    let shortcut = self.conv(x, 4 * planes, 1, stride, 0);
                    self.batch_norm(shortcut);
                }
                let y = self.conv(x, planes, 1, 1, 0);
                let y = self.batch_norm_relu(y);
                let y = self.conv(y, planes, 3, stride, 1);
                let y = self.batch_norm_relu(y);
                let y = self.conv(y, 4 * planes, 1, 1, 0);
                x = self.batch_norm_relu(y);
            }
        }
        x = self.pool(x, x.height, x.height.max(1), 0);
        self.linear(x, classes);
    }
}

impl NetworkConfig {
    /// The network's size, counted without building it.
    pub fn size(&self) -> NetworkSize {
        let ImageShape {
            channels,
            height,
            width,
        } = self.input;
        let x = Map {
            channels: channels as u64,
            height: height as u64,
            width: width as u64,
        };
        let classes = self.classes as u64;
        let mut size = NetworkSize::default();
        match self.architecture {
            Architecture::Cnn1 => size.cnn(x, &[&[32, 64]], &[128], classes),
            Architecture::Cnn2 => size.cnn(x, &[&[32, 32], &[64, 64]], &[200, 200], classes),
            Architecture::Wrn { depth, width } => size.wrn(x, depth as u64, width as u64, classes),
            Architecture::ResNet50 => size.resnet50(x, classes),
            Architecture::Mlp { layers, width } => {
                let mut x = x;
                for _ in 0..layers {
                    x = size.linear(x, width as u64);
                    x = size.relu(x);
                }
                size.linear(x, classes);
            }
        }
        size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(architecture: Architecture, input: ImageShape, classes: usize) -> NetworkSize {
        NetworkConfig {
            architecture,
            input,
            classes,
            dropout: 0.0,
        }
        .size()
    }

    /// CNN2 on 28×28, by hand: conv1 194,688 multiply–adds, conv2 5,308,416, conv3
    /// 1,843,200, conv4 2,359,296, fc 204,800 + 40,000 + 2,000; parameters 320 + 9,248 +
    /// 18,496 + 36,928 + 205,000 + 40,200 + 2,010.
    #[test]
    fn cnn2_is_counted_by_hand() {
        let counted = size(Architecture::Cnn2, ImageShape::new(1, 28, 28), 10);
        assert_eq!(counted.forward_macs, 9_952_400);
        assert_eq!(counted.parameters, 312_202);
    }

    /// WRN-28-10 has 36.5 M parameters (Zagoruyko & Komodakis, Table 1); ResNet-50 on
    /// 1,000 classes 25.6 M and 4.09 G multiply–adds on 224×224 (torchvision's figures).
    #[test]
    fn published_sizes() {
        let wrn = size(
            Architecture::Wrn {
                depth: 28,
                width: 10,
            },
            ImageShape::new(3, 32, 32),
            10,
        );
        assert_eq!(wrn.parameters / 100_000, 364);
        let resnet = size(Architecture::ResNet50, ImageShape::new(3, 224, 224), 1000);
        assert_eq!(resnet.parameters / 100_000, 255);
        assert_eq!(resnet.forward_macs / 10_000_000, 408);
    }
}
