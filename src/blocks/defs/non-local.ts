/**
 * `non-local`: the non-local block of Wang et al. for 1-D, 2-D and 3-D
 * feature maps — every position is updated with a weighted sum over all
 * (optionally max-pooled) positions, then added back through a
 * zero-initialised 1×1 conv (W) so the block starts as the identity.
 */

import { guard } from '../py';
import type { BlockDef, Params } from '../types';
import { tsGuard } from '../ts';

type Dim = '1' | '2' | '3';
type Mode = 'embedded_gaussian' | 'gaussian' | 'dot_product' | 'concatenation';

/** Input shape after N and C, per dimension. */
const SPATIAL: Record<Dim, string[]> = { '1': ['L'], '2': ['H', 'W'], '3': ['T', 'H', 'W'] };
/** Query positions, as a contract expression. */
const QUERIES: Record<Dim, string> = { '1': 'L', '2': 'H * W', '3': 'T * H * W' };
/** Key positions after the max-pool sub-sampling (floor division, as MaxPool floors odd sizes). */
const POOLED: Record<Dim, string> = { '1': 'L // 2', '2': '(H // 2) * (W // 2)', '3': 'T * (H // 2) * (W // 2)' };
const POOL: Record<Dim, string> = {
  '1': 'nn.MaxPool1d(kernel_size=2)',
  '2': 'nn.MaxPool2d(kernel_size=(2, 2))',
  '3': 'nn.MaxPool3d(kernel_size=(1, 2, 2))',
};
const TS_POOL: Record<Dim, string> = {
  '1': 'new nn.MaxPool1d(2)',
  '2': 'new nn.MaxPool2d([2, 2])',
  '3': 'new nn.MaxPool3d([1, 2, 2])',
};

const softmaxed = (m: Mode) => m === 'embedded_gaussian' || m === 'gaussian';

function keys(p: Params): string {
  const d = p.dimension as Dim;
  return p.sub_sample ? POOLED[d] : QUERIES[d];
}

export const nonLocal: BlockDef = {
  id: 'non-local',
  title: 'Non-local block (1-D / 2-D / 3-D)',
  summary: 'Non-local neural network block: every position attends to all positions of (N, C, L), (N, C, H, W) or (N, C, T, H, W).',
  docs: [
    'A non-local block computes, for every position i, a weighted sum of a 1×1-conv embedding g(x_j) over all positions j, with weights given by a pairwise function f(x_i, x_j); the result goes through a 1×1 conv W back to C channels and is added to the input. It captures long-range dependencies in one layer — across time for 1-D signals, across the image for 2-D maps, across space and time for video (3-D).',
    '`mode` picks f. `embedded_gaussian` (the paper\'s default) is softmax over j of θ(x_i)·φ(x_j), i.e. self-attention; `gaussian` is softmax of x_i·x_j with no θ, φ embeddings; `dot_product` is θ(x_i)·φ(x_j) / M; `concatenation` is ReLU(w·[θ(x_i), φ(x_j)]) / M, where M is the number of key positions. The paper reports the four perform about the same; the softmax forms return rows summing to 1, the other two do not.',
    '`sub_sample` max-pools the key side (φ and g): by 2 along L for 1-D, 2×2 for 2-D and 1×2×2 (space only) for 3-D, which divides the pairwise cost by 2 or 4. Pooling floors odd sizes (an H of 5 gives 2 key rows) and needs L ≥ 2 (H, W ≥ 2) so that at least one key remains.',
    'W is zero-initialised — its BatchNorm\'s weight and bias when `bn_layer` is set, otherwise the conv\'s weight and bias — so a new block outputs x exactly and can be inserted into a pretrained network. `inter_channels` defaults to in_channels // 2 (at least 1).',
  ].join('\n\n'),
  differences: [
    'The reference post\'s NonLocalBlockND matches the widely used PyTorch port (embedded Gaussian only); its code is correct, but its docstring says 3-D input is [batch, time_steps, in_channels, w, h] — Conv3d needs (N, C, T, H, W), which is the layout here — and its comments describe the reshaped y as [B, N, C1, ...] where it is (N, C1, *spatial).',
    'Here `dimension`, `mode` and `sub_sample` are chosen at generation time, so the generated class has only the layers it uses; `mode` adds the paper\'s other three pairwise functions, computing `concatenation` as ReLU(w_θ·θ_i + w_φ·φ_j) (the same function as a 1×1 conv over every concatenated pair, without materialising the (2·C1, Q, M) tensor).',
    'The attention map is returned (the post returns only z), and `view` calls on conv outputs are `flatten` / `reshape`.',
  ].join(' '),
  citation: { title: 'Non-local Neural Networks', authors: 'Wang, Girshick, Gupta, He', year: 2018, url: 'https://arxiv.org/abs/1711.07971' },
  layout: '(N, C, L), (N, C, H, W) or (N, C, T, H, W) by dimension',
  params: [
    { name: 'in_channels', type: 'int', default: 64, min: 1, main: true, doc: 'Channels C of the incoming features.' },
    {
      name: 'inter_channels',
      type: 'int',
      default: null,
      nullable: true,
      min: 1,
      doc: 'Width C1 of the θ, φ and g embeddings; None means max(in_channels // 2, 1), the paper\'s bottleneck.',
    },
    {
      name: 'dimension',
      type: 'enum',
      default: '2',
      choices: ['1', '2', '3'],
      baked: true,
      doc: "Input rank: '1' for (N, C, L) sequences, '2' for (N, C, H, W) images, '3' for (N, C, T, H, W) video. Selects Conv/BatchNorm/MaxPool 1d, 2d or 3d.",
    },
    {
      name: 'mode',
      type: 'enum',
      default: 'embedded_gaussian',
      choices: ['embedded_gaussian', 'gaussian', 'dot_product', 'concatenation'],
      baked: true,
      doc: 'Pairwise function f: softmax(θ·φ), softmax(x·x), θ·φ / M, or ReLU(w·[θ, φ]) / M (M = number of key positions).',
    },
    {
      name: 'sub_sample',
      type: 'bool',
      default: true,
      baked: true,
      doc: 'Max-pool the keys (φ and g) by 2 per spatial axis (not along T) to cut the pairwise cost.',
    },
    { name: 'bn_layer', type: 'bool', default: true, doc: 'W = 1×1 conv + BatchNorm (BN zero-initialised); otherwise a 1×1 conv zero-initialised.' },
    { name: 'need_weights', type: 'bool', default: true, baked: true, doc: 'Also return the pairwise weight map (N, Q, M).' },
  ],
  dims: [
    { name: 'N', doc: 'batch', default: 2, odd: 3 },
    { name: 'L', doc: "length (dimension '1')", default: 16, odd: 7 },
    { name: 'T', doc: "time (dimension '3')", default: 4, odd: 3 },
    { name: 'H', doc: "height (dimensions '2', '3')", default: 8, odd: 5 },
    { name: 'W', doc: "width (dimensions '2', '3')", default: 6, odd: 7 },
  ],
  validate: () => [],
  contract: (p) => {
    const d = p.dimension as Dim;
    const shape = ['N', 'in_channels', ...SPATIAL[d]];
    return {
      inputs: [{ name: 'x', shape, doc: 'features' }],
      outputs: [
        { name: 'output', shape, doc: 'W(y) + x, same layout' },
        ...(p.need_weights
          ? [{
              name: 'attn',
              shape: ['N', QUERIES[d], keys(p)],
              doc: softmaxed(p.mode as Mode)
                ? 'weights of each query position over the key positions; rows sum to 1'
                : 'pairwise f(x_i, x_j) / M over the key positions (not normalised to sum to 1)',
            }]
          : []),
      ],
    };
  },
  pytorch: (p) => {
    const d = p.dimension as Dim;
    const mode = p.mode as Mode;
    const sub = p.sub_sample === true;
    const conv = `nn.Conv${d}d`;
    const bn = `nn.BatchNorm${d}d`;
    const sp = SPATIAL[d].join(', ');
    const q = d === '1' ? 'L' : d === '2' ? 'HW' : 'THW';
    const m = sub ? 'M' : q;
    const pooledSp = { '1': 'L // 2', '2': 'H // 2, W // 2', '3': 'T, H // 2, W // 2' }[d];
    const keySp = sub ? pooledSp : sp;
    const embed = (what: string) => `${conv}(in_channels, inter_channels, kernel_size=1)${what}`;
    const pooled = (e: string) => (sub ? `nn.Sequential(${e}, ${POOL[d]})` : e);

    const init: string[] = [
      ...guard('in_channels < 1', 'in_channels ({in_channels}) must be ≥ 1'),
      'if inter_channels is None:',
      '    inter_channels = max(in_channels // 2, 1)  # the paper\'s bottleneck: half the channels',
      ...guard('inter_channels < 1', 'inter_channels ({inter_channels}) must be ≥ 1'),
      'self.inter_channels = inter_channels',
      `self.g = ${pooled(embed(''))}`,
    ];
    if (mode === 'gaussian') {
      if (sub) init.push(`self.phi = ${POOL[d]}  # no embedding: keys are the pooled input itself`);
    } else {
      init.push(`self.theta = ${embed('')}`, `self.phi = ${pooled(embed(''))}`);
    }
    if (mode === 'concatenation') init.push('self.concat_project = nn.Linear(2 * inter_channels, 1, bias=False)  # w in ReLU(w·[θ_i, φ_j])');
    init.push(
      'if bn_layer:',
      `    self.W = nn.Sequential(${conv}(inter_channels, in_channels, kernel_size=1), ${bn}(in_channels))`,
      '    # Zero-initialised BN: W(y) = 0, so the block starts as the identity.',
      '    nn.init.zeros_(self.W[1].weight)',
      '    nn.init.zeros_(self.W[1].bias)',
      'else:',
      `    self.W = ${conv}(inter_channels, in_channels, kernel_size=1)`,
      '    nn.init.zeros_(self.W.weight)',
      '    nn.init.zeros_(self.W.bias)',
    );

    const fwd: string[] = [];
    if (sub) fwd.push(`# ${q} query positions; M = ${POOLED[d].replace(/ \* /g, '·')} key positions after max-pooling.`);
    fwd.push(
      'n = x.size(0)',
      `g_x = self.g(x).flatten(2).transpose(1, 2)  # (N, C1, ${keySp}) -> (N, ${m}, C1)`,
    );
    if (mode === 'gaussian') {
      fwd.push(
        `theta_x = x.flatten(2).transpose(1, 2)  # (N, C, ${sp}) -> (N, ${q}, C)`,
        sub ? `phi_x = self.phi(x).flatten(2)  # (N, C, ${keySp}) -> (N, C, ${m})` : `phi_x = x.flatten(2)  # (N, C, ${sp}) -> (N, C, ${m})`,
      );
    } else {
      fwd.push(
        `theta_x = self.theta(x).flatten(2).transpose(1, 2)  # (N, C1, ${sp}) -> (N, ${q}, C1)`,
        `phi_x = self.phi(x).flatten(2)  # (N, C1, ${keySp}) -> (N, C1, ${m})`,
      );
    }
    if (mode === 'concatenation') {
      fwd.push(
        '# ReLU(w·[θ_i, φ_j]) = ReLU(w_θ·θ_i + w_φ·φ_j): split w instead of building every pair.',
        'w_theta, w_phi = self.concat_project.weight.view(2, -1)  # (C1,), (C1,)',
        `f = F.relu((theta_x @ w_theta).unsqueeze(2) + (w_phi @ phi_x).unsqueeze(1))  # (N, ${q}, 1) + (N, 1, ${m}) -> (N, ${q}, ${m})`,
      );
    } else {
      fwd.push(`f = torch.matmul(theta_x, phi_x)  # (N, ${q}, ${m})`);
    }
    fwd.push(
      softmaxed(mode)
        ? 'attn = F.softmax(f, dim=-1)  # normalise over the keys'
        : 'attn = f / f.size(-1)  # normalise by the number of key positions',
      `y = torch.matmul(attn, g_x)  # (N, ${q}, ${m}) @ (N, ${m}, C1) -> (N, ${q}, C1)`,
      `y = y.transpose(1, 2).reshape(n, self.inter_channels, *x.shape[2:])  # (N, ${q}, C1) -> (N, C1, ${sp})`,
      'z = self.W(y) + x  # residual; W starts at zero',
      p.need_weights ? 'return z, attn' : 'return z',
    );

    return {
      name: `NonLocalBlock${d}D`,
      summary: `Non-local block (${mode.replace('_', ' ')}) over (N, C, ${sp}) features.`,
      init,
      forwardArgs: [{ name: 'x', annotation: 'torch.Tensor' }],
      returns: p.need_weights ? 'Tuple[torch.Tensor, torch.Tensor]' : 'torch.Tensor',
      forward: fwd,
    };
  },
  typescript: (p) => {
    const d = p.dimension as Dim;
    const mode = p.mode as Mode;
    const sub = p.sub_sample === true;
    const conv = `nn.Conv${d}d`;
    const bn = `nn.BatchNorm${d}d`;
    const sp = SPATIAL[d].join(', ');
    const q = d === '1' ? 'L' : d === '2' ? 'HW' : 'THW';
    const m = sub ? 'M' : q;
    const pooledSp = { '1': 'L // 2', '2': 'H // 2, W // 2', '3': 'T, H // 2, W // 2' }[d];
    const keySp = sub ? pooledSp : sp;
    const embed = () => `new ${conv}(in_channels, inter_channels, 1, { generator, device })`;
    const pooled = (e: string) => (sub ? `new nn.Sequential(${e}, ${TS_POOL[d]})` : e);
    const embedType = sub ? 'nn.Sequential' : conv;

    const fields = ['inter_channels: number', `g: ${embedType}`];
    const init: string[] = [
      ...tsGuard('in_channels < 1', 'in_channels (${in_channels}) must be ≥ 1'),
      'if (inter_channels === null) {',
      "  inter_channels = Math.max(Math.floor(in_channels / 2), 1); // the paper's bottleneck: half the channels",
      '}',
      ...tsGuard('inter_channels < 1', 'inter_channels (${inter_channels}) must be ≥ 1'),
      'this.inter_channels = inter_channels;',
      `this.g = ${pooled(embed())};`,
    ];
    if (mode === 'gaussian') {
      if (sub) {
        fields.push(`phi: nn.MaxPool${d}d`);
        init.push(`this.phi = ${TS_POOL[d]}; // no embedding: keys are the pooled input itself`);
      }
    } else {
      fields.push(`theta: ${conv}`, `phi: ${embedType}`);
      init.push(`this.theta = ${embed()};`, `this.phi = ${pooled(embed())};`);
    }
    if (mode === 'concatenation') {
      fields.push('concat_project: nn.Linear');
      init.push('this.concat_project = new nn.Linear(2 * inter_channels, 1, { bias: false, generator, device }); // w in ReLU(w·[θ_i, φ_j])');
    }
    fields.push(`W: nn.Sequential | ${conv}`);
    init.push(
      'if (bn_layer) {',
      `  const bn = new ${bn}(in_channels, { device });`,
      `  this.W = new nn.Sequential(new ${conv}(inter_channels, in_channels, 1, { generator, device }), bn);`,
      '  // Zero-initialised BN: W(y) = 0, so the block starts as the identity.',
      '  nn.init.zeros_(bn.weight as Tensor);',
      '  nn.init.zeros_(bn.bias as Tensor);',
      '} else {',
      `  const w = new ${conv}(inter_channels, in_channels, 1, { generator, device });`,
      '  this.W = w;',
      '  nn.init.zeros_(w.weight);',
      '  nn.init.zeros_(w.bias as Tensor);',
      '}',
    );

    const fwd: string[] = [];
    if (sub) fwd.push(`// ${q} query positions; M = ${POOLED[d].replace(/ \* /g, '·')} key positions after max-pooling.`);
    fwd.push(
      'const n = x.size(0);',
      `const g_x = this.g.forward(x).flatten(2).transpose(1, 2); // (N, C1, ${keySp}) -> (N, ${m}, C1)`,
    );
    if (mode === 'gaussian') {
      fwd.push(
        `const theta_x = x.flatten(2).transpose(1, 2); // (N, C, ${sp}) -> (N, ${q}, C)`,
        sub ? `const phi_x = this.phi.forward(x).flatten(2); // (N, C, ${keySp}) -> (N, C, ${m})` : `const phi_x = x.flatten(2); // (N, C, ${sp}) -> (N, C, ${m})`,
      );
    } else {
      fwd.push(
        `const theta_x = this.theta.forward(x).flatten(2).transpose(1, 2); // (N, C1, ${sp}) -> (N, ${q}, C1)`,
        `const phi_x = this.phi.forward(x).flatten(2); // (N, C1, ${keySp}) -> (N, C1, ${m})`,
      );
    }
    if (mode === 'concatenation') {
      fwd.push(
        '// ReLU(w·[θ_i, φ_j]) = ReLU(w_θ·θ_i + w_φ·φ_j): split w instead of building every pair.',
        'const [w_theta, w_phi] = this.concat_project.weight.view(2, -1).unbind(0); // (C1,), (C1,)',
        `const f = F.relu(theta_x.matmul(w_theta).unsqueeze(2).add(w_phi.matmul(phi_x).unsqueeze(1))); // (N, ${q}, 1) + (N, 1, ${m}) -> (N, ${q}, ${m})`,
      );
    } else {
      fwd.push(`const f = theta_x.matmul(phi_x); // (N, ${q}, ${m})`);
    }
    fwd.push(
      softmaxed(mode)
        ? 'const attn = F.softmax(f, -1); // normalise over the keys'
        : 'const attn = f.div(f.size(-1)); // normalise by the number of key positions',
      `let y = attn.matmul(g_x); // (N, ${q}, ${m}) @ (N, ${m}, C1) -> (N, ${q}, C1)`,
      `y = y.transpose(1, 2).reshape(n, this.inter_channels, ...x.shape.slice(2)); // (N, ${q}, C1) -> (N, C1, ${sp})`,
      'const z = this.W.forward(y).add(x); // residual; W starts at zero',
      p.need_weights ? 'return [z, attn];' : 'return z;',
    );

    return {
      name: `NonLocalBlock${d}D`,
      summary: `Non-local block (${mode.replace('_', ' ')}) over (N, C, ${sp}) features.`,
      fields,
      init,
      forwardArgs: [{ name: 'x', type: 'Tensor' }],
      returns: p.need_weights ? '[Tensor, Tensor]' : 'Tensor',
      forward: fwd,
    };
  },
  examples: [
    { dimension: '1', mode: 'concatenation' },
    { dimension: '1', mode: 'gaussian', sub_sample: false, inter_channels: 1 },
    { dimension: '3', mode: 'gaussian', bn_layer: false },
    { dimension: '3', mode: 'dot_product', sub_sample: false, need_weights: false },
    { dimension: '3', mode: 'concatenation', in_channels: 3 },
    { dimension: '2', mode: 'concatenation', sub_sample: false, inter_channels: 5, in_channels: 3 },
    { in_channels: 1, inter_channels: null },
  ],
  invalid: [
    { params: { inter_channels: 0 }, message: 'inter_channels (0) must be ≥ 1', torch: 'raises' },
    { params: { in_channels: 0 }, message: 'in_channels (0) must be ≥ 1', torch: 'raises' },
  ],
};
