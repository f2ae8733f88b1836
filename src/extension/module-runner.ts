/**
 * *Preview module*'s forward off the extension host's thread: each run starts a worker thread
 * (the bundled dist/module-worker.js, which runs `runModulePreview`) with a heap ceiling, and
 * resolves with the panel's message. Cancelling terminates the thread at once, whatever the
 * user's code is doing; a thread that runs out of memory is reported as a message that asks for
 * a smaller input, and the extension host is unaffected. Arguments and weights cross the thread
 * boundary as plain data (`encode`/`decode`). The same thread runs a TypeScript file's class
 * (`language: 'typescript'`), whose code it executes: the heap ceiling and Cancel bound it too.
 *
 * No `vscode` import: unit-tested with the built worker.
 */

import { Worker } from 'node:worker_threads';
import { PyTuple, type PyValue } from '../interpret/index';
import { Tensor, tensor, type DType } from '../runtime/index';
import type { ModuleCompare, PreviewModuleMessage } from '../protocol/preview';
import type { GivenInput, ImportContext, ModuleWeights } from './module-preview';

/** A PyValue as structured-clone data (tuples marked). */
export type Plain = null | number | boolean | string | Plain[] | { tuple: Plain[] };

export function encode(v: PyValue): Plain {
  if (v instanceof PyTuple) return { tuple: v.items.map(encode) };
  if (Array.isArray(v)) return v.map(encode);
  if (v === null || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') return v;
  throw new Error(`a constructor argument of this kind cannot be sent to the preview thread`);
}

export function decode(p: Plain): PyValue {
  if (Array.isArray(p)) return p.map(decode);
  if (p !== null && typeof p === 'object') return new PyTuple(p.tuple.map(decode));
  return p;
}

/** host → worker: one run. */
export interface ModuleRunRequest {
  /** The file's language: Python is interpreted (`src/interpret/`), TypeScript transpiled and run (`ts-module-run.ts`); Python when absent. */
  language?: 'python' | 'typescript';
  source: string;
  file: string;
  className: string;
  shapes: number[][];
  seed: number;
  path?: string;
  importRoots?: string[];
  args?: Plain[];
  kwargs?: [string, Plain][];
  weights?: { file: string; tensors: [string, number[], DType, Float32Array][] };
  /** Compare with PyTorch instead of a preview run: the interpreter, `python/compare_module.py`, the time limit. */
  compare?: { python: string; script: string; timeoutMs?: number };
  /** forward's first input, given (an image) rather than drawn. */
  given?: { from: string; shape: number[]; data: Float32Array };
}

export function request(source: string, file: string, className: string, shapes: readonly number[][], seed: number, where: ImportContext, weights?: ModuleWeights, given?: GivenInput): ModuleRunRequest {
  return {
    source,
    file,
    className,
    shapes: shapes.map((s) => [...s]),
    seed,
    ...(where.path ? { path: where.path } : {}),
    ...(where.importRoots ? { importRoots: [...where.importRoots] } : {}),
    ...(where.args ? { args: where.args.map(encode) } : {}),
    ...(where.kwargs ? { kwargs: [...where.kwargs].map(([k, v]): [string, Plain] => [k, encode(v)]) } : {}),
    ...(weights ? { weights: { file: weights.file, tensors: [...weights.tensors].map(([k, t]): [string, number[], DType, Float32Array] => [k, [...t.shape], t.dtype, t.contiguous().dataSync()]) } } : {}),
    ...(given ? { given: { from: given.from, shape: [...given.shape], data: given.data } } : {}),
  };
}

/** The worker's side: the request as `runModulePreview`'s arguments. */
export function unpack(r: ModuleRunRequest): { where: ImportContext; weights?: ModuleWeights; given?: GivenInput } {
  const where: ImportContext = {
    ...(r.path ? { path: r.path } : {}),
    ...(r.importRoots ? { importRoots: r.importRoots } : {}),
    ...(r.args ? { args: r.args.map(decode) } : {}),
    ...(r.kwargs ? { kwargs: new Map(r.kwargs.map(([k, v]) => [k, decode(v)])) } : {}),
  };
  const weights = r.weights ? { file: r.weights.file, tensors: new Map<string, Tensor>(r.weights.tensors.map(([k, shape, dtype, data]) => [k, tensor(data, { shape, dtype })])) } : undefined;
  return { where, weights, ...(r.given ? { given: r.given } : {}) };
}

export interface RunnerOptions {
  /** Path of the bundled worker (dist/module-worker.js). */
  script: string;
  /** Heap ceiling of the thread, MiB. */
  maxHeapMb?: number;
}

/** A run that was cancelled: the thread was terminated and nothing is shown. */
export class Cancelled extends Error {
  constructor() {
    super('cancelled');
    this.name = 'Cancelled';
  }
}

type CancelToken = { onCancellationRequested(f: () => void): unknown; isCancellationRequested?: boolean };

/** Runs one preview request on a fresh thread; `cancel` (a signal from the progress notification) terminates it. */
export function runModuleInWorker(o: RunnerOptions, req: ModuleRunRequest, cancel?: CancelToken): Promise<PreviewModuleMessage> {
  const base: PreviewModuleMessage = { type: 'module', file: req.file, className: req.className, inputs: (req.given ? [req.given.shape, ...req.shapes.slice(1)] : req.shapes).map((s, i) => ({ name: `input${i}`, shape: s })), ...(req.given ? { inputFrom: req.given.from } : {}), outputs: [], layers: [], totalParams: 0, totalFlops: 0, activationBytes: 0, forwardMs: 0 };
  return inWorker<PreviewModuleMessage>(o, req, (error) => ({ ...base, error }), cancel);
}

/** Compare with PyTorch on a fresh thread (the bundled forward and the Python run both leave the extension host free). */
export function compareInWorker(o: RunnerOptions, req: ModuleRunRequest, cancel?: CancelToken): Promise<ModuleCompare> {
  return inWorker<ModuleCompare>(o, req, (error) => ({ python: req.compare?.python ?? '', error, layers: [] }), cancel);
}

function inWorker<T>(o: RunnerOptions, req: ModuleRunRequest, failed: (error: string) => T, cancel?: CancelToken): Promise<T> {
  return new Promise((resolve, reject) => {
    const w = new Worker(o.script, { workerData: req, resourceLimits: { maxOldGenerationSizeMb: o.maxHeapMb ?? 4096 } });
    let settled = false;
    const settle = (f: () => void) => {
      if (settled) return;
      settled = true;
      f();
      void w.terminate();
    };
    cancel?.onCancellationRequested(() => settle(() => reject(new Cancelled())));
    if (cancel?.isCancellationRequested) settle(() => reject(new Cancelled()));
    w.on('message', (m: { type: 'result'; message: T } | { type: 'error'; message: string }) => {
      settle(() => (m.type === 'result' ? resolve(m.message) : resolve(failed(m.message))));
    });
    w.on('error', (e: Error & { code?: string }) => {
      settle(() => resolve(failed(e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? `${req.className} with these inputs needs more memory than the preview allows (${o.maxHeapMb ?? 4096} MiB); choose a smaller input.` : `the preview thread stopped: ${e.message}`)));
    });
    w.on('exit', (code) => settle(() => resolve(failed(`the preview thread exited (code ${code}) before it answered`))));
  });
}
