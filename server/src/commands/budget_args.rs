//! What one run may cost: the options `train`, `serve` and `worker` share.

use astute::api::Budget;

const DEFAULT: Budget = Budget::DEFAULT;

/// Limits checked against every spec before anything is built (estimates from the spec;
/// see the README's "Limits").
#[derive(Debug, Clone, clap::Args)]
pub struct BudgetArgs {
    /// Most trainable parameters a run's network may have.
    #[arg(long, default_value_t = DEFAULT.max_parameters)]
    max_parameters: u64,
    /// Most arithmetic one run may need, training and evaluation, in PFLOP (10¹⁵).
    #[arg(long, default_value_t = DEFAULT.max_petaflop)]
    max_petaflop: f64,
    /// Most memory one training step may need, in GiB.
    #[arg(long, default_value_t = DEFAULT.max_memory_gib)]
    max_memory_gib: f64,
}

impl BudgetArgs {
    pub fn budget(&self) -> Budget {
        Budget {
            max_parameters: self.max_parameters,
            max_petaflop: self.max_petaflop,
            max_memory_gib: self.max_memory_gib,
        }
    }
}
