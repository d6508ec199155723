//! A run and a measurement from queue to result, on SQLite and PostgreSQL, and cancelling.

use std::time::Duration;

use serde_json::json;

use crate::helpers::*;

// Writes need a token; a run goes queued → running → done with a result, its events
/// arrive over SSE, and Table 2 shows it (mean ± std over two seeds) beside the paper.
fn lifecycle(lab: &Lab) {
    let server = lab.serve(0);
    let token = lab.token();

    let spec = mnist_spec(0, 2);
    let no_token = server.send("POST", "/api/runs", None, spec.to_string().as_bytes());
    assert_eq!(no_token.status, 401, "{}", no_token.body);
    assert!(no_token.json()["error"].as_str().unwrap().contains("token"));
    let wrong = server.send(
        "POST",
        "/api/runs",
        Some("astute_nope"),
        spec.to_string().as_bytes(),
    );
    assert_eq!(wrong.status, 401);

    let mut with_curve = spec.clone();
    with_curve["curve"] = json!([0.0, 0.1, 0.3]);
    let first = server.create(&token, &with_curve);
    let second = server.create(&token, &mnist_spec(1, 2));
    // No worker yet: both wait in the queue.
    assert_eq!(server.run(&first)["status"], "queued");
    let listed = server.get("/api/runs?status=queued").json();
    assert_eq!(listed["total"], 2);

    // A separation measurement, queued beside the runs (workers take it first).
    let body: &[u8] = br#"{"dataset": "mnist"}"#;
    assert_eq!(
        server.send("POST", "/api/separations", None, body).status,
        401
    );
    let reply = server.send("POST", "/api/separations", Some(&token), body);
    assert_eq!(reply.status, 201, "{}", reply.body);
    let separation = reply.json()["id"].as_str().unwrap().to_owned();

    let _worker = lab.worker(1);
    let events = server.events(&first);
    let names: Vec<&str> = events
        .iter()
        .map(|(_, data)| data["event"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(names.first(), Some(&"claimed"), "{names:?}");
    assert!(names.contains(&"epoch_finished") && names.contains(&"checkpointed"));
    assert!(names.contains(&"evaluating"), "{names:?}");
    let (last_name, last) = events.last().unwrap();
    assert_eq!(
        (last_name.as_str(), &last["status"]),
        ("status", &json!("done"))
    );

    let run = server.run(&first);
    assert_eq!(run["status"], "done");
    assert_eq!(run["epochs_done"], 2);
    let result = &run["result"];
    let test_acc = result["metrics"]["test"]["accuracy"].as_f64().unwrap();
    assert!((0.0..=100.0).contains(&test_acc));
    assert_eq!(run["test_acc"].as_f64(), Some(test_acc));
    assert_eq!(run["provenance"]["backend"], "cpu");
    assert_eq!(run["weights"], format!("/api/runs/{first}/weights"));
    let weights = agent()
        .get(&server.url(&format!("/api/runs/{first}/weights")))
        .call()
        .unwrap();
    assert_eq!(weights.status().as_u16(), 200);
    let models = server.get("/api/models?dataset=mnist").json();
    let model = models
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == first.as_str())
        .unwrap();
    assert_eq!(model["weights"], format!("/api/runs/{first}/weights"));
    assert_eq!(model["test_acc"].as_f64(), Some(test_acc));

    // Its figures: the training curve has one point per epoch.
    let loss = server.get(&format!("/api/runs/{first}/loss.svg"));
    assert_eq!(loss.status, 200);
    assert!(loss.body.contains("mean training loss"));
    // The curve: at ε = 0 the attack cannot move an image, so it is the clean accuracy;
    // a larger radius never leaves more images correct.
    let curve = result["accuracy_vs_epsilon"].as_array().unwrap();
    let at = |k: usize| curve[k][1].as_f64().unwrap();
    assert_eq!(curve.len(), 3);
    assert_eq!(at(0), test_acc);
    assert!(at(1) <= at(0) && at(2) <= at(1), "{curve:?}");
    let figure = server.get(&format!("/api/runs/{first}/accuracy-vs-epsilon.svg"));
    assert_eq!(figure.status, 200);
    assert!(figure.body.contains("accuracy under attack"));
    let other = server.wait_status(&second, "done", Duration::from_secs(300));
    let none = server.get(&format!("/api/runs/{second}/accuracy-vs-epsilon.svg"));
    assert_eq!(none.status, 409);
    let tradeoff = server.get("/api/plots/tradeoff.svg?dataset=mnist");
    assert_eq!(tradeoff.status, 200);
    assert_eq!(tradeoff.body.matches("cnn1 natural (L = ").count(), 2);
    assert_eq!(
        server.get("/api/plots/tradeoff.svg?dataset=svhn").status,
        404
    );
    let accuracies = [test_acc, other["test_acc"].as_f64().unwrap()];
    let mean = (accuracies[0] + accuracies[1]) / 2.0;
    let std = (accuracies[0] - accuracies[1]).abs() / 2f64.sqrt();

    // The separation measured by the worker equals brute force on the same files, and
    // Table 1 shows it beside the paper's MNIST row.
    let (train, test) = (pixels(TRAIN, 1), pixels(TEST, 2));
    let train_train = brute_force_min(&train, &train, true);
    let test_train = brute_force_min(&test, &train, false);
    let record = server.get(&format!("/api/separations/{separation}")).json();
    assert_eq!(record["status"], "done", "{record}");
    // Exact in byte units: the same multiple of 1/255.
    let same = |got: Option<f64>, want: f64| {
        let got = got.unwrap();
        assert_eq!(
            (got * 255.0).round(),
            (want * 255.0).round(),
            "{got} vs {want}"
        );
        assert!((got - want).abs() < 1e-12, "{got} vs {want}");
    };
    same(record["min_train_train"].as_f64(), train_train);
    same(record["min_test_train"].as_f64(), test_train);
    assert_eq!(record["reports"][0]["queries"], TRAIN);
    let svg = server.get(&format!("/api/separations/{separation}/histogram.svg"));
    assert_eq!(svg.status, 200);
    assert!(svg.body.contains("<svg") && svg.body.contains("</svg>"));
    let table1 = server.get("/api/tables/1").json();
    let mnist = table1["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["dataset"] == "mnist")
        .unwrap();
    assert_eq!(mnist["cells"][0]["paper"], 0.737);
    let measured = |k: usize| mnist["cells"][k]["measured"]["mean"].as_f64();
    same(measured(0), train_train);
    same(measured(1), test_train);

    // Table 2: the paper's CNN1 natural row (test accuracy 99.2) with both runs beside it.
    let table = server.get("/api/tables/2").json();
    let row = table["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["architecture"] == "cnn1" && r["method"] == "natural")
        .unwrap();
    assert_eq!(row["cells"][1]["paper"], 99.2);
    let measured = &row["cells"][1]["measured"];
    assert_eq!(measured["n"], 2);
    assert!((measured["mean"].as_f64().unwrap() - mean).abs() < 1e-9);
    assert!((measured["std"].as_f64().unwrap() - std).abs() < 1e-9);
    let csv = server.get("/api/tables/2?format=csv");
    assert!(
        csv.body.contains(&format!("99.2000,{mean:.4},{std:.4},2")),
        "{}",
        csv.body
    );
    let markdown = server.get("/api/tables/2?format=md").body;
    assert!(
        markdown.contains(&format!("99.20 / {mean:.2} ± {std:.2} (n=2)")),
        "{markdown}"
    );
    let latex = server.get("/api/tables/2?format=tex").body;
    assert!(
        latex.contains(&format!("99.20 / {mean:.2} $\\pm$ {std:.2} (n=2)")),
        "{latex}"
    );
    assert!(latex.contains("\\begin{tabular}"));
    let table1 = server.get("/api/tables/1?format=md").body;
    let row =
        format!("| mnist | 0.1 |  |  |  | 0.737 / {train_train:.3} | 0.812 / {test_train:.3}");
    assert!(table1.contains(&row), "{table1}");

    // Delete needs a token too; then the run is gone.
    assert_eq!(
        server
            .send("DELETE", &format!("/api/runs/{second}"), None, b"")
            .status,
        401
    );
    let deleted = server.send("DELETE", &format!("/api/runs/{second}"), Some(&token), b"");
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    assert_eq!(server.get(&format!("/api/runs/{second}")).status, 404);
}

#[test]
fn run_lifecycle_on_sqlite() {
    lifecycle(&Lab::sqlite());
}

#[test]
fn run_lifecycle_on_postgres() {
    if let Some(lab) = Lab::postgres("lifecycle") {
        lifecycle(&lab);
    }
}

/// Cancel: a queued run stops at once, a running one at its next batch; both end
/// `cancelled`, and the worker goes on to other runs.
#[test]
fn cancel_stops_queued_and_running_runs() {
    let lab = Lab::sqlite();
    let server = lab.serve(1);
    let token = lab.token();
    let long = json!({"dataset": "mnist", "architecture": "cnn1", "method": "trades:6",
        "epochs": 500, "batch_size": 16});
    let running = server.create(&token, &long);
    let queued = server.create(&token, &long);
    server.wait_status(&running, "running", Duration::from_secs(60));
    assert_eq!(server.run(&queued)["status"], "queued");

    let path = |id: &str| format!("/api/runs/{id}/cancel");
    assert_eq!(server.send("POST", &path(&queued), None, b"").status, 401);
    let reply = server.send("POST", &path(&queued), Some(&token), b"");
    assert_eq!(
        (reply.status, reply.json()["status"].clone()),
        (200, json!("cancelled"))
    );
    let reply = server.send("POST", &path(&running), Some(&token), b"");
    assert_eq!(reply.status, 200, "{}", reply.body);
    let run = server.wait_status(&running, "cancelled", Duration::from_secs(60));
    assert!(run["epochs_done"].as_i64().unwrap() < 500);
    let events = server.events(&running);
    let finished = events
        .iter()
        .rev()
        .find(|(_, e)| e["event"] == "finished")
        .unwrap();
    assert_eq!(finished.1["status"], "cancelled");
    assert_eq!(
        server
            .send("POST", &path("0000000000000000"), Some(&token), b"")
            .status,
        404
    );
}
