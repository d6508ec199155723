//! Limits on what clients send: body size and write rate.

use std::process::Command;

use crate::helpers::*;

/// A body far over the limit is refused from its declared length (413), and the server
/// keeps serving. (What each bad spec or query is told is tested in-process, in
/// `server/src/http/tests`.)
#[test]
fn a_huge_body_is_refused_from_its_length() {
    let lab = Lab::sqlite();
    let server = lab.serve(0);
    let token = lab.token();
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
