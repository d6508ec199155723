//! The overlaid training curves of compared runs, and what a bad overlay request is told.

use axum::http::{Method, StatusCode};

use super::App;

/// The `<text>` labels of a plotters SVG.
fn texts(svg: &str) -> Vec<&str> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| Some(t.split_once('>')?.1.split_once("</text>")?.0.trim()))
        .collect()
}

#[tokio::test]
async fn compared_runs_overlay_their_training_curves_one_line_each() {
    let app = App::new(true).await;
    let list = app.get("/api/runs?limit=3&status=done").await.json();
    let ids: Vec<&str> = list["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 3);
    // The first run named twice is drawn once; the third is not asked for.
    let figure = app
        .get(&format!(
            "/api/plots/loss.svg?runs={},{},{}",
            ids[0], ids[1], ids[0]
        ))
        .await;
    assert_eq!(figure.status, StatusCode::OK, "{}", figure.body);
    assert_eq!(figure.content_type, "image/svg+xml");
    let labels = texts(&figure.body);
    for id in &ids[..2] {
        let legend: Vec<&&str> = labels.iter().filter(|t| t.starts_with(id)).collect();
        assert_eq!(legend.len(), 1, "{id} in {labels:?}");
    }
    assert!(!labels.iter().any(|t| t.starts_with(ids[2])), "{labels:?}");
}

#[tokio::test]
async fn a_bad_overlay_is_told_what_is_wrong() {
    let app = App::new(true).await;
    let thirteen: Vec<String> = (0..13).map(|k| format!("{k:016x}")).collect();
    for (path, status, needle) in [
        (
            "/api/plots/loss.svg?runs=,".to_owned(),
            StatusCode::BAD_REQUEST,
            "give 1 to 12 run ids, comma-separated (got 0)",
        ),
        (
            format!("/api/plots/loss.svg?runs={}", thirteen.join(",")),
            StatusCode::BAD_REQUEST,
            "(got 13)",
        ),
        (
            "/api/plots/loss.svg?runs=0123456789abcdef".to_owned(),
            StatusCode::NOT_FOUND,
            "run 0123456789abcdef not found",
        ),
        (
            "/api/plots/loss.svg".to_owned(),
            StatusCode::BAD_REQUEST,
            "runs",
        ),
    ] {
        let answer = app.get(&path).await;
        assert_eq!(answer.status, status, "{path}: {}", answer.body);
        let error = answer.error();
        assert!(
            error.contains(needle),
            "{path}: {error:?} should say {needle:?}"
        );
    }
    // A run still queued has no curve to draw.
    let queued = app
        .send(
            Method::POST,
            "/api/runs",
            true,
            r#"{"dataset": "spiral", "method": "natural"}"#,
        )
        .await
        .json();
    let id = queued["id"].as_str().unwrap();
    let answer = app.get(&format!("/api/plots/loss.svg?runs={id}")).await;
    assert_eq!(answer.status, StatusCode::CONFLICT);
    assert_eq!(
        answer.error(),
        "no epoch of any of these runs has finished yet"
    );
}
