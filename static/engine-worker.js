// The in-browser engine (`astute-engine`) off the page's thread. The page
// (frontend/src/engine.rs) posts calls; this worker runs them on the engine's module and
// objects and posts back what they return, so a long computation never blocks the page,
// and the page cancels one by terminating the worker.
//
// Messages in:  { id, boot: { script, wasm } }             import the engine, once
//               { id, target, method, args }               call `method` on object `target`
//                                                          (0: the module) with `args`
// Messages out: { progress: bytes }                        the engine's download so far
//               { id, value } | { id, object } | { id, error }
//
// A call whose value is one of the engine's objects (an `Engine`, a `Theory`) keeps it here
// and answers its handle as `object`; every other value travels by structured clone.

let engine = null;
const objects = new Map();
let nextHandle = 1;

/// `fetch(url)` whose body reports each chunk's arrival, as a `Response` the WebAssembly
/// loader compiles while it streams.
async function countedFetch(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`HTTP ${response.status} for ${url}`);
  const reader = response.body.getReader();
  let received = 0;
  const body = new ReadableStream({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) {
        controller.close();
        return;
      }
      received += value.byteLength;
      self.postMessage({ progress: received });
      controller.enqueue(value);
    },
  });
  return new Response(body, { headers: { "Content-Type": "application/wasm" } });
}

async function boot({ script, wasm }) {
  let module;
  try {
    module = await import(script);
  } catch (error) {
    throw new Error(`the engine could not be downloaded (${error.message ?? error}); check the connection and reload`);
  }
  try {
    await module.default({ module_or_path: countedFetch(wasm) });
  } catch (error) {
    throw new Error(`this browser could not start the engine's WebAssembly (it needs WebAssembly SIMD): ${error.message ?? error}`);
  }
  engine = module;
}

/// `path` ("Engine.start", "attack") looked up on `target`, called with `args`.
async function call(target, path, args) {
  const names = path.split(".");
  const method = names.pop();
  let owner = target === 0 ? engine : objects.get(target);
  if (owner === undefined) throw new Error("the engine restarted since this object was made; try again");
  for (const name of names) owner = owner[name];
  if (typeof owner?.[method] !== "function") throw new Error(`the engine has no function \`${path}\``);
  return owner[method](...args);
}

/// The transferable buffers of a value, so that large arrays move instead of copying.
function transferables(value) {
  return ArrayBuffer.isView(value) ? [value.buffer] : [];
}

self.onmessage = async ({ data }) => {
  const { id } = data;
  try {
    if (data.boot) {
      if (engine === null) await boot(data.boot);
      self.postMessage({ id, value: true });
      return;
    }
    if (engine === null) throw new Error("the engine was called before it started");
    const value = await call(data.target, data.method, data.args);
    if (value !== null && typeof value === "object" && typeof value.free === "function") {
      const handle = nextHandle++;
      objects.set(handle, value);
      self.postMessage({ id, object: handle });
    } else {
      self.postMessage({ id, value }, transferables(value));
    }
  } catch (error) {
    self.postMessage({ id, error: String(error?.message ?? error) });
  }
};
