/** Rule: `mask-shape-mismatch`. See the docs below. */

import type { Rule } from '../diagnostics';
import { replaceNode } from '../diagnostics';
import type { Dim } from '../dims';
import { shapeOf } from './util';

export const rule: Rule = {
  name: 'mask-shape-mismatch',
  summary: 'attn_mask not (L, S) or (N*H, L, S); key_padding_mask not (N, S); a mask that does not broadcast to the scores',
  defaultSeverity: 'error',
  docs: {
    what: "Checks `nn.MultiheadAttention`'s `attn_mask` against (L, S) or (N·num_heads, L, S) and `key_padding_mask` against (N, S), with L, S and N read according to `batch_first`; checks the masks of `nn.Transformer` and `nn.TransformerDecoder(Layer)` (`tgt_mask` (T, T), `memory_mask` (T, S), key padding masks (N, S) or (N, T)); checks masks given to `F.scaled_dot_product_attention`, `masked_fill` and added to scores broadcast to the scores' shape, and that an `F.scaled_dot_product_attention` mask is not one value per query (size 1 on the key axis: a padding mask put on the query axis).",
    why: 'PyTorch raises ("The shape of the 2D attn_mask is ..., but should be ...", "expected key_padding_mask of shape ..."), or, for a mask that broadcasts the wrong way, masks the wrong positions.',
    example: 'mask = torch.ones(B, L, dtype=torch.bool)  # (N, L)\nself.attn(x, x, x, attn_mask=mask)',
    useInstead: 'self.attn(x, x, x, key_padding_mask=mask)',
    fixSafety: 'No automatic fix.',
  },
  on: ['module-call', 'op', 'binary'],
  check(e, ctx) {
    const report = (node: import('../parse').Node, dims: Dim[], message: string) => ctx.report({ node, severity: ctx.severity(...dims), message });
    if (e.kind === 'module-call' && e.module.type === 'MultiheadAttention') {
      const q = e.args[0] ?? e.kwargs.query;
      const k = e.args[1] ?? e.kwargs.key;
      if (q?.kind !== 'tensor' || k?.kind !== 'tensor' || !q.axes || !k.axes || q.axes.length !== 3 || k.axes.length !== 3) return;
      const bfv = e.module.kwargs.batch_first ?? e.module.args[8];
      const bf = bfv?.kind === 'bool' ? bfv.value : bfv === undefined ? false : undefined;
      if (bf === undefined) return;
      const N = bf ? q.axes[0].size : q.axes[1].size;
      const L = bf ? q.axes[1].size : q.axes[0].size;
      const S = bf ? k.axes[1].size : k.axes[0].size;
      const H = e.module.kwargs.num_heads ?? e.module.args[1];
      const kpm = e.kwargs.key_padding_mask ?? e.args[3];
      if (kpm?.kind === 'tensor' && kpm.axes) {
        const bad = kpm.axes.length !== 2 || ctx.compare(kpm.axes[0].size, N) === 'ne' || ctx.compare(kpm.axes[1].size, S) === 'ne';
        if (bad) report(e.node, [...kpm.axes.map((a) => a.size), N, S], `key_padding_mask is ${shapeOf(kpm, ctx)} but must be (N, S) = (${ctx.fmt(N)}, ${ctx.fmt(S)})`);
      }
      const am = e.kwargs.attn_mask ?? e.args[5];
      if (am?.kind === 'tensor' && am.axes) {
        const r = am.axes.length;
        let bad = r !== 2 && r !== 3;
        if (!bad) {
          const [l, s] = [am.axes[r - 2].size, am.axes[r - 1].size];
          bad = ctx.compare(l, L) === 'ne' || ctx.compare(s, S) === 'ne';
          if (r === 3 && H?.kind === 'int') bad = bad || ctx.compare(am.axes[0].size, { terms: [] }) === 'eq' || ctx.compare(am.axes[0].size, mulDim(N, H.dim)) === 'ne';
        }
        if (bad) report(e.node, [...am.axes.map((a) => a.size), L, S], `attn_mask is ${shapeOf(am, ctx)} but must be (L, S) = (${ctx.fmt(L)}, ${ctx.fmt(S)}) or (N*num_heads, L, S)`);
      }
      return;
    }
    if (e.kind === 'module-call' && ['Transformer', 'TransformerDecoderLayer', 'TransformerDecoder'].includes(e.module.type)) {
      // nn.Transformer(src, tgt, src_mask, tgt_mask, memory_mask, src_kpm, tgt_kpm, memory_kpm);
      // the decoder forms take (tgt, memory, tgt_mask, memory_mask, tgt_kpm, memory_kpm).
      const full = e.module.type === 'Transformer';
      const names = full
        ? ['src', 'tgt', 'src_mask', 'tgt_mask', 'memory_mask', 'src_key_padding_mask', 'tgt_key_padding_mask', 'memory_key_padding_mask']
        : ['tgt', 'memory', 'tgt_mask', 'memory_mask', 'tgt_key_padding_mask', 'memory_key_padding_mask'];
      const arg = (k: string) => e.kwargs[k] ?? e.args[names.indexOf(k)];
      const src = arg(full ? 'src' : 'memory');
      const tgt = arg('tgt');
      if (src?.kind !== 'tensor' || tgt?.kind !== 'tensor' || src.axes?.length !== 3 || tgt.axes?.length !== 3) return;
      const layer = e.module.type === 'TransformerDecoder' ? e.module.kwargs.decoder_layer ?? e.module.args[0] : e.module;
      if (layer?.kind !== 'torchmodule') return;
      const bfv = layer.kwargs.batch_first;
      const bf = bfv === undefined ? false : bfv.kind === 'bool' ? bfv.value : undefined;
      if (bf === undefined) return;
      const S = src.axes[bf ? 1 : 0].size;
      const T = tgt.axes[bf ? 1 : 0].size;
      const N = tgt.axes[bf ? 0 : 1].size;
      const square = (k: string, l: Dim, s2: Dim) => {
        const m = arg(k);
        if (m?.kind !== 'tensor' || !m.axes || (m.axes.length !== 2 && m.axes.length !== 3)) return;
        const r = m.axes.length;
        if (ctx.compare(m.axes[r - 2].size, l) === 'ne' || ctx.compare(m.axes[r - 1].size, s2) === 'ne') report(e.node, [...m.axes.map((a) => a.size), l, s2], `${k} is ${shapeOf(m, ctx)} but must be (${ctx.fmt(l)}, ${ctx.fmt(s2)})`);
      };
      const padding = (k: string, len: Dim) => {
        const m = arg(k);
        if (m?.kind !== 'tensor' || !m.axes) return;
        if (m.axes.length !== 2 || ctx.compare(m.axes[0].size, N) === 'ne' || ctx.compare(m.axes[1].size, len) === 'ne') report(e.node, [...m.axes.map((a) => a.size), N, len], `${k} is ${shapeOf(m, ctx)} but must be (N, ${ctx.fmt(len)}) = (${ctx.fmt(N)}, ${ctx.fmt(len)})`);
      };
      if (full) square('src_mask', S, S);
      square('tgt_mask', T, T);
      square('memory_mask', T, S);
      if (full) padding('src_key_padding_mask', S);
      padding('tgt_key_padding_mask', T);
      padding('memory_key_padding_mask', S);
      return;
    }
    if (e.kind === 'op' && e.op === 'sdpa') {
      const q = e.args[0];
      const k = e.args[1];
      const m = e.kwargs.attn_mask ?? e.args[3];
      if (q?.kind !== 'tensor' || k?.kind !== 'tensor' || m?.kind !== 'tensor' || !q.axes || !k.axes || !m.axes) return;
      const target = [...q.axes.slice(0, -2).map((a) => a.size), q.axes[q.axes.length - 2].size, k.axes[k.axes.length - 2].size];
      if (m.axes.length > target.length) return report(e.node, target, `attn_mask ${shapeOf(m, ctx)} has more dims than the scores (${target.map((d) => ctx.fmt(d)).join(', ')})`);
      for (let i = 1; i <= m.axes.length; i++) {
        const a = m.axes[m.axes.length - i].size;
        const b = target[target.length - i];
        if (ctx.value(a) === 1) continue;
        if (ctx.compare(a, b) === 'ne') return report(e.node, [a, b], `attn_mask ${shapeOf(m, ctx)} does not broadcast to the scores (${target.map((d) => ctx.fmt(d)).join(', ')})`);
      }
      // A mask of one value per query (size 1 on the key axis): each position it hides is a whole
      // row of the scores (NaN after softmax), each it keeps keeps the whole row; a padding mask
      // belongs on the key axis.
      const L = target[target.length - 2];
      const S = target[target.length - 1];
      if (m.axes.length >= 2 && ctx.value(m.axes[m.axes.length - 1].size) === 1 && ctx.value(m.axes[m.axes.length - 2].size) !== 1 && ctx.value(L) !== 1 && ctx.value(S) !== 1 && ctx.compare(m.axes[m.axes.length - 2].size, L) === 'eq') {
        const node = e.kwargNodes.attn_mask ?? e.argNodes[3];
        ctx.report({
          node: e.node,
          severity: 'warning',
          message: `attn_mask ${shapeOf(m, ctx)} holds one value per query, the same for every key: a position it hides is a whole row of the scores (NaN after softmax); a padding mask goes on the key axis (..., 1, S)`,
          fixes: node ? [{ title: 'Move the mask to the key axis', edits: [replaceNode(node, `${/^[\w.]+$/.test(node.text) ? node.text : `(${node.text})`}.transpose(-2, -1)`)] }] : [],
        });
      }
      return;
    }
    if (e.kind === 'op' && (e.op === 'masked_fill' || e.op === 'masked_fill_') && e.info.broadcast) {
      const m = e.kwargs.mask ?? e.args[1];
      report(e.node, e.info.broadcast, `mask ${m?.kind === 'tensor' ? shapeOf(m, ctx) : ''} does not broadcast to the tensor ${e.args[0]?.kind === 'tensor' ? shapeOf(e.args[0], ctx) : ''}`);
      return;
    }
    if (e.kind === 'binary' && e.info.broadcast && !e.info.permutedOperands && isMask(e.left, e.right)) {
      report(e.node, e.info.broadcast, `mask does not broadcast to the scores: ${ctx.fmt(e.info.broadcast[0])} vs ${ctx.fmt(e.info.broadcast[1])}`);
    }
  },
};

import type { Value } from '../values';
import { mul as mulDim } from '../dims';

export function isMask(a: Value, b: Value): boolean {
  return (a.kind === 'tensor' && !!a.mask && !!b && b.kind === 'tensor' && !!b.scores) || (b.kind === 'tensor' && !!b.mask && a.kind === 'tensor' && !!a.scores);
}
