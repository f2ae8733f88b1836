/**
 * `attention-forge run --module FILE.py[:CLASS]`: the user's own `nn.Module`, built by the
 * concrete interpreter (`src/interpret/`) from its defaults and `--init name=value`, optionally
 * loaded with `--weights` (safetensors or a `torch.save` checkpoint, strictly unless
 * `--no-strict`; torch's list of missing, unexpected and mis-shaped keys otherwise), run on
 * `--input` tensors (a shape such as `2,16,64`, drawn from the seeded generator, or a
 * safetensors file whose `input0`, `input1`, … are `forward`'s positional arguments) under the
 * runtime's tracer. `runUserModule` is the same work without the command line, for tests and the
 * editor's preview.
 *
 * Exit codes as in main.ts: 1 for the run (an unreadable file, a construct the interpreter does
 * not support, an exception the module raises, weights that do not fit), 2 for the command line
 * (a class the file does not define, a malformed `--init` or `--input`).
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import { InterpretError, loadUserModule, PyTuple, type PyValue } from '../interpret/index';
import { AttentionCapture, cpu, Generator, parseSafetensors, randn, Tensor, TorchError, traceForward, type Backend, type LayerRecord } from '../runtime/index';
import { RunError, RunUsageError } from './run';

export interface ModuleRunOptions {
  readonly file: string;
  readonly className?: string;
  readonly kwargs?: ReadonlyMap<string, PyValue>;
  readonly seed?: number;
  readonly device?: Backend;
  readonly weights?: ReadonlyMap<string, Tensor>;
  readonly strict?: boolean;
  /** `forward`'s positional arguments: tensors, or shapes to draw from the seeded generator. */
  readonly inputs: readonly (Tensor | readonly number[])[];
}

export interface ModuleRunResult {
  readonly className: string;
  readonly inputs: Tensor[];
  /** `output`, or `output0`, `output1`, … when `forward` returns a tuple or list. */
  readonly outputs: Map<string, Tensor>;
  /** The attention maps the forward computed, `attn.<module path>` (see runtime/capture.ts). */
  readonly maps: Map<string, Tensor>;
  readonly layers: readonly LayerRecord[];
  readonly missingKeys: readonly string[];
  readonly unexpectedKeys: readonly string[];
}

/** `--init name=value`: Python literals (ints, floats, True/False/None, tuples as `2,3`), other text as a string. */
export function parseInit(items: readonly string[]): Map<string, PyValue> {
  const out = new Map<string, PyValue>();
  const literal = (t: string): PyValue => {
    const s = t.trim();
    if (/^[-+]?\d+$/.test(s)) return parseInt(s, 10);
    if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return parseFloat(s);
    if (s === 'True' || s === 'true') return true;
    if (s === 'False' || s === 'false') return false;
    if (s === 'None') return null;
    const q = /^(['"])(.*)\1$/.exec(s);
    return q ? q[2] : s;
  };
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0 || !/^[A-Za-z_]\w*$/.test(item.slice(0, eq))) throw new RunUsageError(`--init expects name=value, got ${JSON.stringify(item)}`);
    const v = item.slice(eq + 1);
    out.set(item.slice(0, eq), v.includes(',') ? new PyTuple(v.split(',').filter((x) => x.trim() !== '').map(literal)) : literal(v));
  }
  return out;
}

/** `--input`: a shape (`2,16,64`) or a safetensors file (its `input0`, `input1`, … in order, else its tensors in file order). */
export function parseInputs(items: readonly string[]): (Tensor | number[])[] {
  const out: (Tensor | number[])[] = [];
  for (const item of items) {
    if (/^\s*\d+(\s*[,x]\s*\d+)*\s*$/.test(item)) {
      const shape = item.split(/[,x]/).map((s) => parseInt(s, 10));
      if (shape.some((d) => d <= 0 || d > 65_536)) throw new RunUsageError(`--input ${item}: every size must be between 1 and 65,536`);
      out.push(shape);
      continue;
    }
    let bytes: Uint8Array;
    try {
      bytes = fs.readFileSync(item);
    } catch (e) {
      if (!/[./]/.test(item)) throw new RunUsageError(`--input expects a shape such as 2,16,64 or a .safetensors file, got ${JSON.stringify(item)}`);
      throw new RunError(`cannot read input file ${item}: ${(e as Error).message}`);
    }
    let tensors: Map<string, Tensor>;
    try {
      tensors = parseSafetensors(bytes);
    } catch (e) {
      throw new RunError(`input file ${item} is not a valid safetensors file: ${(e as Error).message}`);
    }
    const numbered = [...tensors.keys()].filter((k) => /^input\d+$/.test(k)).sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
    out.push(...(numbered.length ? numbered : [...tensors.keys()]).map((k) => tensors.get(k)!));
  }
  return out;
}

/** Builds the class, loads the weights, runs `forward` once under the tracer. InterpretError and weight errors become RunError (exit 1). */
export async function runUserModule(source: string, o: ModuleRunOptions): Promise<ModuleRunResult> {
  const device = o.device ?? cpu;
  const gen = new Generator(o.seed ?? 0);
  try {
    // Built on the CPU, whose synchronous reads in-place initialisation needs, loaded, then
    // moved, as torch code builds a module and calls `.to(device)`.
    const { module, className, interp } = await loadUserModule(source, { file: o.file, className: o.className, kwargs: o.kwargs, generator: gen, device: cpu, path: path.resolve(o.file), importRoots: [path.dirname(path.resolve(o.file)), process.cwd()] });
    let incompatible = { missingKeys: [] as string[], unexpectedKeys: [] as string[] };
    if (o.weights) {
      try {
        incompatible = module.loadStateDict(o.weights, o.strict ?? true);
      } catch (e) {
        if (e instanceof TorchError) throw new RunError(e.message);
        throw e;
      }
    }
    if (device !== cpu) {
      const moved = new Map<Tensor, Tensor>();
      interp.to(device, moved);
      module.to(device, moved);
    }
    const inputs = o.inputs.map((x) => (x instanceof Tensor ? (x.device === device ? x : x.to(device)) : randn(x, gen, device)));
    const capture = new AttentionCapture();
    const trace = traceForward(module, () => module.forward(...inputs), { onKernel: capture.onKernel });
    const outputs = new Map<string, Tensor>();
    const r = trace.result as PyValue;
    const items = r instanceof PyTuple ? r.items : Array.isArray(r) ? r : [r];
    items.forEach((t, i) => {
      if (!(t instanceof Tensor)) throw new RunError(`${className}.forward returned ${items.length > 1 ? `a ${r instanceof PyTuple ? 'tuple' : 'list'} whose item ${i} is not a tensor` : 'something other than a tensor'}`);
      outputs.set(items.length > 1 || r instanceof PyTuple || Array.isArray(r) ? `output${i}` : 'output', t);
    });
    return { className, inputs, outputs, maps: capture.named(className), layers: trace.layers, ...incompatible };
  } catch (e) {
    if (e instanceof InterpretError) {
      // A class the file does not define is a wrong command line, not a failed run.
      if (o.className && /^no class '/.test(e.detail)) throw new RunUsageError(e.message);
      throw new RunError(e.message);
    }
    throw e;
  }
}

/** `FILE.py[:CLASS]`. */
export function splitModuleSpec(spec: string): { file: string; className?: string } {
  const m = /^(.*\.py):([A-Za-z_]\w*)$/.exec(spec);
  return m ? { file: m[1], className: m[2] } : { file: spec };
}

export function readModuleSource(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new RunError(`cannot read module file ${file}: ${(e as Error).message}`);
  }
}
