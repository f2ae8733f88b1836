/**
 * The editor's analyzer thread through the built worker (dist/analysis-worker.js; run
 * `npm run build` first): results equal an in-process analysis, a burst of requests for one
 * document costs one analysis (the others are superseded), the host thread keeps ticking while
 * a 100,000-line file is analysed, the time budget yields partial results with a notice, and a
 * worker that dies (here: out of its heap) fails its pending request and is replaced on the
 * next one.
 */

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyze, initAnalyzer } from '../../src/analysis';
import { AnalysisWorkerClient, Superseded } from '../../src/extension/analysis-client';
import { CORPUS } from './analysis.helpers';

const SCRIPT = path.resolve(__dirname, '../../dist/analysis-worker.js');

function bigFile(lines: number): string {
  const files = fs.readdirSync(CORPUS).filter((f) => f.endsWith('.py')).sort();
  const parts: string[] = [];
  let n = 0;
  for (let i = 0; n < lines; i++) {
    let t = fs.readFileSync(path.join(CORPUS, files[i % files.length]), 'utf8');
    // Each copy its own text (a comment with a bracket is kept in the unit cache's key), so every
    // copy is evaluated: identical units would share one evaluation.
    if (i >= files.length) t = t.split('\n').map((l) => (l.trim() && !l.endsWith('\\') ? `${l}  # (copy ${i})` : l)).join('\n');
    parts.push(t);
    n += t.split('\n').length - 1;
  }
  return parts.join('');
}

describe('analyzer thread (editor)', function () {
  let client: AnalysisWorkerClient;
  before(async function () {
    assert.ok(fs.existsSync(SCRIPT), 'dist/analysis-worker.js missing: run npm run build');
    await initAnalyzer();
    client = new AnalysisWorkerClient({ script: SCRIPT });
  });
  after(async function () {
    await client.dispose();
  });

  it('a burst of requests for one document: the last is analysed, the others superseded; results equal analyze()', async function () {
    const text = fs.readFileSync(path.join(CORPUS, 'view_after_transpose.py'), 'utf8');
    const edits = [text.replace('\n', '\n\n'), text.replace('\n', '\n#\n'), text];
    const results = await Promise.allSettled(edits.map((t) => client.analyze('doc-a', t)));
    assert.ok(results[0].status === 'rejected' && results[0].reason instanceof Superseded);
    assert.ok(results[1].status === 'rejected' && results[1].reason instanceof Superseded);
    assert.equal(results[2].status, 'fulfilled');
    const r = (results[2] as PromiseFulfilledResult<Awaited<ReturnType<AnalysisWorkerClient['analyze']>>>).value;
    assert.deepEqual(r.analysis, analyze(text));
    // The session is incremental: a one-line edit gives what a cold analysis gives.
    const edited = text.replace('import torch', 'import torch  # edited');
    assert.deepEqual((await client.analyze('doc-a', edited)).analysis, analyze(edited));
  });

  it('keeps the host thread free while a 100,000-line file is analysed; the time budget gives partial results and a notice', async function () {
    const text = bigFile(100_000);
    let maxGap = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }, 10);
    const t0 = performance.now();
    const full = await client.analyze('big', text);
    const wall = performance.now() - t0;
    clearInterval(timer);
    console.log(`      100,000 lines: ${full.ms.toFixed(0)} ms in the worker, worker heap ${(full.heapBytes / 2 ** 20).toFixed(0)} MiB; longest host-thread gap ${maxGap.toFixed(0)} ms over ${wall.toFixed(0)} ms`);
    assert.ok(maxGap < 250, `the host thread stalled ${maxGap.toFixed(0)} ms`);
    assert.ok(full.analysis.diagnostics.length > 1000);
    client.close('big');
    const partial = await client.analyze('big-budget', text, 200);
    client.close('big-budget');
    assert.ok(partial.analysis.diagnostics.length > 0 && partial.analysis.diagnostics.length < full.analysis.diagnostics.length);
    assert.ok(partial.analysis.notices.some((n) => n.kind === 'budget' && /analysis stopped after 200 ms/.test(n.message)));
  });

  it('a worker that dies fails its pending request and is replaced on the next one', async function () {
    const small = new AnalysisWorkerClient({ script: SCRIPT, maxHeapMb: 48 });
    try {
      await assert.rejects(small.analyze('huge', bigFile(100_000)), /analyzer thread stopped|out of memory/i);
      const text = fs.readFileSync(path.join(CORPUS, 'view_after_transpose.py'), 'utf8');
      assert.deepEqual((await small.analyze('ok', text)).analysis, analyze(text));
      assert.equal(small.starts, 2);
    } finally {
      await small.dispose();
    }
  });
});
