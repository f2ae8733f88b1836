/**
 * The analyzer's thread in the editor (bundled as dist/analysis-worker.js and started by
 * `analysis-client.ts` with `worker_threads`): it keeps one incremental `AnalysisSession` per
 * open document, so the extension host's thread never parses or evaluates. Requests are
 * served in arrival order; an `analyze` request that a newer one for the same document has
 * already superseded in the queue is answered `superseded` without work, so a burst of
 * keystrokes costs one analysis. A failure in one document disposes that document's session
 * (the next request starts afresh) and is answered as an error; the thread goes on.
 *
 * No `vscode` import: this runs outside the extension host's module system.
 */

import { parentPort } from 'node:worker_threads';
import { AnalysisSession, initAnalyzer } from '../analysis';
import type { FromWorker, ToWorker } from './analysis-client';

const sessions = new Map<string, AnalysisSession>();
const queue: ToWorker[] = [];
let draining = false;
const ready = initAnalyzer();

function post(m: FromWorker): void {
  parentPort!.postMessage(m);
}

function serve(m: ToWorker): void {
  if (m.type === 'close') {
    sessions.get(m.key)?.dispose();
    sessions.delete(m.key);
    return;
  }
  if (queue.some((q) => q.type === 'analyze' && q.key === m.key)) {
    post({ type: 'superseded', id: m.id });
    return;
  }
  let s = sessions.get(m.key);
  if (!s) sessions.set(m.key, (s = new AnalysisSession()));
  const t0 = performance.now();
  try {
    const analysis = s.analyze(m.text, m.budgetMs !== undefined ? { budgetMs: m.budgetMs } : {});
    post({ type: 'result', id: m.id, analysis, ms: performance.now() - t0, heapBytes: process.memoryUsage().heapUsed });
  } catch (e) {
    s.dispose();
    sessions.delete(m.key);
    post({ type: 'error', id: m.id, message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
  }
}

async function drain(): Promise<void> {
  if (draining) return;
  draining = true;
  try {
    await ready;
  } catch (e) {
    // Without a parser nothing can be served: answer every request with the reason.
    for (const m of queue.splice(0)) if (m.type === 'analyze') post({ type: 'error', id: m.id, message: `the analyzer could not start: ${e instanceof Error ? e.message : String(e)}` });
    draining = false;
    return;
  }
  while (queue.length) {
    serve(queue.shift()!);
    // Let messages that arrived meanwhile join the queue, so superseded requests are skipped.
    if (queue.length) await new Promise<void>((r) => setImmediate(r));
  }
  draining = false;
}

parentPort!.on('message', (m: ToWorker) => {
  queue.push(m);
  void drain();
});
