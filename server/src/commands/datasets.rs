//! `astute datasets`: what Astute knows and what this machine has.

use astute::data::{Availability, DatasetId};

use super::data_dirs::DataArgs;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    data: DataArgs,
}

#[derive(serde::Serialize)]
struct Entry {
    id: String,
    title: &'static str,
    shape: [usize; 3],
    classes: usize,
    epsilon: f32,
    architecture: String,
    available: bool,
    location: String,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let entries: Vec<Entry> = args
        .data
        .dirs()
        .availability()
        .into_iter()
        .map(|(id, availability): (DatasetId, Availability)| {
            let info = id.info();
            let (available, location) = match availability {
                Availability::Generated => (true, "generated".to_string()),
                Availability::Found(path) => (true, path.display().to_string()),
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
        .collect();
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
