//! `astute export`: every finished result of the store as one JSON file, the format a
//! fresh `astute serve` starts from (`server/seed/results.json` is such a file).

use std::path::PathBuf;

use anyhow::Context;

use super::store_args::StoreArgs;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to write the results.
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    store: StoreArgs,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let store = args.store.open().await?;
        let seed = store.export().await?;
        store.close().await;
        std::fs::write(&args.out, serde_json::to_string_pretty(&seed)? + "\n")
            .with_context(|| format!("writing {}", args.out.display()))?;
        eprintln!(
            "wrote {} run(s) and {} separation measurement(s) to {}",
            seed.runs.len(),
            seed.separations.len(),
            args.out.display()
        );
        Ok(())
    })
}
