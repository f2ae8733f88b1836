/**
 * Runs WebGPU work for tests in a child Node process (`webgpu-child.ts`) that
 * owns the Dawn device. Why a separate process: the Vulkan loader and the
 * dynamic linker read their variables (`VK_ICD_FILENAMES`, `LD_LIBRARY_PATH`)
 * before Dawn loads, and Dawn in Node can crash or hang when tens of
 * milliseconds of busy JavaScript run between GPU calls, which the rest of
 * the suite (CPU references, torch goldens) does all the time. The child
 * only uploads, dispatches and reads back; the test process compares.
 *
 * Calls name an exported function of `webgpu-tasks.ts` (a fixed table, no
 * code is sent) and carry structured-cloneable arguments (typed arrays
 * included). A call that takes longer than its timeout kills the child and
 * fails, so a hung device never hangs the suite.
 */

import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { webgpuEnv } from '../../src/runtime/webgpu/node';
import type * as Tasks from './webgpu-tasks';

type TaskName = keyof typeof Tasks;
type TaskArgs<K extends TaskName> = Parameters<(typeof Tasks)[K]>;
type TaskResult<K extends TaskName> = Awaited<ReturnType<(typeof Tasks)[K]>>;

interface Reply {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: { name: string; message: string };
}

/** An error thrown inside the child, with its original class name. */
export class ChildError extends Error {
  constructor(
    readonly errorName: string,
    message: string,
  ) {
    super(message);
    this.name = errorName;
  }
}

export class WebGpuChild {
  private readonly child: ChildProcess;
  private next = 1;
  private readonly waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout }>();
  private exited: string | null = null;
  private stderr = '';

  constructor() {
    this.child = fork(path.join(__dirname, 'webgpu-child.ts'), [], {
      execArgv: ['--require', 'tsx/cjs'],
      env: { ...process.env, ...webgpuEnv() },
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    this.child.stderr!.on('data', (d: Buffer) => {
      // Dawn's start-up warnings about reduced dynamic-offset limits are noise.
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    this.child.on('message', (m: Reply) => {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      clearTimeout(w.timer);
      if (m.ok) w.resolve(m.value);
      else w.reject(new ChildError(m.error!.name, m.error!.message));
    });
    this.child.on('exit', (code, signal) => {
      this.exited = `WebGPU child exited (code ${code}, signal ${signal}); stderr: ${this.stderr.trim()}`;
      for (const w of this.waiting.values()) {
        clearTimeout(w.timer);
        w.reject(new Error(this.exited));
      }
      this.waiting.clear();
    });
  }

  call<K extends TaskName>(task: K, args: TaskArgs<K>, timeoutMs = 60_000): Promise<TaskResult<K>> {
    if (this.exited) return Promise.reject(new Error(this.exited));
    const id = this.next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        this.child.kill('SIGKILL');
        reject(new Error(`WebGPU task ${String(task)} timed out after ${timeoutMs} ms (child killed)`));
      }, timeoutMs);
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.child.send({ id, task, args });
    });
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.send({ id: 0, task: 'exit', args: [] });
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await done;
    clearTimeout(t);
  }
}
