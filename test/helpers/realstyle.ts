/**
 * The real-style corpus's value cases (test/fixtures/realstyle/), shared by the CPU test
 * (interpret-corpus.test.ts) and the WebGPU one (interpret-corpus-webgpu.test.ts, whose child
 * process runs them): each module file run with its harness appended, a case prepared on
 * torch's state_dict and tensor arguments (scripts/torch/dump_values.py writes them, per case
 * `<i>.state.*`, `<i>.argstate.<j>.*`, `<i>.kwargstate.<name>.*`, `<i>.arg.<j>[.<k>]`,
 * `<i>.kwarg.<name>`, `<i>.out.<j>[@complex]`, `<i>.attn.<k>`), and its outputs and the
 * attention maps the preview captures compared with torch's on the output's scale. Nothing here
 * starts Python or a device.
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import { InterpretError, PyComplex, PyDict, PyNamespace, PyTuple, runFile, type Interpreter, type PyValue } from '../../src/interpret/index';
import { PyBoundMethod } from '../../src/interpret/values';
import { Module } from '../../src/runtime/nn/module';
import { AttentionCapture } from '../../src/runtime/capture';
import { observeKernels, stack, Tensor } from '../../src/runtime/index';

export const REALSTYLE = path.resolve(__dirname, '../fixtures/realstyle');

export type Call = (f: PyValue, pos: PyValue[], kw: Map<string, PyValue>) => PyValue;

/** The module file with its harness appended, run on the CPU; its `cases(mod)` list and a way to call them. */
export async function harnessCases(file: string): Promise<{ interp: Interpreter; cases: readonly PyValue[]; call: Call }> {
  const source = `${fs.readFileSync(path.join(REALSTYLE, 'modules', file), 'utf8')}\n\n${fs.readFileSync(path.join(REALSTYLE, 'harness', file), 'utf8')}`;
  const interp = await runFile(source, { file, maxSteps: 5_000_000 });
  const list = interp.call(interp.globals.vars.get('cases')!, [new PyNamespace('mod', interp.globals.vars)]);
  return { interp, cases: Array.isArray(list) ? list : [], call: (f, pos, kw) => interp.call(f, pos, kw) };
}

/** One line for an error a case raised. */
export function problemOf(e: unknown): string {
  return e instanceof InterpretError ? `${e.kind}: ${e.message}` : e instanceof Error ? e.message : String(e);
}

/** Every tensor (or complex tensor) a case returned, in order, through tuples and lists. */
export function outputsOf(v: PyValue): (Tensor | PyComplex)[] {
  if (v instanceof Tensor || v instanceof PyComplex) return [v];
  if (v instanceof PyTuple) return v.items.flatMap(outputsOf);
  if (Array.isArray(v)) return v.flatMap(outputsOf);
  return [];
}

/** Swaps the harness's tensors for the ones torch used: "<i>.arg.<j>[.<k>]", "<i>.kwarg.<name>". */
export function torchArgument(v: PyValue, key: string, dump: ReadonlyMap<string, Tensor>): PyValue {
  const swap = (t: Tensor, k: string): Tensor => {
    const ref = dump.get(k);
    if (!ref) throw new Error(`torch recorded no tensor ${k}`);
    if (JSON.stringify(ref.shape) !== JSON.stringify(t.shape)) throw new Error(`${k}: the harness built ${JSON.stringify(t.shape)}, torch ${JSON.stringify(ref.shape)}`);
    return ref.dtype === t.dtype ? ref : ref.to(t.dtype);
  };
  const swapComplex = (c: PyComplex, k: string): PyComplex => {
    const both = swap(stack([c.re, c.im], -1), `${k}@complex`);
    return new PyComplex(both.select(-1, 0).contiguous(), both.select(-1, 1).contiguous());
  };
  if (v instanceof Tensor) return swap(v, key);
  if (v instanceof PyComplex) return swapComplex(v, key);
  const items = v instanceof PyTuple ? v.items : Array.isArray(v) ? v : null;
  if (!items) return v;
  let k = 0;
  const swapped = items.map((x) => (x instanceof Tensor ? swap(x, `${key}.${k++}`) : x instanceof PyComplex ? swapComplex(x, `${key}.${k++}`) : x));
  return v instanceof PyTuple ? new PyTuple(swapped) : swapped;
}

/** A case ready to call: the callable, torch's arguments, and the modules that took torch's state_dict. */
export interface PreparedCase {
  readonly fn: PyValue;
  readonly pos: PyValue[];
  readonly kw: Map<string, PyValue>;
  readonly modules: readonly Module[];
}

/**
 * Case `i` of the harness's list on torch's state_dict (of the module it calls and of modules
 * passed as arguments; missing or unexpected keys are the case's problem) and tensor arguments.
 */
export function prepareCase(c: PyValue, i: number, dump: ReadonlyMap<string, Tensor>): PreparedCase | { problem: string } {
  if (!(c instanceof PyTuple)) return { problem: 'not a case' };
  const [fn, args, kwargs] = c.items;
  const owner = fn instanceof Module ? fn : fn instanceof PyBoundMethod && fn.self instanceof Module ? fn.self : null;
  const modules: [Module, string][] = owner ? [[owner, `${i}.state.`]] : [];
  (args as PyTuple).items.forEach((a, j) => a instanceof Module && modules.push([a, `${i}.argstate.${j}.`]));
  for (const [k, a] of (kwargs as PyDict).map) if (a instanceof Module) modules.push([a, `${i}.kwargstate.${String(k)}.`]);
  const keys = modules.map(([m, prefix]) => {
    const state = new Map([...dump].filter(([k]) => k.startsWith(prefix)).map(([k, t]) => [k.slice(prefix.length), t]));
    const r = m.loadStateDict(state, false);
    return r.missingKeys.length || r.unexpectedKeys.length ? `${prefix} keys: missing ${r.missingKeys.join(', ') || '-'}; unexpected ${r.unexpectedKeys.join(', ') || '-'}` : '';
  });
  if (keys.some(Boolean)) return { problem: keys.filter(Boolean).join('; ') };
  const pos = (args as PyTuple).items.map((a, j) => torchArgument(a, `${i}.arg.${j}`, dump));
  const kw = new Map([...(kwargs as PyDict).map].map(([k, v]) => [String(k), torchArgument(v, `${i}.kwarg.${String(k)}`, dump)]));
  return { fn, pos, kw, modules: modules.map(([m]) => m) };
}

/**
 * Runs `fn` and keeps the attention maps the preview would capture from the kernels it runs
 * (`AttentionCapture`, the panel's own rule: softmaxes over the last axis of (…, L, S) scores,
 * every scaled-dot-product attention's weights), in the order they were computed.
 */
export function capturingMaps<T>(fn: () => T): { result: T; maps: Tensor[] } {
  const capture = new AttentionCapture();
  const result = observeKernels((op, inputs, attrs, outputs) => capture.observe(op, inputs, attrs, outputs), fn);
  return { result, maps: capture.maps.map((m) => m.weights) };
}

/** One output read back: its values, and whether it is complex (real and imaginary parts stacked last). */
export interface OutputValues {
  readonly complex: boolean;
  readonly data: Float32Array;
}

/** An output as values to compare: a complex one as its parts stacked on a last axis of 2, as torch's dump holds it. */
export function outputTensor(t: Tensor | PyComplex): { complex: boolean; tensor: Tensor } {
  return t instanceof PyComplex ? { complex: true, tensor: stack([t.re, t.im], -1) } : { complex: false, tensor: t };
}

export interface ValueOutcome {
  file: string;
  case: number;
  /** null when compared; else why not (keys, inputs or an error). */
  problem: string | null;
  /** Largest |ours - torch| / (tol * max(1, max|torch|)) over the outputs: within tolerance when <= 1. */
  worst: number;
  maxAbs: number;
  elements: number;
  /** Attention maps compared with torch's (null: not observed in torch, a TorchScript case). */
  maps: number | null;
}

/**
 * Compares case `i`'s outputs with torch's (`<i>.out.<j>`, `@complex` for complex ones) on
 * the output's scale: |ours - torch| <= tol * max(1, max|torch|) for every element; and, unless
 * `maps` is null (torch's maps were not observed), the captured attention maps with torch's
 * (`<i>.attn.<k>`) the same way. A missing, surplus or differently sized output or map is the
 * case's problem.
 */
export function compareOutputs(file: string, i: number, outs: readonly OutputValues[], dump: ReadonlyMap<string, Tensor>, tol: number, maps: readonly Float32Array[] | null): ValueOutcome {
  const o: ValueOutcome = { file, case: i, problem: null, worst: 0, maxAbs: 0, elements: 0, maps: null };
  const fail = (problem: string): ValueOutcome => ({ file, case: i, problem, worst: 0, maxAbs: 0, elements: 0, maps: null });
  const against = (what: string, a: Float32Array, ref: Tensor): string | null => {
    const b = ref.dataSync();
    if (a.length !== b.length) return `${what}: ${a.length} elements where torch has ${b.length}`;
    let scale = 1;
    for (const v of b) if (Math.abs(v) > scale) scale = Math.abs(v);
    for (let k = 0; k < a.length; k++) {
      const d = Number.isNaN(a[k]) && Number.isNaN(b[k]) ? 0 : Math.abs(a[k] - b[k]);
      if (!(d <= o.maxAbs)) o.maxAbs = Number.isNaN(d) ? Infinity : d;
      if (!(d / (tol * scale) <= o.worst)) o.worst = Number.isNaN(d) ? Infinity : d / (tol * scale);
    }
    o.elements += a.length;
    return null;
  };
  for (const [j, out] of outs.entries()) {
    const ref = dump.get(`${i}.out.${j}${out.complex ? '@complex' : ''}`);
    if (!ref) return fail(out.complex ? `output ${j} is complex, torch's is not` : `torch returned no tensor at output ${j}`);
    const problem = against(`output ${j}`, out.data, ref);
    if (problem) return fail(problem);
  }
  if (dump.has(`${i}.out.${outs.length}`) || dump.has(`${i}.out.${outs.length}@complex`)) return fail(`torch returned more than ${outs.length} tensors`);
  if (maps) {
    let theirs = 0;
    while (dump.has(`${i}.attn.${theirs}`)) theirs++;
    if (theirs !== maps.length) return fail(`${maps.length} attention maps captured where torch computed ${theirs}`);
    for (const [k, m] of maps.entries()) {
      const problem = against(`attention map ${k}`, m, dump.get(`${i}.attn.${k}`)!);
      if (problem) return fail(problem);
    }
    o.maps = maps.length;
  }
  return o;
}
