// Benchmark: one PGD-10 attack (ε = 0.1, step 0.02) on one 28×28 image with the shipped
// natural CNN2, in headless Chromium, by Astute's engine (burn's CPU backend in
// WebAssembly) and by TensorFlow.js (its wasm and cpu backends) on the same weights,
// after warm-up. Prints each median and the ratios; first checks that TensorFlow.js's
// port of the network gives Astute's logits. Run: `npm run bench` (after `cargo xtask site`).

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { open, root, startLab, stopLab } from "./harness.mjs";

const REPEATS = 20;
const tfjs = join(import.meta.dirname, "node_modules/@tensorflow");

const lab = await startLab();
try {
  const { page, errors, context } = await open(lab, "/paper");
  // Serve TensorFlow.js from node_modules under a path of the page's own origin.
  await page.route("**/tfjs/**", (route) => {
    const file = new URL(route.request().url()).pathname.replace("/tfjs/", "");
    route.fulfill({
      body: readFileSync(join(tfjs, file)),
      contentType: file.endsWith(".wasm") ? "application/wasm" : "text/javascript",
    });
  });
  await page.addScriptTag({ url: "/tfjs/tfjs/dist/tf.min.js" });
  await page.addScriptTag({ url: "/tfjs/tfjs-backend-wasm/dist/tf-backend-wasm.min.js" });
  const result = await page.evaluate(async (repeats) => {
    const fetchBytes = async (path) =>
      new Uint8Array(await (await fetch(`/playground-data/${path}`)).arrayBuffer());
    const weightsBytes = await fetchBytes("models/mnist-sample-natural-plain.safetensors");
    const meta = document.querySelector("meta[name=astute-engine]");
    const engineModule = await import(meta.content);
    await engineModule.default({ module_or_path: meta.dataset.module });
    const pixels = Float32Array.from(
      engineModule.idxImages(await fetchBytes("samples/mnist-sample-images.idx")).subarray(0, 784), (p) => p / 255);
    const label = engineModule.idxLabels(await fetchBytes("samples/mnist-sample-labels.idx"))[0];

    const median = async (attack) => {
      for (let i = 0; i < 3; i++) await attack();
      const times = [];
      for (let i = 0; i < repeats; i++) {
        const started = performance.now();
        await attack();
        times.push(performance.now() - started);
      }
      return times.sort((a, b) => a - b)[repeats >> 1];
    };

    // Astute: the engine the playground runs, on the CPU path.
    const engine = await engineModule.Engine.start("cpu");
    const model = engine.load(weightsBytes);
    const astuteLogits = Array.from(await engine.logits(model, pixels));
    const request = JSON.stringify({ kind: "pgd", epsilon: 0.1, steps: 10, step_size: 0.02, restarts: 1, target: null, seed: 0 });
    const astute = await median(() => engine.attack(model, pixels, label, request));

    // TensorFlow.js: the same network from the same safetensors (PyTorch layouts).
    const view = new DataView(weightsBytes.buffer);
    const headerLength = Number(view.getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(weightsBytes.subarray(8, 8 + headerLength)));
    const tensor = (name) => {
      const { shape, data_offsets: [begin, end] } = header[name];
      const bytes = weightsBytes.slice(8 + headerLength + begin, 8 + headerLength + end);
      return tf.tensor(new Float32Array(bytes.buffer), shape);
    };
    const results = {};
    tf.wasm.setWasmPaths("/tfjs/tfjs-backend-wasm/dist/");
    for (const backend of ["wasm", "cpu"]) {
      await tf.setBackend(backend);
      await tf.ready();
      const conv = (i) => tensor(`${i}.weight`).transpose([2, 3, 1, 0]); // [out,in,kh,kw] → [kh,kw,in,out]
      const w = { c1: conv(0), c2: conv(2), c3: conv(5), c4: conv(7),
        f1: tensor("11.weight").transpose(), f2: tensor("14.weight").transpose(), f3: tensor("16.weight").transpose() };
      const b = Object.fromEntries([["c1", 0], ["c2", 2], ["c3", 5], ["c4", 7], ["f1", 11], ["f2", 14], ["f3", 16]]
        .map(([k, i]) => [k, tensor(`${i}.bias`)]));
      const forward = (x) => {
        let h = tf.relu(tf.conv2d(x, w.c1, 1, "valid").add(b.c1));
        h = tf.maxPool(tf.relu(tf.conv2d(h, w.c2, 1, "valid").add(b.c2)), 2, 2, "valid");
        h = tf.relu(tf.conv2d(h, w.c3, 1, "valid").add(b.c3));
        h = tf.maxPool(tf.relu(tf.conv2d(h, w.c4, 1, "valid").add(b.c4)), 2, 2, "valid");
        h = h.transpose([0, 3, 1, 2]).reshape([x.shape[0], -1]); // PyTorch flattens NCHW
        h = tf.relu(h.matMul(w.f1).add(b.f1));
        h = tf.relu(h.matMul(w.f2).add(b.f2));
        return h.matMul(w.f3).add(b.f3);
      };
      const image = tf.tensor(pixels, [1, 28, 28, 1]);
      const tfLogits = Array.from(forward(image).dataSync());
      const oneHot = tf.oneHot([label], 10);
      const loss = (x) => tf.losses.softmaxCrossEntropy(oneHot, forward(x));
      const gradient = tf.grad(loss);
      const eps = 0.1, step = 0.02;
      const pgd = async () => {
        const adversarial = tf.tidy(() => {
          let x = image.add(tf.randomUniform(image.shape, -eps, eps)).clipByValue(0, 1);
          for (let s = 0; s < 10; s++) {
            x = x.add(gradient(x).sign().mul(step));
            x = tf.minimum(tf.maximum(x, image.sub(eps)), image.add(eps)).clipByValue(0, 1);
          }
          return x;
        });
        await adversarial.data();
        adversarial.dispose();
      };
      results[backend] = { ms: await median(pgd), logits: tfLogits };
    }
    return { astute, astuteLogits, results };
  }, REPEATS);
  for (const [backend, { logits }] of Object.entries(result.results)) {
    const worst = Math.max(...logits.map((v, i) => Math.abs(v - result.astuteLogits[i])));
    assert.ok(worst < 1e-4, `TensorFlow.js (${backend}) computes another network: logits differ by ${worst}`);
  }
  assert.deepEqual(errors, []);
  await context.close();
  console.log(`PGD-10 on one 28×28 image, CNN2, median of ${REPEATS} after warm-up, headless Chromium:`);
  console.log(`  Astute engine (burn CPU backend, WebAssembly SIMD): ${result.astute.toFixed(1)} ms`);
  for (const [backend, { ms }] of Object.entries(result.results)) {
    console.log(`  TensorFlow.js 4.22 (${backend} backend): ${ms.toFixed(1)} ms  → Astute is ${(ms / result.astute).toFixed(2)}× as fast`);
  }
} finally {
  await stopLab(lab);
}
