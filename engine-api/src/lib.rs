//! The messages between the web app and the in-browser engine (`astute-engine`), as JSON,
//! and the arithmetic on logits that both sides need (probabilities, loss, margin).

mod curve;
mod logits;
mod manifest;
mod own_data;
mod theory;

pub use curve::{CurveAttack, CurvePoint, CurveWarning, LARGE_RADIUS, curve_warnings};
pub use logits::{cross_entropy, margin, prediction, softmax};
pub use manifest::{ModelEntry, PlaygroundManifest, SampleSet};
pub use own_data::{MAX_CLASSES, MAX_IMAGES, MAX_PIXEL_BYTES, OwnData, OwnReport};
pub use theory::{
    TheoryConfig, TheoryData, TheoryMethod, TheoryScores, TheorySnapshot, TrainProgress,
};

use serde::{Deserialize, Serialize};

/// Which compute path the engine runs on, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackendReport {
    /// `webgpu` or `cpu`.
    pub kind: BackendKind,
    /// What ran: the GPU adapter's name, or "WebAssembly (SIMD)".
    pub detail: String,
    /// Why the engine did not take the path asked for, when it did not.
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    Webgpu,
    Cpu,
}

/// Which path the visitor asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendChoice {
    /// WebGPU on a real GPU, the CPU otherwise (a software WebGPU adapter is slower than
    /// the CPU path).
    #[default]
    Auto,
    Webgpu,
    Cpu,
}

impl BackendChoice {
    pub fn name(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Webgpu => "webgpu",
            Self::Cpu => "cpu",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [Self::Auto, Self::Webgpu, Self::Cpu]
            .into_iter()
            .find(|c| c.name() == name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttackKind {
    /// One step of size ε (no random start).
    Fgsm,
    /// Projected gradient steps from a seeded random start, with restarts.
    Pgd,
    /// PGD on the margin toward every other class in turn (untargeted only).
    MultiTargeted,
    /// APGD on the cross-entropy (untargeted): the step size adapts, no step size to choose.
    ApgdCe,
    /// APGD on the targeted DLR loss, toward the chosen class or else toward each of the 9
    /// classes ranked next on the clean image in turn, until one fools the model.
    ApgdT,
}

impl AttackKind {
    /// Whether the attack chooses its own step size (the request's is not used).
    pub fn adaptive(self) -> bool {
        matches!(self, Self::ApgdCe | Self::ApgdT)
    }
}

/// One attack on one image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttackRequest {
    pub kind: AttackKind,
    pub epsilon: f32,
    pub steps: usize,
    pub step_size: f32,
    pub restarts: usize,
    /// Push toward this class instead of away from the label.
    pub target: Option<usize>,
    /// Seeds the random starts (PGD, APGD): the same seed gives the same start on every
    /// backend, and as image 0 of `astute eval --attack … --seed` draws.
    pub seed: u64,
}

impl AttackRequest {
    /// What the engine would otherwise fail on, as a sentence.
    pub fn validate(&self, classes: usize) -> Result<(), String> {
        if !(self.epsilon.is_finite() && (0.0..=1.0).contains(&self.epsilon)) {
            return Err(format!("ε = {} is outside [0, 1]", self.epsilon));
        }
        if !(self.step_size.is_finite() && self.step_size >= 0.0) {
            return Err(format!("step size {} must be ≥ 0", self.step_size));
        }
        if self.kind != AttackKind::Fgsm && !(1..=1000).contains(&self.steps) {
            return Err(format!("{} steps: choose 1 to 1000", self.steps));
        }
        if !(1..=20).contains(&self.restarts) {
            return Err(format!("{} restarts: choose 1 to 20", self.restarts));
        }
        match self.target {
            Some(t) if t >= classes => Err(format!(
                "target class {t} does not exist (the model has {classes} classes)"
            )),
            Some(_) if self.kind == AttackKind::MultiTargeted => {
                Err("the multi-targeted attack already tries every class: no target".into())
            }
            Some(_) if self.kind == AttackKind::ApgdCe => {
                Err("APGD-CE is untargeted: choose APGD-T to aim at a class".into())
            }
            _ if self.kind == AttackKind::ApgdT && classes < 4 => Err(format!(
                "APGD-T's targeted DLR loss needs 4 classes (the model has {classes})"
            )),
            _ => Ok(()),
        }
    }
}

/// One iterate, for stepping through the attack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttackStep {
    pub logits: Vec<f32>,
    pub image: Vec<f32>,
    /// APGD: the loss it ascends, at this iterate.
    #[serde(default)]
    pub loss: Option<f32>,
    /// APGD: the step size that led here.
    #[serde(default)]
    pub step_size: Option<f32>,
    /// APGD: a checkpoint here halved the step size and sent the run back to its best point.
    #[serde(default)]
    pub halved: bool,
}

/// What an attack on one image found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttackResult {
    pub clean_logits: Vec<f32>,
    pub adversarial_logits: Vec<f32>,
    pub adversarial: Vec<f32>,
    /// ‖adversarial − clean‖∞, the budget actually used.
    pub linf: f32,
    /// Every iterate of the first PGD start, or of the APGD run shown (empty for the other
    /// attacks).
    pub steps: Vec<AttackStep>,
    /// APGD-T: the target class of the run shown (the one that fooled the model, else the
    /// last one tried).
    #[serde(default)]
    pub target: Option<usize>,
    pub milliseconds: f64,
}

/// The local Lipschitz estimate of Eq. (3) at one image.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LipschitzEstimate {
    pub epsilon: f32,
    pub value: f32,
    pub milliseconds: f64,
}
