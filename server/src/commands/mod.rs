//! The subcommands, one module each: an `Args` struct (clap) and a `run` function.

mod attack;
mod bench;
mod budget_args;
mod data;
mod data_dirs;
pub mod datasets;
mod distance_classifier;
mod eval;
mod export;
mod lab_bench;
mod playground;
mod predict;
mod progress;
mod prune;
mod reproduce;
pub mod row;
mod search_args;
mod separation;
mod serve;
mod store_args;
mod token;
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
    /// Robust accuracy under seeded PGD-10 on the first test images, computed exactly as
    /// the browser playground computes it.
    Attack(attack::Args),
    /// Print a weights file's logits on the first test images (JSON).
    Predict(predict::Args),
    /// List the datasets Astute knows and which are found on this machine.
    Datasets(datasets::Args),
    /// Exact distance from every point to the nearest training point of another class
    /// (Table 1, Figure 3): min, mean, histogram, closest pairs, r/ε.
    Separation(separation::Args),
    /// Remove as few training points as possible so that the rest is r-separated.
    Prune(prune::Args),
    /// The distance classifier of Theorem 4.2: accuracy and certified astuteness, no attack.
    DistanceClassifier(distance_classifier::Args),
    /// Download datasets' official files.
    #[command(subcommand)]
    Data(data::DataCommand),
    /// Serve the HTTP API and run jobs (runs queued through it or by other commands).
    Serve(serve::ServeArgs),
    /// Only run jobs, from the database given (for more machines on one shared store).
    Worker(serve::WorkerOnlyArgs),
    /// Queue (and run here) the jobs that reproduce one of the paper's tables at a scale.
    Reproduce(reproduce::Args),
    /// Write every finished result of the store to a JSON file (a server's seed).
    Export(export::Args),
    /// API tokens for the write endpoints.
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Train the browser playground's models (half precision) and write its samples and
    /// manifest (static/playground; models already there are kept, full-precision ones
    /// rounded to half and measured again).
    Playground(playground::Args),
    /// Measure throughput: CNN2 training steps (natural, AT, TRADES), the evaluation
    /// protocol and WRN-16-4 steps, beside the PyTorch reference when it is installed.
    Bench(bench::Args),
    /// Measure a lab's shared store: how soon a worker's event reaches a live stream
    /// (polling, and PostgreSQL's LISTEN/NOTIFY) and how many jobs workers claim per second.
    LabBench(lab_bench::Args),
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Train(args) => train::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Attack(args) => attack::run(args),
        Command::Playground(args) => playground::run(args),
        Command::Data(command) => data::run(command),
        Command::Predict(args) => predict::run(args),
        Command::Datasets(args) => datasets::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Separation(args) => separation::run(args),
        Command::Prune(args) => prune::run(args),
        Command::DistanceClassifier(args) => distance_classifier::run(args),
        Command::Serve(args) => serve::serve(args),
        Command::Worker(args) => serve::worker(args),
        Command::Token(command) => token::run(command),
        Command::Reproduce(args) => reproduce::run(args),
        Command::Export(args) => export::run(args),
        Command::LabBench(args) => lab_bench::run(args),
    }
}
