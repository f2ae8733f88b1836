/**
 * Where a bench workload's time goes, kernel by kernel. The workload's forward runs once on the
 * CPU under `observeKernels`, which records every kernel call: its name, attributes and inputs
 * (shape, strides, offset, dtype and the whole storage, so strided operands stay strided; a
 * kernel that takes contiguous inputs gets them contiguous, their copy being the `copy` call
 * recorded before it). Each call is then replayed alone on the chosen backend — `cpu` (the WASM
 * fast paths), `cpuReference` or `webgpu` (lavapipe here, through Dawn) — as the median of
 * `--reps` timed runs after one warm-up; a WebGPU run is timed to the end of its work (`sync()`), so it includes one submit
 * and its wait. The table lists each call's median and share of their sum, next to the whole
 * forward's median on the same backend (the sum exceeds it by the per-call waits).
 *   tsx scripts/profile-kernels.ts [--backend cpu|cpuReference|webgpu] [--reps N] [--only nonlocal,attention,…]
 */

import { cpu, cpuReference, getKernel, observeKernels, Tensor, tidy, type Backend } from '../src/runtime/index';
import { contiguousStrides } from '../src/runtime/kernels/kernel';
import { fresh, runKernel } from '../src/runtime/tensor';
import { createNodeWebGpuBackend, webgpuEnv } from '../src/runtime/webgpu/node';
import { WORKLOADS } from './bench-runtime/workloads';

interface Recorded {
  kernel: string;
  attrs: unknown;
  inputs: { data: Float32Array; shape: number[]; strides: number[]; offset: number; dtype: Tensor['dtype'] }[];
  outShapes: string;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const which = arg('--backend') ?? 'cpu';
  const reps = Number(arg('--reps') ?? 21);
  const only = arg('--only')?.split(',');
  let dev: Backend;
  let sync = async (): Promise<void> => {};
  if (which === 'webgpu') {
    const env = webgpuEnv();
    for (const [k, v] of Object.entries(env)) process.env[k] = v;
    const gpu = await createNodeWebGpuBackend();
    dev = gpu;
    sync = () => gpu.sync();
  } else if (which === 'cpu' || which === 'cpuReference') dev = which === 'cpu' ? cpu : cpuReference;
  else throw new Error(`unknown backend '${which}' (cpu, cpuReference or webgpu)`);

  for (const w of WORKLOADS) {
    if (only && !only.includes(w.id)) continue;
    // Record on the CPU.
    const rec: Recorded[] = [];
    const run = w.build().on(cpu);
    tidy(() =>
      observeKernels(
        (kernel, inputs, attrs, outputs) =>
          rec.push({
            kernel,
            attrs,
            inputs: inputs.map((t) => ({ data: Float32Array.from(cpu.readSync!(t.storage)), shape: [...t.shape], strides: [...t.strides], offset: t.offset, dtype: t.dtype })),
            outShapes: outputs.map((t) => `(${t.shape.join(', ')})`).join(' '),
          }),
        () => run().dataSync(),
      ),
    );
    // The whole forward on the chosen backend.
    const whole = w.build().on(dev);
    const forward: number[] = [];
    for (let i = 0; i <= reps; i++) {
      const t0 = performance.now();
      const out = tidy(() => whole());
      await out.data();
      if (i > 0) forward.push(performance.now() - t0);
      out.dispose();
    }
    // Each call alone.
    const rows: { what: string; ms: number }[] = [];
    for (const r of rec) {
      const k = getKernel(r.kernel);
      if (!k) throw new Error(`kernel '${r.kernel}' is not in the registry`);
      // A kernel that takes contiguous inputs had them copied by a `copy` call recorded (and timed) before it.
      const given = r.inputs.map((x) => new Tensor(fresh(dev.upload(x.data)), x.shape, x.strides, x.offset, x.dtype));
      const inputs = k.contiguousInputs ? given.map((t) => t.contiguous()) : given;
      const times: number[] = [];
      for (let i = 0; i <= reps; i++) {
        await sync();
        const t0 = performance.now();
        const outs = runKernel(k, inputs, r.attrs);
        await sync();
        if (i > 0) times.push(performance.now() - t0);
        for (const o of outs) o.dispose();
      }
      for (const t of new Set([...given, ...inputs])) t.dispose();
      rows.push({ what: `${r.kernel} ${r.inputs.map((x) => `(${x.shape.join(', ')})${x.strides.join() === contiguousStrides(x.shape).join() ? '' : ' strided'}`).join(' ')} -> ${r.outShapes}`, ms: median(times) });
    }
    const sum = rows.reduce((s, r) => s + r.ms, 0);
    console.log(`\n${w.name} on ${dev.name}: forward ${median(forward).toFixed(2)} ms (median of ${reps}); ${rows.length} kernel calls replayed alone, sum ${sum.toFixed(2)} ms`);
    for (const r of rows) console.log(`  ${r.ms.toFixed(3).padStart(9)} ms ${((100 * r.ms) / sum).toFixed(1).padStart(5)} %  ${r.what}`);
  }
  process.exit(0);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
