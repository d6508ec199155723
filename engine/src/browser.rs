//! The surface the web app imports: an `Engine` class (the playground's models on the
//! chosen device) and `startTheory`/`Theory` (the theory page's run, on the CPU), whose
//! methods return JSON or promises of JSON (the types of `astute-engine-api`). Work runs on the page's thread between
//! awaits; the page stays responsive because WebGPU work and read-backs are awaited.

use std::rc::Rc;

use astute::burn::prelude::Device;
use astute_engine_api::{
    AttackRequest, BackendChoice, BackendKind, BackendReport, CurveAttack, TheoryConfig,
};
use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::{Lab, LabError, TheoryLab};

impl From<LabError> for JsValue {
    fn from(e: LabError) -> Self {
        JsError::new(&e.0).into()
    }
}

fn json<T: serde::Serialize>(value: &T) -> Result<JsValue, JsValue> {
    serde_json::to_string(value)
        .map(|s| JsValue::from_str(&s))
        .map_err(|e| JsError::new(&e.to_string()).into())
}

fn parse<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T, JsValue> {
    serde_json::from_str(text).map_err(|e| JsError::new(&format!("bad {what}: {e}")).into())
}

#[wasm_bindgen(start)]
fn start() {
    console_error_panic_hook::set_once();
}

/// Opens the WebGPU device, or says why not; the flag tells a software adapter.
async fn webgpu() -> Result<(Device, BackendReport, bool), String> {
    let (device, setup) = Device::wgpu_options()
        .init_with_setup_async()
        .await
        .map_err(|e| {
            let e = e.to_string();
            if e.contains("No suitable graphics adapter") || e.contains("No adapter available") {
                "this browser offers no WebGPU adapter".to_string()
            } else {
                format!("WebGPU did not start ({e})")
            }
        })?;
    let info = setup.adapter.get_info();
    let software = info.device_type == astute::burn::tensor::wgpu::wgpu::DeviceType::Cpu;
    // Browsers may hide the adapter's name; its type is always there.
    let name = match (info.name.is_empty(), software) {
        (false, _) => info.name.clone(),
        (true, true) => "a software adapter".to_string(),
        (true, false) => "a GPU".to_string(),
    };
    Ok((
        device,
        BackendReport {
            kind: BackendKind::Webgpu,
            detail: name,
            note: None,
        },
        software,
    ))
}

fn cpu(note: Option<String>) -> (Device, BackendReport) {
    (
        Device::flex(),
        BackendReport {
            kind: BackendKind::Cpu,
            detail: "WebAssembly with SIMD, one thread".into(),
            note,
        },
    )
}

/// The engine: a device and the models loaded on it.
#[wasm_bindgen]
pub struct Engine {
    lab: Rc<Lab>,
    report: BackendReport,
}

#[wasm_bindgen]
impl Engine {
    /// `choice`: `auto`, `webgpu` or `cpu`. Resolves to an `Engine`.
    pub fn start(choice: String) -> Promise {
        future_to_promise(async move {
            let choice = BackendChoice::parse(&choice).ok_or_else(|| {
                JsError::new(&format!("unknown backend '{choice}': auto, webgpu or cpu"))
            })?;
            let (device, report) = match choice {
                BackendChoice::Cpu => cpu(None),
                BackendChoice::Webgpu => {
                    let (device, report, _) = webgpu().await.map_err(|e| JsError::new(&e))?;
                    (device, report)
                }
                BackendChoice::Auto => match webgpu().await {
                    Ok((_, report, true)) => cpu(Some(format!(
                        "WebGPU offers {}, which runs on the CPU: WebAssembly is faster",
                        report.detail
                    ))),
                    Ok((device, report, false)) => (device, report),
                    Err(why) => cpu(Some(why)),
                },
            };
            Ok(Engine {
                lab: Rc::new(Lab::new(device)),
                report,
            }
            .into())
        })
    }

    /// Where the work runs, as JSON (`BackendReport`).
    pub fn backend(&self) -> Result<JsValue, JsValue> {
        json(&self.report)
    }

    /// Loads safetensors weights; returns the model's handle.
    pub fn load(&self, weights: Vec<u8>) -> Result<usize, JsValue> {
        Ok(self.lab.load(weights)?)
    }

    /// Logits of `pixels` (NCHW in [0, 1], any number of images), flattened.
    pub fn logits(&self, model: usize, pixels: Vec<f32>) -> Promise {
        let lab = self.lab.clone();
        future_to_promise(async move {
            let logits = lab.logits(model, &pixels).await?;
            Ok(js_sys::Float32Array::from(logits.as_slice()).into())
        })
    }

    /// One attack (`request`: `AttackRequest` JSON) on one image; resolves to
    /// `AttackResult` JSON.
    pub fn attack(&self, model: usize, pixels: Vec<f32>, label: u8, request: String) -> Promise {
        let lab = self.lab.clone();
        future_to_promise(async move {
            let request: AttackRequest = parse(&request, "attack request")?;
            json(&lab.attack(model, &pixels, label, &request).await?)
        })
    }

    /// Eq. (3) at one image; resolves to `LipschitzEstimate` JSON.
    pub fn lipschitz(&self, model: usize, pixels: Vec<f32>, epsilon: f32) -> Promise {
        let lab = self.lab.clone();
        future_to_promise(async move { json(&lab.lipschitz(model, &pixels, epsilon).await?) })
    }

    /// Robust accuracy at each ε on a set of images under `attack` (`pgd`, `apgd-ce` or
    /// `apgd`); resolves to `[CurvePoint]` JSON.
    pub fn curve(
        &self,
        model: usize,
        pixels: Vec<f32>,
        labels: Vec<u8>,
        epsilons: Vec<f32>,
        attack: String,
        seed: u64,
    ) -> Promise {
        let lab = self.lab.clone();
        future_to_promise(async move {
            let attack = CurveAttack::parse(&attack).ok_or_else(|| {
                JsError::new(&format!(
                    "unknown curve attack '{attack}': pgd, apgd-ce or apgd"
                ))
            })?;
            json(
                &lab.curve(model, &pixels, &labels, &epsilons, attack, seed)
                    .await?,
            )
        })
    }
}

/// Starts a theory-page run (`config`: `TheoryConfig` JSON): generates the spiral,
/// measures the distance classifier, initialises the MLP. It needs no `Engine`: it runs on
/// the CPU path whatever the page's backend, because a 2-D MLP is a few hundred small
/// kernels per step, which a GPU spends in dispatch and read-back, not in arithmetic.
#[wasm_bindgen(js_name = startTheory)]
pub fn start_theory(config: String) -> Result<Theory, JsValue> {
    let config: TheoryConfig = parse(&config, "theory settings")?;
    let (lab, data) = TheoryLab::new(&Device::flex(), config)?;
    Ok(Theory {
        lab: Rc::new(lab),
        data: json(&data)?,
    })
}

/// One theory-page run: a spiral and an MLP trained on it.
#[wasm_bindgen]
pub struct Theory {
    lab: Rc<TheoryLab>,
    data: JsValue,
}

#[wasm_bindgen]
impl Theory {
    /// The spiral and the distance classifier, as `TheoryData` JSON.
    pub fn data(&self) -> JsValue {
        self.data.clone()
    }

    /// `steps` Adam steps; resolves to `TrainProgress` JSON.
    pub fn train(&self, steps: usize) -> Promise {
        let lab = self.lab.clone();
        future_to_promise(async move { json(&lab.train(steps).await?) })
    }

    /// The network as it stands; resolves to `TheorySnapshot` JSON.
    pub fn snapshot(&self) -> Promise {
        let lab = self.lab.clone();
        future_to_promise(async move { json(&lab.snapshot().await?) })
    }
}

/// Reads a visitor's own files (`names[i]` holding `files[i]`: an IDX pair or CIFAR-10
/// batches) and measures their exact ℓ∞ Train–Train separation, with `epsilon` for r/ε;
/// returns `OwnReport` JSON, or says which file is wrong and why.
#[wasm_bindgen(js_name = ownSeparation)]
pub fn own_separation(
    names: Vec<String>,
    files: Vec<js_sys::Uint8Array>,
    epsilon: Option<f64>,
) -> Result<JsValue, JsValue> {
    let files = names
        .into_iter()
        .zip(files)
        .map(|(name, bytes)| (name, bytes.to_vec()))
        .collect();
    json(&crate::separation(crate::read_files(files, epsilon)?)?)
}

/// The pixels of an IDX3 image file (the playground's samples), checked by the same
/// parser the native loaders use.
#[wasm_bindgen(js_name = idxImages)]
pub fn idx_images(bytes: Vec<u8>) -> Result<Vec<u8>, JsValue> {
    astute::data::idx::parse_images(bytes)
        .map(|images| images.pixels)
        .map_err(|e| JsError::new(&e.to_string()).into())
}

/// The labels of an IDX1 file.
#[wasm_bindgen(js_name = idxLabels)]
pub fn idx_labels(bytes: Vec<u8>) -> Result<Vec<u8>, JsValue> {
    astute::data::idx::parse_labels(bytes).map_err(|e| JsError::new(&e.to_string()).into())
}
