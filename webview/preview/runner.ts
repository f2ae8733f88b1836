/**
 * The preview's run loop, DOM-free: it picks the backend (WebGPU when `navigator.gpu` gives an
 * adapter, else the CPU backend once its WebAssembly SIMD kernels have compiled), holds the
 * block's module (rebuilt only when the block, seed, weights or backend change) and the checked
 * weights, and answers the page's `WorkerRequest`s (`src/protocol/preview-worker.ts`) one at a
 * time, in order: a dry run that may refuse the input, the forward with a progress message per
 * layer, then the result with the maps' and gates' buffers transferred, not copied.
 *
 * It normally runs inside the preview's worker (`worker.ts`), so a long forward never blocks the
 * page and Cancel terminates the worker; the page can also host it on its own thread when no
 * worker can be started, and then a cancelled run is dropped between phases instead (the page
 * says so). Either way the same code runs.
 */

import type { Backend } from '../../src/runtime/backend';
import { cpu } from '../../src/runtime/cpu';
import type { Tensor } from '../../src/runtime/index';
import { wasmKernelsReady } from '../../src/runtime/wasm/index';
import { requestDeviceFrom, WebGpuBackend } from '../../src/runtime/webgpu/backend';
import type { PreviewBlock } from '../../src/protocol/preview';
import type { WeightsReport, WorkerDeviceMessage, WorkerReply, WorkerRequest, WorkerStats } from '../../src/protocol/preview-worker';
import { checkWeights, dryRun, instantiate, prepare, runOnce, TapBackend } from './engine';
import type { PreparedRun } from './engine';

/** Typical adapters' limit, used to warn on the CPU path about what a GPU would refuse. */
export const TYPICAL_BINDING_LIMIT = 128 * 1024 * 1024;

interface Device {
  info: WorkerDeviceMessage;
  backend: Backend;
  gpu?: WebGpuBackend;
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

async function cpuDevice(reason: string): Promise<Device> {
  const simd = await wasmKernelsReady().catch(() => false);
  const adapter = simd ? 'WebAssembly SIMD (CPU backend)' : 'JavaScript (CPU reference kernels; WebAssembly SIMD unavailable)';
  return { info: { type: 'device', kind: 'cpu', adapter, reason, limit: TYPICAL_BINDING_LIMIT }, backend: cpu };
}

/** WebGPU when this context's `navigator.gpu` yields an adapter and a device, else the CPU, with the reason. */
export async function pickDevice(where: string): Promise<Device> {
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu) return cpuDevice(`WebGPU is not available ${where} (navigator.gpu is undefined).`);
  try {
    const adapter = await withTimeout(gpu.requestAdapter(), 5000, 'navigator.gpu.requestAdapter()');
    if (!adapter) return cpuDevice('navigator.gpu.requestAdapter() returned no adapter (usual for VS Code on Linux, or a GPU blocklisted by the browser).');
    const device = await withTimeout(requestDeviceFrom(adapter), 5000, 'adapter.requestDevice()');
    const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
    const name = [info?.vendor, info?.architecture, info?.description, info?.device].filter(Boolean).join(' ') || 'unknown adapter';
    const backend = new WebGpuBackend(device, { adapter: name });
    return { info: { type: 'device', kind: 'webgpu', adapter: name, reason: 'A WebGPU adapter is available.', limit: device.limits.maxStorageBufferBindingSize }, backend, gpu: backend };
  } catch (e) {
    return cpuDevice(`WebGPU failed to start: ${(e as Error).message}`);
  }
}

export type Post = (m: WorkerReply, transfer: Transferable[]) => void;

/** Serves requests in order; `handle` takes messages already validated by `parseWorkerRequest`. */
export class PreviewRunner {
  private readonly device: Promise<Device>;
  private prepared: (PreparedRun & { key: string }) | undefined;
  private weights: { fileName: string; sd: Map<string, Tensor> } | undefined;
  private queue: Promise<void> = Promise.resolve();
  private runs = 0;
  /** Runs at or below this sequence number are dropped before their next phase (the page-thread Cancel). */
  cancelledUpTo = -1;

  constructor(
    private readonly post: Post,
    where: string,
  ) {
    this.device = pickDevice(where).then((d) => {
      post(d.info, []);
      return d;
    });
  }

  handle(m: WorkerRequest): Promise<void> {
    this.queue = this.queue.then(() => this.serve(m)).catch(() => undefined);
    return this.queue;
  }

  private stats(d: Device): WorkerStats {
    return { liveStorages: this.prepared?.tap.live.size ?? 0, runs: this.runs, ...(d.gpu ? { buffersCreated: d.gpu.stats.buffersCreated } : {}) };
  }

  private async serve(m: WorkerRequest): Promise<void> {
    const d = await this.device;
    switch (m.type) {
      case 'run':
        return this.run(d, m.seq, m.block, m.settings, m.force);
      case 'weights': {
        try {
          const { sd, report } = checkWeights(instantiate(m.block, m.seed, cpu), m.bytes);
          if (report.ok) this.weights = { fileName: m.fileName, sd };
          this.post({ type: 'weightsChecked', fileName: m.fileName, report }, []);
        } catch (e) {
          this.post({ type: 'weightsChecked', fileName: m.fileName, report: { ok: false, missing: [], unexpected: [], mismatched: [] }, error: `${m.fileName} is not a readable .safetensors file: ${(e as Error).message}` }, []);
        }
        return;
      }
      case 'clearWeights':
        this.weights = undefined;
        return;
      case 'dispose':
        this.release();
        if (d.gpu) d.gpu.trim();
        this.post({ type: 'disposed', stats: this.stats(d) }, []);
        return;
    }
  }

  private release(): void {
    if (!this.prepared) return;
    this.prepared.tap.releaseAllBut(new Set());
    this.prepared = undefined;
  }

  private async run(d: Device, seq: number, block: PreviewBlock, settings: { seed: number; causal: boolean; padding: readonly number[] }, force: boolean): Promise<void> {
    const cancelled = () => seq <= this.cancelledUpTo;
    try {
      if (cancelled()) return;
      this.post({ type: 'progress', seq, phase: 'checking' }, []);
      const info = { layers: 0 };
      const warnings = dryRun(block, settings, d.info.limit, info);
      // On WebGPU any oversized binding would fail; on the CPU an oversized map only runs when asked to.
      const blocked = d.info.kind === 'webgpu' ? warnings.length > 0 : warnings.some((w) => w.attention) && !force;
      if (blocked) {
        this.post({ type: 'refused', seq, warnings }, []);
        return;
      }
      if (cancelled()) return;
      this.post({ type: 'progress', seq, phase: 'building', total: info.layers }, []);
      const key = `${block.id}|${JSON.stringify(block.params)}|${settings.seed}|${this.weights?.fileName ?? ''}|${d.info.kind}`;
      let weightsReport: { fileName: string; report: WeightsReport } | undefined;
      if (!this.prepared || this.prepared.key !== key) {
        this.release();
        const p = prepare(block, settings.seed, new TapBackend(d.backend), this.weights?.sd);
        if (p.weights && !p.weights.ok && this.weights) {
          weightsReport = { fileName: this.weights.fileName, report: p.weights };
          this.weights = undefined;
        }
        this.prepared = { ...p, key };
      }
      if (cancelled()) return;
      let lastPost = 0;
      const result = await runOnce(this.prepared, block, settings, (p) => {
        // One message per layer call is cheap, but a block with hundreds of calls need not flood the page.
        const now = performance.now();
        if (p.phase === 'forward' && p.index !== 1 && now - lastPost < 16) return;
        lastPost = now;
        this.post({ type: 'progress', seq, phase: p.phase, ...(p.layer !== undefined ? { layer: p.layer } : {}), ...(p.index !== undefined ? { index: p.index } : {}), total: info.layers }, []);
      });
      this.runs++;
      const transfer: Transferable[] = [];
      for (const x of [...result.maps, ...result.gates]) {
        if (!x.data) continue;
        // Transfer only buffers the array owns entirely; a view into a larger one is copied first.
        if (x.data.byteOffset !== 0 || x.data.byteLength !== x.data.buffer.byteLength) x.data = x.data.slice();
        transfer.push(x.data.buffer as ArrayBuffer);
      }
      this.post({ type: 'done', seq, result, warnings, ...(weightsReport ? { weightsReport } : {}), stats: this.stats(d) }, transfer);
    } catch (e) {
      this.post({ type: 'failed', seq, message: (e as Error).message }, []);
    }
  }
}
