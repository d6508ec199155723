//! The subcommands, one module each: an `Args` struct (clap) and a `run` function.

mod data_dirs;
mod datasets;
mod eval;
mod progress;
mod row;
mod train;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "astute",
    version,
    about = "Must robustness cost accuracy? A lab for measuring it."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Train a model with one of the paper's methods and evaluate it.
    Train(train::Args),
    /// Evaluate a weights file: clean and PGD accuracy, local Lipschitz constant, gaps.
    Eval(eval::Args),
    /// List the datasets Astute knows and which are found on this machine.
    Datasets(datasets::Args),
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Train(args) => train::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Datasets(args) => datasets::run(args),
    }
}
