/**
 * The four runtime benchmark workloads of issue 3 — single-head attention
 * (L=1024, d=64), nn.MultiheadAttention (B=2, L=512, E=256, H=8), the SAGAN
 * block on 32×64×64 and the 2-D Non-local block on 64×32×32 — defined once
 * for every script that times them (scripts/cpu-bench.ts, scripts/bench-runtime.ts).
 * Each is built on the CPU from `Generator(0)` and then moved to the backend
 * asked for, so every backend, and every peer framework fed from `inputs` and
 * `params`, computes with the very same values. The two blocks start as the
 * identity (SAGAN's gamma and the Non-local block's batch-norm scale are zero
 * at initialisation), which would make any implementation look right; the
 * setup sets them to non-zero values so the attention path reaches the output.
 */

import { cpu, F, Generator, nn, randn, type Backend, type Tensor } from '../../src/runtime/index';
import { instantiateBlock, type BlockModule } from '../../src/twins/registry';

/** A tensor's values on the host, row-major, with its shape. */
export interface HostTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/**
 * One workload built on the CPU. `on(dev)` moves it to a backend (once: the
 * module moves) and returns its forward pass there; building is busy
 * JavaScript, moving is only uploads, so a WebGPU run can build everything
 * before its device exists.
 */
export interface WorkloadInstance {
  /** The forward pass on `dev` (not read back). */
  on(dev: Backend): () => Tensor;
  /** The inputs the forward pass uses, by name, on the host. */
  readonly inputs: Readonly<Record<string, HostTensor>>;
  /** The module's state dict on the host (torch's keys; empty for plain attention). */
  readonly params: Readonly<Record<string, HostTensor>>;
}

export type WorkloadId = 'attention' | 'mha' | 'sagan' | 'nonlocal';

export interface Workload {
  readonly id: WorkloadId;
  readonly name: string;
  build(): WorkloadInstance;
}

function host(t: Tensor): HostTensor {
  return { shape: [...t.shape], data: Float32Array.from(t.dataSync()) };
}

function hostAll(entries: Iterable<[string, Tensor]>): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = {};
  for (const [k, v] of entries) if (v.dtype === 'float32') out[k] = host(v);
  return out;
}

/** A CPU-built module and its inputs, with host copies, movable once to a backend. */
function place<M extends nn.Module>(m: M | null, inputs: Record<string, Tensor>, forward: (m: M, x: Record<string, Tensor>) => Tensor): WorkloadInstance {
  let placed: Backend | null = null;
  return {
    inputs: hostAll(Object.entries(inputs)),
    params: m ? hostAll(m.stateDict()) : {},
    on: (dev) => {
      if (placed && placed !== dev) throw new Error(`workload already moved to ${placed.name}; build it again for ${dev.name}`);
      placed = dev;
      if (m && dev !== cpu) m.to(dev);
      const moved: Record<string, Tensor> = {};
      for (const [k, v] of Object.entries(inputs)) moved[k] = v.to(dev);
      return () => forward(m as M, moved);
    },
  };
}

const NON_LOCAL = { in_channels: 64, inter_channels: null, dimension: '2', mode: 'embedded_gaussian', sub_sample: true, bn_layer: true, need_weights: false } as const;

export const WORKLOADS: readonly Workload[] = [
  {
    id: 'attention',
    name: 'attention L=1024 d=64 (1 head)',
    build: () => {
      const g = new Generator(0);
      const [q, k, v] = [randn([1, 1024, 64], g), randn([1, 1024, 64], g), randn([1, 1024, 64], g)];
      return place(null, { q, k, v }, (_m, x) => F.scaledDotProductAttention(x.q, x.k, x.v));
    },
  },
  {
    id: 'mha',
    name: 'MHA B=2 L=512 E=256 H=8',
    build: () => {
      const g = new Generator(0);
      const mha = new nn.MultiheadAttention(256, 8, { batch_first: true, generator: g });
      const x = randn([2, 512, 256], g);
      return place(mha, { x }, (m, i) => m.forward(i.x, i.x, i.x, { need_weights: false })[0]);
    },
  },
  {
    id: 'sagan',
    name: 'SAGAN 32x64x64',
    build: () => {
      const g = new Generator(0);
      const m = instantiateBlock('sagan-spatial', { in_channels: 32, k: 8, spectral_norm: false }, { generator: g });
      nn.init.constant_(m.stateDict().get('gamma')!, 0.5);
      const x = randn([1, 32, 64, 64], g);
      return place(m, { x }, (b: BlockModule, i) => (b.forward(i.x) as Tensor[])[0]);
    },
  },
  {
    id: 'nonlocal',
    name: 'Non-local 2D 64x32x32',
    build: () => {
      const g = new Generator(0);
      const m = instantiateBlock('non-local', NON_LOCAL, { generator: g });
      const sd = m.stateDict();
      nn.init.uniform_(sd.get('W.1.weight')!, 0.5, 1.5, g);
      nn.init.uniform_(sd.get('W.1.bias')!, -0.1, 0.1, g);
      nn.init.uniform_(sd.get('W.1.running_mean')!, -0.1, 0.1, g);
      nn.init.uniform_(sd.get('W.1.running_var')!, 0.5, 1.5, g);
      const x = randn([1, 64, 32, 32], g);
      return place(m, { x }, (b: BlockModule, i) => b.forward(i.x) as Tensor);
    },
  },
];
