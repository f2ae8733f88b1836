/**
 * *Preview module*'s thread (bundled as dist/module-worker.js and started once per run by
 * `module-runner.ts`): it runs the request with `runModulePreview` (or, for Compare with PyTorch,
 * `compareWithTorch`; for a TypeScript file, `runTsModulePreview`) and posts the result.
 * No `vscode` import: this runs outside the extension host's module system.
 */

import { parentPort, workerData } from 'node:worker_threads';
import { compareWithTorch } from './module-compare';
import { runModulePreview } from './module-preview';
import { unpack, type ModuleRunRequest } from './module-runner';
import { runTsModulePreview } from './ts-module-run';

async function main(): Promise<void> {
  const r = workerData as ModuleRunRequest;
  try {
    const { where, weights, given } = unpack(r);
    if (r.language === 'typescript') {
      if (r.compare) throw new Error('Compare with PyTorch runs Python modules only');
      const message = runTsModulePreview({ source: r.source, file: r.file, ...(r.path ? { path: r.path } : {}), className: r.className, kwargs: new Map(r.kwargs ?? []), shapes: r.shapes, seed: r.seed, weights, given });
      parentPort!.postMessage({ type: 'result', message });
      return;
    }
    if (r.compare) {
      if (!where.path) throw new Error('Compare with PyTorch needs the file on disk');
      const message = await compareWithTorch({ ...r.compare, source: r.source, file: r.file, className: r.className, shapes: r.shapes, seed: r.seed, where: { ...where, path: where.path }, weights, given });
      parentPort!.postMessage({ type: 'result', message });
      return;
    }
    const message = await runModulePreview(r.source, r.file, r.className, r.shapes, r.seed, where, weights, given);
    parentPort!.postMessage({ type: 'result', message });
  } catch (e) {
    parentPort!.postMessage({ type: 'error', message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
  }
}

void main();
