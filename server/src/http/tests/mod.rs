//! The router in-process (axum's `oneshot`, no socket, no process): handler edge cases,
//! and the OpenAPI document against the router itself. What needs real processes (leases,
//! `kill -9`, PostgreSQL, connection limits) is tested in `tests/api`.

mod attacks;
mod figures;
mod openapi;
mod requests;
mod weights;

use std::time::Duration;

use astute::api::Budget;
use astute::data::DataDirs;
use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use tokio::sync::watch;
use tower::ServiceExt;

use super::{AppState, RateLimits, StreamLimits};
use crate::artifacts::{self, Artifacts, Kind};
use crate::store::{Seed, Store};

/// The shipped results, as a fresh server starts with them.
const SHIPPED: &str = include_str!("../../../seed/results.json");

/// A server's router on a fresh store in a temporary folder, with an API token.
pub struct App {
    pub router: Router,
    pub token: String,
    pub artifacts: Artifacts,
    _dir: tempfile::TempDir,
    _shutdown: watch::Sender<bool>,
}

/// What the router answered.
pub struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    /// The `error` of a JSON error body.
    pub fn error(&self) -> String {
        self.json()["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error in {:?}", self.body))
            .to_owned()
    }
}

impl App {
    /// An empty store, or one holding the shipped results.
    pub async fn new(shipped: bool) -> Self {
        Self::with_artifacts(shipped, artifacts::Backend::Files).await
    }

    /// [`App::new`] with run artifacts kept by `backend`.
    pub async fn with_artifacts(shipped: bool, backend: artifacts::Backend) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in(dir.path()).await.unwrap();
        let artifacts: Artifacts = match backend {
            artifacts::Backend::Files => std::sync::Arc::new(artifacts::Files::new(dir.path())),
            artifacts::Backend::Database => {
                std::sync::Arc::new(artifacts::Database::new(store.clone()))
            }
        };
        if shipped {
            let seed: Seed = serde_json::from_str(SHIPPED).unwrap();
            assert!(store.import_if_empty(&seed).await.unwrap());
        }
        let token = "in-process-test-token".to_owned();
        store
            .add_token(&super::token_hash(&token), "test", false, None)
            .await
            .unwrap();
        let (shutdown, watching) = watch::channel(false);
        let state = AppState {
            store,
            artifacts: artifacts.clone(),
            data: DataDirs::new(Some(&dir.path().join("data"))),
            backend: "cpu".into(),
            shutdown: watching,
            datasets: Default::default(),
            budget: Budget::DEFAULT,
            default_eval_train: Some(1_000),
            streams: StreamLimits {
                open: Default::default(),
                per_client: 8,
                total: 64,
                lifetime: Duration::from_secs(5),
            },
            tables: Default::default(),
            wakeups: None,
            max_active_per_token: 20,
        };
        let router = super::router(state, RateLimits::new(None, None), &dir.path().join("site"));
        Self {
            router,
            token,
            artifacts,
            _dir: dir,
            _shutdown: shutdown,
        }
    }

    /// `method path` with `body` (JSON), with this app's token when `authorized`.
    pub async fn send(&self, method: Method, path: &str, authorized: bool, body: &str) -> Answer {
        let mut request = Request::builder().method(method).uri(path);
        if authorized {
            request = request.header(header::AUTHORIZATION, format!("Bearer {}", self.token));
        }
        if !body.is_empty() {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        let request = request.body(Body::from(body.to_owned())).unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let bytes = axum::body::to_bytes(response.into_body(), 64 << 20)
            .await
            .unwrap();
        Answer {
            status,
            content_type,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// The state folder (runs' files live under it).
    pub fn state_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// Stores `bytes` as run `id`'s weights, as a worker that trained it would.
    pub async fn store_weights(&self, id: &str, bytes: &[u8]) {
        let file = self._dir.path().join("weights-to-store");
        std::fs::write(&file, bytes).unwrap();
        self.artifacts.put(id, Kind::Weights, &file).await.unwrap();
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(Method::GET, path, false, "").await
    }
}
