//! End to end, as an attacker of the hosted demo or a careless lab member would probe it:
//! specs too big to run, a worker process that dies, slow and idle connections, large
//! downloads, floods of live streams, and answers that must be JSON and keep this
//! machine's private details to themselves.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::helpers::{Lab, Server, agent, mnist_spec};
use serde_json::{Value, json};

/// A server on an empty store with no rate limits and no workers, plus `extra` options.
fn serve(lab: &Lab, extra: &[&str]) -> Server {
    let mut args = vec!["--no-seed", "--write-rate", "0", "--read-rate", "0"];
    args.extend(extra);
    lab.serve_with(0, &args)
}

/// Whether the server closed `stream` within `within`: a read that ends (or fails) before
/// then. Anything the server sent first (a 408, say) is read and ignored.
fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    let mut buffer = [0u8; 1024];
    while Instant::now() < deadline {
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        match stream.read(&mut buffer) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return true,
        }
    }
    false
}

/// A memory figure of process `pid` from `/proc` (`VmRSS`, `VmHWM`), in MiB.
fn memory_mib(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .unwrap_or_else(|| panic!("no {field}"));
    let kib: f64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib / 1024.0
}

/// A spec that would ask for terabytes, or months, or more memory than any machine has is
/// refused with 422 naming the field and the limit, and nothing is queued.
#[test]
fn specs_over_the_budget_are_refused_before_they_are_queued() {
    let lab = Lab::sqlite();
    let server = serve(&lab, &["--max-petaflop", "5000"]);
    let token = lab.token();
    let cases = [
        (
            json!({"dataset": "fashion-mnist", "method": "natural",
                   "architecture": "wrn-6000000004-1", "epochs": 1, "subset": 1}),
            "from 10 to 100",
        ),
        (
            json!({"dataset": "mnist", "method": "natural",
                   "architecture": "wrn-18446744073709551610-1"}),
            "from 10 to 100",
        ),
        (
            json!({"dataset": "spiral", "method": "natural", "architecture": "mlp-16-4096"}),
            "over the limit of 100.0 M",
        ),
        (
            json!({"dataset": "cifar10", "method": "at", "architecture": "wrn-40-10",
                   "epochs": 3000}),
            "over the limit of 5000 PFLOP",
        ),
        (
            json!({"dataset": "cifar10", "method": "trades:6", "batch_size": 65536}),
            "batch_size 65536",
        ),
    ];
    for (spec, needle) in cases {
        let reply = server.send(
            "POST",
            "/api/runs",
            Some(&token),
            spec.to_string().as_bytes(),
        );
        assert_eq!(reply.status, 422, "{spec}: {}", reply.body);
        let error = reply.json()["error"].as_str().unwrap().to_owned();
        assert!(error.contains(needle), "{error:?} should say {needle:?}");
    }
    // The paper's own CIFAR-10 run fits.
    let paper = json!({"dataset": "cifar10", "method": "at", "architecture": "wrn-40-10"});
    server.create(&token, &paper);
    assert_eq!(server.get("/api/runs").json()["total"], 1);
}

/// The server's jobs run in a worker process of their own: killing it (as an allocation
/// failure would) leaves the API answering, and the server starts another that runs the
/// next job.
#[test]
fn a_dead_worker_process_leaves_the_server_up() {
    let lab = Lab::sqlite();
    let server = lab.serve_with(1, &["--no-seed", "--write-rate", "0", "--read-rate", "0"]);
    let worker_pid = |log: &str, nth: usize| -> u32 {
        log.lines()
            .filter_map(|l| l.split("astute worker process ").nth(1))
            .nth(nth)
            .and_then(|rest| rest.split(':').next())
            .and_then(|pid| pid.parse().ok())
            .unwrap_or_else(|| panic!("no worker process {nth} in:\n{log}"))
    };
    let log = server
        .process
        .wait_for_log("astute worker process", Duration::from_secs(60));
    let first = worker_pid(&log, 0);
    assert_ne!(first, server.process.pid());
    let killed = Command::new("kill")
        .args(["-9", &first.to_string()])
        .status()
        .unwrap();
    assert!(killed.success(), "kill {first}:\n{log}");
    assert_eq!(server.get("/api/health").status, 200);
    let log = server
        .process
        .wait_for_log("the worker process ended", Duration::from_secs(30));
    assert!(log.contains("signal: 9"), "{log}");
    let start = Instant::now();
    let second = loop {
        let log = server.process.log();
        if log.matches("astute worker process ").count() >= 2 {
            break worker_pid(&log, 1);
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no second worker:\n{log}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_ne!(second, first);
    let token = lab.token();
    let id = server.create(&token, &mnist_spec(0, 1));
    server.wait_status(&id, "done", Duration::from_secs(300));
}

/// Slow headers, idle connections and connection floods from one address are cut off,
/// and another client is still served meanwhile.
#[test]
fn slow_idle_and_excess_connections_are_closed() {
    let lab = Lab::sqlite();
    let server = serve(
        &lab,
        &[
            "--header-timeout-seconds",
            "2",
            "--max-connections-per-client",
            "4",
        ],
    );

    // A header line every half second never completes a request: closed after 2 s.
    let mut slow = TcpStream::connect(server.addr()).unwrap();
    slow.write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let start = Instant::now();
    let mut cut = false;
    while start.elapsed() < Duration::from_secs(8) {
        if slow.write_all(b"X-Slow: yes\r\n").is_err()
            || closed_within(&mut slow, Duration::from_millis(500))
        {
            cut = true;
            break;
        }
    }
    assert!(cut, "a slow client kept its connection for 8 s");
    drop(slow);

    // Four idle connections from one address are allowed; a fifth is closed at once.
    let mut idle: Vec<TcpStream> = (0..4)
        .map(|_| TcpStream::connect(server.addr()).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let mut fifth = TcpStream::connect(server.addr()).unwrap();
    assert!(
        closed_within(&mut fifth, Duration::from_millis(1500)),
        "a fifth connection stayed open"
    );
    // Another address is served meanwhile.
    let other = Command::new("curl")
        .args(["-s", "--max-time", "5", "--interface", "127.0.0.2"])
        .arg(server.url("/api/health"))
        .output()
        .expect("curl");
    assert!(
        String::from_utf8_lossy(&other.stdout).contains("\"ok\""),
        "{other:?}"
    );
    // The idle ones are closed after the header timeout, and the address may connect again.
    for stream in &mut idle {
        assert!(
            closed_within(stream, Duration::from_secs(5)),
            "an idle connection stayed open"
        );
    }
    assert_eq!(server.get("/api/health").status, 200);
}

/// Ten concurrent downloads of a 256 MiB weights file leave the server's memory where it
/// was: the file is streamed, not read whole. Ranges are honoured.
#[test]
fn weights_downloads_stream_in_constant_memory() {
    let lab = Lab::sqlite();
    let server = serve(&lab, &[]);
    let id = "00000000000000aa";
    let dir = lab.dir.path().join("state/runs").join(id);
    std::fs::create_dir_all(&dir).unwrap();
    const SIZE: usize = 256 << 20;
    let content: Vec<u8> = (0..SIZE).map(|i| (i % 251) as u8).collect();
    std::fs::write(dir.join("weights.safetensors"), &content).unwrap();
    drop(content);

    let pid = server.process.pid();
    let before = memory_mib(pid, "VmRSS");
    let url = server.url(&format!("/api/runs/{id}/weights"));
    let downloads: Vec<_> = (0..10)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || {
                let response = agent().get(&url).call().unwrap();
                assert_eq!(response.status().as_u16(), 200);
                let mut reader = response.into_body().into_reader();
                let (mut total, mut chunk, mut ok) = (0usize, vec![0u8; 1 << 16], true);
                loop {
                    let n = reader.read(&mut chunk).unwrap();
                    if n == 0 {
                        break;
                    }
                    ok &= chunk[..n]
                        .iter()
                        .enumerate()
                        .all(|(i, &b)| b == ((total + i) % 251) as u8);
                    total += n;
                }
                (total, ok)
            })
        })
        .collect();
    for download in downloads {
        assert_eq!(download.join().unwrap(), (SIZE, true));
    }
    let peak = memory_mib(pid, "VmHWM");
    eprintln!(
        "server memory: {before:.0} MiB before, peak {peak:.0} MiB during 10 downloads of 256 MiB"
    );
    assert!(peak - before < 64.0, "{before:.0} MiB → peak {peak:.0} MiB");

    let mut response = agent()
        .get(&url)
        .header("range", "bytes=1000-1009")
        .call()
        .unwrap();
    assert_eq!(response.status().as_u16(), 206);
    let part = response.body_mut().read_to_vec().unwrap();
    let expected: Vec<u8> = (1000..1010).map(|i| (i % 251) as u8).collect();
    assert_eq!(part, expected);
}

/// Opens the live stream of run `id`; its status line and the raw stream.
fn open_stream(server: &Server, id: &str) -> (u16, BufReader<TcpStream>) {
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    write!(
        stream,
        "GET /api/runs/{id}/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut reader = BufReader::new(stream);
    let mut status = String::new();
    reader.read_line(&mut status).unwrap();
    let code = status.split_whitespace().nth(1).unwrap().parse().unwrap();
    (code, reader)
}

/// Live streams are capped per address and end after their lifetime with a reconnect
/// hint; a stream on a run that is deleted ends with a final `deleted` status.
#[test]
fn live_streams_are_bounded() {
    let lab = Lab::sqlite();
    let server = serve(
        &lab,
        &["--max-streams-per-client", "3", "--stream-seconds", "2"],
    );
    let token = lab.token();
    let id = server.create(&token, &mnist_spec(0, 1));

    let mut open: Vec<_> = (0..3).map(|_| open_stream(&server, &id)).collect();
    assert!(open.iter().all(|(code, _)| *code == 200));
    let refused = server.get(&format!("/api/runs/{id}/events"));
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert!(
        refused.json()["error"]
            .as_str()
            .unwrap()
            .contains("too many live streams")
    );

    // Each stream ends on its own after 2 s, having told the browser when to reconnect.
    let (_, reader) = open.remove(0);
    let start = Instant::now();
    let text: Vec<String> = reader.lines().map_while(Result::ok).collect();
    assert!(start.elapsed() < Duration::from_secs(10));
    assert!(text.iter().any(|l| l == "retry: 3000"), "{text:?}");
    drop(open);
    std::thread::sleep(Duration::from_millis(300));

    // A run deleted under an open stream: the stream says so, then ends.
    let (code, reader) = open_stream(&server, &id);
    assert_eq!(code, 200);
    let deleted = server.send("DELETE", &format!("/api/runs/{id}"), Some(&token), b"");
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    let lines: Vec<String> = reader.lines().map_while(Result::ok).collect();
    let status = lines
        .iter()
        .position(|l| l == "event: status")
        .unwrap_or_else(|| panic!("no final status in {lines:?}"));
    assert_eq!(lines[status + 1], "data: {\"status\":\"deleted\"}");
}

/// Every error is JSON, and none names this server's folders.
#[test]
fn errors_are_json_and_name_no_private_paths() {
    let lab = Lab::sqlite();
    let server = serve(&lab, &[]);
    let lab_dir = lab.dir.path().display().to_string();
    let json_error = |method: &str, path: &str| -> (u16, String, Value) {
        let reply = match method {
            "GET" => server.get(path),
            _ => server.send(method, path, None, b""),
        };
        let body: Value = serde_json::from_str(&reply.body)
            .unwrap_or_else(|_| panic!("{method} {path}: not JSON: {:?}", reply.body));
        assert!(
            !reply.body.contains(&lab_dir),
            "{method} {path}: {}",
            reply.body
        );
        (reply.status, reply.body, body)
    };
    let (status, _, body) = json_error("GET", "/api/datasets/mnist/images/train/-1");
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().contains("-1"), "{body}");
    let (status, _, body) = json_error("PUT", "/api/health");
    assert_eq!(status, 405);
    assert_eq!(body["error"], "method not allowed");
    // CIFAR-10 is not on this server: the error says so, without listing folders.
    let (status, _, body) = json_error("GET", "/api/datasets/cifar10/images/train/0");
    assert_eq!(status, 404);
    assert_eq!(body["error"], "cifar10 on this server not found");
    let (status, _, _) = json_error("GET", "/api/datasets/mnist/images/train/100000");
    assert_eq!(status, 404);
}

/// A missing asset is a 404 that no cache keeps, never the app's page under its name.
#[test]
fn missing_assets_are_not_found() {
    let lab = Lab::sqlite();
    let site = lab.dir.path().join("site");
    std::fs::create_dir_all(site.join("assets")).unwrap();
    std::fs::write(
        site.join("index.html"),
        "<!doctype html><title>Astute</title>",
    )
    .unwrap();
    std::fs::write(site.join("assets/app-0123.js"), "console.log(1)").unwrap();
    let site = site.display().to_string();
    let server = serve(&lab, &["--site", &site]);
    let cache = |path: &str| {
        let response = agent().get(&server.url(path)).call().unwrap();
        let cache = response.headers()["cache-control"]
            .to_str()
            .unwrap()
            .to_owned();
        (response.status().as_u16(), cache)
    };
    assert_eq!(
        cache("/assets/app-0123.js"),
        (200, "public, max-age=31536000, immutable".into())
    );
    assert_eq!(cache("/assets/doesnotexist.js"), (404, "no-cache".into()));
    assert_eq!(cache("/runs/123"), (200, "no-cache".into()));
}

/// The site's brotli copies go to browsers that take brotli, the file itself to the rest.
#[test]
fn assets_are_sent_brotli_encoded_to_browsers_that_take_it() {
    let lab = Lab::sqlite();
    let site = lab.dir.path().join("site");
    std::fs::create_dir_all(site.join("assets")).unwrap();
    std::fs::write(site.join("index.html"), "<!doctype html>").unwrap();
    std::fs::write(site.join("assets/engine-0123.wasm"), "the engine").unwrap();
    // Not real brotli: the server sends the stored copy as is, never re-encoding.
    std::fs::write(site.join("assets/engine-0123.wasm.br"), "stored copy").unwrap();
    let site = site.display().to_string();
    let server = serve(&lab, &["--site", &site]);
    let fetch = |accepted: &str| {
        let mut response = agent()
            .get(&server.url("/assets/engine-0123.wasm"))
            .header("accept-encoding", accepted)
            .call()
            .unwrap();
        let encoding = response
            .headers()
            .get("content-encoding")
            .map(|e| e.to_str().unwrap().to_owned());
        (encoding, response.body_mut().read_to_string().unwrap())
    };
    assert_eq!(
        fetch("gzip, deflate, br, zstd"),
        (Some("br".into()), "stored copy".into())
    );
    assert_eq!(fetch("identity"), (None, "the engine".into()));
}

/// A run belongs to the token that queued it: another token may neither cancel nor delete
/// it, an admin token may; each token has a quota of queued work; the shipped results are
/// read-only; revoked and expired tokens are refused.
#[test]
fn tokens_own_their_runs() {
    let lab = Lab::sqlite();
    let server = lab.serve_with(
        0,
        &[
            "--write-rate",
            "0",
            "--read-rate",
            "0",
            "--max-active-per-token",
            "2",
        ],
    );
    let alice = lab.cli(&["token", "create", "--name", "alice"]);
    let bob = lab.cli(&["token", "create", "--name", "bob"]);
    let admin = lab.cli(&["token", "create", "--name", "root", "--admin"]);
    let send = |method: &str, path: &str, token: &str| server.send(method, path, Some(token), b"");

    let id = server.create(&alice, &mnist_spec(0, 1));
    let cancel = format!("/api/runs/{id}/cancel");
    let run = format!("/api/runs/{id}");
    for (method, path) in [("POST", &cancel), ("DELETE", &run)] {
        let refused = send(method, path, &bob);
        assert_eq!(refused.status, 403, "{method} {path}: {}", refused.body);
        assert!(
            refused.json()["error"]
                .as_str()
                .unwrap()
                .contains("another token")
        );
    }
    assert_eq!(send("POST", &cancel, &admin).status, 200);
    assert_eq!(send("DELETE", &run, &alice).status, 204);

    // Two queued at once per token; admins are not limited.
    server.create(&alice, &mnist_spec(1, 1));
    server.create(&alice, &mnist_spec(2, 1));
    let third = server.send(
        "POST",
        "/api/runs",
        Some(&alice),
        mnist_spec(3, 1).to_string().as_bytes(),
    );
    assert_eq!(third.status, 429, "{}", third.body);
    assert!(
        third.json()["error"]
            .as_str()
            .unwrap()
            .contains("its limit")
    );
    server.create(&bob, &mnist_spec(3, 1));
    for seed in 4..7 {
        server.create(&admin, &mnist_spec(seed, 1));
    }

    // The shipped results: read-only even to an admin.
    let shipped = server.get("/api/runs?status=done&limit=1").json();
    let shipped = shipped["runs"][0]["id"].as_str().expect("a shipped run");
    let refused = send("DELETE", &format!("/api/runs/{shipped}"), &admin);
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(
        refused.json()["error"]
            .as_str()
            .unwrap()
            .contains("read-only")
    );

    // Revoked and expired tokens.
    lab.cli(&["token", "revoke", "bob"]);
    let revoked = send("POST", &format!("/api/runs/{id}/cancel"), &bob);
    assert_eq!(revoked.status, 401);
    assert!(
        revoked.json()["error"]
            .as_str()
            .unwrap()
            .contains("revoked token")
    );
    let brief = lab.cli(&[
        "token",
        "create",
        "--name",
        "brief",
        "--expires-in-days",
        "0.00001",
    ]);
    std::thread::sleep(Duration::from_millis(1500));
    let expired = server.send(
        "POST",
        "/api/runs",
        Some(&brief),
        mnist_spec(9, 1).to_string().as_bytes(),
    );
    assert_eq!(expired.status, 401);
    assert!(
        expired.json()["error"]
            .as_str()
            .unwrap()
            .contains("expired token")
    );
    let list = lab.cli(&["token", "list"]);
    for needle in ["alice", "root", "bob", "revoked", "brief", "expired"] {
        assert!(list.contains(needle), "{needle} not in\n{list}");
    }
    assert!(
        !list.contains(&alice) && !list.contains("astute_"),
        "{list}"
    );
}
