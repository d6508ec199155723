//! Dataset file formats read from byte slices: the IDX files of MNIST and Fashion-MNIST,
//! CIFAR-10's binary batches, and the gzip and zlib streams datasets ship in. Every declared size is checked against
//! the bytes present before anything is allocated, and decompression stops at a ceiling,
//! so a truncated or hostile file is an error that says what is wrong, never a panic or
//! an unbounded allocation. No burn and no file system: the core (`astute`), the web app
//! and the in-browser engine all read files with these same parsers.

pub mod cifar;
pub mod idx;
pub mod inflate;

/// What is wrong with a file's bytes (the caller, who knows the file, names it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FormatError(pub String);
