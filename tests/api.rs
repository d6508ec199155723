//! End to end: the `astute` binary serving its HTTP API on a real port, with workers in
//! other processes, on SQLite and on a real PostgreSQL server
//! (`ASTUTE_TEST_POSTGRES_URL`, which `scripts/test.sh` starts). Datasets are tiny MNIST
//! files in the official IDX format, written by the tests.

#[allow(dead_code)]
mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{Lab, PIXELS, TEST, TRAIN, agent, label, mnist_spec, pixels};
use serde_json::{Value, json};

/// The smallest ℓ∞ distance (on [0, 1] pixels) from a query image to a training image of
/// another class, by brute force; `same_set` skips the image itself.
fn brute_force_min(queries: &[u8], train: &[u8], same_set: bool) -> f64 {
    let mut best = u8::MAX;
    for (i, q) in queries.chunks(PIXELS).enumerate() {
        for (j, t) in train.chunks(PIXELS).enumerate() {
            if (same_set && i == j) || label(i) == label(j) {
                continue;
            }
            let d = q.iter().zip(t).map(|(a, b)| a.abs_diff(*b)).max().unwrap();
            best = best.min(d);
        }
    }
    f64::from(best) / 255.0
}

/// Writes need a token; a run goes queued → running → done with a result, its events
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

/// Bad requests get a 4xx JSON error naming the problem, and the server keeps serving.
#[test]
fn bad_input_is_refused_clearly() {
    let lab = Lab::sqlite();
    let server = lab.serve(0);
    let token = lab.token();
    let post = |body: &[u8]| server.send("POST", "/api/runs", Some(&token), body);
    let cases: [(&[u8], u16, &str); 6] = [
        (b"{\"dataset\": ", 400, "JSON"),
        (
            br#"{"dataset": "imagenet-22k", "method": "natural"}"#,
            422,
            "imagenet-22k",
        ),
        (
            br#"{"dataset": "mnist", "method": "natural", "epsilon": -0.1}"#,
            422,
            "0.1",
        ),
        (
            br#"{"dataset": "mnist", "method": "natural", "epochs": 1000000000}"#,
            422,
            "epochs",
        ),
        (
            br#"{"dataset": "mnist", "method": "trades:-1"}"#,
            422,
            "trades",
        ),
        (
            br#"{"dataset": "mnist", "method": "natural", "epohcs": 3}"#,
            422,
            "epohcs",
        ),
    ];
    for (body, status, needle) in cases {
        let reply = post(body);
        assert_eq!(
            reply.status,
            status,
            "{}: {}",
            String::from_utf8_lossy(body),
            reply.body
        );
        let error = reply.json()["error"].as_str().unwrap().to_owned();
        assert!(error.contains(needle), "{error:?} should name {needle:?}");
    }
    // 100 MB: refused from its declared length. curl sends it (ureq stops at the
    // server's early answer with a broken pipe, as it should).
    let huge = lab.dir.path().join("huge.json");
    std::fs::write(&huge, vec![b' '; 100 << 20]).unwrap();
    let out = Command::new("curl")
        .args(["-s", "-w", "\n%{http_code}", "-X", "POST", "-H"])
        .arg(format!("authorization: Bearer {token}"))
        .args(["-H", "content-type: application/json", "--data-binary"])
        .arg(format!("@{}", huge.display()))
        .arg(server.url("/api/runs"))
        .output()
        .expect("curl");
    let out = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.ends_with("\n413") && out.contains("length limit"),
        "{out}"
    );
    assert_eq!(server.get("/api/runs?sort=nonsense").status, 400);
    assert_eq!(server.get("/api/runs?limit=100000").status, 400);
    assert_eq!(server.get("/api/runs?status=sleeping").status, 400);
    assert_eq!(server.get("/api/tables/7").status, 404);
    assert_eq!(server.get("/api/tables/2?format=docx").status, 400);
    assert_eq!(server.get("/api/runs/0123456789abcdef").status, 404);
    // Nothing was stored, and the server still answers.
    assert_eq!(server.get("/api/runs").json()["total"], 0);
    assert_eq!(server.get("/api/health").status, 200);
}

/// A client writing faster than its limit gets 429 with Retry-After; reads go on.
#[test]
fn writes_over_the_rate_limit_are_refused() {
    let lab = Lab::sqlite();
    let server = lab.serve_with(
        0,
        &["--no-seed", "--write-rate", "0.1", "--write-burst", "3"],
    );
    let token = lab.token();
    let spec = mnist_spec(0, 1).to_string();
    let statuses: Vec<u16> = (0..5)
        .map(|_| {
            server
                .send("POST", "/api/runs", Some(&token), spec.as_bytes())
                .status
        })
        .collect();
    assert_eq!(statuses, [201, 201, 201, 429, 429]);
    let refused = server.send("POST", "/api/runs", Some(&token), spec.as_bytes());
    assert!(
        refused.json()["error"]
            .as_str()
            .unwrap()
            .contains("too many writes")
    );
    assert_eq!(server.get("/api/runs").json()["total"], 3);
}

/// `kill -9` of the worker mid-run: its lease expires, another worker claims the run and
/// resumes from the last checkpoint (not from epoch 0), and the run finishes.
fn crash_and_resume(lab: &Lab) {
    let server = lab.serve(0);
    let token = lab.token();
    let id = server.create(
        &token,
        &json!({"dataset": "mnist", "architecture": "cnn1",
        "method": "trades:6", "epochs": 4, "batch_size": 16}),
    );
    let mut worker = lab.worker(1);
    // Wait for the first checkpoint, then kill the worker without warning.
    let start = Instant::now();
    loop {
        let run = server.run(&id);
        if run["epochs_done"].as_i64().unwrap() >= 1 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "no checkpoint: {run}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    worker.kill9();
    let killed = server.run(&id);
    assert_eq!(killed["status"], "running", "{killed}");
    let done_at_kill = killed["epochs_done"].as_i64().unwrap();
    assert!(
        done_at_kill < 4,
        "the run finished before the kill: {killed}"
    );
    eprintln!("killed the worker with {done_at_kill} epoch(s) checkpointed");

    let second = lab.worker(1);
    let run = server.wait_status(&id, "done", Duration::from_secs(600));
    assert_eq!(run["attempts"], 2, "{run}");
    let events = server.events(&id);
    let claims: Vec<usize> = events
        .iter()
        .enumerate()
        .filter(|(_, (_, e))| e["event"] == "claimed")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(claims.len(), 2, "{events:?}");
    // After the second claim, training starts at the epoch after the last checkpoint.
    let resumed_epoch = events[claims[1]..]
        .iter()
        .find(|(_, e)| e["event"] == "epoch_started")
        .map(|(_, e)| e["epoch"].as_i64().unwrap())
        .unwrap();
    assert!(
        resumed_epoch >= done_at_kill && resumed_epoch >= 1,
        "resumed at {resumed_epoch}"
    );
    let epochs_trained: Vec<i64> = events
        .iter()
        .filter(|(_, e)| e["event"] == "epoch_finished")
        .map(|(_, e)| e["epoch"].as_i64().unwrap())
        .collect();
    assert_eq!(*epochs_trained.last().unwrap(), 3, "{epochs_trained:?}");
    eprintln!("{}", second.log());
}

#[test]
fn killed_worker_resumes_from_checkpoint_on_sqlite() {
    crash_and_resume(&Lab::sqlite());
}

#[test]
fn killed_worker_resumes_from_checkpoint_on_postgres() {
    if let Some(lab) = Lab::postgres("crash") {
        crash_and_resume(&lab);
    }
}

/// Two worker processes with two slots each on one PostgreSQL database: every one of
/// many small runs is claimed exactly once.
#[test]
fn two_workers_never_take_the_same_job_on_postgres() {
    let Some(lab) = Lab::postgres("claims") else {
        return;
    };
    let server = lab.serve(0);
    // More runs than one ordinary token may queue at once.
    let token = lab.cli(&["token", "create", "--admin"]);
    let ids: Vec<String> = (0..24)
        .map(|seed| {
            server.create(
                &token,
                &json!({"dataset": "spiral", "method": "natural",
                "epochs": 1, "seed": seed}),
            )
        })
        .collect();
    let workers = [lab.worker(2), lab.worker(2)];
    let mut claimed_by = std::collections::BTreeMap::new();
    for id in &ids {
        let run = server.wait_status(id, "done", Duration::from_secs(300));
        assert_eq!(run["attempts"], 1, "{run}");
        let events = server.events(id);
        let claims: Vec<&Value> = events
            .iter()
            .filter(|(_, e)| e["event"] == "claimed")
            .map(|(_, e)| e)
            .collect();
        assert_eq!(claims.len(), 1, "run {id} claimed {} times", claims.len());
        *claimed_by
            .entry(claims[0]["worker"].as_str().unwrap().to_owned())
            .or_insert(0) += 1;
    }
    eprintln!("runs per worker slot: {claimed_by:?}");
    assert!(
        claimed_by.len() >= 2,
        "one worker took everything: {claimed_by:?}"
    );
    drop(workers);
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

/// A new store starts with the shipped results: every run and measurement of
/// `server/seed/results.json`, served as stored, in the tables.
#[test]
fn a_new_store_serves_the_shipped_results() {
    let seed: Value = serde_json::from_str(include_str!("../server/seed/results.json")).unwrap();
    let lab = Lab::sqlite();
    let server = lab.serve_with(0, &[]);
    let runs = seed["runs"].as_array().unwrap();
    let separations = seed["separations"].as_array().unwrap();
    assert_eq!(server.get("/api/runs").json()["total"], runs.len());
    for run in runs {
        let id = run["id"].as_str().unwrap();
        let served = server.run(id);
        // Shipped results carry no weights, and the run says so.
        assert!(served["weights"].is_null());
        assert_eq!(served["result"], run["result"]);
        assert_eq!(served["provenance"], run["provenance"]);
        // Each shipped run carries its history: one finished epoch per trained epoch, so
        // its training curve is drawn.
        let epochs = run["events"].as_array().map_or(0, |e| {
            e.iter().filter(|e| e["event"] == "epoch_finished").count()
        });
        assert_eq!(epochs as u64, run["epochs"].as_u64().unwrap(), "run {id}");
        let loss = server.get(&format!("/api/runs/{id}/loss.svg"));
        assert_eq!(loss.status, 200, "{}", loss.body);
    }
    let table1 = server.get("/api/tables/1").json();
    for record in separations {
        let served = server
            .get(&format!(
                "/api/separations/{}",
                record["id"].as_str().unwrap()
            ))
            .json();
        assert_eq!(served["reports"], record["reports"]);
        let row = table1["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["dataset"] == record["dataset"])
            .unwrap();
        assert_eq!(
            row["cells"][0]["measured"]["mean"],
            record["min_train_train"]
        );
        assert!(row["runs"].as_array().unwrap().contains(&record["id"]));
    }
    // Seeding happens once: a restart on the same store adds nothing.
    drop(server);
    let again = lab.serve_with(0, &[]);
    assert_eq!(again.get("/api/runs").json()["total"], runs.len());
    let listed = again.get("/api/separations").json();
    assert_eq!(listed.as_array().unwrap().len(), separations.len());
}

/// What the web pages read beside the runs: dataset images (the closest pairs), the
/// reproduction scales, runs queued at a scale, and the app's own files.
#[test]
fn images_scales_and_the_site() {
    let lab = Lab::sqlite();
    let site = lab.dir.path().join("site");
    std::fs::create_dir_all(site.join("assets")).unwrap();
    std::fs::write(site.join("index.html"), "<!doctype html><title>app</title>").unwrap();
    std::fs::write(site.join("assets/app-1.js"), "console.log(1)").unwrap();
    let server = lab.serve_with(
        0,
        &[
            "--no-seed",
            "--write-rate",
            "0",
            "--site",
            site.to_str().unwrap(),
        ],
    );

    // Image 3 of the training set, exactly the pixels of the IDX file.
    let (status, kind, png) = server.get_bytes("/api/datasets/mnist/images/train/3");
    assert_eq!((status, kind.as_str()), (200, "image/png"));
    let decoded = image::load_from_memory(&png).unwrap().to_luma8();
    assert_eq!(decoded.dimensions(), (28, 28));
    assert_eq!(decoded.as_raw(), &pixels(TRAIN, 1)[3 * PIXELS..4 * PIXELS]);
    let (status, _, png) =
        server.get_bytes(&format!("/api/datasets/mnist/images/test/{}", TEST - 1));
    assert_eq!(status, 200);
    let last = (TEST as usize - 1) * PIXELS;
    assert_eq!(
        image::load_from_memory(&png).unwrap().to_luma8().as_raw(),
        &pixels(TEST, 2)[last..last + PIXELS]
    );
    let refused = |path: &str, status: u16, words: &str| {
        let reply = server.get(path);
        assert_eq!(reply.status, status, "{path}: {}", reply.body);
        let message = reply.json()["error"].as_str().unwrap().to_owned();
        assert!(message.contains(words), "{path}: {message}");
    };
    refused("/api/datasets/mnist/images/train/128", 404, "train has 128");
    refused("/api/datasets/mnist/images/valid/0", 400, "train or test");
    refused("/api/datasets/cifar10/images/train/0", 404, "cifar10");
    refused("/api/datasets/nope/images/train/0", 400, "nope");
    refused("/api/no-such-route", 404, "route not found");

    // The scales, resolved against MNIST's preset (SGD 0.01, 160 epochs, batch 64).
    let scales = server.get("/api/scales?dataset=mnist").json();
    let scale = |name: &str| {
        scales
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(scale("smoke")["epochs"], 1);
    assert_eq!(scale("smoke")["subset"], 256);
    assert_eq!(scale("cpu")["epochs"], 3);
    assert_eq!(scale("cpu")["learning_rate"], 0.05);
    assert_eq!(scale("paper")["epochs"], 160);
    assert_eq!(scale("paper")["learning_rate"], 0.01);
    assert!(scale("paper")["subset"].is_null());
    refused("/api/scales?dataset=nope", 400, "nope");

    // A run queued at a scale gets the scale's settings where its spec is silent.
    let token = lab.token();
    let spec = json!({"dataset": "mnist", "method": "natural", "epochs": 2});
    let reply = server.send(
        "POST",
        "/api/runs?scale=smoke",
        Some(&token),
        spec.to_string().as_bytes(),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    let run = server.run(reply.json()["id"].as_str().unwrap());
    assert_eq!(run["scale"], "smoke");
    assert_eq!(run["spec"]["epochs"], 2);
    assert_eq!(run["spec"]["subset"], 256);
    let reply = server.send(
        "POST",
        "/api/runs?scale=huge",
        Some(&token),
        spec.to_string().as_bytes(),
    );
    assert_eq!(reply.status, 400);
    assert!(reply.body.contains("smoke, cpu or paper"), "{}", reply.body);

    // The app: hashed assets cached for good, pages revalidated, app routes get the page.
    let asset = agent().get(&server.url("/assets/app-1.js")).call().unwrap();
    assert_eq!(
        asset.headers().get("cache-control").unwrap(),
        "public, max-age=31536000, immutable"
    );
    for path in ["/", "/results", "/runs/abc"] {
        let mut page = agent().get(&server.url(path)).call().unwrap();
        assert_eq!(page.headers().get("cache-control").unwrap(), "no-cache");
        assert!(
            page.body_mut()
                .read_to_string()
                .unwrap()
                .contains("<title>app</title>")
        );
    }
}

/// `astute reproduce` started again takes up the jobs of the first start instead of
/// queueing the whole grid twice.
#[test]
fn a_repeated_reproduction_reuses_its_jobs() {
    let lab = Lab::sqlite();
    let reproduce = || {
        let out = Command::new(env!("CARGO_BIN_EXE_astute"))
            .args(["reproduce", "--table", "2", "--scale", "smoke", "--no-wait"])
            .args(lab.worker_args())
            .output()
            .unwrap();
        let log = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{log}");
        log
    };
    let first = reproduce();
    assert!(first.contains("queued 20 training run(s)"), "{first}");
    let again = reproduce();
    assert!(again.contains("queued 0 training run(s)"), "{again}");
    assert!(
        again.contains("20 run(s) of this table at this scale were already"),
        "{again}"
    );
    let server = lab.serve_with(0, &["--no-seed"]);
    let queued = server.get("/api/runs?status=queued").json();
    assert_eq!(queued["total"], 20);
}

/// `astute train` and `astute separation` record what they measure in the same store:
/// a server running on it shows them at once.
#[test]
fn cli_results_show_up_in_the_api() {
    let lab = Lab::sqlite();
    let server = lab.serve(0);
    let cli = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_astute"));
        command.args(args).args(lab.store_args()).args([
            "--data-dir",
            &lab.dir.path().join("data").display().to_string(),
        ]);
        let out = command.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let log = cli(&["separation", "--dataset", "mnist", "--json"]);
    assert!(log.contains("recorded as separation"), "{log}");
    let log = cli(&[
        "train",
        "--dataset",
        "spiral",
        "--method",
        "trades:6",
        "--epochs",
        "2",
        "--json",
    ]);
    assert!(log.contains("recorded as run"), "{log}");

    let separations = server.get("/api/separations?dataset=mnist").json();
    let train = pixels(TRAIN, 1);
    let got = separations[0]["min_train_train"].as_f64().unwrap();
    assert!((got - brute_force_min(&train, &train, true)).abs() < 1e-12);
    let runs = server.get("/api/runs?status=done").json();
    assert_eq!(runs["total"], 1);
    let run = server.run(runs["runs"][0]["id"].as_str().unwrap());
    assert_eq!(run["method"], "trades:6");
    assert_eq!(run["epochs_done"], 2);
    // Its epochs are in its history, so its training curve is drawn.
    let loss = server.get(&format!(
        "/api/runs/{}/loss.svg",
        run["id"].as_str().unwrap()
    ));
    assert_eq!(loss.status, 200, "{}", loss.body);
    assert!(loss.body.contains("<svg"));
    let command = run["provenance"]["command"].as_str().unwrap();
    assert!(
        command.starts_with("astute train --dataset spiral"),
        "{command}"
    );
    // This machine's folders are private: neither the program's nor the data's are shown.
    let lab_dir = lab.dir.path().display().to_string();
    assert!(!command.contains(&lab_dir), "{command}");
    assert!(command.contains("--data-dir …"), "{command}");
    let separations = server.get("/api/separations").body;
    assert!(!separations.contains(&lab_dir), "{separations}");
    assert!(
        run["result"]["metrics"]["test"]["accuracy"]
            .as_f64()
            .is_some()
    );
}
