/**
 * The analyzer on its labelled corpus: per-rule precision, recall and false alarms, printed
 * as a table, against the targets (precision >= 0.95, recall >= 0.9, no diagnostic at all on
 * a correct program). A diagnostic matches a label when rule and line agree.
 *
 * And on the held-out set (test/fixtures/heldout/: first 43 programs, 18 correct, in styles the
 * corpus lacks — einsum attention, encoder layers, ViT patches, Perceiver cross attention,
 * conv-attention hybrids, plain functions, nn.Sequential, x.size()/x.shape[-1] arithmetic,
 * typed helpers, tril masks, several classes per file, dataclass configs — written after
 * the analyzer and labelled before it ever ran on them). Measured before any change made
 * for them, the honest estimate of how the analyzer generalizes: precision 1.00 (13 of 13),
 * recall 0.52 (13 of 25 labels), no false alarm on the 18 correct programs. The general fixes
 * that followed (module methods returning the module, chained assignment, dataclass fields
 * and class attributes, repeat_interleave, declared parameter shapes naming concrete
 * arguments' axes, nn.Parameter, padding-id masks, integer factors are not scales, encoder
 * layers) were then checked against these same programs, so numbers printed here now are no
 * longer an unbiased estimate.
 *
 * A second batch of 40 (18 correct) joined later, again written and labelled before the
 * analyzer ran on them and each label confirmed in torch first: HuggingFace/timm-style modules
 * with config objects and **kwargs, torch.transpose/.mT/positional-dim softmax, triu/tril masks
 * compared with 0, torch.baddbmm, GQA with repeat_interleave, pre-norm blocks in ModuleLists,
 * ModuleLists of heads, match/walrus, *x.shape, decorated forwards with nested functions and
 * lambdas, kdim/vdim cross attention, depthwise positional convs, relative position biases,
 * key-major scores. Measured before any change made for them: precision 0.93 (14 of 15),
 * recall 0.64 (14 of 22), no false alarm on the 18 correct programs. The fixes that followed
 * (closures and lambdas, map(), **kwargs and dict values, match, walrus, register_buffer,
 * parameters are not masks, baddbmm/addmm, head divisibility of encoder/decoder layers,
 * unknown factors leave the scale unknown, partial permute round trips) brought it to 21 of 22
 * on the same programs.
 *
 * A third batch of 59 (26 correct) joined later, written, labelled and confirmed in torch the
 * same way: vision attention modules as papers and blog posts write them (DANet position and
 * channel attention, CCNet criss-cross, GCNet, ECA, coordinate attention, axial attention, Swin
 * windows with relative position bias, BAM, CBAM, triplet attention, linear attention, non-local
 * 1D/3D with sub-sampling, SK convs, patch merging, pixel shuffle), key-major scores, masks from
 * lengths, shapes known only from constants, call sites, asserts or not at all. Measured before
 * any change made for them: precision 1.00 (24 of 24), recall 0.65 (24 of 37), no false alarm
 * on the 26 correct programs. The fixes that followed (None in adaptive pool sizes,
 * PixelShuffle, 3-D and per-axis pooling, torch.tensor of list literals, integer and boolean
 * tensor indexing, factories given *sizes, spatial axes folded into the batch, an axis carried
 * through a reshape keeps its role) brought it to 32 of 37 on the same programs. The set now
 * has 142 programs, 62 correct.
 *
 * A fourth batch of 32 (17 correct) joined later, written, labelled and confirmed in torch the
 * same way, in NLP/LLM styles: decoder self-attention with KV-cache concatenation, rotary
 * embeddings with x[..., ::2] slicing and torch.outer tables, ALiBi, T5 relative position bias
 * (unscaled by design), multi-query attention with expand, GQA with expand + reshape, sliding-
 * window masks from triu/tril of ones, cross-attention decoders with encoder padding masks,
 * nn.Transformer with generate_square_subsequent_mask, F.multi_head_attention_forward, bmm over
 * (B*H, L, D), einsum('bhid,bhjd->bhij'), self.scale = head_dim ** -0.5, masks from
 * arange(S) < lengths, BERT-style additive masks. Measured before any change made for them:
 * precision 0.82 (9 of 11), recall 0.60 (9 of 15), and one false alarm on a correct program
 * (T5's scores, which are unscaled on purpose). One label was added afterwards: the rotary
 * program's second line (x1 * sin) has the same mismatch on its own, and the convention labels
 * every such line (recall before, counting it: 9 of 16). The fixes that followed (a learned
 * bias, from nn.Embedding or nn.Parameter, added to unscaled scores marks T5-style attention and
 * silences the missing-scale report; arange carries a "holds positions" fact, so arange(S) <
 * lengths is a keep mask and >= an ignore mask; bool masks turned float are 0/1 masks, and a
 * keep mask of 0s and 1s added to scores that reach softmax is reported by mask-dtype; slice
 * steps; torch.outer; F.multi_head_attention_forward (always sequence-first, with the module's
 * mask convention); nn.Transformer and decoder mask shapes; a reshape that merged axes restores
 * their identity when it splits them back, so permute-order-mismatch sees across it) brought it
 * to 15 of 16 with no false alarm. Still missed: a 0/1 mask given as a literal tensor (nothing
 * says whether 1 means keep or pad, left or right padding). The set now has 174 programs, 79
 * correct.
 *
 * A fifth batch of 40 (22 correct) joined later, written, labelled and confirmed in torch the
 * same way, in styles the set lacked: blog-post modules (`super(Cls, self).__init__()`,
 * `batch_first` flags with `x.permute(1, 0, 2, 3)`, `#size = (batch,C,w,h)` comments, `#%%`
 * cells, `print(y.size())` at the bottom), plain scripts with top-level tensors, alias imports
 * (`import torch as t`, `from torch import nn, Tensor`, `MultiheadAttention as MHA`,
 * `torch.nn.functional as fn`), HF-BART `self._shape(x, seq_len, bsz)` helpers,
 * `view(*t.shape[:-1], h, d)`, `reshape(b, -1, h, d)`, `unflatten`/`flatten(-2)`,
 * `torch.split(qkv, [e, e, e])`, hand-written rearrange helpers, `F.linear` with explicit
 * weights, `nn.functional.softmax(dim=1)` on (B, L, S) scores. Measured before any change made
 * for them: precision 0.76 (16 of 21), recall 0.89 (16 of 18), and one false alarm on a correct
 * program (four head-split-merge-order reports on the sequence-first (L, N, E) -> (L, N*H, D)
 * views torch's own multi-head attention makes). One label was moved afterwards: a DANet
 * position attention whose last bmm lacks the transpose of the weights was labelled on that
 * bmm, while the held-out set already labels the same program on its softmax line (where the
 * rule reports); counted with the set's convention the numbers before are 0.81 (17 of 21) and
 * 0.94 (17 of 18). The fixes that followed (F.linear contracts the input's last axis with the
 * weight's second one, checked by linear-in-features-mismatch; two axes regrouped into two
 * where one is split and its leading part joins its neighbour, (N, H*D) <-> (N*H, D), keep the
 * element order and are not a missing transpose) brought it to 18 of 18 with no false alarm.
 * The "half-typed" files of the batch (a complete buggy part, a syntax error elsewhere) cannot
 * run in torch, so they are a unit test in analysis-shapes.test.ts instead: all three were
 * reported before any change. The set now has 214 programs, 101 correct.
 *
 * A sixth batch of 31 (16 correct) joined later, written, labelled and confirmed in torch 1.13
 * the same way, in diffusion/detection/graph styles the set lacked: Stable-Diffusion
 * CrossAttention with a 77-token `context` of another width, spatial transformer blocks
 * (GroupNorm, 1x1 proj_in, (B, C, H, W) -> (B, HW, C) and back), DETR decoder layers with
 * sequence-first nn.MultiheadAttention and positional embeddings added to queries and memory,
 * ViT class-token concat with learned positions, attention pooling over tokens, CLIP's
 * AttentionPool2d (`x.flatten(2).permute(2, 0, 1)`, mean token, F.multi_head_attention_forward),
 * Perceiver latents expanded over the batch, GAT layers (dense multi-head with adjacency masks,
 * single-graph `Wh1 + Wh2.T` with torch.where), Transformer-XL memory concatenation with offset
 * causal masks, attention looped over chunks of queries, the VQGAN/LDM UNet AttnBlock. Measured
 * before any change made for them: precision 0.86 (12 of 14), recall 0.80 (12 of 15), and one
 * false alarm on a correct program (permute-order-mismatch on GAT's `Wh1 + Wh2.T`, an outer sum
 * (N, 1) + (1, N), taken for the same axes met in another order). One label was added
 * afterwards: in the CrossAttention whose to_k/to_v take query_dim, the to_v line has the same
 * mismatch on its own (counting it: 0.93, 13 of 14; recall 13 of 16). The fix that followed (a
 * size-1 axis broadcast against a longer one makes the combination an outer one, so the
 * operands are not "permuted" copies of each other) brought it to precision 1.00 (13 of 13)
 * with no false alarm; recall stays 13 of 16. Still missed: batch-major queries into a
 * sequence-first MultiheadAttention when nothing gives the axes a batch/sequence role (a
 * batch-first token tensor built from nn.Embedding weights repeated over the batch, a call-site
 * (B, C, H, W) flattened and concatenated with its mean token), and softmax over a size-1 axis
 * of attention-pooling scores (B, N, 1) followed by an elementwise weighted sum. The set now has
 * 245 programs, 117 correct.
 *
 * A seventh batch of 13 (7 correct) joined later, written, labelled and confirmed in torch 1.13
 * the same way, all on batch-first-mismatch: conv patch embeddings flattened to (B, HW, C),
 * nn.Embedding of (BATCH_SIZE, SEQ_LEN) token ids into a TransformerEncoderLayer, a class token
 * expanded over the batch and concatenated along dim 1, an output pooled with `mean(dim=1)`,
 * `B, L, D = x.shape` with and without the permute to (L, B, D), batch_first=True fed a
 * transposed (L, N, E), and a square (5, 5, E) input where both readings are plausible.
 * Measured before any change made for them: precision 1.00 (4 of 4), recall 0.67 (4 of 6), no
 * false alarm on the 7 correct programs. The fixes that followed (a single token, size 1 on the
 * axis, concatenated to (?, ?, E) tokens along dim 0 or 1 makes that axis the sequence and the
 * other leading one the batch; a sequence-first module whose query axes have no role, whose own
 * output axes are later averaged with `mean(dim=1)`, is reported; both as warnings, the roles
 * being inferred) brought it to 6 of 6 with no false alarm, and found the CLIP AttentionPool2d
 * fed (B, HW+1, C) of the sixth batch. Still missed: DETR queries built from nn.Embedding weights
 * repeated over the batch (axis 0 is the batch, axis 1 has no role), an encoder fed
 * nn.Embedding of ids whose shape only the call site's literals give, and a pre-norm block whose
 * (B, L, D) is said only in a class docstring. The set now has 258 programs, 124 correct. Only
 * the absence of false alarms on correct programs is asserted for this set; the rest is printed.
 */

import * as assert from 'node:assert/strict';
import { RULES } from '../../src/analysis';
import { corpus, HELDOUT, ready } from './analysis.helpers';
import { printScores, score } from './analysis-scores.helpers';

describe('analyzer corpus scores', function () {
  before(ready);

  it('has at least 60 programs, a third of them correct, and labels naming real rules', function () {
    const progs = corpus();
    assert.ok(progs.length >= 60, `${progs.length} programs`);
    const correct = progs.filter((p) => p.labels.length === 0);
    assert.ok(correct.length * 3 >= progs.length, `${correct.length} correct of ${progs.length}`);
    for (const p of progs) for (const l of p.labels) assert.ok(RULES.some((r) => r.name === l.rule), `${p.name}: unknown rule ${l.rule}`);
    for (const p of progs) assert.equal(p.labels.length > 0, p.expect.kind !== 'runs', `${p.name}: labels and '# expect' disagree`);
  });

  it('meets precision >= 0.95 and recall >= 0.9 per rule, with no false alarm on correct programs', function () {
    const s = score(corpus());
    printScores('corpus (the analyzer was developed against it)', s);
    assert.deepEqual(s.correctAlarms, [], 'false alarms on correct programs');
    for (const r of s.rows) {
      assert.ok(r.precision >= 0.95, `${r.rule}: precision ${r.precision.toFixed(2)}`);
      assert.ok(r.recall >= 0.9, `${r.rule}: recall ${r.recall.toFixed(2)}`);
    }
  });

  it('held-out set: no false alarm on a correct program (precision and recall printed)', function () {
    const progs = corpus(HELDOUT);
    const correct = progs.filter((p) => p.labels.length === 0);
    assert.ok(progs.length >= 30 && correct.length * 3 >= progs.length, `${progs.length} programs, ${correct.length} correct`);
    for (const p of progs) for (const l of p.labels) assert.ok(RULES.some((r) => r.name === l.rule), `${p.name}: unknown rule ${l.rule}`);
    for (const p of progs) assert.equal(p.labels.length > 0, p.expect.kind !== 'runs', `${p.name}: labels and '# expect' disagree`);
    const s = score(progs);
    printScores('held-out set (before changes made for each batch: precision 1.00, 0.93, 1.00, 0.82, 0.76, 0.86, 1.00; recall 0.52, 0.64, 0.65, 0.60, 0.89, 0.80, 0.67; false alarms on correct programs 0, 0, 0, 1, 1, 1, 0)', s);
    assert.deepEqual(s.correctAlarms, [], 'false alarms on correct held-out programs');
  });

  it('every rule has complete docs and at least one labelled corpus program', function () {
    const labelled = new Set(corpus().flatMap((p) => p.labels.map((l) => l.rule)));
    for (const r of RULES) {
      for (const k of ['what', 'why', 'example', 'useInstead', 'fixSafety'] as const) assert.ok(r.docs[k].length > 10, `${r.name}: docs.${k}`);
      assert.match(r.name, /^[a-z]+(-[a-z0-9]+)+$/);
      assert.ok(labelled.has(r.name), `${r.name} has no labelled corpus program`);
    }
  });
});
