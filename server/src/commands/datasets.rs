//! `astute datasets`: what Astute knows and what this machine has.

use astute::data::{Availability, DataDirs, DatasetId};

use super::data_dirs::DataArgs;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    data: DataArgs,
}

/// One dataset of the catalog and whether this machine has it.
#[derive(serde::Serialize)]
pub struct Entry {
    id: String,
    title: &'static str,
    shape: [usize; 3],
    classes: usize,
    epsilon: f32,
    architecture: String,
    available: bool,
    /// Where it was found, or why it is missing.
    location: String,
}

/// Every dataset, with where it is; `reveal_paths: false` leaves this machine's folders
/// out (for the public API).
pub fn catalog(dirs: &DataDirs, reveal_paths: bool) -> Vec<Entry> {
    dirs.availability()
        .into_iter()
        .map(|(id, availability): (DatasetId, Availability)| {
            let info = id.info();
            let (available, location) = match availability {
                Availability::Generated => (true, "generated".to_string()),
                Availability::Found(path) if reveal_paths => (true, path.display().to_string()),
                Availability::Found(_) => (true, "found".to_string()),
                Availability::Missing(_) if !reveal_paths => (false, "missing".to_string()),
                Availability::Missing(message) => (false, message),
            };
            Entry {
                id: id.to_string(),
                title: info.title,
                shape: [info.shape.channels, info.shape.height, info.shape.width],
                classes: info.class_names.len(),
                epsilon: info.epsilon,
                architecture: info.architecture.to_string(),
                available,
                location,
            }
        })
        .collect()
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let entries = catalog(&args.data.dirs(), true);
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
        println!(
            "{:<20} {:<10} {:>7} {:>6} {:<10} {}",
            e.id, shape, e.classes, e.epsilon, e.architecture, place
        );
    }
    Ok(())
}
