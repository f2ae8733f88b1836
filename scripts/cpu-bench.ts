/**
 * The runtime's CPU paths on issue 3's benchmark workloads: the TypeScript
 * references (`cpuReference`) and the default backend with its WASM SIMD
 * kernels (`cpu`), medians of several runs in one process. A stand-alone
 * measurement for the CPU column of `npm run bench` (scripts/bench.ts, which
 * owns the side-by-side table with the peers); prints a table and JSON.
 *   tsx scripts/cpu-bench.ts [--reps N]
 */

import { cpu, cpuReference, F, Generator, nn, randn, type Backend, type Tensor } from '../src/runtime/index';
import { instantiateBlock } from '../src/twins/registry';

interface Work {
  name: string;
  setup(dev: Backend): () => Tensor;
}

const WORK: Work[] = [
  {
    name: 'attention L=1024 d=64 (1 head)',
    setup: (dev) => {
      const g = new Generator(0);
      const [q, k, v] = [randn([1, 1024, 64], g, dev), randn([1, 1024, 64], g, dev), randn([1, 1024, 64], g, dev)];
      return () => F.scaledDotProductAttention(q, k, v);
    },
  },
  {
    name: 'MHA B=2 L=512 E=256 H=8',
    setup: (dev) => {
      const g = new Generator(0);
      const mha = new nn.MultiheadAttention(256, 8, { batch_first: true, generator: g, device: dev });
      const x = randn([2, 512, 256], g, dev);
      return () => mha.forward(x, x, x, { need_weights: false })[0];
    },
  },
  {
    name: 'SAGAN 32x64x64',
    setup: (dev) => {
      const g = new Generator(0);
      const m = instantiateBlock('sagan-spatial', { in_channels: 32, k: 8, spectral_norm: false }, { generator: g, device: dev });
      const x = randn([1, 32, 64, 64], g, dev);
      return () => (m.forward(x) as Tensor[])[0];
    },
  },
  {
    name: 'Non-local 2D 64x32x32',
    setup: (dev) => {
      const g = new Generator(0);
      const m = instantiateBlock('non-local', { in_channels: 64, inter_channels: null, dimension: '2', mode: 'embedded_gaussian', sub_sample: true, bn_layer: true, need_weights: false }, { generator: g, device: dev });
      const x = randn([1, 64, 32, 32], g, dev);
      return () => m.forward(x) as Tensor;
    },
  },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const repsArg = process.argv.indexOf('--reps');
const reps = repsArg > 0 ? Number(process.argv[repsArg + 1]) : 7;
const rows: { work: string; referenceMs: number; fastMs: number; speedup: number }[] = [];
for (const w of WORK) {
  const ms: Record<string, number> = {};
  for (const [label, dev] of [['reference', cpuReference], ['fast', cpu]] as const) {
    const run = w.setup(dev);
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
