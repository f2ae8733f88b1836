/**
 * Shape inference fixtures: every `# revealed: (…)` comment in test/fixtures/shapes/*.py is the
 * shape the analyzer must infer for the name assigned on that line (the data behind hovers and
 * `attention-forge shapes`). Also: suppression comments and that fixes apply cleanly.
 */

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyzeSource, ready, session, SHAPES } from './analysis.helpers';

describe('analyzer shapes', function () {
  before(ready);

  for (const f of fs.readdirSync(SHAPES).filter((x) => x.endsWith('.py'))) {
    it(`infers the revealed shapes in ${f}`, function () {
      const src = fs.readFileSync(path.join(SHAPES, f), 'utf8');
      const shapes = analyzeSource(src).shapes;
      const wrong: string[] = [];
      let n = 0;
      src.split('\n').forEach((l, i) => {
        const m = /# revealed: (\(.*\))\s*$/.exec(l);
        if (!m) return;
        n++;
        const got = shapes.filter((s) => s.line === i).map((s) => s.shape);
        if (!got.includes(m[1])) wrong.push(`line ${i + 1}: expected ${m[1]}, got ${got.join(' | ') || 'nothing'}`);
      });
      assert.ok(n > 0);
      assert.deepEqual(wrong, []);
    });
  }

  it('honours suppression comments', function () {
    const src = 'import torch\nx = torch.randn(2, 3)\ny = x.tranpose(0, 1)  # attention-forge: ignore[unknown-tensor-method]\nz = x.tranpose(0, 1)\n';
    const d = analyzeSource(src).diagnostics;
    assert.deepEqual(d.map((x) => [x.rule, x.range.line]), [['unknown-tensor-method', 3]]);
    assert.equal(d[0].severity, 'error');
    assert.deepEqual(d[0].fixes[0].edits[0].newText, 'transpose');
  });

  it('offers batch_first=True, .reshape and ~mask fixes that apply cleanly', function () {
    const src = [
      'import torch',
      'import torch.nn as nn',
      'B, L, E = 2, 5, 8',
      'attn = nn.MultiheadAttention(E, 2)',
      'x = torch.randn(B, L, E)',
      'y, _ = attn(x, x, x)',
      'z = x.transpose(1, 2).view(B, L, E)',
      'keep = torch.tril(torch.ones(L, L, dtype=torch.bool))',
      'attn2 = nn.MultiheadAttention(E, 2, batch_first=True)',
      'w, _ = attn2(x, x, x, attn_mask=keep)',
      '',
    ].join('\n');
    const diags = analyzeSource(src).diagnostics;
    const byRule = new Map(diags.map((d) => [d.rule, d]));
    const apply = (rule: string) => {
      const d = byRule.get(rule);
      assert.ok(d, `${rule} not reported: ${diags.map((x) => x.rule).join(', ')}`);
      const e = d.fixes[0].edits[0];
      const lines = src.split('\n');
      const l = lines[e.range.line];
      lines[e.range.line] = l.slice(0, e.range.column) + e.newText + l.slice(e.range.endColumn);
      return lines[e.range.line];
    };
    assert.equal(apply('batch-first-mismatch'), 'attn = nn.MultiheadAttention(E, 2, batch_first=True)');
    assert.equal(apply('view-after-permute'), 'z = x.transpose(1, 2).reshape(B, L, E)');
    assert.equal(apply('mask-polarity'), 'w, _ = attn2(x, x, x, attn_mask=~keep)');
  });

  describe('mask provenance: which (i, j) a mask hides where it is used', function () {
    const H = ['import torch', 'import torch.nn as nn', 'import torch.nn.functional as F', ''];
    /** The findings as [rule, 1-based line], and the first fix of each applied to its line. */
    const check = (body: string[]) => {
      const src = [...H, ...body, ''].join('\n');
      const lines = src.split('\n');
      const diags = analyzeSource(src).diagnostics;
      return diags.map((d) => {
        const e = d.fixes[0]?.edits[0];
        const l = e ? lines[e.range.line] : '';
        const fixed = e ? (l.slice(0, e.range.column) + e.newText + l.slice(e.range.endColumn)).trim() : undefined;
        return { at: [d.rule, d.range.line + 1 - H.length] as [string, number], fixed, safe: !!d.fixes[0]?.safe };
      });
    };
    const mhaBlock = (mask: string) => [
      'class Block(nn.Module):',
      '    def __init__(self, d: int = 32):',
      '        super().__init__()',
      '        self.attn = nn.MultiheadAttention(d, 4, batch_first=True)',
      '',
      '    def forward(self, x):',
      '        T = x.size(1)',
      `        mask = ${mask}`,
      '        return self.attn(x, x, x, attn_mask=mask)[0]',
    ];

    it('a bool causal mask that also hides the diagonal, or hides the past: the triu/tril call, with the exact cut as a safe fix', function () {
      const diag = check(mhaBlock('torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=0)'));
      assert.deepEqual(diag.map((d) => d.at), [['mask-polarity', 8]]);
      assert.equal(diag[0].fixed, 'mask = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)');
      assert.ok(diag[0].safe);
      const past = check(mhaBlock('torch.tril(torch.ones(T, T, dtype=torch.bool), diagonal=-1)'));
      assert.deepEqual(past.map((d) => [d.at, d.fixed]), [[['mask-polarity', 8], 'mask = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)']]);
      // The method form keeps its receiver.
      const method = check(mhaBlock('torch.ones(T, T, dtype=torch.bool).triu()'));
      assert.deepEqual(method.map((d) => [d.at, d.fixed]), [[['mask-polarity', 8], 'mask = torch.ones(T, T, dtype=torch.bool).triu(diagonal=1)']]);
      // The exact complement (a keep mask given where True means ignore) is negated, as before.
      const keep = check(mhaBlock('torch.tril(torch.ones(T, T, dtype=torch.bool))'));
      assert.deepEqual(keep.map((d) => [d.at, d.fixed]), [[['mask-polarity', 9], 'return self.attn(x, x, x, attn_mask=~mask)[0]']]);
    });

    it('an additive -inf mask built under a condition and added to the scores in another module, without a call site', function () {
      const src = (cut: string) => [
        'class Attention(nn.Module):',
        '    def __init__(self, dim: int = 32):',
        '        super().__init__()',
        '        self.wq = nn.Linear(dim, dim)',
        '',
        '    def forward(self, x, mask):',
        '        q = self.wq(x)',
        '        scores = q @ q.transpose(-2, -1) / 32 ** 0.5',
        '        if mask is not None:',
        '            scores = scores + mask',
        '        return scores.softmax(dim=-1) @ q',
        '',
        '',
        'class Model(nn.Module):',
        '    def __init__(self, dim: int = 32):',
        '        super().__init__()',
        '        self.layer = Attention(dim)',
        '',
        '    def forward(self, tokens):',
        '        bsz, seqlen = tokens.shape',
        '        h = torch.randn(bsz, seqlen, 32)',
        '        mask = None',
        '        if seqlen > 1:',
        '            mask = torch.full((seqlen, seqlen), float("-inf"))',
        `            mask = ${cut}`,
        '        return self.layer(h, mask)',
      ];
      for (const cut of ['torch.tril(mask, diagonal=-1)', 'torch.triu(mask)']) {
        const d = check(src(cut));
        assert.deepEqual(d.map((x) => [x.at, x.fixed]), [[['mask-polarity', 25], 'mask = torch.triu(mask, diagonal=1)']], cut);
      }
      assert.deepEqual(check(src('torch.triu(mask, diagonal=1)')), []);
    });

    it('a causal-mask helper whose result is causal under neither convention; masks through masked_fill(mask == 0)', function () {
      const helper = (cut: string, cmp: string) => [
        'def subsequent_mask(size):',
        '    attn_shape = (1, size, size)',
        `    m = ${cut}.type(torch.uint8)`,
        `    return m ${cmp}`,
      ];
      const d = check(helper('torch.tril(torch.ones(attn_shape), diagonal=-1)', '== 0'));
      assert.deepEqual(d.map((x) => x.at), [['mask-polarity', 3]]);
      assert.ok(!d[0].safe, 'which convention the caller uses is not known: the fixes are offered, not preferred');
      // Both conventions are causal masks: True at the future (== 1) or True where attended (== 0).
      assert.deepEqual(check(helper('torch.triu(torch.ones(attn_shape), diagonal=1)', '== 0')), []);
      assert.deepEqual(check(helper('torch.triu(torch.ones(attn_shape), diagonal=1)', '== 1')), []);
      // A helper not named for a causal mask (pairs i > j for a loss) is not judged.
      assert.deepEqual(check(['def lower_pairs(n: int):', '    return torch.tril(torch.ones(n, n, dtype=torch.bool), diagonal=-1)']), []);
      // A keep mask (== 0 of the future) given to masked_fill(mask == 0): the fix is exact.
      const used = check([
        'def causal_keep(T: int):',
        '    return torch.triu(torch.ones(T, T), diagonal=1) == 0',
        '',
        'def attend(q, k):',
        '    s = q @ k.transpose(-2, -1)',
        '    mask = causal_keep(q.size(-2))',
        '    return s.masked_fill(mask == 1, -1e9).softmax(dim=-1)',
        '',
        'out = attend(torch.randn(2, 5, 8), torch.randn(2, 5, 8))',
      ]);
      assert.deepEqual(used.map((x) => [x.at, x.fixed]), [[['mask-polarity', 7], 'return s.masked_fill(~(mask == 1), -1e9).softmax(dim=-1)']]);
    });

    it('a key_padding_mask handed down unchanged is reported at the caller, with the ~ removed or added there', function () {
      const src = (pad: string) => [
        'class Block(nn.Module):',
        '    def __init__(self, d: int = 32):',
        '        super().__init__()',
        '        self.attn = nn.MultiheadAttention(d, 4, batch_first=True)',
        '',
        '    def forward(self, x, key_padding_mask=None):',
        '        return self.attn(x, x, x, key_padding_mask=key_padding_mask)[0]',
        '',
        '',
        'class Encoder(nn.Module):',
        '    def __init__(self):',
        '        super().__init__()',
        '        self.block = Block(32)',
        '',
        '    def forward(self, x, lengths):',
        '        positions = torch.arange(x.size(1))',
        `        pad = ${pad}`,
        '        return self.block(x, key_padding_mask=pad)',
      ];
      const d = check(src('positions[None, :] < lengths[:, None]'));
      assert.deepEqual(d.map((x) => [x.at, x.fixed]), [[['mask-polarity', 18], 'return self.block(x, key_padding_mask=~pad)']]);
      const negated = check(src('~(positions[None, :] >= lengths[:, None])'));
      assert.deepEqual(negated.map((x) => x.at), [['mask-polarity', 18]]);
      assert.deepEqual(check(src('positions[None, :] >= lengths[:, None]')), []);
    });

    it('masked_fill with -finfo(dtype).max; ~ removed by the fix', function () {
      const d = check([
        'def attend(sim, lengths):',
        '    keep = torch.arange(sim.size(-1))[None, :] < lengths[:, None]',
        '    max_neg_value = -torch.finfo(sim.dtype).max',
        '    return sim.masked_fill(keep, max_neg_value), sim.masked_fill(~keep, max_neg_value)',
        '',
        'out = attend(torch.randn(2, 5), torch.tensor([5, 3]))',
      ]);
      assert.deepEqual(d.map((x) => [x.at, x.fixed]), [[['mask-polarity', 4], 'return sim.masked_fill(~keep, max_neg_value), sim.masked_fill(~keep, max_neg_value)']]);
      const ignore = check(['def f(s, pad_id: int = 0):', '    tokens = torch.randint(0, 9, (2, 5))', '    return s.masked_fill(~(tokens == pad_id), float("-inf"))', '', 'out = f(torch.randn(2, 5))']);
      assert.deepEqual(ignore.map((x) => [x.at, x.fixed]), [[['mask-polarity', 3], 'return s.masked_fill(tokens == pad_id, float("-inf"))']]);
    });

    it('an SDPA mask of one value per query (padding on the query axis)', function () {
      const src = (index: string) => [
        'def attend(q, pad):',
        `    return F.scaled_dot_product_attention(q, q, q, attn_mask=~pad${index})`,
        '',
        'out = attend(torch.randn(2, 4, 17, 16), torch.zeros(2, 17, dtype=torch.bool))',
      ];
      const d = check(src('[:, None, :, None]'));
      assert.deepEqual(d.map((x) => [x.at, x.fixed]), [[['mask-shape-mismatch', 2], 'return F.scaled_dot_product_attention(q, q, q, attn_mask=(~pad[:, None, :, None]).transpose(-2, -1))']]);
      assert.deepEqual(check(src('[:, None, None, :]')), []);
    });

    it('near misses stay silent: causal masks, windows, bands, caches, prefix-LM, unknown provenance', function () {
      const silent = [
        mhaBlock('torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)'),
        mhaBlock('torch.triu(torch.full((T, T), float("-inf")), diagonal=1)'),
        mhaBlock('nn.Transformer.generate_square_subsequent_mask(T)'),
        // Sliding window: the future or more than 4 back.
        mhaBlock('torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1) | torch.tril(torch.ones(T, T, dtype=torch.bool), diagonal=-4)'),
        // A band cut twice: the second cut is of a mask that is no longer one value.
        mhaBlock('~torch.tril(torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=-4))'),
        // A bidirectional mask on purpose.
        mhaBlock('torch.zeros(T, T, dtype=torch.bool)'),
        // Mask from the caller: unknown provenance.
        ['def f(scores, mask):', '    return scores.masked_fill(mask, float("-inf")).softmax(-1)'],
        // A cache before the queries: the cut is rectangular and its diagonal offset.
        ['def f(q, k, past: int = 3):', '    T = q.size(-2)', '    allowed = torch.ones(T, past + T, dtype=torch.bool).tril(diagonal=past)', '    return F.scaled_dot_product_attention(q, k, k, attn_mask=allowed)', '', 'out = f(torch.randn(2, 5, 8), torch.randn(2, 8, 8))'],
        // Prefix-LM: a causal keep mask whose prefix is made visible.
        ['def f(q, prefix: int = 2):', '    T = q.size(-2)', '    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))', '    mask[:, :prefix] = True', '    return F.scaled_dot_product_attention(q, q, q, attn_mask=mask)', '', 'out = f(torch.randn(2, 5, 8))'],
        // is_causal instead of a mask.
        ['def f(q):', '    return F.scaled_dot_product_attention(q, q, q, is_causal=True)'],
        // An exclusive cumulative sum by a strictly lower matrix: not a mask.
        ['def f(x):', '    T = x.size(-2)', '    return torch.tril(torch.ones(T, T), diagonal=-1) @ x', '', 'out = f(torch.randn(2, 5, 8))'],
        // A keep mask named key_padding_mask, negated where it is used.
        ['def f(scores, key_padding_mask=None):', '    return scores.masked_fill(~key_padding_mask[:, None, None, :], float("-inf"))'],
      ];
      for (const body of silent) assert.deepEqual(check(body), [], body.join('\n'));
    });
  });

  it('without a call site: a rank shows where a value computed from the input is used; a helper only called with unknown sizes runs on its own', function () {
    // No `# revealed:` comments here: a shape comment on a line seeds the name it assigns.
    const src = [
      'import torch',
      'import torch.nn as nn',
      'import tokenizer',
      '',
      'def positions(n: int):',
      '    i = torch.arange(n)[:, None]',
      '    return i',
      '',
      'class UsesPositions(nn.Module):',
      '    def forward(self, text):',
      '        return positions(tokenizer.count(text))',
      '',
      'class Block(nn.Module):',
      '    def __init__(self, dim, norm_layer=nn.LayerNorm):',
      '        super().__init__()',
      '        self.norm1 = norm_layer(dim)',
      '        self.qkv = nn.Linear(dim, dim * 3)',
      '',
      '    def heads(self, x):',
      '        B, N, C = x.shape',
      '        return self.qkv(x)[..., :C]',
      '',
      '    def forward(self, x):',
      '        x = x + self.heads(self.norm1(x))',
      '        return x',
      '',
    ].join('\n');
    const shapes = analyzeSource(src).shapes.map((s) => `${s.line + 1} ${s.name}: ${s.shape}`);
    assert.ok(shapes.includes('6 i: (n, 1)'), shapes.join('\n'));
    assert.ok(shapes.includes('24 x: (B, N, dim)'), shapes.join('\n'));
    // Pieces of a chunk keep the rank; a lambda mapped over them gives each its evidence.
    const einops = [
      'import torch.nn as nn',
      'from einops import rearrange',
      '',
      'class Linear(nn.Module):',
      '    def __init__(self, dim, heads=4):',
      '        super().__init__()',
      '        self.heads = heads',
      '        self.to_qkv = nn.Linear(dim, dim * 3)',
      '',
      '    def forward(self, x):',
      '        q, k, v = self.to_qkv(x).chunk(3, dim=-1)',
      "        q, k, v = map(lambda t: rearrange(t, 'b n (h d) -> b h n d', h=self.heads), (q, k, v))",
      '        return q',
      '',
    ].join('\n');
    const pieces = analyzeSource(einops).shapes.map((s) => `${s.line + 1} ${s.name}: ${s.shape}`);
    assert.ok(pieces.includes('11 k: (b, n, dim)'), pieces.join('\n'));
    // A view to `(*x.shape[:-1], -1, d)` has one axis more than x: four unpacked later make x's rank 3.
    const hidden = [
      'import torch.nn as nn',
      '',
      'def repeat_kv(hidden_states, n_rep: int):',
      '    batch, heads, slen, head_dim = hidden_states.shape',
      '    return hidden_states',
      '',
      'class GQA(nn.Module):',
      '    def __init__(self, hidden_size, heads=8):',
      '        super().__init__()',
      '        self.head_dim = hidden_size // heads',
      '        self.k_proj = nn.Linear(hidden_size, hidden_size)',
      '',
      '    def forward(self, hidden_states):',
      '        input_shape = hidden_states.shape[:-1]',
      '        hidden_shape = (*input_shape, -1, self.head_dim)',
      '        key_states = self.k_proj(hidden_states).view(hidden_shape).transpose(1, 2)',
      '        return repeat_kv(key_states, 2)',
      '',
    ].join('\n');
    // A mask with no caller and a None default may be None: the helper called under
    // `if attention_mask is None:` runs with the caller's sizes.
    const branch = [
      'import torch',
      'import torch.nn as nn',
      'from typing import Optional',
      'from torch import Tensor',
      '',
      'def causal(n: int):',
      '    keep = torch.ones(n, n).tril()',
      '    return keep',
      '',
      'class A(nn.Module):',
      '    def forward(self, x: Tensor, attention_mask: Optional[Tensor] = None):',
      '        if attention_mask is None:',
      '            attention_mask = causal(x.shape[1])',
      '        return attention_mask',
      '',
    ].join('\n');
    const skipped = analyzeSource(branch).shapes.map((s) => `${s.line + 1} ${s.name}: ${s.shape}`);
    assert.ok(skipped.includes('7 keep: (d, d)') && skipped.includes('13 attention_mask: (d, d)'), skipped.join('\n'));
    // `b, *axis, _ = data.shape` names the first size; it does not fix data's rank.
    const star = [
      'import torch',
      'import torch.nn as nn',
      'from einops import repeat',
      '',
      'class P(nn.Module):',
      '    def __init__(self, n=8, d=16):',
      '        super().__init__()',
      '        self.latents = nn.Parameter(torch.randn(n, d))',
      '',
      '    def forward(self, data):',
      '        b, *axis, _ = data.shape',
      "        x = repeat(self.latents, 'n d -> b n d', b=b)",
      '        y = data.unsqueeze(-1)',
      '        return x, y',
      '',
    ].join('\n');
    const starred = analyzeSource(star).shapes.map((s) => `${s.line + 1} ${s.name}: ${s.shape}`);
    assert.ok(starred.includes('12 x: (b, n, d)'), starred.join('\n'));
    assert.ok(!starred.some((x) => x.startsWith('13 y')), starred.join('\n'));
    const views = analyzeSource(hidden).shapes.map((s) => `${s.line + 1} ${s.name}: ${s.shape}`);
    assert.ok(views.includes('16 key_states: (hidden_states0, heads, hidden_states1, hidden_size//heads)'), views.join('\n'));
  });

  it('reports nothing on code it cannot type (unknown shapes stay silent)', function () {
    const src = 'import torch\n\ndef f(x, y):\n    return (x @ y).view(3, -1).permute(1, 0).softmax(dim=0) + y\n';
    assert.deepEqual(analyzeSource(src).diagnostics, []);
  });

  it('takes a value a tensor subclass may be for one by hypothesis only: its own attributes stay silent, a typo on a plain tensor does not', function () {
    // Each line: a body whose last statement reads an attribute torch.Tensor lacks, of a value
    // that may be a subclass (a sharded, nested or distributed tensor) with that attribute.
    const silent = [
      ['def f(val: torch.Tensor):', '    if type(val) is ShardedTensor:', '        return len(val.local_shards())'],
      ['def f(val: torch.Tensor):', '    if type(val) == ShardedTensor:', '        return val.local_shards()', '    elif type(val) is DTensor and val.device_mesh.ndim == 1:', '        return val.placements'],
      ['def f(qkv: torch.Tensor):', '    if not isinstance(qkv, NestedTensor):', '        raise ValueError("nested only")', '    return qkv.offsets()'],
      ['def f(q: torch.Tensor):', '    assert (isinstance(q, NestedTensor) and q.dim() > 3)', '    return q.lengths()'],
      ['def f(tensors, dim=0):', '    return torch.stack(tensors, dim).index(dim, 1)'],
      ['def f(query):', '    head_dim = query.size(3)', '    q_t = query.transpose(1, 2)', '    return q_t.offsets()'],
    ];
    for (const body of silent) {
      const src = ['import torch', '', '', ...body, ''].join('\n');
      assert.deepEqual(analyzeSource(src).diagnostics, [], src);
    }
    // The same attribute of a plain tensor, or after a guard that does not exit, is reported.
    const reported = [
      ['def f(x: torch.Tensor):', '    return torch.stack([x, x]).offsets()'],
      ['def f(qkv: torch.Tensor):', '    if not isinstance(qkv, NestedTensor):', '        print("dense")', '    return qkv.offsets()'],
      ['def f():', '    q = torch.randn(2, 3, 4, 5)', '    q_t = q.transpose(1, 2)', '    return q_t.offsets()'],
    ];
    for (const body of reported) {
      const src = ['import torch', '', '', ...body, ''].join('\n');
      assert.deepEqual(analyzeSource(src).diagnostics.map((d) => d.rule), ['unknown-tensor-method'], src);
    }
  });

  it('without a call site: axes of unrelated roles lined up by matmul, cat, a broadcast or expand_as are reported whatever their sizes; the right code is silent', function () {
    const cases: { wrong: string[]; right: string[]; rule: string }[] = [
      {
        // GQA: keys repeated per group keep the heads role (n_kv_heads copies merged), so
        // contracting the head dim with the heads axis is found even where head_dim == n_heads.
        rule: 'matmul-inner-dim-mismatch',
        wrong: ['scores = torch.matmul(xq, keys.transpose(1, 2))'],
        right: ['scores = torch.matmul(xq, keys.transpose(2, 3))'],
      },
      {
        // Patch tokens left channel-major (B, C, N) joined to a (B, 1, C) class token.
        rule: 'cat-dim-mismatch',
        wrong: ['x = self.proj(img).flatten(2)', 'x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), x), dim=1)'],
        right: ['x = self.proj(img).flatten(2).transpose(1, 2)', 'x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), x), dim=1)'],
      },
      {
        // Positions counted along the batch: (b, t, C) + (b, C).
        rule: 'broadcast-mismatch',
        wrong: ['b, t = idx.size()', 'pos = torch.arange(0, b, dtype=torch.long)', 'x = self.wte(idx) + self.wpe(pos)'],
        right: ['b, t = idx.size()', 'pos = torch.arange(0, t, dtype=torch.long)', 'x = self.wte(idx) + self.wpe(pos)'],
      },
      {
        // Squeeze-and-excitation weights laid out (b, 1, 1, c) and expanded as (b, c, h, w).
        rule: 'broadcast-mismatch',
        wrong: ['b, c, h, w = img.size()', 'y = self.fc(img.mean((2, 3))).view(b, 1, 1, c)', 'x = img * y.expand_as(img)'],
        right: ['b, c, h, w = img.size()', 'y = self.fc(img.mean((2, 3))).view(b, c, 1, 1)', 'x = img * y.expand_as(img)'],
      },
    ];
    const module = (body: string[]) =>
      [
        'import torch',
        'import torch.nn as nn',
        '',
        '',
        'def repeat_kv(x: torch.Tensor, n_rep: int) -> torch.Tensor:',
        '    bs, slen, n_kv_heads, head_dim = x.shape',
        '    if n_rep == 1:',
        '        return x',
        '    return x[:, :, :, None, :].expand(bs, slen, n_kv_heads, n_rep, head_dim).reshape(bs, slen, n_kv_heads * n_rep, head_dim)',
        '',
        '',
        'class M(nn.Module):',
        '    def __init__(self, dim: int = 64, n_heads: int = 8, n_kv_heads: int = 2, vocab: int = 50):',
        '        super().__init__()',
        '        self.n_heads, self.n_kv_heads = n_heads, n_kv_heads',
        '        self.n_rep = n_heads // n_kv_heads',
        '        self.head_dim = dim // n_heads',
        '        self.wq = nn.Linear(dim, n_heads * self.head_dim)',
        '        self.wk = nn.Linear(dim, n_kv_heads * self.head_dim)',
        '        self.proj = nn.Conv2d(3, dim, 4, 4)',
        '        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))',
        '        self.wte = nn.Embedding(vocab, dim)',
        '        self.wpe = nn.Embedding(vocab, dim)',
        '        self.fc = nn.Linear(dim, dim)',
        '',
        '    def forward(self, x, img, idx):',
        '        bsz, seqlen, _ = x.shape',
        '        xq = self.wq(x).view(bsz, seqlen, self.n_heads, self.head_dim)',
        '        xk = self.wk(x).view(bsz, seqlen, self.n_kv_heads, self.head_dim)',
        '        keys = repeat_kv(xk, self.n_rep).transpose(1, 2)',
        '        xq = xq.transpose(1, 2)',
        ...body.map((l) => `        ${l}`),
        '        return x',
        '',
      ].join('\n');
    for (const c of cases) {
      const found = analyzeSource(module(c.wrong)).diagnostics;
      assert.deepEqual(found.map((d) => d.rule), [c.rule], `${c.wrong.join('\n')}\n${found.map((d) => d.message).join('\n')}`);
      assert.match(found[0].message, /happen to be equal/);
      assert.deepEqual(analyzeSource(module(c.right)).diagnostics, [], c.right.join('\n'));
    }
    // Efficient channel attention convolves across the channels (a Conv1d over (B, 1, C)): its
    // output keeps the channels' role, so expanding it over the map is the right layout.
    const eca = ['import torch.nn as nn', '', '', 'class Eca(nn.Module):', '    def __init__(self, k_size=3):', '        super().__init__()', '        self.avg_pool = nn.AdaptiveAvgPool2d(1)', '        self.conv = nn.Conv1d(1, 1, kernel_size=k_size, padding=(k_size - 1) // 2, bias=False)', '', '    def forward(self, x):', '        y = self.avg_pool(x)', '        y = self.conv(y.squeeze(-1).transpose(-1, -2)).transpose(-1, -2).unsqueeze(-1)', '        return x * y.sigmoid().expand_as(x)', ''].join('\n');
    assert.deepEqual(analyzeSource(eca).diagnostics, []);
  });

  it('scores made with the key projection on the left are (keys, queries): a softmax over the queries is reported, one over the keys is not', function () {
    const module = (energy: string, softmax: string, out: string) =>
      [
        'import torch',
        'import torch.nn as nn',
        '',
        '',
        'class SelfAttn(nn.Module):',
        '    def __init__(self, in_dim):',
        '        super().__init__()',
        '        self.query_conv = nn.Conv2d(in_dim, in_dim // 8, 1)',
        '        self.key_conv = nn.Conv2d(in_dim, in_dim // 8, 1)',
        '        self.value_conv = nn.Conv2d(in_dim, in_dim, 1)',
        '',
        '    def forward(self, x):',
        '        b, c, width, height = x.size()',
        '        proj_query = self.query_conv(x).view(b, -1, width * height).permute(0, 2, 1)',
        '        proj_key = self.key_conv(x).view(b, -1, width * height)',
        `        energy = ${energy}`,
        `        attention = ${softmax}`,
        '        proj_value = self.value_conv(x).view(b, -1, width * height)',
        `        out = ${out}`,
        '        return out.view(b, c, width, height)',
        '',
      ].join('\n');
    const keyMajor = 'torch.bmm(proj_key.permute(0, 2, 1), proj_query.permute(0, 2, 1))';
    const found = analyzeSource(module(keyMajor, 'energy.softmax(dim=-1)', 'torch.bmm(proj_value, attention.permute(0, 2, 1))')).diagnostics;
    assert.deepEqual(found.map((d) => [d.rule, d.range.line + 1]), [['softmax-wrong-axis', 17]]);
    assert.equal(found[0].fixes[0].edits[0].newText, '-2');
    // The same scores normalised over the keys, and the usual (queries, keys) layout: silent.
    assert.deepEqual(analyzeSource(module(keyMajor, 'energy.softmax(dim=1)', 'torch.bmm(proj_value, attention)')).diagnostics, []);
    assert.deepEqual(analyzeSource(module('torch.bmm(proj_query, proj_key)', 'energy.softmax(dim=-1)', 'torch.bmm(proj_value, attention.permute(0, 2, 1))')).diagnostics, []);
    // Projections nobody named for queries and keys say nothing of which is which.
    const unnamed = module(keyMajor, 'energy.softmax(dim=-1)', 'torch.bmm(proj_value, attention.permute(0, 2, 1))').replace(/query_conv/g, 'f_conv').replace(/key_conv/g, 'g_conv');
    assert.deepEqual(analyzeSource(unnamed).diagnostics, []);
  });

  it('without a call site: a mask parameter cast to 0s and 1s and given to SDPA is reported whatever its polarity; the bool mask is not', function () {
    const fn = (mask: string, ann = ': torch.Tensor') =>
      ['import torch', 'import torch.nn.functional as F', 'from typing import Optional', '', '', `def attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, pad_mask${ann} = None):`, '    b, h, n, d = q.shape', '    _, _, s, _ = k.shape', '    _, _, _, e = v.shape', '    attn_mask = None', '    if pad_mask is not None:', `        attn_mask = ${mask}`, '    return F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)', ''].join('\n');
    for (const ann of [': torch.Tensor', ': Optional[torch.Tensor]', '']) {
      const found = analyzeSource(fn('(~pad_mask[:, None, None, :]).float()', ann)).diagnostics;
      assert.deepEqual(found.map((d) => [d.rule, d.range.line + 1]), [['mask-dtype', 13]], ann);
      assert.match(found[0].message, /masks nothing/);
      assert.deepEqual(analyzeSource(fn('~pad_mask[:, None, None, :]', ann)).diagnostics, [], ann);
      // Indexed into the four axes of the scores, the mask has exactly its slices' axes: put on the
      // query axis, it holds one value per query (found with no caller too).
      const queries = analyzeSource(fn('~pad_mask[:, None, :, None]', ann)).diagnostics;
      assert.deepEqual(queries.map((d) => d.rule), ['mask-shape-mismatch'], ann);
      assert.match(queries[0].message, /one value per query/);
      // A float mask made additive is right.
      assert.deepEqual(analyzeSource(fn('torch.zeros(pad_mask.shape).masked_fill(pad_mask, float("-inf"))[:, None, None, :]', ann)).diagnostics, [], ann);
    }
  });

  it('a cumulative sum divided by its last entries along another axis is reported, with the summed axis as the fix; its own total is not', function () {
    const fn = (y: string, x: string) =>
      ['import torch', '', '', 'def sine_positions(mask: torch.Tensor, eps: float = 1e-6):', '    b, h, w = mask.shape', '    not_mask = ~mask', '    y_embed = not_mask.cumsum(1, dtype=torch.float32)', '    x_embed = torch.cumsum(not_mask, dim=-1)', `    y_embed = y_embed / (${y} + eps)`, `    x_embed = x_embed / (${x} + eps)`, '    return y_embed, x_embed', ''].join('\n');
    assert.deepEqual(analyzeSource(fn('y_embed[:, -1:, :]', 'x_embed[:, :, -1:]')).diagnostics, []);
    const found = analyzeSource(fn('y_embed[:, :, -1:]', 'x_embed[:, -1:, :]')).diagnostics;
    assert.deepEqual(found.map((d) => [d.rule, d.range.line + 1]), [['cumsum-total-axis', 9], ['cumsum-total-axis', 10]]);
    assert.deepEqual(found.map((d) => d.fixes[0]?.edits[0].newText), ['y_embed[:, -1:, :]', 'x_embed[:, :, -1:]']);
    assert.match(found[0].message, /over axis 1 by its last entries along axis 2/);
  });

  it('without a call site: .item() of one value per sample runs only for a batch of one; of a reduction, silent', function () {
    const fn = (line: string) => ['import torch', '', '', 'def lengths_to_padding_mask(lengths):', '    """ (B,) lengths -> (B, S) bool, True at padded positions. """', `    max_len = int(${line})`, '    positions = torch.arange(max_len, device=lengths.device)', '    return positions[None, :] >= lengths[:, None]', ''].join('\n');
    const found = analyzeSource(fn('lengths.item()')).diagnostics;
    assert.deepEqual(found.map((d) => [d.rule, d.severity, d.range.line + 1]), [['view-size-mismatch', 'warning', 6]]);
    assert.match(found[0].message, /batch of one/);
    assert.deepEqual(analyzeSource(fn('lengths.max().item()')).diagnostics, []);
    assert.deepEqual(analyzeSource(fn('lengths[0].item()')).diagnostics, []);
  });

  it('what a branch assumes of a size (`if n == 1:`) and what two halves of an axis broadcast to stay where they hold', function () {
    const silent = [
      // Valid with n = 2 and D = 2 * E: the `n == 1` branch's bindings must not outlive it.
      ['def f(x, y, n: int):', '    B, D = x.shape', '    _, E = y.shape', '    if n == 1:', '        return x + y.repeat(1, n)', '    return x + torch.cat([y, y], 1)'],
      ['def f(x, y, n: int):', '    B, D = x.shape', '    _, E = y.shape', '    if n == 1:', '        z = x + y.repeat(1, n)', '    return x + torch.cat([y, y], 1)'],
      // Valid with H = 3: ⌈3/2⌉ = 2 rows broadcast against ⌊3/2⌋ = 1.
      ['def f(x):', '    B, H, W, C = x.shape', '    y = x[:, 0::2] + x[:, 1::2]', '    x = x.reshape(B, 3, W, C)', '    return y.reshape(B, 2 * W * C)'],
    ];
    for (const body of silent) {
      const src = ['import torch', '', '', ...body, ''].join('\n');
      assert.deepEqual(analyzeSource(src).diagnostics, [], src);
    }
    // An axis size bound to twice its own half (H = 2 * ⌈H/2⌉) resolves without looping, and what
    // follows keeps its shapes.
    const src = ['import torch', '', '', 'def f(x):', '    B, H, W = x.shape', '    y = x[:, 0::2]', '    z = torch.cat([y, y], 1)', '    w = x + z', '    v = w.transpose(1, 2)', '    return v', ''].join('\n');
    const a = analyzeSource(src);
    assert.equal(a.shapes.find((r) => r.name === 'v')?.shape, '(B, W, 2*⌈H/2⌉)');
    // A return in a branch a known flag skips takes its assumption with it: the later `return x`
    // (B, D) is not rewritten as the other path's (B, D*n).
    const skipped = ['import torch', '', '', 'def g(x, n: int, flag: bool = True):', '    B, D = x.shape', '    if not flag:', '        if n == 1:', '            return x', '    if B > 3:', '        return x', '    return x.repeat(1, n)', '', '', 'def h(x, n: int):', '    y = g(x, n)', '    return y', ''].join('\n');
    assert.equal(analyzeSource(skipped).shapes.find((r) => r.name === 'y')?.shape, '(B, ?)');
  });

  it('checks attribute names in a branch the call site skips, but no shapes there', function () {
    // The reference post's SKEConv: `x.permutation` sits under `if not self.batch_first:`, and
    // the only call uses batch_first=True. The name is wrong for any flag; the shape mistake in
    // the other skipped branch (a (2, 3) tensor has no axis 2) proves nothing for these flags.
    const src = [
      'import torch',
      'import torch.nn as nn',
      '',
      'class M(nn.Module):',
      '    def __init__(self, batch_first=True):',
      '        super().__init__()',
      '        self.batch_first = batch_first',
      '',
      '    def forward(self, x):',
      '        if not self.batch_first:',
      '            x = x.permutation(1, 0)',
      '        if not self.batch_first:',
      '            x = x.permute(2, 0, 1)',
      '        return x',
      '',
      'y = M()(torch.randn(2, 3))',
      '',
    ].join('\n');
    const d = analyzeSource(src).diagnostics.map((x) => [x.rule, x.range.line + 1]);
    assert.deepEqual(d, [['unknown-tensor-method', 11]]);
    // Live code afterwards still sees the values of the path that runs: no shape record of the skipped assignment.
    assert.ok(!analyzeSource(src).shapes.some((r) => r.line === 10 || r.line === 12));
  });

  it('still reports the mistakes in the complete parts of a file with a syntax error elsewhere', function () {
    // Half-typed files, as the editor sees them mid-edit: the broken statement is an error node,
    // every complete statement around it is still analysed, and the editor's incremental path
    // agrees with a cold analysis.
    const cases: { src: string[]; want: [string, number, string][] }[] = [
      {
        // An unclosed call on the last line; the buggy function above it is complete.
        src: [
          'import torch',
          'import torch.nn as nn',
          '',
          'class Good(nn.Module):',
          '    def __init__(self, dim):',
          '        super().__init__()',
          '        self.proj = nn.Linear(dim, dim)',
          '',
          '    def forward(self, x):',
          '        return self.proj(x)',
          '',
          'def attend(q, k):',
          '    s = torch.matmul(q, k)',
          '    return s.softmax(dim=-1)',
          '',
          'out = attend(torch.randn(2, 10, 16), torch.randn(2, 10, 16))',
          'y = Good(16)(torch.randn(2, 5, 16)',
        ],
        want: [['matmul-inner-dim-mismatch', 13, 'error']],
      },
      {
        // A missing parenthesis in a later class swallows the rest of the file, the call site
        // included: the helper before it is still checked, from its own shapes (a warning).
        src: [
          'import torch',
          'import torch.nn as nn',
          '',
          'def merge(x):',
          '    b, h, n, d = x.shape',
          '    return x.permute(0, 2, 1, 3).view(b, n, h * d)',
          '',
          'class Half(nn.Module):',
          '    def __init__(self, dim):',
          '        super().__init__()',
          '        self.qkv = nn.Linear(dim, 3 * dim',
          '        self.out = nn.Linear(dim, dim)',
          '',
          'm = merge(torch.randn(2, 4, 6, 8))',
        ],
        want: [['view-after-permute', 6, 'warning']],
      },
      {
        // An unfinished `if` inside the method, after its return: the rest of the method is intact.
        src: [
          'import torch',
          'import torch.nn as nn',
          '',
          'class Attn(nn.Module):',
          '    def __init__(self, dim, heads):',
          '        super().__init__()',
          '        self.h = heads',
          '        self.qkv = nn.Linear(dim, dim * 3)',
          '        self.o = nn.Linear(dim * 2, dim)',
          '',
          '    def forward(self, x):',
          '        b, n, c = x.shape',
          '        q, k, v = self.qkv(x).reshape(b, n, 3, self.h, c // self.h).permute(2, 0, 3, 1, 4)',
          '        a = (q @ k.transpose(-2, -1) * (c // self.h) ** -0.5).softmax(dim=-1)',
          '        return self.o((a @ v).transpose(1, 2).reshape(b, n, c))',
          '        if x.dim() == 3 and',
          '            pass',
          '',
          'r = Attn(32, 4)(torch.randn(2, 7, 32))',
        ],
        want: [['linear-in-features-mismatch', 15, 'error']],
      },
    ];
    for (const c of cases) {
      const src = c.src.join('\n') + '\n';
      const cold = analyzeSource(src).diagnostics.map((x) => [x.rule, x.range.line + 1, x.severity]);
      assert.deepEqual(cold, c.want);
      // The editor's path: the same text reached by typing its last line into an earlier version.
      const s = session();
      try {
        s.analyze(src.replace(/\n[^\n]*\n$/, '\n'));
        assert.deepEqual(s.analyze(src).diagnostics.map((x) => [x.rule, x.range.line + 1, x.severity]), cold);
      } finally {
        s.dispose();
      }
    }
  });
  it('without a call site: a product that sums a heads axis is reported, the transposed keys are not', function () {
    const module = (keys: string) =>
      [
        'import math',
        'import torch',
        'import torch.nn as nn',
        '',
        'class CausalSelfAttention(nn.Module):',
        '    def __init__(self, n_embd, n_head):',
        '        super().__init__()',
        '        self.n_head = n_head',
        '        self.c_attn = nn.Linear(n_embd, 3 * n_embd)',
        '',
        '    def forward(self, x):',
        '        B, T, C = x.size()',
        '        q, k, v = self.c_attn(x).split(C, dim=2)',
        '        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)',
        '        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)',
        `        att = (q @ ${keys}) * (1.0 / math.sqrt(k.size(-1)))`,
        '        return att.softmax(dim=-1)',
        '',
      ].join('\n');
    const found = analyzeSource(module('k.transpose(1, 2)')).diagnostics.map((d) => [d.rule, d.range.line + 1, d.severity]);
    assert.deepEqual(found, [['matmul-inner-dim-mismatch', 16, 'warning']]);
    assert.match(analyzeSource(module('k.transpose(1, 2)')).diagnostics[0].message, /heads axis of the right one \(n_head\)/);
    assert.deepEqual(analyzeSource(module('k.transpose(-2, -1)')).diagnostics, []);
  });

  it('without a call site: heads merged or split without the transpose are reported, the folds that keep the order are not', function () {
    const module = (split: string, merge: string) =>
      [
        'import torch',
        'import torch.nn as nn',
        '',
        'class Attention(nn.Module):',
        '    def __init__(self, dim, num_heads=8):',
        '        super().__init__()',
        '        self.num_heads = num_heads',
        '        self.head_dim = dim // num_heads',
        '        self.qkv = nn.Linear(dim, dim * 3)',
        '',
        '    def forward(self, x):',
        '        B, N, C = x.shape',
        `        q, k, v = self.qkv(x).reshape(B, N, 3, self.num_heads, self.head_dim).permute(${split}).unbind(0)`,
        '        attn = (q @ k.transpose(-2, -1) * self.head_dim ** -0.5).softmax(dim=-1)',
        '        x = attn @ v',
        `        return ${merge}`,
        '',
      ].join('\n');
    const found = (split: string, merge: string) => analyzeSource(module(split, merge)).diagnostics.map((d) => [d.rule, d.range.line + 1]);
    assert.deepEqual(found('2, 0, 3, 1, 4', 'x.reshape(B, N, C)'), [['head-split-merge-order', 16]]);
    assert.match(analyzeSource(module('2, 0, 3, 1, 4', 'x.reshape(B, N, C)')).diagnostics[0].message, /\(B, num_heads, N, dim\/\/num_heads\) -> \(B, N, dim\)/);
    assert.deepEqual(found('2, 0, 3, 1, 4', 'x.reshape(B, N, -1)'), [['head-split-merge-order', 16]]);
    // The split that keeps heads after the positions: the scores attend across heads, reported
    // at the permute; nothing computed from those weights is reported again.
    assert.deepEqual(found('2, 0, 1, 3, 4', 'x.transpose(1, 2).reshape(B, N, C)'), [['head-split-merge-order', 13]]);
    assert.deepEqual(found('2, 0, 3, 1, 4', 'x.transpose(1, 2).reshape(B, N, C)'), []);
    assert.deepEqual(found('2, 0, 3, 1, 4', 'x.transpose(1, 2).reshape(B, N, -1)'), []);
    // Sizes whose product is only assumed equal (an unrelated width) prove no order.
    assert.deepEqual(found('2, 0, 3, 1, 4', 'x.reshape(B, N, self.width)'), []);
  });

  it('reports a flattened grid read back with its two sides swapped, and not the grid read back in order', function () {
    const module = (back: string) =>
      [
        'import torch.nn as nn',
        '',
        'class Block(nn.Module):',
        '    def __init__(self, dim):',
        '        super().__init__()',
        '        self.proj = nn.Linear(dim, dim)',
        '',
        '    def forward(self, x):',
        '        b, c, h, w = x.shape',
        '        t = x.permute(0, 2, 3, 1).reshape(b, h * w, c)',
        '        t = self.proj(t)',
        `        return ${back}`,
        '',
      ].join('\n');
    const found = (back: string) => analyzeSource(module(back)).diagnostics.map((d) => [d.rule, d.range.line + 1]);
    assert.deepEqual(found('t.reshape(b, w, h, c).permute(0, 3, 2, 1)'), [['head-split-merge-order', 12]]);
    assert.match(analyzeSource(module('t.reshape(b, w, h, c)')).diagnostics[0].message, /\(b, h\*w, dim\) -> \(b, w, h, dim\) splits a merged axis into its parts in another order/);
    assert.deepEqual(found('t.reshape(b, h, w, c).permute(0, 3, 1, 2)'), []);
    assert.deepEqual(found('t.transpose(1, 2).reshape(b, c, h, w)'), []);
    // Sides that are the same size cannot be told apart; a split into other sizes is not a swap.
    assert.deepEqual(found('t.reshape(b, h * w // 4, 4, c)'), []);
  });

  it('remembers the grid a flatten merged, through a loop over layers, and reports it split back with its sides swapped', function () {
    const module = (unpack: string) =>
      [
        'import torch.nn as nn',
        '',
        'class Encoder(nn.Module):',
        '    def __init__(self, c_in, d_model, n_layers):',
        '        super().__init__()',
        '        self.proj = nn.Conv2d(c_in, d_model, kernel_size=1)',
        '        self.layers = nn.ModuleList([nn.Linear(d_model, d_model) for _ in range(n_layers)])',
        '',
        '    def forward(self, features):',
        '        src = self.proj(features)',
        `        ${unpack} = src.shape`,
        '        out = src.flatten(2).permute(2, 0, 1)',
        '        for layer in self.layers:',
        '            out = out + layer(out)',
        '        return out.permute(1, 2, 0).view(bs, c, h, w)',
        '',
      ].join('\n');
    const found = (unpack: string) => analyzeSource(module(unpack)).diagnostics.map((d) => [d.rule, d.range.line + 1]);
    assert.deepEqual(found('bs, c, w, h'), [['head-split-merge-order', 15]]);
    assert.deepEqual(found('bs, c, h, w'), []);
  });

  it('reports a mask tiled per head with repeat (copies outermost) against scores with the heads folded in after the batch, and offers repeat_interleave', function () {
    const module = (tile: string) =>
      [
        'import torch',
        'import torch.nn as nn',
        '',
        'class Cross(nn.Module):',
        '    def __init__(self, dim, heads):',
        '        super().__init__()',
        '        self.heads = heads',
        '        self.to_q = nn.Linear(dim, dim)',
        '',
        '    def forward(self, x):',
        '        h = self.heads',
        '        b, n, _ = x.shape',
        '        mask = x.abs().sum(-1) > 0',
        '        q = self.to_q(x).view(b, n, h, -1).permute(0, 2, 1, 3).reshape(b * h, n, -1)',
        '        sim = q @ q.transpose(1, 2) * q.shape[-1] ** -0.5',
        `        mask = ${tile}`,
        '        sim = sim.masked_fill(~mask, -1e9)',
        '        return sim.softmax(dim=-1)',
        '',
      ].join('\n');
    const run = (tile: string) => analyzeSource(module(tile)).diagnostics;
    const found = run('mask[:, None, :].repeat(h, 1, 1)');
    assert.deepEqual(found.map((d) => [d.rule, d.range.line + 1]), [['head-split-merge-order', 16]]);
    assert.equal(found[0].fixes[0].edits[0].newText, 'mask[:, None, :].repeat_interleave(h, dim=0)');
    assert.equal(found[0].fixes[0].safe, true);
    assert.deepEqual(run('mask[:, None, :].repeat_interleave(h, dim=0)'), []);
    // A mask shared by the whole batch has no batch order to get wrong.
    assert.deepEqual(run('mask[:1, None, :].repeat(b * h, 1, 1)'), []);
  });

  it('without a call site: a mask parameter has the rank its body fixes (an index of as many items as repeat has sizes), so a mask tiled in the wrong order is found', function () {
    const module = (tile: string, params = 'x, context, mask=None') =>
      [
        'import torch',
        'import torch.nn as nn',
        '',
        'class Cross(nn.Module):',
        '    def __init__(self, dim, heads=8):',
        '        super().__init__()',
        '        self.heads = heads',
        '        self.to_q = nn.Linear(dim, dim, bias=False)',
        '        self.to_k = nn.Linear(dim, dim, bias=False)',
        '',
        `    def forward(self, ${params}):`,
        '        h = self.heads',
        '        q, k = self.to_q(x), self.to_k(context)',
        '        b, n, _ = q.shape',
        '        m = k.shape[1]',
        '        q = q.view(b, n, h, -1).permute(0, 2, 1, 3).reshape(b * h, n, -1)',
        '        k = k.view(b, m, h, -1).permute(0, 2, 1, 3).reshape(b * h, m, -1)',
        '        sim = q @ k.transpose(1, 2) * q.shape[-1] ** -0.5',
        '        if mask is not None:',
        `            mask = ${tile}`,
        '            sim.masked_fill_(~mask, -1e9)',
        '        return sim.softmax(dim=-1)',
        '',
      ].join('\n');
    const found = (tile: string, params?: string) => analyzeSource(module(tile, params)).diagnostics.map((d) => [d.rule, d.range.line + 1]);
    assert.deepEqual(found('mask[:, None, :].repeat(h, 1, 1)'), [['head-split-merge-order', 20]]);
    const fix = analyzeSource(module('mask[:, None, :].repeat(h, 1, 1)')).diagnostics[0].fixes[0];
    assert.equal(fix.edits[0].newText, 'mask[:, None, :].repeat_interleave(h, dim=0)');
    assert.equal(fix.safe, true);
    assert.deepEqual(found('mask[:, None, :].repeat(h, 1, 1)', 'x, context, mask: torch.Tensor'), [['head-split-merge-order', 20]]);
    // Sizes as one tuple: no one-axis repair to offer, so it is reported where the two meet.
    assert.deepEqual(found('mask[:, None, :].repeat((h, 1, 1))'), [['head-split-merge-order', 21]]);
    assert.deepEqual(found('mask[:, None, :].repeat_interleave(h, dim=0)'), []);
    // Fewer index items than sizes: the mask may have more axes (its rank is not fixed).
    assert.deepEqual(found('mask[:, None].repeat(h, 1, 1)'), []);
    // An ellipsis or an integer index leaves the rank open too.
    assert.deepEqual(found('mask[..., None, :].repeat(h, 1, 1)'), []);
    assert.deepEqual(found('mask[0, None, :].repeat(h, 1, 1)'), []);
  });

  it('proves the element count of a view whose inferred size is the product of the other axes, quotients included, and reports windows cut across rows', function () {
    const module = (perm: string, ws = 'window_size') =>
      [
        'import torch',
        '',
        'def window_partition(x, window_size: int):',
        '    B, H, W, C = x.shape',
        '    x = x.view(B, H // window_size, window_size, W // window_size, window_size, C)',
        `    return x.permute(${perm}).contiguous().view(-1, ${ws}, ${ws}, C)`,
        '',
      ].join('\n');
    const found = (perm: string, ws?: string) => analyzeSource(module(perm, ws)).diagnostics.map((d) => [d.rule, d.range.line + 1]);
    assert.deepEqual(found('0, 2, 1, 3, 4, 5'), [['head-split-merge-order', 6]]);
    assert.deepEqual(found('0, 1, 3, 2, 4, 5'), []);
    // A size that is not one of the axes' (an unrelated width) proves no element count.
    assert.deepEqual(found('0, 2, 1, 3, 4, 5', 'W'), []);
  });

  it('remembers that k pieces of one size joined by cat are laid out (k, f), and reports a view that reads them as (f, k)', function () {
    const module = (view: string) =>
      [
        'import torch',
        'import torch.nn as nn',
        '',
        'class Select(nn.Module):',
        '    def __init__(self, features, d):',
        '        super().__init__()',
        '        self.features = features',
        '        self.fcs = nn.ModuleList([nn.Linear(d, features), nn.Linear(d, features)])',
        '',
        '    def forward(self, z):',
        '        b, _ = z.shape',
        '        v = torch.cat([fc(z) for fc in self.fcs], dim=1)',
        `        return ${view}`,
        '',
      ].join('\n');
    const found = (view: string) => analyzeSource(module(view)).diagnostics.map((d) => [d.rule, d.range.line + 1]);
    assert.deepEqual(found('v.view(b, self.features, 2).transpose(1, 2)'), [['head-split-merge-order', 13]]);
    assert.deepEqual(found('v.view(b, 2, self.features)'), []);
    // Pieces of different widths have no (k, f) layout to read back.
    assert.deepEqual(found('torch.cat([v, z], dim=1).view(b, self.features, -1)'), []);
  });

  it('with a call site: a masked mean over dim 1 shows which axis of a query nobody named is the sequence', function () {
    const module = (attn: string, q: string, pool: string) =>
      [
        'import torch',
        'import torch.nn as nn',
        '',
        'class Encoder(nn.Module):',
        '    def __init__(self, vocab, d_model, n_heads):',
        '        super().__init__()',
        '        self.embed = nn.Embedding(vocab, d_model)',
        `        self.attn = nn.MultiheadAttention(d_model, n_heads${attn})`,
        '',
        '    def forward(self, tokens, keep):',
        '        x = self.embed(tokens[:, :keep.shape[1]])',
        `        h, _ = self.attn(${q}, ${q}, ${q})`,
        `        x = x + ${q === 'x' ? 'h' : 'h.transpose(0, 1)'}`,
        `        return ${pool}`,
        '',
        'out = Encoder(50, 64, 4)(torch.randint(0, 50, (3, 10)), torch.ones(3, 10, 1))',
      ].join('\n');
    const found = (attn: string, q: string, pool: string) => analyzeSource(module(attn, q, pool)).diagnostics.map((d) => [d.rule, d.range.line + 1]);
    const masked = '(x * keep).sum(dim=1) / keep.sum(dim=1)';
    assert.deepEqual(found('', 'x', masked), [['batch-first-mismatch', 12]]);
    assert.deepEqual(found(', batch_first=True', 'x.transpose(0, 1)', masked), [['batch-first-mismatch', 12]]);
    assert.match(analyzeSource(module(', batch_first=True', 'x.transpose(0, 1)', masked)).diagnostics[0].message, /sequence on dim 0/);
    // The layouts the module reads: silent.
    assert.deepEqual(found(', batch_first=True', 'x', masked), []);
    assert.deepEqual(found('', 'x.transpose(0, 1)', masked), []);
    // Pooled over dim 0 or not at all: nothing says which axis is the sequence.
    assert.deepEqual(found('', 'x', 'x.sum(dim=0)'), []);
    assert.deepEqual(found(', batch_first=True', 'x.transpose(0, 1)', 'x'), []);
  });

  it("takes a MultiheadAttention's batch_first as the roles of a query nobody named, up to a residual sum", function () {
    const module = (second: string, between: string) =>
      [
        'import torch.nn as nn',
        '',
        'class Encoder(nn.Module):',
        '    def __init__(self, vocab, d_model, n_heads):',
        '        super().__init__()',
        '        self.embed = nn.Embedding(vocab, d_model)',
        '        self.first = nn.MultiheadAttention(d_model, n_heads, batch_first=True)',
        `        self.second = nn.MultiheadAttention(d_model, n_heads${second})`,
        '',
        '    def forward(self, tokens):',
        '        x = self.embed(tokens)',
        '        h, _ = self.first(x, x, x)',
        `        ${between}`,
        '        y, _ = self.second(h, h, h)',
        '        return y',
        '',
      ].join('\n');
    const found = (second: string, between: string) => analyzeSource(module(second, between)).diagnostics.map((d) => [d.rule, d.severity, d.range.line + 1]);
    // The first module read (N, L, E): the second, sequence-first, reads the batch as the sequence.
    assert.deepEqual(found('', 'h = h * 2'), [['batch-first-mismatch', 'warning', 14]]);
    assert.deepEqual(found('', 'h = h.transpose(0, 1)'), []);
    assert.deepEqual(found(', batch_first=True', 'h = h * 2'), []);
    // A residual sum with the unnamed input: one module's reading is no evidence for the next.
    assert.deepEqual(found('', 'h = x + h'), []);
  });

  it('keeps silent on sequence-first head folds and on head-to-head products nobody normalises', function () {
    const src = [
      'import torch',
      'import torch.nn as nn',
      '',
      'class SeqFirst(nn.Module):',
      '    def __init__(self, embed_dim, num_heads):',
      '        super().__init__()',
      '        self.num_heads = num_heads',
      '        self.head_dim = embed_dim // num_heads',
      '',
      '    def forward(self, q):',
      '        tgt_len, bsz, embed_dim = q.shape',
      '        q = q.contiguous().view(tgt_len, bsz * self.num_heads, self.head_dim).transpose(0, 1)',
      '        out = torch.bmm(q * self.head_dim ** -0.5, q.transpose(1, 2)).softmax(dim=-1) @ q',
      '        return out.transpose(0, 1).contiguous().view(tgt_len * bsz, embed_dim)',
      '',
      'class HeadSimilarity(nn.Module):',
      '    def __init__(self, dim, num_heads=8):',
      '        super().__init__()',
      '        self.num_heads = num_heads',
      '        self.head_dim = dim // num_heads',
      '',
      '    def forward(self, x):',
      '        B, N, C = x.shape',
      '        q = x.reshape(B, N, self.num_heads, self.head_dim)',
      '        return (q @ q.transpose(-2, -1)).mean()',
      '',
    ].join('\n');
    assert.deepEqual(analyzeSource(src).diagnostics, []);
  });

  it('follows modules cloned with copy.deepcopy, zip over a module list, and sizes chosen by a branch', function () {
    const src = [
      'import copy',
      'import torch',
      'import torch.nn as nn',
      '',
      'def clones(module, n):',
      '    return nn.ModuleList([copy.deepcopy(module) for _ in range(n)])',
      '',
      'class M(nn.Module):',
      '    def __init__(self, d, inter=None):',
      '        super().__init__()',
      '        self.inter = d // 2 if inter is None else inter',
      '        if self.inter == 0:',
      '            self.inter = 1',
      '        self.linears = clones(nn.Linear(d, d), 3)',
      '        self.proj = nn.Conv1d(d, self.inter, 1)',
      '',
      '    def forward(self, a, b, c):',
      '        a, b, c = [lin(t) for lin, t in zip(self.linears, (a, b, c))]  # revealed: (2, 5, 16)',
      '        for i, lin in enumerate(self.linears):',
      '            c = lin(c)',
      '        y = self.proj(c.transpose(1, 2))',
      '        return y.view(y.size(0), self.inter, -1)',
      '',
      'out = M(16)(torch.randn(2, 5, 16), torch.randn(2, 5, 16), torch.randn(2, 5, 16))',
    ].join('\n');
    const r = analyzeSource(src);
    assert.deepEqual(r.diagnostics, []);
    const shape = (line: number, name: string) => r.shapes.find((x) => x.line === line - 1 && x.name === name)?.shape;
    assert.equal(shape(18, 'a'), '(2, 5, 16)');
    assert.equal(shape(18, 'c'), '(2, 5, 16)');
    assert.equal(shape(20, 'c'), '(2, 5, 16)');
    assert.equal(shape(21, 'y'), '(2, 8, 5)');
    // With no caller the width is `d // 2` (positive, so not 0): the same in the conv and the view.
    const driverless = src.split('\n').slice(0, -1).join('\n').replace('def forward(self, a, b, c):', 'def forward(self, a, b, c):\n        # c: (B, L, d)');
    const r2 = analyzeSource(driverless);
    assert.deepEqual(r2.diagnostics, []);
    assert.match(r2.shapes.find((x) => x.name === 'y')?.shape ?? '', /^\(B, d\/\/2, L\)$/);
  });

  it('stops at an operation torch rejects: nothing computed from its result is reported', function () {
    const src = [
      'import torch',
      'import torch.nn as nn',
      '',
      'class L(nn.Module):',
      '    def __init__(self):',
      '        super().__init__()',
      '        self.attn = nn.MultiheadAttention(64, 4)',
      '',
      '    def forward(self, src, pos):',
      '        q = src + pos',
      '        return self.attn(q, q, src)[0].view(2, 64, 4, 6)',
      '',
      'out = L()(torch.randn(2, 24, 64), torch.randn(24, 2, 64))',
    ].join('\n');
    assert.deepEqual(analyzeSource(src).diagnostics.map((d) => [d.rule, d.range.line + 1]), [['broadcast-mismatch', 10]]);
  });
  it('a view whose -1 cannot be written as a quotient keeps its rank, and says nothing of the layout', function () {
    const src = [
      'import torch',
      'import torch.nn as nn',
      '',
      'class NL(nn.Module):',
      '    def __init__(self, in_channels, heads, inter_channels=None):',
      '        super().__init__()',
      '        self.heads = heads',
      '        self.inter = inter_channels',
      '        if self.inter is None:',
      '            self.inter = max(in_channels // 2, 1)',
      '            if self.inter == 0:',
      '                self.inter = 1',
      '        self.g = nn.Sequential(nn.Conv2d(in_channels, self.inter, 1), nn.MaxPool2d(kernel_size=(2, 2)))',
      '',
      '    def forward(self, x):',
      '        b = x.size(0)',
      '        g = self.g(x)',
      '        flat = g.permute(0, 1, 3, 2).view(b, self.heads + 1, -1)',
      '        return flat',
    ].join('\n');
    const r = analyzeSource(src);
    // The inferred axis is a size of its own; whether the permuted tensor is viewable is not
    // known, so nothing is reported.
    assert.deepEqual(r.diagnostics, []);
    const shape = (name: string) => r.shapes.find((x) => x.name === name)?.shape;
    // Pooled sizes are named after the input's, never one shared name.
    assert.equal(shape('g'), '(B, in_channels//2, H_out, W_out)');
    assert.match(shape('flat') ?? '', /^\(B, 1 \+ heads, n\)$/);
  });
  it('a size chosen by a branch is not decided by its use on one path (ShuffleNet: inp if stride > 1 else inp // 2)', function () {
    const src = [
      'import torch',
      'from torch import nn',
      '',
      'class IR(nn.Module):',
      '    def __init__(self, inp: int, oup: int, stride: int) -> None:',
      '        super().__init__()',
      '        self.stride = stride',
      '        branch_features = oup // 2',
      '        self.branch2 = nn.Conv2d(inp if (self.stride > 1) else branch_features, branch_features, 1)',
      '',
      '    def forward(self, x):',
      '        if self.stride == 1:',
      '            x1, x2 = x.chunk(2, dim=1)',
      '            out = torch.cat((x1, self.branch2(x2)), dim=1)',
      '        else:',
      '            out = self.branch2(x)',
      '        return out',
    ].join('\n');
    assert.deepEqual(analyzeSource(src).diagnostics, []);
  });

  it('an embedding of indices of unknown shape is a learned table: T5 relative attention is not asked for a scale', function () {
    const src = [
      'import torch',
      'from torch import nn',
      'import torch.nn.functional as F',
      '',
      'class A(nn.Module):',
      '    def __init__(self, d_model: int, n_heads: int, d_kv: int, buckets: int = 32):',
      '        super().__init__()',
      '        self.n_heads, self.d_kv = n_heads, d_kv',
      '        self.q = nn.Linear(d_model, n_heads * d_kv, bias=False)',
      '        self.k = nn.Linear(d_model, n_heads * d_kv, bias=False)',
      '        self.bias = nn.Embedding(buckets, n_heads)',
      '',
      '    def forward(self, x, buckets):',
      '        B, T, _ = x.shape',
      '        q = self.q(x).view(B, T, self.n_heads, self.d_kv).transpose(1, 2)',
      '        k = self.k(x).view(B, T, self.n_heads, self.d_kv).transpose(1, 2)',
      '        scores = q @ k.transpose(-2, -1)',
      '        values = self.bias(buckets)  # (T, T, n_heads)',
      '        scores = scores + values.permute(2, 0, 1).unsqueeze(0)',
      '        return F.softmax(scores, dim=-1)',
    ].join('\n');
    assert.deepEqual(analyzeSource(src).diagnostics, []);
    assert.deepEqual(analyzeSource(src.replace("        scores = scores + values.permute(2, 0, 1).unsqueeze(0)\n", '')).diagnostics.map((d) => d.rule), ['attention-scale-mismatch']);
  });

  it('solves a size equation for a symbol that occurs linearly (4*C == 4*dim), so later widths compare', function () {
    const mod = (reduction: string) =>
      [
        'import torch',
        'import torch.nn as nn',
        'class Merge(nn.Module):',
        '    def __init__(self, dim):',
        '        super().__init__()',
        '        self.norm = nn.LayerNorm(4 * dim)',
        `        self.reduction = nn.Linear(${reduction}, 2 * dim, bias=False)`,
        '',
        '    def forward(self, x):',
        '        B, L, C = x.shape',
        '        x = torch.cat([x, x, x, x], -1)',
        '        x = self.norm(x)',
        '        return self.reduction(x)',
      ].join('\n');
    const found = (src: string) => analyzeSource(src).diagnostics.map((d) => [d.rule, d.range.line + 1]);
    // 4*C == 4*dim (the norm) gives C = dim, and 2*dim differs from 4*dim for every positive dim.
    assert.deepEqual(found(mod('2 * dim')), [['linear-in-features-mismatch', 13]]);
    // Near misses: the right width, and a width that equals 4*dim for some dim (dim + 3 at dim 1).
    assert.deepEqual(found(mod('4 * dim')), []);
    assert.deepEqual(found(mod('dim + 3')), []);
  });

  it('answers isinstance for values of known type, so pair(t) helpers keep their sizes', function () {
    const src = [
      'import torch',
      'import torch.nn as nn',
      '',
      'def pair(t):',
      '    return t if isinstance(t, tuple) else (t, t)',
      '',
      'class P(nn.Module):',
      '    def __init__(self, image_size, patch_size, dim):',
      '        super().__init__()',
      '        ih, iw = pair(image_size)',
      '        ph, pw = pair(patch_size)',
      '        self.pos = nn.Parameter(torch.randn(1, (ih // ph) * (iw // pw), dim))',
      '        self.seq = nn.Parameter(torch.randn(1, *pair([3, 5]), dim))',
      '',
      '    def forward(self, x):',
      '        return x + self.pos',
      '',
      'out = P((24, 32), 8, 64)(torch.randn(2, 12, 64))',
    ].join('\n');
    const r = analyzeSource(src);
    assert.deepEqual(r.diagnostics, []);
    const shape = (name: string) => r.shapes.find((x) => x.name === name)?.shape;
    assert.equal(shape('self.pos'), '(1, 12, 64)');
    // A list is no tuple, so pair([3, 5]) pairs the list: no sizes, nothing guessed.
    assert.equal(shape('self.seq'), undefined);
    assert.equal(shape('out'), '(2, 12, 64)');
  });

  it('reports an expand of an axis that is not 1; a size-1 axis or -1 expands', function () {
    const src = (gate: string) =>
      [
        'import torch',
        'import torch.nn as nn',
        'import torch.nn.functional as F',
        '',
        'class Gate(nn.Module):',
        '    def __init__(self, channels):',
        '        super().__init__()',
        `        self.mlp = nn.Sequential(nn.Flatten(), nn.Linear(channels, channels // 4), nn.ReLU(), nn.Linear(channels // 4, ${gate}))`,
        '',
        '    def forward(self, x):',
        '        pooled = F.avg_pool2d(x, (x.size(2), x.size(3)), stride=(x.size(2), x.size(3)))',
        '        att = self.mlp(pooled)',
        '        scale = torch.sigmoid(att).unsqueeze(2).unsqueeze(3).expand_as(x)',
        '        return x * scale',
      ].join('\n');
    // Without a call site: x is a batch of maps (the pool takes one), pooled to (B, C, 1, 1).
    const r = analyzeSource(src('channels // 2'));
    assert.deepEqual(r.diagnostics.map((d) => [d.rule, d.range.line + 1]), [['broadcast-mismatch', 13]]);
    assert.match(r.diagnostics[0].message, /expand_as: axis 1 has size channels\/\/2, which cannot expand to channels/);
    assert.equal(r.shapes.find((x) => x.name === 'pooled')?.shape, '(B, C, 1, 1)');
    assert.deepEqual(analyzeSource(src('channels')).diagnostics, []);
    // A width that is the channels for some value (channels // 4 + 3 at 4) stays silent.
    assert.deepEqual(analyzeSource(src('channels // 4 + 3')).diagnostics, []);
    assert.deepEqual(analyzeSource('import torch\nx = torch.randn(2, 1, 5)\ny = x.expand(2, 3, -1)\n').diagnostics, []);
  });

  it('reports an assert of divisibility that fails for a config default, and stops there', function () {
    const src = (heads: number) =>
      [
        'from dataclasses import dataclass',
        'import torch',
        'import torch.nn as nn',
        '',
        '@dataclass',
        'class Config:',
        `    n_head: int = ${heads}`,
        '    n_embd: int = 64',
        '',
        'class Attn(nn.Module):',
        '    def __init__(self, config):',
        '        super().__init__()',
        '        assert config.n_embd % config.n_head == 0',
        '        self.n_head = config.n_head',
        '        self.c_attn = nn.Linear(config.n_embd, config.n_embd)',
        '',
        '    def forward(self, x):',
        '        B, T, C = x.size()',
        '        q = self.c_attn(x).view(B, T, self.n_head, C // self.n_head)',
        '        return q',
        '',
        'out = Attn(Config())(torch.randn(2, 8, 64))',
      ].join('\n');
    const r = analyzeSource(src(6));
    // One finding, at the assert: the views after it never run.
    assert.deepEqual(r.diagnostics.map((d) => [d.rule, d.range.line + 1]), [['embed-dim-not-divisible', 13]]);
    assert.match(r.diagnostics[0].message, /n_embd \(64\) is not divisible by n_head \(6\)/);
    assert.deepEqual(analyzeSource(src(4)).diagnostics, []);
    // Without a call site the sizes are named after the config's fields: the assert fails at
    // their defaults, a warning that says so (another config may divide).
    const driverless = analyzeSource(src(6).replace(/\nout = .*$/, '')).diagnostics;
    assert.deepEqual(driverless.map((d) => [d.rule, d.severity, d.range.line + 1]), [['embed-dim-not-divisible', 'warning', 13]]);
    assert.match(driverless[0].message, /\(with n_embd = 64, n_head = 6, their defaults\)$/);
    assert.deepEqual(analyzeSource(src(4).replace(/\nout = .*$/, '')).diagnostics, []);
  });

  it('reports a head dim or a heads-per-group count whose floor division leaves a remainder; near misses silent', function () {
    const src = (dim: number, heads: number, kv: number, driver = true) =>
      [
        'import torch',
        'import torch.nn as nn',
        'from dataclasses import dataclass',
        '',
        '@dataclass',
        'class Args:',
        `    dim: int = ${dim}`,
        `    n_heads: int = ${heads}`,
        `    n_kv_heads: int = ${kv}`,
        '',
        'class Attention(nn.Module):',
        '    def __init__(self, args: Args):',
        '        super().__init__()',
        '        self.n_rep = args.n_heads // args.n_kv_heads',
        '        self.head_dim = args.dim // args.n_heads',
        '        self.hidden = (args.dim * 8 // 3 + 31) // 32',
        '        self.third = args.dim // 3',
        '        self.wq = nn.Linear(args.dim, args.n_heads * self.head_dim)',
        '',
        '    def forward(self, x):',
        '        return self.wq(x)',
        '',
        ...(driver ? ['out = Attention(Args())(torch.randn(2, 8, 64))'] : []),
      ].join('\n');
    const found = (d: number, h: number, kv: number, driver?: boolean) => analyzeSource(src(d, h, kv, driver)).diagnostics.map((x) => [x.rule, x.severity, x.range.line + 1]);
    assert.deepEqual(found(64, 6, 2), [['embed-dim-not-divisible', 'warning', 15]]);
    assert.match(analyzeSource(src(64, 6, 2)).diagnostics[0].message, /^dim \(64\) is not divisible by n_heads \(6\): 64 \/\/ 6 = 10 drops the remaining 4/);
    assert.deepEqual(found(64, 8, 3), [['embed-dim-not-divisible', 'warning', 14]]);
    assert.deepEqual(found(64, 8, 3, false), [['embed-dim-not-divisible', 'warning', 14]]);
    assert.match(analyzeSource(src(64, 8, 3, false)).diagnostics[0].message, /\(with n_heads = 8, n_kv_heads = 3, their defaults\)$/);
    // Divisible counts; a rounded-up sum; a divisor that is not a head count.
    assert.deepEqual(found(64, 8, 2), []);
    assert.deepEqual(found(64, 8, 2, false), []);
  });

  it('reports a mistake made of arguments handed down unchanged at the outermost call that paired them', function () {
    const src = (body: string[]) => ['import torch', 'import torch.nn as nn', '', ...body, ''].join('\n');
    const found = (body: string[]) => analyzeSource(src(body)).diagnostics.map((d) => [d.rule, d.range.line + 1]);
    const helper = ['def add_pos(t, pos):', '    return t + pos', '', 'def layer(x, pos):', '    return add_pos(x, pos)', ''];
    // x and pos reach the sum through two calls: the call that paired them is at fault.
    assert.deepEqual(found([...helper, 'def run():', '    a = torch.randn(2, 8, 16)', '    p = torch.randn(8, 2, 16)', '    return layer(a, p)']), [['broadcast-mismatch', 13]]);
    // A top-level driver trying the helpers is not blamed: the outermost call inside them is.
    assert.deepEqual(found([...helper, 'a = torch.randn(2, 8, 16)', 'p = torch.randn(8, 2, 16)', 'y = layer(a, p)']), [['broadcast-mismatch', 8]]);
    // One operand computed inside the helper: the sum is where the shapes meet.
    assert.deepEqual(found(['def add_pos(t):', '    return t + torch.randn(8, 2, 16)', '', 'y = add_pos(torch.randn(2, 8, 16))']), [['broadcast-mismatch', 5]]);
    // A group count chosen by the caller of a block that builds the convolution.
    const block = ['class Block(nn.Module):', '    def __init__(self, c, g):', '        super().__init__()', '        self.conv = nn.Conv2d(c, c, 3, padding=1, groups=g)', ''];
    const net = (g: number) => ['class Net(nn.Module):', '    def __init__(self):', '        super().__init__()', `        self.block = Block(64, ${g})`, '', 'n = Net()'];
    assert.deepEqual(found([...block, ...net(6)]), [['conv-groups-not-divisible', 12]]);
    assert.deepEqual(found([...block.slice(0, 3), '        self.conv = nn.Conv2d(c, c, 3, padding=1, groups=6)', '', ...net(8)]), [['conv-groups-not-divisible', 7]]);
    assert.deepEqual(found([...block, ...net(8)]), []);
  });

  it('judges sizes named after defaulted parameters at their defaults, as warnings that name them', function () {
    const src = (proj: string) =>
      [
        'import torch.nn as nn',
        '',
        'class Attention(nn.Module):',
        '    def __init__(self, dim, num_heads=8):',
        '        super().__init__()',
        '        self.num_heads = num_heads',
        '        self.head_dim = dim // num_heads',
        '        self.qkv = nn.Linear(dim, dim * 3)',
        `        self.proj = ${proj}`,
        '',
        '    def forward(self, x):',
        '        B, N, C = x.shape',
        '        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)',
        '        q, k, v = qkv.unbind(0)',
        '        x = (q @ k.transpose(-2, -1) * self.head_dim ** -0.5).softmax(dim=-1) @ v',
        '        x = x.transpose(1, 2).reshape(B, N, C)',
        '        return self.proj(x)',
      ].join('\n');
    const bad = analyzeSource(src('nn.Linear(self.head_dim, dim)')).diagnostics;
    // `dim` vs `dim // num_heads` differ for every num_heads but 1; with the default 8 they do.
    assert.deepEqual(bad.map((d) => [d.rule, d.severity, d.range.line + 1]), [['linear-in-features-mismatch', 'warning', 17]]);
    assert.match(bad[0].message, /in_features = dim\/\/num_heads .* \(with num_heads = 8, its default\)$/);
    assert.deepEqual(analyzeSource(src('nn.Linear(dim, dim)')).diagnostics, []);
    // Without a default in play the finding names none.
    const twice = analyzeSource(src('nn.Linear(2 * dim, dim)')).diagnostics;
    assert.deepEqual(twice.map((d) => d.rule), ['linear-in-features-mismatch']);
    assert.doesNotMatch(twice[0].message, /default/);
  });

  it('keeps two sizes whose defaults differ apart, and judges the layer between them at those defaults', function () {
    const src = (second: string) =>
      [
        'import torch.nn as nn',
        'import torch.nn.functional as F',
        '',
        'class FeedForward(nn.Module):',
        '    def __init__(self, d_model=512, dim_feedforward=2048):',
        '        super().__init__()',
        '        self.linear1 = nn.Linear(d_model, dim_feedforward)',
        `        self.linear2 = ${second}`,
        '',
        '    def forward(self, x):',
        '        b, n, c = x.shape',
        '        return self.linear2(F.relu(self.linear1(x)))',
      ].join('\n');
    // Unifying dim_feedforward with d_model would hide the mistake; at 2048 and 512 it raises.
    const bad = analyzeSource(src('nn.Linear(d_model, d_model)')).diagnostics;
    assert.deepEqual(bad.map((d) => [d.rule, d.severity, d.range.line + 1]), [['linear-in-features-mismatch', 'warning', 12]]);
    assert.match(bad[0].message, /in_features = d_model .* \(with (d_model = 512, dim_feedforward = 2048|dim_feedforward = 2048, d_model = 512), their defaults\)$/);
    assert.deepEqual(analyzeSource(src('nn.Linear(dim_feedforward, d_model)')).diagnostics, []);
  });

  it('reports a layer fed a size its constructor\'s caller chooses apart from its own, saying when it runs; seeded inputs and the right layer stay silent', function () {
    const src = (second: string) =>
      [
        'import torch.nn as nn',
        '',
        'class FeedForward(nn.Module):',
        '    def __init__(self, dim, hidden_dim, heads=8, dim_head=64):',
        '        super().__init__()',
        '        self.norm = nn.LayerNorm(dim)',
        '        self.fc1 = nn.Linear(dim, hidden_dim)',
        `        self.fc2 = ${second}`,
        '        self.to_k = nn.Linear(dim, heads * dim_head)',
        '',
        '    def forward(self, x, context=None):',
        '        b, n, _ = x.shape',
        '        context = x if context is None else context',
        '        k = self.to_k(context)',
        '        return self.fc2(self.fc1(self.norm(x))), k',
      ].join('\n');
    // dim and hidden_dim are chosen apart: Linear(dim, dim) after Linear(dim, hidden_dim) runs
    // only where the caller passes equal sizes.
    const bad = analyzeSource(src('nn.Linear(dim, dim)')).diagnostics;
    assert.deepEqual(bad.map((d) => [d.rule, d.severity, d.range.line + 1]), [['linear-in-features-mismatch', 'warning', 15]]);
    assert.match(bad[0].message, /in_features = dim .* has hidden_dim features .*: it runs only where hidden_dim == dim$/);
    assert.deepEqual(analyzeSource(src('nn.Linear(hidden_dim, dim)')).diagnostics, []);
    // Sizes the code states equal are one: an assert, or a guard that raises.
    const stated = (guard: string) => src('nn.Linear(dim, dim)').replace('        self.norm = nn.LayerNorm(dim)', `${guard}\n        self.norm = nn.LayerNorm(dim)`);
    assert.deepEqual(analyzeSource(stated('        assert hidden_dim == dim')).diagnostics, []);
    assert.deepEqual(analyzeSource(stated("        if hidden_dim != dim:\n            raise ValueError('hidden_dim must be dim')")).diagnostics, []);
    // A seeded input's size met by a layer is that layer's size by assumption, not a choice:
    // a context that may be the input (cross attention also run as self attention) is not
    // reported against another layer's width.
    const cross = [
      'import torch.nn as nn',
      '',
      'class Attention(nn.Module):',
      '    def __init__(self, query_dim, context_dim, heads=8, dim_head=64):',
      '        super().__init__()',
      '        inner_dim = heads * dim_head',
      '        self.to_q = nn.Linear(query_dim, inner_dim)',
      '        self.to_kv = nn.Linear(context_dim, inner_dim * 2)',
      '',
      '    def forward(self, x, context=None):',
      '        b, n, _ = x.shape',
      '        q = self.to_q(x)',
      '        context = x if context is None else context',
      '        k, v = self.to_kv(context).chunk(2, dim=-1)',
      '        return q + k + v',
    ].join('\n');
    assert.deepEqual(analyzeSource(cross).diagnostics, []);
  });

  it('reports a convolution fed the channels of another branch of the constructor, and a layer wrong in one of two modules a flag chooses', function () {
    const conv = (out: string) =>
      [
        'import torch.nn as nn',
        '',
        'class Spatial(nn.Module):',
        '    def __init__(self, in_channels, n_heads, d_head):',
        '        super().__init__()',
        '        inner_dim = n_heads * d_head',
        '        self.proj_in = nn.Conv2d(in_channels, inner_dim, kernel_size=1)',
        `        self.proj_out = nn.Conv2d(${out}, in_channels, kernel_size=1)`,
        '',
        '    def forward(self, x):',
        '        b, c, h, w = x.shape',
        '        return self.proj_out(self.proj_in(x)) + x',
      ].join('\n');
    const bad = analyzeSource(conv('in_channels')).diagnostics;
    assert.deepEqual(bad.map((d) => [d.rule, d.severity, d.range.line + 1]), [['embed-dim-channel-mismatch', 'warning', 12]]);
    assert.match(bad[0].message, /it runs only where in_channels == d_head\*n_heads$/);
    assert.deepEqual(analyzeSource(conv('inner_dim')).diagnostics, []);
    const alt = (first: string) =>
      [
        'import torch.nn as nn',
        '',
        'class Attention(nn.Module):',
        '    def __init__(self, dim, heads=8, dim_head=64):',
        '        super().__init__()',
        '        inner_dim = dim_head * heads',
        '        project_out = not (heads == 1 and dim_head == dim)',
        '        self.to_v = nn.Linear(dim, inner_dim, bias=False)',
        `        self.to_out = nn.Sequential(nn.Linear(${first}, dim), nn.Dropout(0.1)) if project_out else nn.Identity()`,
        '',
        '    def forward(self, x):',
        '        b, n, _ = x.shape',
        '        return self.to_out(self.to_v(x))',
      ].join('\n');
    assert.deepEqual(analyzeSource(alt('dim')).diagnostics.map((d) => [d.rule, d.severity, d.range.line + 1]), [['linear-in-features-mismatch', 'warning', 13]]);
    assert.deepEqual(analyzeSource(alt('inner_dim')).diagnostics, []);
  });

  it('reports a product and a cat that need two widths the caller chooses apart to be equal; the right widths stay silent', function () {
    const src = (kOut: string, memOut: string) =>
      [
        'import torch',
        'import torch.nn as nn',
        '',
        'class Attention(nn.Module):',
        '    def __init__(self, dim, mem_dim, heads=8, dim_head=64):',
        '        super().__init__()',
        '        inner_dim = heads * dim_head',
        '        self.to_q = nn.Linear(dim, inner_dim)',
        `        self.to_k = nn.Linear(dim, ${kOut})`,
        `        self.mem = nn.Linear(mem_dim, ${memOut})`,
        '',
        '    def forward(self, x, m):',
        '        b, n, _ = x.shape',
        '        b2, s, _ = m.shape',
        '        q, k = self.to_q(x), self.to_k(x)',
        '        sim = q @ k.transpose(-2, -1)',
        '        return torch.cat([q, self.mem(m)], dim=1), sim',
      ].join('\n');
    const bad = analyzeSource(src('dim', 'mem_dim')).diagnostics;
    assert.deepEqual(bad.map((d) => [d.rule, d.severity, d.range.line + 1]), [['matmul-inner-dim-mismatch', 'warning', 16], ['cat-dim-mismatch', 'warning', 17]]);
    assert.match(bad[0].message, /it runs only where dim_head\*heads == dim$/);
    assert.match(bad[1].message, /it runs only where dim_head\*heads == mem_dim$/);
    assert.deepEqual(analyzeSource(src('inner_dim', 'inner_dim')).diagnostics, []);
  });

  it('reports scores of head dims added to a per-head bias where the caller chooses the sizes apart; the right split stays silent', function () {
    const src = (split: string) =>
      [
        'import torch',
        'import torch.nn as nn',
        '',
        'class WindowAttention(nn.Module):',
        '    def __init__(self, dim: int, num_heads: int, window: int = 7):',
        '        super().__init__()',
        '        self.num_heads = num_heads',
        '        self.qkv = nn.Linear(dim, dim * 3)',
        '        self.bias = nn.Parameter(torch.zeros(num_heads, window * window, window * window))',
        '',
        '    def forward(self, x):',
        '        B_, N, C = x.shape',
        `        qkv = self.qkv(x).reshape(${split}).permute(2, 0, 3, 1, 4)`,
        '        q, k, v = qkv.unbind(0)',
        '        attn = q @ k.transpose(-2, -1)',
        '        attn = attn + self.bias.unsqueeze(0)',
        '        return attn.softmax(dim=-1) @ v',
      ].join('\n');
    const bad = analyzeSource(src('B_, N, 3, -1, self.num_heads')).diagnostics;
    assert.deepEqual(bad.map((d) => [d.rule, d.severity, d.range.line + 1]), [['broadcast-mismatch', 'warning', 16]]);
    assert.match(bad[0].message, /dim\/\/num_heads vs num_heads: it runs only where dim\/\/num_heads == num_heads \(or one of them is 1\)$/);
    assert.deepEqual(analyzeSource(src('B_, N, 3, self.num_heads, -1')).diagnostics, []);
  });

  it('reports a number as the scale where the constructor\'s caller chooses the head dim, with the head dim read from the query as the fix', function () {
    const src = (scale: string, dimHead = 'dim_head') =>
      [
        'import torch',
        'import torch.nn as nn',
        '',
        'class Attention(nn.Module):',
        '    def __init__(self, dim, heads=8, dim_head=64):',
        '        super().__init__()',
        `        inner = heads * ${dimHead}`,
        '        self.heads = heads',
        `        self.scale = ${dimHead} ** -0.5`,
        '        self.to_q = nn.Linear(dim, inner)',
        '        self.to_k = nn.Linear(dim, inner)',
        '',
        '    def forward(self, x):',
        '        b, n, _ = x.shape',
        '        q = self.to_q(x).view(b, n, self.heads, -1).transpose(1, 2)',
        '        k = self.to_k(x).view(b, n, self.heads, -1).transpose(1, 2)',
        `        sim = torch.einsum('b h i d, b h j d -> b h i j', q, k)${scale}`,
        '        return sim.softmax(dim=-1)',
      ].join('\n');
    const bad = analyzeSource(src(' / 8')).diagnostics;
    assert.deepEqual(bad.map((d) => [d.rule, d.severity, d.range.line + 1]), [['attention-scale-mismatch', 'warning', 17]]);
    assert.match(bad[0].message, /by the number 1\/8, which is 1\/sqrt\(64\), .* is dim_head, .*: it is right only where dim_head == 64$/);
    assert.deepEqual(bad[0].fixes.map((f) => f.edits.map((e) => e.newText)), [['q.size(-1) ** 0.5']]);
    assert.deepEqual(analyzeSource(src(' * self.scale')).diagnostics, []);
    // A head dim written as a number is no choice: 1/8 is its scale.
    assert.deepEqual(analyzeSource(src(' / 8', '64')).diagnostics, []);
  });

  it('reads int(dim * ratio) with a whole float default as a size named after the ratio, and `hidden or dim` as the size given', function () {
    const src = (second: string) =>
      [
        'import torch.nn as nn',
        '',
        'class Mlp(nn.Module):',
        '    def __init__(self, in_features, hidden_features=None):',
        '        super().__init__()',
        '        hidden_features = hidden_features or in_features',
        '        self.fc1 = nn.Linear(in_features, hidden_features)',
        `        self.fc2 = ${second}`,
        '',
        '    def forward(self, x):',
        '        return self.fc2(self.fc1(x))',
        '',
        'class Block(nn.Module):',
        '    def __init__(self, dim: int, mlp_ratio: float = 4.):',
        '        super().__init__()',
        '        self.mlp = Mlp(dim, int(dim * mlp_ratio))',
        '',
        '    def forward(self, x):',
        '        b, n, c = x.shape',
        '        h = self.mlp.fc1(x)  # revealed: (b, n, dim*mlp_ratio)',
        '        return self.mlp(x)',
      ].join('\n');
    const bad = analyzeSource(src('nn.Linear(in_features, in_features)')).diagnostics;
    assert.deepEqual(bad.map((d) => [d.rule, d.severity, d.range.line + 1]), [['linear-in-features-mismatch', 'warning', 11]]);
    assert.match(bad[0].message, /\(with mlp_ratio = 4, its default\)$/);
    const good = analyzeSource(src('nn.Linear(hidden_features, in_features)'));
    assert.deepEqual(good.diagnostics, []);
    assert.ok(good.shapes.some((r) => r.name === 'h' && r.shape === '(b, n, dim*mlp_ratio)'), JSON.stringify(good.shapes));
  });

  it('reads `size == 0` of a size named after symbols as False (in_channels // 2 is positive)', function () {
    const src = (back: string) =>
      [
        'import torch.nn as nn',
        '',
        'class NonLocal(nn.Module):',
        '    def __init__(self, in_channels, inter_channels=None):',
        '        super().__init__()',
        '        self.inter_channels = inter_channels',
        '        if self.inter_channels is None:',
        '            self.inter_channels = in_channels // 2',
        '            if self.inter_channels == 0:',
        '                self.inter_channels = 1',
        '        self.g = nn.Conv2d(in_channels, self.inter_channels, 1)',
        `        self.W = ${back}`,
        '',
        '    def forward(self, x):',
        '        y = self.g(x)  # revealed: (B, in_channels//2, H, W)',
        '        return self.W(y)',
      ].join('\n');
    const bad = analyzeSource(src('nn.Conv2d(in_channels, in_channels, 1)')).diagnostics;
    assert.deepEqual(bad.map((d) => [d.rule, d.range.line + 1]), [['embed-dim-channel-mismatch', 16]]);
    const good = analyzeSource(src('nn.Conv2d(self.inter_channels, in_channels, 1)'));
    assert.deepEqual(good.diagnostics, []);
    assert.ok(good.shapes.some((r) => r.name === 'y' && r.shape === '(B, in_channels//2, H, W)'), JSON.stringify(good.shapes));
  });

  it('judges the element counts of a view at the defaults when nothing else decides them', function () {
    const src = (heads: string) =>
      [
        'import torch',
        'import torch.nn as nn',
        '',
        'class GQA(nn.Module):',
        '    def __init__(self, dim, n_heads=8, n_kv_heads=2, M=2):',
        '        super().__init__()',
        '        self.n_heads, self.n_kv_heads, self.M = n_heads, n_kv_heads, M',
        '        self.head_dim = dim // n_heads',
        '        self.wk = nn.Linear(dim, n_kv_heads * self.head_dim)',
        '        self.branches = nn.ModuleList([])',
        '        for _ in range(M):',
        '            self.branches.append(nn.Linear(dim, dim))',
        '',
        '    def forward(self, x):',
        '        b, n, c = x.shape',
        `        k = self.wk(x).view(b, n, ${heads}, self.head_dim)`,
        '        # One entry per branch: M of them, however many the list shows.',
        '        y = torch.cat([f(x) for f in self.branches], dim=-1).view(b, n, self.M, c)',
        '        return k, y',
      ].join('\n');
    const bad = analyzeSource(src('self.n_heads')).diagnostics;
    assert.deepEqual(bad.map((d) => [d.rule, d.severity, d.range.line + 1]), [['view-size-mismatch', 'warning', 16]]);
    assert.match(bad[0].message, /n_heads = 8, n_kv_heads = 2/);
    assert.deepEqual(analyzeSource(src('self.n_kv_heads')).diagnostics, []);
  });

  it('does not read the heads folded into the batch from a product of symbols as a reorder', function () {
    const src = (view: string) =>
      [
        'import torch.nn as nn',
        '',
        'class Attn(nn.Module):',
        '    def __init__(self, dim, num_heads, dim_head):',
        '        super().__init__()',
        '        self.num_heads = num_heads',
        '        self.dim_head = dim_head',
        '        self.qkv = nn.Conv2d(dim, num_heads * dim_head * 3, 1)',
        '',
        '    def forward(self, x):',
        '        B, C, H, W = x.shape',
        '        q, k, v = self.qkv(x).chunk(3, dim=1)',
        `        q = ${view}`,
        '        return q',
      ].join('\n');
    // (B, h·d, H, W) to (B·h, d, H·W) keeps every element's order when the heads are the outer
    // factor of the channels, which a product of symbols does not tell.
    assert.deepEqual(analyzeSource(src('q.reshape(B * self.num_heads, self.dim_head, -1)')).diagnostics, []);
    // Heads and positions exchanged is still a reorder.
    const bad = analyzeSource(src('q.reshape(B, H * W, self.num_heads, self.dim_head)')).diagnostics;
    assert.deepEqual(bad.map((d) => d.rule), ['head-split-merge-order']);
  });

  it("reads an unannotated config parameter as the file's one config dataclass, wherever it is defined", function () {
    const src = (heads: number) =>
      [
        'import torch.nn as nn',
        'from dataclasses import dataclass',
        '',
        'class Attn(nn.Module):',
        '    def __init__(self, cfg):',
        '        super().__init__()',
        '        self.m = nn.MultiheadAttention(cfg.width, cfg.heads)',
        '',
        '@dataclass',
        'class Settings:',
        '    """Sizes."""',
        `    heads: int = ${heads}`,
        '    width: int = 96',
      ].join('\n');
    const bad = analyzeSource(src(7)).diagnostics;
    assert.deepEqual(bad.map((d) => [d.rule, d.severity, d.range.line + 1]), [['embed-dim-not-divisible', 'warning', 7]]);
    assert.match(bad[0].message, /embed_dim \(96\) must be divisible by num_heads \(7\).*\(with width = 96, heads = 7, their defaults\)$/);
    assert.deepEqual(analyzeSource(src(8)).diagnostics, []);
    // Two classes that could be the config: neither is assumed.
    assert.deepEqual(analyzeSource(`${src(7)}\n\n@dataclass\nclass Other:\n    heads: int = 3\n    width: int = 10\n`).diagnostics, []);
  });

  it('reports a fused projection split into q, k, v across the sequence, with the last axis as the fix; near misses stay silent', function () {
    const src = (split: string) =>
      [
        'import torch.nn as nn',
        '',
        'class Attention(nn.Module):',
        '    def __init__(self, dim, inner):',
        '        super().__init__()',
        '        self.inner = inner',
        '        self.to_qkv = nn.Linear(dim, inner * 3)',
        '',
        '    def forward(self, x):',
        '        b, n, _ = x.shape',
        `        q, k, v = ${split}`,
        '        return q + k + v',
      ].join('\n');
    const bad = analyzeSource(src('self.to_qkv(x).chunk(3, dim=1)')).diagnostics;
    assert.deepEqual(bad.map((d) => [d.rule, d.severity, d.range.line + 1]), [['split-axis-mismatch', 'warning', 11]]);
    assert.match(bad[0].message, /chunk into 3 along axis 1 \(n\), which 3 is not known to divide, while the last axis \(3\*inner\)/);
    assert.deepEqual(bad[0].fixes.map((f) => f.edits.map((e) => e.newText)), [['2']]);
    const neg = analyzeSource(src('self.to_qkv(x).split(self.inner, dim=-2)')).diagnostics;
    assert.deepEqual(neg.map((d) => [d.rule, d.fixes[0]?.edits[0].newText]), [['split-axis-mismatch', '-1']]);
    // The features split, or an axis the count divides (channels in GLU-like code): silent.
    assert.deepEqual(analyzeSource(src('self.to_qkv(x).chunk(3, dim=-1)')).diagnostics, []);
    assert.deepEqual(analyzeSource(src('self.to_qkv(x).split(self.inner, dim=2)')).diagnostics, []);
    assert.deepEqual(analyzeSource(src('self.to_qkv(x).transpose(1, 2).chunk(3, dim=1)')).diagnostics, []);
  });

  it('unpacks the modules of a ModuleList of ModuleLists in a for loop (for attn, ff in self.layers)', function () {
    const src = (second: string) =>
      [
        'import torch',
        'from torch import nn',
        '',
        'class T(nn.Module):',
        '    def __init__(self, dim, depth, hidden):',
        '        super().__init__()',
        '        self.layers = nn.ModuleList([])',
        '        for _ in range(depth):',
        '            self.layers.append(nn.ModuleList([',
        '                nn.Linear(dim, dim),',
        `                nn.Sequential(nn.Linear(dim, hidden), ${second}),`,
        '            ]))',
        '',
        '    def forward(self, x):',
        '        for attn, ff in self.layers:',
        '            x = attn(x) + x',
        '            y = ff(x)',
        '            x = y + x',
        '        return x',
        '',
        'out = T(64, 2, 128)(torch.randn(2, 5, 64))',
      ].join('\n');
    const bad = analyzeSource(src('nn.Linear(dim, dim)'));
    assert.deepEqual(bad.diagnostics.map((d) => [d.rule, d.range.line + 1]), [['linear-in-features-mismatch', 17]]);
    const good = analyzeSource(src('nn.Linear(hidden, dim)'));
    assert.deepEqual(good.diagnostics, []);
    assert.ok(good.shapes.some((s) => s.line + 1 === 17 && s.name === 'y' && s.shape === '(2, 5, 64)'), JSON.stringify(good.shapes));
  });

  it('reports gating weights summed over an axis their softmax did not normalise (selective kernel), not the matching sum', function () {
    const src = (dim: string, sum: string) =>
      [
        'import torch',
        'import torch.nn as nn',
        '',
        'class Select(nn.Module):',
        '    def __init__(self, features, M=2):',
        '        super().__init__()',
        '        self.M = M',
        '        self.features = features',
        `        self.softmax = nn.Softmax(dim=${dim})`,
        '',
        '    def forward(self, feats, z):',
        '        b = feats.shape[0]',
        '        feats = feats.view(b, self.M, self.features, feats.shape[2], feats.shape[3])',
        '        w = z.view(b, self.M, self.features, 1, 1)',
        '        w = self.softmax(w)',
        `        return torch.sum(feats * w, dim=${sum})`,
      ].join('\n');
    const bad = analyzeSource(src('2', '1')).diagnostics;
    assert.deepEqual(bad.map((d) => [d.rule, d.severity, d.range.line + 1]), [['softmax-wrong-axis', 'warning', 15]]);
    assert.match(bad[0].message, /softmax normalises axis 2 but the weighted sum of its weights is over axis 1/);
    assert.deepEqual(analyzeSource(src('1', '1')).diagnostics, []);
    // Summed over several axes (a pooled gate): not judged.
    assert.deepEqual(analyzeSource(src('2', '(1, 2)')).diagnostics, []);
  });

  it('keeps what one branch assumes of sizes out of the other branch', function () {
    const src = (second: string) =>
      [
        'import torch',
        'import torch.nn as nn',
        '',
        'class Unit(nn.Module):',
        '    def __init__(self, inp, oup, stride):',
        '        super().__init__()',
        '        self.stride = stride',
        '        half = oup // 2',
        '        self.branch1 = nn.Conv2d(inp, 2 * inp, 1)',
        '        self.branch2 = nn.Conv2d(inp if stride > 1 else half, half, 1)',
        '',
        '    def forward(self, x):',
        '        if self.stride == 1:',
        '            x1, x2 = x.chunk(2, dim=1)',
        '            out = torch.cat((x1, self.branch2(x2)), dim=1)',
        '        else:',
        `            out = torch.cat((self.branch1(x), ${second}), dim=1)`,
        '        return out',
      ].join('\n');
    // The halves of the first branch say nothing of the second, where x is whole.
    assert.deepEqual(analyzeSource(src('self.branch2(x)')).diagnostics, []);
    // A mistake within one branch is still found: branch1 takes inp channels and gives 2*inp.
    const r = analyzeSource(src('self.branch1(self.branch1(x))'));
    assert.deepEqual(r.diagnostics.map((d) => [d.rule, d.range.line + 1]), [['embed-dim-channel-mismatch', 17]]);
  });

  it('stops a function at a return its flag takes: the pair it returns, not a join with the later return', function () {
    const src = (flag: string) =>
      [
        'import torch',
        'import torch.nn as nn',
        '',
        'class Block(nn.Module):',
        '    def __init__(self, c):',
        '        super().__init__()',
        '        self.proj = nn.Conv2d(c, c, 1)',
        '',
        '    def forward(self, x, return_map=False):',
        '        z = self.proj(x)',
        '        if return_map:',
        '            return z, z.mean(1)',
        '        return z',
        '',
        'class Net(nn.Module):',
        '    def __init__(self, width=32):',
        '        super().__init__()',
        '        self.block = Block(width)',
        '        self.down = nn.Conv2d(width * 2, width * 2, 3)',
        '',
        '    def forward(self, x):',
        `        x, m = self.block(x, return_map=${flag})`,
        '        return self.down(x)',
      ].join('\n');
    // With the flag True the call returns (z, map): z has `width` channels, the conv wants 2*width.
    const r = analyzeSource(src('True'));
    assert.deepEqual(r.diagnostics.map((d) => [d.rule, d.range.line + 1]), [['embed-dim-channel-mismatch', 23]]);
    assert.ok(r.shapes.some((s) => s.line + 1 === 22 && s.name === 'x' && s.shape === '(B, width, H, W)'), JSON.stringify(r.shapes));
    // A flag nobody knows leaves a tensor on one path and a pair on the other: nothing is said.
    assert.deepEqual(analyzeSource(src('bool(x.sum())')).diagnostics, []);
  });

  it('reports names that unpack an unbind or a tensor of another count, at the module\'s defaults too; silent where the count is free', function () {
    const src = (init: string, split: string) =>
      [
        'import torch',
        'import torch.nn as nn',
        '',
        'class Attention(nn.Module):',
        `    def __init__(${init}):`,
        '        super().__init__()',
        '        self.num_heads = num_heads',
        '        self.head_dim = dim // num_heads',
        '        self.qkv = nn.Linear(dim, dim * 3)',
        '        self.proj = nn.Linear(dim, dim)',
        '',
        '    def forward(self, x):',
        '        B, N, C = x.shape',
        `        qkv = self.qkv(x).reshape(${split}, self.head_dim).permute(2, 0, 3, 1, 4)`,
        '        q, k, v = qkv.unbind(0)',
        '        out = (q @ k.transpose(-2, -1) * self.head_dim ** -0.5).softmax(dim=-1) @ v',
        '        return self.proj(out.transpose(1, 2).reshape(B, N, C))',
      ].join('\n');
    const swapped = 'B, N, self.num_heads, 3';
    // num_heads = 8 by default: unbind(0) gives 8 tensors for 3 names; nothing after it is judged.
    const r = analyzeSource(src('self, dim, num_heads=8', swapped)).diagnostics;
    assert.deepEqual(r.map((d) => [d.rule, d.severity, d.range.line + 1]), [['unpack-count-mismatch', 'warning', 15]]);
    assert.match(r[0].message, /3 names unpack num_heads values: unbind gives one tensor per index of the axis, num_heads of them \(with num_heads = 8, its default\)/);
    // A default of 3 heads, or none at all: nothing proves the count differs.
    assert.deepEqual(analyzeSource(src('self, dim, num_heads=3', swapped)).diagnostics, []);
    assert.deepEqual(analyzeSource(src('self, dim, num_heads', swapped)).diagnostics, []);
    // The order torch expects: three tensors of (B, num_heads, N, head_dim).
    const ok = analyzeSource(src('self, dim, num_heads=8', 'B, N, 3, self.num_heads'));
    assert.deepEqual(ok.diagnostics, []);
    // Unpacking a tensor iterates its first axis: a literal 4 for 2 names is an error.
    const t = analyzeSource('import torch\nx = torch.randn(4, 5)\na, b = x\nc, d = x[:2]\n').diagnostics;
    assert.deepEqual(t.map((d) => [d.rule, d.severity, d.range.line + 1]), [['unpack-count-mismatch', 'error', 3]]);
  });

  it('judges a width rounded up to a multiple at the defaults it is computed from: the floor torch takes, not an exact quotient', function () {
    const src = (dim: number, fed: string) =>
      [
        'import torch.nn as nn',
        'import torch.nn.functional as F',
        '',
        'class FeedForward(nn.Module):',
        `    def __init__(self, dim=${dim}, hidden_dim=256, multiple_of=32):`,
        '        super().__init__()',
        '        hidden_dim = int(2 * hidden_dim / 3)',
        '        hidden_dim = multiple_of * ((hidden_dim + multiple_of - 1) // multiple_of)',
        '        self.w1 = nn.Linear(dim, hidden_dim, bias=False)',
        `        self.w2 = nn.Linear(${fed}, dim, bias=False)`,
        '',
        '    def forward(self, x):',
        '        b, n, c = x.shape',
        '        return self.w2(F.silu(self.w1(x)))',
      ].join('\n');
    // int(2 * 256 / 3) = 170, rounded up to a multiple of 32: 192 features reach w2, built for 64.
    const r = analyzeSource(src(64, 'dim')).diagnostics;
    assert.deepEqual(r.map((d) => [d.rule, d.severity, d.range.line + 1]), [['linear-in-features-mismatch', 'warning', 14]]);
    assert.match(r[0].message, /the input \(b, n, d\*multiple_of\) has d\*multiple_of features .*\(with multiple_of = 32, hidden_dim = 256, dim = 64, their defaults\)/);
    // 192 is the width: w2 built for dim = 192 is right (the exact quotient would give 201).
    assert.deepEqual(analyzeSource(src(192, 'dim')).diagnostics, []);
    assert.deepEqual(analyzeSource(src(64, 'hidden_dim')).diagnostics, []);
  });

  it('does not take an attribute that other code assigns as its __init__ value', function () {
    // `setup` replaces the None `__init__` gave `cache`: `forward` may run either branch, so the
    // keys' length is `t` or the cache's `max_len`, and the scores' last axis is not `t`.
    const lines = [
      'import torch',
      'import torch.nn as nn',
      'from torch import Tensor',
      '',
      '',
      'class Cache(nn.Module):',
      '    def __init__(self, max_len: int, d: int):',
      '        super().__init__()',
      `        self.register_buffer('k_cache', torch.zeros(1, max_len, d))`,
      '',
      '    def update(self, k: Tensor) -> Tensor:',
      '        return self.k_cache',
      '',
      '',
      'class Attn(nn.Module):',
      '    def __init__(self, d: int):',
      '        super().__init__()',
      '        self.proj = nn.Linear(d, d)',
      '        self.cache = None',
      '',
      '    def forward(self, x: Tensor) -> Tensor:',
      '        b, t, _ = x.shape',
      '        k = self.proj(x)',
      '        if self.cache is not None:',
      '            k = self.cache.update(k)',
      '        s = x @ k.transpose(1, 2)',
      '        return s',
      '',
      '',
      'class Model(nn.Module):',
      '    def __init__(self, d: int):',
      '        super().__init__()',
      '        self.attn = Attn(d)',
      '',
      '    def setup(self, max_len: int, d: int) -> None:',
      '        self.attn.cache = Cache(max_len, d)',
      '',
      '    def forward(self, x: Tensor) -> Tensor:',
      '        return self.attn(x)',
    ];
    const shapes = (text: string) => analyzeSource(text).shapes.map((s) => `${s.line + 1} ${s.name}: ${s.shape}`);
    const got = shapes(lines.join('\n') + '\n');
    assert.ok(got.includes('23 k: (b, t, d)'), got.join('\n'));
    assert.ok(!got.some((g) => g.startsWith('26 s: (b, t, t)')), got.join('\n'));
    // Without `setup`, `cache` is always None and the scores are (b, t, t).
    const alone = shapes(lines.filter((l) => !/setup|Cache\(max_len/.test(l)).join('\n') + '\n');
    assert.ok(alone.includes('26 s: (b, t, t)'), alone.join('\n'));
    // `self.buf = self.buf.to(x)` elsewhere moves the value; its shape stays.
    const moved = ['import torch', 'import torch.nn as nn', 'from torch import Tensor', '', 'class M(nn.Module):', '    def __init__(self, n: int, d: int):', '        super().__init__()', '        self.buf = torch.zeros(n, d)', '', '    def forward(self, x: Tensor) -> Tensor:', '        self.buf = self.buf.to(x)', '        y = x @ self.buf', '        return y', ''];
    assert.ok(shapes(moved.join('\n')).includes('11 self.buf: (n, d)'), shapes(moved.join('\n')).join('\n'));
  });

  it("shows a helper's line shape only where every caller agrees, and never two sizes under one name", function () {
    // `bias(t, t)` and `bias(t, mem.shape[1])`: the second axis of `rel` is `t` for one caller
    // only. `mem.shape[1]` is a size of its own, though both print as `d`: shown as `d'`.
    const lines = [
      'import torch',
      'import torch.nn as nn',
      'from torch import Tensor',
      '',
      '',
      'def bias(q_len: int, k_len: int) -> Tensor:',
      '    a = torch.arange(q_len)[:, None]',
      '    b = torch.arange(k_len)[None, :]',
      '    rel = b - a',
      '    return rel',
      '',
      '',
      'class A(nn.Module):',
      '    def __init__(self, d: int):',
      '        super().__init__()',
      '        self.proj = nn.Linear(d, d)',
      '',
      '    def forward(self, x: Tensor, mem) -> Tensor:',
      '        t = x.shape[1]',
      '        r1 = bias(t, t)',
      '        r2 = bias(t, mem.shape[1])',
      '        r3 = bias(t, 5)',
      '        r4 = torch.zeros(t, mem.shape[1])',
      '        r5 = torch.zeros(t, t)',
      '        r6 = torch.zeros(x.shape[0], t)',
      '        return r1, r2',
    ];
    const got = analyzeSource(lines.join('\n') + '\n').shapes.map((s) => `${s.line + 1} ${s.name}: ${s.shape}`);
    for (const want of ['9 rel: (d, ?)', '20 r1: (d, d)', "21 r2: (d, d')", '22 r3: (d, 5)', "25 r6: (d, d')"]) assert.ok(got.includes(want), `${want}\n${got.join('\n')}`);
    // A caller that passes a tensor of unknown rank: no shape of `y` holds for it.
    const rank = [
      'import torch',
      'import torch.nn as nn',
      'from torch import Tensor',
      '',
      '',
      'def scale(x: Tensor) -> Tensor:',
      '    y = x * 2',
      '    return y',
      '',
      '',
      'class A(nn.Module):',
      '    def forward(self, x: Tensor, mem) -> Tensor:',
      '        a = torch.zeros(x.shape[0], 4)',
      '        r1 = scale(a)',
      '        r2 = scale(mem)',
      '        return r1, r2',
    ];
    const ranked = analyzeSource(rank.join('\n') + '\n').shapes.map((s) => `${s.line + 1} ${s.name}: ${s.shape}`);
    assert.ok(ranked.includes('14 r1: (d, 4)') && !ranked.some((g) => g.startsWith('7 y:')), ranked.join('\n'));
  });

  it('reports a layout a caller arranged for a layer that keeps the default batch_first at the call; a layer that writes the flag out is reported at its own call', function () {
    const src = (perm: string, flag = '') => [
      'import torch',
      'import torch.nn as nn',
      '',
      '',
      'class Layer(nn.Module):',
      '    def __init__(self, d_model, nhead):',
      '        super().__init__()',
      '        self.attn = nn.MultiheadAttention(d_model, nhead)',
      '',
      '    def forward(self, src, pos):',
      '        q = src + pos',
      '        return self.attn(q, q, value=src)[0]',
      '',
      '',
      'class Encoder(nn.Module):',
      '    def __init__(self, in_channels=128, d_model=64, nhead=4):',
      '        super().__init__()',
      '        self.proj = nn.Conv2d(in_channels, d_model, kernel_size=1)',
      '        self.layer = Layer(d_model, nhead)',
      '',
      '    def forward(self, features):',
      '        src = self.proj(features)',
      '        bs, c, h, w = src.shape',
      '        src = src.flatten(2).permute(0, 2, 1)',
      '        return self.layer(src, src)',
    ].join('\n').replace('permute(0, 2, 1)', perm).replace('nn.MultiheadAttention(d_model, nhead)', `nn.MultiheadAttention(d_model, nhead${flag})`);
    const caller = analyzeSource(src('permute(0, 2, 1)')).diagnostics;
    assert.deepEqual(caller.map((d) => [d.rule, d.range.line + 1]), [['batch-first-mismatch', 25]]);
    assert.match(caller[0].message, /\(in the call, at line 12\)$/);
    const stated = analyzeSource(src('permute(0, 2, 1)', ', batch_first=False')).diagnostics;
    assert.deepEqual(stated.map((d) => [d.rule, d.range.line + 1]), [['batch-first-mismatch', 12]]);
    assert.deepEqual(analyzeSource(src('permute(2, 0, 1)')).diagnostics, []);
  });

  it('reports a pooling window made of the map\'s own sizes in another order, saying where it runs, with the window in order as the fix', function () {
    const src = (window: string) => [
      'import torch.nn as nn',
      'import torch.nn.functional as F',
      '',
      '',
      'class Gate(nn.Module):',
      '    def __init__(self, channels):',
      '        super().__init__()',
      '        self.fc = nn.Linear(channels, channels)',
      '',
      '    def forward(self, x):',
      '        avg = F.avg_pool2d(x, (x.size(3), x.size(2)), stride=(x.size(3), x.size(2)))',
      '        return self.fc(avg.flatten(1))',
    ].join('\n').replaceAll('(x.size(3), x.size(2))', window);
    const bad = analyzeSource(src('(x.size(3), x.size(2))')).diagnostics;
    assert.deepEqual(bad.map((d) => [d.rule, d.severity, d.range.line + 1]), [['invalid-op-arguments', 'warning', 11]]);
    assert.match(bad[0].message, /it runs only where H == W/);
    assert.deepEqual(bad[0].fixes[0].edits.map((e) => e.newText), ['(x.size(2), x.size(3))', '(x.size(2), x.size(3))']);
    assert.deepEqual(analyzeSource(src('(x.size(2), x.size(3))')).diagnostics, []);
  });

  it('reports an einops merge of the heads in another order than their split, at the one that does not put the heads first; consistent orders stay silent', function () {
    const src = (split: string, merge: string) => [
      'import torch.nn as nn',
      'from einops import rearrange',
      '',
      '',
      'class Attention(nn.Module):',
      '    def __init__(self, dim, heads=8, dim_head=64):',
      '        super().__init__()',
      '        self.heads = heads',
      '        self.to_qkv = nn.Linear(dim, heads * dim_head * 3, bias=False)',
      '        self.to_out = nn.Linear(heads * dim_head, dim)',
      '',
      '    def forward(self, x):',
      '        qkv = self.to_qkv(x).chunk(3, dim=-1)',
      '        q, k, v = map(lambda t: rearrange(t, \'b n (h d) -> b h n d\', h=self.heads), qkv)',
      '        attn = (q @ k.transpose(-1, -2) * q.shape[-1] ** -0.5).softmax(dim=-1)',
      '        out = rearrange(attn @ v, \'b h n d -> b n (h d)\')',
      '        return self.to_out(out)',
    ].join('\n').replace('(h d) -> b h n d', `${split} -> b h n d`).replace('b n (h d)\'', `b n ${merge}'`);
    const atMerge = analyzeSource(src('(h d)', '(d h)')).diagnostics;
    assert.deepEqual(atMerge.map((d) => [d.rule, d.range.line + 1]), [['head-split-merge-order', 16]]);
    assert.deepEqual(atMerge[0].fixes[0].edits.map((e) => e.newText), ["'b h n d -> b n (h d)'"]);
    const atSplit = analyzeSource(src('(d h)', '(h d)')).diagnostics;
    assert.deepEqual(atSplit.map((d) => [d.rule, d.range.line + 1]), [['head-split-merge-order', 14]]);
    assert.deepEqual(atSplit[0].fixes[0].edits.map((e) => e.newText), ["'b n (h d) -> b h n d'"]);
    assert.deepEqual(analyzeSource(src('(h d)', '(h d)')).diagnostics, []);
    assert.deepEqual(analyzeSource(src('(d h)', '(d h)')).diagnostics, []);
  });

  it('does not take a shape comment as proof that two sizes the code unpacked are equal', function () {
    const src = (n: string) => [
      'import torch',
      'import torch.nn as nn',
      '',
      '',
      'class GPT(nn.Module):',
      '    def __init__(self, vocab_size=100, block_size=32, n_embd=48):',
      '        super().__init__()',
      '        self.wte = nn.Embedding(vocab_size, n_embd)',
      '        self.wpe = nn.Embedding(block_size, n_embd)',
      '',
      '    def forward(self, idx):',
      '        b, t = idx.size()',
      '        pos = torch.arange(0, b, dtype=torch.long, device=idx.device)  # shape (t)',
      '        tok_emb = self.wte(idx)  # (b, t, n_embd)',
      '        pos_emb = self.wpe(pos)  # (t, n_embd)',
      '        return tok_emb + pos_emb',
    ].join('\n').replace('torch.arange(0, b,', `torch.arange(0, ${n},`);
    const bad = analyzeSource(src('b')).diagnostics;
    assert.deepEqual(bad.map((d) => [d.rule, d.severity, d.range.line + 1]), [['broadcast-mismatch', 'warning', 16]]);
    assert.deepEqual(analyzeSource(src('t')).diagnostics, []);
  });

  it('takes sizes a flag states equal (use_res_connect = stride == 1 and inp == oup) as one in the branch it guards', function () {
    const src = (flag: string) => [
      'import torch.nn as nn',
      '',
      '',
      'class Block(nn.Module):',
      '    def __init__(self, inp, oup, stride=1):',
      '        super().__init__()',
      '        self.use_res_connect = stride == 1 and inp == oup',
      '        self.conv = nn.Conv2d(inp, oup, 3, stride, 1)',
      '',
      '    def forward(self, x):',
      '        out = self.conv(x)',
      '        if self.use_res_connect:',
      '            out = out + x',
      '        return out',
      '',
      '',
      'class Net(nn.Module):',
      '    def __init__(self, channels=(16, 24)):',
      '        super().__init__()',
      '        self.stem = nn.Conv2d(3, channels[0], 3, 1, 1)',
      '        self.block = Block(channels[0], channels[1])',
      '',
      '    def forward(self, x):',
      '        return self.block(self.stem(x))',
    ].join('\n').replace('stride == 1 and inp == oup', flag);
    assert.deepEqual(analyzeSource(src('stride == 1 and inp == oup')).diagnostics, []);
    const bad = analyzeSource(src('stride == 1')).diagnostics;
    assert.deepEqual(bad.map((d) => [d.rule, d.severity, d.range.line + 1]), [['broadcast-mismatch', 'warning', 13]]);
    assert.match(bad[0].message, /channels1 == channels0/);
  });
});
