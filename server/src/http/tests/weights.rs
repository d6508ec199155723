//! A run's weights download whole from either artifact backend, compressed or not.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tower::ServiceExt;

use super::App;
use crate::artifacts::Backend;

/// `GET path` with `accept_encoding`; the status, the content encoding and the body.
async fn download(app: &App, path: &str, accept_encoding: &str) -> (StatusCode, String, Vec<u8>) {
    let request = Request::get(path)
        .header(header::ACCEPT_ENCODING, accept_encoding)
        .body(Body::empty())
        .unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let encoding = response
        .headers()
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = axum::body::to_bytes(response.into_body(), 64 << 20)
        .await
        .unwrap();
    (status, encoding, body.to_vec())
}

#[tokio::test]
async fn weights_download_whole_from_either_backend() {
    // Three chunks and a bit in the database.
    let weights: Vec<u8> = (0..(3 << 20) + 77).map(|i| (i % 253) as u8).collect();
    for backend in [Backend::Files, Backend::Database] {
        let app = App::with_artifacts(true, backend).await;
        let runs = app.get("/api/runs?limit=1").await.json();
        let id = runs["runs"][0]["id"].as_str().unwrap().to_owned();
        let path = format!("/api/runs/{id}/weights");
        assert_eq!(
            download(&app, &path, "identity").await.0,
            StatusCode::NOT_FOUND
        );
        assert!(app.get(&format!("/api/runs/{id}")).await.json()["weights"].is_null());
        app.store_weights(&id, &weights).await;
        assert_eq!(
            app.get(&format!("/api/runs/{id}")).await.json()["weights"],
            path
        );
        let (status, encoding, body) = download(&app, &path, "identity").await;
        assert_eq!(
            (status, encoding.as_str()),
            (StatusCode::OK, ""),
            "{backend:?}"
        );
        assert!(body == weights, "{backend:?}: {} bytes back", body.len());
        let (status, encoding, body) = download(&app, &path, "gzip").await;
        assert_eq!(
            (status, encoding.as_str()),
            (StatusCode::OK, "gzip"),
            "{backend:?}"
        );
        let mut unzipped = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::GzDecoder::new(body.as_slice()),
            &mut unzipped,
        )
        .unwrap();
        assert!(
            unzipped == weights,
            "{backend:?}: {} bytes unzipped",
            unzipped.len()
        );
    }
}
