//! The wire types of `astute-api` (what the CLI, the server and the browser exchange),
//! and what the core adds to them: what a spec would cost, and the budget it must fit.

#[cfg(feature = "networks")]
mod budget;

pub use astute_api::*;
#[cfg(feature = "networks")]
pub use budget::{Budget, BudgetError, Cost};
