//! The multi-targeted attack (Gowal et al.): for every target class, ascend the margin
//! z_target − z_label; an example is robust only if no target succeeds.

use burn::prelude::*;

use super::{input_gradient, project};
use crate::loss::{margin, predictions};
use crate::model::Classifier;

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MultiTargeted {
    pub epsilon: f32,
    pub steps: usize,
    pub step_size: f32,
}

impl MultiTargeted {
    /// The paper's setting: 20 steps of ε/10 per target.
    pub fn paper(epsilon: f32) -> Self {
        Self {
            epsilon,
            steps: 20,
            step_size: epsilon / 10.0,
        }
    }

    /// Adversarial images: for each example, the first target's result that is
    /// misclassified, or the last target's result when none is.
    pub fn attack<M: Classifier>(
        &self,
        model: &M,
        images: &Tensor<4>,
        labels: &Tensor<1, Int>,
        classes: usize,
    ) -> Tensor<4> {
        let mut best: Option<Tensor<4>> = None;
        for offset in 1..classes {
            let targets = labels
                .clone()
                .add_scalar(offset as i64)
                .remainder_scalar(classes as i64);
            let mut x = images.clone();
            for _ in 0..self.steps {
                let g = input_gradient(model, &x, |logits, _| margin(logits, labels, &targets));
                x = project(
                    x.detach() + g.sign().mul_scalar(self.step_size),
                    images,
                    self.epsilon,
                );
            }
            best = Some(match best {
                None => x,
                Some(prev) => {
                    let prev_correct =
                        predictions(model.forward(prev.clone())).equal(labels.clone());
                    prev.mask_where(
                        prev_correct.reshape([-1, 1, 1, 1]).expand(images.shape()),
                        x,
                    )
                }
            });
        }
        best.unwrap_or_else(|| images.clone()).detach()
    }
}
