/**
 * The child process of `webgpu.ts`: owns one WebGPU backend on the Node
 * device (lavapipe here) and runs the tasks of `webgpu-tasks.ts` the test
 * process asks for, one at a time, replying with their results or errors.
 * It never computes references: that busy work stays in the parent.
 */

import * as tasks from './webgpu-tasks';

interface Request {
  id: number;
  task: string;
  args: unknown[];
}

const table = tasks as unknown as Record<string, (...args: unknown[]) => unknown>;
let queue: Promise<void> = Promise.resolve();

process.on('message', (m: Request) => {
  if (m.task === 'exit') {
    void queue.then(async () => {
      await tasks.shutdown();
      process.disconnect();
    });
    return;
  }
  queue = queue.then(async () => {
    try {
      const fn = Object.prototype.hasOwnProperty.call(table, m.task) ? table[m.task] : undefined;
      if (typeof fn !== 'function') throw new Error(`unknown WebGPU task ${m.task}`);
      process.send!({ id: m.id, ok: true, value: await fn(...m.args) });
    } catch (e) {
      const err = e as Error;
      process.send!({ id: m.id, ok: false, error: { name: err.name ?? 'Error', message: err.message ?? String(e) } });
    }
  });
});
