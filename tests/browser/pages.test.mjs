// Astute's pages in headless Chromium against a real server: each page renders without
// console errors (screenshots at desktop and phone widths), a run launched from the
// Experiments page shows up in the viewer, the filter language narrows the runs table,
// CSV export holds the filtered rows, a shared URL restores the view, the Datasets page
// shows Fashion-MNIST's histogram, the Paper page shows the findings board, and failures
// read as sentences.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deflateSync, gunzipSync, gzipSync } from "node:zlib";
import { DESKTOP, PHONE, binary, open, screenshot, startLab, stopLab } from "./harness.mjs";

let lab;
before(async () => {
  lab = await startLab();
});
after(async () => {
  if (lab) await stopLab(lab);
});

async function api(path) {
  const reply = await fetch(lab.base + path);
  assert.equal(reply.status, 200, path);
  return reply.json();
}

test("every page renders, with no console error, at desktop and phone widths", async () => {
  const { runs } = await api("/api/runs?limit=1&status=done");
  assert.ok(runs.length > 0, "the shipped results hold finished runs");
  const pages = {
    paper: ["/", "Must robustness cost accuracy?"],
    datasets: ["/datasets?d=fashion-mnist", "Separation of fashion-mnist"],
    experiments: ["/experiments", "Runs launched here"],
    tables: ["/results?table=2", "Table 2"],
    runs: ["/results?view=runs", "shown of"],
    plot: ["/results?view=plot", "Each point is a finished run"],
    run: [`/runs/${runs[0].id}`, `Run ${runs[0].id}`],
  };
  const titles = new Set();
  for (const [name, [path, expected]] of Object.entries(pages)) {
    for (const [width, viewport] of [["desktop", DESKTOP], ["phone", PHONE]]) {
      const { page, errors, context } = await open(lab, path, viewport);
      await page.getByText(expected).first().waitFor({ timeout: 15000 });
      await page.waitForLoadState("networkidle");
      const title = await page.title();
      assert.match(title, / · Astute$/, `the title of ${path}`);
      titles.add(title);
      await screenshot(page, `${name}-${width}`);
      assert.deepEqual(errors, [], `console errors on ${path} (${width})`);
      const unlabelled = await page.evaluate(() =>
        [...document.querySelectorAll("input, select, textarea, button")]
          .filter((el) => !(el.getAttribute("aria-label")
            || [...(el.labels ?? [])].map((l) => l.textContent.trim()).join("")
            || el.textContent.trim()))
          .map((el) => el.outerHTML.slice(0, 100)));
      assert.deepEqual(unlabelled, [], `controls without a name on ${path}`);
      if (width === "desktop") {
        // Everything the first visit of this page transferred (compressed, with headers).
        const bytes = await page.evaluate(() => performance.getEntries()
          .reduce((sum, entry) => sum + (entry.transferSize ?? 0), 0));
        console.log(`first load of ${path}: ${(bytes / 1000).toFixed(1)} KB transferred`);
        assert.ok(bytes <= 1_000_000, `${path} transferred ${bytes} bytes on first load`);
      }
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 1, `${path} scrolls sideways by ${overflow}px at ${width} width`);
      await context.close();
    }
  }
  // Each page names its tab after what it shows.
  assert.equal(titles.size, Object.keys(pages).length, [...titles].join(" | "));
});

test("the Datasets page shows Fashion-MNIST's histogram and closest pairs as images, named by class", async () => {
  const { page, errors, context } = await open(lab, "/datasets?d=fashion-mnist");
  const histogram = page.locator('img[src$="/histogram.svg"]');
  await histogram.waitFor();
  await page.waitForLoadState("networkidle");
  const drawn = await histogram.evaluate((img) => img.complete && img.naturalWidth > 0);
  assert.ok(drawn, "the histogram image loaded");
  // Its title names the distance by its symbol, and no text in it is below 12 px.
  const svg = await (await page.request.get(lab.base + await histogram.getAttribute("src"))).text();
  assert.match(svg, />\s*fashion-mnist: ℓ∞ separation\s*</);
  const sizes = [...svg.matchAll(/font-size="([\d.]+)"/g)].map((m) => Number(m[1]));
  assert.ok(sizes.length >= 6 && Math.min(...sizes) >= 12, `font sizes ${sizes}`);
  const pairs = page.locator(".pair img");
  assert.ok((await pairs.count()) >= 2);
  const loaded = await pairs.evaluateAll((imgs) => imgs.every((i) => i.complete && i.naturalWidth === 28));
  assert.ok(loaded, "every pair image is a 28×28 picture");
  // The measured minimum is the one the exact search gives (Table 1 for Fashion-MNIST).
  await page.getByText("train-train: min 0.3176").waitFor();
  // Pairs are captioned with their classes' names.
  const caption = await page.locator(".pair figcaption").first().textContent();
  const names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];
  assert.ok(names.some((n) => caption.startsWith(n)), `caption: ${caption}`);
  // A dataset this server does not have is not offered for measuring.
  await page.goto(`${lab.base}/datasets?d=cifar10`);
  await page.getByText("This server does not have this dataset").waitFor();
  assert.equal(await page.getByRole("button", { name: /Measure separation/ }).count(), 0);
  assert.deepEqual(errors, []);
  await context.close();
});

test("the MNIST sample ships with Astute: its closest pairs are images", async () => {
  // The lab's server is given no folder holding it: it finds the sample Astute ships.
  const { page, errors, context } = await open(lab, "/datasets?d=mnist-sample");
  await page.getByText("train-train: min 0.9216").waitFor();
  const pairs = page.locator(".pair img");
  await pairs.first().waitFor();
  await page.waitForLoadState("networkidle");
  assert.ok((await pairs.count()) >= 2);
  const sizes = await pairs.evaluateAll((imgs) => imgs.map((i) => (i.complete ? i.naturalWidth : 0)));
  assert.ok(sizes.every((w) => w === 28), `pair images: ${sizes.join(", ")} px wide`);
  assert.deepEqual(errors, []);
  await context.close();
});

test("a visitor's own files are measured in the browser: Fashion-MNIST's test set as the native engine measures it", async () => {
  // The native reference: \`astute separation\` on a folder whose training files are the
  // same 10,000 test images.
  const fashion = "/usr/share/datasets/fashion-mnist";
  const dir = mkdtempSync(join(tmpdir(), "astute-own-"));
  mkdirSync(join(dir, "fashion-mnist"));
  for (const part of ["images-idx3-ubyte.gz", "labels-idx1-ubyte.gz"]) {
    for (const split of ["train", "t10k"]) symlinkSync(join(fashion, `t10k-${part}`), join(dir, "fashion-mnist", `${split}-${part}`));
  }
  const native = JSON.parse(execFileSync(binary, ["separation", "-d", "fashion-mnist", "--split", "train-train",
    "--json", "--no-store", "--data-dir", dir]).toString()).reports[0];

  const { page, errors, context } = await open(lab, "/datasets");
  const input = page.locator("section.own-data input[type=file]:not([webkitdirectory])");
  // A truncated file is refused, by name.
  const images = readFileSync(join(fashion, "t10k-images-idx3-ubyte.gz"));
  const labels = readFileSync(join(fashion, "t10k-labels-idx1-ubyte.gz"));
  await input.setInputFiles([
    { name: "t10k-images-idx3-ubyte.gz", mimeType: "application/gzip", buffer: images.subarray(0, images.length / 2) },
    { name: "t10k-labels-idx1-ubyte.gz", mimeType: "application/gzip", buffer: labels },
  ]);
  const refusal = page.locator("section.own-data p.error");
  await refusal.waitFor({ timeout: 120000 });
  console.log(`# own data, half a file: ${await refusal.textContent()}`);
  assert.match(await refusal.textContent(), /^“t10k-images-idx3-ubyte\.gz”: /);

  await input.setInputFiles([join(fashion, "t10k-images-idx3-ubyte.gz"), join(fashion, "t10k-labels-idx1-ubyte.gz")]);
  const result = page.locator("section.own-data .own-result");
  await result.waitFor({ timeout: 300000 });
  const got = await result.evaluate((r) => ({ ...r.dataset }));
  console.log(`# own data: Fashion-MNIST's 10,000 test images in the browser: min ${got.min}, mean ${got.mean}, ` +
    `in ${(Number(got.milliseconds) / 1000).toFixed(2)} s (reading and search); native min ${native.min}, mean ${native.mean}`);
  assert.equal(Number(got.min), native.min);
  assert.equal(Number(got.mean), native.mean);
  assert.deepEqual(got.histogram.split(",").map(Number), native.histogram.counts);
  assert.match(await result.locator("h3").textContent(), /^10000 images of 1×28×28 in 10 classes, from “t10k-images-idx3-ubyte\.gz” and “t10k-labels-idx1-ubyte\.gz”$/);
  assert.equal(await result.locator(".pair canvas").count(), 12, "six closest pairs, two images each");
  await screenshot(page, "datasets-own-data");
  assert.deepEqual(errors, []);
  await context.close();
});

/** A greyscale 8-bit PNG of `pixels` (row by row, no filter), written by hand as the
 * format's specification lays it out: signature, IHDR, one IDAT, IEND. */
function png(width, height, pixels) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (bytes) => {
    let c = 0xffffffff;
    for (const b of bytes) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const framed = Buffer.alloc(body.length + 8);
    framed.writeUInt32BE(data.length, 0);
    body.copy(framed, 4);
    framed.writeUInt32BE(crc(body), body.length + 4);
    return framed;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 0, 0, 0, 0], 8); // 8 bits, greyscale, deflate, no filter choice, no interlace
  const rows = Buffer.alloc(height * (width + 1));
  for (let y = 0; y < height; y++) rows.set(pixels.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", header),
    chunk("IDAT", deflateSync(rows)), chunk("IEND", Buffer.alloc(0))]);
}

test("a folder of PNGs in class folders, picked or dropped, is measured as the native engine measures the same images", async () => {
  const fashion = "/usr/share/datasets/fashion-mnist";
  const count = 2000;
  const pixels = gunzipSync(readFileSync(join(fashion, "t10k-images-idx3-ubyte.gz"))).subarray(16, 16 + count * 784);
  const labels = gunzipSync(readFileSync(join(fashion, "t10k-labels-idx1-ubyte.gz"))).subarray(8, 8 + count);
  const dir = mkdtempSync(join(tmpdir(), "astute-png-"));
  // The native reference: the same images as an IDX pair, as `astute separation` reads them.
  const idx = (magic, dims, body) => {
    const head = Buffer.alloc(4 + 4 * dims.length);
    head.writeUInt32BE(magic, 0);
    dims.forEach((d, k) => head.writeUInt32BE(d, 4 + 4 * k));
    return gzipSync(Buffer.concat([head, body]));
  };
  mkdirSync(join(dir, "fashion-mnist"));
  for (const split of ["train", "t10k"]) {
    writeFileSync(join(dir, "fashion-mnist", `${split}-images-idx3-ubyte.gz`), idx(0x803, [count, 28, 28], pixels));
    writeFileSync(join(dir, "fashion-mnist", `${split}-labels-idx1-ubyte.gz`), idx(0x801, [count], labels));
  }
  const native = JSON.parse(execFileSync(binary, ["separation", "-d", "fashion-mnist", "--split", "train-train",
    "--json", "--no-store", "--data-dir", dir]).toString()).reports[0];
  // The PNGs, one folder per class, named as a folder can be ("T-shirt-top").
  const classes = ["T-shirt-top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];
  for (let i = 0; i < count; i++) {
    const folder = join(dir, "clothes", classes[labels[i]]);
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, `${String(i).padStart(4, "0")}.png`), png(28, 28, pixels.subarray(i * 784, (i + 1) * 784)));
  }
  writeFileSync(join(dir, "clothes", ".DS_Store"), "not an image");

  // Once through the folder picker, once dropped as a folder (Chromium's own drag and drop,
  // driven through the DevTools protocol, which hands the page a directory entry).
  for (const how of ["picked", "dropped"]) {
    const { page, errors, context } = await open(lab, "/datasets");
    if (how === "picked") {
      await page.locator("section.own-data input[webkitdirectory]").setInputFiles(join(dir, "clothes"));
    } else {
      await dropFolder(page, context, page.locator("section.own-data .drop"), join(dir, "clothes"));
    }
    const result = page.locator("section.own-data .own-result");
    await result.waitFor({ timeout: 300000 });
    const got = await result.evaluate((r) => ({ ...r.dataset }));
    console.log(`# own data: 2,000 Fashion-MNIST images as PNGs in class folders, ${how}: min ${got.min}, mean ${got.mean}, ` +
      `in ${(Number(got.milliseconds) / 1000).toFixed(2)} s (decoding and search); native min ${native.min}, mean ${native.mean}`);
    assert.equal(Number(got.min), native.min);
    assert.equal(Number(got.mean), native.mean);
    assert.deepEqual(got.histogram.split(",").map(Number), native.histogram.counts);
    assert.equal(await result.locator("h3").textContent(),
      "2000 images of 1×28×28 in 10 classes, from PNGs in the folders Ankle boot, Bag, Coat, … Trouser");
    // The closest pairs are captioned with the folders' names.
    const caption = await result.locator(".pair > figcaption").first().textContent();
    assert.match(caption, new RegExp(`^(${classes.join("|")}) vs (${classes.join("|")}) · distance `));
    if (how === "picked") await screenshot(page, "datasets-own-pngs");
    assert.deepEqual(errors, []);
    await context.close();
  }
});

/** Drags the folder at `path` from outside the browser and drops it on `zone`, as a visitor
 *  does from a file manager: the page receives a directory entry, not a list of files. */
async function dropFolder(page, context, zone, path) {
  await zone.scrollIntoViewIfNeeded();
  const box = await zone.boundingBox();
  const at = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  const devtools = await context.newCDPSession(page);
  const data = { items: [], files: [path], dragOperationsMask: 1 };
  for (const type of ["dragEnter", "dragOver", "drop"]) {
    await devtools.send("Input.dispatchDragEvent", { type, ...at, data });
  }
}

test("a run launched from the Experiments page finishes and appears in the viewer, the worker that ran it listed", async () => {
  const { page, errors, context } = await open(
    lab, "/experiments?dataset=mnist&methods=natural&scale=smoke&seeds=1");
  await page.getByLabel("Token").fill(lab.token);
  await page.getByLabel("Token").blur();
  await page.getByRole("button", { name: "Launch" }).click();
  const card = page.locator(".live-run").first();
  await card.waitFor();
  await card.getByText("Done: test accuracy").waitFor({ timeout: 240000 });
  const id = await card.locator("header a").textContent();
  assert.match(page.url(), new RegExp(`watch=${id}`), "the URL keeps the launched run");
  // The server's worker process is listed, with its backend and its one slot.
  const worker = page.locator("section.workers table tbody tr");
  await worker.first().waitFor();
  assert.equal(await worker.count(), 1);
  assert.match(await worker.textContent(), /cpu/);
  assert.match(await worker.textContent(), /of 1/);
  assert.deepEqual(errors, []);

  // Its page offers the weights its worker stored, and they download.
  await page.goto(`${lab.base}/runs/${id}`);
  const download = page.getByRole("link", { name: "Download weights (safetensors)" });
  await download.waitFor();
  const weights = await fetch(lab.base + (await download.getAttribute("href")));
  assert.equal(weights.status, 200);
  assert.ok((await weights.arrayBuffer()).byteLength > 1000);
  assert.equal(await page.getByRole("link", { name: "Attack it in the playground" }).getAttribute("href"), `/playground?run=${id}`);

  // A smoke run stores no accuracy-against-ε curve: the page offers to compute one in the
  // browser, where the playground attacks the MNIST sample with the run's own weights.
  await page.getByRole("link", { name: "Compute it in your browser" }).click();
  await page.waitForURL(new RegExp(`/playground\\?run=${id}&vs=none`));
  const outcome = page.locator(`article.outcome[data-model="run-${id}"]`);
  await outcome.waitFor({ timeout: 120000 });
  assert.equal(await outcome.locator("h3").textContent(), `Run ${id}: Natural`);
  await page.locator("section", { has: page.locator("#curve-title") }).getByLabel("Images").selectOption("20");
  await page.getByRole("button", { name: "Compute the curve" }).click();
  const curve = page.locator("table.curve-table");
  await curve.waitFor({ timeout: 120000 });
  assert.deepEqual(await curve.locator("thead th").allTextContents(), ["ε", `Run ${id}: Natural`]);
  assert.equal(await curve.locator("tbody tr").count(), 8, "one row per radius");
  assert.match(await curve.locator("caption").textContent(), /on the first 20 sample images/);
  assert.deepEqual(errors, []);

  await page.goto(`${lab.base}/results?view=runs&q=${encodeURIComponent("dataset = mnist")}`);
  const row = page.locator("table.runs tbody tr", { hasText: id });
  await row.waitFor();
  assert.match(await valueIn(page, row, "method"), /natural/);
  assert.match(await valueIn(page, row, "status"), /done/);
  await context.close();
});

test("a run's page says when it ran, and why a shipped run has no weights to download", async () => {
  // A shipped run: made by `astute reproduce` at the CPU scale.
  const { runs } = await api("/api/runs?limit=100&status=done");
  const shipped = runs.find((r) => r.scale === "cpu");
  assert.ok(shipped, "the shipped results hold runs of the CPU scale");
  const { page, errors, context } = await open(lab, `/runs/${shipped.id}`);
  await page.getByText(/queued \d{4}-\d\d-\d\d \d\d:\d\d UTC/).first().waitFor();
  await page.getByText("No weights are stored for this run").waitFor();
  assert.equal(await page.getByText("Download weights").count(), 0);
  assert.deepEqual(errors, []);
  await context.close();
});

test("the keyboard alone filters and sorts the runs table", async () => {
  const { page, errors, context } = await open(lab, "/results?view=runs");
  await page.locator("table.runs").waitFor();
  const focusOn = async (matches) => {
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press("Tab");
      if (await page.evaluate(matches)) return;
    }
    throw new Error("Tab never reached the control");
  };
  await focusOn(() => document.activeElement?.classList.contains("filter"));
  // Typing alone filters: no Enter.
  await page.keyboard.type("method = natural");
  await page.waitForURL(/q=method/);
  // Every row shown is natural: the method column folds into the line above the table.
  await page.locator(".same-in-every-row", { hasText: "method: natural" }).waitFor();
  assert.equal(await cells(page, "method").count(), 0);
  await focusOn(() => document.activeElement?.textContent.startsWith("Test acc."));
  await page.keyboard.press("Enter");
  await page.waitForURL(/sort=test_acc/);
  const accuracies = (await cells(page, "test_acc").allTextContents()).map(Number);
  assert.ok(accuracies.length > 0 && accuracies.every(Number.isFinite), accuracies.join());
  assert.deepEqual(accuracies, [...accuracies].sort((a, b) => a - b));
  assert.deepEqual(errors, []);
  await context.close();
});

/** A column's value in a row of the runs table: its cell, or the line above the table
 *  where the column folded because every row shown shares its value. */
async function valueIn(page, row, column) {
  const cell = row.locator(`td[data-column="${column}"]`);
  if (await cell.count()) return cell.textContent();
  return page.locator(".same-in-every-row").textContent();
}

/** The cells of one column of the runs table. */
function cells(page, column) {
  return page.locator(`table.runs tbody tr td[data-column="${column}"]`);
}

async function rowCount(page) {
  await page.locator("table.runs").waitFor();
  return page.locator("table.runs tbody tr").count();
}

test("a filter narrows the runs table, CSV export holds those rows, and the URL restores the view", async () => {
  const { page, errors, context } = await open(lab, "/results?view=runs");
  const all = await rowCount(page);
  const filter = "method = natural or method ~ trades";
  await page.getByLabel("Filter").fill(filter);
  await page.getByLabel("Filter").press("Enter");
  await page.waitForURL(/q=/);
  const narrowed = await rowCount(page);
  assert.ok(narrowed > 0 && narrowed < all, `${narrowed} of ${all} rows`);
  const methods = await cells(page, "method").allTextContents();
  assert.ok(methods.every((m) => m === "natural" || m.startsWith("trades")), methods.join());

  // Sort by PGD-10 accuracy, descending: a second click reverses the first.
  const sortButton = page.getByRole("button", { name: /PGD-10 test acc\./ });
  await sortButton.click();
  await sortButton.click();
  await page.waitForURL(/desc=1/);
  const adversarial = (await cells(page, "adv_test_acc").allTextContents()).map(Number);
  assert.ok(adversarial.length > 0 && adversarial.every(Number.isFinite), adversarial.join());
  assert.deepEqual(adversarial, [...adversarial].sort((a, b) => b - a));

  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: "Export CSV" }).click(),
  ]);
  const csv = readFileSync(await download.path(), "utf8").trim().split("\n");
  assert.equal(csv[0].split(",")[0], "id");
  assert.equal(csv.length - 1, narrowed, "one CSV line per shown row");
  const shownIds = await cells(page, "id").allTextContents();
  assert.deepEqual(csv.slice(1).map((line) => line.split(",")[0]), shownIds);

  // The same URL in a fresh browser context gives the same view.
  const shared = page.url();
  const again = await open(lab, new URL(shared).pathname + new URL(shared).search);
  assert.equal(await rowCount(again.page), narrowed);
  assert.equal(await again.page.getByLabel("Filter").inputValue(), filter);
  const idsAgain = await cells(again.page, "id").allTextContents();
  assert.deepEqual(idsAgain, shownIds);
  await screenshot(again.page, "runs-filtered-desktop");
  assert.deepEqual([...errors, ...again.errors], []);
  await again.context.close();
  await context.close();
});

test("the runs table filters as one types, finds stand-ins by the tables' names, and keeps chosen columns in the URL", async () => {
  const { page, errors, context } = await open(lab, "/results?view=runs");
  await page.locator("table.runs").waitFor();
  const { runs } = await api("/api/runs?limit=500");
  // Typed, not entered: the table follows after a short pause.
  await page.getByLabel("Filter").pressSequentially("gap > 1", { delay: 30 });
  await page.waitForURL(/q=gap/);
  const expected = runs.filter((r) => r.train_acc != null && r.test_acc != null
    && r.train_acc - r.test_acc > 1).length;
  await page.waitForFunction((n) => document.querySelectorAll("table.runs tbody tr").length === n, expected);
  const gaps = (await cells(page, "gap").allTextContents()).map(Number);
  assert.ok(gaps.length === expected && gaps.every((g) => g > 1), gaps.join());

  // The shipped Table 2 runs are on the MNIST sample, standing in for MNIST.
  const standIns = runs.filter((r) => r.stands_in_for === "mnist" && r.scale === "cpu").length;
  assert.ok(standIns > 0);
  await page.goto(`${lab.base}/results?view=runs&q=${encodeURIComponent("dataset = mnist and scale = cpu")}`);
  await page.locator("table.runs").waitFor();
  assert.equal(await rowCount(page), standIns);
  await page.locator(".same-in-every-row", { hasText: "mnist-sample (as mnist)" }).waitFor();

  // Columns: one taken away, one added, both kept in the URL and restored from it.
  await page.getByText(/^Columns: /).click();
  await page.getByRole("checkbox", { name: "Test Lipschitz" }).uncheck();
  await page.getByRole("checkbox", { name: "Train Lipschitz" }).check();
  await page.waitForURL(/cols=.*train_lipschitz/);
  const headers = () => page.locator("table.runs thead th[data-column]").evaluateAll(
    (ths) => ths.map((th) => th.dataset.column));
  let shown = await headers();
  assert.ok(shown.includes("train_lipschitz") && !shown.includes("test_lipschitz"), shown.join());
  const again = await open(lab, new URL(page.url()).pathname + new URL(page.url()).search);
  await again.page.locator("table.runs").waitFor();
  assert.deepEqual(await again.page.locator("table.runs thead th[data-column]").evaluateAll(
    (ths) => ths.map((th) => th.dataset.column)), shown);
  await again.context.close();

  // Grouped by seed, every metric stays, as mean ± std over the two seeds.
  await page.getByLabel("Group seeds (mean ± std)").check();
  await page.waitForURL(/group=1/);
  shown = await headers();
  for (const metric of ["train_acc", "test_acc", "adv_test_acc", "gap", "adv_gap", "train_lipschitz"]) {
    assert.ok(shown.includes(metric), `${metric} in ${shown.join()}`);
  }
  const adversarial = await cells(page, "adv_test_acc").allTextContents();
  assert.ok(adversarial.some((a) => a.includes("±")), adversarial.join());
  await screenshot(page, "runs-grouped-desktop");
  assert.deepEqual([...errors], []);
  await context.close();
});

test("compared runs overlay their training curves, and every figure downloads as SVG and PNG", async () => {
  const { runs } = await api("/api/runs?limit=3&status=done&dataset=mnist-sample");
  const ids = runs.slice(0, 3).map((r) => r.id);
  const { page, errors, context } = await open(lab, `/results?view=runs&compare=${ids.join(",")}`);
  const overlay = page.locator('img[src^="/api/plots/loss.svg?runs="]');
  await overlay.waitFor();
  await page.waitForLoadState("networkidle");
  assert.equal(await overlay.evaluate((img) => img.complete && img.naturalWidth), 760);
  const svg = await (await fetch(lab.base + await overlay.getAttribute("src"))).text();
  for (const id of ids) assert.ok(svg.includes(id), `the overlay's legend names ${id}`);
  const figure = page.locator("figure", { has: overlay });
  const [png] = await Promise.all([
    page.waitForEvent("download"),
    figure.getByRole("button", { name: "PNG" }).click(),
  ]);
  assert.equal(png.suggestedFilename(), "astute-training-loss.png");
  const bytes = readFileSync(await png.path());
  assert.equal(bytes.subarray(1, 4).toString(), "PNG");
  // Twice the SVG's 760 × 460.
  assert.deepEqual([bytes.readUInt32BE(16), bytes.readUInt32BE(20)], [1520, 920]);
  const [svgFile] = await Promise.all([
    page.waitForEvent("download"),
    figure.getByRole("link", { name: "SVG" }).click(),
  ]);
  assert.equal(svgFile.suggestedFilename(), "astute-training-loss.svg");
  assert.match(readFileSync(await svgFile.path(), "utf8"), /^<svg/);

  // The trade-off figure filters by dataset, network and method, and downloads too.
  await page.goto(`${lab.base}/results?view=plot`);
  await page.getByLabel("Dataset").selectOption("fashion-mnist");
  await page.waitForURL(/dataset=fashion-mnist/);
  const tradeoff = page.locator("object.plot");
  await page.waitForFunction(() => document.querySelector("object.plot")?.data.includes("dataset=fashion-mnist"));
  const drawn = await fetch(await tradeoff.evaluate((o) => o.data));
  assert.equal(drawn.status, 200);
  const [tradeoffPng] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: "PNG" }).click(),
  ]);
  assert.equal(tradeoffPng.suggestedFilename(), "astute-tradeoff.png");
  assert.deepEqual(errors, []);
  await context.close();
});

/** Queues `spec` with the lab's token and waits until its run is done; its id. */
async function finishedRun(spec) {
  const reply = await fetch(`${lab.base}/api/runs`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${lab.token}` },
    body: JSON.stringify(spec),
  });
  assert.equal(reply.status, 201, await reply.clone().text());
  const { id } = await reply.json();
  for (let i = 0; i < 1200; i++) {
    const { status } = await api(`/api/runs/${id}`);
    if (status === "done") return id;
    assert.ok(status === "queued" || status === "running", `run ${id} ended ${status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`run ${id} did not finish within two minutes`);
}

test("runs that did not train are marked in the runs table, on their page and in Table 2", async () => {
  // A learning rate of 1e-9 leaves the network as initialised: a classifier at chance.
  const id = await finishedRun({
    dataset: "mnist", architecture: "cnn2", method: "natural", epochs: 1, subset: 64, learning_rate: 1e-9,
  });
  const { page, errors, context } = await open(lab, `/results?view=runs&q=${encodeURIComponent("trained = no")}`);
  await page.locator("table.runs").waitFor();
  const stuck = await cells(page, "id").allTextContents();
  assert.ok(stuck.includes(id), `run ${id} is listed as not trained: ${stuck.join()}`);
  const trainAccuracies = (await cells(page, "train_acc").allTextContents()).map(Number);
  assert.ok(trainAccuracies.every((a) => a <= 15), trainAccuracies.join());
  await page.goto(`${lab.base}/runs/${id}`);
  await page.locator("p.untrained").getByText("did not train").first().waitFor();
  // Table 2's CNN2 natural row (MNIST) names the run and leaves it out of its means.
  await page.goto(`${lab.base}/results?table=2`);
  const notes = page.locator("table.paper-table th", { hasText: /did not train, left out/ });
  await notes.first().waitFor();
  assert.ok((await notes.count()) > 0);
  await page.locator("table.paper-table th a", { hasText: `run ${id}` }).waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test("the Paper page shows the findings board the API computes, and tables say how they were measured", async () => {
  const findings = await api("/api/findings");
  assert.ok(findings.length > 0);
  const { page, errors, context } = await open(lab, "/");
  const rows = page.locator("table.findings tbody tr");
  await rows.first().waitFor();
  assert.equal(await rows.count(), findings.length);
  const mark = (v) => (v.holds === null ? "–" : v.holds ? "✓" : "✗");
  const shown = await rows.evaluateAll((trs) => trs.map((tr) =>
    [...tr.querySelectorAll("td")].slice(2).map((td) => td.querySelector("strong").textContent)));
  assert.deepEqual(shown, findings.map((f) => [mark(f.measured), mark(f.paper)]));
  await page.goto(`${lab.base}/results?table=2`);
  await page.locator(".table-notes li", { hasText: "Test Lipschitz: Eq. (3)" }).waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test("failures are said in the page: a wrong filter, no token, the server unreachable", async () => {
  const { page, context } = await open(lab, "/results?view=runs&q=" + encodeURIComponent("adv_tst_acc > 5"));
  await page.getByRole("alert").filter({ hasText: "unknown field `adv_tst_acc`" }).waitFor();

  await page.goto(`${lab.base}/experiments?dataset=mnist&methods=natural&scale=smoke`);
  await page.getByRole("button", { name: "Launch" }).click();
  await page.getByRole("alert").filter({ hasText: "needs an access token" }).waitFor();

  await page.route("**/api/**", (route) => route.abort());
  await page.goto(`${lab.base}/results`);
  await page.getByText("server unreachable").waitFor();
  await page.getByRole("alert").filter({ hasText: "The Astute server is not answering" }).first().waitFor();
  await context.close();
});
