/**
 * The runtime benchmark workloads — single-head attention (L=1024, d=64),
 * nn.MultiheadAttention (B=2, L=512, E=256, H=8), the SAGAN block on
 * 32×64×64, the 2-D Non-local block on 64×32×32, and one attention layer of
 * ViT-B/16 as timm writes it (197 tokens, embed 768, 12 heads, batch 1) —
 * defined once for every script that times them (scripts/cpu-bench.ts,
 * scripts/bench-runtime.ts).
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

export type WorkloadId = 'attention' | 'mha' | 'sagan' | 'nonlocal' | 'vit';

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

/**
 * timm's `vision_transformer.Attention` at ViT-B/16's sizes (qkv_bias, no q/k
 * norm), with its attribute names (so its state dict has timm's keys) and its
 * forward: one qkv projection 768 → 2304 split into 12 heads of 64 by
 * reshape and permute, scaled dot-product attention (scale 1/8; timm's
 * `fused_attn` path, the same maths as its explicit one), heads merged, proj
 * 768 → 768.
 */
class VitAttention extends nn.Module {
  readonly qkv: nn.Linear;
  readonly proj: nn.Linear;
  readonly head_dim: number;
  constructor(
    readonly dim: number,
    readonly num_heads: number,
    o: { generator: Generator },
  ) {
    super();
    this.head_dim = dim / num_heads;
    this.qkv = new nn.Linear(dim, dim * 3, { bias: true, generator: o.generator });
    this.proj = new nn.Linear(dim, dim, { generator: o.generator });
  }
  forward(x: Tensor): Tensor {
    const [B, N, C] = x.shape;
    const [q, k, v] = this.qkv.forward(x).reshape(B, N, 3, this.num_heads, this.head_dim).permute(2, 0, 3, 1, 4).unbind(0);
    const o = F.scaledDotProductAttention(q, k, v);
    return this.proj.forward(o.transpose(1, 2).reshape(B, N, C));
  }
}

/** ViT-B/16: 196 patches and the class token, embed 768, 12 heads of 64. */
export const VIT = { tokens: 197, embed: 768, heads: 12 } as const;

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
  {
    id: 'vit',
    name: 'ViT-B/16 attn N=197 E=768 H=12',
    build: () => {
      const g = new Generator(0);
      const m = new VitAttention(VIT.embed, VIT.heads, { generator: g });
      const x = randn([1, VIT.tokens, VIT.embed], g);
      return place(m, { x }, (b, i) => b.forward(i.x));
    },
  },
];
