//! Table 1 / Figure 3 summaries of a separation search.

use super::{Index, Metric, Nearest, SeparationError, Split};
use astute_api::{ClosestPair, Histogram, SeparationReport};

/// What to put in a report.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportOptions {
    /// How many closest cross-class pairs (and smallest distances) to list.
    pub top_k: usize,
    /// Drop this many smallest distances before taking the minimum (`min_after_drop`).
    pub drop_smallest: usize,
    /// The dataset's perturbation radius ε, for the headline ratio.
    pub epsilon: Option<f64>,
    /// Histogram bins.
    pub bins: usize,
}

impl Default for ReportOptions {
    fn default() -> Self {
        Self {
            top_k: 10,
            drop_smallest: 0,
            epsilon: None,
            bins: 20,
        }
    }
}

/// Bins `values` (pixel units) into `bins` equal bins on `[lo, hi]`.
pub fn histogram(values: &[f64], lo: f64, hi: f64, bins: usize) -> Histogram {
    let bins = bins.max(1);
    let mut counts = vec![0u64; bins];
    let mut above = 0;
    for &v in values {
        if v > hi {
            above += 1;
            continue;
        }
        let b = (((v - lo) / (hi - lo)) * bins as f64).floor();
        counts[(b.max(0.0) as usize).min(bins - 1)] += 1;
    }
    let total = values.len().max(1) as f64;
    let fractions = counts.iter().map(|&c| c as f64 / total).collect();
    Histogram {
        lo,
        hi,
        counts,
        fractions,
        above,
    }
}

/// Summarises the search results `nearest` for queries labelled `query_labels` against
/// `index`.
pub fn build_report(
    split: Split,
    metric: Metric,
    query_labels: &[u16],
    index: &Index,
    nearest: &[Nearest],
    options: &ReportOptions,
) -> Result<SeparationReport, SeparationError> {
    if query_labels.len() != nearest.len() {
        return Err(SeparationError::Invalid(format!(
            "{} query labels for {} search results",
            query_labels.len(),
            nearest.len()
        )));
    }
    // (raw, query) for every query with another-class neighbour, ascending.
    let mut found: Vec<(u32, usize, u32)> = nearest
        .iter()
        .enumerate()
        .filter_map(|(q, n)| n.other.map(|o| (o.raw, q, o.index)))
        .collect();
    if found.is_empty() {
        return Err(SeparationError::NoCrossClassPairs);
    }
    found.sort_unstable();
    let unit = |raw: u32| metric.to_unit(raw);
    let m = found.len();
    if options.drop_smallest >= m {
        return Err(SeparationError::Invalid(format!(
            "cannot drop the {} smallest of {m} distances",
            options.drop_smallest
        )));
    }
    let min = unit(found[0].0);
    let max = unit(found[m - 1].0);
    let mean = match metric {
        Metric::Linf => found.iter().map(|f| u64::from(f.0)).sum::<u64>() as f64 / m as f64 / 255.0,
        Metric::L2 => found.iter().map(|f| unit(f.0)).sum::<f64>() / m as f64,
    };
    let median = if m % 2 == 1 {
        unit(found[m / 2].0)
    } else {
        (unit(found[m / 2 - 1].0) + unit(found[m / 2].0)) / 2.0
    };
    let hi = match metric {
        Metric::Linf => 1.0,
        Metric::L2 => max.ceil().max(1.0),
    };
    let histogram = match metric {
        // Exact integer binning: bin ⌊raw · bins / 255⌋.
        Metric::Linf => {
            let bins = options.bins.max(1);
            let mut counts = vec![0u64; bins];
            for f in &found {
                counts[(f.0 as usize * bins / 255).min(bins - 1)] += 1;
            }
            let fractions = counts.iter().map(|&c| c as f64 / m as f64).collect();
            Histogram {
                lo: 0.0,
                hi: 1.0,
                counts,
                fractions,
                above: 0,
            }
        }
        Metric::L2 => {
            let values: Vec<f64> = found.iter().map(|f| unit(f.0)).collect();
            histogram(&values, 0.0, hi, options.bins)
        }
    };
    let mut closest_pairs = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for &(raw, q, t) in &found {
        if closest_pairs.len() >= options.top_k {
            break;
        }
        let t = t as usize;
        if split == Split::TrainTrain && !seen.insert((q.min(t), q.max(t))) {
            continue;
        }
        closest_pairs.push(ClosestPair {
            query_index: q,
            query_label: query_labels[q],
            train_index: t,
            train_label: index.label(t),
            distance: unit(raw),
            raw,
        });
    }
    let separation = min / 2.0;
    let epsilon = options.epsilon;
    Ok(SeparationReport {
        split,
        metric,
        queries: nearest.len(),
        train: index.len(),
        measured: m,
        min,
        mean,
        median,
        max,
        smallest: found
            .iter()
            .take(options.top_k)
            .map(|f| unit(f.0))
            .collect(),
        drop_smallest: options.drop_smallest,
        min_after_drop: unit(found[options.drop_smallest].0),
        histogram,
        closest_pairs,
        separation,
        epsilon,
        separation_over_epsilon: epsilon.filter(|&e| e > 0.0).map(|e| separation / e),
    })
}
