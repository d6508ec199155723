//! The PyTorch reference, run in the same invocation when `python3` can import `torch`:
//! the scripts in `bench/` (carried in the binary, written to a temporary folder) and the
//! figures they print.

use std::path::Path;
use std::process::Command;

const TRAINING_SCRIPT: &str = include_str!("../../../../bench/torch_reference.py");
const EVAL_SCRIPT: &str = include_str!("../../../../bench/torch_eval_reference.py");

/// PyTorch's version, or why it cannot run here.
pub fn version() -> Result<String, String> {
    let output = Command::new("python3")
        .args(["-c", "import torch; print(torch.__version__)"])
        .output()
        .map_err(|e| format!("python3 did not start ({e})"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
    } else {
        Err("python3 cannot import torch (pip install torch)".into())
    }
}

/// What one run of a reference script printed, in images per second.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    pub natural: Option<f64>,
    pub at: Option<f64>,
    pub trades: Option<f64>,
}

/// The training-step figures of `torch_reference.py`: natural, AT, TRADES.
pub fn training(
    folder: &Path,
    threads: usize,
    batch: usize,
    steps: usize,
) -> anyhow::Result<Figures> {
    let out = run(
        folder,
        &[
            "torch_reference.py",
            "--threads",
            &threads.to_string(),
            "--batch",
            &batch.to_string(),
            "--steps",
            &steps.to_string(),
        ],
    )?;
    Ok(Figures {
        natural: rate_after(&out, "natural:"),
        at: rate_after(&out, "at_pgd10:"),
        trades: rate_after(&out, "trades10:"),
    })
}

/// Images per second of the evaluation protocol on `n` images.
pub fn evaluation(folder: &Path, threads: usize, n: usize) -> anyhow::Result<Option<f64>> {
    let out = run(
        folder,
        &[
            "torch_eval_reference.py",
            "eval",
            "--threads",
            &threads.to_string(),
            "--n",
            &n.to_string(),
        ],
    )?;
    Ok(out
        .lines()
        .find(|line| line.starts_with("eval "))
        .and_then(|line| line.split(" = ").nth(1))
        .and_then(|rate| rate.split_whitespace().next()?.parse().ok()))
}

/// WRN-16-4's natural and AT figures.
pub fn wrn(folder: &Path, threads: usize) -> anyhow::Result<Figures> {
    let out = run(
        folder,
        &[
            "torch_eval_reference.py",
            "wrn",
            "--threads",
            &threads.to_string(),
        ],
    )?;
    Ok(Figures {
        natural: rate_after(&out, "natural"),
        at: rate_after(&out, "AT(PGD-10)"),
        trades: None,
    })
}

/// Writes the scripts into `folder` (they import one another).
pub fn write_scripts(folder: &Path) -> std::io::Result<()> {
    std::fs::write(folder.join("torch_reference.py"), TRAINING_SCRIPT)?;
    std::fs::write(folder.join("torch_eval_reference.py"), EVAL_SCRIPT)
}

fn run(folder: &Path, args: &[&str]) -> anyhow::Result<String> {
    let output = Command::new("python3")
        .current_dir(folder)
        .args(args)
        .output()?;
    anyhow::ensure!(
        output.status.success(),
        "python3 {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr).trim()
    );
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The number after `label` on the first line that has it ("natural: 1706.6 images/s").
fn rate_after(output: &str, label: &str) -> Option<f64> {
    output.lines().find_map(|line| {
        let rest = &line[line.find(label)? + label.len()..];
        rest.split_whitespace().next()?.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_read_from_the_scripts_output() {
        let training = "torch 2.15.0 threads=2 batch=64\nnatural: 1706.6 images/s (37.5 ms/step)\nat_pgd10: 183.4 images/s (349.0 ms/step)\ntrades10: 176.3 images/s (363.0 ms/step)\n";
        assert_eq!(rate_after(training, "natural:"), Some(1706.6));
        assert_eq!(rate_after(training, "at_pgd10:"), Some(183.4));
        assert_eq!(rate_after(training, "trades10:"), Some(176.3));
        let wrn =
            "torch 2.15.0 threads=2\nwrn-16-4 natural 101.5 images/s   AT(PGD-10) 9.8 images/s\n";
        assert_eq!(rate_after(wrn, "natural"), Some(101.5));
        assert_eq!(rate_after(wrn, "AT(PGD-10)"), Some(9.8));
        assert_eq!(rate_after(wrn, "trades10:"), None);
    }
}
