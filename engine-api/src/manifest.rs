//! `static/playground/manifest.json`: the pretrained models and sample images the
//! playground ships, with what each model measured when it was trained.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlaygroundManifest {
    pub samples: Vec<SampleSet>,
    pub models: Vec<ModelEntry>,
}

impl PlaygroundManifest {
    pub fn samples_of(&self, dataset: &str) -> Option<&SampleSet> {
        self.samples.iter().find(|s| s.dataset == dataset)
    }

    pub fn model(&self, id: &str) -> Option<&ModelEntry> {
        self.models.iter().find(|m| m.id == id)
    }
}

/// Test images of one dataset, as an IDX pair (the datasets' own format).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleSet {
    pub dataset: String,
    pub title: String,
    pub class_names: Vec<String>,
    /// `[channels, height, width]`.
    pub shape: [usize; 3],
    pub count: usize,
    /// Paths relative to the manifest.
    pub images: String,
    pub labels: String,
    /// The dataset's ε in the paper.
    pub epsilon: f32,
}

/// One pretrained model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelEntry {
    pub id: String,
    pub dataset: String,
    pub architecture: String,
    /// As the CLI spells it: `natural`, `at`, `trades:6`.
    pub method: String,
    pub dropout: f64,
    /// Safetensors, relative to the manifest.
    pub weights: String,
    pub bytes: u64,
    /// Measured on the test set after training, at `epsilon` (percent, and Eq. (3)).
    pub test_accuracy: f64,
    pub test_adversarial_accuracy: f64,
    pub test_lipschitz: f64,
    pub test_images: usize,
    /// Test accuracy (%) under AutoAttack (standard) on the first `autoattack_images`
    /// test images, where it was measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_autoattack_accuracy: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoattack_images: Option<usize>,
    pub epsilon: f32,
    /// The command that trained it.
    pub command: String,
}

impl ModelEntry {
    /// "TRADES(6), dropout" and the like.
    pub fn label(&self) -> String {
        let method = match self.method.as_str() {
            "natural" => "Natural".to_string(),
            "at" => "AT".to_string(),
            other => match other.split_once(':') {
                Some((name, beta)) => format!("{}({beta})", name.to_uppercase()),
                None => other.to_uppercase(),
            },
        };
        if self.dropout > 0.0 {
            format!("{method}, dropout")
        } else {
            method
        }
    }

    pub fn is_natural(&self) -> bool {
        self.method == "natural"
    }
}
