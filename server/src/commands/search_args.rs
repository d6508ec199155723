//! The search options the separation commands share (`separation`, `prune`,
//! `distance-classifier`).

use astute::separation::{Kernel, Metric, SearchOptions};

#[derive(Debug, Clone, clap::Args)]
pub struct SearchArgs {
    /// Distance: linf (the paper's) or l2.
    #[arg(long, default_value = "linf")]
    pub metric: Metric,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Distance kernel: auto, scalar, avx2, avx512, neon, simd128.
    #[arg(long, default_value = "auto")]
    pub kernel: Kernel,
}

impl SearchArgs {
    pub fn options(&self) -> SearchOptions {
        SearchOptions {
            metric: self.metric,
            kernel: self.kernel,
            threads: self.threads,
        }
    }

    /// The kernel as run: `auto` names the one it picks on this machine.
    pub fn kernel_name(&self) -> String {
        match self.kernel {
            Kernel::Auto => format!("auto ({})", Kernel::best()),
            k => k.to_string(),
        }
    }
}
