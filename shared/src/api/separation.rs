//! One separation measurement as a user asks for it.

use serde::{Deserialize, Serialize};

use crate::data::DatasetId;
use crate::separation::Metric;

/// Measure how separated `dataset`'s classes are: Train–Train and Test–Train nearest
/// other-class distances in `metric` (ℓ∞ by default, the paper's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeparationSpec {
    pub dataset: DatasetId,
    #[serde(default)]
    pub metric: Metric,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_defaults_to_linf_and_unknown_fields_are_refused() {
        let spec: SeparationSpec = serde_json::from_str(r#"{"dataset": "mnist"}"#).unwrap();
        assert_eq!(
            (spec.dataset, spec.metric),
            (DatasetId::Mnist, Metric::Linf)
        );
        let spec: SeparationSpec =
            serde_json::from_str(r#"{"dataset": "spiral", "metric": "l2"}"#).unwrap();
        assert_eq!(spec.metric, Metric::L2);
        let error = serde_json::from_str::<SeparationSpec>(r#"{"dataset": "mnist", "k": 3}"#)
            .unwrap_err()
            .to_string();
        assert!(error.contains("unknown field `k`"), "{error}");
        assert!(serde_json::from_str::<SeparationSpec>(r#"{"dataset": "x"}"#).is_err());
    }
}
