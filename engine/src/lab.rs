//! The playground's work on loaded models: logits, attacks with every iterate, the local
//! Lipschitz estimate, and robust accuracy against ε. Results are read back once per
//! call, asynchronously, so the same code runs on WebGPU in a browser.

use std::cell::RefCell;
use std::rc::Rc;

use astute::attack::{Goal, MultiTargeted, Pgd, eval_copy, seeded_start};
use astute::burn::prelude::*;
use astute::burn::tensor::TensorData;
use astute::data::ImageShape;
use astute::loss::predictions;
use astute::metric::Lipschitz;
use astute::model::{Classifier, Network, NetworkConfig};
use astute_engine_api::{
    AttackKind, AttackRequest, AttackResult, AttackStep, CurvePoint, LipschitzEstimate,
};
use web_time::Instant;

use crate::readback::floats;

/// A failure explained in one sentence, for the page to show.
#[derive(Debug, Clone, PartialEq)]
pub struct LabError(pub String);

impl std::fmt::Display for LabError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LabError {}

struct Loaded {
    /// In evaluation behaviour, on the autodiff device (attacks need input gradients).
    network: Network,
    config: NetworkConfig,
}

/// Loaded models on one device. Methods take `&self` and hold no borrow across an await,
/// so a page may start an attack while another one, or a load, is under way.
pub struct Lab {
    device: Device,
    models: RefCell<Vec<Rc<Loaded>>>,
}

/// Images the curve attacks at once: large enough to keep a GPU busy, small enough for
/// a phone's memory.
const CURVE_BATCH: usize = 100;

/// Milliseconds since `since`, as every result reports them.
pub(crate) fn elapsed_ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

impl Lab {
    pub fn new(device: Device) -> Self {
        Self {
            device: device.autodiff(),
            models: RefCell::new(Vec::new()),
        }
    }

    /// Loads a safetensors file written by `astute train --out`; returns its handle.
    pub fn load(&self, bytes: Vec<u8>) -> Result<usize, LabError> {
        let (network, config) = astute::weights::from_bytes(bytes, None, &self.device)
            .map_err(|e| LabError(format!("these weights cannot be loaded: {e}")))?;
        let mut models = self.models.borrow_mut();
        models.push(Rc::new(Loaded {
            network: eval_copy(&network),
            config,
        }));
        Ok(models.len() - 1)
    }

    fn model(&self, handle: usize) -> Result<Rc<Loaded>, LabError> {
        self.models
            .borrow()
            .get(handle)
            .cloned()
            .ok_or_else(|| LabError(format!("no model {handle} is loaded")))
    }

    pub fn classes(&self, handle: usize) -> Result<usize, LabError> {
        Ok(self.model(handle)?.config.classes)
    }

    /// `pixels` in [0, 1], NCHW flattened, as a batch for `model`.
    fn images(&self, model: &Loaded, pixels: &[f32]) -> Result<Tensor<4>, LabError> {
        let ImageShape {
            channels,
            height,
            width,
        } = model.config.input;
        let per_image = channels * height * width;
        if pixels.is_empty() || !pixels.len().is_multiple_of(per_image) {
            return Err(LabError(format!(
                "{} pixel values do not make whole {channels}×{height}×{width} images",
                pixels.len()
            )));
        }
        if let Some(bad) = pixels.iter().find(|p| !(0.0..=1.0).contains(*p)) {
            return Err(LabError(format!("pixel value {bad} is outside [0, 1]")));
        }
        let n = pixels.len() / per_image;
        Ok(Tensor::from_data(
            TensorData::new(pixels.to_vec(), [n, channels, height, width]),
            &self.device,
        ))
    }

    fn batch(
        &self,
        model: &Loaded,
        pixels: &[f32],
        labels: &[u8],
    ) -> Result<(Tensor<4>, Tensor<1, Int>), LabError> {
        let images = self.images(model, pixels)?;
        let [n, ..] = images.dims();
        if labels.len() != n {
            return Err(LabError(format!("{} labels for {n} images", labels.len())));
        }
        if let Some(bad) = labels
            .iter()
            .find(|&&l| usize::from(l) >= model.config.classes)
        {
            return Err(LabError(format!(
                "label {bad} does not exist (the model has {} classes)",
                model.config.classes
            )));
        }
        let labels: Vec<i64> = labels.iter().map(|&l| i64::from(l)).collect();
        let labels = Tensor::from_data(TensorData::new(labels, [n]), &self.device);
        Ok((images, labels))
    }

    /// Logits of every image, `[n × classes]` flattened.
    pub async fn logits(&self, handle: usize, pixels: &[f32]) -> Result<Vec<f32>, LabError> {
        let model = self.model(handle)?;
        floats(model.network.forward(self.images(&model, pixels)?)).await
    }

    /// One attack on one image.
    pub async fn attack(
        &self,
        handle: usize,
        pixels: &[f32],
        label: u8,
        request: &AttackRequest,
    ) -> Result<AttackResult, LabError> {
        let started = Instant::now();
        let model = self.model(handle)?;
        request.validate(model.config.classes).map_err(LabError)?;
        // One label: `batch` refuses pixels of more than one image.
        let (images, labels) = self.batch(&model, pixels, &[label])?;
        let goal = match request.target {
            Some(t) => Goal::Targeted(Tensor::from_data(
                TensorData::new(vec![t as i64], [1]),
                &self.device,
            )),
            None => Goal::Untargeted(labels.clone()),
        };
        let net = &model.network;
        let mut iterates = Vec::new();
        let adversarial = match request.kind {
            AttackKind::Fgsm => Pgd {
                epsilon: request.epsilon,
                steps: 1,
                step_size: request.epsilon,
                restarts: 1,
                random_start: false,
            }
            .ascend(net, &images, images.clone(), &goal, |x| {
                iterates.push(x.clone())
            }),
            AttackKind::Pgd => Pgd {
                epsilon: request.epsilon,
                steps: request.steps,
                step_size: request.step_size,
                restarts: request.restarts,
                random_start: true,
            }
            .attack_with(
                net,
                &images,
                &goal,
                |r| seeded_start(&images, request.epsilon, request.seed, r),
                |r, x| {
                    if r == 0 {
                        iterates.push(x.clone())
                    }
                },
            ),
            AttackKind::MultiTargeted => MultiTargeted {
                epsilon: request.epsilon,
                steps: request.steps,
                step_size: request.step_size,
            }
            .attack(net, &images, &labels, model.config.classes),
        };
        let classes = model.config.classes;
        let clean_logits = floats(net.forward(images.clone())).await?;
        let adversarial_logits = floats(net.forward(adversarial.clone())).await?;
        let linf = floats((adversarial.clone() - images).abs().max()).await?[0];
        let steps = if iterates.is_empty() {
            Vec::new()
        } else {
            let all = Tensor::cat(iterates, 0);
            let logits = floats(net.forward(all.clone())).await?;
            let pixels = floats(all).await?;
            let per_image = pixels.len() / (logits.len() / classes);
            logits
                .chunks(classes)
                .zip(pixels.chunks(per_image))
                .map(|(l, p)| AttackStep {
                    logits: l.to_vec(),
                    image: p.to_vec(),
                })
                .collect()
        };
        Ok(AttackResult {
            clean_logits,
            adversarial_logits,
            adversarial: floats(adversarial).await?,
            linf,
            steps,
            milliseconds: elapsed_ms(started),
        })
    }

    /// Eq. (3) at one image: 10 ascent steps of ε/5.
    pub async fn lipschitz(
        &self,
        handle: usize,
        pixels: &[f32],
        epsilon: f32,
    ) -> Result<LipschitzEstimate, LabError> {
        let started = Instant::now();
        if !(epsilon.is_finite() && epsilon > 0.0 && epsilon <= 1.0) {
            return Err(LabError(format!("ε = {epsilon} is outside (0, 1]")));
        }
        let model = self.model(handle)?;
        let images = self.images(&model, pixels)?;
        let estimate = Lipschitz::paper(epsilon).estimate(&model.network, &images);
        Ok(LipschitzEstimate {
            epsilon,
            value: floats(estimate.mean()).await?[0],
            milliseconds: elapsed_ms(started),
        })
    }

    /// Robust accuracy under PGD-10 (step ε/5, one seeded start per image, image `i`
    /// seeded by `seed + i`) at each ε; ε = 0 is clean accuracy.
    pub async fn curve(
        &self,
        handle: usize,
        pixels: &[f32],
        labels: &[u8],
        epsilons: &[f32],
        seed: u64,
    ) -> Result<Vec<CurvePoint>, LabError> {
        let model = self.model(handle)?;
        let (images, labels) = self.batch(&model, pixels, labels)?;
        let [n, ..] = images.dims();
        let mut points = Vec::with_capacity(epsilons.len());
        for &epsilon in epsilons {
            let started = Instant::now();
            let attack = Pgd::paper(epsilon);
            attack.validate().map_err(|e| LabError(e.to_string()))?;
            let mut correct = 0usize;
            for offset in (0..n).step_by(CURVE_BATCH) {
                let end = (offset + CURVE_BATCH).min(n);
                let x = images.clone().slice(offset..end);
                let y = labels.clone().slice(offset..end);
                let x = if epsilon > 0.0 {
                    let goal = Goal::Untargeted(y.clone());
                    let first = seed.wrapping_add(offset as u64);
                    attack.attack_with(
                        &model.network,
                        &x,
                        &goal,
                        |r| seeded_start(&x, epsilon, first, r),
                        |_, _| (),
                    )
                } else {
                    x
                };
                let hits = predictions(model.network.forward(x)).equal(y).int().sum();
                correct += floats(hits).await?[0] as usize;
            }
            points.push(CurvePoint {
                epsilon,
                accuracy: 100.0 * correct as f64 / n as f64,
                milliseconds: elapsed_ms(started),
            });
        }
        Ok(points)
    }
}
