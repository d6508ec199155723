//! The dataset catalog as this machine sees it: every dataset Astute knows, and whether
//! (and where) it is here.

use astute::data::{Availability, Catalog, DataDirs, DatasetId};
use astute_api::DatasetEntry;

/// Every dataset, with where it is; `reveal_paths: false` leaves this machine's folders
/// out (for the public API).
pub fn entries(dirs: &DataDirs, reveal_paths: bool) -> Vec<DatasetEntry> {
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
            DatasetEntry {
                id,
                title: info.title.to_owned(),
                shape: [info.shape.channels, info.shape.height, info.shape.width],
                classes: info.class_names.len(),
                class_names: info.class_names.iter().map(|n| n.to_string()).collect(),
                epsilon: info.epsilon,
                architecture: info.architecture,
                available,
                location,
            }
        })
        .collect()
}
