//! `cargo xtask site`: builds the web app into a folder `astute serve --site` serves.
//!
//! The steps: compile the web app (`astute-frontend`) and the in-browser engine
//! (`astute-engine`, a separate bundle only the playground and theory pages load) to wasm32, bind
//! each with the `wasm-bindgen` library at exactly the version in Cargo.lock (no CLI to
//! install) without its name section, name every asset after a hash of its bytes (so the
//! server can let browsers cache them for a year), write `index.html`, copy the
//! playground's models and samples, and store a brotli and a gzip copy beside each file
//! for the server to send as is (brotli to browsers that take it: every current one).

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
        /// Brotli at a fast setting instead of its densest: seconds instead of about a
        /// minute, for about a fifth more bytes. For test runs, where the bytes sent do
        /// not count.
        #[arg(long)]
        quick_brotli: bool,
    },
}

const TARGET: &str = "wasm32-unknown-unknown";

fn main() -> anyhow::Result<()> {
    match Task::parse() {
        Task::Site { out, quick_brotli } => site(&out, quick_brotli),
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}

/// One wasm bundle: a crate, how cargo builds it, and what wasm-bindgen names it.
struct Bundle {
    package: &'static str,
    /// The library's file stem (the package name with `_`).
    lib: &'static str,
    out_name: &'static str,
    profile: &'static str,
    features: &'static [&'static str],
    /// Extra rustc flags, built in a target folder of their own so that the two bundles'
    /// different flags do not rebuild each other's dependencies.
    rustflags: Option<&'static str>,
}

const APP: Bundle = Bundle {
    package: "astute-frontend",
    lib: "astute_frontend",
    out_name: "astute",
    profile: "wasm-release",
    features: &[],
    rustflags: None,
};

/// burn on the CPU runs its kernels with wasm SIMD (every browser with WebGPU has it).
const ENGINE: Bundle = Bundle {
    package: "astute-engine",
    lib: "astute_engine",
    out_name: "engine",
    profile: "engine-release",
    features: &["--no-default-features", "--features", "browser"],
    rustflags: Some("-C target-feature=+simd128"),
};

/// Compiles and binds `bundle`; returns the folder holding `OUT_NAME.js` and `OUT_NAME_bg.wasm`.
fn build(root: &Path, bundle: &Bundle) -> anyhow::Result<PathBuf> {
    // Where cargo puts it: CARGO_TARGET_DIR when set, else the workspace's target/.
    let mut cargo_target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(root).args([
        "build",
        "-p",
        bundle.package,
        "--lib",
        "--target",
        TARGET,
        "--profile",
        bundle.profile,
    ]);
    command.args(bundle.features);
    if let Some(flags) = bundle.rustflags {
        cargo_target = cargo_target.join(bundle.out_name);
        command
            .env("CARGO_TARGET_DIR", &cargo_target)
            .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS", flags);
    }
    let status = command.status().context("running cargo")?;
    if !status.success() {
        bail!(
            "building {} for {TARGET} failed (is the target installed? `rustup target add {TARGET}`)",
            bundle.package
        );
    }
    let wasm = cargo_target
        .join(TARGET)
        .join(bundle.profile)
        .join(format!("{}.wasm", bundle.lib));
    let bound = root
        .join("target")
        .join(format!("site-bindgen-{}", bundle.out_name));
    let _ = fs::remove_dir_all(&bound);
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&wasm)
        .out_name(bundle.out_name)
        .web(true)?
        .typescript(false)
        // Function names are half the module; a panic message still says what failed.
        .remove_name_section(true)
        .remove_producers_section(true)
        .generate(&bound)
        .with_context(|| format!("wasm-bindgen on {}", wasm.display()))?;
    Ok(bound)
}

fn site(out: &Path, quick_brotli: bool) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let root = workspace_root();
    let app = build(&root, &APP)?;
    let engine = build(&root, &ENGINE)?;

    let out = if out.is_absolute() {
        out.to_path_buf()
    } else {
        root.join(out)
    };
    let _ = fs::remove_dir_all(&out);
    fs::create_dir_all(out.join("assets"))?;
    let static_dir = root.join("static");
    let script = publish(&out, &app.join("astute.js"), "astute", "js")?;
    let module = publish(&out, &app.join("astute_bg.wasm"), "astute", "wasm")?;
    let engine_script = publish(&out, &engine.join("engine.js"), "engine", "js")?;
    let engine_module = publish(&out, &engine.join("engine_bg.wasm"), "engine", "wasm")?;
    let engine_worker = publish(
        &out,
        &static_dir.join("engine-worker.js"),
        "engine-worker",
        "js",
    )?;
    // Its sizes, for the pages' progress bar while it downloads (the loop below finds its
    // encodings in the cache).
    let engine_wasm = fs::read(engine.join("engine_bg.wasm"))?;
    let brotli_quality = if quick_brotli {
        QUICK_BROTLI
    } else {
        DENSEST_BROTLI
    };
    let mut encodings = EncodingCache::new(&root, brotli_quality)?;
    let engine_compressed = encodings.encode(&engine_wasm)?;
    copy_tree(&static_dir.join("playground"), &out.join("playground-data"))?;
    let style = publish(&out, &static_dir.join("style.css"), "style", "css")?;
    let icon = publish(&out, &static_dir.join("favicon.svg"), "favicon", "svg")?;
    let page = fs::read_to_string(static_dir.join("index.html"))?
        .replace("{{script}}", &script)
        .replace("{{module}}", &module)
        .replace("{{style}}", &style)
        .replace("{{icon}}", &icon)
        .replace("{{engine_script}}", &engine_script)
        .replace("{{engine_module}}", &engine_module)
        .replace("{{engine_worker}}", &engine_worker)
        .replace("{{engine_bytes}}", &engine_wasm.len().to_string())
        .replace(
            "{{engine_compressed}}",
            &engine_compressed.brotli.len().to_string(),
        );
    fs::write(out.join("index.html"), page)?;

    let first_load_files = [&script, &module, &style, &icon].map(|p| out.join(&p[1..]));
    let engine_files = [&engine_script, &engine_module, &engine_worker].map(|p| out.join(&p[1..]));
    let (mut first_load, mut engine_load) = (0, 0);
    println!(
        "{:<48} {:>10} {:>10} {:>10}",
        "file", "bytes", "gzip", "brotli"
    );
    for file in files(&out)? {
        let bytes = fs::read(&file)?;
        let compressed = encodings.encode(&bytes)?;
        if file.ends_with("index.html") || first_load_files.contains(&file) {
            first_load += compressed.brotli.len();
        }
        if engine_files.contains(&file) {
            engine_load += compressed.brotli.len();
        }
        println!(
            "{:<48} {:>10} {:>10} {:>10}",
            file.strip_prefix(&out)?.display(),
            bytes.len(),
            compressed.gzip.len(),
            compressed.brotli.len()
        );
        for (extension, encoded) in [("gz", &compressed.gzip), ("br", &compressed.brotli)] {
            let mut name = file.clone().into_os_string();
            name.push(".");
            name.push(extension);
            fs::write(name, encoded)?;
        }
    }
    encodings.prune()?;
    println!(
        "first load (page, app, style, icon; brotli): {:.1} KB; the in-browser engine adds {:.1} KB; built in {:.0} s into {}",
        first_load as f64 / 1e3,
        engine_load as f64 / 1e3,
        started.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(())
}

/// Copies `source` into `out/assets/` as `stem-HASH.ext` and returns its URL path.
fn publish(out: &Path, source: &Path, stem: &str, ext: &str) -> anyhow::Result<String> {
    let bytes = fs::read(source).with_context(|| format!("reading {}", source.display()))?;
    let hash = Sha256::digest(&bytes);
    let name = format!("{stem}-{}.{ext}", hex(&hash[..6]));
    fs::write(out.join("assets").join(&name), bytes)?;
    Ok(format!("/assets/{name}"))
}

/// A file's bytes as the server sends them to browsers that accept each encoding.
struct Compressed {
    gzip: Vec<u8>,
    brotli: Vec<u8>,
}

/// Brotli's densest quality, what the site ships.
const DENSEST_BROTLI: i32 = 11;
/// A quality that takes seconds for the whole site (`--quick-brotli`).
const QUICK_BROTLI: i32 = 5;

/// Encodings of earlier builds, in `target/site-compressed/` named by the hash of what they
/// encode and brotli's quality: the densest setting takes about two seconds a megabyte, and
/// a build whose engine did not change reuses its encodings.
struct EncodingCache {
    dir: PathBuf,
    brotli_quality: i32,
    used: std::collections::HashSet<String>,
}

impl EncodingCache {
    fn new(root: &Path, brotli_quality: i32) -> anyhow::Result<EncodingCache> {
        let dir = root.join("target").join("site-compressed");
        fs::create_dir_all(&dir)?;
        Ok(EncodingCache {
            dir,
            brotli_quality,
            used: Default::default(),
        })
    }

    /// `bytes` gzipped at its best setting and in brotli at the cache's quality.
    fn encode(&mut self, bytes: &[u8]) -> anyhow::Result<Compressed> {
        let key = format!("{}-q{}", hex(&Sha256::digest(bytes)), self.brotli_quality);
        let gzip_path = self.dir.join(format!("{key}.gz"));
        let brotli_path = self.dir.join(format!("{key}.br"));
        self.used.insert(key);
        if let (Ok(gzip), Ok(brotli)) = (fs::read(&gzip_path), fs::read(&brotli_path)) {
            return Ok(Compressed { gzip, brotli });
        }
        let mut gzip = GzEncoder::new(Vec::new(), Compression::best());
        gzip.write_all(bytes)?;
        let gzip = gzip.finish()?;
        let mut brotli = Vec::new();
        let parameters = brotli::enc::BrotliEncoderParams {
            quality: self.brotli_quality,
            lgwin: 24,
            size_hint: bytes.len(),
            ..Default::default()
        };
        brotli::BrotliCompress(&mut &bytes[..], &mut brotli, &parameters)?;
        fs::write(&gzip_path, &gzip)?;
        fs::write(&brotli_path, &brotli)?;
        Ok(Compressed { gzip, brotli })
    }

    /// Removes the encodings this build did not use.
    fn prune(self) -> anyhow::Result<()> {
        for file in files(&self.dir)? {
            let key = file
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            if !self.used.contains(key) {
                fs::remove_file(&file)?;
            }
        }
        Ok(())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Copies the folder `from` to `to` (made anew), if `from` exists.
fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    if !from.is_dir() {
        return Ok(());
    }
    for file in files(from)? {
        let target = to.join(file.strip_prefix(from)?);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::copy(&file, &target).with_context(|| format!("copying {}", file.display()))?;
    }
    Ok(())
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
