/**
 * The preview's worker (bundled as `dist/webview/preview-worker.js`): hosts the run loop
 * (`runner.ts`) off the page's thread. Every message is validated on receipt
 * (`parseWorkerRequest`); a malformed one is dropped. The page terminates this worker to cancel
 * a run, and starts a new one for the next.
 */

import { parseWorkerRequest } from '../../src/protocol/preview-worker';
import type { WorkerReply } from '../../src/protocol/preview-worker';
import { PreviewRunner } from './runner';

interface WorkerScope {
  postMessage(m: WorkerReply, transfer: Transferable[]): void;
  addEventListener(type: 'message', fn: (e: MessageEvent) => void): void;
}

const scope = self as unknown as WorkerScope;
const runner = new PreviewRunner((m, transfer) => scope.postMessage(m, transfer), "in the preview's worker");
scope.addEventListener('message', (e) => {
  const m = parseWorkerRequest(e.data);
  if (!m) {
    console.warn('the preview worker dropped a malformed message', e.data);
    return;
  }
  void runner.handle(m);
});
