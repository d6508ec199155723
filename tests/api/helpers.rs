//! What the end-to-end tests share: the `astute` binary as a child process, a lab (a
//! state folder, a database, tiny MNIST files in the official IDX format) and an HTTP
//! client for the server it runs.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// A child process killed when dropped, with its stderr collected.
pub struct Proc {
    child: Child,
    log: Arc<Mutex<String>>,
}

impl Proc {
    pub fn spawn(args: &[String]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_astute"))
            .args(args)
            .env("RUST_LOG", "warn,astute=info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start astute");
        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().expect("stderr");
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        Self { child, log }
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Waits until the log holds `needle`; returns the log.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> String {
        let start = Instant::now();
        loop {
            let log = self.log();
            if log.contains(needle) {
                return log;
            }
            assert!(start.elapsed() < timeout, "no {needle:?} in log:\n{log}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn kill9(&mut self) {
        let _ = self.child.kill(); // SIGKILL on Unix
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// One store (a state folder, and a database) with its datasets.
pub struct Lab {
    pub dir: tempfile::TempDir,
    database_url: Option<String>,
    /// Worker processes started so far (each gets a state folder of its own on PostgreSQL).
    workers: std::cell::Cell<usize>,
}

pub const PIXELS: usize = 28 * 28;
pub const TRAIN: u32 = 128;
pub const TEST: u32 = 40;

/// `count` pseudo-random 28×28 images.
pub fn pixels(count: u32, seed: u64) -> Vec<u8> {
    let mut state = seed;
    (0..count as usize * PIXELS)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 56) as u8
        })
        .collect()
}

pub fn label(i: usize) -> u8 {
    (i % 10) as u8
}

pub fn idx_images(path: &Path, count: u32, seed: u64) {
    let mut bytes = 0x0803u32.to_be_bytes().to_vec();
    for d in [count, 28, 28] {
        bytes.extend(d.to_be_bytes());
    }
    bytes.extend(pixels(count, seed));
    std::fs::write(path, bytes).unwrap();
}

pub fn idx_labels(path: &Path, count: u32) {
    let mut bytes = 0x0801u32.to_be_bytes().to_vec();
    bytes.extend(count.to_be_bytes());
    bytes.extend((0..count as usize).map(label));
    std::fs::write(path, bytes).unwrap();
}

impl Lab {
    pub fn new(database_url: Option<String>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mnist = dir.path().join("data/mnist");
        std::fs::create_dir_all(&mnist).unwrap();
        idx_images(&mnist.join("train-images-idx3-ubyte"), TRAIN, 1);
        idx_labels(&mnist.join("train-labels-idx1-ubyte"), TRAIN);
        idx_images(&mnist.join("t10k-images-idx3-ubyte"), TEST, 2);
        idx_labels(&mnist.join("t10k-labels-idx1-ubyte"), TEST);
        Self {
            dir,
            database_url,
            workers: Default::default(),
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.database_url.is_some()
    }

    pub fn sqlite() -> Self {
        Self::new(None)
    }

    /// A fresh database on the PostgreSQL server of `ASTUTE_TEST_POSTGRES_URL`; `None`
    /// (and a note) when there is none, unless `ASTUTE_REQUIRE_POSTGRES` is set.
    pub fn postgres(name: &str) -> Option<Self> {
        let Ok(server) = std::env::var("ASTUTE_TEST_POSTGRES_URL") else {
            assert!(
                std::env::var_os("ASTUTE_REQUIRE_POSTGRES").is_none(),
                "ASTUTE_REQUIRE_POSTGRES is set but ASTUTE_TEST_POSTGRES_URL is not"
            );
            eprintln!("no ASTUTE_TEST_POSTGRES_URL: the PostgreSQL part of {name} did not run");
            return None;
        };
        let database = format!("astute_{name}_{}", std::process::id());
        for sql in [
            format!("DROP DATABASE IF EXISTS {database}"),
            format!("CREATE DATABASE {database}"),
        ] {
            let status = Command::new("psql")
                .args([server.as_str(), "-q", "-c", &sql])
                .env("PGOPTIONS", "--client-min-messages=warning")
                .status()
                .expect("psql");
            assert!(status.success(), "{sql}");
        }
        let base = server.rsplit_once('/').map_or(server.as_str(), |(b, _)| b);
        Some(Self::new(Some(format!("{base}/{database}"))))
    }

    /// The state folder of the process named `machine`: on PostgreSQL its own, as on a
    /// machine of a lab that shares only the database; on SQLite the one holding the database.
    pub fn state_dir(&self, machine: &str) -> std::path::PathBuf {
        match self.database_url {
            Some(_) => self.dir.path().join(format!("state-{machine}")),
            None => self.dir.path().join("state"),
        }
    }

    pub fn store_args(&self) -> Vec<String> {
        self.store_args_on("cli")
    }

    /// The store options of the process named `machine`.
    pub fn store_args_on(&self, machine: &str) -> Vec<String> {
        let mut args = vec![
            "--state-dir".to_owned(),
            self.state_dir(machine).display().to_string(),
        ];
        if let Some(url) = &self.database_url {
            args.extend(["--database-url".to_owned(), url.clone()]);
        }
        args
    }

    pub fn worker_args(&self) -> Vec<String> {
        self.worker_args_on("cli")
    }

    /// The worker options of the process named `machine`.
    pub fn worker_args_on(&self, machine: &str) -> Vec<String> {
        let mut args = self.store_args_on(machine);
        args.extend([
            "--data-dir".to_owned(),
            self.dir.path().join("data").display().to_string(),
            "--eval-train".to_owned(),
            "64".to_owned(),
            "--lease-seconds".to_owned(),
            "3".to_owned(),
        ]);
        args
    }

    pub fn token(&self) -> String {
        self.cli(&["token", "create"])
    }

    /// `astute ARGS` on this lab's store; its standard output.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_astute"))
            .args(args)
            .args(self.store_args())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    /// A server on an empty store, without rate limits (tests write in bursts).
    pub fn serve(&self, workers: usize) -> Server {
        self.serve_with(
            workers,
            &["--no-seed", "--write-rate", "0", "--read-rate", "0"],
        )
    }

    pub fn serve_with(&self, workers: usize, extra: &[&str]) -> Server {
        let mut args = vec![
            "serve".to_owned(),
            "--addr".to_owned(),
            "127.0.0.1:0".to_owned(),
            "--workers".to_owned(),
            workers.to_string(),
        ];
        args.extend(self.worker_args_on("server"));
        args.extend(extra.iter().map(|a| a.to_string()));
        let process = Proc::spawn(&args);
        let log = process.wait_for_log("serving on http://", Duration::from_secs(60));
        let base = log
            .lines()
            .find_map(|l| l.split("serving on ").nth(1))
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap()
            .to_owned();
        Server { base, process }
    }

    pub fn worker(&self, slots: usize) -> Proc {
        let mut args = vec![
            "worker".to_owned(),
            "--workers".to_owned(),
            slots.to_string(),
        ];
        let number = self.workers.get() + 1;
        self.workers.set(number);
        args.extend(self.worker_args_on(&format!("worker-{number}")));
        let process = Proc::spawn(&args);
        process.wait_for_log("slot(s) taking jobs", Duration::from_secs(60));
        process
    }
}

pub struct Server {
    base: String,
    pub process: Proc,
}

pub struct Reply {
    pub status: u16,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into()
}

impl Server {
    /// `host:port`.
    pub fn addr(&self) -> &str {
        self.base.trim_start_matches("http://")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn get(&self, path: &str) -> Reply {
        let mut response = agent().get(&self.url(path)).call().unwrap();
        Reply {
            status: response.status().as_u16(),
            body: response.body_mut().read_to_string().unwrap(),
        }
    }

    /// `GET path` as bytes, with the content type.
    pub fn get_bytes(&self, path: &str) -> (u16, String, Vec<u8>) {
        let mut response = agent().get(&self.url(path)).call().unwrap();
        let kind = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = response.body_mut().read_to_vec().unwrap();
        (response.status().as_u16(), kind, body)
    }

    pub fn send(&self, method: &str, path: &str, token: Option<&str>, body: &[u8]) -> Reply {
        let mut request = ureq::http::Request::builder()
            .method(method)
            .uri(self.url(path))
            .header("content-type", "application/json");

        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let mut response = agent().run(request.body(body.to_vec()).unwrap()).unwrap();
        Reply {
            status: response.status().as_u16(),
            body: response.body_mut().read_to_string().unwrap(),
        }
    }

    pub fn create(&self, token: &str, spec: &Value) -> String {
        let reply = self.send(
            "POST",
            "/api/runs",
            Some(token),
            spec.to_string().as_bytes(),
        );
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.json()["id"].as_str().unwrap().to_owned()
    }

    pub fn run(&self, id: &str) -> Value {
        let reply = self.get(&format!("/api/runs/{id}"));
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.json()
    }

    /// Reads the run's Server-Sent Events until its final status: (event name, data).
    pub fn events(&self, id: &str) -> Vec<(String, Value)> {
        let response = agent()
            .get(&self.url(&format!("/api/runs/{id}/events")))
            .call()
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            content_type.starts_with("text/event-stream"),
            "{content_type}"
        );
        let reader = BufReader::new(response.into_body().into_reader());
        let (mut out, mut name) = (Vec::new(), String::new());
        for line in reader.lines() {
            let line = line.unwrap();
            if let Some(n) = line.strip_prefix("event: ") {
                name = n.to_owned();
            } else if let Some(data) = line.strip_prefix("data: ") {
                out.push((name.clone(), serde_json::from_str(data).unwrap()));
                if name == "status" {
                    break;
                }
            }
        }
        out
    }

    pub fn wait_status(&self, id: &str, wanted: &str, timeout: Duration) -> Value {
        let start = Instant::now();
        loop {
            let run = self.run(id);
            if run["status"] == wanted {
                return run;
            }
            assert!(
                start.elapsed() < timeout,
                "run {id} never became {wanted}: {run}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

pub fn mnist_spec(seed: u64, epochs: u64) -> Value {
    json!({"dataset": "mnist", "architecture": "cnn1", "method": "natural",
           "epochs": epochs, "batch_size": 32, "seed": seed})
}

/// The smallest ℓ∞ distance (on [0, 1] pixels) from a query image to a training image of
/// another class, by brute force; `same_set` skips the image itself.
pub fn brute_force_min(queries: &[u8], train: &[u8], same_set: bool) -> f64 {
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
