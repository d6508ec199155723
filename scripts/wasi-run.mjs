// Runs a wasm32-wasip1 program (a test binary) under Node's WASI, as a cargo runner:
// CARGO_TARGET_WASM32_WASIP1_RUNNER="node --experimental-wasi-unstable-preview1 scripts/wasi-run.mjs"
// (the flag is needed by Node 18 and ignored by later versions).
import { readFile } from "node:fs/promises";
import { argv, env, exit } from "node:process";
import { WASI } from "node:wasi";

const [program, ...args] = argv.slice(2);
const wasi = new WASI({ version: "preview1", args: [program, ...args], env, returnOnExit: true });
const module = await WebAssembly.compile(await readFile(program));
// `wasiImport` rather than `getImportObject()`: the older Node of Debian 12 has only it.
const instance = await WebAssembly.instantiate(module, { wasi_snapshot_preview1: wasi.wasiImport });
exit(wasi.start(instance));
