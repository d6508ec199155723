//! Automatic checks for gradient masking: signs that a model's robustness under
//! gradient-based attacks comes from hiding its gradients rather than from being robust
//! (Athalye et al. 2018; the checklist of Carlini et al. 2019). Each check is a named flag
//! with the numbers behind it.

use burn::prelude::*;

use super::{Attack, robust_accuracy};
use crate::attack::{Pgd, host, input_gradient};
use crate::batch::{sequential_batches, to_tensors};
use crate::data::Dataset;
use crate::loss::margin;
use crate::model::Classifier;
use astute_api::{AttackName, MaskingCheck, MaskingFlag, RobustEvaluation};

/// Accuracy points by which one attack must beat another before it counts (sampling noise
/// and ties aside).
const TOLERANCE: f64 = 0.2;
/// How far (points) FGSM may go below PGD-10 before it counts: PGD-10 returns its last
/// iterate, not its best, so on ordinary models it loses a few images to FGSM.
const FGSM_GAP: f64 = 1.0;
/// The radius at which every image can be turned grey: accuracy there should be near 0.
pub const LARGE_RADIUS: f32 = 0.5;
/// "Near 0" at [`LARGE_RADIUS`], in percent.
const NEAR_ZERO: f64 = 5.0;
/// The share of images (%) whose input gradient may be exactly zero.
const ZERO_GRADIENT_SHARE: f64 = 5.0;
/// How far (points) the multi-targeted attack may go below PGD before it counts.
const MULTI_TARGETED_GAP: f64 = 3.0;

/// How much a check may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    /// What every evaluation runs: the cheap checks (FGSM, PGD-10, PGD-20 at ε = 0.5 and
    /// the input gradients: about 35 passes per image), and the others only where the
    /// evaluation already measured their attacks (`square` with `apgd`; `mt`). AutoAttack
    /// cannot stand in for the white-box side: Square is one of its parts.
    Quick,
    /// Every check, running whatever attack it needs (`astute eval --masking`).
    Full,
}

/// The cheap checks' forward-and-backward passes per image: FGSM 2, PGD-10 11, PGD-20 at
/// the large radius 21, the input gradient 1 (what a budget charges for [`Depth::Quick`]).
pub const QUICK_PASSES_PER_IMAGE: f64 = 35.0;

/// The checks of `depth` at radius `epsilon`; the seeded attacks draw from `seed`. An attack
/// in `measured` (same radius, seed and images) is not run again.
#[derive(Debug, Clone, Copy)]
pub struct Checks<'a> {
    pub epsilon: f32,
    pub seed: u64,
    pub batch_size: usize,
    pub measured: &'a [RobustEvaluation],
    pub depth: Depth,
}

impl Checks<'_> {
    /// Every check of `depth` on `data`.
    pub fn run<M: Classifier>(
        &self,
        model: &M,
        data: &Dataset,
        device: &Device,
    ) -> Vec<MaskingFlag> {
        let Checks {
            epsilon,
            seed,
            batch_size,
            measured,
            depth,
        } = *self;
        let known = |name: AttackName| {
            measured
                .iter()
                .find(|e| {
                    e.attack == name
                        && e.epsilon == epsilon
                        && e.seed == seed
                        && e.images == data.len()
                })
                .map(|e| e.accuracy)
        };
        // An attack's accuracy: measured already, else run when `depth` (or `cheap`) allows.
        let accuracy = |name: AttackName, cheap: bool| {
            known(name).or_else(|| {
                (cheap || depth == Depth::Full).then(|| {
                    robust_accuracy(
                        model,
                        data,
                        &Attack::new(name, epsilon, seed),
                        batch_size,
                        device,
                    )
                })
            })
        };
        let pgd = accuracy(AttackName::PGD_10, true).unwrap_or_default();
        let fgsm = accuracy(AttackName::Fgsm, true).unwrap_or_default();
        let large = robust_accuracy(
            model,
            data,
            &Attack::SeededPgd {
                pgd: Pgd {
                    steps: 20,
                    ..Pgd::paper(LARGE_RADIUS)
                },
                seed,
            },
            batch_size,
            device,
        );
        let zero = zero_gradient_share(model, data, batch_size, device);
        let mut flags = vec![
            MaskingFlag {
                check: MaskingCheck::FgsmBeatsPgd,
                raised: fgsm < pgd - FGSM_GAP,
                evidence: format!("FGSM {fgsm:.2} % against PGD-10 {pgd:.2} %"),
            },
            MaskingFlag {
                check: MaskingCheck::RobustAtLargeRadius,
                raised: large > NEAR_ZERO,
                evidence: format!("{large:.2} % under PGD-20 at ε = {LARGE_RADIUS}"),
            },
            MaskingFlag {
                check: MaskingCheck::ZeroGradients,
                raised: zero > ZERO_GRADIENT_SHARE,
                evidence: format!(
                    "{zero:.2} % of the images have a zero input gradient of the margin"
                ),
            },
        ];
        // APGD-CE then APGD-T: the strongest white-box attack Astute has. Square often beats
        // APGD-CE alone on a robust model by a point without any masking.
        let strong = accuracy(AttackName::Apgd, false);
        let square = accuracy(AttackName::Square, false);
        if let (Some(apgd), Some(square)) = (strong, square) {
            let white_box = pgd.min(fgsm).min(apgd);
            flags.push(MaskingFlag {
                check: MaskingCheck::BlackBoxBeatsWhiteBox,
                raised: square < white_box - TOLERANCE,
                evidence: format!(
                    "Square {square:.2} % against the best white-box attack {white_box:.2} % \
                     (PGD-10 {pgd:.2}, FGSM {fgsm:.2}, APGD-CE + APGD-T {apgd:.2})"
                ),
            });
        }
        if let Some(multi_targeted) = accuracy(AttackName::MultiTargeted, false) {
            flags.push(MaskingFlag {
                check: MaskingCheck::MultiTargetedBeatsPgd,
                raised: multi_targeted < pgd - MULTI_TARGETED_GAP,
                evidence: format!("multi-targeted {multi_targeted:.2} % against PGD-10 {pgd:.2} %"),
            });
        }
        flags
    }
}

/// The share (%) of images whose input gradient of the logit margin (the true class
/// against the runner-up) is exactly zero: no direction to attack from. The margin, not the
/// cross-entropy, whose gradient underflows to zero on confidently classified images.
fn zero_gradient_share<M: Classifier>(
    model: &M,
    data: &Dataset,
    batch_size: usize,
    device: &Device,
) -> f64 {
    let mut zero = 0usize;
    for idx in sequential_batches(data.len(), batch_size) {
        let (x, y) = to_tensors(data, &idx, device);
        let ranked = model.forward(x.clone()).detach().argsort_descending(1);
        let top = ranked.clone().narrow(1, 0, 1).squeeze_dim(1);
        let second = ranked.narrow(1, 1, 1).squeeze_dim(1);
        // The best class other than the true one.
        let runner_up = second.mask_where(top.clone().not_equal(y.clone()), top);
        let gradient = input_gradient(model, &x, |logits, _| margin(logits, &y, &runner_up));
        let largest = host::floats(gradient.abs().flatten::<2>(1, 3).max_dim(1));
        zero += largest.iter().filter(|&&g| g == 0.0).count();
    }
    if data.is_empty() {
        0.0
    } else {
        100.0 * zero as f64 / data.len() as f64
    }
}
