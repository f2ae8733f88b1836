/** Rule: `softmax-wrong-axis`. See the docs below. */

import type { Fix, Rule } from '../diagnostics';
import { replaceNode } from '../diagnostics';
import type { Node } from '../parse';
import type { TensorV, Value } from '../values';

export const rule: Rule = {
  name: 'softmax-wrong-axis',
  summary: 'attention weights normalised over one axis and contracted with the values over another',
  defaultSeverity: 'warning',
  docs: {
    what: 'Remembers which axis a softmax normalised (through transposes and permutes) and checks that the product with the values sums over that same axis.',
    why: 'Each query\'s weights must sum to one over the keys. Normalising over the queries (e.g. `dim=1` or `dim=-2` on (B, L, S) scores) runs without error and produces wrong attention.',
    example: 'attn = (q @ k.transpose(-2, -1)).softmax(dim=-2)\nout = attn @ v',
    useInstead: 'attn = (q @ k.transpose(-2, -1)).softmax(dim=-1)',
    fixSafety: 'The fix replaces the softmax\'s literal `dim` with the axis the product with the values sums over: `-1` when the weights are the left operand of a matmul/bmm/`@`, `-2` when they are the right one. It is offered only where that axis is proven to be the same axis at the softmax: no permute or transpose between the two, and the written dim is the normalised axis (so no axis was inserted before it). It is then exact and marked safe. Einsum products, `nn.Softmax` modules and weights permuted on the way keep the finding without a fix.',
  },
  on: ['op'],
  check(e, ctx) {
    if (e.kind !== 'op' || !e.info.softmaxMisused) return;
    const dims = e.args.flatMap((v) => (v.kind === 'tensor' && v.axes ? v.axes.map((a) => a.size) : []));
    const softmax = e.info.softmaxMisused;
    ctx.report({
      node: softmax,
      severity: ctx.severity(...dims),
      message: 'softmax normalises an axis that is not the one summed over with the values (normalising over queries instead of keys)',
      fixes: e.op === 'matmul' ? axisFix(softmax, e.args[0], e.args[1]) : [],
    });
  },
};

/**
 * The dim the softmax should have had, when provable. The product sums the left operand's last
 * axis and the right operand's second-to-last; the weights carry the axis they normalised in
 * today's layout (`normAxis`). Between the softmax and the product only layout-keeping
 * operations may have run: no permute (`permutes` is reset by the softmax), and the literal
 * dim must still name `normAxis` in today's rank (an `unsqueeze` or a broadcast in front
 * shifts both, one behind the axis or a positive dim after a shift does not match, and then
 * nothing is offered). A negative target (-1, -2) then names the same axis at the softmax.
 */
function axisFix(softmax: Node, l: Value | undefined, r: Value | undefined): Fix[] {
  const side = (t: Value | undefined, want: (t: TensorV) => number): { t: TensorV; target: number } | undefined => {
    if (t?.kind !== 'tensor' || !t.axes || t.softmaxNode !== softmax || t.normAxis === undefined || t.permutes) return undefined;
    const target = want(t);
    return t.normAxis !== target ? { t, target } : undefined;
  };
  const left = side(l, (t) => t.axes!.length - 1);
  const right = side(r, (t) => t.axes!.length - 2);
  if (!left === !right) return [];
  const { t, target } = (left ?? right)!;
  const rank = t.axes!.length;
  const dimNode = softmaxDimNode(softmax);
  const d = dimNode ? intLiteral(dimNode) : undefined;
  if (d === undefined || (d >= 0 ? d : rank + d) !== t.normAxis) return [];
  const newDim = target === rank - 1 ? -1 : -2;
  // -2 needs two axes at the softmax: a dim of 0 (normAxis 0 = rank - 2 is excluded) or ≤ -2 proves it.
  if (newDim === -2 && d === -1) return [];
  return [{ title: `Use dim=${newDim} (the axis summed with the values)`, edits: [replaceNode(dimNode!, String(newDim))], safe: true }];
}

/** The dim argument of `x.softmax(d)`, `F.softmax(x, d)`, `torch.softmax(x, dim=d)`. */
function softmaxDimNode(call: Node): Node | undefined {
  if (call.type !== 'call') return undefined;
  const args = call.childForFieldName('arguments')?.namedChildren.filter((c) => c.type !== 'comment') ?? [];
  for (const a of args) if (a.type === 'keyword_argument' && a.childForFieldName('name')?.text === 'dim') return a.childForFieldName('value') ?? undefined;
  const positional = args.filter((a) => a.type !== 'keyword_argument');
  // A method call's dim is its first argument, a function's its second (after the tensor).
  if (positional.length === 1) return positional[0];
  if (positional.length === 2) return positional[1];
  return undefined;
}

function intLiteral(n: Node): number | undefined {
  if (n.type === 'integer' && /^\d+$/.test(n.text)) return Number(n.text);
  if (n.type === 'unary_operator' && /^-\s*\d+$/.test(n.text)) return -Number(n.text.replace(/^-\s*/, ''));
  return undefined;
}
