//! What a new server starts with and shows: the shipped results, images, scales, the
//! site, reproductions and runs recorded from the CLI.

use std::process::Command;

use serde_json::{Value, json};

use crate::helpers::*;

/// A new store starts with the shipped results: every run and measurement of
/// `server/seed/results.json`, served as stored, in the tables.
#[test]
fn a_new_store_serves_the_shipped_results() {
    let seed: Value = serde_json::from_str(include_str!("../../server/seed/results.json")).unwrap();
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
        // Each shipped run carries its history: every trained epoch finished, so its
        // training curve is drawn. (A run retried after its worker died reports the
        // epochs of each attempt: the log keeps both.)
        let epochs: std::collections::BTreeSet<u64> = run["events"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["event"] == "epoch_finished")
            .filter_map(|e| e["epoch"].as_u64())
            .collect();
        let trained = run["epochs"].as_u64().unwrap();
        assert_eq!(epochs, (0..trained).collect(), "run {id}");
        let loss = server.get(&format!("/api/runs/{id}/loss.svg"));
        assert_eq!(loss.status, 200, "{}", loss.body);
    }
    // The MNIST sample's measurements fill Table 1's MNIST row, named as measured on it.
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
            .find(|r| {
                r["dataset"] == record["dataset"]
                    || r["measured_on"]
                        .as_array()
                        .unwrap()
                        .contains(&record["dataset"])
            })
            .unwrap();
        assert_eq!(
            row["cells"][0]["measured"]["mean"],
            record["min_train_train"]
        );
        assert!(row["runs"].as_array().unwrap().contains(&record["id"]));
    }
    // The runs whose train accuracy stayed at chance (10 classes: within 5 points of 10 %)
    // are marked, none else, and Table 2 leaves them out of its numbers unless asked.
    let stuck: Vec<&str> = runs
        .iter()
        .filter(|r| {
            r["result"]["metrics"]["train"]["accuracy"]
                .as_f64()
                .unwrap()
                <= 15.0
        })
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let listed = server.get("/api/runs?limit=100").json();
    for run in listed["runs"].as_array().unwrap() {
        let id = run["id"].as_str().unwrap();
        assert_eq!(run["did_not_train"], stuck.contains(&id), "run {id}");
        assert!(run["train_acc"].as_f64().is_some(), "run {id}");
    }
    for (query, counted) in [("", false), ("?untrained=include", true)] {
        let table2 = server.get(&format!("/api/tables/2{query}")).json();
        let mut marked = Vec::new();
        for row in table2["rows"].as_array().unwrap() {
            let untrained: Vec<&str> = row["untrained"]
                .as_array()
                .map(|ids| ids.iter().map(|id| id.as_str().unwrap()).collect())
                .unwrap_or_default();
            let behind: Vec<&str> = row["runs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|id| id.as_str().unwrap())
                .collect();
            for id in &untrained {
                assert_eq!(behind.contains(id), counted, "{query}: run {id}");
            }
            marked.extend(untrained);
        }
        marked.sort_unstable();
        let mut expected = stuck.clone();
        expected.sort_unstable();
        assert_eq!(marked, expected, "{query}");
    }
    assert_eq!(server.get("/api/tables/2?untrained=maybe").status, 400);
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
    // The CPU scale trains every method with Adam at 1e-3 and a one-epoch warm-up.
    assert_eq!(scale("cpu")["optimizer"], "adam");
    assert_eq!(scale("cpu")["learning_rate"], 0.001);
    assert_eq!(scale("cpu")["warmup_epochs"], 1);
    assert_eq!(scale("paper")["epochs"], 160);
    assert_eq!(scale("paper")["optimizer"], "sgd");
    assert_eq!(scale("paper")["learning_rate"], 0.01);
    assert_eq!(scale("paper")["warmup_epochs"], 0);
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
/// queueing the whole grid twice. Table 2 is 22 rows (the paper's 20 and an `llr-ref`
/// twin of each LLR row), two seeds each by default.
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
    assert!(first.contains("queued 44 training run(s)"), "{first}");
    let again = reproduce();
    assert!(again.contains("queued 0 training run(s)"), "{again}");
    assert!(
        again.contains("44 run(s) of this table at this scale were already"),
        "{again}"
    );
    let server = lab.serve_with(0, &["--no-seed"]);
    let queued = server.get("/api/runs?status=queued").json();
    assert_eq!(queued["total"], 44);
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
    let weights = lab.dir.path().join("spiral.safetensors");
    let weights = weights.display().to_string();
    let log = cli(&[
        "train",
        "--dataset",
        "spiral",
        "--method",
        "trades:6",
        "--epochs",
        "2",
        "--out",
        &weights,
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
    // One set of weights gives one row: `astute eval` replays the run's (the run's seed,
    // 0, seeds both), twice and in batches of another size.
    let row = |extra: &[&str]| -> Value {
        let args = [&["eval", &weights, "--dataset", "spiral", "--json"], extra].concat();
        serde_json::from_str::<Value>(&lab.cli(&args)).unwrap()["metrics"].clone()
    };
    let stored = &run["result"]["metrics"];
    assert_eq!(&row(&[]), stored);
    assert_eq!(&row(&[]), stored);
    assert_eq!(&row(&["--batch-size", "7"]), stored);
    // Evaluated later under further attacks at the run's ε and along a curve: each attack
    // at each radius is stored, with the quick masking checks of the run's ε.
    let id = run["id"].as_str().unwrap().to_owned();
    let epsilon = run["result"]["epsilon"].as_f64().unwrap();
    cli(&[
        "eval",
        &weights,
        "--run",
        &id,
        "--attack",
        "pgd,apgd",
        "--curve",
        "0.05,0.3",
        "--test-images",
        "50",
        "--json",
    ]);
    let evaluated = server.run(&id);
    let robust = evaluated["result"]["robust"].as_array().unwrap();
    let mut measured: Vec<(String, f64)> = robust
        .iter()
        .map(|r| {
            assert_eq!(r["images"], 50);
            (
                r["attack"].as_str().unwrap().to_owned(),
                r["epsilon"].as_f64().unwrap(),
            )
        })
        .collect();
    measured.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let mut expected: Vec<(String, f64)> = ["apgd", "pgd"]
        .iter()
        .flat_map(|a| [epsilon, 0.05, 0.3].map(|e| (a.to_string(), e)))
        .collect();
    expected.sort_by(|a, b| a.partial_cmp(b).unwrap());
    for ((attack, got), (want_attack, want)) in measured.iter().zip(&expected) {
        assert_eq!(attack, want_attack);
        assert!((got - want).abs() < 1e-6, "{measured:?}");
    }
    assert_eq!(measured.len(), 6, "{measured:?}");
    let checks: Vec<&str> = evaluated["result"]["masking"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["check"].as_str().unwrap())
        .collect();
    assert_eq!(
        checks,
        ["fgsm-beats-pgd", "robust-at-large-radius", "zero-gradients"]
    );
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
