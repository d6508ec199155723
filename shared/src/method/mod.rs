//! The paper's training methods (Section 5.1), each the training loss of one batch.
//!
//! A method sees the model twice: `model` in training behaviour (dropout on), whose loss is
//! differentiated with respect to the weights, and `attacker`, an evaluation copy (see
//! [`crate::attack::eval_copy`]) used to craft perturbations, as the reference code does.

mod gradient_regularization;
mod llr;
mod trades;

pub use astute_api::Method;
use llr::Linearity;

use burn::prelude::*;

use crate::attack::Pgd;
use crate::loss::cross_entropy;
use crate::model::Classifier;

/// Attack and threat-model settings a method needs besides its own coefficients.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MethodContext {
    pub epsilon: f32,
    /// The attack of AT and RST.
    pub pgd: Pgd,
    /// Ascent steps of the TRADES inner maximisation (step ε/5).
    pub trades_steps: usize,
}

impl MethodContext {
    pub fn paper(epsilon: f32) -> Self {
        Self {
            epsilon,
            pgd: Pgd::paper(epsilon),
            trades_steps: 10,
        }
    }
}

/// `method` with the weights of its regularisation terms multiplied by `factor` (warm-up);
/// the methods without such a weight are returned as they are.
pub fn with_regularisation_scaled(method: Method, factor: f32) -> Method {
    match method {
        Method::Gr { lambda, h } => Method::Gr {
            lambda: lambda * factor,
            h,
        },
        Method::Llr { lambda, mu } => Method::Llr {
            lambda: lambda * factor,
            mu: mu * factor,
        },
        Method::LlrRef { lambda } => Method::LlrRef {
            lambda: lambda * factor,
        },
        Method::Rst { lambda } => Method::Rst {
            lambda: lambda * factor,
        },
        Method::Trades { beta } => Method::Trades {
            beta: beta * factor,
        },
        Method::Natural | Method::At => method,
    }
}

/// The mean training loss of `method` on a batch, differentiable with respect to `model`'s
/// weights.
pub fn loss<M: Classifier>(
    method: Method,
    model: &M,
    attacker: &M,
    images: &Tensor<4>,
    labels: &Tensor<1, Int>,
    context: &MethodContext,
) -> Tensor<1> {
    let clean_ce = || cross_entropy(model.forward(images.clone()), labels).mean();
    match method {
        Method::Natural => clean_ce(),
        Method::Gr { lambda, h } => {
            gradient_regularization::loss(model, attacker, images, labels, lambda, h)
        }
        Method::Llr { lambda, .. } | Method::LlrRef { lambda } => {
            let linearity = match method {
                Method::Llr { mu, .. } => Linearity::AsDefined { mu },
                _ => Linearity::ReferenceCode,
            };
            llr::loss(
                model,
                attacker,
                images,
                labels,
                context.epsilon,
                lambda,
                linearity,
            )
        }
        Method::At => {
            let adversarial = context.pgd.attack(attacker, images, labels);
            cross_entropy(model.forward(adversarial), labels).mean()
        }
        Method::Rst { lambda } => {
            let clean = clean_ce();
            let adversarial = context.pgd.attack(attacker, images, labels);
            clean
                + cross_entropy(model.forward(adversarial), labels)
                    .mean()
                    .mul_scalar(lambda)
        }
        Method::Trades { beta } => trades::loss(
            model,
            attacker,
            images,
            labels,
            context.epsilon,
            context.trades_steps,
            beta,
        ),
    }
}
