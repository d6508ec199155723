// What the browser tests share: a real `astute serve` on a fresh store (with the shipped
// results, a tiny MNIST for quick runs, and Debian's Fashion-MNIST), a token, and Debian's
// headless Chromium driven by playwright-core. Nothing is downloaded.

import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

export const root = resolve(import.meta.dirname, "../..");
export const binary = process.env.ASTUTE_BIN ?? join(root, "target/debug/astute");
const site = process.env.ASTUTE_SITE_DIR ?? join(root, "target/site");
export const screenshots = join(root, "target/screenshots");

export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };

/** An IDX file: the magic number, the dimensions, then the bytes. */
function idx(magic, dims, bytes) {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(bytes)]);
}

/** A tiny MNIST in the official files: `count` images whose label is i mod 10, each a bright
 *  band in a row of its own, so a model learns it in one epoch. */
function tinyMnist(dir, name, count) {
  const pixels = new Uint8Array(count * 784);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = i % 10;
    const row = 2 + 2 * labels[i];
    for (let x = 4; x < 24; x++) pixels[i * 784 + row * 28 + x] = 255;
  }
  writeFileSync(join(dir, `${name}-images-idx3-ubyte`), idx(0x803, [count, 28, 28], pixels));
  writeFileSync(join(dir, `${name}-labels-idx1-ubyte`), idx(0x801, [count], labels));
}

async function freePort() {
  return new Promise((done) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => done(port));
    });
  });
}

/** Chromium's flags for WebGPU on a machine without a GPU: SwiftShader's software Vulkan. */
export const WEBGPU_FLAGS = [
  "--enable-unsafe-webgpu", "--enable-features=Vulkan", "--use-vulkan=swiftshader",
  "--use-webgpu-adapter=swiftshader", "--enable-unsafe-swiftshader",
];

/** `webgpu`: start Chromium with WebGPU enabled (software adapter) instead of no GPU at all. */
export async function startLab({ webgpu = false } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "astute-browser-"));
  const mnist = join(dir, "data/mnist");
  mkdirSync(mnist, { recursive: true });
  tinyMnist(mnist, "train", 200);
  tinyMnist(mnist, "t10k", 50);
  const store = ["--state-dir", join(dir, "state")];
  const token = execFileSync(binary, ["token", "create", ...store]).toString().trim();
  const port = await freePort();
  const server = spawn(binary, [
    "serve", "--addr", `127.0.0.1:${port}`, "--site", site,
    "--data-dir", join(dir, "data"), "--eval-train", "64",
    "--read-rate", "0", "--write-rate", "0", ...store,
  ], { stdio: ["ignore", "inherit", "inherit"] });
  const base = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${base}/api/health`)).ok) break;
      } catch {}
      if (i > 300) throw new Error("astute serve did not start within 30 s");
      await new Promise((r) => setTimeout(r, 100));
    }
    return { base, token, browser: await launchChromium(webgpu ? WEBGPU_FLAGS : ["--disable-gpu"]), server };
  } catch (error) {
    server.kill("SIGTERM");
    throw error;
  }
}

/** Debian's Chromium, headless, with nothing that reaches for the network. */
function launchChromium(gpuFlags) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", ...gpuFlags,
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--no-first-run", "--disable-quic",
    ],
  });
}

export async function stopLab(lab) {
  await lab.browser.close();
  lab.server.kill("SIGTERM");
}

/** A page at `viewport` that records console errors and failed page errors. */
export async function open(lab, path, viewport = DESKTOP) {
  const context = await lab.browser.newContext({ viewport, acceptDownloads: true });
  const page = await context.newPage();
  const errors = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(lab.base + path);
  await page.waitForSelector("main#main");
  return { page, errors, context };
}

export async function screenshot(page, name) {
  mkdirSync(screenshots, { recursive: true });
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
}
