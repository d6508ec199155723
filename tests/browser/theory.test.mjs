// The theory page (Figures 4 and 5) in headless Chromium: the spiral and the distance
// classifier appear with the separation r; an MLP trains live (play, pause, step) and its
// loss falls; the step reached goes into the URL, and opening that URL replays the same
// network to the same scores; TRADES(6) ends more robust than natural training; a bad
// setting in the URL is refused in words. The speed of a training step is printed.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { DESKTOP, PHONE, open, screenshot, startLab, stopLab } from "./harness.mjs";

const WAIT = 180_000;

/** The MLP row of the scores table, as numbers: [train, test, adversarial, Lipschitz]. */
async function mlpScores(page) {
  const cells = await page.locator("table.scores tbody tr").nth(0).locator("td").allInnerTexts();
  return cells.map((c) => Number.parseFloat(c));
}

/** The MLP's scores at full precision. */
async function exactScores(page) {
  return JSON.parse(await page.locator("table.scores tbody tr").nth(0).getAttribute("data-scores"));
}

async function distanceScores(page) {
  const cells = await page.locator("table.scores tbody tr").nth(1).locator("td").allInnerTexts();
  return cells.map((c) => Number.parseFloat(c));
}

/** Waits until the page has generated its spiral and finished any replay. */
async function settled(page, step = 0) {
  await page.locator("p.claim-link[data-separation]").waitFor({ timeout: WAIT });
  await page.waitForFunction(
    (step) => {
      const progress = document.querySelector(".trainer .progress");
      const row = document.querySelector("table.scores tbody tr td");
      return !document.querySelector("p.loading") && progress && Number(progress.dataset.step) === step
        && row && !row.textContent.includes("…");
    },
    step,
    { timeout: WAIT },
  );
}

describe("the theory page", () => {
  let lab;
  before(async () => {
    lab = await startLab();
  });
  after(async () => {
    if (lab) await stopLab(lab);
  });

  test("trains an MLP live, keeps its step in the URL and replays it", async () => {
    const { page, errors, context } = await open(lab, "/theory");
    await settled(page);
    assert.equal(await page.locator("p.backend").getAttribute("data-backend"), "cpu");
    const r = Number(await page.locator("p.claim-link").getAttribute("data-separation"));
    // The default spiral (seed 0): closest points of different arms 15/255 apart.
    assert.ok(Math.abs(r - 15 / 510) < 1e-6, `r = ${r}`);
    assert.match(await page.locator("p.claim-link").innerText(), /ε < r/);
    const distance = await distanceScores(page);
    assert.equal(distance[0], 100, "the distance classifier fits its own training points");
    assert.ok(distance[1] >= 95 && distance[2] <= distance[1], `distance classifier: ${distance}`);
    assert.ok(distance[3] > 0 && distance[3] <= 2 / r + 1e-6, `its Eq. (3) is at most 2/r: ${distance}`);
    const untrained = await mlpScores(page);

    // Play for a while, then pause: the step lands in the URL.
    await page.getByRole("button", { name: "Train" }).click();
    await page.waitForFunction(() => Number(document.querySelector(".trainer .progress").dataset.step) >= 300, null, { timeout: WAIT });
    await page.getByRole("button", { name: "Pause training" }).click();
    await page.waitForFunction(() => /[?&]step=\d+/.test(location.search), null, { timeout: WAIT });
    const step = Number(new URL(page.url()).searchParams.get("step"));
    // The last look is taken after the pause; wait for it to describe that step.
    await page.waitForFunction((step) => document.querySelector("table.scores tbody tr th").textContent.includes(`after ${step} steps`), step, { timeout: WAIT });
    const msPerStep = Number(await page.locator(".trainer .progress").getAttribute("data-ms-per-step"));
    console.log(`# natural, 3 × 64 MLP, 400 points: ${msPerStep.toFixed(2)} ms per training step (step ${step})`);
    const trained = await mlpScores(page);
    assert.ok(trained[1] > untrained[1] + 20, `test accuracy ${untrained[1]} → ${trained[1]}`);
    const loss = await page.locator(".curve.loss polyline").getAttribute("points");
    const ys = loss.trim().split(" ").map((p) => Number(p.split(",")[1]));
    assert.ok(ys[ys.length - 1] > ys[0], "the loss line falls (SVG y grows downwards)");

    // Step adds exactly one.
    await page.getByRole("button", { name: "Step" }).click();
    await page.waitForFunction((s) => new URL(location.href).searchParams.get("step") === String(s + 1), step, { timeout: WAIT });
    await page.waitForFunction((s) => document.querySelector("table.scores tbody tr th").textContent.includes(`after ${s + 1} steps`), step, { timeout: WAIT });
    const stepped = await exactScores(page);
    const link = page.url();

    // A changed setting starts a new network, and says so.
    await page.getByLabel("Method").selectOption("trades");
    await page.locator("p.restarted", { hasText: `Changing the method started a new network from step 0; the previous one had trained ${step + 1} steps.` }).waitFor();
    await settled(page, 0);
    await page.getByLabel("Method").selectOption("natural");
    await settled(page, 0);

    // Reset starts the network again from step 0, and takes the step out of the URL.
    await page.getByRole("button", { name: "Reset" }).click();
    await settled(page, 0);
    assert.equal(new URL(page.url()).searchParams.get("step"), null);
    assert.deepEqual(await mlpScores(page), untrained, "the same seed, the same start");

    // Leaving the page while it trains stops the training quietly.
    await page.getByRole("button", { name: "Train" }).click();
    await page.waitForFunction(() => Number(document.querySelector(".trainer .progress").dataset.step) >= 20, null, { timeout: WAIT });
    await page.getByRole("link", { name: "Paper" }).click();
    await page.waitForTimeout(1000);
    assert.deepEqual(errors, [], "no console errors");
    await context.close();

    // The link replays the same network: the same scores, to the last digit.
    const again = await open(lab, new URL(link).pathname + new URL(link).search);
    await settled(again.page, step + 1);
    assert.deepEqual(await exactScores(again.page), stepped);
    assert.deepEqual(again.errors, [], "no console errors");
    await again.context.close();
  });

  test("TRADES(6) ends more robust than natural training at the same accuracy", async () => {
    const scores = {};
    for (const method of ["natural", "trades"]) {
      const started = Date.now();
      const { page, errors, context } = await open(lab, `/theory?method=${method}&beta=6&step=2000`);
      await settled(page, 2000);
      scores[method] = await mlpScores(page);
      const seconds = (Date.now() - started) / 1000;
      const msPerStep = Number(await page.locator(".trainer .progress").getAttribute("data-ms-per-step"));
      console.log(`# ${method}: 2,000 steps replayed in ${seconds.toFixed(1)} s, last chunk ${msPerStep.toFixed(2)} ms per step; MLP ${scores[method].join(" / ")}`);
      // The same page at both widths (the phone's needs no second replay).
      for (const [width, viewport] of method === "trades" ? [["desktop", DESKTOP], ["phone", PHONE]] : [["desktop", DESKTOP]]) {
        await page.setViewportSize(viewport);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        assert.ok(overflow <= 0, `no sideways scroll at ${width} width (${overflow} px)`);
        await screenshot(page, `theory-${method}-${width}`);
      }
      assert.deepEqual(errors, [], "no console errors");
      await context.close();
    }
    const [natural, trades] = [scores.natural, scores.trades];
    assert.ok(trades[1] >= natural[1] - 1, `test accuracy: natural ${natural[1]}, TRADES ${trades[1]}`);
    assert.ok(trades[2] > natural[2], `adversarial accuracy: natural ${natural[2]}, TRADES ${trades[2]}`);
  });

  test("bad settings in the URL are refused in words", async () => {
    for (const [query, message] of [
      ["lr=5", /learning rate 5 is outside \(0, 1\]/],
      ["eps=nan", /ε = NaN is outside \(0, 0.25\]/],
      ["turns=20&band=0.99&n=1000", /touch after quantization/],
      ["step=99999999", /replays at most 20000/],
    ]) {
      const { page, errors, context } = await open(lab, `/theory?${query}`);
      const alert = page.locator("p.error[role=alert]");
      await alert.waitFor({ timeout: WAIT });
      assert.match(await alert.innerText(), message, query);
      assert.ok(await page.getByRole("button", { name: "Train" }).isDisabled(), `${query}: nothing to train`);
      assert.deepEqual(errors, [], "no console errors");
      await context.close();
    }
  });
});
