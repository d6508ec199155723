//! The in-browser engine (`astute-engine`), a second wasm bundle that the playground and
//! theory pages start on demand in a Web Worker (`static/engine-worker.js`): the other
//! pages never download it, and its work never blocks the page. `index.html` names its
//! files in `<meta name="astute-engine">`; this module posts the worker calls and wraps
//! its answers (JSON, typed arrays, handles of its objects) in typed async calls.
//! [`cancel`] stops whatever the engine is computing by ending the worker; the next call
//! starts a new one.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use astute_engine_api::{
    AttackRequest, AttackResult, BackendChoice, BackendReport, CurveAttack, CurvePoint,
    LipschitzEstimate, OwnReport, TheoryConfig, TheoryData, TheorySnapshot, TrainProgress,
};
use js_sys::{Array, Function, Object, Promise, Reflect};
use leptos::prelude::{ArcRwSignal, Set};
use serde::de::DeserializeOwned;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, future_to_promise};
use web_sys::{MessageEvent, Worker, WorkerOptions, WorkerType};

/// What a call that was stopped by [`cancel`] answers.
pub const CANCELLED: &str = "cancelled";

/// A JS exception or rejection as the sentence it carries.
fn message(error: JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| format!("{error:?}"))
}

fn decode<T: DeserializeOwned>(value: JsValue) -> Result<T, String> {
    let text = value
        .as_string()
        .ok_or_else(|| "the engine answered with something other than JSON".to_string())?;
    serde_json::from_str(&text).map_err(|e| format!("the engine's answer was not understood: {e}"))
}

async fn settle(promise: Promise) -> Result<JsValue, String> {
    JsFuture::from(promise).await.map_err(message)
}

fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn js_object(entries: &[(&str, JsValue)]) -> Object {
    let object = Object::new();
    for (key, value) in entries {
        // Setting a property of a fresh plain object cannot fail.
        let _ = Reflect::set(&object, &JsValue::from_str(key), value);
    }
    object
}

/// The engine bundle as the page names it in `<meta name="astute-engine">`.
struct Bundle {
    script: String,
    module: String,
    worker: String,
    /// The WebAssembly's size, raw and compressed, as the build measured it.
    bytes: Option<f64>,
    compressed: Option<f64>,
}

fn bundle() -> Result<Bundle, String> {
    let meta = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector("meta[name=astute-engine]").ok().flatten())
        .ok_or("this page was built without the in-browser engine (cargo xtask site)")?;
    let attribute = |name| meta.get_attribute(name).unwrap_or_default();
    let size = |name| meta.get_attribute(name).and_then(|v| v.parse().ok());
    Ok(Bundle {
        script: attribute("content"),
        module: attribute("data-module"),
        worker: attribute("data-worker"),
        bytes: size("data-bytes"),
        compressed: size("data-compressed"),
    })
}

/// How far the engine's WebAssembly has come down: bytes received (decompressed), of how
/// many, and how many of those cross the network (compressed), as the build measured them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Download {
    pub received: f64,
    pub total: Option<f64>,
    pub compressed: Option<f64>,
}

/// The engine's download so far (`None` before it starts and once its module runs), for a
/// progress bar.
pub fn download() -> ArcRwSignal<Option<Download>> {
    DOWNLOAD.with(Clone::clone)
}

/// The worker running the engine, and what the page knows of it.
struct Remote {
    worker: Worker,
    /// Counts workers, so that handles of an ended worker's objects are not sent to the next.
    generation: u32,
    next_id: u32,
    /// Calls awaiting an answer: id → the promise's resolve and reject.
    pending: HashMap<u32, (Function, Function)>,
    /// The engine's import into the worker, shared by every caller.
    booting: Option<Promise>,
    /// The `Engine`'s start, resolving to its handle and its backend report, shared by every caller (a page opens
    /// its WebGPU device once, so changing the choice needs a reload, and a failed start
    /// stays failed until then).
    starting: Option<Promise>,
    /// Model id → handle in this worker's engine: each model's weights load once.
    loaded: HashMap<String, usize>,
    /// The worker's message and error handlers, kept as long as it runs.
    _handlers: [Closure<dyn FnMut(MessageEvent)>; 2],
}

thread_local! {
    static REMOTE: RefCell<Option<Remote>> = const { RefCell::new(None) };
    static GENERATION: Cell<u32> = const { Cell::new(0) };
    /// The engine's download, shown while it lasts.
    static DOWNLOAD: ArcRwSignal<Option<Download>> = ArcRwSignal::new(None);
}

/// Settles call `id` with `outcome`: its answer (`Ok`) or the reason it failed.
fn settle_call(generation: u32, id: u32, outcome: Result<JsValue, String>) {
    let callbacks = REMOTE.with(|r| {
        r.borrow_mut()
            .as_mut()
            .filter(|remote| remote.generation == generation)
            .and_then(|remote| remote.pending.remove(&id))
    });
    if let Some((resolve, reject)) = callbacks {
        let _ = match outcome {
            Ok(answer) => resolve.call1(&JsValue::NULL, &answer),
            Err(why) => reject.call1(&JsValue::NULL, &js_sys::Error::new(&why)),
        };
    }
}

/// Rejects every call still awaiting `remote`'s worker with `why`.
fn fail_all(remote: &mut Remote, why: &str) {
    for (_, (_, reject)) in remote.pending.drain() {
        let _ = reject.call1(&JsValue::NULL, &js_sys::Error::new(why));
    }
}

/// Starts the worker.
fn spawn() -> Result<Remote, String> {
    let bundle = bundle()?;
    let options = WorkerOptions::new();
    options.set_type(WorkerType::Module);
    let worker = Worker::new_with_options(&bundle.worker, &options).map_err(|e| {
        format!(
            "this browser could not start the engine's worker: {}",
            message(e)
        )
    })?;
    let generation = GENERATION.with(|g| {
        g.set(g.get() + 1);
        g.get()
    });
    let (total, compressed) = (bundle.bytes, bundle.compressed);
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let data = event.data();
        if let Some(received) = get(&data, "progress").as_f64() {
            DOWNLOAD.with(|d| {
                d.set(Some(Download {
                    received,
                    total,
                    compressed,
                }))
            });
            return;
        }
        let Some(id) = get(&data, "id").as_f64() else {
            return;
        };
        let error = get(&data, "error");
        let outcome = match error.as_string() {
            Some(why) => Err(why),
            None => Ok(data),
        };
        settle_call(generation, id as u32, outcome);
    });
    let on_error = Closure::<dyn FnMut(MessageEvent)>::new(move |_: MessageEvent| {
        REMOTE.with(|r| {
            if let Some(remote) = r
                .borrow_mut()
                .as_mut()
                .filter(|r| r.generation == generation)
            {
                fail_all(
                    remote,
                    "the engine's worker failed to load; check the connection and reload",
                );
            }
        });
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    Ok(Remote {
        worker,
        generation,
        next_id: 0,
        pending: HashMap::new(),
        booting: None,
        starting: None,
        loaded: HashMap::new(),
        _handlers: [on_message, on_error],
    })
}

/// Runs `use_remote` on the page's worker, starting one if none runs.
fn with_remote<T>(use_remote: impl FnOnce(&mut Remote) -> T) -> Result<T, String> {
    REMOTE.with(|r| {
        let mut slot = r.borrow_mut();
        if slot.is_none() {
            *slot = Some(spawn()?);
        }
        Ok(use_remote(slot.as_mut().expect("started above")))
    })
}

/// Posts `request` to the worker of `generation`; resolves to the worker's answer
/// (`{ id, value }` or `{ id, object }`).
fn post(generation: u32, request: Object) -> Result<Promise, String> {
    with_remote(|remote| {
        if generation != remote.generation {
            return Err(
                "the engine was restarted since this object was made; try again".to_owned(),
            );
        }
        let id = remote.next_id;
        remote.next_id += 1;
        let _ = Reflect::set(&request, &"id".into(), &id.into());
        let mut callbacks = None;
        let promise = Promise::new(&mut |resolve, reject| callbacks = Some((resolve, reject)));
        remote
            .pending
            .insert(id, callbacks.expect("a promise runs its executor at once"));
        remote
            .worker
            .post_message(&request)
            .map_err(|e| format!("the engine's worker refused a call: {}", message(e)))?;
        Ok(promise)
    })?
}

/// Imports the engine into the worker on the first call; later and concurrent calls
/// share that import. Resolves to the worker's generation.
async fn booted() -> Result<u32, String> {
    let (generation, promise) = with_remote(|remote| {
        let generation = remote.generation;
        let promise = remote.booting.get_or_insert_with(|| {
            future_to_promise(async move {
                let bundle = bundle()?;
                DOWNLOAD.with(|d| {
                    d.set(Some(Download {
                        received: 0.0,
                        total: bundle.bytes,
                        compressed: bundle.compressed,
                    }))
                });
                let boot = js_object(&[
                    ("script", bundle.script.into()),
                    ("wasm", bundle.module.into()),
                ]);
                let answer = settle(post(generation, js_object(&[("boot", boot.into())]))?).await;
                DOWNLOAD.with(|d| d.set(None));
                answer
                    .map(|_| JsValue::from(generation))
                    .map_err(JsValue::from)
            })
        });
        (generation, promise.clone())
    })?;
    settle(promise).await?;
    Ok(generation)
}

/// Calls `method` on the engine's object `target` (0: the module) in the worker of
/// `generation`; resolves to the worker's answer.
async fn call(
    generation: u32,
    target: u32,
    method: &str,
    arguments: &[JsValue],
) -> Result<JsValue, String> {
    let arguments: Array = arguments.iter().collect();
    let request = js_object(&[
        ("target", target.into()),
        ("method", method.into()),
        ("args", arguments.into()),
    ]);
    settle(post(generation, request)?).await
}

/// The value a call answered.
async fn call_value(
    generation: u32,
    target: u32,
    method: &str,
    arguments: &[JsValue],
) -> Result<JsValue, String> {
    Ok(get(
        &call(generation, target, method, arguments).await?,
        "value",
    ))
}

/// The handle of the engine object a call answered.
async fn call_object(
    generation: u32,
    target: u32,
    method: &str,
    arguments: &[JsValue],
) -> Result<u32, String> {
    get(
        &call(generation, target, method, arguments).await?,
        "object",
    )
    .as_f64()
    .map(|h| h as u32)
    .ok_or_else(|| format!("the engine's `{method}` answered no object"))
}

/// Stops whatever the engine is computing, at once, by ending its worker: every call still
/// waiting fails with [`CANCELLED`], and the next call starts a new worker (its download
/// then comes from the browser's cache).
pub fn cancel() {
    let ended = REMOTE.with(|r| r.borrow_mut().take());
    if let Some(mut remote) = ended {
        remote.worker.terminate();
        fail_all(&mut remote, CANCELLED);
        DOWNLOAD.with(|d| d.set(None));
    }
}

/// A started engine and the path it runs on.
#[derive(Clone)]
pub struct Engine {
    generation: u32,
    handle: u32,
    pub report: BackendReport,
}

impl Engine {
    /// Starts the worker and its engine on `choice` on the first call; later and
    /// concurrent calls share that start.
    pub async fn get(choice: BackendChoice) -> Result<Engine, String> {
        let generation = booted().await?;
        let promise = with_remote(|remote| {
            remote
                .starting
                .get_or_insert_with(|| {
                    future_to_promise(async move {
                        let handle =
                            call_object(generation, 0, "Engine.start", &[choice.name().into()])
                                .await?;
                        let report = call_value(generation, handle, "backend", &[]).await?;
                        Ok(Array::of2(&handle.into(), &report).into())
                    })
                })
                .clone()
        })?;
        let started: Array = settle(promise).await?.unchecked_into();
        let handle = started.get(0).as_f64().ok_or("the engine did not start")? as u32;
        let report = decode(started.get(1))?;
        Ok(Engine {
            generation,
            handle,
            report,
        })
    }

    async fn value(&self, method: &str, arguments: &[JsValue]) -> Result<JsValue, String> {
        call_value(self.generation, self.handle, method, arguments).await
    }

    /// The handle of the model whose weights are at `url`, fetching them the first time.
    pub async fn model(&self, id: &str, url: &str) -> Result<usize, String> {
        let known = with_remote(|remote| {
            (remote.generation == self.generation)
                .then(|| remote.loaded.get(id).copied())
                .flatten()
        })?;
        if let Some(handle) = known {
            return Ok(handle);
        }
        let weights = crate::api::bytes(url)
            .await
            .map_err(|e| format!("the weights of {id} did not arrive: {e}"))?;
        let weights = js_sys::Uint8Array::from(weights.as_slice());
        let handle = self
            .value("load", &[weights.into()])
            .await?
            .as_f64()
            .ok_or("the engine answered no model handle")? as usize;
        with_remote(|remote| {
            if remote.generation == self.generation {
                remote.loaded.insert(id.to_owned(), handle);
            }
        })?;
        Ok(handle)
    }

    /// `model`'s logits for `pixels` (one image or several, flattened).
    pub async fn logits(&self, model: usize, pixels: &[f32]) -> Result<Vec<f32>, String> {
        let logits: js_sys::Float32Array = self
            .value("logits", &[model.into(), floats(pixels)])
            .await?
            .dyn_into()
            .map_err(|_| "the engine answered no logits")?;
        Ok(logits.to_vec())
    }

    pub async fn attack(
        &self,
        model: usize,
        pixels: &[f32],
        label: u8,
        request: &AttackRequest,
    ) -> Result<AttackResult, String> {
        let request = serde_json::to_string(request).map_err(|e| e.to_string())?;
        decode(
            self.value(
                "attack",
                &[model.into(), floats(pixels), label.into(), request.into()],
            )
            .await?,
        )
    }

    pub async fn lipschitz(
        &self,
        model: usize,
        pixels: &[f32],
        epsilon: f32,
    ) -> Result<LipschitzEstimate, String> {
        decode(
            self.value("lipschitz", &[model.into(), floats(pixels), epsilon.into()])
                .await?,
        )
    }

    pub async fn curve(
        &self,
        model: usize,
        pixels: &[f32],
        labels: &[u8],
        epsilons: &[f32],
        attack: CurveAttack,
        seed: u64,
    ) -> Result<Vec<CurvePoint>, String> {
        let labels = js_sys::Uint8Array::from(labels);
        decode(
            self.value(
                "curve",
                &[
                    model.into(),
                    floats(pixels),
                    labels.into(),
                    floats(epsilons),
                    attack.name().into(),
                    js_sys::BigInt::from(seed).into(),
                ],
            )
            .await?,
        )
    }
}

fn floats(values: &[f32]) -> JsValue {
    js_sys::Float32Array::from(values).into()
}

/// The exact ℓ∞ separation of the visitor's own `files` (name, bytes), read and measured
/// by the engine in its worker, with `epsilon` for r/ε: nothing leaves the browser.
pub async fn own_separation(
    files: Vec<(String, js_sys::Uint8Array)>,
    epsilon: Option<f64>,
) -> Result<OwnReport, String> {
    let generation = booted().await?;
    let names: Array = files
        .iter()
        .map(|(name, _)| JsValue::from_str(name))
        .collect();
    let bytes: Array = files
        .into_iter()
        .map(|(_, bytes)| JsValue::from(bytes))
        .collect();
    let epsilon = epsilon.map_or(JsValue::UNDEFINED, JsValue::from);
    decode(
        call_value(
            generation,
            0,
            "ownSeparation",
            &[names.into(), bytes.into(), epsilon],
        )
        .await?,
    )
}

/// A theory-page run in the engine.
#[derive(Clone)]
pub struct Theory {
    generation: u32,
    handle: u32,
}

impl Theory {
    /// Starts a run: the spiral, the distance classifier and a fresh MLP. It needs the
    /// engine's module only, not a started `Engine` (the run is always on the CPU path).
    pub async fn start(config: &TheoryConfig) -> Result<(Theory, TheoryData), String> {
        config.validate()?;
        let config = serde_json::to_string(config).map_err(|e| e.to_string())?;
        let generation = booted().await?;
        let handle = call_object(generation, 0, "startTheory", &[config.into()]).await?;
        let theory = Theory { generation, handle };
        let data = decode(theory.value("data", &[]).await?)?;
        Ok((theory, data))
    }

    async fn value(&self, method: &str, arguments: &[JsValue]) -> Result<JsValue, String> {
        call_value(self.generation, self.handle, method, arguments).await
    }

    pub async fn train(&self, steps: usize) -> Result<TrainProgress, String> {
        decode(self.value("train", &[steps.into()]).await?)
    }

    pub async fn snapshot(&self) -> Result<TheorySnapshot, String> {
        decode(self.value("snapshot", &[]).await?)
    }
}

/// Resolves after the browser has had a turn (input, painting): long work split by these
/// awaits keeps the page responsive.
pub async fn yield_to_browser() {
    let promise = Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback(&resolve);
        }
    });
    let _ = JsFuture::from(promise).await;
}
