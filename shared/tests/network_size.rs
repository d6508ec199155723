//! A network's size counted from its architecture agrees with the network built.

mod common;

use astute::data::ImageShape;
use astute::model::{Architecture, NetworkConfig};
use burn::module::{Module, ModuleVisitor, Param};
use burn::prelude::Tensor;
use common::cpu;

/// Counts the values of the parameters that training updates (batch norm's running
/// statistics are module state, not parameters).
#[derive(Default)]
struct Trainable(u64);

impl ModuleVisitor for Trainable {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let value = param.val();
        if value.is_require_grad() {
            self.0 += value.shape().num_elements() as u64;
        }
    }
}

#[test]
fn counted_parameters_are_the_built_networks_parameters() {
    let cases = [
        (Architecture::Cnn1, ImageShape::new(1, 28, 28), 10),
        (Architecture::Cnn2, ImageShape::new(3, 32, 30), 7),
        (
            Architecture::Wrn {
                depth: 10,
                width: 2,
            },
            ImageShape::new(3, 32, 32),
            10,
        ),
        (
            Architecture::Wrn {
                depth: 16,
                width: 1,
            },
            ImageShape::new(1, 28, 28),
            9,
        ),
        (Architecture::ResNet50, ImageShape::new(3, 64, 64), 9),
        (
            Architecture::Mlp {
                layers: 3,
                width: 64,
            },
            ImageShape::new(1, 1, 2),
            2,
        ),
        (
            Architecture::Mlp {
                layers: 1,
                width: 5,
            },
            ImageShape::new(1, 28, 28),
            10,
        ),
    ];
    for (architecture, input, classes) in cases {
        let config = NetworkConfig {
            architecture,
            input,
            classes,
            dropout: 0.0,
        };
        let network = config.init(&cpu().autodiff()).unwrap();
        let mut trainable = Trainable::default();
        network.visit(&mut trainable);
        assert_eq!(
            config.size().parameters,
            trainable.0,
            "{architecture} on {input:?}"
        );
    }
}
