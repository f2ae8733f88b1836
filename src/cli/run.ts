/**
 * `attention-forge run <block>`: builds a catalog block from its compiled
 * twin (`src/twins/registry.ts`; no source text is evaluated), initialises
 * it from a seeded generator or loads `--weights` (safetensors or a
 * `torch.save` checkpoint, `.pt`/`.pth`, read by the runtime's restricted
 * reader; strictly unless `--no-strict`), runs it on an input read from
 * `--input` (checked against the block's shape contract) or drawn at the
 * contract's default dims, writes the outputs (`output`, and
 * `attn` where the block returns it) to `--output` as safetensors, and
 * prints the per-layer table from the runtime's tracer (`--json` for
 * machines). `runBlock` is the same work without the command line, for tests
 * and the preview. It does not validate parameters itself: the catalog does.
 *
 * Exit codes as in main.ts: 0 ok, 1 the run failed (unreadable or mismatched
 * weights or inputs, no WebGPU), 2 usage errors, invalid parameter values, a
 * run larger than the backend can allocate (a typed array or a WebGPU buffer
 * limit), an existing `--output` without `--force`.
 */

import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { allBlocks, contractEnv, getBlock, parseParamValue, resolveParams } from '../blocks/catalog';
import { evalShape } from '../blocks/expr';
import type { BlockDef, Params, TensorSpec } from '../blocks/types';
import { CheckpointError, cpu, Generator, parseSafetensors, randn, rand, readStateDict, serializeSafetensors, Tensor, tensor, TorchError, full, type Backend, type StateDictFile } from '../runtime/index';
import { traceForward, WebGpuLimitError, type LayerRecord } from '../runtime/index';
import { instantiateBlock } from '../twins/registry';
import { PyTuple } from '../interpret/index';
import { parseInit, parseInputs, readModuleSource, runUserModule, splitModuleSpec } from './run-module';

export const RUN_USAGE = `  run <block> [--set name=value ...]   Run a block on the Attention Forge runtime and print its layers.
        [--weights W.safetensors|W.pt [--weights-key K] [--no-strict]]
        [--input X.safetensors] [--output Y.safetensors [--force]]
        [--backend cpu|webgpu] [--seed N] [--json]
  run --module FILE.py[:CLASS]         Run your own nn.Module (no Python needed) and print its layers.
        [--init name=value ...] [--input 2,16,64|X.safetensors ...]
        [--weights W.pt|W.safetensors [--weights-key K] [--no-strict]]
        [--output Y.safetensors [--force]] [--backend cpu|webgpu] [--seed N] [--json]
`;

export interface RunIo {
  out(text: string): void;
  err(text: string): void;
}

/** Wrong command-line use or invalid parameter values: exit 2. */
export class RunUsageError extends Error {}
/** The run itself failed (files, shapes, backend): exit 1. */
export class RunError extends Error {}

export interface RunOptions {
  readonly seed?: number;
  readonly device?: Backend;
  /** A state dict (from safetensors or a torch checkpoint: `readStateDict`). */
  readonly weights?: ReadonlyMap<string, Tensor>;
  /** `load_state_dict`'s strict (default true): false tolerates missing and unexpected keys, never mis-shaped ones. */
  readonly strict?: boolean;
  /** Inputs by contract name; missing ones are drawn at the default dims. */
  readonly inputs?: ReadonlyMap<string, Tensor>;
}

export interface RunResult {
  readonly params: Params;
  readonly inputs: Map<string, Tensor>;
  /** By contract output name (`output`, `attn`). */
  readonly outputs: Map<string, Tensor>;
  readonly layers: readonly LayerRecord[];
  /** The model's keys the weights lacked and the weights' keys the model lacks (empty when strict). */
  readonly missingKeys: readonly string[];
  readonly unexpectedKeys: readonly string[];
}

/** Parses `--set name=value` against the block's parameters. */
export function parseSets(block: BlockDef, sets: readonly string[]): Params {
  const out: Params = {};
  const errors: string[] = [];
  for (const s of sets) {
    const eq = s.indexOf('=');
    const def = eq > 0 ? block.params.find((d) => d.name === s.slice(0, eq)) : undefined;
    if (eq <= 0) errors.push(`--set expects name=value, got ${JSON.stringify(s)}`);
    else if (!def) errors.push(`${block.id} has no parameter '${s.slice(0, eq)}' (parameters: ${block.params.map((d) => d.name).join(', ')})`);
    else {
      const r = parseParamValue(def, s.slice(eq + 1));
      if ('error' in r) errors.push(r.error);
      else out[def.name] = r.value;
    }
  }
  if (errors.length) throw new RunUsageError(errors.join('\n'));
  return out;
}

/**
 * An input tensor as the tests synthesise it (`Fill` in the catalog):
 * random normal, random bool, a padding mask (the last quarter of every other
 * batch item), or a causal mask in one of its three conventions.
 */
export function synthesizeInput(spec: TensorSpec, shape: readonly number[], gen: Generator, device: Backend): Tensor {
  const fill = spec.fill ?? 'randn';
  if (fill === 'padding') {
    const [n, s] = shape;
    const m = new Float32Array(n * s);
    const pad = Math.min(Math.max(1, Math.floor(s / 4)), s - 1);
    for (let b = 1; b < n; b += 2) for (let j = s - pad; j < s; j++) m[b * s + j] = 1;
    return new Tensor(device.upload(m), [n, s], [s, 1], 0, 'bool');
  }
  if (fill === 'causal-ignore' || fill === 'causal-keep' || fill === 'causal-additive') {
    const [L, S] = shape.slice(-2);
    const upper = new Float32Array(L * S);
    for (let i = 0; i < L; i++) for (let j = i + 1; j < S; j++) upper[i * S + j] = 1;
    const mask = new Tensor(device.upload(upper), [L, S], [S, 1], 0, 'bool');
    const base = fill === 'causal-ignore' ? mask : fill === 'causal-keep' ? mask.logicalNot() : full([L, S], 0, { device }).maskedFill(mask, -Infinity);
    return base.expand(shape as number[]).contiguous();
  }
  if (spec.dtype === 'bool') return rand(shape, gen, device).lt(0.3);
  return randn(shape, gen, device);
}

/** Dims bound by the inputs' plain-name dimensions (`N`, `L`, `H`), defaults for the rest. */
function inferDims(block: BlockDef, given: ReadonlyMap<string, Tensor>, specs: readonly TensorSpec[]): Record<string, number> {
  const dims: Record<string, number> = {};
  for (const d of block.dims) dims[d.name] = d.default;
  for (const spec of specs) {
    const t = given.get(spec.name);
    if (!t || t.ndim !== spec.shape.length) continue;
    spec.shape.forEach((e, i) => {
      if (block.dims.some((d) => d.name === e)) dims[e] = t.shape[i];
    });
  }
  return dims;
}

function fmt(shape: readonly (number | string)[]): string {
  return `(${shape.join(', ')})`;
}

/**
 * Whether an error is the JavaScript engine refusing an allocation (a typed array over its
 * maximum length, an ArrayBuffer the heap cannot hold): the sizes asked for are too large for
 * this backend, which is a fact about the input, not a bug.
 */
export function isAllocationFailure(e: unknown): boolean {
  return e instanceof RangeError && /array buffer allocation|invalid typed array length|invalid array length|array buffer length|out of memory/i.test(e.message);
}

/**
 * `runBlock`, with the limits of the backend turned into usage errors (exit 2, one line): an
 * allocation the CPU backend cannot make and a buffer over a WebGPU device's limits.
 */
export function runBlockBounded(block: BlockDef, given: Params, o: RunOptions = {}): RunResult {
  const backend = o.device?.name ?? 'cpu';
  try {
    return runBlock(block, given, o);
  } catch (e) {
    if (isAllocationFailure(e)) throw new RunUsageError(`${block.id} with these parameters needs more memory than the ${backend} backend can allocate (${(e as Error).message}); choose smaller sizes`);
    if (e instanceof WebGpuLimitError) throw new RunUsageError(`${block.id} with these parameters exceeds a limit of this WebGPU device: ${e.message.split('\n', 1)[0]}; choose smaller sizes or --backend cpu`);
    throw e;
  }
}

/** Builds, (loads,) and runs a block with tracing. Throws RunUsageError for invalid params, RunError for the rest. */
export function runBlock(block: BlockDef, given: Params, o: RunOptions = {}): RunResult {
  const { params, issues } = resolveParams(block, given);
  if (issues.length) throw new RunUsageError(issues.map((i) => `${i.param}: ${i.message}`).join('\n'));
  const device = o.device ?? cpu;
  const gen = new Generator(o.seed ?? 0);
  const module = instantiateBlock(block.id, params, { generator: gen, device });
  let incompatible = { missingKeys: [] as string[], unexpectedKeys: [] as string[] };
  if (o.weights) {
    try {
      incompatible = module.loadStateDict(o.weights, o.strict ?? true);
    } catch (e) {
      if (e instanceof TorchError) throw new RunError(e.message);
      throw e;
    }
  }
  const contract = block.contract(params);
  const given_ = o.inputs ?? new Map<string, Tensor>();
  const unknown = [...given_.keys()].filter((k) => !contract.inputs.some((s) => s.name === k));
  if (unknown.length) throw new RunError(`unexpected input tensor(s) ${unknown.map((k) => `'${k}'`).join(', ')}; ${block.id} takes ${contract.inputs.map((s) => `'${s.name}'`).join(', ')}`);
  const dims = inferDims(block, given_, contract.inputs);
  const env = contractEnv(block, params, dims);
  const inputs = new Map<string, Tensor>();
  for (const spec of contract.inputs) {
    const want = evalShape(spec.shape, env);
    const t = given_.get(spec.name);
    if (!t) {
      inputs.set(spec.name, synthesizeInput(spec, want, gen, device));
      continue;
    }
    if (t.ndim !== want.length || t.shape.some((s, i) => s !== want[i])) {
      throw new RunError(`input '${spec.name}' has shape ${fmt(t.shape)}, but ${block.id} expects ${fmt(spec.shape)} = ${fmt(want)} with these parameters`);
    }
    const wantDtype = spec.dtype === 'bool' ? 'bool' : 'float32';
    if ((t.dtype === 'float32') !== (wantDtype === 'float32')) throw new RunError(`input '${spec.name}' has dtype ${t.dtype}, ${block.id} expects ${wantDtype}`);
    inputs.set(spec.name, t.device === device ? t : t.to(device));
  }
  let trace;
  try {
    trace = traceForward(module, () => module.forward(...contract.inputs.map((s) => inputs.get(s.name) ?? null)));
  } catch (e) {
    if (e instanceof TorchError) throw new RunError(`${block.id} failed: ${e.message}`);
    throw e;
  }
  const outs = Array.isArray(trace.result) ? trace.result : [trace.result];
  const outputs = new Map<string, Tensor>();
  contract.outputs.forEach((spec, i) => outputs.set(spec.name, outs[i]));
  return { params, inputs, outputs, layers: trace.layers, ...incompatible };
}

function readSafetensors(file: string, what: string): Map<string, Tensor> {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new RunError(`cannot read ${what} ${file}: ${(e as Error).message}`);
  }
  try {
    return parseSafetensors(bytes);
  } catch (e) {
    throw new RunError(`${what} ${file} is not a valid safetensors file: ${(e as Error).message}`);
  }
}

/** `--weights`: safetensors or a `torch.save` checkpoint, told apart by their bytes. */
export function readWeights(file: string, key: string | undefined): StateDictFile {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new RunError(`cannot read weights file ${file}: ${(e as Error).message}`);
  }
  try {
    return readStateDict(bytes, { key });
  } catch (e) {
    if (e instanceof CheckpointError) throw new RunError(`weights file ${file} is ${e.message}`);
    throw e;
  }
}

export async function openBackend(name: string): Promise<Backend> {
  if (name === 'cpu') return cpu;
  if (name !== 'webgpu') throw new RunUsageError(`--backend ${name} is not available; supported: cpu, webgpu`);
  try {
    const { createNodeWebGpuBackend } = await import('../runtime/webgpu/node');
    return await createNodeWebGpuBackend();
  } catch (e) {
    throw new RunError(`WebGPU is not available: ${(e as Error).message}`);
  }
}

export function table(layers: readonly LayerRecord[], rootName: string): string {
  const rows = layers.map((l) => [`${'  '.repeat(l.depth)}${l.path || rootName}`, l.type, l.outputShapes.map(fmt).join(', ') || '-', l.parameters.toLocaleString('en-US')]);
  const head = ['Layer', 'Type', 'Output shape', 'Params'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 3 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(head), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n') + '\n';
}

/** The `run` subcommand. */
/**
 * A run's outputs on the CPU; written to `--output` (never over an existing file without
 * `--force`) with `meta` in the header; and, for a non-strict load, what was left at its initial
 * value and what was ignored, as torch's _IncompatibleKeys says it.
 */
async function writeOutputs(
  r: { outputs: Iterable<[string, Tensor]>; maps?: Iterable<[string, Tensor]>; missingKeys: readonly string[]; unexpectedKeys: readonly string[] },
  values: { output?: string; force?: boolean },
  meta: Record<string, string>,
  io: RunIo,
): Promise<Map<string, Tensor>> {
  const onCpu = async (t: Tensor) => (t.device === cpu ? t : tensor(await t.data(), { shape: t.shape, dtype: t.dtype }));
  const outData = new Map<string, Tensor>();
  for (const [k, t] of r.outputs) outData.set(k, await onCpu(t));
  if (values.output) {
    // The attention maps go into the file beside the outputs (`attn.<module path>`).
    const file = new Map(outData);
    for (const [k, t] of r.maps ?? []) file.set(k, await onCpu(t));
    try {
      fs.writeFileSync(values.output, serializeSafetensors(file, meta), { flag: values.force ? 'w' : 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new RunUsageError(`${values.output} already exists; pass --force to overwrite it`);
      throw new RunError(`cannot write ${values.output}: ${(e as Error).message}`);
    }
  }
  if (r.missingKeys.length) io.err(`attention-forge run: missing key(s) in state_dict, left at their initial values: ${r.missingKeys.map((k) => `"${k}"`).join(', ')}\n`);
  if (r.unexpectedKeys.length) io.err(`attention-forge run: unexpected key(s) in state_dict, ignored: ${r.unexpectedKeys.map((k) => `"${k}"`).join(', ')}\n`);
  return outData;
}

export async function runCommand(args: string[], io: RunIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      set: { type: 'string', multiple: true, default: [] },
      weights: { type: 'string' },
      'weights-key': { type: 'string' },
      'no-strict': { type: 'boolean', default: false },
      input: { type: 'string', multiple: true, default: [] },
      module: { type: 'string' },
      init: { type: 'string', multiple: true, default: [] },
      output: { type: 'string' },
      backend: { type: 'string', default: 'cpu' },
      seed: { type: 'string', default: '0' },
      json: { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
    },
  });
  try {
    if (values.module !== undefined) return await runModuleCommand(values, positionals, io);
    if ((values.init ?? []).length) throw new RunUsageError('--init needs --module (catalog blocks take --set)');
    if ((values.input ?? []).length > 1) throw new RunUsageError('run <block> takes one --input file (its tensors are named by the contract)');
    if (positionals.length !== 1) throw new RunUsageError('run expects exactly one block id (see `attention-forge blocks`)');
    const block = getBlock(positionals[0]);
    if (!block) throw new RunUsageError(`unknown block '${positionals[0]}' (blocks: ${allBlocks().map((b) => b.id).join(', ')})`);
    const seed = Number(values.seed);
    if (!Number.isSafeInteger(seed) || seed < 0) throw new RunUsageError(`--seed expects a non-negative integer, got ${JSON.stringify(values.seed)}`);
    const params = parseSets(block, values.set ?? []);
    const backend = values.backend ?? 'cpu';
    if (backend !== 'cpu' && backend !== 'webgpu') throw new RunUsageError(`--backend ${backend} is not available; supported: cpu, webgpu`);
    // Refuse before the run rather than after it; the write below is atomic about it too ('wx').
    if (values.output && !values.force && fs.existsSync(values.output)) throw new RunUsageError(`${values.output} already exists; pass --force to overwrite it`);
    if (!values.weights && (values['weights-key'] !== undefined || values['no-strict'])) throw new RunUsageError('--weights-key and --no-strict need --weights');
    const strict = !values['no-strict'];
    const file = values.weights ? readWeights(values.weights, values['weights-key']) : undefined;
    const inputFile = values.input?.[0];
    const inputs = inputFile ? readSafetensors(inputFile, 'input file') : undefined;
    const device = await openBackend(backend);
    const r = runBlockBounded(block, params, { seed, device, weights: file?.tensors, strict, inputs });
    const outData = await writeOutputs(r, values, { block: block.id, seed: String(seed), backend }, io);
    const total = r.layers[0]?.parameters ?? 0;
    const flops = r.layers[0]?.flops ?? 0;
    if (values.json) {
      io.out(
        JSON.stringify(
          {
            block: block.id,
            params: r.params,
            backend: device.name,
            seed,
            weights: values.weights ?? null,
            weightsFormat: file?.format ?? null,
            weightsKey: file ? file.key : null,
            missingKeys: r.missingKeys,
            unexpectedKeys: r.unexpectedKeys,
            inputs: [...r.inputs].map(([name, t]) => ({ name, shape: t.shape, dtype: t.dtype })),
            outputs: [...outData].map(([name, t]) => ({ name, shape: t.shape, dtype: t.dtype })),
            output: values.output ?? null,
            parameters: total,
            flops,
            layers: r.layers,
          },
          null,
          2,
        ) + '\n',
      );
      return 0;
    }
    const from = file ? `, weights ${values.weights}${file.key ? ` ['${file.key}']` : ''}` : ', random initial weights';
    io.out(`${block.id} on ${device.name}, seed ${seed}${from}\n`);
    io.out(`input:  ${[...r.inputs].map(([n, t]) => `${n} ${fmt(t.shape)}${t.dtype === 'float32' ? '' : ` ${t.dtype}`}`).join(', ')}${inputFile ? '' : ' (random, default dims)'}\n`);
    io.out(`output: ${[...outData].map(([n, t]) => `${n} ${fmt(t.shape)}`).join(', ')}${values.output ? ` → ${values.output}` : ''}\n\n`);
    io.out(table(r.layers, r.layers[0]?.type ?? block.id));
    io.out(`\n${total.toLocaleString('en-US')} parameters, ${(flops / 1e6).toFixed(2)} MFLOPs\n`);
    return 0;
  } catch (e) {
    if (e instanceof RunUsageError) {
      io.err(`attention-forge: ${e.message}\n`);
      return 2;
    }
    if (e instanceof RunError) {
      io.err(`attention-forge run: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

interface RunValues {
  readonly module?: string;
  readonly init?: string[];
  readonly input?: string[];
  readonly set?: string[];
  readonly weights?: string;
  readonly 'weights-key'?: string;
  readonly 'no-strict'?: boolean;
  readonly output?: string;
  readonly backend?: string;
  readonly seed?: string;
  readonly json?: boolean;
  readonly force?: boolean;
}

/** `run --module FILE.py[:CLASS]`: the user's own module through the interpreter (`run-module.ts`). */
async function runModuleCommand(values: RunValues, positionals: readonly string[], io: RunIo): Promise<number> {
  if (positionals.length) throw new RunUsageError(`run --module takes no block id (got '${positionals[0]}')`);
  if ((values.set ?? []).length) throw new RunUsageError('run --module takes constructor arguments as --init name=value');
  const { file, className } = splitModuleSpec(values.module ?? '');
  if (!file) throw new RunUsageError('--module expects FILE.py or FILE.py:CLASS');
  const seed = Number(values.seed ?? '0');
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RunUsageError(`--seed expects a non-negative integer, got ${JSON.stringify(values.seed)}`);
  const backend = values.backend ?? 'cpu';
  if (backend !== 'cpu' && backend !== 'webgpu') throw new RunUsageError(`--backend ${backend} is not available; supported: cpu, webgpu`);
  if (values.output && !values.force && fs.existsSync(values.output)) throw new RunUsageError(`${values.output} already exists; pass --force to overwrite it`);
  if (!values.weights && (values['weights-key'] !== undefined || values['no-strict'])) throw new RunUsageError('--weights-key and --no-strict need --weights');
  const kwargs = parseInit(values.init ?? []);
  const inputs = parseInputs(values.input ?? []);
  if (!inputs.length) throw new RunUsageError('run --module needs --input: a shape such as 2,16,64 (one per forward argument) or a .safetensors file');
  const source = readModuleSource(file);
  const weights = values.weights ? readWeights(values.weights, values['weights-key']) : undefined;
  const device = await openBackend(backend);
  let r;
  try {
    r = await runUserModule(source, { file, className, kwargs, seed, device, weights: weights?.tensors, strict: !values['no-strict'], inputs });
  } catch (e) {
    if (isAllocationFailure(e)) throw new RunUsageError(`${file} with these inputs needs more memory than the ${backend} backend can allocate (${(e as Error).message}); choose smaller sizes`);
    if (e instanceof WebGpuLimitError) throw new RunUsageError(`${file} with these inputs exceeds a limit of this WebGPU device: ${e.message.split('\n', 1)[0]}; choose smaller sizes or --backend cpu`);
    throw e;
  }
  const outData = await writeOutputs(r, values, { module: `${file}:${r.className}`, seed: String(seed), backend }, io);
  const total = r.layers[0]?.parameters ?? 0;
  const flops = r.layers[0]?.flops ?? 0;
  if (values.json) {
    const spec = (t: Tensor) => ({ shape: t.shape, dtype: t.dtype });
    io.out(JSON.stringify({ module: file, className: r.className, init: Object.fromEntries([...kwargs].map(([k, v]) => [k, v instanceof PyTuple ? v.items : v])), backend: device.name, seed, weights: values.weights ?? null, weightsFormat: weights?.format ?? null, weightsKey: weights ? weights.key : null, missingKeys: r.missingKeys, unexpectedKeys: r.unexpectedKeys, inputs: r.inputs.map((t, i) => ({ name: `input${i}`, ...spec(t) })), outputs: [...outData].map(([name, t]) => ({ name, ...spec(t) })), maps: [...r.maps].map(([name, t]) => ({ name, ...spec(t) })), output: values.output ?? null, parameters: total, flops, layers: r.layers }, null, 2) + '\n');
    return 0;
  }
  const from = weights ? `, weights ${values.weights}${weights.key ? ` ['${weights.key}']` : ''}` : ', random initial weights';
  io.out(`${file}:${r.className} on ${device.name}, seed ${seed}${from}\n`);
  io.out(`input:  ${r.inputs.map((t, i) => `input${i} ${fmt(t.shape)}${t.dtype === 'float32' ? '' : ` ${t.dtype}`}`).join(', ')}\n`);
  io.out(`output: ${[...outData].map(([n, t]) => `${n} ${fmt(t.shape)}`).join(', ')}${values.output ? ` → ${values.output}` : ''}\n`);
  if (r.maps.size) io.out(`attention: ${[...r.maps].map(([n, t]) => `${n} ${fmt(t.shape)}`).join(', ')}${values.output ? ` → ${values.output}` : ''}\n`);
  io.out('\n');
  io.out(table(r.layers, r.className));
  io.out(`\n${total.toLocaleString('en-US')} parameters, ${(flops / 1e6).toFixed(2)} MFLOPs\n`);
  return 0;
}
