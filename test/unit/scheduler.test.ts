/**
 * The diagnostics scheduler (src/extension/scheduler.ts), with a hand-driven timer: requests
 * are debounced, a newer request cancels the pending one, closing cancels, and a result for a
 * version the document no longer has is dropped.
 */

import * as assert from 'node:assert/strict';
import { Scheduler } from '../../src/extension/scheduler';
import type { Timer } from '../../src/extension/scheduler';

class ManualTimer implements Timer {
  private next = 1;
  readonly pending = new Map<number, () => void>();
  set(fn: () => void): unknown {
    const id = this.next++;
    this.pending.set(id, fn);
    return id;
  }
  clear(h: unknown): void {
    this.pending.delete(h as number);
  }
  async fireAll(): Promise<void> {
    const fns = [...this.pending.values()];
    this.pending.clear();
    for (const f of fns) f();
    await new Promise((r) => setImmediate(r));
  }
}

describe('scheduler', function () {
  it('debounces: only the last request of a burst runs', async function () {
    const timer = new ManualTimer();
    const delivered: string[] = [];
    let version = 3;
    const runs: number[] = [];
    const s = new Scheduler<string>(timer, () => version, (_k, r) => delivered.push(r));
    for (const v of [1, 2, 3]) s.request('a', { version: v, run: () => (runs.push(v), `v${v}`) }, 300);
    assert.equal(timer.pending.size, 1);
    await timer.fireAll();
    assert.deepEqual(runs, [3]);
    assert.deepEqual(delivered, ['v3']);
    assert.equal(s.stats.cancelled, 2);
    version = 4;
  });

  it('counts per document, and says when a document has nothing pending or running', async function () {
    const timer = new ManualTimer();
    const s = new Scheduler<string>(timer, () => 1, () => undefined);
    let finish!: (v: string) => void;
    assert.equal(s.idle('a'), true);
    s.request('a', { version: 1, run: () => new Promise<string>((r) => (finish = r)) }, 0);
    s.request('b', { version: 1, run: () => 'b' }, 0);
    assert.equal(s.idle('a'), false, 'pending');
    await timer.fireAll();
    assert.equal(s.idle('a'), false, 'running');
    assert.equal(s.idle('b'), true);
    finish('a');
    await new Promise((r) => setImmediate(r));
    assert.equal(s.idle('a'), true);
    assert.deepEqual(s.statsOf('a'), { started: 1, delivered: 1, dropped: 0, cancelled: 0 });
    assert.deepEqual(s.statsOf('b'), { started: 1, delivered: 1, dropped: 0, cancelled: 0 });
    assert.deepEqual(s.statsOf('c'), { started: 0, delivered: 0, dropped: 0, cancelled: 0 });
    assert.equal(s.stats.started, 2);
  });

  it('drops a result whose document version moved on while it ran', async function () {
    const timer = new ManualTimer();
    const delivered: string[] = [];
    let version = 1;
    const s = new Scheduler<string>(timer, () => version, (_k, r) => delivered.push(r));
    let finish!: (v: string) => void;
    s.request('a', { version: 1, run: () => new Promise<string>((r) => (finish = r)) }, 0);
    await timer.fireAll();
    version = 2;
    finish('old');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(delivered, []);
    assert.equal(s.stats.dropped, 1);
  });

  it('a newer run supersedes one still in flight; closing cancels', async function () {
    const timer = new ManualTimer();
    const delivered: string[] = [];
    const s = new Scheduler<string>(timer, (k) => (k === 'closed' ? undefined : 1), (_k, r) => delivered.push(r));
    let finishOld!: (v: string) => void;
    s.request('a', { version: 1, run: () => new Promise<string>((r) => (finishOld = r)) }, 0);
    await timer.fireAll();
    s.request('a', { version: 1, run: () => 'new' }, 0);
    await timer.fireAll();
    finishOld('old');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(delivered, ['new']);
    s.request('closed', { version: 1, run: () => 'x' }, 10);
    s.cancel('closed');
    await timer.fireAll();
    assert.deepEqual(delivered, ['new']);
  });

  it('survives a failing job', async function () {
    const timer = new ManualTimer();
    const s = new Scheduler<string>(timer, () => 1, () => assert.fail('nothing to deliver'));
    s.request('a', { version: 1, run: () => { throw new Error('boom'); } }, 0);
    await timer.fireAll();
    assert.equal(s.stats.delivered, 0);
  });
});
