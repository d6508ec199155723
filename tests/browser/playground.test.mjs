// The attack playground in headless Chromium, twice: without a GPU (the CPU path, burn's
// CPU backend in WebAssembly) and with WebGPU on SwiftShader's software adapter. Each
// time: the page names its backend; a PGD attack lowers the natural model's confidence in
// the true class; the robust model keeps most answers at ε = 0.1; and the engine's logits
// and seeded PGD, APGD-CE and AutoAttack-lite accuracies equal what `astute predict` and
// `astute attack` compute natively. The speed of one PGD-10 attack, one APGD-CE attack and
// the robust-accuracy curves is printed.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { DESKTOP, PHONE, binary, open, root, screenshot, startLab, stopLab } from "./harness.mjs";

const models = join(root, "static/playground/models");

function native(args) {
  return JSON.parse(execFileSync(binary, args).toString());
}

/** Runs `work` in a page that has not loaded the engine, with the engine started on
 *  `backend`, and returns what it returns. */
async function withEngine(lab, backend, work, argument) {
  const { page, errors, context } = await open(lab, "/paper");
  const result = await page.evaluate(
    async ({ backend, source, argument }) => {
      const meta = document.querySelector("meta[name=astute-engine]");
      const engineModule = await import(meta.content);
      await engineModule.default({ module_or_path: meta.dataset.module });
      const engine = await engineModule.Engine.start(backend);
      const fetchBytes = async (path) =>
        new Uint8Array(await (await fetch(`/playground-data/${path}`)).arrayBuffer());
      const work = new Function(`return (${source})`)();
      return work({ engineModule, engine, fetchBytes, argument });
    },
    { backend, source: work.toString(), argument },
  );
  assert.deepEqual(errors, [], "no console errors");
  await context.close();
  return result;
}

for (const mode of ["cpu", "webgpu"]) {
  describe(`the playground on the ${mode} path`, () => {
    let lab;
    before(async () => {
      lab = await startLab({ webgpu: mode === "webgpu" });
    });
    after(async () => {
      if (lab) await stopLab(lab);
    });
    // Without WebGPU, "auto" falls back to the CPU; with it, ask for WebGPU explicitly
    // (the automatic choice prefers the CPU over a software adapter, checked below).
    // SwiftShader computes on the CPU, far slower than the WebAssembly path (seconds per
    // PGD-10 attack): its runs attack fewer images and time one attack after one warm-up.
    const backend = mode === "cpu" ? "auto" : "webgpu";
    const [curveImages, warmUps, timedAttacks, wait] = mode === "cpu" ? [100, 2, 10, 120_000] : [8, 1, 1, 300_000];
    // APGD runs 100 iterations per image (AutoAttack-lite up to 1,000): SwiftShader, at about
    // half a second an iteration, attacks one image with APGD-CE (its curve point is the
    // timing) and leaves AutoAttack-lite out, unless ASTUTE_WEBGPU_APGD_IMAGES asks for more
    // (a measurement run, not CI's).
    const webgpuApgdImages = Number.parseInt(process.env.ASTUTE_WEBGPU_APGD_IMAGES ?? "1", 10);
    const [apgdImages, liteImages, apgdTimed] = mode === "cpu" ? [100, 20, 5] : [webgpuApgdImages, 0, 0];

    test("an attack fools the natural model but mostly not the robust one", async () => {
      const path = `/playground?d=mnist-sample&m=mnist-sample-natural-plain&vs=mnist-sample-trades6-plain&i=0&n=${curveImages}&backend=${backend}`;
      // The phone's layout is the same on both paths: SwiftShader's slow run takes the desktop only.
      const viewports = mode === "cpu" ? [["desktop", DESKTOP], ["phone", PHONE]] : [["desktop", DESKTOP]];
      for (const [width, viewport] of viewports) {
        const { page, errors, context } = await open(lab, path, viewport);
        const badge = page.locator("p.backend[data-backend]");
        await badge.waitFor({ timeout: wait });
        assert.equal(await badge.getAttribute("data-backend"), mode, await badge.innerText());
        console.log(`# ${mode}: ${await badge.innerText()}`);
        const outcomes = page.locator("article.outcome");
        await page.waitForFunction(() => document.querySelectorAll("article.outcome").length === 2, null, { timeout: wait });
        const natural = outcomes.nth(0);
        assert.equal(await natural.getAttribute("data-model"), "mnist-sample-natural-plain");
        const before = Number(await natural.getAttribute("data-confidence-before"));
        const afterAttack = Number(await natural.getAttribute("data-confidence-after"));
        assert.ok(afterAttack < before, `natural model: ${before} → ${afterAttack}`);
        const linf = Number(await natural.locator("dd.linf").innerText());
        assert.ok(linf > 0.05 && linf <= 0.1 + 1e-6, `ℓ∞ used: ${linf}`);
        // The scrubber steps through the 10 PGD iterates.
        assert.equal(await natural.locator(".scrubber input").getAttribute("max"), "10");
        if (mode === "webgpu") {
          // SwiftShader takes seconds per attack: here the curve is left to the engine test below.
          assert.equal(await outcomes.nth(1).getAttribute("data-kept"), "true", "TRADES(6) keeps its answer");
        } else if (width === "desktop") {
          // The curve computes in the engine's worker: the page keeps drawing frames meanwhile.
          await page.evaluate(() => {
            window.frames_ = [];
            const tick = (t) => { window.frames_.push(t); requestAnimationFrame(tick); };
            requestAnimationFrame(tick);
          });
          const started = Date.now();
          await page.getByRole("button", { name: "Compute the curve" }).click();
          const table = page.locator("table.curve-table");
          await table.waitFor({ timeout: wait * 3 });
          const computed = Date.now() - started;
          const gaps = await page.evaluate(() => window.frames_.slice(1).map((t, i) => t - window.frames_[i]).sort((a, b) => a - b));
          const p95 = gaps[Math.floor(gaps.length * 0.95)];
          console.log(`# ${mode}: the ${curveImages}-image curve took ${(computed / 1000).toFixed(1)} s; frame gaps meanwhile: ${gaps.length} frames, median ${gaps[gaps.length >> 1].toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, max ${gaps[gaps.length - 1].toFixed(1)} ms`);
          assert.ok(computed > 1000, `the curve took ${computed} ms: too short to measure frames over`);
          assert.ok(p95 <= 50, `frame gaps p95 ${p95} ms`);
          const row = table.locator("tbody tr").filter({ has: page.locator("th", { hasText: /^0\.1$/ }) });
          const cells = await row.locator("td").allInnerTexts();
          const [naturalAcc, robustAcc] = cells.map((c) => Number.parseFloat(c));
          console.log(`# ${mode}: robust accuracy at ε = 0.1 on ${curveImages} samples: natural ${cells[0]}, TRADES(6) ${cells[1]}`);
          assert.ok(robustAcc > 50, `the robust model keeps most answers (${robustAcc} %)`);
          assert.ok(robustAcc > naturalAcc, `robust ${robustAcc} % vs natural ${naturalAcc} %`);
        }
        if (mode === "cpu" && width === "desktop") {
          // APGD-T: the scrubber shows the run's loss and step size, its halvings marked.
          await page.goto(`${lab.base}${path}&attack=apgd-t`);
          await page.waitForFunction(() => document.querySelectorAll("article.outcome figure.apgd-trace").length === 2, null, { timeout: wait });
          const shown = page.locator("article.outcome").nth(1);
          assert.equal(await shown.locator(".scrubber input").getAttribute("max"), "101");
          await shown.getByText(/^Targeted DLR toward \d/).waitFor();
          const halvings = await shown.locator("figure.apgd-trace line.halving").count();
          console.log(`# ${mode}: APGD-T on the TRADES(6) model shows ${halvings} halvings of its step size`);
          assert.ok(halvings >= 1 && halvings <= 8, `${halvings} halvings (8 checkpoints)`);
          await shown.locator("dd.apgd-step").waitFor();
          await page.goto(`${lab.base}${path}`);
          await page.waitForFunction(() => document.querySelectorAll("article.outcome").length === 2, null, { timeout: wait });
          // Other images: a bad file is refused in words; a drawing and a real PNG are attacked.
          await page.getByText("Draw a digit or upload an image").click();
          const upload = page.locator('input[type="file"]');
          await upload.setInputFiles({ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("not an image") });
          await page.getByText("“notes.txt” is not an image this browser can decode").waitFor();
          const pad = await page.locator("canvas.pad").boundingBox();
          await page.mouse.move(pad.x + pad.width / 2, pad.y + pad.height * 0.2);
          await page.mouse.down();
          await page.mouse.move(pad.x + pad.width / 2, pad.y + pad.height * 0.8, { steps: 8 });
          await page.mouse.up();
          await page.getByRole("button", { name: "Attack this drawing" }).click();
          await page.getByText("Attacking your drawing").waitFor();
          await page.waitForFunction(() => document.querySelectorAll("article.outcome").length === 2, null, { timeout: wait });
          // Its class is what the natural model reads (a stroke like this reads as 1), not 0;
          // so the natural model is not "already wrong" on it.
          const classChoice = page.getByLabel("The true class of your image");
          await page.waitForFunction(() => document.querySelector("p.custom-class option[value='']")?.textContent.includes("reads it:"), null, { timeout: wait });
          const readAs = await classChoice.locator("option[value='']").textContent();
          console.log(`# ${mode}: the drawing's class, ${readAs}`);
          assert.match(readAs, /^as Natural reads it: \d: /);
          assert.equal(await outcomes.nth(0).getAttribute("data-clean-right"), "true", "the class is the model's own answer");
          // A class set by hand is attacked as set.
          await classChoice.selectOption("7");
          await page.waitForFunction(() => document.querySelectorAll("article.outcome").length === 2, null, { timeout: wait });
          await upload.setInputFiles({ name: "digit.png", mimeType: "image/png", buffer: await page.locator("canvas.pad").screenshot() });
          await page.getByText("Attacking “digit.png”").waitFor();
          await page.getByRole("button", { name: "back to the samples" }).click();
        }
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow} px`);
        await screenshot(page, `playground-${mode}-${width}`);
        assert.deepEqual(errors, [], "no console errors");
        await context.close();
      }
    });

    test("logits and seeded PGD and APGD accuracies equal the native ones", async () => {
      const weights = "mnist-sample-natural-plain.safetensors";
      const browser = await withEngine(lab, backend, async ({ engineModule, engine, fetchBytes, argument }) => {
        const pixels = Float32Array.from(
          engineModule.idxImages(await fetchBytes("samples/mnist-sample-images.idx")), (p) => p / 255);
        const labels = engineModule.idxLabels(await fetchBytes("samples/mnist-sample-labels.idx"));
        const model = engine.load(await fetchBytes(`models/${argument.weights}`));
        const robust = engine.load(await fetchBytes(`models/${argument.robust}`));
        const logits = Array.from(await engine.logits(model, pixels));
        const { curveImages, warmUps, timedAttacks, apgdImages, liteImages, apgdTimed } = argument;
        const first = (n) => [pixels.subarray(0, n * 784), labels.subarray(0, n)];
        const someImages = [pixels.subarray(0, curveImages * 784), labels.subarray(0, curveImages)];
        const curve = JSON.parse(await engine.curve(model, ...someImages, Float32Array.of(0, 0.1), "pgd", 0n));
        const robustCurve = JSON.parse(await engine.curve(robust, ...someImages, Float32Array.of(0.1), "pgd", 0n));
        // APGD-CE, and AutoAttack-lite (APGD-CE, then APGD-T) on fewer images.
        const apgdCurve = JSON.parse(await engine.curve(robust, ...first(apgdImages), Float32Array.of(0.1), "apgd-ce", 0n));
        const liteCurve = liteImages > 0
          ? JSON.parse(await engine.curve(robust, ...first(liteImages), Float32Array.of(0.1), "apgd", 0n))
          : null;
        // Speed: one PGD-10 attack on one image, after warm-up attacks.
        const request = JSON.stringify({ kind: "pgd", epsilon: 0.1, steps: 10, step_size: 0.02, restarts: 1, target: null, seed: 0 });
        const one = pixels.subarray(0, 784);
        for (let i = 0; i < warmUps; i++) await engine.attack(model, one, labels[0], request);
        const times = [];
        for (let i = 0; i < timedAttacks; i++) {
          const started = performance.now();
          await engine.attack(model, one, labels[0], request);
          times.push(performance.now() - started);
        }
        times.sort((a, b) => a - b);
        // APGD-T (a few iterations toward each of the 9 runner-up classes) names its target;
        // then the speed of APGD-CE (100 iterations) on the same image.
        const targeted = JSON.parse(await engine.attack(robust, one, labels[0],
          JSON.stringify({ kind: "apgd_t", epsilon: 0.1, steps: 5, step_size: 0, restarts: 1, target: null, seed: 0 })));
        const apgdRequest = JSON.stringify({ kind: "apgd_ce", epsilon: 0.1, steps: 100, step_size: 0, restarts: 1, target: null, seed: 0 });
        const apgdTimes = [];
        for (let i = 0; i < apgdTimed; i++) {
          const started = performance.now();
          await engine.attack(robust, one, labels[0], apgdRequest);
          apgdTimes.push(performance.now() - started);
        }
        apgdTimes.sort((a, b) => a - b);
        return {
          logits, curve, robustCurve, apgdCurve, liteCurve, target: targeted.target, label: labels[0], count: labels.length,
          attackMs: times[times.length >> 1], apgdMs: apgdTimes[apgdTimes.length >> 1],
          backend: JSON.parse(engine.backend()),
        };
      }, { weights, robust: "mnist-sample-trades6-plain.safetensors", curveImages, warmUps, timedAttacks, apgdImages, liteImages, apgdTimed });
      assert.equal(browser.backend.kind, mode);
      const expected = native(["predict", join(models, weights), "-d", "mnist-sample", "--count", String(browser.count)]).flat();
      assert.equal(browser.logits.length, expected.length);
      let worst = 0;
      for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(browser.logits[i] - expected[i]));
      console.log(`# ${mode}: ${browser.count} images, largest logit difference from astute predict: ${worst.toExponential(2)}`);
      assert.ok(worst <= 1e-4, `logits differ by ${worst}`);
      const nativeCurve = native(["attack", join(models, weights), "-d", "mnist-sample", "--count", String(curveImages), "--eps", "0,0.1", "--seed", "0"]);
      console.log(`# ${mode}: PGD-10 accuracy at ε = 0.1, seed 0, ${curveImages} samples: browser ${browser.curve[1].accuracy} %, native ${nativeCurve[1].accuracy} %`);
      assert.deepEqual(browser.curve.map((p) => p.accuracy), nativeCurve.map((p) => p.accuracy));
      const robustAccuracy = browser.robustCurve[0].accuracy;
      console.log(`# ${mode}: TRADES(6) keeps ${robustAccuracy} % of ${curveImages} samples at ε = 0.1 (natural: ${browser.curve[1].accuracy} %)`);
      assert.ok(robustAccuracy > 50 && robustAccuracy >= browser.curve[1].accuracy, `TRADES(6): ${robustAccuracy} %`);
      console.log(`# ${mode}: one PGD-10 attack on one 28×28 image (CNN2), median of ${timedAttacks} after warm-up: ${browser.attackMs.toFixed(1)} ms; the ${curveImages}-image curve: ${browser.curve[1].milliseconds.toFixed(0)} ms at ε = 0.1`);
      if (apgdTimed > 0) {
        console.log(`# ${mode}: one APGD-CE attack (100 iterations) on one 28×28 image (CNN2 TRADES(6)), median of ${apgdTimed} after warm-up: ${browser.apgdMs.toFixed(1)} ms`);
      }
      assert.ok(Number.isInteger(browser.target) && browser.target !== browser.label, `APGD-T's target: ${browser.target}`);
      // The same seeds give the same robust accuracy as \`astute attack\`, which runs the
      // engine natively, and which the engine's tests tie to \`astute eval --attack\`.
      const robustWeights = join(models, "mnist-sample-trades6-plain.safetensors");
      const nativeAt = (attack, count) => native(["attack", robustWeights, "-d", "mnist-sample", "--count", String(count),
        "--eps", "0.1", "--attack", attack, "--seed", "0"])[0];
      const nativeApgd = nativeAt("apgd-ce", apgdImages);
      console.log(`# ${mode}: TRADES(6) at ε = 0.1, seed 0: APGD-CE on ${apgdImages} samples browser ${browser.apgdCurve[0].accuracy} % native ${nativeApgd.accuracy} % (${browser.apgdCurve[0].milliseconds.toFixed(0)} ms in the browser)`);
      assert.equal(browser.apgdCurve[0].accuracy, nativeApgd.accuracy);
      if (liteImages > 0) {
        const nativeLite = nativeAt("apgd", liteImages);
        console.log(`# ${mode}: AutoAttack-lite on ${liteImages} samples browser ${browser.liteCurve[0].accuracy} % native ${nativeLite.accuracy} % (${browser.liteCurve[0].milliseconds.toFixed(0)} ms in the browser)`);
        assert.equal(browser.liteCurve[0].accuracy, nativeLite.accuracy);
        assert.ok(browser.liteCurve[0].accuracy < 100, "AutoAttack-lite had points to break");
      }
    });

    if (mode === "cpu") {
      test("the sample images show before the engine arrives, and its download shows its bytes", async () => {
        // The engine's WebAssembly is held back until the thumbnails are on screen.
        const { page, errors, context } = await open(lab, "/paper");
        let release;
        const held = new Promise((resolve) => { release = resolve; });
        await page.route("**/assets/engine-*.wasm", async (route) => {
          await held;
          await route.continue();
        });
        await page.goto(`${lab.base}/playground?d=mnist-sample&backend=cpu`);
        await page.locator(".thumbs .thumb").first().waitFor({ timeout: wait });
        assert.equal(await page.locator(".thumbs .thumb").count(), 24);
        const progress = page.locator("p.engine-download");
        await progress.getByText(/^Downloading the engine: 0\.0 MB of \d+\.\d MB \(\d+\.\d MB over the network\)/).waitFor();
        assert.equal(await progress.locator("progress").count(), 1);
        assert.equal(await page.getByText("No samples ship").count(), 0);
        release();
        await page.locator("p.backend[data-backend]").waitFor({ timeout: wait });
        assert.equal(await page.locator("p.engine-download").count(), 0, "the progress line goes once the engine runs");
        assert.deepEqual(errors, []);
        await context.close();
      });
    }

    if (mode === "cpu") {
      test("ε follows the dragged slider, and the attack recomputes before it is let go", async () => {
        const path = `/playground?d=mnist-sample&m=mnist-sample-natural-plain&vs=none&i=0&eps=0.1&backend=cpu`;
        const { page, errors, context } = await open(lab, path);
        await page.waitForFunction(() => document.querySelectorAll("article.outcome").length === 1, null, { timeout: wait });
        const linf = async () => Number(await page.locator("article.outcome dd.linf").innerText());
        assert.ok(await linf() > 0.05, "the attack at ε = 0.1 uses most of its budget");
        const slider = page.getByLabel("ε, the ℓ∞ budget");
        const box = await slider.boundingBox();
        const at = (epsilon) => box.x + 8 + (box.width - 16) * (epsilon / 0.3);
        await page.mouse.move(at(0.1), box.y + box.height / 2);
        await page.mouse.down();
        // Slowly down to ε ≈ 0.02, holding the button: the label and the attack follow.
        for (let k = 1; k <= 8; k++) {
          await page.mouse.move(at(0.1 - 0.01 * k), box.y + box.height / 2);
          await page.waitForTimeout(60);
        }
        const label = Number((await page.locator(".epsilon-value").innerText()).replace("ε = ", ""));
        assert.ok(label < 0.04, `the label follows the hand: ${label}`);
        await page.waitForFunction((limit) => Number(document.querySelector("article.outcome dd.linf")?.textContent) <= limit,
          label + 1e-6, { timeout: wait }).catch(async (error) => {
          const shown = await page.locator("div.outcomes, p.error").allInnerTexts();
          throw new Error(`${error.message}; at ${page.url()} the page shows: ${shown.join(" | ")}`);
        });
        assert.match(page.url(), /eps=0\.0[1-4]/, "the URL follows, throttled");
        console.log(`# cpu: while dragged to ε = ${label}, the attack used ℓ∞ ${await linf()} (button still down)`);
        await page.mouse.up();
        assert.deepEqual(errors, [], "no console errors");
        await context.close();
      });

      test("cancel stops the curve at once, and the engine answers the next attack", async () => {
        const path = `/playground?d=mnist-sample&m=mnist-sample-natural-plain&vs=mnist-sample-trades6-plain&i=0&n=100&backend=cpu`;
        const { page, errors, context } = await open(lab, path);
        await page.waitForFunction(() => document.querySelectorAll("article.outcome").length === 2, null, { timeout: wait });
        await page.getByRole("button", { name: "Compute the curve" }).click();
        const status = page.locator("p.loading", { hasText: "Attacking every image at every ε" });
        await status.getByText(/2 of 8 radii/).waitFor({ timeout: wait });
        // From the click to the notice on the page, timed in the page: the worker ends in
        // the click's handler, so the notice's delay bounds the engine's.
        const stopped = await page.evaluate(() => new Promise((done) => {
          const clicked = performance.now();
          new MutationObserver((_, observer) => {
            if (document.querySelector("p.cancelled")) {
              observer.disconnect();
              done(performance.now() - clicked);
            }
          }).observe(document.body, { childList: true, subtree: true });
          document.querySelector("button.cancel").click();
        }));
        const said = await page.locator("p.cancelled").innerText();
        console.log(`# cpu: cancel to "${said}" in ${stopped.toFixed(0)} ms`);
        assert.match(said, /^Cancelled at Natural, ε = 0\.02 \(2 of 8 radii, 100 images\)/);
        assert.ok(stopped < 50, `cancel took ${stopped} ms`);
        assert.equal(await page.locator("table.curve-table").count(), 0);
        // The same page's next attack starts a new worker.
        await page.getByLabel("ε, the ℓ∞ budget").fill("0.05");
        await page.waitForFunction(() => [...document.querySelectorAll("article.outcome dd.linf")]
          .map((d) => Number(d.textContent)).filter((l) => l <= 0.05 + 1e-6).length === 2, null, { timeout: wait });
        assert.deepEqual(errors, [], "no console errors");
        await context.close();
      });
    }

    if (mode === "webgpu") {
      test("the automatic choice prefers the CPU over a software WebGPU adapter", async () => {
        const report = await withEngine(lab, "auto", async ({ engine }) => JSON.parse(engine.backend()));
        assert.equal(report.kind, "cpu", JSON.stringify(report));
        assert.match(report.note, /software|SwiftShader/i);
      });
    }
  });
}
