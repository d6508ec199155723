//! `astute`: train and evaluate models, measure dataset separation, and serve the lab.

mod artifacts;
mod catalog;
mod commands;
mod device;
mod execute;
mod findings;
mod http;
mod provenance;
mod reproduce;
mod separate;
mod store;
mod tables;
mod worker;

/// The git commit this binary was built from ("unknown" outside a checkout).
pub fn build_commit() -> &'static str {
    env!("ASTUTE_BUILD_COMMIT")
}

use clap::Parser;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = commands::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,astute=info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match commands::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
