//! Finding and loading datasets on disk. Data directories are searched in order: an
//! explicit `--data-dir`, then `ASTUTE_DATA_DIR` (a path list, like `PATH`), then the
//! `data/` folder of the checkout Astute was built from (the MNIST sample ships there),
//! then `/usr/share/datasets` (where Debian's `dataset-fashion-mnist` installs). Inside a
//! data directory each dataset has a folder named by its id (`<dir>/fashion-mnist/`,
//! `<dir>/cifar10/`, ...), with a few aliases listed in [`folder_names`].

use std::path::{Path, PathBuf};

use super::catalog::{Catalog, DatasetId};
use super::image_folder::{self, ImageFolderOptions};
use super::synthetic::SpiralConfig;
use super::{DataError, Split, cifar, idx, svhn};

/// The environment variable naming extra data directories.
pub const DATA_DIR_ENV: &str = "ASTUTE_DATA_DIR";
/// Where Debian's dataset packages install.
pub const SYSTEM_DATA_DIR: &str = "/usr/share/datasets";

/// The data Astute ships (the MNIST sample), in the checkout it was built from. An
/// installed copy names its own with `ASTUTE_DATA_DIR`, as the Dockerfile does.
pub fn shipped_data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("data"), |checkout| checkout.join("data"))
}

/// The data directories to search, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDirs {
    dirs: Vec<PathBuf>,
}

/// Whether a dataset can be loaded, for `astute datasets`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Availability {
    /// Generated on demand, no files needed.
    Generated,
    /// The files are in this folder.
    Found(PathBuf),
    /// Not found; the message says what to put where.
    Missing(String),
}

impl DataDirs {
    /// `explicit` (from `--data-dir`), then `ASTUTE_DATA_DIR`, then the shipped data, then
    /// `/usr/share/datasets`.
    pub fn new(explicit: Option<&Path>) -> Self {
        let env = std::env::var_os(DATA_DIR_ENV).unwrap_or_default();
        let dirs: Vec<PathBuf> = explicit
            .map(Path::to_path_buf)
            .into_iter()
            .chain(std::env::split_paths(&env).filter(|p| !p.as_os_str().is_empty()))
            .chain([shipped_data_dir(), PathBuf::from(SYSTEM_DATA_DIR)])
            .collect();
        Self::only(dirs)
    }

    /// Exactly these directories, in this order (duplicates dropped).
    pub fn only(dirs: impl IntoIterator<Item = PathBuf>) -> Self {
        let mut unique: Vec<PathBuf> = Vec::new();
        for dir in dirs {
            if !unique.contains(&dir) {
                unique.push(dir);
            }
        }
        Self { dirs: unique }
    }

    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }

    /// The first folder that holds all of `id`'s files, or an error listing the files
    /// expected and every folder searched.
    pub fn locate(&self, id: DatasetId) -> Result<PathBuf, DataError> {
        if id == DatasetId::Spiral {
            return Err(DataError::Invalid(
                "the spiral is generated: it has no files to locate".into(),
            ));
        }
        let searched = self.candidates(id);
        searched
            .iter()
            .find(|folder| is_complete(id, folder))
            .cloned()
            .ok_or_else(|| DataError::NotFound {
                dataset: id.to_string(),
                expected: expected_files(id),
                searched,
                instructions: id.info().instructions.to_owned(),
            })
    }

    /// Every dataset with whether and where it is available.
    pub fn availability(&self) -> Vec<(DatasetId, Availability)> {
        DatasetId::all()
            .into_iter()
            .map(|id| {
                let status = match id {
                    DatasetId::Spiral => Availability::Generated,
                    _ => match self.locate(id) {
                        Ok(folder) => Availability::Found(folder),
                        Err(e) => Availability::Missing(e.to_string()),
                    },
                };
                (id, status)
            })
            .collect()
    }

    /// The folders that may hold `id`, in search order.
    fn candidates(&self, id: DatasetId) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for dir in &self.dirs {
            for name in folder_names(id) {
                let folder = dir.join(name);
                if id == DatasetId::Cifar10 && *name != cifar::ARCHIVE_FOLDER {
                    out.push(folder.join(cifar::ARCHIVE_FOLDER));
                }
                out.push(folder);
            }
        }
        out
    }
}

/// Every how-many-th digit of each class of the MNIST sample is a test digit.
pub const MNIST_SAMPLE_TEST_EVERY: usize = 5;

/// Loads `id`'s official training and test parts (the spiral is generated with its
/// default configuration; Restricted ImageNet is reduced to 64 × 64; the MNIST sample is
/// split again by class, see [`Split::stratified`]).
pub fn load(id: DatasetId, dirs: &DataDirs) -> Result<Split, DataError> {
    let names = || id.info().class_names;
    match id {
        DatasetId::Spiral => Ok(SpiralConfig::default().generate()?.split),
        DatasetId::Mnist | DatasetId::FashionMnist => idx::load_split(&dirs.locate(id)?, names()),
        // The shipped 8,000 / 2,000 split puts almost every 4 and 9 in the test part.
        DatasetId::MnistSample => {
            idx::load_split(&dirs.locate(id)?, names())?.stratified(MNIST_SAMPLE_TEST_EVERY)
        }
        DatasetId::Cifar10 => cifar::load(&dirs.locate(id)?),
        DatasetId::Svhn => svhn::load(&dirs.locate(id)?),
        DatasetId::RestrictedImagenet => {
            image_folder::load(&dirs.locate(id)?, &ImageFolderOptions::default())
        }
    }
}

/// Folder names of `id` inside a data directory: its id first, then aliases (the
/// name the MNIST sample ships under, the folder CIFAR-10's archive unpacks to).
pub fn folder_names(id: DatasetId) -> &'static [&'static str] {
    match id {
        DatasetId::Mnist => &["mnist"],
        DatasetId::MnistSample => &["mnist-sample", "mnist-subset"],
        DatasetId::FashionMnist => &["fashion-mnist"],
        DatasetId::Cifar10 => &["cifar10", cifar::ARCHIVE_FOLDER],
        DatasetId::Svhn => &["svhn"],
        DatasetId::RestrictedImagenet => &["restricted-imagenet", "imagenet"],
        DatasetId::Spiral => &[],
    }
}

/// The files (and folders, ending in `/`) a dataset folder must contain.
pub fn expected_files(id: DatasetId) -> Vec<String> {
    let owned = |names: &[&str]| names.iter().map(|&n| n.to_owned()).collect();
    match id {
        DatasetId::Mnist | DatasetId::MnistSample | DatasetId::FashionMnist => [
            idx::TRAIN_IMAGES,
            idx::TRAIN_LABELS,
            idx::TEST_IMAGES,
            idx::TEST_LABELS,
        ]
        .iter()
        .map(|stem| format!("{stem}[.gz]"))
        .collect(),
        DatasetId::Cifar10 => owned(&[&cifar::TRAIN_FILES[..], &[cifar::TEST_FILE]].concat()),
        DatasetId::Svhn => owned(&[svhn::TRAIN_FILE, svhn::TEST_FILE]),
        DatasetId::RestrictedImagenet => {
            vec![
                format!("{}/", image_folder::TRAIN_FOLDER),
                format!("{}/", image_folder::VAL_FOLDER),
            ]
        }
        DatasetId::Spiral => Vec::new(),
    }
}

/// Whether `folder` holds every file `id` needs (contents are checked when loading).
fn is_complete(id: DatasetId, folder: &Path) -> bool {
    match id {
        DatasetId::Mnist | DatasetId::MnistSample | DatasetId::FashionMnist => [
            idx::TRAIN_IMAGES,
            idx::TRAIN_LABELS,
            idx::TEST_IMAGES,
            idx::TEST_LABELS,
        ]
        .iter()
        .all(|stem| idx::find(folder, stem).is_some()),
        DatasetId::Cifar10 => cifar::TRAIN_FILES
            .iter()
            .chain([&cifar::TEST_FILE])
            .all(|f| folder.join(f).is_file()),
        DatasetId::Svhn => [svhn::TRAIN_FILE, svhn::TEST_FILE]
            .iter()
            .all(|f| folder.join(f).is_file()),
        DatasetId::RestrictedImagenet => [image_folder::TRAIN_FOLDER, image_folder::VAL_FOLDER]
            .iter()
            .all(|f| folder.join(f).is_dir()),
        DatasetId::Spiral => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_dataset_lists_files_and_folders() {
        let dir = tempfile::tempdir().unwrap();
        let dirs = DataDirs::only([dir.path().to_path_buf()]);
        let err = dirs.locate(DatasetId::Svhn).unwrap_err().to_string();
        assert!(err.contains("train_32x32.mat, test_32x32.mat"), "{err}");
        assert!(
            err.contains(&dir.path().join("svhn").display().to_string()),
            "{err}"
        );
        let err = dirs.locate(DatasetId::MnistSample).unwrap_err().to_string();
        assert!(
            err.contains("mnist-subset") && err.contains("t10k-labels-idx1-ubyte[.gz]"),
            "{err}"
        );
    }

    #[test]
    fn cifar_is_found_inside_the_archive_folder() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("cifar10").join(cifar::ARCHIVE_FOLDER);
        std::fs::create_dir_all(&nested).unwrap();
        for f in cifar::TRAIN_FILES.iter().chain([&cifar::TEST_FILE]) {
            std::fs::write(nested.join(f), b"").unwrap();
        }
        let dirs = DataDirs::only([dir.path().to_path_buf()]);
        assert_eq!(dirs.locate(DatasetId::Cifar10).unwrap(), nested);
    }

    #[test]
    fn search_order_is_explicit_env_shipped_system_without_duplicates() {
        let dirs = DataDirs::only([
            PathBuf::from("/a"),
            PathBuf::from("/b"),
            PathBuf::from("/a"),
        ]);
        assert_eq!(dirs.dirs(), &[PathBuf::from("/a"), PathBuf::from("/b")]);
        let dirs = DataDirs::new(Some(Path::new("/explicit")));
        assert_eq!(dirs.dirs().first().unwrap(), Path::new("/explicit"));
        let n = dirs.dirs().len();
        assert_eq!(dirs.dirs()[n - 2], shipped_data_dir());
        assert_eq!(dirs.dirs()[n - 1], Path::new(SYSTEM_DATA_DIR));
    }

    #[test]
    fn the_mnist_sample_ships_with_astute() {
        let dirs = DataDirs::only([shipped_data_dir()]);
        let folder = dirs.locate(DatasetId::MnistSample).unwrap();
        assert_eq!(folder, shipped_data_dir().join("mnist-sample"));
        let split = load(DatasetId::MnistSample, &dirs).unwrap();
        assert_eq!((split.train.len(), split.test.len()), (8_004, 1_996));
    }

    #[test]
    fn spiral_is_always_available() {
        let dirs = DataDirs::only([]);
        let all = dirs.availability();
        assert_eq!(all.len(), DatasetId::all().len());
        assert!(all.contains(&(DatasetId::Spiral, Availability::Generated)));
        assert!(matches!(all[0].1, Availability::Missing(_)));
        assert_eq!(load(DatasetId::Spiral, &dirs).unwrap().train.len(), 500);
    }
}
