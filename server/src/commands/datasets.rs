//! `astute datasets`: what Astute knows and what this machine has.

use super::data_dirs::DataArgs;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    data: DataArgs,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let entries = crate::catalog::entries(&args.data.dirs(), true);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&entries)?);
        return Ok(());
    }
    println!(
        "{:<20} {:<10} {:>7} {:>6} {:<10} where",
        "dataset", "shape", "classes", "ε", "arch"
    );
    for e in &entries {
        let shape = format!("{}×{}×{}", e.shape[0], e.shape[1], e.shape[2]);
        let place = if e.available {
            e.location.clone()
        } else {
            format!("missing — {}", e.location)
        };
        // As strings: the names' `Display` writes them without the padding asked for.
        let (name, architecture) = (e.id.to_string(), e.architecture.to_string());
        println!(
            "{name:<20} {shape:<10} {:>7} {:>6} {architecture:<10} {place}",
            e.classes, e.epsilon
        );
    }
    Ok(())
}
