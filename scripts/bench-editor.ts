/**
 * What typing costs in the editor, before and after the analyzer moved to a worker thread
 * (`npx tsx scripts/bench-editor.ts`, after `npm run build`). A 5,000-line file (the labelled
 * corpus repeated) is edited one character at a time, 40 keystrokes 50 ms apart (a fast typist),
 * while a 5 ms interval timer stands in for the extension host's other work; the longest gap
 * between its ticks is the longest time a keystroke, hover or completion would have waited on the
 * host thread.
 *
 * - before: what the extension did on each change, a cold `analyze()` on the host thread (the
 *   debounce only merges keystrokes; each analysis blocks the thread for its whole duration);
 * - after: `AnalysisWorkerClient.analyze` (the incremental session in the worker): the host
 *   thread copies the text; end-to-end latency is from the keystroke to the result.
 *
 * Then a 100,000-line file is analysed in the worker: time, the worker's V8 heap and the
 * process's RSS growth. Numbers go to stdout as a Markdown table.
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyze, initAnalyzer } from '../src/analysis';
import { AnalysisWorkerClient, Superseded } from '../src/extension/analysis-client';

const ROOT = path.resolve(__dirname, '..');
const CORPUS = path.join(ROOT, 'test/fixtures/corpus');

function fileOf(lines: number): string {
  const files = fs.readdirSync(CORPUS).filter((f) => f.endsWith('.py')).sort();
  const parts: string[] = [];
  let n = 0;
  for (let i = 0; n < lines; i++) {
    const t = fs.readFileSync(path.join(CORPUS, files[i % files.length]), 'utf8');
    parts.push(t);
    n += t.split('\n').length - 1;
  }
  return parts.join('');
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Types `count` characters into the middle of `text`, one per `every` ms; `onKey` sees each new text. */
async function typing(text: string, count: number, every: number, onKey: (t: string, i: number) => void | Promise<void>): Promise<{ maxGap: number }> {
  let maxGap = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
  }, 5);
  const at = text.indexOf('\n', Math.floor(text.length / 2)) + 1;
  let cur = text;
  const pending: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    cur = `${cur.slice(0, at + i)}x${cur.slice(at + i)}`;
    const r = onKey(cur, i);
    if (r) pending.push(r);
    await new Promise((res) => setTimeout(res, every));
  }
  await Promise.all(pending);
  clearInterval(timer);
  return { maxGap };
}

async function main(): Promise<void> {
  await initAnalyzer();
  const text = fileOf(5000);
  const lines = text.split('\n').length - 1;

  // Before: a cold analysis on the host thread per change (debounced to one per keystroke burst
  // of 300 ms in the extension; here every 6th keystroke, 300 ms apart, runs one).
  const before: number[] = [];
  const b = await typing(text, 40, 50, (t, i) => {
    if (i % 6 !== 5) return;
    const t0 = performance.now();
    analyze(t);
    before.push(performance.now() - t0);
  });

  // After: every keystroke posts to the worker (the scheduler would post after the debounce;
  // posting each one is the harder case), results arrive asynchronously.
  const client = new AnalysisWorkerClient({ script: path.join(ROOT, 'dist/analysis-worker.js') });
  await client.analyze('doc', text);
  const post: number[] = [];
  const latency: number[] = [];
  const workerMs: number[] = [];
  let superseded = 0;
  const a = await typing(text, 40, 50, (t) => {
    const t0 = performance.now();
    const p = client.analyze('doc', t);
    post.push(performance.now() - t0);
    return p.then(
      (r) => {
        latency.push(performance.now() - t0);
        workerMs.push(r.ms);
      },
      (e) => {
        if (e instanceof Superseded) superseded++;
        else throw e;
      },
    );
  });

  const big = fileOf(100_000);
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  const r = await client.analyze('big', big);
  const bigWall = performance.now() - t0;
  const rss1 = process.memoryUsage().rss;
  await client.dispose();

  const f = (x: number) => x.toFixed(1);
  console.log(`| ${lines.toLocaleString('en-US')}-line file, 40 keystrokes 50 ms apart | host thread blocked per analysis | longest host-thread stall | keystroke → diagnostics |`);
  console.log('|---|---:|---:|---:|');
  console.log(`| before: cold \`analyze()\` on the host thread | ${f(median(before))} ms (median) | ${f(b.maxGap)} ms | ${f(median(before))} ms + debounce |`);
  console.log(`| after: incremental session in the worker | ${f(median(post))} ms (posting the text) | ${f(a.maxGap)} ms | ${f(median(latency))} ms (median; worker ${f(median(workerMs))} ms; ${superseded} of 40 superseded) |`);
  console.log('');
  console.log(`100,000-line file (${big.split('\n').length - 1} lines) in the worker: ${f(r.ms / 1000)} s analysing (${f(bigWall / 1000)} s wall), worker heap ${f(r.heapBytes / 2 ** 20)} MiB, process RSS +${f((rss1 - rss0) / 2 ** 20)} MiB (${f(rss1 / 2 ** 20)} MiB total).`);
}

void main();
