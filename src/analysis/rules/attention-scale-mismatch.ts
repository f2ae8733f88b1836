/** Rule: `attention-scale-mismatch`. See the docs below. */

import type { Fix, Rule } from '../diagnostics';
import { replaceNode } from '../diagnostics';
import { ratio } from '../dims';
import type { Node } from '../parse';

export const rule: Rule = {
  name: 'attention-scale-mismatch',
  summary: 'scores scaled by sqrt(embed_dim) instead of sqrt(head_dim), not scaled, or scaled twice',
  defaultSeverity: 'warning',
  docs: {
    what: 'Follows the factor applied to q @ k^T (`/ math.sqrt(d)`, `* d ** -0.5`, a pre-scaled q, `torch.baddbmm`\'s `alpha`) and compares its base with the size of the contracted axis. Flags multi-head scores that reach softmax unscaled (unless a learned bias, as in T5, which folds the scale into its weights, was added), and queries pre-scaled before `F.scaled_dot_product_attention`, which scales again. A factor whose value is unknown (an attribute never assigned on the path analysed) may be the scale, so it silences the rule.',
    why: 'Scaled dot-product attention divides by sqrt(d_k), the per-head size. Dividing by sqrt(embed_dim) makes the softmax num_heads^0.5 times flatter; nothing raises.',
    example: 'scores = q @ k.transpose(-2, -1) / math.sqrt(self.embed_dim)',
    useInstead: 'scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))',
    fixSafety: 'Where the scale\'s base is written in the product\'s own expression (`/ math.sqrt(d)`, `* d ** -0.5`) and the product is `q @ k…`, `torch.matmul(q, k…)`, `torch.bmm(q, k…)` or `q.matmul(k…)` with a named query, the fix replaces that base with `q.size(-1)`, the contracted size: exact, marked safe. Unscaled multi-head scores get `q` scaled by `q.size(-1) ** -0.5` in the product: the standard scale, but it changes the model, so it is offered for review, never preferred. A scale set elsewhere (`self.scale`), an einsum or `torch.baddbmm` product, and a query scaled before `F.scaled_dot_product_attention` (whose `scale=` argument needs torch 2.1) get no fix.',
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
      if (s.multiHead && !sc && !s.learnedBias) {
        const q = queryOf(s.node);
        const fixes: Fix[] = q ? [{ title: `Scale ${q.text} by ${q.text}.size(-1) ** -0.5 (1/sqrt of the head dim)`, edits: [replaceNode(q, `(${q.text} * ${q.text}.size(-1) ** -0.5)`)] }] : [];
        ctx.report({ node: s.node, severity: ctx.severity(s.contraction), message: `multi-head attention scores reach softmax without the 1/sqrt(${ctx.fmt(s.contraction)}) scale`, fixes });
      }
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
    const q = queryOf(s.node);
    const baseNode = findScaleBase(t.scores.scaleNode);
    const fixes: Fix[] = baseNode && q ? [{ title: `Scale by 1/sqrt(${q.text}.size(-1)), the head dim`, edits: [replaceNode(baseNode, `${q.text}.size(-1)`)], safe: true }] : [];
    ctx.report({
      node: s.scaleNode ?? s.node,
      severity: ctx.severity(sc.base, s.contraction),
      message: `scores are scaled by 1/sqrt(${ctx.fmt(sc.base)}) but the contracted (head) dimension is ${ctx.fmt(s.contraction)}`,
      fixes,
    });
  },
};

/**
 * The named left operand of the product that made the scores, whose last axis is the contracted
 * one: `q` of `q @ k`, `torch.matmul(q, k)`, `torch.bmm(q, k)`, `q.matmul(k)`. Not for
 * `baddbmm`/`addmm` (the first argument is the added input) or einsum.
 */
function queryOf(n: Node): Node | undefined {
  let q: Node | null | undefined;
  if (n.type === 'binary_operator' && n.children.some((c) => c.type === '@')) q = n.childForFieldName('left');
  else if (n.type === 'call') {
    const fn = n.childForFieldName('function');
    const args = n.childForFieldName('arguments')?.namedChildren.filter((c) => c.type !== 'comment') ?? [];
    if (fn?.type !== 'attribute' || !/^(matmul|bmm|mm)$/.test(fn.childForFieldName('attribute')?.text ?? '') || args.some((a) => a.type === 'keyword_argument')) return undefined;
    if (args.length === 2) q = args[0];
    else if (args.length === 1) q = fn.childForFieldName('object');
  }
  return q?.type === 'identifier' ? q : undefined;
}

/** The base of the scale written in the scaling expression: `d` of `math.sqrt(d)`, of `d ** -0.5` and of `d ** 0.5` (divided by). */
function findScaleBase(n: Node | undefined): Node | undefined {
  if (!n) return undefined;
  let found: Node | undefined;
  const walk = (x: Node) => {
    if (found) return;
    if (x.type === 'call' && /sqrt$/.test(x.childForFieldName('function')?.text ?? '')) {
      const a = x.childForFieldName('arguments')?.namedChildren[0];
      if (a) found = a;
      return;
    }
    if (x.type === 'binary_operator' && x.children.some((c) => c.type === '**') && /^\(?\s*-?\s*0?\.5\s*\)?$/.test(x.childForFieldName('right')?.text ?? '')) {
      const a = x.childForFieldName('left');
      if (a) found = a;
      return;
    }
    for (const c of x.namedChildren) if (c) walk(c);
  };
  walk(n);
  return found;
}
