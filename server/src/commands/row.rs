//! A run's result printed the way the paper's tables lay it out, or as JSON.

use astute_api::{MaskingFlag, RunMetrics, RunResult};

/// Prints `result` as the paper's tables lay a row out, or as JSON.
pub fn print(result: &RunResult, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(result)?);
        return Ok(());
    }
    print_row(
        [
            &result.dataset.to_string(),
            &result.architecture.to_string(),
            &result.method.to_string(),
        ],
        result.dropout,
        &result.metrics,
        result.wall_seconds,
        &result.accuracy_vs_epsilon,
    );
    for r in &result.robust {
        println!(
            "test accuracy under {} at ε = {} on {} images (seed {}): {:.2} % in {:.1} s",
            r.attack, r.epsilon, r.images, r.seed, r.accuracy, r.seconds
        );
    }
    print_masking(&result.masking);
    Ok(())
}

/// The gradient-masking checks, one line each, raised ones in capitals.
pub fn print_masking(flags: &[MaskingFlag]) {
    for flag in flags {
        let mark = if flag.raised { "RAISED" } else { "ok" };
        println!(
            "masking: {} {mark} ({})",
            flag.check.headline(),
            flag.evidence
        );
    }
}

/// One row of measurements under a header: dataset, network and method, then the
/// paper's columns.
pub fn print_row(
    [dataset, architecture, method]: [&str; 3],
    dropout: f64,
    m: &RunMetrics,
    wall_seconds: f64,
    accuracy_vs_epsilon: &[(f32, f64)],
) {
    println!(
        "{:<14} {:<10} {:<10} {:>7} {:>9} {:>8} {:>9} {:>8} {:>9} {:>8} {:>6} {:>7} {:>8}",
        "dataset",
        "arch",
        "method",
        "dropout",
        "train acc",
        "test acc",
        "adv train",
        "adv test",
        "train lip",
        "test lip",
        "gap",
        "adv gap",
        "wall"
    );
    println!(
        "{:<14} {:<10} {:<10} {:>7.2} {:>9.2} {:>8.2} {:>9.2} {:>8.2} {:>9.2} {:>8.2} {:>6.2} {:>7.2} {:>7.1}s",
        dataset,
        architecture,
        method,
        dropout,
        m.train.accuracy,
        m.test.accuracy,
        m.train.adversarial_accuracy,
        m.test.adversarial_accuracy,
        m.train.lipschitz,
        m.test.lipschitz,
        m.gap,
        m.adv_gap,
        wall_seconds
    );
    if !accuracy_vs_epsilon.is_empty() {
        let points: Vec<String> = accuracy_vs_epsilon
            .iter()
            .map(|(eps, acc)| format!("ε {eps}: {acc:.2}"))
            .collect();
        println!("test accuracy under PGD-10 by ε: {}", points.join(", "));
    }
}
