//! Arithmetic on one example's logits, in f64 for stable exponentials.

/// Softmax probabilities.
pub fn softmax(logits: &[f32]) -> Vec<f64> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f64> = logits.iter().map(|&z| f64::from(z - max).exp()).collect();
    let sum: f64 = exps.iter().sum();
    exps.into_iter().map(|e| e / sum).collect()
}

/// `−log softmax(z)_class`.
pub fn cross_entropy(logits: &[f32], class: usize) -> f64 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let log_sum = logits
        .iter()
        .map(|&z| f64::from(z - max).exp())
        .sum::<f64>()
        .ln();
    log_sum - f64::from(logits[class] - max)
}

/// `z_class − max_{j ≠ class} z_j`: positive while `class` wins.
pub fn margin(logits: &[f32], class: usize) -> f64 {
    let best_other = logits
        .iter()
        .enumerate()
        .filter(|&(j, _)| j != class)
        .map(|(_, &z)| z)
        .fold(f32::NEG_INFINITY, f32::max);
    f64::from(logits[class] - best_other)
}

/// The index of the largest logit (the first, on ties).
pub fn prediction(logits: &[f32]) -> usize {
    logits
        .iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (j, &z)| {
            if z > best.1 { (j, z) } else { best }
        })
        .0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_values() {
        // ln(e^0 + e^1 + e^2) = 2.40760596...
        let z = [0.0, 1.0, 2.0];
        assert!((cross_entropy(&z, 2) - (2.407_605_964 - 2.0)).abs() < 1e-9);
        assert!((cross_entropy(&z, 0) - 2.407_605_964).abs() < 1e-9);
        let p = softmax(&z);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!((p[2] - 0.665_240_955).abs() < 1e-9);
        assert_eq!(margin(&z, 2), 1.0);
        assert_eq!(margin(&z, 0), -2.0);
        assert_eq!(prediction(&z), 2);
        assert_eq!(prediction(&[1.0, 3.0, 3.0]), 1);
    }

    #[test]
    fn large_logits_stay_finite() {
        let z = [1000.0, -1000.0];
        assert_eq!(softmax(&z), vec![1.0, 0.0]);
        assert!((cross_entropy(&z, 1) - 2000.0).abs() < 1e-9);
    }
}
