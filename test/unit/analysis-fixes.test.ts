/**
 * Quick fixes proven in torch: on every labelled corpus and held-out program that has a fixed
 * twin (`# expect: differs-from`), each fix the analyzer offers for a labelled finding is applied
 * and the result must compute what the twin computes (torch, one process, the twins' `result`
 * tensors within 1e-5) and no longer have that finding. The programs whose findings carry no fix
 * (weights permuted between softmax and product, einsum, a scale set in `__init__`) are listed, so
 * a fix appearing or disappearing there is a decision, not an accident. Also: the head-count
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
const RULES = ['softmax-wrong-axis', 'attention-scale-mismatch'];

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
      'blog_pam_missing_permute.py: softmax-wrong-axis → Use attention.transpose(-2, -1) (sum over the normalised keys)',
      'danet_pam_no_transpose.py: softmax-wrong-axis → Use attention.transpose(-2, -1) (sum over the normalised keys)',
      "einsum_values_contract_queries.py: softmax-wrong-axis → Use 'b h i j, b h j d -> b h i d' (sum over the normalised keys)",
      'functional_softmax_positional_dim.py: softmax-wrong-axis → Use dim=-1 (the axis summed with the values) (safe)',
      'mh_function_unscaled.py: attention-scale-mismatch → Scale q by q.size(-1) ** -0.5 (1/sqrt of the head dim)',
      'nonlocal3d_softmax_queries.py: softmax-wrong-axis → Use dim=-1 (the axis summed with the values) (safe)',
      'perceiver_softmax_latents.py: softmax-wrong-axis → Use dim=-1 (the axis summed with the values) (safe)',
      'scale_by_embed_dim.py: attention-scale-mismatch → Scale by 1/sqrt(q.size(-1)), the head dim (safe)',
      'softmax_over_queries.py: softmax-wrong-axis → Use dim=-1 (the axis summed with the values) (safe)',
      'typed_function_scale_embed_dim.py: attention-scale-mismatch → Scale by 1/sqrt(q.size(-1)), the head dim (safe)',
    ]);
    // Weights permuted or transposed before the product, einsum products, and scales set in
    // __init__ or before scaled_dot_product_attention: the finding stays, with no fix.
    assert.deepEqual(withoutFix.sort(), [
      'einsum_mha_scale_embed.py: attention-scale-mismatch',
      'einsum_softmax_queries.py: softmax-wrong-axis',
      'einsum_softmax_wrong.py: softmax-wrong-axis',
      'keys_first_softmax_wrong.py: softmax-wrong-axis',
      'keys_major_softmax_last.py: softmax-wrong-axis',
      'llm_einsum_bhid_softmax_queries.py: softmax-wrong-axis',
      'llm_self_scale_embed_dim.py: attention-scale-mismatch',
      'sagan_softmax_wrong.py: softmax-wrong-axis',
      'scale_double_sdpa.py: attention-scale-mismatch',
      'timm_attention_scale_dim.py: attention-scale-mismatch',
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
