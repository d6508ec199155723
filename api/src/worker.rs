//! The worker processes of a lab as `GET /api/workers` lists them: who is alive, on which
//! host and backend, and what each of its slots runs.

/// A job a worker's slot is running.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkerJob {
    /// `run` or `separation`.
    pub kind: String,
    pub id: String,
    /// The slot's name: the worker's, a dash, the slot's number.
    pub slot: String,
}

/// A live worker process.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkerEntry {
    /// Unique per process; its slots are named after it (`NAME-0`, `NAME-1`, ...).
    pub name: String,
    pub host: String,
    /// `cpu`, `cuda` or `wgpu`.
    pub backend: String,
    /// Jobs it runs at once.
    pub slots: usize,
    /// The Astute version it runs (with its commit).
    pub version: String,
    /// Milliseconds since the Unix epoch.
    pub started_at: i64,
    /// Its last sign of life (milliseconds since the Unix epoch); a worker silent for a
    /// lease is no longer listed.
    pub heartbeat_at: i64,
    pub jobs: Vec<WorkerJob>,
}
