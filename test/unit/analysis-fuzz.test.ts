/**
 * Robustness: 10,000 mutated and truncated versions of the corpus (deterministic seed):
 * truncations, deleted/duplicated/swapped lines, changed integers, inserted tokens, broken
 * indentation. The analyzer must never throw on one of them. Their CPU times are printed as a
 * report, not asserted (speed is measured by `npm run bench`); the evaluator's step budget
 * bounds the work any input can cause.
 */

import * as assert from 'node:assert/strict';
import { analyzeSource, corpus, ready } from './analysis.helpers';

const N = 10000;
const TOKENS = ['(', ')', ':', ',', '[', ']', 'x.view(', '.permute(0, ', 'torch.cat([', ' @ ', '**', 'None', '-1', 'self.', '"""', '#', '\\', 'lambda', ' if ', 'yield ', '.shape[', '...'];
const INTS = ['0', '1', '-1', '2', '3', '7', '1000', '65536', '-3', '0x10', '1e9'];

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function mutate(src: string, r: () => number): string {
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
  const lines = src.split('\n');
  const times = 1 + Math.floor(r() * 3);
  let out = src;
  for (let t = 0; t < times; t++) {
    const k = Math.floor(r() * 7);
    const ls = out.split('\n');
    const i = Math.floor(r() * ls.length);
    if (k === 0) out = out.slice(0, Math.floor(r() * out.length));
    else if (k === 1) out = [...ls.slice(0, i), ...ls.slice(i + 1)].join('\n');
    else if (k === 2) out = [...ls.slice(0, i), ls[i], ...ls.slice(i)].join('\n');
    else if (k === 3) {
      const j = Math.floor(r() * ls.length);
      [ls[i], ls[j]] = [ls[j], ls[i]];
      out = ls.join('\n');
    } else if (k === 4) {
      const nums = [...out.matchAll(/\b\d+\b/g)];
      if (nums.length) {
        const m = pick(nums);
        out = out.slice(0, m.index) + pick(INTS) + out.slice(m.index! + m[0].length);
      }
    } else if (k === 5) {
      const p = Math.floor(r() * out.length);
      out = out.slice(0, p) + pick(TOKENS) + out.slice(p);
    } else {
      ls[i] = (r() < 0.5 ? ' ' : '') + ls[i].replace(/^ {4}/, r() < 0.5 ? '' : '        ');
      out = ls.join('\n');
    }
  }
  void lines;
  return out;
}

describe('analyzer fuzz', function () {
  before(ready);

  it(`never throws on ${N} mutated corpus programs (CPU times printed)`, function () {
    const sources = corpus().map((p) => p.source);
    const r = rng(20240601);
    let max = 0;
    let worst = '';
    let total = 0;
    for (let n = 0; n < N; n++) {
      const src = mutate(sources[n % sources.length], r);
      const timed = (): number => {
        // CPU time of this process, so other processes on a loaded machine do not count.
        const t0 = process.cpuUsage();
        try {
          analyzeSource(src);
        } catch (e) {
          assert.fail(`analyze threw on variant ${n}: ${(e as Error).stack}\n--- source ---\n${src}`);
        }
        const d = process.cpuUsage(t0);
        return (d.user + d.system) / 1000;
      };
      let ms = timed();
      // A slow first run may be a garbage collection; the analysis is deterministic, so the
      // better of two runs is the variant's own cost.
      if (ms >= 100) ms = Math.min(ms, timed());
      total += ms;
      if (ms > max) {
        max = ms;
        worst = src;
      }
    }
    console.log(`      ${N} variants: max ${max.toFixed(1)} ms, mean ${(total / N).toFixed(2)} ms (CPU time); slowest variant's first line: ${JSON.stringify(worst.split('\n', 1)[0])}`);
  });
});
