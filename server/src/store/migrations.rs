//! The store's schema migrations, embedded in the binary: the SQL files of `migrations/`,
//! applied in order by sqlx's migrator, which records each one's checksum in the database
//! and refuses a store whose applied migrations were changed. Listed by hand rather than
//! with `sqlx::migrate!`, whose macros would build sqlx a second time (with its SQLite C
//! library) for the compiler; a test checks the list against the folder.

use std::borrow::Cow;

use futures_util::future::BoxFuture;
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};

/// A migration file's name and its SQL, read at compile time.
macro_rules! migration {
    ($file:literal) => {
        ($file, include_str!(concat!("../../migrations/", $file)))
    };
}

/// Every file of `migrations/`, oldest first. A new migration is a new file and a new line.
const MIGRATIONS: &[(&str, &str)] = &[
    migration!("0001_store.sql"),
    migration!("0002_list_indexes.sql"),
    migration!("0003_separations.sql"),
    migration!("0004_scale_and_stand_ins.sql"),
    migration!("0005_owners.sql"),
    migration!("0006_later_evaluations.sql"),
    migration!("0007_train_accuracy.sql"),
    migration!("0008_artifacts.sql"),
    migration!("0009_workers.sql"),
    migration!("0010_separation_progress.sql"),
    migration!("0011_train_headlines.sql"),
];

/// The embedded migrations as sqlx's migrator takes them.
#[derive(Debug)]
struct Embedded;

impl MigrationSource<'static> for Embedded {
    fn resolve(self) -> BoxFuture<'static, Result<Vec<Migration>, BoxDynError>> {
        Box::pin(async {
            MIGRATIONS
                .iter()
                .map(|&(file, sql)| migration(file, sql))
                .collect()
        })
    }
}

/// A migration as sqlx reads one from its folder: the version and description from the
/// file name (`0007_train_accuracy.sql`: 7, "train accuracy"), the checksum from the SQL.
fn migration(file: &str, sql: &'static str) -> Result<Migration, BoxDynError> {
    let (version, rest) = file
        .split_once('_')
        .ok_or_else(|| format!("migration {file}: expected VERSION_DESCRIPTION.sql"))?;
    let description = rest
        .strip_suffix(".sql")
        .ok_or_else(|| format!("migration {file}: not a .sql file"))?;
    Ok(Migration::new(
        version.parse()?,
        Cow::Owned(description.replace('_', " ")),
        MigrationType::Simple,
        Cow::Borrowed(sql),
        sql.starts_with("-- no-transaction"),
    ))
}

/// The migrator of the embedded migrations.
pub(super) async fn migrator() -> anyhow::Result<Migrator> {
    Ok(Migrator::new(Embedded).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The list holds every file of the folder, in order, and each migration reads as sqlx
    /// reads it from the folder: the checksums stores recorded stay valid.
    #[tokio::test]
    async fn the_embedded_list_is_the_folder() {
        let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut files: Vec<String> = std::fs::read_dir(&folder)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        files.sort();
        let listed: Vec<&str> = MIGRATIONS.iter().map(|&(file, _)| file).collect();
        assert_eq!(listed, files);
        let key = |m: &Migration| {
            let description = m.description.to_string();
            (m.version, description, m.checksum.to_vec(), m.no_tx)
        };
        let from_folder = Migrator::new(folder.as_path()).await.unwrap();
        let from_folder: Vec<_> = from_folder.iter().map(key).collect();
        let embedded: Vec<_> = migrator().await.unwrap().iter().map(key).collect();
        assert_eq!(embedded, from_folder);
    }
}
