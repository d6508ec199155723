//! Stopping long work between batches. A caller runs an evaluation [`within`] a flag; every
//! batch the evaluation takes ([`crate::batch::sequential_batches`]) first looks at the
//! flag, and once it is raised the work unwinds to [`within`], which returns
//! [`Cancelled`]. The evaluations keep their signatures: only the caller that can cancel
//! says so.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The work was stopped by its flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cancelled")]
pub struct Cancelled;

thread_local! {
    /// The flags of the [`within`] calls this thread is inside, innermost last.
    static FLAGS: RefCell<Vec<Arc<AtomicBool>>> = const { RefCell::new(Vec::new()) };
}

/// Runs `work` on this thread, stopping it at its next batch once `flag` is raised.
pub fn within<T>(flag: &Arc<AtomicBool>, work: impl FnOnce() -> T) -> Result<T, Cancelled> {
    FLAGS.with(|flags| flags.borrow_mut().push(flag.clone()));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
    FLAGS.with(|flags| flags.borrow_mut().pop());
    match outcome {
        Ok(value) => Ok(value),
        Err(payload) if payload.is::<Cancelled>() => Err(Cancelled),
        Err(payload) => std::panic::resume_unwind(payload),
    }
}

/// Unwinds to the innermost [`within`] when a flag of this thread's is raised (a
/// `resume_unwind`, so no panic message is printed).
pub(crate) fn stop_if_asked() {
    let asked = FLAGS.with(|flags| {
        flags
            .borrow()
            .iter()
            .any(|flag| flag.load(Ordering::Relaxed))
    });
    if asked {
        std::panic::resume_unwind(Box::new(Cancelled));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::sequential_batches;

    #[test]
    fn work_stops_at_the_batch_after_the_flag_is_raised() {
        let flag = Arc::new(AtomicBool::new(false));
        let mut batches = 0;
        let stopped = within(&flag, || {
            for _ in sequential_batches(1_000, 100) {
                batches += 1;
                if batches == 3 {
                    flag.store(true, Ordering::Relaxed);
                }
            }
        });
        assert_eq!(stopped, Err(Cancelled));
        assert_eq!(batches, 3);
        // Outside `within` the flag stops nothing.
        assert_eq!(sequential_batches(1_000, 100).count(), 10);
    }

    #[test]
    fn work_left_alone_returns_its_value_and_other_panics_pass_through() {
        let flag = Arc::new(AtomicBool::new(false));
        assert_eq!(within(&flag, || sequential_batches(10, 3).count()), Ok(4));
        let other = std::panic::catch_unwind(|| within(&flag, || panic!("a bug")));
        assert!(other.is_err());
    }
}
