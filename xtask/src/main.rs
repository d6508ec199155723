//! `cargo xtask site`: builds the web app into a folder `astute serve --site` serves.
//!
//! The steps: compile `astute-frontend` to wasm32, bind it with the `wasm-bindgen` library
//! at exactly the version in Cargo.lock (no CLI to install) without its name section,
//! name every asset after a hash of its bytes (so the
//! server can let browsers cache them for a year), write `index.html`, and store a gzip
//! copy beside each file for the server to send as is.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use clap::Parser;
use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};

#[derive(Parser)]
#[command(about = "Build tasks of the Astute workspace")]
enum Task {
    /// Build the web app into a servable site folder.
    Site {
        /// The site folder (replaced).
        #[arg(long, default_value = "target/site")]
        out: PathBuf,
    },
}

const PROFILE: &str = "wasm-release";
const TARGET: &str = "wasm32-unknown-unknown";

fn main() -> anyhow::Result<()> {
    match Task::parse() {
        Task::Site { out } => site(&out),
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}

fn site(out: &Path) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let root = workspace_root();
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(&root)
        .args([
            "build",
            "-p",
            "astute-frontend",
            "--lib",
            "--target",
            TARGET,
            "--profile",
            PROFILE,
        ])
        .status()
        .context("running cargo")?;
    if !status.success() {
        bail!(
            "building the web app for {TARGET} failed (is the target installed? `rustup target add {TARGET}`)"
        );
    }
    // Where cargo put it: CARGO_TARGET_DIR when set, else the workspace's target/.
    let cargo_target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let wasm = cargo_target
        .join(TARGET)
        .join(PROFILE)
        .join("astute_frontend.wasm");

    let bound = root.join("target").join("site-bindgen");
    let _ = fs::remove_dir_all(&bound);
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&wasm)
        .out_name("astute")
        .web(true)?
        .typescript(false)
        // Function names are half the module; a panic message still says what failed.
        .remove_name_section(true)
        .remove_producers_section(true)
        .generate(&bound)
        .context("wasm-bindgen")?;
    let bound_wasm = bound.join("astute_bg.wasm");

    let out = if out.is_absolute() {
        out.to_path_buf()
    } else {
        root.join(out)
    };
    let _ = fs::remove_dir_all(&out);
    fs::create_dir_all(out.join("assets"))?;
    let static_dir = root.join("static");
    let script = publish(&out, &bound.join("astute.js"), "astute", "js")?;
    let module = publish(&out, &bound_wasm, "astute", "wasm")?;
    let style = publish(&out, &static_dir.join("style.css"), "style", "css")?;
    let icon = publish(&out, &static_dir.join("favicon.svg"), "favicon", "svg")?;
    let page = fs::read_to_string(static_dir.join("index.html"))?
        .replace("{{script}}", &script)
        .replace("{{module}}", &module)
        .replace("{{style}}", &style)
        .replace("{{icon}}", &icon);
    fs::write(out.join("index.html"), page)?;

    let mut first_load = 0;
    println!("{:<40} {:>10} {:>10}", "file", "bytes", "gzipped");
    for file in files(&out)? {
        let bytes = fs::read(&file)?;
        let gzipped = gzip(&bytes)?;
        first_load += gzipped.len();
        println!(
            "{:<40} {:>10} {:>10}",
            file.strip_prefix(&out)?.display(),
            bytes.len(),
            gzipped.len()
        );
        let mut name = file.clone().into_os_string();
        name.push(".gz");
        fs::write(name, gzipped)?;
    }
    println!(
        "first load (every file above, gzipped): {:.1} KB; built in {:.0} s into {}",
        first_load as f64 / 1e3,
        started.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(())
}

/// Copies `source` into `out/assets/` as `stem-HASH.ext` and returns its URL path.
fn publish(out: &Path, source: &Path, stem: &str, ext: &str) -> anyhow::Result<String> {
    let bytes = fs::read(source).with_context(|| format!("reading {}", source.display()))?;
    let hash = Sha256::digest(&bytes);
    let name = format!(
        "{stem}-{}.{ext}",
        hash[..6]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    fs::write(out.join("assets").join(&name), bytes)?;
    Ok(format!("/assets/{name}"))
}

fn gzip(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?)
}

/// The files under `dir`, sorted.
fn files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            found.extend(files(&path)?);
        } else {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}
