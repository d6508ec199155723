//! One type for any architecture, chosen at run time.

use burn::prelude::*;

use super::{Architecture, Classifier, Cnn1, Cnn2, Mlp, ResNet50, Wrn};
use crate::data::ImageShape;

/// What to build: architecture, input shape, number of classes and dropout rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NetworkConfig {
    pub architecture: Architecture,
    pub input: ImageShape,
    pub classes: usize,
    /// Dropout rate where the architecture places dropout; 0 turns it off.
    pub dropout: f64,
}

/// A network that cannot be built: what the constructors would otherwise panic on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NetworkError {
    #[error("dropout rate {0} is outside [0, 1)")]
    Dropout(f64),
    #[error("{0} classes: a classifier needs at least 2")]
    Classes(usize),
    #[error("{architecture} needs images of at least {min_side}×{min_side}, got {height}×{width}")]
    ImageTooSmall {
        architecture: Architecture,
        min_side: usize,
        height: usize,
        width: usize,
    },
}

impl NetworkConfig {
    /// Checks what the constructors would otherwise panic on.
    pub fn validate(&self) -> Result<(), NetworkError> {
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(NetworkError::Dropout(self.dropout));
        }
        if self.classes < 2 {
            return Err(NetworkError::Classes(self.classes));
        }
        let min_side = match self.architecture {
            Architecture::Cnn1 => 6,
            Architecture::Cnn2 => 16,
            Architecture::Wrn { .. } => 4,
            Architecture::ResNet50 => 32,
            Architecture::Mlp { .. } => 1,
        };
        if self.input.height < min_side || self.input.width < min_side {
            return Err(NetworkError::ImageTooSmall {
                architecture: self.architecture,
                min_side,
                height: self.input.height,
                width: self.input.width,
            });
        }
        Ok(())
    }

    pub fn init(&self, device: &Device) -> Result<Network, NetworkError> {
        self.validate()?;
        let (shape, classes, p) = (self.input, self.classes, self.dropout);
        Ok(match self.architecture {
            Architecture::Cnn1 => Network::Cnn1(Cnn1::new(shape, classes, p, device)),
            Architecture::Cnn2 => Network::Cnn2(Cnn2::new(shape, classes, p, device)),
            Architecture::Wrn { depth, width } => {
                Network::Wrn(Wrn::new(shape.channels, classes, depth, width, p, device))
            }
            Architecture::ResNet50 => {
                Network::ResNet50(ResNet50::new(shape.channels, classes, p, device))
            }
            Architecture::Mlp { layers, width } => {
                Network::Mlp(Mlp::new(shape.len(), classes, layers, width, p, device))
            }
        })
    }
}

/// Variants differ in size only by their parameter handles (the tensors live on the
/// device), and a network is moved a few times per batch at most: boxing buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Network {
    Cnn1(Cnn1),
    Cnn2(Cnn2),
    Wrn(Wrn),
    ResNet50(ResNet50),
    Mlp(Mlp),
}

impl Classifier for Network {
    fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        match self {
            Self::Cnn1(m) => m.forward(images),
            Self::Cnn2(m) => m.forward(images),
            Self::Wrn(m) => m.forward(images),
            Self::ResNet50(m) => m.forward(images),
            Self::Mlp(m) => m.forward(images),
        }
    }
}
