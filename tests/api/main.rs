//! End to end: the `astute` binary serving its HTTP API on a real port, with workers in
//! other processes, on SQLite and on a real PostgreSQL server
//! (`ASTUTE_TEST_POSTGRES_URL`, which `scripts/test.sh` starts). Datasets are tiny MNIST
//! files in the official IDX format, written by the tests.
//!
//! One file per feature; what they share is in `helpers`. Handler edge cases that need no
//! process are tested in-process, in `server/src/http/tests`.

mod helpers;
mod lifecycle;
mod limits;
mod public_site;
mod shipped;
mod workers;
