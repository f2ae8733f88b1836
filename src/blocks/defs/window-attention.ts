/**
 * `window-attention`: Swin Transformer (shifted) window attention on a
 * (B, C, H, W) feature map — multi-head self-attention inside non-overlapping
 * window_size × window_size windows, with a learned relative position bias,
 * optional cyclic shift with the shifted-window mask, and padding so any H, W
 * works.
 */

import { divisible } from '../checks';
import { divisibleGuard, guard } from '../py';
import type { BlockDef, ValidationIssue } from '../types';

const NW = 'ceil_div(H, window_size) * ceil_div(W, window_size)';

export const windowAttention: BlockDef = {
  id: 'window-attention',
  title: 'Swin window attention (shifted windows)',
  summary: 'Swin-style multi-head attention inside local windows of (B, C, H, W) maps, relative position bias, optional shift.',
  docs: [
    'Splits the feature map into non-overlapping `window_size` × `window_size` windows and runs multi-head self-attention inside each, so the cost grows linearly with H·W instead of quadratically. Each head adds a learned bias indexed by the relative offset between two pixels of a window (a ((2·Ws − 1)², heads) table gathered through the `relative_position_index` buffer), as in the Swin Transformer.',
    '`shift` rolls the map by window_size // 2 before partitioning (and back afterwards), so windows straddle the borders of the previous layer\'s windows; a mask stops pixels from attending across the seams that the cyclic roll wraps together. Swin alternates unshifted and shifted layers — stack one block with `shift` false and one with `shift` true.',
    'Input and output are (B, C, H, W), like the other spatial blocks; internally the block works in (B, H, W, C). H and W are zero-padded at the bottom/right to multiples of window_size and the output cropped back, so any size works; padded pixels are masked out as keys. `embed_dim` must equal C and be divisible by `num_heads`. The returned `attn` has one row of (B·nW) per window, batch-major, nW = ⌈H / Ws⌉·⌈W / Ws⌉.',
  ].join('\n\n'),
  differences: [
    'Not among the reference posts. Compared with the official Swin code: input is (B, C, H, W) rather than tokens (B, H·W, C) with a fixed input resolution; padding is done inside the block (as Swin\'s detection code does) and padded keys are masked, where Swin\'s detection code lets zero-padded pixels take part in attention;',
    'the mask uses -inf (every pixel can at least attend to itself, so no row is empty) instead of -100, and is computed per call from the actual H, W instead of once for a fixed resolution. Swin also disables the shift when the map fits in one window; here the shift stays as configured (the mask keeps it correct).',
  ].join(' '),
  citation: { title: 'Swin Transformer: Hierarchical Vision Transformer using Shifted Windows', authors: 'Liu et al.', year: 2021, url: 'https://arxiv.org/abs/2103.14030' },
  layout: '(B, C, H, W)',
  params: [
    { name: 'embed_dim', type: 'int', default: 64, min: 1, main: true, doc: 'Channels C of the feature map; the attention width.' },
    { name: 'num_heads', type: 'int', default: 4, min: 1, main: true, doc: 'Number of heads; must divide embed_dim.' },
    { name: 'window_size', type: 'int', default: 7, min: 1, main: true, doc: 'Side Ws of the square attention windows (7 in Swin).' },
    { name: 'shift', type: 'bool', default: false, doc: 'Cyclically shift the map by window_size // 2 first (the "SW-MSA" layer); needs window_size ≥ 2.' },
    { name: 'qkv_bias', type: 'bool', default: true, doc: 'Bias in the query/key/value projection.' },
    { name: 'attn_drop', type: 'float', default: 0.0, min: 0, max: 1, doc: 'Dropout on the attention weights (training only).' },
    { name: 'proj_drop', type: 'float', default: 0.0, min: 0, max: 1, doc: 'Dropout after the output projection (training only).' },
    { name: 'need_weights', type: 'bool', default: true, baked: true, doc: 'Also return the per-window attention weights (B·nW, num_heads, Ws², Ws²).' },
  ],
  dims: [
    { name: 'B', doc: 'batch', default: 2, odd: 3 },
    { name: 'H', doc: 'height', default: 14, odd: 9 },
    { name: 'W', doc: 'width', default: 10, odd: 15 },
  ],
  validate: (p) => {
    const issues: ValidationIssue[] = divisible('embed_dim', p.embed_dim as number, 'num_heads', p.num_heads as number);
    if (p.shift && (p.window_size as number) < 2) {
      issues.push({
        param: 'shift',
        message: `shift moves the map by window_size // 2 = ${Math.floor((p.window_size as number) / 2)} pixels, which does nothing: use window_size ≥ 2 or shift false`,
      });
    }
    return issues;
  },
  contract: (p) => ({
    inputs: [{ name: 'x', shape: ['B', 'embed_dim', 'H', 'W'], doc: 'feature map' }],
    outputs: [
      { name: 'output', shape: ['B', 'embed_dim', 'H', 'W'], doc: 'attended features, same layout' },
      ...(p.need_weights
        ? [{
            name: 'attn',
            shape: [`B * ${NW}`, 'num_heads', 'window_size * window_size', 'window_size * window_size'],
            doc: 'per-window, per-head attention between the pixels of each (padded) window; rows sum to 1',
          }]
        : []),
    ],
  }),
  pytorch: (p) => ({
    name: 'WindowAttention',
    summary: 'Swin-style (shifted) window multi-head self-attention over a (B, C, H, W) feature map.',
    init: [
      ...divisibleGuard('embed_dim', 'num_heads'),
      ...guard('shift and window_size < 2', 'shift moves the map by window_size // 2 = {window_size // 2} pixels, which does nothing: use window_size ≥ 2 or shift false'),
      'self.window_size = window_size',
      'self.shift_size = window_size // 2 if shift else 0',
      'self.num_heads = num_heads',
      'self.scale = (embed_dim // num_heads) ** -0.5',
      '# One learned bias per head for each of the (2Ws - 1)^2 relative offsets inside a window.',
      'self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * window_size - 1) ** 2, num_heads))',
      'nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)',
      'ar = torch.arange(window_size)',
      'coords = torch.stack(torch.meshgrid(ar, ar, indexing="ij")).flatten(1)  # (2, Ws*Ws): (row, col) of each pixel',
      'offsets = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0) + (window_size - 1)  # (Ws*Ws, Ws*Ws, 2) in [0, 2Ws - 2]',
      'self.register_buffer("relative_position_index", offsets[:, :, 0] * (2 * window_size - 1) + offsets[:, :, 1])  # (Ws*Ws, Ws*Ws)',
      'self.qkv = nn.Linear(embed_dim, 3 * embed_dim, bias=qkv_bias)',
      'self.attn_drop = nn.Dropout(attn_drop)',
      'self.proj = nn.Linear(embed_dim, embed_dim)',
      'self.proj_drop = nn.Dropout(proj_drop)',
    ],
    forwardArgs: [{ name: 'x', annotation: 'torch.Tensor' }],
    returns: p.need_weights ? 'Tuple[torch.Tensor, torch.Tensor]' : 'torch.Tensor',
    forward: [
      'b, c, h, w = x.shape',
      'ws, s = self.window_size, self.shift_size',
      'pad_h, pad_w = (ws - h % ws) % ws, (ws - w % ws) % ws',
      'hp, wp = h + pad_h, w + pad_w',
      'x = x.permute(0, 2, 3, 1)  # (B, C, H, W) -> (B, H, W, C)',
      'x = F.pad(x, (0, 0, 0, pad_w, 0, pad_h))  # zero-pad bottom/right: (B, Hp, Wp, C), multiples of Ws',
      'if s > 0:',
      '    x = torch.roll(x, shifts=(-s, -s), dims=(1, 2))  # cyclic shift',
      '# Partition into windows: (B, Hp, Wp, C) -> (B*nW, Ws*Ws, C), nW = (Hp // Ws) * (Wp // Ws)',
      'windows = x.view(b, hp // ws, ws, wp // ws, ws, c).permute(0, 1, 3, 2, 4, 5).reshape(-1, ws * ws, c)',
      'bw, n, _ = windows.shape',
      'qkv = self.qkv(windows).reshape(bw, n, 3, self.num_heads, c // self.num_heads).permute(2, 0, 3, 1, 4)',
      'q, k, v = qkv.unbind(0)  # each (B*nW, heads, Ws*Ws, head_dim)',
      'attn = (q * self.scale) @ k.transpose(-2, -1)  # (B*nW, heads, Ws*Ws, Ws*Ws)',
      'bias = self.relative_position_bias_table[self.relative_position_index.view(-1)].view(n, n, -1)  # (Ws*Ws, Ws*Ws, heads)',
      'attn = attn + bias.permute(2, 0, 1).unsqueeze(0)',
      'if s > 0 or pad_h > 0 or pad_w > 0:',
      '    # Label every pixel of the padded, shifted map with its region: the shift wraps far-apart',
      '    # borders into the same window, and padding (label -1) must not be attended.',
      '    region = torch.zeros(hp, wp, device=x.device)',
      '    if s > 0:',
      '        cuts = (slice(0, -ws), slice(-ws, -s), slice(-s, None))',
      '        for i, rows in enumerate(cuts):',
      '            for j, cols in enumerate(cuts):',
      '                region[rows, cols] = 3 * i + j',
      '    padded = torch.zeros(hp, wp, dtype=torch.bool, device=x.device)',
      '    padded[h:, :] = True',
      '    padded[:, w:] = True',
      '    region[torch.roll(padded, shifts=(-s, -s), dims=(0, 1))] = -1',
      '    region = region.view(hp // ws, ws, wp // ws, ws).permute(0, 2, 1, 3).reshape(-1, n)  # (nW, Ws*Ws)',
      '    mask = region.unsqueeze(1) != region.unsqueeze(2)  # (nW, Ws*Ws, Ws*Ws): True = may not attend',
      '    # Every pixel shares its own label, so no row is fully masked.',
      '    attn = attn.view(b, -1, self.num_heads, n, n).masked_fill(mask[None, :, None], float("-inf"))',
      '    attn = attn.view(bw, self.num_heads, n, n)',
      'attn = F.softmax(attn, dim=-1)',
      'out = (self.attn_drop(attn) @ v).transpose(1, 2).reshape(bw, n, c)  # merge heads: (B*nW, Ws*Ws, C)',
      'out = self.proj_drop(self.proj(out))',
      '# Merge windows: (B*nW, Ws*Ws, C) -> (B, Hp, Wp, C)',
      'out = out.view(b, hp // ws, wp // ws, ws, ws, c).permute(0, 1, 3, 2, 4, 5).reshape(b, hp, wp, c)',
      'if s > 0:',
      '    out = torch.roll(out, shifts=(s, s), dims=(1, 2))  # undo the shift',
      'out = out[:, :h, :w, :].permute(0, 3, 1, 2).contiguous()  # crop padding; (B, H, W, C) -> (B, C, H, W)',
      p.need_weights ? 'return out, attn' : 'return out',
    ],
  }),
  examples: [
    { window_size: 2, shift: true },
    { window_size: 3, shift: true, embed_dim: 6, num_heads: 3, qkv_bias: false },
    { window_size: 16, shift: true },
    { window_size: 5, shift: true, need_weights: false, attn_drop: 0.1, proj_drop: 0.1 },
    { window_size: 1, embed_dim: 8, num_heads: 8 },
  ],
  invalid: [
    { params: { embed_dim: 100, num_heads: 8 }, message: 'embed_dim (100) must be divisible by num_heads (8): try num_heads 4 or 5, or embed_dim 96 or 104', torch: 'raises' },
    { params: { window_size: 1, shift: true }, message: 'use window_size ≥ 2 or shift false', torch: 'degenerate' },
  ],
};
