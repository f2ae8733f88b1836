/** Rule: `attention-scale-mismatch`. See the docs below. */

import type { Rule } from '../diagnostics';
import { replaceNode } from '../diagnostics';
import { ratio } from '../dims';

export const rule: Rule = {
  name: 'attention-scale-mismatch',
  summary: 'scores scaled by sqrt(embed_dim) instead of sqrt(head_dim), not scaled, or scaled twice',
  defaultSeverity: 'warning',
  docs: {
    what: 'Follows the factor applied to q @ k^T (`/ math.sqrt(d)`, `* d ** -0.5`, a pre-scaled q, `torch.baddbmm`\'s `alpha`) and compares its base with the size of the contracted axis. Flags multi-head scores that reach softmax unscaled (unless a learned bias, as in T5, which folds the scale into its weights, was added), and queries pre-scaled before `F.scaled_dot_product_attention`, which scales again. A factor whose value is unknown (an attribute never assigned on the path analysed) may be the scale, so it silences the rule.',
    why: 'Scaled dot-product attention divides by sqrt(d_k), the per-head size. Dividing by sqrt(embed_dim) makes the softmax num_heads^0.5 times flatter; nothing raises.',
    example: 'scores = q @ k.transpose(-2, -1) / math.sqrt(self.embed_dim)',
    useInstead: 'scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))',
    fixSafety: 'The fix replaces the base of the square root with the query\'s last dimension, the contracted size; it is exact.',
  },
  on: ['op'],
  check(e, ctx) {
    if (e.kind !== 'op') return;
    if (e.op === 'sdpa') {
      const q = e.args[0] ?? e.kwargs.query;
      if (q?.kind === 'tensor' && q.scale && q.scale.base && q.scale.exp < 0 && !e.kwargs.scale) {
        ctx.report({ node: e.node, severity: 'warning', message: 'the query is already scaled, and scaled_dot_product_attention scales by 1/sqrt(head_dim) again' });
      }
      return;
    }
    if (e.op !== 'softmax') return;
    const t = e.args[0];
    if (t?.kind !== 'tensor' || !t.scores) return;
    const s = t.scores;
    const sc = s.scale;
    if (!sc || (sc.exp === 0 && !sc.base)) {
      if (s.multiHead && !sc && !s.learnedBias) ctx.report({ node: s.node, severity: ctx.severity(s.contraction), message: `multi-head attention scores reach softmax without the 1/sqrt(${ctx.fmt(s.contraction)}) scale` });
      return;
    }
    if (!sc.base || Math.abs(sc.exp + 0.5) > 1e-9) return;
    const c = ctx.compare(sc.base, s.contraction);
    if (c === 'eq') return;
    let proven = c === 'ne';
    if (!proven && !ctx.same(sc.base, s.contraction)) {
      const r = ratio(sc.base, s.contraction);
      proven = r !== undefined && r !== 1;
      if (!proven && ctx.value(sc.base) === undefined) {
        // embed_dim vs embed_dim // num_heads: differ whenever there is more than one head.
        const q = ctx.fmt(sc.base);
        proven = ctx.fmt(s.contraction).startsWith(`${q}//`);
      }
    }
    if (!proven) return;
    const left = s.node.childForFieldName('left') ?? s.node.childForFieldName('arguments')?.namedChildren[0];
    const baseNode = findSqrtArg(t.scores.scaleNode);
    const fixes = baseNode && left?.type === 'identifier' ? [{ title: `Scale by ${left.text}.size(-1) (the head dim)`, edits: [replaceNode(baseNode, `${left.text}.size(-1)`)] }] : [];
    ctx.report({
      node: s.scaleNode ?? s.node,
      severity: ctx.severity(sc.base, s.contraction),
      message: `scores are scaled by 1/sqrt(${ctx.fmt(sc.base)}) but the contracted (head) dimension is ${ctx.fmt(s.contraction)}`,
      fixes,
    });
  },
};

function findSqrtArg(n: import('../parse').Node | undefined): import('../parse').Node | undefined {
  if (!n) return undefined;
  let found: import('../parse').Node | undefined;
  const walk = (x: import('../parse').Node) => {
    if (found) return;
    if (x.type === 'call' && /sqrt$/.test(x.childForFieldName('function')?.text ?? '')) {
      const a = x.childForFieldName('arguments')?.namedChildren[0];
      if (a) found = a;
      return;
    }
    for (const c of x.namedChildren) if (c) walk(c);
  };
  walk(n);
  return found;
}
