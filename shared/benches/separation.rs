//! Separation engine benchmark, in one process: full Fashion-MNIST Train–Train and
//! Test–Train (ℓ∞ and ℓ2), the MNIST sample, a naive triple loop on a query subset
//! (extrapolated) for the speed-up, achieved rates against the machine's, and peak memory.
//!
//! `cargo bench -p astute --bench separation`. Data is found as the CLI finds it
//! (`$ASTUTE_DATA_DIR`, then the MNIST sample shipped in the repository's `data/`, then
//! `/usr/share/datasets`, where Debian's `dataset-fashion-mnist` puts Fashion-MNIST).
//! `ASTUTE_BENCH_NAIVE_QUERIES` sets the naive subset size.

use astute::data::catalog::{Catalog, DatasetId};
use astute::data::{DataDirs, Dataset, Split as DataSplit};
use astute::separation::{
    Control, Index, IndexOptions, Kernel, Metric, Nearest, ReportOptions, SearchOptions,
    SeparationReport, Split, build_report,
};
use rayon::prelude::*;
use std::time::Instant;

fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or("n/a".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
}

/// `id` loaded as the CLI loads it, or `None` (with a message) when it is not here.
fn load(dirs: &DataDirs, id: DatasetId) -> Option<DataSplit> {
    match astute::data::load(id, dirs) {
        Ok(split) => Some(split),
        Err(e) => {
            println!("{id}: skipped ({e})");
            None
        }
    }
}

fn naive_one(metric: Metric, train: &Dataset, query: &[u8], label: u16) -> (u32, u32) {
    let mut best = (u32::MAX, u32::MAX);
    for j in 0..train.len() {
        if train.labels()[j] == label {
            continue;
        }
        let z = train.image(j);
        let d = match metric {
            Metric::Linf => query
                .iter()
                .zip(z)
                .map(|(&a, &b)| a.abs_diff(b))
                .max()
                .map_or(0, u32::from),
            Metric::L2 => query
                .iter()
                .zip(z)
                .map(|(&a, &b)| u32::from(a.abs_diff(b)).pow(2))
                .sum(),
        };
        if d < best.0 {
            best = (d, j as u32);
        }
    }
    best
}

fn check(got: &Nearest, want: (u32, u32), what: &str) {
    let o = got.other.expect("a neighbour of another class");
    assert_eq!(
        (o.raw, o.index),
        want,
        "{what}: engine and naive loop disagree"
    );
}

struct Timed {
    seconds: f64,
    report: SeparationReport,
}

fn run(
    split: Split,
    metric: Metric,
    kernel: Kernel,
    index: &Index,
    data: &DataSplit,
    eps: f64,
) -> (Timed, Vec<Nearest>) {
    let options = SearchOptions {
        metric,
        kernel,
        threads: None,
    };
    let started = Instant::now();
    let nearest = match split {
        Split::TrainTrain => index.nearest_within(false, &options, &Control::default()),
        Split::TestTrain => index.nearest(
            data.test.images(),
            data.test.labels(),
            false,
            &options,
            &Control::default(),
        ),
    }
    .expect("search");
    let seconds = started.elapsed().as_secs_f64();
    let labels = match split {
        Split::TrainTrain => data.train.labels(),
        Split::TestTrain => data.test.labels(),
    };
    let options = ReportOptions {
        top_k: 5,
        epsilon: Some(eps),
        ..ReportOptions::default()
    };
    let report = build_report(split, metric, labels, index, &nearest, &options).expect("report");
    (Timed { seconds, report }, nearest)
}

fn show(name: &str, t: &Timed, pairs: f64, dims: usize) {
    let r = &t.report;
    let smallest: Vec<String> = r.smallest.iter().map(|d| format!("{d:.4}")).collect();
    println!(
        "{name}: {:.3} s, {:.3e} pairs/s, {:.2} GB/s brute-force-equivalent | min {:.4} mean {:.4} median {:.4} | five smallest {}",
        t.seconds,
        pairs / t.seconds,
        pairs * dims as f64 / t.seconds / 1e9,
        r.min,
        r.mean,
        r.median,
        smallest.join(", ")
    );
}

/// Peak RSS since the last reset, against the dataset's bytes.
fn show_peak(what: &str, baseline: Option<u64>, dataset_bytes: usize) {
    let hwm = status_kib("VmHWM:");
    println!(
        "peak RSS during the {what}: {} = {:.2}× the dataset's {:.1} MiB; above the process's own {} before loading: {:.2}×",
        mib(hwm),
        hwm.unwrap_or(0) as f64 * 1024.0 / dataset_bytes as f64,
        dataset_bytes as f64 / 1024.0 / 1024.0,
        mib(baseline),
        hwm.unwrap_or(0).saturating_sub(baseline.unwrap_or(0)) as f64 * 1024.0
            / dataset_bytes as f64,
    );
}

fn main() {
    // The process before any data: code, libraries, thread stacks.
    rayon::broadcast(|_| ());
    let baseline = status_kib("VmRSS:");
    let threads = rayon::current_num_threads();
    println!(
        "separation benchmark: {threads} threads, kernels available {:?}, auto = {}",
        Kernel::available()
            .iter()
            .map(|k| k.name())
            .collect::<Vec<_>>(),
        Kernel::best()
    );
    let dirs = DataDirs::new(None);
    let naive_queries: usize = std::env::var("ASTUTE_BENCH_NAIVE_QUERIES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(120);

    if let Some(data) = load(&dirs, DatasetId::FashionMnist) {
        let dims = data.train.shape().len();
        let dataset_bytes = (data.train.len() + data.test.len()) * dims;
        // Peak memory from here on: the loaded dataset plus everything the engine needs.
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        let eps: f64 = DatasetId::FashionMnist
            .info()
            .epsilon
            .to_string()
            .parse()
            .expect("ε");
        let (n, m) = (data.train.len() as f64, data.test.len() as f64);
        println!(
            "\nFashion-MNIST: {} train, {} test, {dims} bytes each ({:.1} MB of images)",
            data.train.len(),
            data.test.len(),
            dataset_bytes as f64 / 1e6
        );
        let started = Instant::now();
        let index = Index::build(&data.train, IndexOptions::default()).expect("index");
        let build = started.elapsed().as_secs_f64();
        println!(
            "index: {build:.3} s, {} groups, {:.1} MB",
            index.num_groups(),
            index.heap_bytes() as f64 / 1e6
        );

        let (tt, tt_nearest) = run(
            Split::TrainTrain,
            Metric::Linf,
            Kernel::Auto,
            &index,
            &data,
            eps,
        );
        show("Train–Train ℓ∞", &tt, n * n, dims);
        println!(
            "  Train–Train ℓ∞ including the index: {:.3} s",
            tt.seconds + build
        );
        let (te, te_nearest) = run(
            Split::TestTrain,
            Metric::Linf,
            Kernel::Auto,
            &index,
            &data,
            eps,
        );
        show("Test–Train ℓ∞", &te, m * n, dims);
        println!("  closest Train–Train pairs:");
        for p in &tt.report.closest_pairs {
            println!(
                "    #{} ({}) – #{} ({}): {:.4}",
                p.query_index,
                data.train.class_names()[usize::from(p.query_label)],
                p.train_index,
                data.train.class_names()[usize::from(p.train_label)],
                p.distance
            );
        }
        println!(
            "  separation r = {:.4}, r/ε = {:.2} (ε = {eps})",
            tt.report.separation,
            tt.report.separation_over_epsilon.unwrap_or(f64::NAN)
        );
        for kernel in Kernel::available() {
            let (t, nearest) = run(Split::TestTrain, Metric::Linf, kernel, &index, &data, eps);
            assert_eq!(nearest, te_nearest, "kernel {kernel} differs");
            println!(
                "  Test–Train ℓ∞ with the {kernel} kernel: {:.3} s (identical results)",
                t.seconds
            );
        }
        show_peak(
            "ℓ∞ searches (index, Train–Train, Test–Train)",
            baseline,
            dataset_bytes,
        );
        // The ℓ2 searches add the block sums their bounds need: their own peak.
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        let (tt2, _) = run(
            Split::TrainTrain,
            Metric::L2,
            Kernel::Auto,
            &index,
            &data,
            eps,
        );
        show("Train–Train ℓ2", &tt2, n * n, dims);
        let (te2, _) = run(
            Split::TestTrain,
            Metric::L2,
            Kernel::Auto,
            &index,
            &data,
            eps,
        );
        show("Test–Train ℓ2", &te2, m * n, dims);
        show_peak("ℓ2 searches", baseline, dataset_bytes);
        println!(
            "  index after the ℓ2 searches: {:.1} MB",
            index.heap_bytes() as f64 / 1e6
        );
        // Naive triple loop on an evenly spread query subset, checked against the engine.
        let step = (data.train.len() / naive_queries.max(1)).max(1);
        let subset: Vec<usize> = (0..data.train.len())
            .step_by(step)
            .take(naive_queries)
            .collect();
        let started = Instant::now();
        for &q in &subset {
            let got = naive_one(
                Metric::Linf,
                &data.train,
                data.train.image(q),
                data.train.labels()[q],
            );
            check(&tt_nearest[q], got, "Train–Train");
        }
        let one = started.elapsed().as_secs_f64() / subset.len() as f64 * n;
        let started = Instant::now();
        let results: Vec<(usize, (u32, u32))> = subset
            .par_iter()
            .map(|&q| {
                (
                    q,
                    naive_one(
                        Metric::Linf,
                        &data.train,
                        data.train.image(q),
                        data.train.labels()[q],
                    ),
                )
            })
            .collect();
        let all = started.elapsed().as_secs_f64() / subset.len() as f64 * n;
        for (q, got) in results {
            check(&tt_nearest[q], got, "Train–Train");
        }
        for q in (0..data.test.len()).step_by(data.test.len() / 20) {
            let got = naive_one(
                Metric::Linf,
                &data.train,
                data.test.image(q),
                data.test.labels()[q],
            );
            check(&te_nearest[q], got, "Test–Train");
        }
        let pairs_bytes = n * n * dims as f64;
        println!(
            "naive triple loop (compiler-vectorised), {} queries extrapolated to Train–Train ℓ∞: {one:.1} s on 1 thread ({:.2} GB/s), {all:.1} s on {threads} threads ({:.2} GB/s); same answers as the engine",
            subset.len(),
            pairs_bytes / one / 1e9,
            pairs_bytes / all / 1e9
        );
        println!(
            "speed-up of the engine on Train–Train ℓ∞: {:.0}× the naive loop on {threads} threads, {:.0}× on 1 thread",
            all / tt.seconds,
            one / tt.seconds
        );
        // The machine: bytes one core's brute-force loop compares per second from L1 (the
        // compute limit of exhaustive search), and memory read bandwidth on all threads.
        let block = data
            .train
            .select(&(0..32).collect::<Vec<_>>())
            .expect("block");
        let reps = 4000;
        let started = Instant::now();
        for r in 0..reps {
            let q = data.train.image(r % 1000);
            std::hint::black_box(naive_one(Metric::Linf, &block, q, 255));
        }
        let l1_rate = (reps * 32 * dims) as f64 / started.elapsed().as_secs_f64();
        let buffer = vec![1u64; 64 << 20];
        let started = Instant::now();
        for _ in 0..4 {
            std::hint::black_box(
                buffer
                    .par_chunks(1 << 16)
                    .map(|c| c.iter().fold(0u64, |a, &b| a ^ b))
                    .sum::<u64>(),
            );
        }
        let bandwidth = 4.0 * (buffer.len() * 8) as f64 / started.elapsed().as_secs_f64();
        drop(buffer);
        println!(
            "machine: brute-force compare rate from L1 {:.2} GB/s per core ({:.2} GB/s on {threads} cores), memory read bandwidth {:.2} GB/s",
            l1_rate / 1e9,
            l1_rate * threads as f64 / 1e9,
            bandwidth / 1e9
        );
        println!(
            "engine's brute-force-equivalent rate on Train–Train ℓ∞: {:.1} GB/s = {:.0}× the machine's exhaustive compare limit, {:.0}× its memory bandwidth",
            pairs_bytes / tt.seconds / 1e9,
            pairs_bytes / tt.seconds / (l1_rate * threads as f64),
            pairs_bytes / tt.seconds / bandwidth
        );
    }

    if let Some(data) = load(&dirs, DatasetId::MnistSample) {
        let eps: f64 = DatasetId::MnistSample
            .info()
            .epsilon
            .to_string()
            .parse()
            .expect("ε");
        let started = Instant::now();
        let index = Index::build(&data.train, IndexOptions::default()).expect("index");
        let build = started.elapsed().as_secs_f64();
        let (tt, _) = run(
            Split::TrainTrain,
            Metric::Linf,
            Kernel::Auto,
            &index,
            &data,
            eps,
        );
        let (te, _) = run(
            Split::TestTrain,
            Metric::Linf,
            Kernel::Auto,
            &index,
            &data,
            eps,
        );
        let (n, m) = (data.train.len() as f64, data.test.len() as f64);
        let dims = data.train.shape().len();
        println!(
            "\nMNIST sample: {} train, {} test; index {build:.3} s",
            data.train.len(),
            data.test.len()
        );
        show("Train–Train ℓ∞", &tt, n * n, dims);
        show("Test–Train ℓ∞", &te, m * n, dims);
        println!(
            "all {} × {} queries: {:.3} s (with the index {:.3} s)",
            data.train.len() + data.test.len(),
            data.train.len(),
            tt.seconds + te.seconds,
            tt.seconds + te.seconds + build
        );
    }
}
