//! AutoAttack (Croce & Hein, ICML 2020): several attacks in turn, each on the points the
//! previous ones left robust, so each point counts under the worst of them. APGD-CE first
//! (cheap, strong on most models), then APGD-T (targeted DLR, robust to a mis-scaled loss),
//! then Square (black-box: it needs no gradient, so gradient masking does not stop it).

use burn::prelude::*;

use super::survivors::Survivors;
use super::{Apgd, ApgdLoss, Square};
use crate::model::Classifier;

/// Seeds of one component are `2⁴⁰ · position` away from the previous one's, far beyond
/// any image index and any APGD restart stride.
const COMPONENT_SEED_SHIFT: u32 = 40;

/// One attack of the sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Component {
    ApgdCe,
    ApgdT,
    /// APGD on the untargeted DLR: what APGD-T falls back to with 3 classes.
    ApgdDlr,
    Square,
}

/// A sequence of attacks, each run on the points still robust.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AutoAttack {
    pub epsilon: f32,
    pub seed: u64,
    pub components: Vec<Component>,
}

/// What a run of the sequence found: the worst-case images, and how many points were
/// still classified correctly before any attack and after each component.
#[derive(Debug, Clone)]
pub struct AutoAttackOutcome {
    pub adversarial: Tensor<4>,
    pub clean_correct: usize,
    pub robust_after: Vec<(Component, usize)>,
}

impl AutoAttack {
    /// APGD-CE, APGD-T and Square, as the standard version runs them (its FAB-T is not
    /// part of Astute's sequence; see `docs/methods.md`).
    pub fn standard(epsilon: f32, seed: u64) -> Self {
        Self {
            epsilon,
            seed,
            components: vec![Component::ApgdCe, Component::ApgdT, Component::Square],
        }
    }

    /// APGD-CE then APGD-T: the cheaper composition for quick runs.
    pub fn apgd(epsilon: f32, seed: u64) -> Self {
        Self {
            epsilon,
            seed,
            components: vec![Component::ApgdCe, Component::ApgdT],
        }
    }

    /// The components that apply to `classes` classes: targeted DLR needs 4, DLR 3; with
    /// fewer, APGD-T falls back to DLR and then is left out.
    pub fn components_for(&self, classes: usize) -> Vec<Component> {
        self.components
            .iter()
            .filter_map(|&component| match component {
                Component::ApgdT if classes >= 4 => Some(Component::ApgdT),
                Component::ApgdT | Component::ApgdDlr if classes == 3 => Some(Component::ApgdDlr),
                Component::ApgdT | Component::ApgdDlr => None,
                other => Some(other),
            })
            .collect()
    }

    /// Runs the sequence on `images` labelled `labels` (`classes` in all). Image `k` draws
    /// from `seed + k` in every component (each component offset by its own stride), also
    /// when it is one of the few still robust: a point's result does not depend on the
    /// batch it came in.
    pub fn run<M: Classifier>(
        &self,
        model: &M,
        images: &Tensor<4>,
        labels: &Tensor<1, Int>,
        classes: usize,
    ) -> AutoAttackOutcome {
        let clean_logits = model.forward(images.clone().detach()).detach();
        let mut survivors = Survivors::new(model, images, labels, clean_logits);
        let clean_correct = survivors.count();
        let mut robust_after = Vec::new();
        for (position, component) in self.components_for(classes).into_iter().enumerate() {
            // Each component draws from seeds of its own.
            let stride = (position as u64) << COMPONENT_SEED_SHIFT;
            survivors.attack(|part| {
                let seeds: Vec<u64> = part
                    .positions
                    .iter()
                    .map(|&k| self.seed.wrapping_add(k as u64).wrapping_add(stride))
                    .collect();
                let (x, y, s, eps) = (&part.images, &part.labels, &seeds, self.epsilon);
                match component {
                    Component::ApgdCe => Apgd::ce(eps, 0).attack_seeded(model, x, y, s),
                    Component::ApgdT => Apgd::targeted(eps, 0).attack_seeded(model, x, y, s),
                    Component::ApgdDlr => Apgd {
                        loss: ApgdLoss::Dlr,
                        ..Apgd::ce(eps, 0)
                    }
                    .attack_seeded(model, x, y, s),
                    Component::Square => Square::standard(eps, 0).attack_seeded(model, x, y, s),
                }
            });
            robust_after.push((component, survivors.count()));
        }
        AutoAttackOutcome {
            adversarial: survivors.into_images(),
            clean_correct,
            robust_after,
        }
    }
}
