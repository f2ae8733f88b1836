/**
 * The runtime's CPU paths on issue 3's benchmark workloads: the TypeScript
 * references (`cpuReference`) and the default backend with its WASM SIMD
 * kernels (`cpu`), medians of several runs in one process, on the workloads
 * defined in scripts/bench-runtime/workloads.ts. A stand-alone, quicker
 * measurement of the CPU columns of `npm run bench` (scripts/bench-runtime.ts
 * owns the side-by-side table with the peers); prints a table and JSON.
 *   tsx scripts/cpu-bench.ts [--reps N]
 */

import { cpu, cpuReference } from '../src/runtime/index';
import { WORKLOADS } from './bench-runtime/workloads';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const repsArg = process.argv.indexOf('--reps');
const reps = repsArg > 0 ? Number(process.argv[repsArg + 1]) : 7;
const rows: { work: string; referenceMs: number; fastMs: number; speedup: number }[] = [];
for (const w of WORKLOADS) {
  const ms: Record<string, number> = {};
  for (const [label, dev] of [['reference', cpuReference], ['fast', cpu]] as const) {
    const run = w.build().on(dev);
    run().dataSync(); // warm-up
    const times: number[] = [];
    for (let i = 0; i < (label === 'reference' ? Math.min(reps, 3) : reps); i++) {
      const t0 = performance.now();
      run().dataSync();
      times.push(performance.now() - t0);
    }
    ms[label] = median(times);
  }
  rows.push({ work: w.name, referenceMs: ms.reference, fastMs: ms.fast, speedup: ms.reference / ms.fast });
}
for (const r of rows) process.stdout.write(`${r.work.padEnd(34)} reference ${r.referenceMs.toFixed(1).padStart(8)} ms   wasm-simd ${r.fastMs.toFixed(1).padStart(7)} ms   ×${r.speedup.toFixed(1)}\n`);
process.stdout.write(JSON.stringify(rows) + '\n');
