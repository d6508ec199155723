//! Gradients with respect to the input, the step every attack takes.

use burn::module::{ModuleVisitor, Param};
use burn::prelude::*;

use crate::model::Classifier;

/// A copy of `model` that behaves as at evaluation (dropout off, batch-norm running
/// statistics) and needs no parameter gradients, but stays on the autodiff device so that
/// gradients with respect to the input still flow. The original keeps training behaviour.
pub fn eval_copy<M: Classifier>(model: &M) -> M {
    materialize(model);
    model.clone().freeze()
}

/// Forces lazily initialised parameters into existence. A clone shares a parameter that is
/// not initialised yet, so freezing the clone would otherwise freeze the original too.
fn materialize<M: Module>(model: &M) {
    struct Touch;
    impl ModuleVisitor for Touch {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let _ = param.val();
        }
    }
    model.visit(&mut Touch);
}

/// ∇ₓ Σᵢ objective(model(x), x)ᵢ, detached, on the autodiff device of `x`. Summing the
/// per-example objective gives every example its own gradient in one backward pass.
pub fn input_gradient<M: Classifier>(
    model: &M,
    images: &Tensor<4>,
    objective: impl FnOnce(Tensor<2>, Tensor<4>) -> Tensor<1>,
) -> Tensor<4> {
    let x = images.clone().detach().require_grad();
    let loss = objective(model.forward(x.clone()), x.clone()).sum();
    let grads = loss.backward();
    let device = images.device();
    match x.grad(&grads) {
        Some(g) => g.to_device(&device),
        // No path from the input to the loss (a constant model): the gradient is zero.
        None => images.zeros_like(),
    }
}
