/**
 * The extension host's side of the analyzer thread (`analysis-worker.ts`): `analyze(key, text)`
 * posts the document's text to the worker, which analyses it with that document's incremental
 * session, and resolves with the result; the host thread only copies the text. `close(key)`
 * drops the document's session. A request superseded by a newer one for the same document
 * rejects with `Superseded` (the scheduler drops it, as it drops any cancelled run). When the
 * worker dies (out of memory, a crash) every pending request rejects with the reason and the
 * next request starts a new worker: the editor never waits on a dead thread.
 *
 * No `vscode` import: unit-tested with the built worker.
 */

import { Worker } from 'node:worker_threads';
import type { Analysis } from '../analysis';

/** host → worker. */
export type ToWorker = { type: 'analyze'; id: number; key: string; text: string; budgetMs?: number } | { type: 'close'; key: string };

/** worker → host. */
export type FromWorker =
  | { type: 'result'; id: number; analysis: Analysis; ms: number; heapBytes: number }
  | { type: 'superseded'; id: number }
  | { type: 'error'; id: number; message: string };

/** A request the worker skipped because a newer one for the same document was queued. */
export class Superseded extends Error {
  constructor() {
    super('superseded by a newer analysis of the same document');
    this.name = 'Superseded';
  }
}

export interface WorkerResult {
  analysis: Analysis;
  /** Milliseconds the worker spent analysing. */
  ms: number;
  /** The worker's V8 heap after the analysis. */
  heapBytes: number;
}

export interface ClientOptions {
  /** Path of the bundled worker script (dist/analysis-worker.js). */
  script: string;
  /** Heap ceiling of the worker thread, MiB (past it the worker dies, not the extension host). */
  maxHeapMb?: number;
  /** Stack of the worker thread, MiB. */
  stackMb?: number;
  log?: (message: string) => void;
}

export class AnalysisWorkerClient {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (r: WorkerResult) => void; reject: (e: Error) => void }>();
  /** How many times a worker was started (1 after the first request). */
  starts = 0;

  constructor(private readonly o: ClientOptions) {}

  analyze(key: string, text: string, budgetMs?: number): Promise<WorkerResult> {
    const w = this.start();
    const id = ++this.nextId;
    return new Promise<WorkerResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      w.ref();
      const m: ToWorker = budgetMs !== undefined ? { type: 'analyze', id, key, text, budgetMs } : { type: 'analyze', id, key, text };
      w.postMessage(m);
    });
  }

  close(key: string): void {
    this.worker?.postMessage({ type: 'close', key } satisfies ToWorker);
  }

  async dispose(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    this.failAll(new Error('the analyzer was stopped'));
    if (w) await w.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    this.starts++;
    const w = new Worker(this.o.script, {
      resourceLimits: { maxOldGenerationSizeMb: this.o.maxHeapMb ?? 4096, stackSizeMb: this.o.stackMb ?? 8 },
    });
    // An idle worker must not keep a process alive on its own; a pending request does.
    w.unref();
    w.on('message', (m: FromWorker) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) w.unref();
      if (m.type === 'result') p.resolve({ analysis: m.analysis, ms: m.ms, heapBytes: m.heapBytes });
      else if (m.type === 'superseded') p.reject(new Superseded());
      else p.reject(new Error(m.message));
    });
    const died = (why: string) => {
      if (this.worker !== w) return;
      this.worker = undefined;
      this.o.log?.(`analyzer thread stopped: ${why}; the next analysis starts a new one`);
      this.failAll(new Error(`the analyzer thread stopped: ${why}`));
    };
    w.on('error', (e) => died(e.message));
    w.on('exit', (code) => died(`exit code ${code}`));
    this.worker = w;
    return w;
  }

  private failAll(e: Error): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(e);
  }
}
