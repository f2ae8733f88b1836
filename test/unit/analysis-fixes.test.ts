/**
 * Quick fixes proven in torch: on every labelled corpus and held-out program that has a fixed
 * twin (`# expect: differs-from`), each fix the analyzer offers for a labelled finding is applied
 * and the result must compute what the twin computes (torch, one process, the twins' `result`
 * tensors within 1e-5) and no longer have that finding. The programs whose findings carry no fix
 * (weights permuted between softmax and product, einsum softmax mistakes, a query scaled before
 * `scaled_dot_product_attention`) are listed, so a fix appearing or disappearing there is a
 * decision, not an accident. Also: the head-count
 * repairs of `embed-dim-not-divisible` are the catalog's, and every offered fix applies cleanly.
 */

import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Fix } from '../../src/analysis';
import { divisibleRepairs } from '../../src/blocks/checks';
import { pythonCommand } from '../helpers/torch';
import { analyzeSource, corpus, HELDOUT, ready } from './analysis.helpers';
import type { CorpusProgram } from './analysis.helpers';

const SCRIPT = path.resolve(__dirname, '../../scripts/torch/run_corpus.py');

/** The rules whose fixes this suite proves against the twins. */
const RULES = ['softmax-wrong-axis', 'attention-scale-mismatch', 'class-token-batch-index'];

function applyFix(source: string, f: Fix): string {
  const lines = source.split('\n');
  // Right to left, so earlier edits keep their columns.
  const edits = [...f.edits].sort((a, b) => b.range.line - a.range.line || b.range.column - a.range.column);
  for (const e of edits) {
    assert.equal(e.range.line, e.range.endLine, 'single-line edits');
    const l = lines[e.range.line];
    lines[e.range.line] = l.slice(0, e.range.column) + e.newText + l.slice(e.range.endColumn);
  }
  return lines.join('\n');
}

interface Fixed {
  program: CorpusProgram;
  rule: string;
  fix: Fix;
  file: string;
}

describe('analyzer quick fixes', function () {
  before(ready);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'af-fixes-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const programs = [...corpus(), ...corpus(HELDOUT)].filter((p) => p.expect.kind === 'differs' && p.labels.some((l) => RULES.includes(l.rule)));
  const fixed: Fixed[] = [];
  const withoutFix: string[] = [];

  before(function () {
    for (const p of programs) {
      for (const d of analyzeSource(p.source).diagnostics) {
        if (!RULES.includes(d.rule) || !p.labels.some((l) => l.rule === d.rule && l.line === d.range.line)) continue;
        if (d.fixes.length === 0) withoutFix.push(`${p.name}: ${d.rule}`);
        d.fixes.forEach((f, i) => {
          const file = path.join(tmp, `${p.name.replace(/\.py$/, '')}.${d.rule}.${i}.py`);
          fs.writeFileSync(file, applyFix(p.source, f));
          fixed.push({ program: p, rule: d.rule, fix: f, file });
        });
      }
    }
  });

  it('offers fixes exactly where they are proven, and none on the near misses', function () {
    const offered = fixed.map((f) => `${f.program.name}: ${f.rule} → ${f.fix.title}${f.fix.safe ? ' (safe)' : ''}`).sort();
    assert.deepEqual(offered, [
      'alias_fn_softmax_dim1.py: softmax-wrong-axis → Use dim=-1 (the axis summed with the values) (safe)',
      'attn_pool_softmax_last.py: softmax-wrong-axis → Use dim=-2 (the axis of the weighted sum)',
      'blog_pam_missing_permute.py: softmax-wrong-axis → Use attention.transpose(-2, -1) (sum over the normalised keys)',
      'danet_pam_no_transpose.py: softmax-wrong-axis → Use attention.transpose(-2, -1) (sum over the normalised keys)',
      'einsum_mha_scale_embed.py: attention-scale-mismatch → Scale by 1/sqrt(q.size(-1)), the head dim (safe)',
      "einsum_values_contract_queries.py: softmax-wrong-axis → Use 'b h i j, b h j d -> b h i d' (sum over the normalised keys)",
      'functional_softmax_positional_dim.py: softmax-wrong-axis → Use dim=-1 (the axis summed with the values) (safe)',
      'llm_self_scale_embed_dim.py: attention-scale-mismatch → Scale by q.size(-1) ** -0.5 (1/sqrt of the head dim) (safe)',
      'mh_function_unscaled.py: attention-scale-mismatch → Scale q by q.size(-1) ** -0.5 (1/sqrt of the head dim)',
      'nonlocal3d_softmax_queries.py: softmax-wrong-axis → Use dim=-1 (the axis summed with the values) (safe)',
      'perceiver_softmax_latents.py: softmax-wrong-axis → Use dim=-1 (the axis summed with the values) (safe)',
      'scale_by_embed_dim.py: attention-scale-mismatch → Scale by 1/sqrt(q.size(-1)), the head dim (safe)',
      'softmax_over_queries.py: softmax-wrong-axis → Use dim=-1 (the axis summed with the values) (safe)',
      'timm_attention_scale_dim.py: attention-scale-mismatch → Scale by q.size(-1) ** -0.5 (1/sqrt of the head dim) (safe)',
      'typed_function_scale_embed_dim.py: attention-scale-mismatch → Scale by 1/sqrt(q.size(-1)), the head dim (safe)',
      'vit_cls_token_batch_index.py: class-token-batch-index → Use x[:, 0] (safe)',
    ]);
    // Weights permuted or transposed before the product, einsum softmax mistakes, and a query
    // scaled before scaled_dot_product_attention: the finding stays, with no fix.
    assert.deepEqual(withoutFix.sort(), [
      'einsum_softmax_queries.py: softmax-wrong-axis',
      'einsum_softmax_wrong.py: softmax-wrong-axis',
      'keys_first_softmax_wrong.py: softmax-wrong-axis',
      'keys_major_softmax_last.py: softmax-wrong-axis',
      'llm_einsum_bhid_softmax_queries.py: softmax-wrong-axis',
      'sagan_softmax_wrong.py: softmax-wrong-axis',
      'scale_double_sdpa.py: attention-scale-mismatch',
      'unet_attn_block_softmax_dim1.py: softmax-wrong-axis',
    ]);
  });

  it('a fixed program no longer has the finding', function () {
    const left = fixed.filter((f) => analyzeSource(fs.readFileSync(f.file, 'utf8')).diagnostics.some((d) => d.rule === f.rule)).map((f) => f.program.name);
    assert.deepEqual(left, []);
  });

  it('a fixed program computes what its hand-fixed twin computes, in torch', function () {
    const version = fixed.some((f) => f.program.torch2Only) ? '2.6' : '1.13';
    const twins = fixed.map((f) => [f.file, (f.program.expect as { twin: string }).twin]);
    const req = path.join(tmp, 'req.json');
    const res = path.join(tmp, 'res.json');
    fs.writeFileSync(req, JSON.stringify({ files: [...new Set(twins.flat())], twins }));
    const [cmd, args] = pythonCommand(version, SCRIPT, [req, res]);
    const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, PYTHONWARNINGS: 'ignore' } });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(fs.readFileSync(res, 'utf8')) as { results: { file: string; ok: boolean; error?: string }[]; twins: { buggy: string; maxAbsDiff: number | null }[] };
    assert.deepEqual(out.results.filter((x) => !x.ok), []);
    const differ = out.twins.filter((t) => t.maxAbsDiff === null || t.maxAbsDiff > 1e-5).map((t) => `${path.basename(t.buggy)}: ${t.maxAbsDiff}`);
    assert.deepEqual(differ, []);
    assert.equal(out.twins.length, fixed.length);
  });

  it('attention-scale-mismatch: every written form of a wrong scale, found where it is applied, with its exact fix; near misses silent', function () {
    // A timm-style module: heads of dim // num_heads, no call site unless asked for (then 64 wide, 4 heads of 16).
    const module = (init: string, body: string[], callSite = false) => [
      'import math',
      'import torch',
      'import torch.nn as nn',
      'import torch.nn.functional as F',
      'class A(nn.Module):',
      '    def __init__(self, dim, num_heads=8, qk_scale=None):',
      '        super().__init__()',
      '        self.num_heads = num_heads',
      '        self.head_dim = dim // num_heads',
      '        self.d_k = dim // num_heads',
      '        self.qkv = nn.Linear(dim, dim * 3)',
      `        ${init}`,
      '    def forward(self, x):',
      '        B, N, C = x.shape',
      '        q, k, v = self.qkv(x).reshape(B, N, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4).unbind(0)',
      ...body.map((l) => `        ${l}`),
      '        attn = attn.softmax(dim=-1)',
      '        return (attn @ v).transpose(1, 2).reshape(B, N, C)',
      ...(callSite ? ['out = A(64, num_heads=4)(torch.randn(2, 5, 64))'] : []),
      '',
    ].join('\n');
    /** The finding's line and each fix applied to the line it edits, or undefined when silent. */
    const found = (init: string, body: string[], callSite = false) => {
      const src = module(init, body, callSite);
      const d = analyzeSource(src).diagnostics.find((x) => x.rule === 'attention-scale-mismatch');
      if (!d) return undefined;
      assert.ok(d.fixes.every((f) => f.safe), d.fixes.map((f) => f.title).join());
      return { line: src.split('\n')[d.range.line].trim(), fixes: d.fixes.map((f) => applyFix(src, f).split('\n')[f.edits[0].range.line].trim()) };
    };
    const score = 'attn = q @ k.transpose(-2, -1)';
    for (const callSite of [false, true]) {
      // Divided by the head dim instead of its square root, whatever its name.
      assert.deepEqual(found('pass', ['d_k = q.size(-1)', `${score} / d_k`], callSite), { line: `${score} / d_k`, fixes: [`${score} / math.sqrt(d_k)`] });
      assert.deepEqual(found('pass', [`${score} / self.d_k`], callSite), { line: `${score} / self.d_k`, fixes: [`${score} / math.sqrt(self.d_k)`] });
      assert.deepEqual(found('pass', ['attn = torch.matmul(q, k.transpose(-2, -1)) / self.head_dim'], callSite)?.fixes, ['attn = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(self.head_dim)']);
      assert.deepEqual(found('pass', ['attn = (q @ k.transpose(-2, -1)) * (1.0 / k.size(-1))'], callSite)?.fixes, ['attn = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))']);
      // Multiplied by sqrt(d) instead of divided: `** 0.5`, a sqrt factor, a scale divided by.
      assert.deepEqual(found('pass', [`${score} * k.size(-1) ** 0.5`], callSite)?.fixes, [`${score} * k.size(-1) ** -0.5`]);
      assert.deepEqual(found('pass', ['attn = (q @ k.transpose(-2, -1)) * math.sqrt(self.head_dim)'], callSite)?.fixes, ['attn = (q @ k.transpose(-2, -1)) / math.sqrt(self.head_dim)']);
      assert.deepEqual(found('self.scale = self.head_dim ** -0.5', ['attn = (q @ k.transpose(-2, -1)) / self.scale'], callSite)?.fixes, ['attn = (q @ k.transpose(-2, -1)) * self.scale']);
      // A scale set in __init__ and applied to q (timm) or to einsum scores: reported where applied.
      assert.deepEqual(found('self.scale = self.head_dim ** 0.5', ['q = q * self.scale', score], callSite), { line: 'q = q * self.scale', fixes: ['self.scale = self.head_dim ** -0.5'] });
      assert.deepEqual(found('self.scale = dim ** -0.5', ['q = q * self.scale', score], callSite), { line: 'q = q * self.scale', fixes: ['q = q * q.size(-1) ** -0.5'] });
      const ein = "attn = torch.einsum('b h i d, b h j d -> b h i j', q, k)";
      assert.deepEqual(found('self.scale = self.head_dim ** 0.5', [`${ein} * self.scale`], callSite)?.fixes, ['self.scale = self.head_dim ** -0.5']);
      assert.deepEqual(found('self.scale = dim ** -0.5', [`${ein} * self.scale`], callSite)?.fixes, [`${ein} * q.size(-1) ** -0.5`]);
      // Near misses: the head dim under another name, 1/sqrt(k.size(-1)), a temperature or a
      // learned logit scale of unknown value, `scale=None` defaults, cosine attention, SDPA.
      const silent: [string, string[]][] = [
        ['self.scale = self.head_dim ** -0.5', ['attn = (q @ k.transpose(-2, -1)) * self.scale']],
        ['pass', [`${score} * k.size(-1) ** -0.5`]],
        ['pass', ['attn = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))']],
        ['pass', [`${score} / math.sqrt(self.d_k)`]],
        ['self.temperature = nn.Parameter(torch.ones(1))', [`${score} / self.temperature`]],
        ['pass', [`${score} / self.temperature`]],
        ['self.scale = qk_scale or self.head_dim ** -0.5', ['attn = (q @ k.transpose(-2, -1)) * self.scale']],
        ['self.scale = qk_scale if qk_scale is not None else self.head_dim ** -0.5', ['attn = (q @ k.transpose(-2, -1)) * self.scale']],
        ['self.logit_scale = nn.Parameter(torch.log(10 * torch.ones((num_heads, 1, 1))))', ['attn = F.normalize(q, dim=-1) @ F.normalize(k, dim=-1).transpose(-2, -1)', 'attn = attn * torch.clamp(self.logit_scale, max=math.log(100.)).exp()']],
        ['pass', ['y = F.scaled_dot_product_attention(q, k, v)', `${score} * self.head_dim ** -0.5`]],
      ];
      for (const [init, body] of silent) assert.equal(found(init, body, callSite), undefined, `${init} / ${body.join('; ')}`);
    }
    // `/ 8` is 1/sqrt(64): with no call site the head dim is the caller's choice, so a number is
    // right for one choice only (a warning, with the same fix); with the call site it is wrong for
    // 16-wide heads, where `/ 4` is right. sqrt(q.size(1)) is the heads axis, as wide as the head
    // by chance or not: that needs the call site.
    assert.deepEqual(found('pass', [`${score} / 8`])?.fixes, [`${score} / math.sqrt(q.size(-1))`]);
    assert.deepEqual(found('pass', [`${score} / 8`], true)?.fixes, [`${score} / math.sqrt(q.size(-1))`]);
    assert.equal(found('pass', [`${score} / 4`], true), undefined);
    assert.deepEqual(found('pass', [`${score} / math.sqrt(q.size(1))`], true)?.fixes, [`${score} / math.sqrt(q.size(-1))`]);
    // Heads folded into the batch (latent-diffusion cross attention): the whole width is not the head's.
    const folded = (scale: string) => [
      'import torch', 'from torch import nn, einsum', 'class X(nn.Module):',
      '    def __init__(self, query_dim, heads=8, dim_head=64):',
      '        super().__init__()', '        inner_dim = dim_head * heads', `        self.scale = ${scale} ** -0.5`, '        self.heads = heads',
      '        self.to_q = nn.Linear(query_dim, inner_dim)', '        self.to_k = nn.Linear(query_dim, inner_dim)',
      '    def forward(self, x):', '        h = self.heads', '        q, k = self.to_q(x), self.to_k(x)', '        b, n, _ = q.shape',
      '        q = q.view(b, n, h, -1).permute(0, 2, 1, 3).reshape(b * h, n, -1)', '        k = k.view(b, n, h, -1).permute(0, 2, 1, 3).reshape(b * h, n, -1)',
      "        sim = einsum('b i d, b j d -> b i j', q, k) * self.scale", '        return sim.softmax(dim=-1)', '',
    ].join('\n');
    const foldedFinding = (scale: string) => analyzeSource(folded(scale)).diagnostics.filter((d) => d.rule === 'attention-scale-mismatch').map((d) => d.range.line);
    assert.deepEqual(foldedFinding('inner_dim'), [16]);
    assert.deepEqual(foldedFinding('dim_head'), []);
    // A head dim named by einops (`d`): a positive power is wrong (it enlarges the scores),
    // whether written `** 0.5` or divided by a 1/sqrt scale.
    const einops = (scale: string, apply: string) => [
      'import torch', 'from torch import nn, einsum', 'from einops import rearrange', 'class E(nn.Module):',
      '    def __init__(self, dim, heads=8, dim_head=64):',
      '        super().__init__()', `        self.scale = ${scale}`, '        self.heads = heads', '        self.to_qkv = nn.Linear(dim, dim_head * heads * 3, bias=False)',
      '    def forward(self, x):', '        qkv = self.to_qkv(x).chunk(3, dim=-1)',
      "        q, k, v = map(lambda t: rearrange(t, 'b n (h d) -> b h n d', h=self.heads), qkv)",
      `        dots = einsum('b h i d, b h j d -> b h i j', q, k) ${apply}`, '        return dots.softmax(dim=-1)', '',
    ].join('\n');
    const einopsFix = (scale: string, apply: string) => {
      const src = einops(scale, apply);
      const d = analyzeSource(src).diagnostics.filter((x) => x.rule === 'attention-scale-mismatch');
      return d.map((x) => `${x.range.line}: ${x.fixes.map((f) => applyFix(src, f).split('\n')[f.edits[0].range.line].trim()).join()}`);
    };
    // The input's rank follows from the pattern each chunk of it goes through, so `d` is
    // dim_head there: the scale's definition is what is fixed.
    assert.deepEqual(einopsFix('dim_head ** 0.5', '* self.scale'), ['12: self.scale = dim_head ** -0.5']);
    assert.deepEqual(einopsFix('dim_head ** -0.5', '/ self.scale'), ["12: dots = einsum('b h i d, b h j d -> b h i j', q, k) * self.scale"]);
    assert.deepEqual(einopsFix('dim_head ** -0.5', '* self.scale'), []);
    // The whole width's root is not the head's (the head is dim_head wide).
    assert.deepEqual(einopsFix('(dim_head * heads) ** -0.5', '* self.scale'), ["12: dots = einsum('b h i d, b h j d -> b h i j', q, k) * q.size(-1) ** -0.5"]);
  });

  it('embed-dim-not-divisible offers the catalog\'s repairs: every head count and width, never preferred', function () {
    const src = 'import torch.nn as nn\nattn = nn.MultiheadAttention(100, 8)\nenc = nn.TransformerEncoderLayer(d_model=100, nhead=8)\n';
    const diags = analyzeSource(src).diagnostics.filter((d) => d.rule === 'embed-dim-not-divisible');
    assert.deepEqual(divisibleRepairs(100, 8), { b: [10, 5, 4], a: [96, 104] });
    assert.deepEqual(diags.map((d) => d.fixes.map((f) => f.title)), [
      ['Use num_heads=10', 'Use num_heads=5', 'Use num_heads=4', 'Use embed_dim=96', 'Use embed_dim=104'],
      ['Use nhead=10', 'Use nhead=5', 'Use nhead=4', 'Use d_model=96', 'Use d_model=104'],
    ]);
    assert.ok(diags.every((d) => d.fixes.every((f) => !f.safe)));
    assert.equal(applyFix(src, diags[0].fixes[0]).split('\n')[1], 'attn = nn.MultiheadAttention(100, 10)');
    assert.equal(applyFix(src, diags[0].fixes[4]).split('\n')[1], 'attn = nn.MultiheadAttention(104, 8)');
    assert.equal(applyFix(src, diags[1].fixes[3]).split('\n')[2], 'enc = nn.TransformerEncoderLayer(d_model=96, nhead=8)');
    for (const f of diags.flatMap((d) => d.fixes)) assert.ok(!analyzeSource(applyFix(src, f)).diagnostics.some((d) => d.rule === 'embed-dim-not-divisible' && d.range.line === f.edits[0].range.line), f.title);
    // A width or head count that is not a literal is not edited.
    const named = analyzeSource('import torch.nn as nn\nE = 100\nattn = nn.MultiheadAttention(E, 8)\n').diagnostics[0];
    assert.deepEqual(named.fixes.map((f) => f.title), ['Use num_heads=10', 'Use num_heads=5', 'Use num_heads=4']);
  });

  it('class-token-batch-index: x[0] handed to a layer or returned where a class token leads the tokens, fixed by x[:, 0]; near misses silent', function () {
    const module = (tail: string, cat = 'torch.cat((self.cls.expand(x.shape[0], -1, -1), x), dim=1)') =>
      [
        'import torch',
        'import torch.nn as nn',
        '',
        'class ViT(nn.Module):',
        '    def __init__(self, dim, classes):',
        '        super().__init__()',
        '        self.embed = nn.Conv2d(3, dim, kernel_size=4, stride=4)',
        '        self.cls = nn.Parameter(torch.zeros(1, 1, dim))',
        '        self.blocks = nn.ModuleList([nn.Linear(dim, dim) for _ in range(2)])',
        '        self.head = nn.Linear(dim, classes)',
        '',
        '    def forward(self, x):',
        '        x = self.embed(x).flatten(2).transpose(1, 2)',
        `        x = ${cat}`,
        '        for blk in self.blocks:',
        '            x = x + blk(x)',
        `        ${tail}`,
        '',
      ].join('\n');
    const run = (tail: string, cat?: string) => analyzeSource(module(tail, cat)).diagnostics;
    const found = run('return self.head(x[0])');
    assert.deepEqual(found.map((d) => [d.rule, d.range.line + 1, d.fixes.map((f) => [f.edits[0].newText, f.safe])]), [['class-token-batch-index', 17, [['x[:, 0]', true]]]]);
    assert.deepEqual(run('return x[0]').map((d) => d.rule), ['class-token-batch-index']);
    assert.deepEqual(run('return self.head(x[:, 0])'), []);
    // One sample kept aside, not the module's answer; an index other than the first.
    assert.deepEqual(run('first = x[0]\n        return self.head(x[:, 0]) + first.mean()'), []);
    assert.deepEqual(run('return self.head(x[1])'), []);
    // No token in front (a token appended after the sequence, or none): nothing to read at [:, 0].
    assert.deepEqual(run('return self.head(x[0])', 'torch.cat((x, self.cls.expand(x.shape[0], -1, -1)), dim=1)'), []);
    assert.deepEqual(run('return self.head(x[0])', 'x'), []);
  });

  it('cat-dim-mismatch: a class token joined to the tokens along another axis than the tokens, fixed by dim=1; near misses silent', function () {
    const module = (cat: string, tokens = 'self.embed(x).flatten(2).transpose(1, 2)') =>
      [
        'import torch',
        'import torch.nn as nn',
        '',
        'class ViT(nn.Module):',
        '    def __init__(self, dim):',
        '        super().__init__()',
        '        self.embed = nn.Conv2d(3, dim, kernel_size=4, stride=4)',
        '        self.cls = nn.Parameter(torch.zeros(1, 1, dim))',
        '',
        '    def forward(self, x):',
        `        x = ${tokens}`,
        `        x = ${cat}`,
        '        return x',
        '',
      ].join('\n');
    const run = (cat: string, tokens?: string) => analyzeSource(module(cat, tokens)).diagnostics;
    const cls = 'self.cls.expand(x.shape[0], -1, -1)';
    for (const dim of ['dim=-1', 'dim=2', 'dim=0', '0']) {
      const found = run(`torch.cat((${cls}, x), ${dim})`);
      assert.deepEqual(found.map((d) => [d.rule, d.range.line + 1, d.fixes.map((f) => [f.edits[0].newText, f.safe])]), [['cat-dim-mismatch', 12, [['1', true]]]], dim);
    }
    assert.deepEqual(run(`torch.cat((x, ${cls}), dim=-1)`).map((d) => d.rule), ['cat-dim-mismatch']);
    // The token axis joined; one token on each side; tokens of another width (no single fix).
    assert.deepEqual(run(`torch.cat((${cls}, x), dim=1)`), []);
    assert.deepEqual(run(`torch.cat((${cls}, x[:, :1]), dim=-1)`), []);
    assert.deepEqual(run(`torch.cat((${cls}, x), dim=-1)`, 'self.embed(x).flatten(2).transpose(1, 2)[..., :8]'), []);
  });

  it('permute-order-mismatch: a permute never undone before a residual is reported at the residual, fixed by the permute back; near misses silent', function () {
    const module = (body: string[]) =>
      [
        'import torch',
        'import torch.nn as nn',
        '',
        'class Block(nn.Module):',
        '    def __init__(self, d: int = 64):',
        '        super().__init__()',
        '        self.attn = nn.MultiheadAttention(d, 4)',
        '',
        '    def forward(self, x):',
        ...body.map((l) => `        ${l}`),
        '',
      ].join('\n');
    const run = (body: string[]) => analyzeSource(module(body)).diagnostics.map((d) => [d.rule, d.range.line + 1, d.fixes.map((f) => [f.edits[0].newText, f.safe])]);
    const seqFirst = ['h = x.transpose(0, 1)', 'h, _ = self.attn(h, h, h)'];
    assert.deepEqual(run([...seqFirst, 'return x + h']), [['permute-order-mismatch', 12, [['h.transpose(0, 1)', true]]]]);
    assert.deepEqual(run([...seqFirst, 'return h + x']), [['permute-order-mismatch', 12, [['h.transpose(0, 1)', true]]]]);
    assert.deepEqual(run(['h = x.permute(1, 2, 0)', 'h, _ = self.attn(h, h, h)', 'return x + h']), [['permute-order-mismatch', 12, [['h.permute(2, 0, 1)', true]]]]);
    // Transposed back; a tensor added to its own transpose (a symmetrisation).
    assert.deepEqual(run([...seqFirst, 'h = h.transpose(0, 1)', 'return x + h']), []);
    assert.deepEqual(run(['s = x[0] @ x[0].transpose(0, 1)', 'return s + s.transpose(0, 1)']), []);
  });

  it('mask-polarity: with no caller, a mask parameter\'s name is not taken as its polarity (code names a keep mask key_padding_mask too)', function () {
    const fn = (param: string, body: string) =>
      ['import torch', 'import torch.nn.functional as F', '', `def attend(q, k, v, ${param}: torch.Tensor = None):`, `    ${body}`, ''].join('\n');
    assert.deepEqual(analyzeSource(fn('key_padding_mask', "s = (q @ k.transpose(-2, -1)).masked_fill(~key_padding_mask[:, None, None, :], float('-inf'))  # True marks tokens to keep")).diagnostics, []);
    assert.deepEqual(analyzeSource(fn('pad_mask', 'return F.scaled_dot_product_attention(q, k, v, attn_mask=pad_mask[:, None, None, :])')).diagnostics, []);
  });

  it('mask-polarity: with no caller, what the code shows a mask means (a cumulative sum, a count used as a length, the file\'s causal helper); near misses silent', function () {
    const found = (src: string[]) => analyzeSource(src.join('\n')).diagnostics.filter((d) => d.rule === 'mask-polarity').map((d) => [d.range.line, d.fixes.map((f) => f.edits[0].newText)]);
    // DETR: `(~mask).cumsum(1)` numbers the real positions, so mask is True at padding, as
    // key_padding_mask wants; its complement is not.
    const detr = (kpm: string, count = 'not_mask.cumsum(1, dtype=torch.float32)') => [
      'import torch', 'from torch import nn', '', 'class Enc(nn.Module):', '    def __init__(self, d=32, h=4):', '        super().__init__()',
      '        self.attn = nn.MultiheadAttention(d, h)', '', '    def forward(self, src, mask):', '        not_mask = ~mask', `        pos = ${count}`,
      `        m = ${kpm}`, '        return self.attn(src, src, src, key_padding_mask=m)[0] + pos.sum()', ''];
    assert.deepEqual(found(detr('~mask.flatten(1)')), [[12, ['~m']]]);
    assert.deepEqual(found(detr('mask.flatten(1)')), []);
    // A sum alone counts either the real tokens or the padding: it says nothing.
    assert.deepEqual(found(detr('~mask.flatten(1)', 'not_mask.sum(1)')), []);
    // Latent diffusion: the largest count of True cells is used as a length, so True marks the
    // real tokens, which masked_fill must not fill.
    const ctx = (fill: string) => [
      'import torch', 'from torch import nn', '', 'class Cross(nn.Module):', '    def forward(self, x, ctx, ctx_mask=None):', '        if ctx_mask is not None:',
      '            n_ctx = int(ctx_mask.sum(dim=1).max().item())', '            ctx, ctx_mask = ctx[:, :n_ctx], ctx_mask[:, :n_ctx]',
      '        s = x @ ctx.transpose(1, 2)', `        s = s.masked_fill(${fill}, float("-inf"))`, '        return s.softmax(dim=-1) @ ctx', ''];
    assert.deepEqual(found(ctx('ctx_mask[:, None, :]')), [[9, ['~(ctx_mask[:, None, :])']]]);
    assert.deepEqual(found(ctx('~ctx_mask[:, None, :]')), []);
    // `.item()` of one count per row runs only where the mask has one row; of their largest, always.
    const items = (count: string) =>
      analyzeSource(ctx('~ctx_mask[:, None, :]').join('\n').replace('ctx_mask.sum(dim=1).max().item()', count)).diagnostics.map((d) => [d.rule, d.range.line, d.severity]);
    assert.deepEqual(items('ctx_mask.sum(dim=1).item()'), [['view-size-mismatch', 6, 'warning']]);
    assert.deepEqual(items('ctx_mask.sum(1).max().item()'), []);
    assert.deepEqual(items('ctx_mask.sum().item()'), []);
    // The Annotated Transformer: masks are what the file's causal helper returns (True where
    // attended), so `mask == 0` marks the hidden cells and `mask == 1` the attended ones.
    const helper = (cut: string, fill: string, param = 'mask') => [
      'import torch', '', 'def subsequent_mask(size):', `    return ${cut}`, '', `def attention(scores, ${param}=None):`,
      `    if ${param} is not None:`, `        scores = scores.masked_fill(${fill}, -1e9)`, '    return scores.softmax(dim=-1)', ''];
    const keepCut = 'torch.triu(torch.ones(1, size, size), diagonal=1) == 0';
    assert.deepEqual(found(helper(keepCut, 'mask == 1')), [[7, ['~(mask == 1)']]]);
    assert.deepEqual(found(helper(keepCut, 'mask == 0')), []);
    assert.deepEqual(found(helper('torch.triu(torch.ones(1, size, size), diagonal=1).bool()', 'mask == 0')), [[7, ['~(mask == 0)']]]);
    assert.deepEqual(found(helper('torch.triu(torch.ones(1, size, size), diagonal=1).bool()', 'mask')), []);
    // A padding mask's name promises its own convention; a helper causal under neither reading
    // (reported at its cut) sets none.
    assert.deepEqual(found(helper(keepCut, 'attention_mask == 1', 'attention_mask')), []);
    assert.deepEqual(found(helper('torch.tril(torch.ones(1, size, size), diagonal=1) == 0', 'mask == 1')).map(([l]) => l), [3]);
  });

  it('input-width-unused: a constructor that never reads its in_channels, where the layer applied to the input takes another width; near misses silent', function () {
    const mod = (proj: string, fwd = 'self.input_proj(features)', extra = '') => [
      'import torch', 'from torch import nn', '', 'class Encoder(nn.Module):', '    def __init__(self, in_channels=128, d_model=64):', '        super().__init__()',
      `        self.input_proj = ${proj}`, `        self.norm = nn.LayerNorm(d_model)${extra}`, '', '    def forward(self, features):', `        src = ${fwd}`,
      '        return self.norm(src.flatten(2).transpose(1, 2))', ''];
    const found = (src: string[]) => analyzeSource(src.join('\n')).diagnostics.map((d) => [d.rule, d.range.line, d.fixes.map((f) => f.edits[0].newText)]);
    assert.deepEqual(found(mod('nn.Conv2d(d_model, d_model, kernel_size=1)')), [['input-width-unused', 6, ['in_channels']]]);
    assert.deepEqual(found(mod('nn.Conv2d(in_channels=d_model, out_channels=d_model, kernel_size=1)')), [['input-width-unused', 6, ['in_channels']]]);
    // Read, even elsewhere; a layer not applied to the input as it came; a width that is not a parameter.
    assert.deepEqual(found(mod('nn.Conv2d(in_channels, d_model, kernel_size=1)')), []);
    assert.deepEqual(found(mod('nn.Conv2d(d_model, d_model, kernel_size=1)', 'self.input_proj(features)', '\n        self.c = in_channels')), []);
    assert.deepEqual(found(mod('nn.Conv2d(d_model, d_model, kernel_size=1)', 'self.input_proj(features * 2)')), []);
    assert.deepEqual(found(mod('nn.Conv2d(64, d_model, kernel_size=1)')), []);
  });

  it('masked-mean-axis: a padding mask counted across the batch, fixed by its tokens axis; near misses silent', function () {
    const mod = (pool: string) => [
      'import torch', 'from torch import nn', '', 'class Pool(nn.Module):', '    def forward(self, x, lengths):', '        """x: (B, L, D) tokens; lengths: (B,) real lengths."""', '        B, L, D = x.shape',
      '        pad = torch.arange(L, device=x.device)[None, :] >= lengths[:, None]', '        keep = (~pad).unsqueeze(-1).float()', `        ${pool}`, '        return pooled', ''];
    const found = (src: string[]) => analyzeSource(src.join('\n')).diagnostics.map((d) => [d.rule, d.range.line, d.fixes.map((f) => f.edits[0].newText)]);
    assert.deepEqual(found(mod('pooled = (x * keep).sum(dim=0) / keep.sum(dim=0)')), [['masked-mean-axis', 9, ['1']]]);
    assert.deepEqual(found(mod('pooled = (x * keep).sum(0) / keep.sum(0).clamp(min=1)')), [['masked-mean-axis', 9, ['1']]]);
    // Along the tokens; the batch sum of something that is not the mask; a mean over the batch.
    assert.deepEqual(found(mod('pooled = (x * keep).sum(dim=1) / keep.sum(dim=1)')), []);
    assert.deepEqual(found(mod('pooled = (x * keep).sum(dim=-2) / keep.sum(dim=-2)')), []);
    assert.deepEqual(found(mod('pooled = (x * keep).sum(dim=0)')), []);
    assert.deepEqual(found(mod('pooled = x.mean(dim=0) + keep.sum()')), []);
  });

  it('swapped-arguments: a height and a width passed to each other\'s parameters, fixed by swapping them back; near misses silent', function () {
    const src = (call: string, sig = 'windows, window_size, H, W') => [
      'import torch', '', `def window_reverse(${sig}):`, '    return windows', '', 'class Block(torch.nn.Module):', '    def attend(self, q, k):', '        return q @ k.transpose(-2, -1)', '', '    def forward(self, x, H: int, W: int, q, k):',
      `        return ${call}`, ''];
    const found = (lines: string[]) => analyzeSource(lines.join('\n')).diagnostics.map((d) => [d.rule, d.range.line, d.fixes.map((f) => f.edits.map((x) => x.newText))]);
    assert.deepEqual(found(src('window_reverse(x, 7, W, H)')), [['swapped-arguments', 10, [['H', 'W']]]]);
    // Only a height and a width: code swaps other operands on purpose (`sub(b, a)`).
    assert.deepEqual(found(src('self.attend(k, q)')), []);
    // In order; named after no parameter; one of the two only; keywords; a rotation of three is not a swap.
    assert.deepEqual(found(src('window_reverse(x, 7, H, W)')), []);
    assert.deepEqual(found(src('window_reverse(x, 7, W, W)')), []);
    assert.deepEqual(found(src('window_reverse(x, 7, W=W, H=H)')), []);
    assert.deepEqual(found(src('window_reverse(x, 7, q, k)')), []);
    assert.deepEqual(found(src('window_reverse(W, H, x, 7)', 'H, W, windows, window_size')), [['swapped-arguments', 10, [['H', 'W']]]]);
    assert.deepEqual(found(src('window_reverse(x, W, H)', 'windows, H, W, window_size=7')), [['swapped-arguments', 10, [['H', 'W']]]]);
    assert.deepEqual(found(src('window_reverse(k, H, W)', 'H, W, k')), []);
  });

  it('head-split-merge-order: tokens stated to be H rows of W (`assert L == H * W`) read back as W rows of H; the stated order and no statement are silent', function () {
    const src = (stated: string, view: string) => [
      'from typing import Tuple', 'import torch', '', 'class Block(torch.nn.Module):', '    def __init__(self, dim: int, input_resolution: Tuple[int, int]):', '        super().__init__()',
      '        self.input_resolution = input_resolution', '        self.norm = torch.nn.LayerNorm(dim)', '', '    def forward(self, x):', '        H, W = self.input_resolution',
      '        B, L, C = x.shape', `        ${stated}`, `        x = self.norm(x).view(${view})`, '        return x.permute(0, 3, 1, 2)', ''];
    const found = (lines: string[]) => analyzeSource(lines.join('\n')).diagnostics.map((d) => [d.rule, d.range.line]);
    assert.deepEqual(found(src('assert L == H * W', 'B, W, H, C')), [['head-split-merge-order', 13]]);
    assert.deepEqual(found(src('assert H * W == L, "wrong size"', 'B, W, H, C')), [['head-split-merge-order', 13]]);
    assert.deepEqual(found(src('assert L == H * W', 'B, H, W, C')), []);
    assert.deepEqual(found(src('assert L == W * H', 'B, W, H, C')), []);
    assert.deepEqual(found(src('pass', 'B, W, H, C')), []);
  });

  it('softmax and scale fixes in the other written forms', function () {
    const base = ['import math', 'import torch', 'q = torch.randn(2, 4, 5, 8)', 'k = torch.randn(2, 4, 5, 8)', 'v = torch.randn(2, 4, 5, 8)'];
    const fixOf = (lines: string[], rule: string) => {
      const src = [...base, ...lines, ''].join('\n');
      const d = analyzeSource(src).diagnostics.find((x) => x.rule === rule);
      return d && { fixes: d.fixes.map((f) => applyFix(src, f).split('\n')[d.fixes[0].edits[0].range.line]), safe: d.fixes.map((f) => f.safe === true) };
    };
    // Method and torch.softmax forms, positive and negative dims.
    assert.deepEqual(fixOf(['w = (q @ k.transpose(-2, -1) * 8 ** -0.5).softmax(2)', 'o = w @ v'], 'softmax-wrong-axis')?.fixes, ['w = (q @ k.transpose(-2, -1) * 8 ** -0.5).softmax(-1)']);
    assert.deepEqual(fixOf(['w = torch.softmax(q @ k.transpose(-2, -1) * 8 ** -0.5, dim=-2)', 'o = torch.matmul(w, v)'], 'softmax-wrong-axis')?.fixes, ['w = torch.softmax(q @ k.transpose(-2, -1) * 8 ** -0.5, dim=-1)']);
    // Weights transposed on the way: the finding without a fix.
    assert.deepEqual(fixOf(['w = (q @ k.transpose(-2, -1) * 8 ** -0.5).softmax(-1)', 'o = w.transpose(-2, -1) @ v'], 'softmax-wrong-axis'), { fixes: [], safe: [] });
    // `d ** -0.5` and `/ d ** 0.5` scales, and the method form of the product.
    assert.deepEqual(fixOf(['E = 32', 's = q @ k.transpose(-2, -1) * E ** -0.5', 'w = s.softmax(-1)'], 'attention-scale-mismatch'), { fixes: ['s = q @ k.transpose(-2, -1) * q.size(-1) ** -0.5'], safe: [true] });
    assert.deepEqual(fixOf(['E = 32', 's = q.matmul(k.transpose(-2, -1)) / E ** 0.5', 'w = s.softmax(-1)'], 'attention-scale-mismatch'), { fixes: ['s = q.matmul(k.transpose(-2, -1)) / q.size(-1) ** 0.5'], safe: [true] });
    // torch.baddbmm's first argument is the added input, not the query: no fix.
    assert.deepEqual(fixOf(['E = 32', 'q3, k3 = q[0], k[0]', 's = torch.baddbmm(torch.zeros(4, 5, 5), q3, k3.transpose(1, 2), alpha=1 / math.sqrt(E))', 'w = s.softmax(-1)'], 'attention-scale-mismatch'), { fixes: [], safe: [] });
  });
});
