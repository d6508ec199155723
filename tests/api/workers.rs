//! Workers in processes of their own: a killed worker's run resumes from its checkpoint
//! elsewhere (on PostgreSQL, on a machine that shares only the database), and two workers
//! never take the same job.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::*;

/// `kill -9` of the worker mid-run: its lease expires, another worker claims the run and
/// resumes from the last checkpoint (not from epoch 0), and the run finishes. On
/// PostgreSQL the server and each worker have state folders of their own: the checkpoint
/// and the weights travel through the database.
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
    for (kind, event) in &events {
        eprintln!("{kind} {event}");
    }

    // The weights download from the server, which never saw either worker's folder on
    // PostgreSQL: a safetensors file (an 8-byte header length, then a JSON header).
    let (status, _, weights) = server.get_bytes(&format!("/api/runs/{id}/weights"));
    assert_eq!(status, 200);
    let header = u64::from_le_bytes(weights[..8].try_into().unwrap()) as usize;
    let header: Value = serde_json::from_slice(&weights[8..8 + header]).unwrap();
    assert!(header.as_object().unwrap().len() > 1, "{header}");
    assert_eq!(
        server.run(&id)["weights"],
        format!("/api/runs/{id}/weights")
    );
    if lab.is_postgres() {
        for machine in ["server", "worker-1", "worker-2"] {
            let runs = lab.state_dir(machine).join("runs");
            assert!(!runs.exists(), "{} holds run files", runs.display());
        }
    }
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
/// many small runs is claimed exactly once; `/api/workers` lists both with what they run,
/// and drops one within a lease of its `kill -9`.
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
    let mut workers = [lab.worker(2), lab.worker(2)];
    // While they work, the list shows both, and a job in a slot of one of them.
    let start = Instant::now();
    loop {
        let listed = server.get("/api/workers").json();
        let listed = listed.as_array().unwrap();
        assert_eq!(listed.len(), 2, "{listed:?}");
        let busy = listed.iter().find_map(|w| {
            let job = w["jobs"].as_array().unwrap().first()?;
            Some((w["name"].as_str().unwrap().to_owned(), job.clone()))
        });
        if let Some((worker, job)) = busy {
            assert_eq!(job["kind"], "run");
            assert!(
                ids.contains(&job["id"].as_str().unwrap().to_owned()),
                "{job}"
            );
            assert!(
                job["slot"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("{worker}-")),
                "{job}"
            );
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no worker listed a job: {listed:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
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
        assert_eq!(claims[0]["backend"], "cpu", "{}", claims[0]);
        assert!(claims[0]["host"].is_string(), "{}", claims[0]);
        *claimed_by
            .entry(claims[0]["worker"].as_str().unwrap().to_owned())
            .or_insert(0) += 1;
    }
    eprintln!("runs per worker slot: {claimed_by:?}");
    assert!(
        claimed_by.len() >= 2,
        "one worker took everything: {claimed_by:?}"
    );

    let listed = server.get("/api/workers").json();
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            assert_eq!(
                (w["slots"].as_u64(), w["backend"].as_str()),
                (Some(2), Some("cpu")),
                "{w}"
            );
            w["name"].as_str().unwrap()
        })
        .collect();
    assert_eq!(names.len(), 2, "{listed}");
    // Killed without warning, a worker leaves the list once its lease (3 s) runs out.
    workers[0].kill9();
    let killed = Instant::now();
    let survivors = loop {
        let listed = server.get("/api/workers").json();
        let listed = listed.as_array().unwrap().clone();
        if listed.len() == 1 {
            break listed;
        }
        assert!(
            killed.elapsed() < Duration::from_secs(10),
            "the killed worker stays listed: {listed:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let dropped_after = killed.elapsed();
    eprintln!("the killed worker left the list after {dropped_after:?}");
    assert!(
        dropped_after <= Duration::from_secs(3) + Duration::from_millis(500),
        "{dropped_after:?}"
    );
    assert!(names.contains(&survivors[0]["name"].as_str().unwrap()));
    drop(workers);
}

/// A separation measurement reports how far its search is while it runs and, cancelled,
/// stops within a block of queries once its worker hears of it (at its next heartbeat).
#[test]
fn a_separation_reports_progress_and_stops_when_cancelled() {
    let lab = Lab::sqlite();
    // An exact search of minutes: 20,000 random images, which no bound prunes.
    let mnist = lab.dir.path().join("data/mnist");
    idx_images(&mnist.join("train-images-idx3-ubyte"), 20_000, 7);
    idx_labels(&mnist.join("train-labels-idx1-ubyte"), 20_000);
    let server = lab.serve(0);
    let token = lab.token();
    let reply = server.send(
        "POST",
        "/api/separations",
        Some(&token),
        br#"{"dataset": "mnist"}"#,
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    let id = reply.json()["id"].as_str().unwrap().to_owned();
    let _worker = lab.worker(1);
    let start = Instant::now();
    let progress = loop {
        let record = server.get(&format!("/api/separations/{id}")).json();
        assert_ne!(
            record["status"], "done",
            "the search ended before it was watched"
        );
        if record["progress"]["done"]
            .as_u64()
            .is_some_and(|done| done > 0)
        {
            break record["progress"].clone();
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no progress: {record}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(progress["split"], "train-train", "{progress}");
    assert_eq!(progress["total"], 20_000, "{progress}");

    // Someone else's token may not cancel it; its owner's may.
    let other = lab.token();
    let path = format!("/api/separations/{id}/cancel");
    assert_eq!(server.send("POST", &path, Some(&other), b"").status, 403);
    let cancel = server.send("POST", &path, Some(&token), b"");
    assert_eq!(cancel.status, 200, "{}", cancel.body);
    let asked = Instant::now();
    let record = loop {
        let record = server.get(&format!("/api/separations/{id}")).json();
        if record["status"] == "cancelled" {
            break record;
        }
        assert_eq!(record["status"], "running", "{record}");
        assert!(
            asked.elapsed() < Duration::from_secs(30),
            "not cancelled: {record}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    // The worker hears of it within a quarter lease (0.75 s here), the search within a
    // block of queries.
    let took = asked.elapsed();
    eprintln!("cancelled {took:?} after it was asked, with {progress} searched");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(record["progress"].is_null(), "{record}");
}
