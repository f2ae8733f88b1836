/** Rule: `batch-first-mismatch`. See the docs below. */

import type { Rule, RuleContext } from '../diagnostics';
import * as D from '../dims';
import type { Node } from '../parse';
import type { TensorV, TorchModuleV, Value } from '../values';
import { fix, setKeyword, shapeOf } from './util';

/**
 * Calls of a module whose query axes have no role yet, per unit: a later `out.mean(dim=1)` (or a
 * masked mean's `sum(dim=1)`) over the query's own axes shows the author treats dim 1 as the
 * sequence; over them swapped (the query was `x.transpose(0, 1)`), dim 0 of the query.
 */
const pending = new WeakMap<RuleContext, { labels: [string, string]; node: Node; layer: TorchModuleV; q: TensorV; batchFirst: boolean }[]>();

export const rule: Rule = {
  name: 'batch-first-mismatch',
  summary: 'nn.MultiheadAttention (or nn.TransformerEncoder/EncoderLayer) fed (N, L, E) without batch_first=True, or (L, N, E) with it',
  defaultSeverity: 'warning',
  docs: {
    what: 'Follows which axis of the query holds the batch and which the sequence (from shape comments, names, `x.shape` unpacking and the operations that made the tensor, or, for a query nobody named, a later `mean(dim=1)` or masked mean\'s `sum(dim=1)` over its axes: that axis is the sequence) and compares that with the module\'s `batch_first`; `F.multi_head_attention_forward` always reads (L, N, E). A layout a caller arranged with a permute and handed down, batch and sequence axes as they were, to a layer that keeps the default `batch_first` is reported at the caller\'s call (the layer built with the flag written out states its layout itself, and is reported at its own call).',
    why: 'Without `batch_first=True`, `nn.MultiheadAttention` reads (L, N, E). Given (N, L, E) it silently attends across the batch instead of across the sequence: no error, wrong results.',
    example: 'self.attn = nn.MultiheadAttention(64, 8)\n...\nx = x.flatten(2).transpose(1, 2)  # (B, HW, C)\ny, _ = self.attn(x, x, x)',
    useInstead: 'self.attn = nn.MultiheadAttention(64, 8, batch_first=True)',
    fixSafety: 'Adding `batch_first=True` is exact when every call passes batch-first data; the fix is offered when the module was built without the flag.',
  },
  on: ['module-call', 'op'],
  check(e, ctx) {
    if (e.kind === 'op' && (e.op === 'mean' || e.op === 'sum')) {
      const t = e.args[0];
      const dv = e.args[1] ?? e.kwargs.dim;
      const list = pending.get(ctx);
      if (!list || t?.kind !== 'tensor' || !t.axes || t.axes.length !== 3 || dv?.kind !== 'int' || D.constValue(dv.dim) !== 1) return;
      const same = (p: { labels: [string, string] }) => p.labels[0] === t.axes![0].label && p.labels[1] === t.axes![1].label;
      const swapped = (p: { labels: [string, string] }) => p.labels[0] === t.axes![1].label && p.labels[1] === t.axes![0].label;
      const i = list.findIndex((p) => (p.batchFirst ? swapped(p) : same(p)));
      if (i < 0) return;
      const [p] = list.splice(i, 1);
      if (p.batchFirst) {
        ctx.report({
          node: p.node,
          severity: 'warning',
          message: `query ${shapeOf(p.q, ctx)} has the sequence on dim 0 (that axis is pooled over as the sequence later) but the ${p.layer.type} was built with batch_first=True, so it reads (N, L, E) and attends across the batch`,
          fixes: fix('Set batch_first=False', setKeyword(p.layer, 'batch_first', 'False')),
        });
        return;
      }
      ctx.report({
        node: p.node,
        severity: 'warning',
        message: `query ${shapeOf(p.q, ctx)} is pooled over dim 1 after the ${p.layer.type} (so dim 1 is the sequence and dim 0 the batch) but the module was built without batch_first=True, so it reads (L, N, E) and attends across the batch`,
        fixes: fix('Add batch_first=True', setKeyword(p.layer, 'batch_first', 'True')),
      });
      return;
    }
    if (e.kind === 'op' && e.op === 'multi_head_attention_forward') {
      // The functional form has no batch_first: it always reads (L, N, E).
      const q = e.args[0] ?? e.kwargs.query;
      if (q?.kind !== 'tensor' || !q.axes || q.axes.length !== 3) return;
      const [r0, r1] = [q.axes[0].role, q.axes[1].role].map((r) => (r === 'space' || r === 'query' || r === 'key' ? 'seq' : r));
      if (r0 === 'batch' && r1 === 'seq') {
        ctx.report({ node: e.node, severity: ctx.severity(...q.axes.map((a) => a.size)), message: `query ${shapeOf(q, ctx)} is batch-first (N, L, E) but F.multi_head_attention_forward reads (L, N, E) and attends across the batch; transpose(0, 1) first` });
      }
      return;
    }
    if (e.kind !== 'module-call' || !['MultiheadAttention', 'TransformerEncoderLayer', 'TransformerEncoder'].includes(e.module.type)) return;
    const q = e.args[0] ?? e.kwargs.query ?? e.kwargs.src;
    if (q?.kind !== 'tensor' || !q.axes || q.axes.length !== 3) return;
    // The layout is the module's own (MultiheadAttention, an encoder layer) or its layer's.
    const layer = e.module.type === 'TransformerEncoder' ? e.module.kwargs.encoder_layer ?? e.module.args[0] : e.module;
    if (layer?.kind !== 'torchmodule') return;
    const bfv = layer.kwargs.batch_first ?? (layer.type === 'MultiheadAttention' ? layer.args[8] : undefined);
    const bf = bfv === undefined ? false : bfv.kind === 'bool' ? bfv.value : undefined;
    if (bf === undefined) return;
    // A spatial axis in the sequence position is the sequence (axial attention runs over H).
    const [r0, r1] = [q.axes[0].role, q.axes[1].role].map((r) => (r === 'space' || r === 'query' || r === 'key' ? 'seq' : r));
    // Roles read from how the code treats the axes (not declared) make the finding a warning.
    const severity = q.axes[0].inferred || q.axes[1].inferred ? 'warning' : ctx.severity(...q.axes.map((a) => a.size));
    if (r0 === undefined && r1 === undefined && q.axes[0].label && q.axes[1].label && q.axes[0].label !== q.axes[1].label) {
      const list = pending.get(ctx) ?? [];
      list.push({ labels: [q.axes[0].label, q.axes[1].label], node: e.node, layer, q, batchFirst: bf });
      pending.set(ctx, list);
    }
    // A layout a caller arranged (a permute, handed down with its batch and sequence axes as
    // they were) into a module that keeps torch's default is the caller's: the call is where the
    // layout was chosen. A module built with the flag written out states its layout itself.
    let carried: Value = q;
    const blamed = bfv === undefined ? ctx.blame([q], (v, p) => sameLayout(v, p) && !!(carried = p)) : undefined;
    const site = blamed && carried.kind === 'tensor' && carried.permutes ? blamed : undefined;
    const inside = site ? ` (in the call, at line ${e.node.startPosition.row + 1})` : '';
    if (!bf && r0 === 'batch' && r1 === 'seq') {
      ctx.report({
        node: site ?? e.node,
        severity,
        message: `query ${shapeOf(q, ctx)} is batch-first (N, L, E) but the ${layer.type} was built without batch_first=True, so it reads (L, N, E) and attends across the batch${inside}`,
        fixes: fix('Add batch_first=True', setKeyword(layer, 'batch_first', 'True')),
      });
    } else if (bf && r0 === 'seq' && r1 === 'batch') {
      ctx.report({
        node: site ?? e.node,
        severity,
        message: `query ${shapeOf(q, ctx)} is sequence-first (L, N, E) but the ${layer.type} was built with batch_first=True, so it reads (N, L, E)${inside}`,
        fixes: fix('Set batch_first=False', setKeyword(layer, 'batch_first', 'False')),
      });
    }
  },
};

/** An argument with the query's first two axes, as they were (same identity, or same size where unlabelled, and role): the layout came from it. */
function sameLayout(v: Value, p: Value): boolean {
  if (v.kind !== 'tensor' || p.kind !== 'tensor' || !v.axes || !p.axes || v.axes.length !== p.axes.length) return false;
  return [0, 1].every((i) => {
    const [a, b] = [v.axes![i], p.axes![i]];
    return a.role !== undefined && a.role === b.role && (a.label !== undefined ? a.label === b.label : b.label === undefined && D.equal(a.size, b.size));
  });
}
