// How soon a first visit to the playground shows its first attack result, in headless
// Chromium with an empty cache: on localhost, then with the network throttled to
// 9 Mbit/s down, 40 ms latency (Chromium's DevTools throttling, which also covers the
// engine's worker). Prints, per condition and over REPEATS fresh visits, the median time
// from navigation to the first result card, to the engine's backend line, and the bytes
// the engine's files took on the wire (as encoded: brotli or gzip, whichever was sent).
// Run: `npm run bench:first-attack` (after `cargo xtask site`).

import { DESKTOP, startLab, stopLab } from "./harness.mjs";

const REPEATS = Number.parseInt(process.env.REPEATS ?? "3", 10);
const PATH = "/playground?d=mnist-sample&backend=cpu";
const CONDITIONS = [
  ["localhost", null],
  ["9 Mbit/s, 40 ms", { offline: false, latency: 40, downloadThroughput: 9e6 / 8, uploadThroughput: 9e6 / 8 }],
];

const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];

async function visit(lab, conditions) {
  const context = await lab.browser.newContext({ viewport: DESKTOP });
  const page = await context.newPage();
  const session = await context.newCDPSession(page);
  await session.send("Network.enable");
  if (conditions) await session.send("Network.emulateNetworkConditions", conditions);
  // Requests of the page and of its dedicated worker (Playwright reports both on the page).
  const engineBytes = [];
  page.on("requestfinished", async (request) => {
    if (/\/assets\/engine/.test(request.url())) {
      const sizes = await request.sizes();
      engineBytes.push(sizes.responseBodySize + sizes.responseHeadersSize);
    }
  });
  const started = Date.now();
  await page.goto(lab.base + PATH);
  await page.locator("p.backend[data-backend]").waitFor({ timeout: 300_000 });
  const engine = Date.now() - started;
  await page.locator("article.outcome").first().waitFor({ timeout: 300_000 });
  const first = Date.now() - started;
  await context.close();
  return { engine, first, bytes: engineBytes.reduce((a, b) => a + b, 0), files: engineBytes.length };
}

const lab = await startLab();
try {
  for (const [name, conditions] of CONDITIONS) {
    const visits = [];
    for (let i = 0; i < REPEATS; i++) visits.push(await visit(lab, conditions));
    console.log(
      `${name}: first attack result ${(median(visits.map((v) => v.first)) / 1000).toFixed(2)} s, ` +
        `engine running ${(median(visits.map((v) => v.engine)) / 1000).toFixed(2)} s ` +
        `(median of ${REPEATS} cold visits); engine bytes on the wire ${(median(visits.map((v) => v.bytes)) / 1e6).toFixed(2)} MB in ${visits[0].files} files`,
    );
  }
} finally {
  await stopLab(lab);
}
