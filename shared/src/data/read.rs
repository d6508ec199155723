//! Whole-file reads whose errors name the file.

use std::io::ErrorKind;
use std::path::Path;

use super::DataError;

/// Reads `path` into memory; a missing file and an unreadable one get distinct messages.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, DataError> {
    std::fs::read(path).map_err(|e| match e.kind() {
        ErrorKind::NotFound => DataError::file(path, "file not found"),
        _ => DataError::file(path, format!("cannot read: {e}")),
    })
}
