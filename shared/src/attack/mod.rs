//! ℓ∞ attacks: FGSM, PGD with random starts and restarts, the multi-targeted attack, and
//! AutoAttack's: APGD (cross-entropy, DLR, targeted DLR), FAB-T and Square.
//!
//! Every attack works on a model on an autodiff device, in evaluation behaviour (see
//! [`eval_copy`]), and returns adversarial images inside the ε-ball around the clean
//! images and inside [0, 1].

mod apgd;
mod autoattack;
mod fab;
mod fgsm;
mod gradient;
pub(crate) mod host;
mod multi_targeted;
mod pgd;
mod projection;
mod square;
mod survivors;

pub use apgd::{Apgd, ApgdIterate, ApgdLoss, ApgdRun};
pub use autoattack::{AutoAttack, Component, PlannedRun};
pub use fab::{Fab, linf_projection};
pub use fgsm::fgsm;
pub use gradient::{eval_copy, input_gradient};
pub use multi_targeted::MultiTargeted;
pub use pgd::{Goal, Pgd, PgdError, consecutive_seeds, seeded_start, seeded_uniform};
pub use projection::project;
pub use square::Square;
pub use survivors::{Part, ranked_target};
