/**
 * The WebGPU backend: storage is one `GPUBuffer` of f32 per tensor storage,
 * kernels are the WGSL programs their kernel files return (`Kernel.wgsl`),
 * dispatched in order into one pending command encoder that is submitted when
 * values are read back, uploaded, or after a batch of dispatches.
 *
 * What it does:
 * - pools buffers: released storage goes back to a free list bucketed by
 *   size, so steady-state inference allocates nothing;
 * - keeps the readback (staging) buffers for the next read of the same size;
 * - caches pipelines by WGSL source (shapes are baked into the source);
 * - checks the device limits *before* recording a dispatch
 *   (`maxStorageBufferBindingSize`, `maxBufferSize`, workgroup storage,
 *   invocations and counts) and throws `WebGpuLimitError` naming the kernel,
 *   the binding and the limit, instead of letting the device be lost;
 * - reports validation errors and a lost device on the next read.
 *
 * What it does not do: validate shapes (the kernel's `outputs()` already did),
 * create the device (the caller passes one; `requestWebGpuDevice` asks an
 * adapter for the limits kernels need, `node.ts` finds an adapter in Node),
 * or know any operation.
 *
 * Hazards it handles: `queue.writeBuffer` runs before commands recorded
 * earlier but not yet submitted, so `upload`/`write` submit the pending
 * encoder first; uniform buffers are recycled only after the submit that
 * used them.
 */

/// <reference types="@webgpu/types" />

import type { Backend, OutputSpec, Storage, TensorView } from '../backend';
import type { Kernel } from '../kernels/kernel';
import type { GpuProgram } from '../kernels/wgsl';

/** A device limit that a kernel call would exceed; thrown before anything is dispatched. */
export class WebGpuLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebGpuLimitError';
  }
}

/** A WebGPU failure reported by the device (validation error, lost device). */
export class WebGpuError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebGpuError';
  }
}

class GpuStorage implements Storage {
  constructor(
    readonly backend: WebGpuBackend,
    readonly size: number,
    public buffer: GPUBuffer | null,
  ) {}
}

/** Limits kernels rely on beyond WebGPU's defaults; requested up to what the adapter offers. */
const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxStorageBuffersPerShaderStage',
] as const;

/** Asks `gpu` for an adapter and a device with the adapter's best values of the limits kernels use. */
export async function requestWebGpuDevice(gpu: GPU, options: GPURequestAdapterOptions = {}): Promise<GPUDevice> {
  const adapter = await gpu.requestAdapter(options);
  if (!adapter) throw new WebGpuError('no WebGPU adapter is available');
  return requestDeviceFrom(adapter);
}

/** A device from `adapter` with the adapter's best values of the limits kernels use. */
export async function requestDeviceFrom(adapter: GPUAdapter): Promise<GPUDevice> {
  const requiredLimits: Record<string, number> = {};
  for (const k of WANTED_LIMITS) requiredLimits[k] = adapter.limits[k];
  return adapter.requestDevice({ requiredLimits });
}

export interface WebGpuBackendOptions {
  /** Bytes of released buffers kept for reuse (default 256 MiB); beyond that they are destroyed. */
  readonly poolBytes?: number;
  /** Dispatches recorded before the pending encoder is submitted without a read (default 32). */
  readonly batch?: number;
  /** The adapter's name, for messages and `attention-forge run`. */
  readonly adapter?: string;
}

const MIB = 1024 * 1024;

function fmtBytes(n: number): string {
  return n >= MIB ? `${(n / MIB).toFixed(n % MIB ? 1 : 0)} MiB` : `${n} B`;
}

/** Pool buckets: sizes of the form 2^k or 3·2^(k-1) (at most 33% slack), at least 256 bytes. */
function bucketBytes(bytes: number): number {
  const b = Math.max(256, bytes);
  const p = 2 ** Math.ceil(Math.log2(b));
  return (p * 3) / 4 >= b && p >= 512 ? (p * 3) / 4 : p;
}

const STORAGE_USAGE = 0x80 | 0x04 | 0x08; // STORAGE | COPY_SRC | COPY_DST
const UNIFORM_USAGE = 0x40 | 0x08; // UNIFORM | COPY_DST
const READBACK_USAGE = 0x01 | 0x08; // MAP_READ | COPY_DST
const MAP_READ = 0x01;
/** Unmapped readback buffers kept per size for the next read. */
const STAGING_PER_SIZE = 2;
const COMPUTE = 0x4; // GPUShaderStage.COMPUTE

export class WebGpuBackend implements Backend {
  readonly name = 'webgpu';
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly layouts = new Map<string, { key: string; group: GPUBindGroupLayout; pipeline: GPUPipelineLayout }>();
  private readonly free = new Map<number, GPUBuffer[]>();
  private freeBytes = 0;
  private readonly freeUniforms = new Map<number, GPUBuffer[]>();
  private readonly freeStaging = new Map<number, GPUBuffer[]>();
  private pendingUniforms: GPUBuffer[] = [];
  private encoder: GPUCommandEncoder | null = null;
  private recorded = 0;
  private deviceError: string | null = null;
  private readonly poolBytes: number;
  private readonly batch: number;
  readonly adapter: string;
  /** Dispatches and pipeline compilations so far; for tests and the benchmark. */
  readonly stats = { dispatches: 0, pipelines: 0, buffersCreated: 0, submits: 0 };

  constructor(
    readonly device: GPUDevice,
    options: WebGpuBackendOptions = {},
  ) {
    this.poolBytes = options.poolBytes ?? 256 * MIB;
    this.batch = options.batch ?? 32;
    this.adapter = options.adapter ?? 'unknown adapter';
    device.addEventListener('uncapturederror', (e) => {
      const ev = e as GPUUncapturedErrorEvent;
      this.deviceError ??= ev.error.message;
    });
    void device.lost.then((info) => {
      this.deviceError ??= `device lost (${info.reason}): ${info.message}`;
    });
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  alloc(size: number): Storage {
    const s = new GpuStorage(this, size, this.buffer(size, 'alloc'));
    this.enc().clearBuffer(s.buffer!, 0, bucketBytes(size * 4));
    this.count();
    return s;
  }

  upload(data: Float32Array): Storage {
    const s = new GpuStorage(this, data.length, this.buffer(data.length, 'upload'));
    this.writeData(s.buffer!, data);
    return s;
  }

  write(storage: Storage, data: Float32Array): void {
    const s = this.own(storage);
    if (data.length !== s.size) throw new Error(`write: storage holds ${s.size} elements, data has ${data.length}`);
    this.writeData(s.buffer!, data);
  }

  copy(src: Storage, dst: Storage): void {
    const a = this.own(src);
    const b = this.own(dst);
    if (a.size !== b.size) throw new Error(`copy: source holds ${a.size} elements, destination ${b.size}`);
    if (a.size === 0) return;
    this.enc().copyBufferToBuffer(a.buffer!, 0, b.buffer!, 0, a.size * 4);
    this.count();
  }

  async read(storage: Storage): Promise<Float32Array> {
    const s = this.own(storage);
    this.throwIfFailed();
    const bytes = s.size * 4;
    if (bytes === 0) return new Float32Array(0);
    const size = bucketBytes(s.size * 4);
    const staging = this.freeStaging.get(size)?.pop() ?? this.device.createBuffer({ size, usage: READBACK_USAGE });
    this.enc().copyBufferToBuffer(s.buffer!, 0, staging, 0, bytes);
    this.flush();
    let reusable = false;
    try {
      await staging.mapAsync(MAP_READ, 0, bytes);
      const out = new Float32Array(staging.getMappedRange(0, bytes).slice(0));
      staging.unmap();
      reusable = true;
      return out;
    } catch (e) {
      this.throwIfFailed();
      throw new WebGpuError(`read failed: ${(e as Error).message}`);
    } finally {
      // Every forward reads its result back: the staging buffer is kept for the next read of
      // that size (a few per size) instead of being created and destroyed each time.
      const list = this.freeStaging.get(size) ?? [];
      if (reusable && list.length < STAGING_PER_SIZE) {
        list.push(staging);
        this.freeStaging.set(size, list);
      } else staging.destroy();
      this.throwIfFailed();
    }
  }

  run<A>(kernel: Kernel<A>, inputs: readonly TensorView[], attrs: A, outputs: readonly OutputSpec[]): Storage[] {
    this.throwIfFailed();
    const ins = inputs.map((v, i) => {
      if (!(v.storage instanceof GpuStorage) || v.storage.backend !== this) {
        throw new Error(`${kernel.name}: input ${i} lives on the '${v.storage.backend.name}' backend, not on this WebGPU device`);
      }
      return v.storage;
    });
    const program = kernel.wgsl(inputs, attrs, outputs) as GpuProgram;
    this.checkLimits(kernel.name, program, [
      ...ins.map((s, i) => ({ what: `input ${i}`, bytes: s.size * 4 })),
      ...outputs.map((o, i) => ({ what: `output ${i} ${JSON.stringify(o.shape)}`, bytes: o.shape.reduce((a, b) => a * b, 1) * 4 })),
    ]);
    const outs = outputs.map((o) => {
      const n = o.shape.reduce((a, b) => a * b, 1);
      return new GpuStorage(this, n, this.buffer(n, kernel.name));
    });
    this.dispatch(program, ins.length, [...ins, ...outs]);
    return outs;
  }

  release(storage: Storage): void {
    // A second release (a disposed tensor whose scope ends, two views disposed) does nothing.
    if (!(storage instanceof GpuStorage) || storage.backend !== this || !storage.buffer) return;
    const s = storage;
    const b = s.buffer;
    if (!b) return;
    s.buffer = null;
    if (this.freeBytes + b.size > this.poolBytes) {
      // The pending encoder may still use it; destroying is safe only after submitting.
      this.flush();
      b.destroy();
      return;
    }
    const list = this.free.get(b.size);
    if (list) list.push(b);
    else this.free.set(b.size, [b]);
    this.freeBytes += b.size;
  }

  /** Submits the recorded work without waiting for it. */
  flush(): void {
    if (!this.encoder) return;
    const cmd = this.encoder.finish();
    this.encoder = null;
    this.recorded = 0;
    this.device.queue.submit([cmd]);
    this.stats.submits++;
    for (const u of this.pendingUniforms) {
      const list = this.freeUniforms.get(u.size);
      if (list) list.push(u);
      else this.freeUniforms.set(u.size, [u]);
    }
    this.pendingUniforms = [];
  }

  /** Waits until every submitted command has run (benchmarks time with it). */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.throwIfFailed();
  }

  /** Bytes of released buffers held for reuse now. */
  get pooledBytes(): number {
    return this.freeBytes;
  }

  /** Destroys pooled buffers (the device stays usable). */
  trim(): void {
    this.flush();
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    for (const list of this.freeStaging.values()) for (const b of list) b.destroy();
    this.freeStaging.clear();
    this.freeBytes = 0;
  }

  private own(storage: Storage): GpuStorage {
    if (!(storage instanceof GpuStorage) || storage.backend !== this) throw new Error(`storage of the '${storage.backend.name}' backend given to WebGPU`);
    if (!storage.buffer) throw new Error('use of released WebGPU storage');
    return storage;
  }

  private throwIfFailed(): void {
    if (this.deviceError) throw new WebGpuError(`WebGPU device error: ${this.deviceError}`);
  }

  private enc(): GPUCommandEncoder {
    this.encoder ??= this.device.createCommandEncoder();
    return this.encoder;
  }

  private count(): void {
    if (++this.recorded >= this.batch) this.flush();
  }

  private buffer(size: number, what: string): GPUBuffer {
    const bytes = bucketBytes(size * 4);
    const max = this.device.limits.maxBufferSize;
    if (bytes > max) throw new WebGpuLimitError(`${what}: a tensor of ${size} elements needs ${fmtBytes(bytes)}; this device's maxBufferSize is ${fmtBytes(max)}`);
    const list = this.free.get(bytes);
    const b = list?.pop();
    if (b) {
      this.freeBytes -= bytes;
      return b;
    }
    this.stats.buffersCreated++;
    return this.device.createBuffer({ size: bytes, usage: STORAGE_USAGE });
  }

  private writeData(buffer: GPUBuffer, data: Float32Array): void {
    // writeBuffer is ordered before commands not yet submitted: submit them first.
    this.flush();
    if (data.length === 0) return;
    // Dawn rejects views of shared memory; copy those into an ordinary buffer.
    const src = data.buffer instanceof ArrayBuffer ? data : new Float32Array(data);
    this.device.queue.writeBuffer(buffer, 0, src.buffer, src.byteOffset, src.byteLength);
  }

  private checkLimits(name: string, p: GpuProgram, binds: readonly { what: string; bytes: number }[]): void {
    const l = this.device.limits;
    for (const b of binds) {
      if (b.bytes > l.maxStorageBufferBindingSize) {
        throw new WebGpuLimitError(
          `${name}: ${b.what} needs a ${fmtBytes(b.bytes)} storage binding, but this device allows at most ${fmtBytes(l.maxStorageBufferBindingSize)} (maxStorageBufferBindingSize); split the work (smaller batch) or use the CPU backend`,
        );
      }
    }
    if (binds.length > l.maxStorageBuffersPerShaderStage) {
      throw new WebGpuLimitError(`${name}: ${binds.length} storage bindings, but this device allows ${l.maxStorageBuffersPerShaderStage} per shader stage (maxStorageBuffersPerShaderStage)`);
    }
    const ws = p.workgroupStorageBytes ?? 0;
    if (ws > l.maxComputeWorkgroupStorageSize) {
      throw new WebGpuLimitError(`${name}: needs ${ws} bytes of workgroup storage, but this device allows ${l.maxComputeWorkgroupStorageSize} (maxComputeWorkgroupStorageSize)`);
    }
    const inv = p.invocations ?? 0;
    if (inv > l.maxComputeInvocationsPerWorkgroup) {
      throw new WebGpuLimitError(`${name}: ${inv} invocations per workgroup, but this device allows ${l.maxComputeInvocationsPerWorkgroup} (maxComputeInvocationsPerWorkgroup)`);
    }
    for (const g of p.workgroups) {
      if (g > l.maxComputeWorkgroupsPerDimension) {
        throw new WebGpuLimitError(`${name}: dispatch of ${p.workgroups.join('×')} workgroups exceeds maxComputeWorkgroupsPerDimension (${l.maxComputeWorkgroupsPerDimension})`);
      }
    }
  }

  /**
   * Explicit layouts (not 'auto'), so a program may leave a binding unused:
   * inputs read-only storage, outputs storage, then the optional uniform.
   */
  private layout(nIn: number, nOut: number, uniform: boolean): { key: string; group: GPUBindGroupLayout; pipeline: GPUPipelineLayout } {
    const key = `${nIn}/${nOut}/${uniform ? 1 : 0}`;
    let l = this.layouts.get(key);
    if (!l) {
      const entries: GPUBindGroupLayoutEntry[] = [];
      for (let i = 0; i < nIn + nOut; i++) entries.push({ binding: i, visibility: COMPUTE, buffer: { type: i < nIn ? 'read-only-storage' : 'storage' } });
      if (uniform) entries.push({ binding: nIn + nOut, visibility: COMPUTE, buffer: { type: 'uniform' } });
      const group = this.device.createBindGroupLayout({ entries });
      l = { key, group, pipeline: this.device.createPipelineLayout({ bindGroupLayouts: [group] }) };
      this.layouts.set(key, l);
    }
    return l;
  }

  private pipeline(p: GpuProgram, layout: { key: string; pipeline: GPUPipelineLayout }): GPUComputePipeline {
    const entryPoint = p.entryPoint ?? 'main';
    const key = `${layout.key}\n${entryPoint}\n${p.code}`;
    let pipe = this.pipelines.get(key);
    if (!pipe) {
      const module = this.device.createShaderModule({ code: p.code });
      pipe = this.device.createComputePipeline({ layout: layout.pipeline, compute: { module, entryPoint } });
      this.pipelines.set(key, pipe);
      this.stats.pipelines++;
    }
    return pipe;
  }

  private dispatch(p: GpuProgram, nIn: number, storages: readonly GpuStorage[]): void {
    const layout = this.layout(nIn, storages.length - nIn, !!p.uniforms);
    const pipe = this.pipeline(p, layout);
    const entries: GPUBindGroupEntry[] = storages.map((s, i) => ({ binding: i, resource: { buffer: s.buffer!, size: Math.max(4, s.size * 4) } }));
    if (p.uniforms) {
      const bytes = Math.max(16, Math.ceil(p.uniforms.byteLength / 16) * 16);
      const u = this.freeUniforms.get(bytes)?.pop() ?? this.device.createBuffer({ size: bytes, usage: UNIFORM_USAGE });
      // Uniform buffers are never in use by unsubmitted work (recycled only after their submit).
      this.device.queue.writeBuffer(u, 0, p.uniforms);
      this.pendingUniforms.push(u);
      entries.push({ binding: storages.length, resource: { buffer: u } });
    }
    const group = this.device.createBindGroup({ layout: layout.group, entries });
    const pass = this.enc().beginComputePass();
    pass.setPipeline(pipe);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(p.workgroups[0], p.workgroups[1], p.workgroups[2]);
    pass.end();
    this.stats.dispatches++;
    this.count();
  }
}
