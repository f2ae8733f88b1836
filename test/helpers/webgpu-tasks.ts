/**
 * The tasks the WebGPU child process (`webgpu-child.ts`) runs on its device:
 * each an exported async function taking and returning structured-cloneable
 * values. They upload, dispatch and read back; they never compute references
 * (those run in the test process, away from Dawn). Kernels are run directly
 * through the backend with the views the test describes, so a strided,
 * broadcast or offset input reaches the kernel exactly as the tensor core
 * would pass it.
 */

import type { DType, OutputSpec, TensorView } from '../../src/runtime/backend';
import { getBlock, concreteShapes, resolveParams } from '../../src/blocks/catalog';
import { arange, copyStorage, full, Generator, randn, tensor, tidy, TorchError, writeStorage, zeros, type Tensor } from '../../src/runtime/index';
import { instantiateBlock } from '../../src/twins/registry';
import { getKernel } from '../../src/runtime/kernels/registry';
import type { WebGpuBackend } from '../../src/runtime/webgpu/backend';
import { createNodeWebGpuBackend } from '../../src/runtime/webgpu/node';
import { CASES, EINOPS_CASES, SDPA_CASES } from './op-cases';
import * as fs from 'node:fs';
import { moveValue } from '../../src/interpret/index';
import { parseSafetensors } from '../../src/runtime/index';
import { capturingMaps, harnessCases, outputsOf, outputTensor, prepareCase, problemOf, type OutputValues } from './realstyle';

/** An input view as the test describes it: the whole storage plus shape, strides and offset. */
export interface ViewData {
  readonly data: Float32Array;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  readonly dtype: DType;
}

export interface KernelResult {
  readonly outputs: { shape: readonly number[]; dtype: DType; data: Float32Array }[];
}

let backend: Promise<WebGpuBackend> | null = null;

function gpu(): Promise<WebGpuBackend> {
  backend ??= createNodeWebGpuBackend();
  return backend;
}

/** The adapter's name and the limits the backend checks. */
export async function adapterInfo(): Promise<{ adapter: string; limits: Record<string, number> }> {
  const b = await gpu();
  const l = b.limits;
  return {
    adapter: b.adapter,
    limits: {
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
    },
  };
}

/** Runs one kernel of the registry on views of uploaded storages and reads every output back. */
export async function runKernel(name: string, inputs: readonly ViewData[], attrs: unknown): Promise<KernelResult> {
  const b = await gpu();
  const kernel = getKernel(name);
  const views: TensorView[] = inputs.map((v) => ({ storage: b.upload(v.data), shape: v.shape, strides: v.strides, offset: v.offset, dtype: v.dtype }));
  try {
    const specs: OutputSpec[] = kernel.outputs(views, attrs);
    const outs = b.run(kernel, views, attrs, specs);
    const data = await Promise.all(outs.map((s) => b.read(s)));
    outs.forEach((s) => b.release(s));
    return { outputs: specs.map((s, i) => ({ shape: s.shape, dtype: s.dtype, data: data[i] })) };
  } finally {
    views.forEach((v) => b.release(v.storage));
  }
}

/** What an op case gave on the device: its outputs, or the kind of TorchError it raised. */
export interface OpCaseResult {
  readonly outputs?: { shape: readonly number[]; dtype: DType; data: Float32Array }[];
  readonly error?: { kind: string; message: string };
}

/**
 * Runs the op case `id` of `op-cases.ts` through the tensor API on the WebGPU backend, on
 * inputs the test read from torch's goldens, and reads every output back.
 */
export async function runOpCase(id: string, inputs: readonly { data: Float32Array; shape: readonly number[]; dtype: DType }[]): Promise<OpCaseResult> {
  const b = await gpu();
  const c = [...CASES, ...SDPA_CASES, ...EINOPS_CASES].find((x) => x.id === id);
  if (!c) throw new Error(`no op case '${id}'`);
  const ts = inputs.map((x) => tensor(x.data, { shape: x.shape, dtype: x.dtype, device: b }));
  let outs: Tensor[];
  try {
    const r = c.ts(ts);
    outs = Array.isArray(r) ? r : [r];
  } catch (e) {
    if (e instanceof TorchError) return { error: { kind: e.kind, message: e.message } };
    throw e;
  }
  const data = await Promise.all(outs.map((o) => o.contiguous().data()));
  return { outputs: outs.map((o, i) => ({ shape: [...o.shape], dtype: o.dtype, data: Float32Array.from(data[i]) })) };
}

/** Buffer and pipeline counters of the backend (pooling tests). */
export async function stats(): Promise<WebGpuBackend['stats']> {
  const b = await gpu();
  return { ...b.stats };
}

export async function shutdown(): Promise<void> {
  if (!backend) return;
  const b = await backend;
  b.trim();
  b.device.destroy();
}

/**
 * Calls that exceed a device limit, each with a test-only kernel; returns the
 * error each raised (name and message) and whether the device still works.
 */
export async function limitErrors(): Promise<{ errors: { name: string; message: string }[]; deviceOk: boolean }> {
  const b = await gpu();
  const x = b.upload(new Float32Array([1, 2, 3, 4]));
  const view: TensorView = { storage: x, shape: [4], strides: [1], offset: 0, dtype: 'float32' };
  const code = '@compute @workgroup_size(1)\nfn main() {}\n';
  const probe = (name: string, outShape: number[], program: object) => ({
    name,
    outputs: () => [{ shape: outShape, dtype: 'float32' as const }],
    cpu: () => undefined,
    wgsl: () => ({ code, workgroups: [1, 1, 1] as const, ...program }),
    tolerance: { cpu: 0, webgpu: 0 },
    flops: () => 0,
  });
  const huge = Math.floor(b.limits.maxStorageBufferBindingSize / 4) + 1024;
  const cases = [
    probe('too-large-output', [huge], {}),
    probe('too-much-workgroup-memory', [4], { workgroupStorageBytes: b.limits.maxComputeWorkgroupStorageSize + 4 }),
    probe('too-many-workgroups', [4], { workgroups: [b.limits.maxComputeWorkgroupsPerDimension + 1, 1, 1] }),
  ];
  const errors: { name: string; message: string }[] = [];
  for (const k of cases) {
    try {
      b.run(k, [view], {}, k.outputs());
      errors.push({ name: 'none', message: `${k.name} did not throw` });
    } catch (e) {
      errors.push({ name: (e as Error).name, message: (e as Error).message });
    }
  }
  const back = await b.read(x);
  b.release(x);
  return { errors, deviceOk: back[3] === 4 };
}

/**
 * Runs a catalog block (at its defaults, default dims) `runs` times on the device, each forward
 * in `tidy` with its outputs read back and disposed; returns the buffers the backend had created
 * after each of the checkpoints, the bytes its pool holds at the end and the first output.
 */
export async function repeatedForwards(blockId: string, runs: number, checkpoints: readonly number[]): Promise<{ created: number[]; pooledBytes: number; first: Float32Array<ArrayBufferLike> }> {
  const b = await gpu();
  const block = getBlock(blockId)!;
  const params = resolveParams(block, {}).params;
  const module = instantiateBlock(blockId, params, { generator: new Generator(0), device: b });
  const shapes = concreteShapes(block, params).inputs;
  const gen = new Generator(1);
  const args = block.contract(params).inputs.map((spec) => (spec.dtype === 'bool' ? null : randn(shapes[spec.name], gen, b)));
  const created: number[] = [];
  let first: Float32Array = new Float32Array(0);
  for (let i = 1; i <= runs; i++) {
    const out = tidy(() => module.forward(...args));
    const outs = Array.isArray(out) ? out : [out];
    const data = await outs[0].data();
    if (i === 1) first = data;
    for (const t of outs) t.dispose();
    if (checkpoints.includes(i)) created.push(b.stats.buffersCreated);
  }
  return { created, pooledBytes: b.pooledBytes, first };
}

/**
 * Reads a transposed view (read through a contiguous copy) `runs` times, each in `tidy` as a
 * forward's result is; returns the buffers created after the first and the last read, and
 * whether every read gave the transposed values.
 */
export async function stridedReads(runs: number): Promise<{ created: number[]; correct: boolean }> {
  const b = await gpu();
  const x = tensor([[1, 2, 3], [4, 5, 6]], { device: b });
  const created: number[] = [];
  let correct = true;
  for (let i = 1; i <= runs; i++) {
    const y = tidy(() => x.mul(2).transpose(0, 1));
    const data = await y.data();
    correct &&= [...data].join() === '2,8,4,10,6,12';
    y.dispose();
    if (i === 1 || i === runs) created.push(b.stats.buffersCreated);
  }
  return { created, correct };
}

/**
 * Host mirrors on the device: what `item()`/`dataSync()` give for small integer tensors uploaded
 * or computed from mirrored inputs (position indices), after an in-place copy and a host write,
 * and the error for a tensor that has none (float values, random ones, a large tensor). Each answer is the
 * value read, or the error's message.
 */
export async function hostMirrors(): Promise<Record<string, number | number[] | string>> {
  const b = await gpu();
  const tried = (f: () => number | number[]): number | number[] | string => {
    try {
      return f();
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
  };
  const pos = arange(0, 12, 1, { device: b }).reshape([3, 4]);
  const moved = tensor([[5, 1, 7]], { dtype: 'int64' }).to(b);
  const target = full([3], 0, { dtype: 'int64', device: b });
  copyStorage(moved.reshape([3]).add(1).storage, target.storage);
  const lengths = zeros([2], { device: b, dtype: 'int64' });
  writeStorage(lengths.storage, Float32Array.from([3, 4]));
  return {
    max: tried(() => pos.max().item()),
    lastColumn: tried(() => Array.from(pos.select(1, 3).dataSync())),
    maxMoved: tried(() => moved.max().item()),
    afterCopy: tried(() => Array.from(target.dataSync())),
    afterWrite: tried(() => Array.from(lengths.dataSync())),
    float: tried(() => tensor([1.5, 2.5]).to(b).sum().item()),
    random: tried(() => randn([2, 2], new Generator(0), b).sum().item()),
    large: tried(() => arange(0, 70000, 1, { device: b }).max().item()),
  };
}

/** One real-style case on the device: its outputs read back, or why it could not run. */
export interface RealstyleCaseResult {
  readonly case: number;
  readonly problem?: string;
  readonly outputs?: OutputValues[];
  /** The attention maps the preview captures, read back. */
  readonly maps?: Float32Array[];
}

/**
 * Runs the cases of one real-style module file (test/helpers/realstyle.ts) on the device, as a
 * user's code would: the harness builds the modules and inputs on the CPU, each case takes
 * torch's state_dict and tensor arguments from `dumpPath` (dump_values.py's safetensors), then
 * the interpreter, the case's modules and its arguments move to the WebGPU backend, the forward
 * runs there (in `tidy`, so its intermediates go back to the pool) and every output is read
 * back. Skips the cases in `random` (torch's random stream). When the file is done, every
 * storage it put on the device is released and the pool trimmed: a long run holds one file's
 * tensors at a time. Returns the dispatches, pipelines, submits and milliseconds it took too.
 */
export async function runRealstyleFile(file: string, dumpPath: string, count: number, random: readonly number[]): Promise<{ cases: RealstyleCaseResult[]; dispatches: number; pipelines: number; submits: number; ms: number }> {
  const b = await gpu();
  const start = performance.now();
  const before = { ...b.stats };
  const figures = () => ({ dispatches: b.stats.dispatches - before.dispatches, pipelines: b.stats.pipelines - before.pipelines, submits: b.stats.submits - before.submits, ms: performance.now() - start });
  const dump = parseSafetensors(fs.readFileSync(dumpPath));
  const out: RealstyleCaseResult[] = [];
  let harness: Awaited<ReturnType<typeof harnessCases>>;
  try {
    harness = await harnessCases(file);
  } catch (e) {
    for (let i = 0; i < count; i++) if (!random.includes(i)) out.push({ case: i, problem: problemOf(e) });
    return { cases: out, ...figures() };
  }
  const moved = new Map<Tensor, Tensor>();
  const held = new Set<Tensor['storage']>();
  try {
    for (let i = 0; i < count; i++) {
      if (random.includes(i)) continue;
      try {
        const c = prepareCase(harness.cases[i], i, dump);
        if ('problem' in c) {
          out.push({ case: i, problem: c.problem });
          continue;
        }
        harness.interp.to(b, moved);
        const fn = moveValue(c.fn, b, moved);
        c.modules.forEach((m) => m.to(b, moved));
        const pos = c.pos.map((v) => moveValue(v, b, moved));
        const kw = new Map([...c.kw].map(([k, v]) => [k, moveValue(v, b, moved)]));
        for (const t of moved.values()) if (t.device === b) held.add(t.storage);
        const [outs, maps] = tidy(() => {
          const { result, maps } = capturingMaps(() => harness.call(fn, pos, kw));
          return [outputsOf(result).map(outputTensor), maps] as const;
        });
        const data = await Promise.all(outs.map((o) => o.tensor.data()));
        const mapData = await Promise.all(maps.map((m) => m.data()));
        outs.forEach((o) => o.tensor.dispose());
        maps.forEach((m) => m.dispose());
        out.push({ case: i, outputs: outs.map((o, j) => ({ complex: o.complex, data: Float32Array.from(data[j]) })), maps: mapData.map((d) => Float32Array.from(d)) });
      } catch (e) {
        out.push({ case: i, problem: problemOf(e) });
      }
    }
  } finally {
    for (const s of held) b.release(s);
    b.trim();
  }
  return { cases: out, ...figures() };
}
