//! The in-browser engine (`astute-engine`), a second wasm bundle imported on demand by the
//! playground and theory pages: the other pages never download it. `index.html` names its files in
//! `<meta name="astute-engine">`; this module imports it once per page load and wraps its
//! promises of JSON in typed async calls.

use std::cell::RefCell;
use std::collections::HashMap;

use astute_engine_api::{
    AttackRequest, AttackResult, BackendChoice, BackendReport, CurveAttack, CurvePoint,
    LipschitzEstimate, TheoryConfig, TheoryData, TheorySnapshot, TrainProgress,
};
use js_sys::{Function, Object, Promise, Reflect};
use leptos::prelude::{ArcRwSignal, Set};
use serde::de::DeserializeOwned;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, future_to_promise};

#[wasm_bindgen]
extern "C" {
    /// The engine's `Engine` class (see `engine/src/browser.rs`).
    #[derive(Clone)]
    pub type JsEngine;
    #[wasm_bindgen(method, catch)]
    fn backend(this: &JsEngine) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn load(this: &JsEngine, weights: &[u8]) -> Result<usize, JsValue>;
    #[wasm_bindgen(method)]
    fn logits(this: &JsEngine, model: usize, pixels: &[f32]) -> Promise;
    #[wasm_bindgen(method)]
    fn attack(this: &JsEngine, model: usize, pixels: &[f32], label: u8, request: &str) -> Promise;
    #[wasm_bindgen(method)]
    fn lipschitz(this: &JsEngine, model: usize, pixels: &[f32], epsilon: f32) -> Promise;
    #[wasm_bindgen(method)]
    fn curve(
        this: &JsEngine,
        model: usize,
        pixels: &[f32],
        labels: &[u8],
        epsilons: &[f32],
        attack: &str,
        seed: u64,
    ) -> Promise;

    /// The engine's `Theory` class: one spiral and one MLP in training.
    #[derive(Clone)]
    pub type JsTheory;
    #[wasm_bindgen(method)]
    fn data(this: &JsTheory) -> JsValue;
    #[wasm_bindgen(method)]
    fn train(this: &JsTheory, steps: usize) -> Promise;
    #[wasm_bindgen(method)]
    fn snapshot(this: &JsTheory) -> Promise;
}

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

fn get(target: &JsValue, key: &str) -> Result<JsValue, String> {
    Reflect::get(target, &JsValue::from_str(key)).map_err(message)
}

fn call(target: &JsValue, key: &str, arguments: &[JsValue]) -> Result<JsValue, String> {
    let function: Function = get(target, key)?
        .dyn_into()
        .map_err(|_| format!("the engine has no function `{key}`"))?;
    let arguments: js_sys::Array = arguments.iter().collect();
    function.apply(target, &arguments).map_err(message)
}

/// The engine bundle as the page names it in `<meta name="astute-engine">`.
struct Bundle {
    script: String,
    module: String,
    /// The WebAssembly's size, raw and gzipped, as the build measured it.
    bytes: Option<f64>,
    compressed: Option<f64>,
}

fn bundle() -> Result<Bundle, String> {
    let meta = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector("meta[name=astute-engine]").ok().flatten())
        .ok_or("this page was built without the in-browser engine (cargo xtask site)")?;
    let script = meta.get_attribute("content").unwrap_or_default();
    let module = meta.get_attribute("data-module").unwrap_or_default();
    let size = |name| meta.get_attribute(name).and_then(|v| v.parse().ok());
    Ok(Bundle {
        script,
        module,
        bytes: size("data-bytes"),
        compressed: size("data-compressed"),
    })
}

/// How far the engine's WebAssembly has come down: bytes received (decompressed), of how
/// many, and how many of those cross the network (gzipped), as the build measured them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Download {
    pub received: f64,
    pub total: Option<f64>,
    pub compressed: Option<f64>,
}

/// `fetch(url)` whose body reports each chunk's arrival to `progress(bytes so far)`, as a
/// `Response` the WebAssembly loader compiles while it streams.
const COUNTING_FETCH: &str = r#"
    const response = await fetch(url);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const reader = response.body.getReader();
    let received = 0;
    const body = new ReadableStream({
        async pull(controller) {
            const { done, value } = await reader.read();
            if (done) { controller.close(); return; }
            received += value.byteLength;
            progress(received);
            controller.enqueue(value);
        },
    });
    return new Response(body, { headers: { "Content-Type": "application/wasm" } });
"#;

/// The engine's download so far (`None` before it starts and once its module runs), for a
/// progress bar.
pub fn download() -> ArcRwSignal<Option<Download>> {
    DOWNLOAD.with(Clone::clone)
}

/// The bundle's WebAssembly, fetched with its progress written to [`download`].
fn counted_fetch(bundle: &Bundle) -> Result<JsValue, String> {
    let fetch = Function::new_with_args(
        "url, progress",
        &format!("return (async () => {{{COUNTING_FETCH}}})();"),
    );
    let (total, compressed) = (bundle.bytes, bundle.compressed);
    let progress = DOWNLOAD.with(Clone::clone);
    progress.set(Some(Download {
        received: 0.0,
        total,
        compressed,
    }));
    // Called once per chunk for the page's one download of the engine: it lives as long
    // as the page.
    let report = Closure::<dyn Fn(f64)>::new(move |received: f64| {
        progress.set(Some(Download {
            received,
            total,
            compressed,
        }))
    });
    let response = fetch
        .call2(
            &JsValue::NULL,
            &JsValue::from_str(&bundle.module),
            report.as_ref(),
        )
        .map_err(message)?;
    report.forget();
    Ok(response)
}

/// Imports the bundle and instantiates its WebAssembly; resolves to the module.
async fn import_module() -> Result<JsValue, String> {
    let bundle = bundle()?;
    let import = Function::new_with_args("url", "return import(url)");
    let module = import
        .call1(&JsValue::NULL, &JsValue::from_str(&bundle.script))
        .map_err(message)?;
    let module = settle(module.unchecked_into()).await.map_err(|e| {
        format!("the engine could not be downloaded ({e}); check the connection and reload")
    })?;
    let options = Object::new();
    let wasm = counted_fetch(&bundle)?;
    Reflect::set(&options, &"module_or_path".into(), &wasm).map_err(message)?;
    settle(call(&module, "default", &[options.into()])?.unchecked_into())
        .await
        .map_err(|e| {
            format!("this browser could not start the engine's WebAssembly (it needs WebAssembly SIMD): {e}")
        })?;
    DOWNLOAD.with(|d| d.set(None));
    Ok(module)
}

/// The engine's module, imported once per page load and shared by every caller.
async fn module() -> Result<JsValue, String> {
    let promise = IMPORTING.with(|s| {
        s.borrow_mut()
            .get_or_insert_with(|| {
                future_to_promise(async { import_module().await.map_err(JsValue::from) })
            })
            .clone()
    });
    settle(promise).await
}

/// Starts an engine on `choice`.
async fn start(choice: BackendChoice) -> Result<JsValue, String> {
    let class = get(&module().await?, "Engine")?;
    settle(call(&class, "start", &[JsValue::from_str(choice.name())])?.unchecked_into()).await
}

/// A started engine and the path it runs on.
#[derive(Clone)]
pub struct Engine {
    js: JsEngine,
    pub report: BackendReport,
}

thread_local! {
    /// The bundle's import.
    static IMPORTING: RefCell<Option<Promise>> = const { RefCell::new(None) };
    /// The engine's start, shared by every caller.
    static STARTING: RefCell<Option<Promise>> = const { RefCell::new(None) };
    /// Model id → handle in the engine: each model's weights are fetched once per page.
    static LOADED: RefCell<HashMap<String, usize>> = RefCell::new(HashMap::new());
    /// The engine's download, shown while it lasts.
    static DOWNLOAD: ArcRwSignal<Option<Download>> = ArcRwSignal::new(None);
}

impl Engine {
    /// Imports and starts the engine on the first call; later and concurrent calls share
    /// that start (a page opens its WebGPU device once, so changing `choice` needs a
    /// reload, and a failed start stays failed until then).
    pub async fn get(choice: BackendChoice) -> Result<Engine, String> {
        let promise = STARTING.with(|s| {
            s.borrow_mut()
                .get_or_insert_with(|| {
                    future_to_promise(async move { start(choice).await.map_err(JsValue::from) })
                })
                .clone()
        });
        let js: JsEngine = settle(promise).await?.unchecked_into();
        let report = decode(js.backend().map_err(message)?)?;
        Ok(Engine { js, report })
    }

    /// The handle of the model whose weights are at `url`, fetching them the first time.
    pub async fn model(&self, id: &str, url: &str) -> Result<usize, String> {
        if let Some(handle) = LOADED.with(|l| l.borrow().get(id).copied()) {
            return Ok(handle);
        }
        let weights = crate::api::bytes(url)
            .await
            .map_err(|e| format!("the weights of {id} did not arrive: {e}"))?;
        let handle = self.js.load(&weights).map_err(message)?;
        LOADED.with(|l| l.borrow_mut().insert(id.to_owned(), handle));
        Ok(handle)
    }

    /// `model`'s logits for `pixels` (one image or several, flattened).
    pub async fn logits(&self, model: usize, pixels: &[f32]) -> Result<Vec<f32>, String> {
        let logits: js_sys::Float32Array = settle(self.js.logits(model, pixels))
            .await?
            .unchecked_into();
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
        decode(settle(self.js.attack(model, pixels, label, &request)).await?)
    }

    pub async fn lipschitz(
        &self,
        model: usize,
        pixels: &[f32],
        epsilon: f32,
    ) -> Result<LipschitzEstimate, String> {
        decode(settle(self.js.lipschitz(model, pixels, epsilon)).await?)
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
        decode(
            settle(
                self.js
                    .curve(model, pixels, labels, epsilons, attack.name(), seed),
            )
            .await?,
        )
    }
}

/// A theory-page run in the engine.
#[derive(Clone)]
pub struct Theory {
    js: JsTheory,
}

impl Theory {
    /// Starts a run: the spiral, the distance classifier and a fresh MLP. It needs the
    /// engine's module only, not a started `Engine` (the run is always on the CPU path).
    pub async fn start(config: &TheoryConfig) -> Result<(Theory, TheoryData), String> {
        config.validate()?;
        let config = serde_json::to_string(config).map_err(|e| e.to_string())?;
        let js: JsTheory = call(
            &module().await?,
            "startTheory",
            &[JsValue::from_str(&config)],
        )?
        .unchecked_into();
        let data = decode(js.data())?;
        Ok((Theory { js }, data))
    }

    pub async fn train(&self, steps: usize) -> Result<TrainProgress, String> {
        decode(settle(self.js.train(steps)).await?)
    }

    pub async fn snapshot(&self) -> Result<TheorySnapshot, String> {
        decode(settle(self.js.snapshot()).await?)
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
