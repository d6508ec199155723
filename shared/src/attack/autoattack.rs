//! AutoAttack (Croce & Hein, ICML 2020): several attacks in turn, each on the points the
//! previous ones left robust, so each point counts under the worst of them. APGD-CE first
//! (cheap, strong on most models), then APGD-T (targeted DLR, robust to a mis-scaled loss),
//! then FAB-T (a boundary attack: it walks to the decision boundary instead of climbing a
//! loss), then Square (black-box: it needs no gradient, so gradient masking does not stop it).

use burn::prelude::*;

use super::survivors::{Part, Survivors, ranked_target};
use super::{Apgd, ApgdLoss, ApgdRun, Fab, Square};
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
    FabT,
    Square,
}

/// A sequence of attacks, each run on the points still robust.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AutoAttack {
    pub epsilon: f32,
    pub seed: u64,
    pub components: Vec<Component>,
}

impl AutoAttack {
    /// The standard version: APGD-CE, APGD-T, FAB-T and Square.
    pub fn standard(epsilon: f32, seed: u64) -> Self {
        Self {
            epsilon,
            seed,
            components: vec![
                Component::ApgdCe,
                Component::ApgdT,
                Component::FabT,
                Component::Square,
            ],
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
    /// fewer, APGD-T falls back to DLR and then is left out. FAB-T needs only a second class.
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

    /// The runs of the sequence in order, for data with `classes` classes: each restart or
    /// target of each component is one run, on the points all earlier runs left robust.
    pub fn plan(&self, classes: usize) -> Vec<PlannedRun> {
        let eps = self.epsilon;
        self.components_for(classes)
            .into_iter()
            .enumerate()
            .flat_map(|(position, component)| {
                let apgd = |apgd: Apgd| -> Vec<RunKind> {
                    apgd.runs(classes)
                        .into_iter()
                        .map(|run| RunKind::Apgd(apgd, run))
                        .collect()
                };
                let kinds = match component {
                    Component::ApgdCe => apgd(Apgd::ce(eps, 0)),
                    Component::ApgdT => apgd(Apgd::targeted(eps, 0)),
                    Component::ApgdDlr => apgd(Apgd {
                        loss: ApgdLoss::Dlr,
                        ..Apgd::ce(eps, 0)
                    }),
                    Component::FabT => {
                        let fab = Fab::targeted(eps);
                        fab.ranks(classes)
                            .map(|rank| RunKind::Fab(fab, rank))
                            .collect()
                    }
                    Component::Square => vec![RunKind::Square(Square::standard(eps, 0))],
                };
                // Each component draws from seeds of its own.
                let seed = self
                    .seed
                    .wrapping_add((position as u64) << COMPONENT_SEED_SHIFT);
                kinds.into_iter().map(move |kind| PlannedRun { seed, kind })
            })
            .collect()
    }

    /// The worst-case images of the sequence on `images` labelled `labels` (`classes` in
    /// all). Image `k` draws from `seed + k` in every component (each component offset by
    /// its own stride), also when it is one of the few still robust: a point's result does
    /// not depend on the batch it came in.
    pub fn run<M: Classifier>(
        &self,
        model: &M,
        images: &Tensor<4>,
        labels: &Tensor<1, Int>,
        classes: usize,
    ) -> Tensor<4> {
        let (mut survivors, ranked) = Survivors::ranked(model, images, labels);
        for planned in self.plan(classes) {
            survivors.attack(|part| planned.attack(model, &part, &ranked));
        }
        survivors.into_images()
    }
}

/// One run of a sequence: one restart or target of one component.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlannedRun {
    /// Image `k` of the batch draws from `seed + k`.
    seed: u64,
    kind: RunKind,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum RunKind {
    Apgd(Apgd, ApgdRun),
    Fab(Fab, usize),
    Square(Square),
}

impl PlannedRun {
    /// Attacks a part of a batch; `ranked` orders the whole batch's classes by clean logit
    /// (the targeted runs aim at the class of their rank).
    pub fn attack<M: Classifier>(
        &self,
        model: &M,
        part: &Part<'_>,
        ranked: &Tensor<2, Int>,
    ) -> Tensor<4> {
        let Part {
            images,
            labels,
            index,
            positions,
        } = part;
        let seeds: Vec<u64> = positions
            .iter()
            .map(|&k| self.seed.wrapping_add(k as u64))
            .collect();
        match self.kind {
            RunKind::Apgd(apgd, run) => apgd.run_once(
                model,
                images,
                labels,
                run.target(ranked, index).as_ref(),
                &seeds,
                run.number,
                |_| (),
            ),
            RunKind::Fab(fab, rank) => {
                fab.toward(model, images, labels, &ranked_target(ranked, index, rank))
            }
            RunKind::Square(square) => square.attack_seeded(model, images, labels, &seeds),
        }
    }
}
