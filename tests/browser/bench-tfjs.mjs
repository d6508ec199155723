// Benchmarks in headless Chromium, Astute's engine (burn's CPU backend in WebAssembly)
// against TensorFlow.js (its wasm and cpu backends), after warm-up:
// - one PGD-10 attack (ε = 0.1, step 0.02) on one 28×28 image with the shipped natural
//   CNN2, on the same weights (first checking that TensorFlow.js's port of the network
//   gives Astute's logits);
// - one training step of the theory page: the 3 × 64 MLP, Adam, full batch of the 400
//   spiral points, reading the loss back as the page does.
// Prints each median and the ratios. Run: `npm run bench` (after `cargo xtask site`).

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
  await page.evaluate(async () => {
    const meta = document.querySelector("meta[name=astute-engine]");
    window.engineModule = await import(meta.content);
    await engineModule.default({ module_or_path: meta.dataset.module });
    tf.wasm.setWasmPaths("/tfjs/tfjs-backend-wasm/dist/");
    /** The median time of `repeats` runs of `work`, after 3 warm-up runs. */
    window.median = async (work, repeats) => {
      for (let i = 0; i < 3; i++) await work();
      const times = [];
      for (let i = 0; i < repeats; i++) {
        const started = performance.now();
        await work();
        times.push(performance.now() - started);
      }
      return times.sort((a, b) => a - b)[repeats >> 1];
    };
  });
  const result = await page.evaluate(async (repeats) => {
    const fetchBytes = async (path) =>
      new Uint8Array(await (await fetch(`/playground-data/${path}`)).arrayBuffer());
    const weightsBytes = await fetchBytes("models/mnist-sample-natural-plain.safetensors");
    const pixels = Float32Array.from(
      engineModule.idxImages(await fetchBytes("samples/mnist-sample-images.idx")).subarray(0, 784), (p) => p / 255);
    const label = engineModule.idxLabels(await fetchBytes("samples/mnist-sample-labels.idx"))[0];

    // Astute: the engine the playground runs, on the CPU path.
    const engine = await engineModule.Engine.start("cpu");
    const model = engine.load(weightsBytes);
    const astuteLogits = Array.from(await engine.logits(model, pixels));
    const request = JSON.stringify({ kind: "pgd", epsilon: 0.1, steps: 10, step_size: 0.02, restarts: 1, target: null, seed: 0 });
    const astute = await median(() => engine.attack(model, pixels, label, request), repeats);

    // TensorFlow.js: the same network from the same safetensors (PyTorch layouts).
    const view = new DataView(weightsBytes.buffer);
    const headerLength = Number(view.getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(weightsBytes.subarray(8, 8 + headerLength)));
    // IEEE 754 half precision, as the playground's files store weights.
    const fromHalf = (bits) => {
      const sign = bits >> 15 ? -1 : 1, exponent = (bits >> 10) & 31, mantissa = bits & 1023;
      return exponent === 0 ? sign * mantissa * 2 ** -24 : sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
    };
    const tensor = (name) => {
      const { dtype, shape, data_offsets: [begin, end] } = header[name];
      const bytes = weightsBytes.slice(8 + headerLength + begin, 8 + headerLength + end);
      const values = dtype === "F16"
        ? Float32Array.from(new Uint16Array(bytes.buffer), fromHalf)
        : new Float32Array(bytes.buffer);
      return tf.tensor(values, shape);
    };
    const results = {};
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
      results[backend] = { ms: await median(pgd, repeats), logits: tfLogits };
    }
    return { astute, astuteLogits, results };
  }, REPEATS);
  for (const [backend, { logits }] of Object.entries(result.results)) {
    const worst = Math.max(...logits.map((v, i) => Math.abs(v - result.astuteLogits[i])));
    assert.ok(worst < 1e-4, `TensorFlow.js (${backend}) computes another network: logits differ by ${worst}`);
  }
  const training = await page.evaluate(async (repeats) => {
    // Astute: the theory page's own run, natural training, timed over calls of a fixed
    // 20 steps (the page sizes its calls to about 50 ms); per step.
    const theory = engineModule.startTheory(JSON.stringify({
      points_per_class: 200, turns: 1.5, band: 0.4, seed: 0, layers: 3, width: 64,
      method: { name: "natural" }, epsilon: 0.02, learning_rate: 0.005, resolution: 64,
    }));
    const data = JSON.parse(theory.data());
    const first = JSON.parse(await theory.train(1)).losses[0];
    const chunk = 20;
    const astute = (await median(() => theory.train(chunk), repeats)) / chunk;
    const astuteLast = JSON.parse(await theory.train(1)).losses[0];

    // TensorFlow.js: the same MLP on the same points, Glorot-uniform start, Adam.
    const results = {};
    for (const backend of ["wasm", "cpu"]) {
      await tf.setBackend(backend);
      await tf.ready();
      const points = tf.tensor(data.train_points.flat(), [data.train_points.length, 2]);
      const labels = tf.oneHot(Array.from(data.train_labels), 2);
      const sizes = [2, 64, 64, 64, 2];
      const layers = sizes.slice(1).map((out, i) => ({
        w: tf.variable(tf.randomUniform([sizes[i], out], -Math.sqrt(6 / (sizes[i] + out)), Math.sqrt(6 / (sizes[i] + out)))),
        b: tf.variable(tf.zeros([out])),
      }));
      const forward = (x) => layers.reduce((h, { w, b }, i) => {
        const z = h.matMul(w).add(b);
        return i < layers.length - 1 ? tf.relu(z) : z;
      }, x);
      const optimizer = tf.train.adam(0.005);
      const step = async () => {
        const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(labels, forward(points)), true);
        const value = (await loss.data())[0];
        loss.dispose();
        return value;
      };
      const tfFirst = await step();
      const ms = await median(async () => { for (let i = 0; i < chunk; i++) await step(); }, repeats) / chunk;
      results[backend] = { ms, first: tfFirst, last: await step() };
    }
    return { astute, first, astuteLast, points: data.train_points.length, results };
  }, REPEATS);
  assert.deepEqual(errors, []);
  await context.close();
  // Both learn the same problem: the loss starts near ln 2 and falls.
  for (const [who, first, last] of [["Astute", training.first, training.astuteLast],
    ...Object.entries(training.results).map(([b, r]) => [`TensorFlow.js (${b})`, r.first, r.last])]) {
    assert.ok(Math.abs(first - Math.LN2) < 0.1 && last < first, `${who}: loss ${first} → ${last}`);
  }

  const report = (title, astute, results, digits) => {
    console.log(title);
    console.log(`  Astute engine (burn CPU backend, WebAssembly SIMD): ${astute.toFixed(digits)} ms`);
    for (const [backend, { ms }] of Object.entries(results)) {
      console.log(`  TensorFlow.js 4.22 (${backend} backend): ${ms.toFixed(digits)} ms  → Astute is ${(ms / astute).toFixed(2)}× as fast`);
    }
  };
  report(`PGD-10 on one 28×28 image, CNN2, median of ${REPEATS} after warm-up, headless Chromium:`, result.astute, result.results, 1);
  report(`One natural training step of the theory page's 3 × 64 MLP on ${training.points} points (Adam, full batch):`, training.astute, training.results, 2);
} finally {
  await stopLab(lab);
}
