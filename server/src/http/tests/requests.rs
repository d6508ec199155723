//! Handler edge cases: what a bad request is told, what a good one gets, and that nothing
//! is stored by a refusal.

use astute_api::table::{Format, Table};
use axum::http::{Method, StatusCode};
use serde_json::json;

use super::App;

/// Bad specs get a JSON error naming the problem (400 for what is not a spec, 422 for a
/// spec that cannot be run), and nothing is queued.
#[tokio::test]
async fn bad_specs_are_refused_clearly() {
    let app = App::new(false).await;
    let cases: [(&str, StatusCode, &str); 7] = [
        ("{\"dataset\": ", StatusCode::BAD_REQUEST, "JSON"),
        (
            r#"{"dataset": "imagenet-22k", "method": "natural"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "imagenet-22k",
        ),
        (
            r#"{"dataset": "mnist", "method": "natural", "epsilon": -0.1}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "ε = -0.1 must be in (0, 1]",
        ),
        (
            r#"{"dataset": "mnist", "method": "natural", "epochs": 1000000000}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "1000000000 epochs: choose 1 to 10000",
        ),
        (
            r#"{"dataset": "mnist", "method": "trades:-1"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "'trades:-1': '-1' is not a non-negative number",
        ),
        (
            r#"{"dataset": "mnist", "method": "natural", "epohcs": 3}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown field `epohcs`",
        ),
        (
            r#"{"dataset": "mnist", "method": "natural", "curve": [0.1, 2]}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "curve radius 2: radii are in [0, 1]",
        ),
    ];
    for (body, status, needle) in cases {
        let answer = app.send(Method::POST, "/api/runs", true, body).await;
        assert_eq!(answer.status, status, "{body}: {}", answer.body);
        assert!(
            answer.content_type.starts_with("application/json"),
            "{body}"
        );
        let error = answer.error();
        assert!(error.contains(needle), "{error:?} should say {needle:?}");
    }
    assert_eq!(app.get("/api/runs").await.json()["total"], 0);
}

/// Queries that are not ones are 400s that say why; unknown things are JSON 404s.
#[tokio::test]
async fn bad_queries_and_unknown_things_are_told_apart() {
    let app = App::new(false).await;
    for (path, status, needle) in [
        (
            "/api/runs?sort=nonsense",
            StatusCode::BAD_REQUEST,
            "cannot sort by \"nonsense\"",
        ),
        (
            "/api/runs?limit=100000",
            StatusCode::BAD_REQUEST,
            "limit must be 1 to 500",
        ),
        (
            "/api/runs?status=sleeping",
            StatusCode::BAD_REQUEST,
            "sleeping",
        ),
        (
            "/api/runs?dataset=emnist",
            StatusCode::BAD_REQUEST,
            "unknown dataset 'emnist'",
        ),
        (
            "/api/runs?offset=-1",
            StatusCode::BAD_REQUEST,
            "offset must not be negative",
        ),
        ("/api/tables/7", StatusCode::NOT_FOUND, "not found"),
        ("/api/tables/2?format=docx", StatusCode::BAD_REQUEST, "docx"),
        (
            "/api/runs/0123456789abcdef",
            StatusCode::NOT_FOUND,
            "run not found",
        ),
        (
            "/api/separations/0123456789abcdef",
            StatusCode::NOT_FOUND,
            "not found",
        ),
        (
            "/api/no-such-route",
            StatusCode::NOT_FOUND,
            "route not found",
        ),
        (
            "/api/scales?dataset=emnist",
            StatusCode::BAD_REQUEST,
            "unknown dataset 'emnist'",
        ),
    ] {
        let answer = app.get(path).await;
        assert_eq!(answer.status, status, "{path}: {}", answer.body);
        let error = answer.error();
        assert!(
            error.contains(needle),
            "{path}: {error:?} should say {needle:?}"
        );
    }
    let answer = app.send(Method::PUT, "/api/health", false, "").await;
    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(answer.error(), "method not allowed");
}

/// Writes need a valid token; reads do not.
#[tokio::test]
async fn writes_need_a_token() {
    let app = App::new(true).await;
    let spec = r#"{"dataset": "spiral", "method": "natural"}"#;
    let answer = app.send(Method::POST, "/api/runs", false, spec).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let id = app.get("/api/runs?limit=1").await.json()["runs"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (method, path) in [
        (Method::POST, format!("/api/runs/{id}/cancel")),
        (Method::DELETE, format!("/api/runs/{id}")),
        (Method::POST, "/api/separations".to_owned()),
    ] {
        let answer = app.send(method.clone(), &path, false, "").await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{method} {path}");
    }
    let created = app.send(Method::POST, "/api/runs", true, spec).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.json()["status"], "queued");
}

/// Any `u64` seed comes back as given, and the `Bearer` scheme is case-insensitive.
#[tokio::test]
async fn seeds_and_the_authorization_scheme() {
    let app = App::new(false).await;
    let spec = json!({"dataset": "mnist", "method": "natural", "seed": u64::MAX}).to_string();
    let request = axum::http::Request::post("/api/runs")
        .header("authorization", format!("bearer {}", app.token))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(spec))
        .unwrap();
    let response = tower::ServiceExt::oneshot(app.router.clone(), request)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let runs = app.get("/api/runs").await.json();
    assert_eq!(runs["runs"][0]["seed"], json!(u64::MAX));
    let id = runs["runs"][0]["id"].as_str().unwrap();
    let run = app.get(&format!("/api/runs/{id}")).await.json();
    assert_eq!(run["spec"]["seed"], json!(u64::MAX));
}

/// The server's text of a table equals what the web app writes from the table's JSON: the
/// web app runs the same renderer on the `Table` it read, so the JSON must carry everything
/// the text shows (a lossless trip), byte for byte.
#[tokio::test]
async fn the_browsers_table_exports_equal_the_servers() {
    let app = App::new(true).await;
    for number in 1..=4 {
        let json = app.get(&format!("/api/tables/{number}")).await;
        let table: Table = serde_json::from_str(&json.body).unwrap();
        if number == 2 {
            // The shipped results fill Table 2: the comparison is not of empty tables.
            assert!(table.rows.iter().any(|row| !row.runs.is_empty()));
        }
        for (format, name) in [
            (Format::Csv, "csv"),
            (Format::Markdown, "md"),
            (Format::Latex, "tex"),
        ] {
            let server = app
                .get(&format!("/api/tables/{number}?format={name}"))
                .await;
            assert_eq!(server.status, StatusCode::OK);
            assert_eq!(server.content_type, format.content_type());
            assert_eq!(
                server.body,
                table.render(format),
                "Table {number} as {name}"
            );
        }
    }
}
