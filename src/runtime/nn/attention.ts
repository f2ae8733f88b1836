/**
 * `nn.MultiheadAttention` with torch's constructor (embed_dim, num_heads,
 * dropout, bias, add_bias_kv, add_zero_attn, kdim, vdim, batch_first),
 * parameter names (`in_proj_weight`, or `q_proj_weight`/`k_proj_weight`/
 * `v_proj_weight` when kdim or vdim differ from embed_dim; `in_proj_bias`,
 * `bias_k`, `bias_v`, `out_proj.weight`/`out_proj.bias`), initialisation
 * (xavier_uniform_ projections, zero biases, xavier_normal_-like bias_k/v)
 * and forward options (key_padding_mask, need_weights, attn_mask bool or
 * float, average_attn_weights, is_causal). The maths is
 * `F.multiHeadAttentionForward`.
 */

import { TorchError } from '../errors';
import { multiHeadAttentionForward } from '../functional';
import { Tensor, zeros } from '../tensor';
import { normal_, xavierUniform_, zeros_ } from './init';
import { Linear } from './layers';
import { defaultDevice, defaultGenerator, Module, Parameter, type FactoryOptions } from './module';

export interface MultiheadAttentionArgs extends FactoryOptions {
  readonly dropout?: number;
  readonly bias?: boolean;
  readonly add_bias_kv?: boolean;
  readonly add_zero_attn?: boolean;
  readonly kdim?: number | null;
  readonly vdim?: number | null;
  readonly batch_first?: boolean;
}

export interface MhaCallOptions {
  readonly key_padding_mask?: Tensor | null;
  readonly need_weights?: boolean;
  readonly attn_mask?: Tensor | null;
  readonly average_attn_weights?: boolean;
  readonly is_causal?: boolean;
}

/** `out_proj` is a Linear subclass in torch (NonDynamicallyQuantizableLinear); same keys. */
export class NonDynamicallyQuantizableLinear extends Linear {}

export class MultiheadAttention extends Module {
  in_proj_weight: Parameter | null = null;
  q_proj_weight: Parameter | null = null;
  k_proj_weight: Parameter | null = null;
  v_proj_weight: Parameter | null = null;
  in_proj_bias: Parameter | null = null;
  out_proj: NonDynamicallyQuantizableLinear;
  bias_k: Parameter | null = null;
  bias_v: Parameter | null = null;
  readonly kdim: number;
  readonly vdim: number;
  readonly head_dim: number;
  readonly dropout: number;
  readonly add_zero_attn: boolean;
  readonly batch_first: boolean;
  private readonly sameEmbed: boolean;

  constructor(
    readonly embed_dim: number,
    readonly num_heads: number,
    o: MultiheadAttentionArgs = {},
  ) {
    super();
    if (embed_dim <= 0 || num_heads <= 0) {
      throw new TorchError('ValueError', `embed_dim and num_heads must be greater than 0, got embed_dim=${embed_dim} and num_heads=${num_heads} instead`);
    }
    const device = defaultDevice(o);
    const g = defaultGenerator(o);
    this.kdim = o.kdim ?? embed_dim;
    this.vdim = o.vdim ?? embed_dim;
    this.sameEmbed = this.kdim === embed_dim && this.vdim === embed_dim;
    this.dropout = o.dropout ?? 0;
    this.batch_first = o.batch_first ?? false;
    this.add_zero_attn = o.add_zero_attn ?? false;
    this.head_dim = Math.floor(embed_dim / num_heads);
    if (this.head_dim * num_heads !== embed_dim) throw new TorchError('AssertionError', 'embed_dim must be divisible by num_heads');
    const bias = o.bias ?? true;
    // torch registers q/k/v_proj_weight (or in_proj_weight) before in_proj_bias, out_proj, bias_k, bias_v.
    if (this.sameEmbed) this.in_proj_weight = new Parameter(zeros([3 * embed_dim, embed_dim], { device }));
    else {
      this.q_proj_weight = new Parameter(zeros([embed_dim, embed_dim], { device }));
      this.k_proj_weight = new Parameter(zeros([embed_dim, this.kdim], { device }));
      this.v_proj_weight = new Parameter(zeros([embed_dim, this.vdim], { device }));
    }
    if (bias) this.in_proj_bias = new Parameter(zeros([3 * embed_dim], { device }));
    this.out_proj = new NonDynamicallyQuantizableLinear(embed_dim, embed_dim, { bias, generator: g, device });
    if (o.add_bias_kv) {
      this.bias_k = new Parameter(zeros([1, 1, embed_dim], { device }));
      this.bias_v = new Parameter(zeros([1, 1, embed_dim], { device }));
    }
    // _reset_parameters()
    if (this.in_proj_weight) xavierUniform_(this.in_proj_weight, 1, g);
    else for (const w of [this.q_proj_weight, this.k_proj_weight, this.v_proj_weight]) xavierUniform_(w as Tensor, 1, g);
    if (this.in_proj_bias) {
      zeros_(this.in_proj_bias);
      if (this.out_proj.bias) zeros_(this.out_proj.bias);
    }
    // xavier_normal_ on a (1, 1, E) tensor: std = sqrt(2 / (E + E)).
    if (this.bias_k) normal_(this.bias_k, 0, Math.sqrt(2 / (2 * embed_dim)), g);
    if (this.bias_v) normal_(this.bias_v, 0, Math.sqrt(2 / (2 * embed_dim)), g);
  }

  /** Returns [attn_output, attn_weights | null] like torch's tuple. */
  forward(query: Tensor, key: Tensor, value: Tensor, o: MhaCallOptions = {}): [Tensor, Tensor | null] {
    const needWeights = o.need_weights ?? true;
    let q = query;
    let k = key;
    let v = value;
    const batched = query.ndim === 3;
    if (this.batch_first && batched) {
      // As torch: one tensor passed as query, key and value stays one tensor (the packed projection).
      q = query.transpose(1, 0);
      k = key === query ? q : key.transpose(1, 0);
      v = value === key ? k : value.transpose(1, 0);
    }
    const [out, w] = multiHeadAttentionForward(q, k, v, {
      embedDim: this.embed_dim,
      numHeads: this.num_heads,
      inProjWeight: this.in_proj_weight,
      inProjBias: this.in_proj_bias,
      qProjWeight: this.q_proj_weight,
      kProjWeight: this.k_proj_weight,
      vProjWeight: this.v_proj_weight,
      biasK: this.bias_k,
      biasV: this.bias_v,
      addZeroAttn: this.add_zero_attn,
      dropoutP: this.dropout,
      outProjWeight: this.out_proj.weight,
      outProjBias: this.out_proj.bias,
      training: this.training,
      keyPaddingMask: o.key_padding_mask,
      needWeights,
      attnMask: o.attn_mask,
      averageAttnWeights: o.average_attn_weights ?? true,
      isCausal: o.is_causal ?? false,
    });
    return [this.batch_first && batched ? out.transpose(1, 0) : out, w];
  }
}
