//! Errors that name the file and what is wrong with it.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{path}: {problem}")]
    File { path: PathBuf, problem: String },
    #[error("{0}")]
    Invalid(String),
    /// None of the searched folders holds the dataset's files: says which files were
    /// expected, where Astute looked, and how to get them.
    #[error(
        "{dataset} not found: expected {expected} in one of these folders: {searched}. {instructions}",
        expected = .expected.join(", "),
        searched = .searched.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    NotFound {
        dataset: String,
        expected: Vec<String>,
        searched: Vec<PathBuf>,
        instructions: String,
    },
}

impl DataError {
    pub fn file(path: impl Into<PathBuf>, problem: impl Into<String>) -> Self {
        Self::File {
            path: path.into(),
            problem: problem.into(),
        }
    }

    /// Names the file a byte-slice parser was reading: the parsers never see paths, so
    /// their `Invalid` problems get the path attached by the loader that read the bytes.
    pub fn in_file(self, path: impl Into<PathBuf>) -> Self {
        match self {
            Self::Invalid(problem) => Self::file(path, problem),
            other => other,
        }
    }
}

/// A parser's complaint about bytes, before the loader names their file.
impl From<astute_formats::FormatError> for DataError {
    fn from(error: astute_formats::FormatError) -> Self {
        Self::Invalid(error.0)
    }
}
