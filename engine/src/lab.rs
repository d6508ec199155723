//! The playground's work on loaded models: logits, attacks with every iterate, the local
//! Lipschitz estimate, and robust accuracy against ε. Results are read back once per
//! call, asynchronously, so the same code runs on WebGPU in a browser.

use std::cell::RefCell;
use std::rc::Rc;

use astute::attack::{
    Apgd, ApgdIterate, ApgdRun, AutoAttack, Component, Goal, MultiTargeted, Part, Pgd, eval_copy,
    seeded_start,
};
use astute::burn::prelude::*;
use astute::burn::tensor::TensorData;
use astute::data::ImageShape;
use astute::loss::predictions;
use astute::metric::Lipschitz;
use astute::model::{Classifier, Network, NetworkConfig};
use astute_engine_api::{
    AttackKind, AttackRequest, AttackResult, AttackStep, CurveAttack, CurvePoint, LipschitzEstimate,
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
        if request.kind.adaptive() {
            return self.apgd(&model, images, labels, request, started).await;
        }
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
            AttackKind::ApgdCe | AttackKind::ApgdT => unreachable!("APGD returned above"),
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
                    loss: None,
                    step_size: None,
                    halved: false,
                })
                .collect()
        };
        Ok(AttackResult {
            clean_logits,
            adversarial_logits,
            adversarial: floats(adversarial).await?,
            linf,
            steps,
            target: None,
            milliseconds: elapsed_ms(started),
        })
    }

    /// APGD on one image, as `astute eval --attack apgd-ce|apgd-t --seed S` runs it on its
    /// image 0 (with 100 iterations and one restart): run after run (restarts, and targets
    /// ranked 2nd, 3rd, … unless one is chosen) until one fools the model. An image the
    /// model already gets wrong is attacked too, to be shown. The last run is shown step by step: loss, step size and
    /// the checkpoints where the step size halved.
    async fn apgd(
        &self,
        model: &Loaded,
        images: Tensor<4>,
        labels: Tensor<1, Int>,
        request: &AttackRequest,
        started: Instant,
    ) -> Result<AttackResult, LabError> {
        let net = &model.network;
        let classes = model.config.classes;
        let base = match request.kind {
            AttackKind::ApgdT => Apgd::targeted(request.epsilon, request.seed),
            _ => Apgd::ce(request.epsilon, request.seed),
        };
        let apgd = Apgd {
            iterations: request.steps,
            restarts: request.restarts,
            ..base
        };
        let clean_logits = floats(net.forward(images.clone())).await?;
        let ranked = ranked_classes(&clean_logits, classes);
        // (run, target class): a chosen target takes every restart.
        let runs: Vec<(ApgdRun, Option<usize>)> = match request.target {
            Some(target) => (0..apgd.restarts)
                .map(|number| (ApgdRun { rank: None, number }, Some(target)))
                .collect(),
            None => apgd
                .runs(classes)
                .into_iter()
                .map(|run| (run, run.rank.map(|rank| ranked[rank] as usize)))
                .collect(),
        };
        let mut shown = None;
        for (run, target) in runs {
            let target_tensor = target.map(|t| {
                Tensor::<1, Int>::from_data(TensorData::new(vec![t as i64], [1]), &self.device)
            });
            let mut trace = Vec::new();
            let adversarial = apgd.run_once(
                net,
                &images,
                &labels,
                target_tensor.as_ref(),
                &[request.seed],
                run.number,
                |iterate: ApgdIterate<'_>| trace.push(TracedStep::of(iterate)),
            );
            let fooled = predictions(net.forward(adversarial.clone()))
                .not_equal(labels.clone())
                .float();
            let fooled = floats(fooled).await?[0] > 0.5;
            shown = Some((adversarial, trace, target));
            if fooled {
                break;
            }
        }
        let (adversarial, trace, target) =
            shown.ok_or_else(|| LabError("APGD has no run to make with these settings".into()))?;
        let steps = self.read_trace(net, trace, classes).await?;
        let adversarial_logits = floats(net.forward(adversarial.clone())).await?;
        Ok(AttackResult {
            clean_logits,
            adversarial_logits,
            linf: floats((adversarial.clone() - images).abs().max()).await?[0],
            adversarial: floats(adversarial).await?,
            steps,
            target,
            milliseconds: elapsed_ms(started),
        })
    }

    /// An APGD run's iterates read back in one go.
    async fn read_trace(
        &self,
        net: &Network,
        trace: Vec<TracedStep>,
        classes: usize,
    ) -> Result<Vec<AttackStep>, LabError> {
        if trace.is_empty() {
            return Ok(Vec::new());
        }
        let mut points = Vec::with_capacity(trace.len());
        let (mut losses, mut sizes, mut halvings) = (Vec::new(), Vec::new(), Vec::new());
        for step in trace {
            points.push(step.point);
            losses.push(step.loss);
            sizes.push(step.step_size);
            halvings.push(step.halved);
        }
        let all = Tensor::cat(points, 0);
        let logits = floats(net.forward(all.clone())).await?;
        let pixels = floats(all).await?;
        let losses = floats(Tensor::cat(losses, 0)).await?;
        let sizes = floats(Tensor::cat(sizes, 0)).await?;
        let halvings = floats(Tensor::cat(halvings, 0)).await?;
        let per_image = pixels.len() / losses.len();
        Ok(logits
            .chunks(classes)
            .zip(pixels.chunks(per_image))
            .zip(losses.iter().zip(&sizes).zip(&halvings))
            .map(|((l, p), ((&loss, &size), &halved))| AttackStep {
                logits: l.to_vec(),
                image: p.to_vec(),
                loss: Some(loss),
                step_size: Some(size),
                halved: halved > 0.5,
            })
            .collect())
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

    /// Robust accuracy under `attack` at each ε, image `i` seeded by `seed + i`, as
    /// `astute eval` measures it with the same attack and seed; ε = 0 is clean accuracy.
    #[allow(clippy::too_many_arguments)]
    pub async fn curve(
        &self,
        handle: usize,
        pixels: &[f32],
        labels: &[u8],
        epsilons: &[f32],
        attack: CurveAttack,
        seed: u64,
    ) -> Result<Vec<CurvePoint>, LabError> {
        let model = self.model(handle)?;
        let (images, labels) = self.batch(&model, pixels, labels)?;
        let [n, ..] = images.dims();
        let mut points = Vec::with_capacity(epsilons.len());
        for &epsilon in epsilons {
            let started = Instant::now();
            Pgd::paper(epsilon)
                .validate()
                .map_err(|e| LabError(e.to_string()))?;
            let mut correct = 0usize;
            for offset in (0..n).step_by(CURVE_BATCH) {
                let end = (offset + CURVE_BATCH).min(n);
                let x = images.clone().slice(offset..end);
                let y = labels.clone().slice(offset..end);
                let first = seed.wrapping_add(offset as u64);
                correct += match attack {
                    _ if epsilon == 0.0 => count_correct(&model.network, x, y).await?,
                    CurveAttack::Pgd => {
                        let goal = Goal::Untargeted(y.clone());
                        let x = Pgd::paper(epsilon).attack_with(
                            &model.network,
                            &x,
                            &goal,
                            |r| seeded_start(&x, epsilon, first, r),
                            |_, _| (),
                        );
                        count_correct(&model.network, x, y).await?
                    }
                    CurveAttack::ApgdCe | CurveAttack::Apgd => {
                        let components = match attack {
                            CurveAttack::ApgdCe => vec![Component::ApgdCe],
                            _ => AutoAttack::apgd(epsilon, first).components,
                        };
                        let sequence = AutoAttack {
                            epsilon,
                            seed: first,
                            components,
                        };
                        self.survivors(&model, x, y, &sequence).await?
                    }
                };
            }
            points.push(CurvePoint {
                epsilon,
                accuracy: 100.0 * correct as f64 / n as f64,
                milliseconds: elapsed_ms(started),
            });
        }
        Ok(points)
    }

    /// How many points of a batch survive every run of `sequence`, each run attacking only
    /// the points the earlier ones left robust: AutoAttack's order, with the robust set read
    /// back (awaited) between runs.
    async fn survivors(
        &self,
        model: &Loaded,
        x: Tensor<4>,
        y: Tensor<1, Int>,
        sequence: &AutoAttack,
    ) -> Result<usize, LabError> {
        let net = &model.network;
        let classes = model.config.classes;
        let clean_logits = net.forward(x.clone());
        let [n, _] = clean_logits.dims();
        let ranked = Tensor::<2, Int>::from_data(
            TensorData::new(
                ranked_classes(&floats(clean_logits.clone()).await?, classes),
                [n, classes],
            ),
            &self.device,
        );
        let mut robust = flags(predictions(clean_logits).equal(y.clone())).await?;
        for planned in sequence.plan(classes) {
            let positions: Vec<usize> = (0..robust.len()).filter(|&k| robust[k]).collect();
            if positions.is_empty() {
                break;
            }
            let part = Part::of(&x, &y, &positions);
            let attacked = planned.attack(net, &part, &ranked);
            let holds = flags(predictions(net.forward(attacked)).equal(part.labels)).await?;
            for (slot, &k) in positions.iter().enumerate() {
                robust[k] = holds[slot];
            }
        }
        Ok(robust.iter().filter(|&&r| r).count())
    }
}

/// One APGD iterate kept on the device until the run ends.
struct TracedStep {
    point: Tensor<4>,
    loss: Tensor<1>,
    step_size: Tensor<1>,
    halved: Tensor<1>,
}

impl TracedStep {
    fn of(iterate: ApgdIterate<'_>) -> Self {
        Self {
            point: iterate.point.clone(),
            loss: iterate.loss.clone(),
            step_size: iterate.step_size.clone(),
            halved: match iterate.halved {
                Some(mask) => mask.clone().float(),
                None => iterate.loss.zeros_like(),
            },
        }
    }
}

/// Each row's classes by descending logit, ranked on the host: sorting on WebGPU reads the
/// tensor back synchronously, which a browser cannot do.
fn ranked_classes(logits: &[f32], classes: usize) -> Vec<i64> {
    logits
        .chunks(classes)
        .flat_map(|row| {
            let mut order: Vec<i64> = (0..classes as i64).collect();
            order.sort_by(|&a, &b| row[b as usize].total_cmp(&row[a as usize]));
            order
        })
        .collect()
}

async fn count_correct(net: &Network, x: Tensor<4>, y: Tensor<1, Int>) -> Result<usize, LabError> {
    let hits = predictions(net.forward(x)).equal(y).int().sum();
    Ok(floats(hits).await?[0] as usize)
}

async fn flags(mask: Tensor<1, Bool>) -> Result<Vec<bool>, LabError> {
    Ok(floats(mask.float())
        .await?
        .iter()
        .map(|&v| v > 0.5)
        .collect())
}
