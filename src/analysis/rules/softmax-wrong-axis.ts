/** Rule: `softmax-wrong-axis`. See the docs below. */

import type { Fix, Rule } from '../diagnostics';
import type { OpEvent } from '../events';
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
    fixSafety: 'The fix replaces the softmax\'s literal `dim` with the axis the product with the values sums over: `-1` when the weights are the left operand of a matmul/bmm/`@`, `-2` when they are the right one. It is offered only where that axis is proven to be the same axis at the softmax: no permute or transpose between the two, and the written dim is the normalised axis (so no axis was inserted before it). It is then exact and marked safe. Einsum products, `nn.Softmax` modules and weights permuted on the way keep the finding without a fix. When the softmax normalised its last axis (the keys, by convention) and the weights reach the product unpermuted, the product is at fault: the finding is on it, with `w.transpose(-2, -1)` for the right operand of a matmul or the einsum term of the weights with its contracted letter and the normalised one swapped; not marked safe, since it changes which axis the values are summed over.',
  },
  on: ['op'],
  check(e, ctx) {
    if (e.kind === 'op' && e.info.softmaxOverQueries) {
      const { keyAxis, rank } = e.info.softmaxOverQueries;
      const dimNode = softmaxDimNode(e.node);
      const d = dimNode ? intLiteral(dimNode) : undefined;
      const written = d !== undefined && d < 0 ? keyAxis - rank : keyAxis;
      const fixes: Fix[] = dimNode && d !== undefined ? [{ title: `Use dim=${written} (the keys)`, edits: [replaceNode(dimNode, String(written))] }] : [];
      ctx.report({ node: e.node, severity: 'warning', message: `softmax normalises the queries of scores laid out with the keys on axis ${keyAxis} (the key projection is the left operand of the product): each query's weights must sum to one over the keys`, fixes });
      return;
    }
    if (e.kind !== 'op' || !e.info.softmaxMisused) return;
    const dims = e.args.flatMap((v) => (v.kind === 'tensor' && v.axes ? v.axes.map((a) => a.size) : []));
    const softmax = e.info.softmaxMisused;
    if (e.info.softmaxSummedOver !== undefined) {
      const t = e.args[0];
      const w = t?.kind === 'tensor' ? t.weightedOver : undefined;
      const summed = e.info.softmaxSummedOver;
      // The softmax's literal dim, rewritten to the summed axis in the same convention (counted
      // from the end when it was); same rank, so the index means the same axis there.
      const dimNode = softmaxDimNode(softmax);
      const d = dimNode ? intLiteral(dimNode) : undefined;
      const rank = t?.kind === 'tensor' ? t.axes?.length : undefined;
      const fixes: Fix[] = [];
      if (dimNode && d !== undefined && rank !== undefined && w && (d >= 0 ? d : rank + d) === w.axis) {
        const written = d < 0 ? summed - rank : summed;
        fixes.push({ title: `Use dim=${written} (the axis of the weighted sum)`, edits: [replaceNode(dimNode, String(written))] });
      }
      ctx.report({
        node: softmax,
        severity: 'warning',
        message: `softmax normalises axis ${w?.axis ?? '?'} but the weighted sum of its weights is over axis ${summed}: the weights of each output do not sum to one`,
        fixes,
      });
      return;
    }
    if (e.info.softmaxContractedWrong) {
      // The softmax followed the convention (its last axis: the keys); the product is what
      // sums over the queries, so that is where the finding and its fix go.
      ctx.report({
        node: e.node,
        severity: ctx.severity(...dims),
        message: `the product sums the attention weights over the queries, but the softmax that made them normalised their last axis, the keys`,
        fixes: contractionFix(e),
      });
      return;
    }
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

/**
 * The product's fix when the softmax is right: `v @ w` and `bmm(v, w)` sum the weights' second-to-
 * last axis, so `w.transpose(-2, -1)` makes them sum the normalised last one; an einsum's weights
 * term with one contracted letter swaps it with the normalised axis's letter. Shapes are unchanged
 * whenever the original product was well formed on square scores, and the weights then sum to
 * one over what the values are summed over.
 */
function contractionFix(e: OpEvent): Fix[] {
  if (e.op === 'matmul') {
    const w = e.argNodes[1];
    const t = e.args[1];
    if (!w || t?.kind !== 'tensor' || !t.normLast) return [];
    const text = /^[\w.]+$/.test(w.text) ? w.text : `(${w.text})`;
    return [{ title: `Use ${text}.transpose(-2, -1) (sum over the normalised keys)`, edits: [replaceNode(w, `${text}.transpose(-2, -1)`)], safe: false }];
  }
  if (e.op === 'einsum') {
    const eqNode = e.argNodes[0];
    const eq = e.args[0];
    if (!eqNode || eq?.kind !== 'str' || eqNode.type !== 'string') return [];
    const m = /^(\s*)([\w\s,]+?)(\s*->\s*)([\w\s]*)$/.exec(eq.value);
    if (!m) return [];
    const terms = m[2].split(',');
    const out = m[4].replace(/\s/g, '');
    const k = e.args.slice(1).findIndex((a) => a.kind === 'tensor' && a.normLast && a.normAxis !== undefined);
    if (k < 0 || k >= terms.length) return [];
    const letters = terms[k].replace(/\s/g, '');
    const w = e.args[k + 1] as TensorV;
    const norm = letters[w.normAxis!];
    const contracted = [...letters].filter((c) => !out.includes(c));
    if (!norm || contracted.length !== 1 || letters.split(norm).length !== 2) return [];
    const swapped = terms[k].replace(/\w/g, (c) => (c === norm ? contracted[0] : c === contracted[0] ? norm : c));
    const fixed = `${m[1]}${terms.map((t, i) => (i === k ? swapped : t)).join(',')}${m[3]}${m[4]}`;
    const quote = eqNode.text[0];
    if (!/^['"]$/.test(quote) || eqNode.text.slice(1, -1) !== eq.value) return [];
    return [{ title: `Use '${fixed}' (sum over the normalised keys)`, edits: [replaceNode(eqNode, `${quote}${fixed}${quote}`)], safe: false }];
  }
  return [];
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
