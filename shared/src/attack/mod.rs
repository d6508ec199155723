//! ℓ∞ attacks: FGSM, PGD with random starts and restarts, and the multi-targeted attack.
//!
//! Every attack works on a model on an autodiff device, in evaluation behaviour (see
//! [`eval_copy`]), and returns adversarial images inside the ε-ball around the clean
//! images and inside [0, 1].

mod fgsm;
mod gradient;
mod multi_targeted;
mod pgd;
mod projection;

pub use fgsm::fgsm;
pub use gradient::{eval_copy, input_gradient};
pub use multi_targeted::MultiTargeted;
pub use pgd::{Goal, Pgd, PgdError, seeded_start};
pub use projection::project;
