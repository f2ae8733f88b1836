/**
 * The runtime half of `npm run bench` (scripts/bench.ts is the analyzer half): the catalog's
 * attention workloads and one ViT-B/16 attention layer (scripts/bench-runtime/workloads.ts) on our backends — `cpu` (WASM SIMD),
 * `cpuReference` (plain TypeScript) and WebGPU — side by side with onnxruntime-web (wasm and
 * webgpu execution providers, the same work as ONNX models built from our weights) and
 * TensorFlow.js (wasm and webgpu backends, the same work as tf ops), all in this one process.
 * Every framework gets the same inputs and weights; each column's output is compared with our
 * `cpu` result (max abs diff, printed) so a fast wrong answer cannot pass. Times are medians of
 * `--reps` timed calls after `--warmup` untimed ones; every timed call includes reading the
 * result back to the host (`dataSync()`/`data()`, ORT's CPU output tensors), so GPU columns pay
 * the same readback. Order matters because of Dawn's trap (it can crash or hang when tens of
 * milliseconds of busy JavaScript run between GPU calls): every workload is built, and every
 * ONNX model encoded, before Dawn is loaded; the CPU columns run first; the WebGPU columns run
 * afterwards, each framework with its own device on an adapter of one `navigator.gpu`
 * (lavapipe here; its description is printed per framework); the agreement check runs after
 * the GPU work. Within each phase the frameworks are interleaved: per workload, every round
 * runs each framework once (in a rotated order), so a change of the machine's load falls on all
 * of them, and the speed-up ratios are medians of per-round ratios (peer ms / our ms in the
 * same round). `cpuReference` is slow and runs alone. Our forward passes run in the
 * runtime's `tidy`, as tfjs's do in `tf.tidy`: on both backends the intermediates go back to
 * the pool and are reused next run. onnxruntime-web's webgpu EP writes uploads from its shared wasm memory, which Dawn's `writeBuffer` rejects, so
 * `GPUQueue.prototype.writeBuffer` is shimmed to copy shared views into plain memory first.
 * Single-threaded everywhere (ORT `numThreads = 1`, tfjs-wasm one thread): our CPU backend is.
 * A column that cannot run prints `n/a (reason)`. Prints a table and writes
 * test-results/bench-runtime.json.
 * With `--webgpu-only` only the WebGPU columns and our `cpu` one (the agreement reference) run.
 * The load average
 * (/proc/loadavg) at the start and the end is printed and written, since a loaded machine
 * moves the times (less the ratios); so are ours-webgpu's dispatches, buffers
 * created and submits of one forward.
 *   tsx scripts/bench-runtime.ts [--reps N] [--warmup N] [--only attention,mha,sagan,nonlocal,vit] [--webgpu-only]
 */

/// <reference types="@webgpu/types" />

import * as fs from 'node:fs';
import * as path from 'node:path';
import { cpu, cpuReference, tidy, type Backend, type Tensor } from '../src/runtime/index';
import { requestDeviceFrom, WebGpuBackend } from '../src/runtime/webgpu/backend';
import { webgpuEnv } from '../src/runtime/webgpu/node';
import { ONNX_MODELS } from './bench-runtime/onnx-models';
import { TFJS_MODELS } from './bench-runtime/tfjs-models';
import { WORKLOADS, type Workload, type WorkloadId, type WorkloadInstance } from './bench-runtime/workloads';

type Ort = typeof import('onnxruntime-web');
type Tf = typeof import('@tensorflow/tfjs-core');

const COLUMNS = ['ours-cpu', 'ours-cpuReference', 'ort-wasm', 'tfjs-wasm', 'ours-webgpu', 'ort-webgpu', 'tfjs-webgpu'] as const;
type Column = (typeof COLUMNS)[number];
const GPU_PEERS: Column[] = ['ort-webgpu', 'tfjs-webgpu'];
const TOLERANCE = 1e-3;

interface Cell {
  ms: number | null;
  runsMs?: number[];
  maxAbsDiff?: number;
  error?: string;
  /** The output, kept until the agreement check. */
  out?: Float32Array;
  /** Ours on WebGPU: what one forward (after the timed ones) recorded, created and submitted. */
  perForward?: { dispatches: number; buffersCreated: number; pipelines: number; submits: number };
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const REPS = Number(arg('--reps', '7'));
const WARMUP = Number(arg('--warmup', '2'));
const ONLY = arg('--only', '').split(',').filter(Boolean);
const WEBGPU_ONLY = process.argv.includes('--webgpu-only');
const REPO = path.resolve(__dirname, '..');
const work: Workload[] = WORKLOADS.filter((w) => !ONLY.length || ONLY.includes(w.id));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Warm-up calls, then `reps` timed ones; each call ends with the result on the host. */
async function measure(call: () => Promise<Float32Array> | Float32Array, reps = REPS): Promise<Cell> {
  let out: Float32Array = new Float32Array(0);
  for (let i = 0; i < WARMUP; i++) out = await call();
  const runsMs: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    out = await call();
    runsMs.push(performance.now() - t0);
  }
  return { ms: median(runsMs), runsMs: runsMs.map((t) => Math.round(t * 100) / 100), out };
}

async function guarded(label: string, fn: () => Promise<Cell>): Promise<Cell> {
  try {
    const c = await fn();
    process.stderr.write(`  ${label}: ${c.ms?.toFixed(1)} ms\n`);
    return c;
  } catch (e) {
    const msg = ((e as Error).message ?? String(e)).split('\n')[0].slice(0, 160);
    process.stderr.write(`  ${label}: failed: ${msg}\n`);
    return { ms: null, error: msg };
  }
}

// ---------------------------------------------------------------------------------------------
// Our backends

/**
 * One forward pass on a backend, read back, in `tidy` (as tf.tidy for tfjs): the intermediates
 * go back to the backend's pool when the forward returns, the result after its readback, so
 * every later run reuses the same CPU arrays and GPU buffers.
 */
async function oursOnce(run: () => Tensor, dev: Backend): Promise<Float32Array> {
  const y = tidy(run);
  const data = dev === cpu || dev === cpuReference ? y.dataSync() : await y.data();
  y.dispose();
  return data;
}

// ---------------------------------------------------------------------------------------------
// onnxruntime-web

function ortFeeds(ort: Ort, w: WorkloadInstance): Record<string, InstanceType<Ort['Tensor']>> {
  const feeds: Record<string, InstanceType<Ort['Tensor']>> = {};
  for (const [k, v] of Object.entries(w.inputs)) feeds[k] = new ort.Tensor('float32', v.data, [...v.shape]);
  return feeds;
}

/** An ONNX session on `ep` for workload `w`, as a contender. */
async function ortContender(ort: Ort, column: Column, ep: 'wasm' | 'webgpu', w: WorkloadInstance, model: Uint8Array, output: string): Promise<Contender> {
  const session = await ort.InferenceSession.create(model, { executionProviders: [ep], graphOptimizationLevel: 'all' });
  const feeds = ortFeeds(ort, w);
  return {
    column,
    call: async () => {
      const r = await session.run(feeds);
      const data = Float32Array.from((await r[output].getData()) as Float32Array);
      for (const v of Object.values(r)) v.dispose();
      return data;
    },
    close: () => session.release(),
  };
}

// ---------------------------------------------------------------------------------------------
// TensorFlow.js

/** Workload `w` as tf ops on tfjs's current backend, as a contender. */
function tfContender(tf: Tf, column: Column, w: Workload['id'], inst: WorkloadInstance): Contender {
  const m = TFJS_MODELS[w](inst);
  return {
    column,
    call: async () => {
      const y = tf.tidy(() => m.run());
      const data = (await y.data()) as Float32Array;
      y.dispose();
      return data;
    },
    post: (out) => m.toTorchLayout(out),
    close: () => m.dispose(),
  };
}

// ---------------------------------------------------------------------------------------------
// Interleaved timing

/** One framework's forward on one workload: a call that ends with the result on the host. */
interface Contender {
  column: Column;
  call: () => Promise<Float32Array>;
  /** Maps the output to torch's layout for the agreement check. */
  post?: (out: Float32Array) => Float32Array;
  close?: () => Promise<void> | void;
}

/**
 * Times the contenders of one workload round-robin: `WARMUP` untimed rounds, then `REPS` timed
 * rounds in which every contender runs once, in an order rotated each round. A change in the
 * machine's load during the run then falls on every column alike, and round i of one column can
 * be paired with round i of another (`ratio`). A contender that throws is dropped with
 * its error; the others go on.
 */
async function interleaved(workload: string, contenders: Contender[]): Promise<Partial<Record<Column, Cell>>> {
  const cells: Partial<Record<Column, Cell>> = {};
  const live = new Map(contenders.map((c) => [c.column, c]));
  const runs = new Map<Column, number[]>(contenders.map((c) => [c.column, []]));
  const outs = new Map<Column, Float32Array>();
  const once = async (c: Contender, timed: boolean) => {
    try {
      const t0 = performance.now();
      const out = await c.call();
      const ms = performance.now() - t0;
      if (timed) runs.get(c.column)!.push(ms);
      outs.set(c.column, out);
    } catch (e) {
      const msg = ((e as Error).message ?? String(e)).split('\n')[0].slice(0, 160);
      process.stderr.write(`  ${workload} ${c.column}: failed: ${msg}\n`);
      cells[c.column] = { ms: null, error: msg };
      live.delete(c.column);
    }
  };
  for (let round = 0; round < WARMUP + REPS; round++) {
    const order = [...live.values()];
    const k = order.length ? round % order.length : 0;
    for (const c of [...order.slice(k), ...order.slice(0, k)]) await once(c, round >= WARMUP);
  }
  for (const c of contenders) {
    if (live.has(c.column)) {
      const runsMs = runs.get(c.column)!;
      const out = outs.get(c.column)!;
      cells[c.column] = { ms: median(runsMs), runsMs: runsMs.map((t) => Math.round(t * 100) / 100), out: c.post ? c.post(out) : out };
      process.stderr.write(`  ${workload} ${c.column}: ${cells[c.column]!.ms!.toFixed(1)} ms\n`);
    }
    try {
      await c.close?.();
    } catch {
      // A failed release loses nothing the table needs.
    }
  }
  return cells;
}

/** A contender set up by `make`, or the error it failed with, as a cell. */
async function prepare(set: (c: Column, cell: Cell) => void, column: Column, make: () => Contender | Promise<Contender>): Promise<Contender[]> {
  try {
    return [await make()];
  } catch (e) {
    set(column, { ms: null, error: ((e as Error).message ?? String(e)).split('\n')[0].slice(0, 160) });
    return [];
  }
}

// ---------------------------------------------------------------------------------------------
// WebGPU in Node

type WriteData = Parameters<GPUQueue['writeBuffer']>[2];

interface DawnModule {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}

/** Loads Dawn, exposes `navigator.gpu` and the GPU* globals, and installs the shared-memory writeBuffer shim. */
function installNavigatorGpu(): GPU {
  const env = webgpuEnv();
  if (env.VK_ICD_FILENAMES) process.env.VK_ICD_FILENAMES = env.VK_ICD_FILENAMES;
  if (env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = env.XDG_RUNTIME_DIR;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dawn = require('webgpu') as DawnModule;
  for (const [k, v] of Object.entries(dawn.globals)) if (!(k in globalThis)) Object.assign(globalThis, { [k]: v });
  const gpu = dawn.create(['backend=vulkan']);
  const nav = (globalThis as { navigator?: object }).navigator;
  if (nav) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true });
  const queue = (dawn.globals.GPUQueue as { prototype: GPUQueue }).prototype;
  const write = queue.writeBuffer;
  queue.writeBuffer = function (this: GPUQueue, buffer: GPUBuffer, offset: number, data: WriteData, dataOffset?: number, size?: number) {
    const view = ArrayBuffer.isView(data) ? data : null;
    if (view && view.buffer instanceof SharedArrayBuffer) {
      // Dawn refuses views of shared memory; ORT's wasm heap is one. Copy the bytes the call names.
      const unit = 'BYTES_PER_ELEMENT' in view ? (view as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT : 1;
      const start = view.byteOffset + (dataOffset ?? 0) * unit;
      const bytes = size !== undefined ? size * unit : view.byteLength - (dataOffset ?? 0) * unit;
      const copy = new Uint8Array(bytes);
      copy.set(new Uint8Array(view.buffer, start, bytes));
      return write.call(this, buffer, offset, copy, 0, bytes);
    }
    return write.call(this, buffer, offset, data, dataOffset, size);
  } as GPUQueue['writeBuffer'];
  return gpu;
}

function describe(info: GPUAdapterInfo | undefined): string {
  if (!info) return 'unknown adapter';
  return `${info.vendor} ${info.architecture} ${info.description || info.device}`.replace(/\s+/g, ' ').trim();
}

// ---------------------------------------------------------------------------------------------

/** A table cell: the median, or `n/a [k]` / `ms [k]!` with note k giving the reason it does not count. */
function fmt(c: Cell | undefined, notes: string[]): string {
  if (!c) return 'n/a';
  if (!c.error) return c.ms!.toFixed(1);
  let k = notes.indexOf(c.error);
  if (k < 0) k = notes.push(c.error) - 1;
  return c.ms === null ? `n/a [${k + 1}]` : `${c.ms.toFixed(1)} [${k + 1}]!`;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function main(): Promise<void> {
  const table = new Map<WorkloadId, Partial<Record<Column, Cell>>>();
  const adapters: Partial<Record<Column, string>> = {};
  for (const w of work) table.set(w.id, {});
  const set = (w: WorkloadId, c: Column, cell: Cell) => (table.get(w)![c] = cell);

  // Everything busy is built before Dawn loads: one instance per backend that runs it.
  const built = new Map<WorkloadId, { cpu: WorkloadInstance; ref: WorkloadInstance; gpu: WorkloadInstance; onnx: { model: Uint8Array; output: string } }>();
  for (const w of work) {
    const inst = w.build();
    built.set(w.id, { cpu: inst, ref: w.build(), gpu: w.build(), onnx: ONNX_MODELS[w.id](inst) });
  }

  const setter = (w: WorkloadId) => (c: Column, cell: Cell) => set(w, c, cell);
  const merge = (w: WorkloadId, cells: Partial<Record<Column, Cell>>) => {
    for (const [c, cell] of Object.entries(cells) as [Column, Cell][]) set(w, c, cell);
  };

  let ortWasm: Ort | null = null;
  let ortWasmError: string | null = WEBGPU_ONLY ? 'skipped (--webgpu-only)' : null;
  if (!ortWasmError) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      ortWasm = require('onnxruntime-web') as Ort;
      ortWasm.env.wasm.numThreads = 1;
      ortWasm.env.logLevel = 'error';
    } catch (e) {
      ortWasmError = `cannot load onnxruntime-web: ${(e as Error).message}`;
    }
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const tf = require('@tensorflow/tfjs-core') as Tf;
  tf.env().set('PROD', true);
  let tfWasmError: string | null = WEBGPU_ONLY ? 'skipped (--webgpu-only)' : null;
  if (!tfWasmError) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const wasmBackend = require('@tensorflow/tfjs-backend-wasm') as { setThreadsCount(n: number): void };
      wasmBackend.setThreadsCount(1);
      if (!(await tf.setBackend('wasm'))) tfWasmError = 'tf.setBackend("wasm") failed';
    } catch (e) {
      tfWasmError = (e as Error).message;
    }
  }

  process.stderr.write(`CPU columns, interleaved (${REPS} rounds after ${WARMUP} warm-up${REPS > 3 ? '; cpuReference alone, 3 reps' : ''})\n`);
  for (const w of work) {
    const b = built.get(w.id)!;
    const run = b.cpu.on(cpu);
    const contenders: Contender[] = [{ column: 'ours-cpu', call: async () => oursOnce(run, cpu) }];
    if (ortWasm) contenders.push(...(await prepare(setter(w.id), 'ort-wasm', () => ortContender(ortWasm!, 'ort-wasm', 'wasm', b.cpu, b.onnx.model, b.onnx.output))));
    else set(w.id, 'ort-wasm', { ms: null, error: ortWasmError! });
    if (!tfWasmError) contenders.push(...(await prepare(setter(w.id), 'tfjs-wasm', () => tfContender(tf, 'tfjs-wasm', w.id, b.cpu))));
    else set(w.id, 'tfjs-wasm', { ms: null, error: tfWasmError });
    merge(w.id, await interleaved(w.id, contenders));
    if (WEBGPU_ONLY) continue;
    const ref = b.ref.on(cpuReference);
    set(w.id, 'ours-cpuReference', await guarded(`${w.id} ours-cpuReference`, () => measure(() => oursOnce(ref, cpuReference), Math.min(REPS, 3))));
  }

  process.stderr.write('WebGPU columns, interleaved\n');
  let gpu: GPU | null = null;
  try {
    gpu = installNavigatorGpu();
  } catch (e) {
    for (const w of work) for (const c of ['ours-webgpu', 'ort-webgpu', 'tfjs-webgpu'] as const) set(w.id, c, { ms: null, error: `no WebGPU: ${(e as Error).message}` });
  }

  if (gpu) {
    // Ours: a device of our own on an adapter of the shared navigator.gpu.
    let backend: WebGpuBackend | null = null;
    let device: GPUDevice | null = null;
    let oursError: string | null = null;
    try {
      const adapter = await gpu.requestAdapter();
      if (!adapter) throw new Error('requestAdapter() returned null');
      adapters['ours-webgpu'] = describe(adapter.info);
      device = await requestDeviceFrom(adapter);
      backend = new WebGpuBackend(device, { adapter: adapters['ours-webgpu'] });
    } catch (e) {
      oursError = (e as Error).message.slice(0, 160);
    }
    // onnxruntime-web's webgpu bundle (JSEP); it requests its own adapter and device from navigator.gpu.
    let ortGpu: Ort | null = null;
    let ortGpuError: string | null = null;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      ortGpu = require('onnxruntime-web/webgpu') as Ort;
      ortGpu.env.wasm.numThreads = 1;
      ortGpu.env.logLevel = 'error';
    } catch (e) {
      ortGpuError = (e as Error).message.slice(0, 160);
    }
    // TensorFlow.js webgpu backend; it too requests its adapter from navigator.gpu.
    let tfGpuError: string | null = null;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require('@tensorflow/tfjs-backend-webgpu');
      if (!(await tf.setBackend('webgpu'))) throw new Error('tf.setBackend("webgpu") failed');
      const be = tf.backend() as unknown as { adapterInfo?: { vendor?: string; architecture?: string }; device?: GPUDevice };
      adapters['tfjs-webgpu'] = be.device?.adapterInfo ? describe(be.device.adapterInfo) : `${be.adapterInfo?.vendor ?? '?'} ${be.adapterInfo?.architecture ?? ''}`.trim();
    } catch (e) {
      tfGpuError = (e as Error).message.slice(0, 160);
    }

    for (const w of work) {
      const b = built.get(w.id)!;
      const contenders: Contender[] = [];
      const run = backend ? b.gpu.on(backend) : null;
      if (backend && run) {
        contenders.push({ column: 'ours-webgpu', call: () => oursOnce(run, backend) });
      } else set(w.id, 'ours-webgpu', { ms: null, error: oursError ?? 'no device' });
      if (ortGpu) contenders.push(...(await prepare(setter(w.id), 'ort-webgpu', () => ortContender(ortGpu!, 'ort-webgpu', 'webgpu', b.cpu, b.onnx.model, b.onnx.output))));
      else set(w.id, 'ort-webgpu', { ms: null, error: ortGpuError! });
      if (!tfGpuError) contenders.push(...(await prepare(setter(w.id), 'tfjs-webgpu', () => tfContender(tf, 'tfjs-webgpu', w.id, b.cpu))));
      else set(w.id, 'tfjs-webgpu', { ms: null, error: tfGpuError });
      merge(w.id, await interleaved(w.id, contenders));
      if (ortGpu && !adapters['ort-webgpu']) {
        const dev = (await ortGpu.env.webgpu.device) as GPUDevice | undefined;
        if (dev) adapters['ort-webgpu'] = describe(dev.adapterInfo);
      }
      const cell = table.get(w.id)!['ours-webgpu'];
      if (backend && run && cell && !cell.error) {
        const s0 = { ...backend.stats };
        await oursOnce(run, backend);
        const s1 = backend.stats;
        cell.perForward = { dispatches: s1.dispatches - s0.dispatches, buffersCreated: s1.buffersCreated - s0.buffersCreated, pipelines: s1.pipelines - s0.pipelines, submits: s1.submits - s0.submits };
      }
    }
    backend?.trim();
    device?.destroy();
  }

  // Agreement with our CPU result, after all GPU work.
  for (const w of work) {
    const row = table.get(w.id)!;
    const ref = row['ours-cpu']?.out;
    for (const c of COLUMNS) {
      const cell = row[c];
      if (!cell) continue;
      if (ref && cell.out) cell.maxAbsDiff = maxAbsDiff(ref, cell.out);
      delete cell.out;
      if (cell.maxAbsDiff !== undefined && !(cell.maxAbsDiff < TOLERANCE)) {
        cell.error = `output differs from ours-cpu by ${cell.maxAbsDiff.toExponential(2)}`;
      }
    }
  }

  report(table, adapters);
}

/** The load average over 1, 5 and 15 minutes, or null where /proc/loadavg does not exist. */
function loadAverage(): number[] | null {
  try {
    return fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
  } catch {
    return null;
  }
}

const LOAD_AT_START = loadAverage();

/**
 * How much faster ours is than `peer`: the median over rounds of peer ms / our ms in the same
 * round when both were timed in the same interleaved rounds, else the ratio of the medians.
 */
function ratio(peer: Cell | undefined, ours: Cell | undefined): number | null {
  if (!peer?.ms || !ours?.ms) return null;
  const a = peer.runsMs;
  const b = ours.runsMs;
  if (a && b && a.length === b.length && a.length > 0 && b.every((t) => t > 0)) return median(a.map((t, i) => t / b[i]));
  return peer.ms / ours.ms;
}

function report(table: Map<WorkloadId, Partial<Record<Column, Cell>>>, adapters: Partial<Record<Column, string>>): void {
  const out: string[] = [];
  out.push('');
  out.push(`Runtime benchmark: median ms of ${REPS} reps after ${WARMUP} warm-up (cpuReference: ${Math.min(REPS, 3)} reps), readback included`);
  for (const c of ['ours-webgpu', 'ort-webgpu', 'tfjs-webgpu'] as const) out.push(`  ${c.padEnd(12)} adapter: ${adapters[c] ?? 'n/a'}`);
  const w0 = 32;
  const cw = 19;
  const notes: string[] = [];
  out.push('');
  out.push('workload'.padEnd(w0) + COLUMNS.map((c) => c.padStart(cw)).join(''));
  for (const w of work) {
    const row = table.get(w.id)!;
    out.push(w.name.padEnd(w0) + COLUMNS.map((c) => fmt(row[c], notes).padStart(cw)).join(''));
  }
  notes.forEach((n, i) => out.push(`  [${i + 1}] ${n}`));
  out.push('');
  out.push('max |x - ours-cpu| (agreement; must be < 1e-3)');
  for (const w of work) {
    const row = table.get(w.id)!;
    out.push(w.name.padEnd(w0) + COLUMNS.map((c) => (row[c]?.maxAbsDiff !== undefined ? row[c]!.maxAbsDiff!.toExponential(1) : '-').padStart(cw)).join(''));
  }
  out.push('');
  out.push('speed-up of ours (median over interleaved rounds of peer ms / our ms; > 1 means ours is faster)');
  const ratioCols = ['cpu vs ort-wasm', 'cpu vs tfjs-wasm', 'gpu vs ort-webgpu', 'gpu vs tfjs-webgpu', 'gpu vs best GPU peer'];
  out.push(''.padEnd(w0) + ratioCols.map((c) => c.padStart(22)).join(''));
  const goals: Record<string, { ourWebgpuVsBestWebgpuPeer: number | null; bestWebgpuPeer: string | null; ourCpuVsOrtWasm: number | null; webgpuGoalMet: boolean; cpuGoalMet: boolean }> = {};
  const rows: Record<string, unknown>[] = [];
  for (const w of work) {
    const row = table.get(w.id)!;
    const valid = (c: Column) => (row[c]?.ms !== null && row[c]?.ms !== undefined && !row[c]!.error ? row[c] : undefined);
    const gpuPeers = GPU_PEERS.filter((c) => valid(c)).sort((a, b) => row[a]!.ms! - row[b]!.ms!);
    const best = gpuPeers[0] ?? null;
    const r = {
      cpuVsOrtWasm: ratio(valid('ort-wasm'), valid('ours-cpu')),
      cpuVsTfjsWasm: ratio(valid('tfjs-wasm'), valid('ours-cpu')),
      gpuVsOrtWebgpu: ratio(valid('ort-webgpu'), valid('ours-webgpu')),
      gpuVsTfjsWebgpu: ratio(valid('tfjs-webgpu'), valid('ours-webgpu')),
      gpuVsBestGpuPeer: best ? ratio(valid(best), valid('ours-webgpu')) : null,
    };
    out.push(w.name.padEnd(w0) + Object.values(r).map((v) => (v === null ? 'n/a' : `×${v.toFixed(2)}`).padStart(22)).join(''));
    goals[w.id] = {
      ourWebgpuVsBestWebgpuPeer: r.gpuVsBestGpuPeer,
      bestWebgpuPeer: best,
      ourCpuVsOrtWasm: r.cpuVsOrtWasm,
      webgpuGoalMet: (r.gpuVsBestGpuPeer ?? 0) >= 2,
      cpuGoalMet: (r.cpuVsOrtWasm ?? 0) >= 1,
    };
    rows.push({ id: w.id, workload: w.name, columns: row, ratios: r });
  }
  out.push('');
  out.push('ours-webgpu, one forward: dispatches, GPU buffers created, pipelines compiled, submits');
  for (const w of work) {
    const p = table.get(w.id)!['ours-webgpu']?.perForward;
    out.push(`  ${w.name.padEnd(w0)} ${p ? `${p.dispatches} dispatches, ${p.buffersCreated} buffers created, ${p.pipelines} pipelines, ${p.submits} submits` : 'n/a'}`);
  }
  const loadAtEnd = loadAverage();
  out.push(`load average (1, 5, 15 min): ${LOAD_AT_START?.join(' ') ?? 'n/a'} at the start, ${loadAtEnd?.join(' ') ?? 'n/a'} at the end`);
  out.push('');
  out.push('goals: our WebGPU ≥ 2× the best WebGPU peer; our CPU ≥ 1× onnxruntime-web wasm');
  for (const w of work) {
    const g = goals[w.id];
    const f = (v: number | null) => (v === null ? 'n/a' : `×${v.toFixed(2)}`);
    out.push(`  ${w.name.padEnd(w0)} webgpu ${f(g.ourWebgpuVsBestWebgpuPeer)} vs ${g.bestWebgpuPeer ?? 'n/a'} ${g.webgpuGoalMet ? 'met' : 'NOT met'};  cpu ${g.ourCpuVsOrtWasm === null ? 'not measured' : `${f(g.ourCpuVsOrtWasm)} vs ort-wasm ${g.cpuGoalMet ? 'met' : 'NOT met'}`}`);
  }
  process.stdout.write(out.join('\n') + '\n');

  const dir = path.join(REPO, 'test-results');
  fs.mkdirSync(dir, { recursive: true });
  const json = {
    date: new Date().toISOString(),
    node: process.version,
    reps: REPS,
    warmup: WARMUP,
    loadAverage: { start: LOAD_AT_START, end: loadAtEnd },
    tolerance: TOLERANCE,
    adapters,
    versions: versions(),
    workloads: rows,
    goals,
  };
  fs.writeFileSync(path.join(dir, 'bench-runtime.json'), JSON.stringify(json, null, 2) + '\n');
  process.stdout.write(`wrote ${path.relative(REPO, path.join(dir, 'bench-runtime.json'))}\n`);
}

function versions(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of ['onnxruntime-web', '@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-webgpu', 'webgpu']) {
    try {
      out[p] = (JSON.parse(fs.readFileSync(path.join(REPO, 'node_modules', p, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      out[p] = 'missing';
    }
  }
  return out;
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench-runtime failed: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
