/**
 * *Preview module*'s thread (bundled as dist/module-worker.js and started once per run by
 * `module-runner.ts`): it runs the request with `runModulePreview` and posts the panel's message.
 * No `vscode` import: this runs outside the extension host's module system.
 */

import { parentPort, workerData } from 'node:worker_threads';
import { runModulePreview } from './module-preview';
import { unpack, type ModuleRunRequest } from './module-runner';

async function main(): Promise<void> {
  const r = workerData as ModuleRunRequest;
  try {
    const { where, weights, given } = unpack(r);
    const message = await runModulePreview(r.source, r.file, r.className, r.shapes, r.seed, where, weights, given);
    parentPort!.postMessage({ type: 'result', message });
  } catch (e) {
    parentPort!.postMessage({ type: 'error', message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
  }
}

void main();
