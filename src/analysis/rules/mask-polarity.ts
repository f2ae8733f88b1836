/** Rule: `mask-polarity`. See the docs below. */

import type { Fix, Rule, TextEdit } from '../diagnostics';
import { replaceNode } from '../diagnostics';
import type { Node } from '../parse';
import { CAUSAL_HELPER } from '../semantics/attention';
import { triRegion, trueOnDiagonal } from '../semantics/facts';
import type { MaskTriangle, TensorV, Value } from '../values';
import { negated } from './util';

export const rule: Rule = {
  name: 'mask-polarity',
  summary: 'a boolean mask whose True means "attend" given where True means "ignore", or the reverse; a causal mask that hides the diagonal or the past',
  defaultSeverity: 'warning',
  docs: {
    what: 'Follows what True means in a boolean mask: `torch.triu(ones, 1)`, `tokens == pad` mark positions to ignore; `torch.tril(ones)` and `arange(S) < lengths` mark positions to keep (`>=` marks padding); `~`, `== 0` and `logical_not` flip it. `nn.MultiheadAttention` masks (and `masked_fill` with -inf or a large negative value) need True = ignore; `F.scaled_dot_product_attention` needs True = attend. A mask cut by one `triu`/`tril` from ones, True or -inf is followed cell by cell (the diagonal offset, the flips, through function returns and buffers): where it is used it must hide exactly the future (j > i), so `tril(…, diagonal=-1)` (the past) or `triu(…)` with diagonal 0 (each token from itself) is reported at the cut, as is a helper named for a causal mask (`subsequent_mask`) whose result is causal under neither convention. A `key_padding_mask` passed unchanged by a caller is reported at the caller\'s argument. A pairwise difference `m.unsqueeze(1) - m.unsqueeze(2)` (Swin\'s shifted-window mask of region ids) is 0 where query and key are the same position: filling its `== 0` cells with a large negative value hides every position from itself.',
    why: 'The two APIs use opposite conventions, and a triangle off by one diagonal or turned the other way runs without error: each query sees exactly the positions it should not, or the first query sees nothing (a row of -inf gives NaN).',
    example: 'causal = torch.tril(torch.ones(L, L, dtype=torch.bool))\nself.attn(x, x, x, attn_mask=causal)\nmask = torch.triu(torch.full((L, L), float("-inf")))\nscores = scores + mask',
    useInstead: 'self.attn(x, x, x, attn_mask=~causal)\nmask = torch.triu(torch.full((L, L), float("-inf")), diagonal=1)',
    fixSafety: 'Negating the mask with `~` (or removing a `~`) is exact for boolean masks. Where the mask is used, the cut that hides exactly j > i is exact (safe); for a helper judged at its return, both conventions are offered and neither is preferred.',
  },
  on: ['module-call', 'op', 'binary', 'return'],
  check(e, ctx) {
    /**
     * A mask cut from a constant by one `triu`/`tril`: the cells it hides where it is used must
     * be the future (j > i) and nothing else. True where the consumer reads True as "keep", it
     * hides the complement of its True cells; an additive mask hides its -inf cells. Returns
     * whether the triangle was judged (the polarity check below is then not needed).
     */
    const triangle = (mask: TensorV, node: Node | undefined, keepMeans: boolean, where: string): boolean => {
      const tri = mask.mask?.tri;
      if (!tri || (mask.dtype !== 'bool' && !mask.mask?.additive)) return false;
      const hidden = triRegion(tri, keepMeans);
      if (hidden.upper && hidden.diagonal === 1) return true;
      // The exact complement of the causal mask: the polarity is wrong, `~` repairs it.
      if (!hidden.upper && hidden.diagonal === 0 && node && !mask.mask?.additive) return false;
      const what = !hidden.upper
        ? `the past${hidden.diagonal >= 0 ? ' and each position itself' : ''} instead of the future`
        : hidden.diagonal <= 0
          ? `each position itself${hidden.diagonal < 0 ? ' and the past before it' : ''} as well as the future, so the first query sees nothing (NaN)`
          : `the future only from ${hidden.diagonal} positions ahead, so each query sees ${hidden.diagonal - 1} future position${hidden.diagonal === 2 ? '' : 's'}`;
      // The call that makes the consumer hide exactly j > i: the same cut if the mask reaches it
      // unflipped, its complement (`tril`, diagonal 0) otherwise.
      const same = tri.flipped === keepMeans;
      const text = triangleCall(tri.node, tri.method, same ? 'triu' : 'tril', same ? 1 : 0);
      ctx.report({
        node: tri.node,
        severity: 'warning',
        message: `this causal mask hides ${what} where ${where} uses it (a causal mask hides exactly the positions j > i)`,
        fixes: text ? [{ title: `Use ${same ? 'triu(…, diagonal=1)' : 'tril(…)'}`, edits: [replaceNode(tri.node, text)], safe: true }] : [],
      });
      return true;
    };
    if (e.kind === 'return') {
      // A causal-mask helper (`subsequent_mask`, `causal_mask`) returns a triangle that is
      // causal under neither convention: read as "True = ignore" it does not hide exactly
      // j > i, nor read as "True = attend".
      const m = e.value;
      const tri = m.kind === 'tensor' ? m.mask?.tri : undefined;
      if (!tri || m.kind !== 'tensor' || !CAUSAL_HELPER.test(e.function ?? '') || (m.dtype !== 'bool' && !m.mask?.additive)) return;
      const causal = (r: { upper: boolean; diagonal: number }) => r.upper && r.diagonal === 1;
      if (causal(triRegion(tri)) || (!m.mask?.additive && causal(triRegion(tri, true)))) return;
      const fixes = [true, false].filter((ignore) => ignore || !m.mask?.additive).flatMap((ignore) => {
        // Unflipped, "True = ignore" needs the cut to be triu(…, 1); flipped, tril(…).
        const cutUpper = ignore !== tri.flipped;
        const text = triangleCall(tri.node, tri.method, cutUpper ? 'triu' : 'tril', cutUpper ? 1 : 0);
        return text ? [{ title: `Use ${cutUpper ? 'triu(…, diagonal=1)' : 'tril(…)'} (the result True ${ignore ? 'at the future' : 'where attended'})`, edits: [replaceNode(tri.node, text)] }] : [];
      });
      ctx.report({
        node: tri.node,
        severity: 'warning',
        message: `${e.function} returns a mask that hides neither exactly the future (j > i) nor exactly the past and present: this cut keeps ${describe(triRegion(tri))} True`,
        fixes,
      });
      return;
    }
    const flag = (mask: Value | undefined, node: Node | undefined, want: 'ignore' | 'keep', where: string) => {
      if (mask?.kind === 'tensor' && triangle(mask, node, want === 'keep', where)) return;
      if (mask?.kind !== 'tensor' || mask.dtype !== 'bool' || !mask.mask || mask.mask.polarity === want) return;
      // A mask that a caller handed down unchanged: the caller's argument is what to negate.
      const via = mask.mask.via;
      if (via) node = via;
      ctx.report({
        node: via ?? e.node,
        severity: 'warning',
        message: `${where} expects True to mean "${want === 'ignore' ? 'ignore this position' : 'attend to this position'}", but this mask is True where positions should be ${want === 'ignore' ? 'kept' : 'ignored'}${mask.mask.why ? ` (${mask.mask.why})` : ''}`,
        fixes: node ? [{ title: 'Negate the mask', edits: [replaceNode(node, negated(node))] }] : [],
      });
    };
    if (e.kind === 'binary' && e.op === '+') {
      // scores + mask: an additive mask hides its -inf cells.
      const [m, t] = e.left.kind === 'tensor' && e.left.mask?.additive ? [e.left, e.right] : [e.right, e.left];
      if (m.kind === 'tensor' && m.mask?.additive && t.kind === 'tensor' && t.scores) triangle(m, undefined, false, 'the sum with the scores');
      return;
    }
    if (e.kind === 'module-call' && e.module.type === 'MultiheadAttention') {
      flag(e.kwargs.attn_mask ?? e.args[5], e.kwargNodes.attn_mask ?? e.argNodes[5], 'ignore', 'nn.MultiheadAttention attn_mask');
      flag(e.kwargs.key_padding_mask ?? e.args[3], e.kwargNodes.key_padding_mask ?? e.argNodes[3], 'ignore', 'nn.MultiheadAttention key_padding_mask');
    } else if (e.kind === 'op' && e.op === 'multi_head_attention_forward') {
      // The functional form shares the module's convention (key_padding_mask is argument 14, attn_mask 16).
      flag(e.kwargs.attn_mask ?? e.args[16], e.kwargNodes.attn_mask ?? e.argNodes[16], 'ignore', 'F.multi_head_attention_forward attn_mask');
      flag(e.kwargs.key_padding_mask ?? e.args[14], e.kwargNodes.key_padding_mask ?? e.argNodes[14], 'ignore', 'F.multi_head_attention_forward key_padding_mask');
    } else if (e.kind === 'op' && e.op === 'sdpa') {
      flag(e.kwargs.attn_mask ?? e.args[3], e.kwargNodes.attn_mask ?? e.argNodes[3], 'keep', 'F.scaled_dot_product_attention attn_mask');
    } else if (e.kind === 'op' && (e.op === 'masked_fill' || e.op === 'masked_fill_')) {
      const value = e.kwargs.value ?? e.args[2];
      const v = value?.kind === 'num' ? value.value : value?.kind === 'int' ? ctx.value(value.dim) : undefined;
      const maskNode = e.kwargNodes.mask ?? e.argNodes[1];
      if (v !== undefined && v <= -100 && trueOnDiagonal(e.kwargs.mask ?? e.args[1]) && maskNode) {
        // m.unsqueeze(1) - m.unsqueeze(2) is 0 where query and key are the same position: its
        // `== 0` cells include the diagonal, so filling them hides every position from itself.
        ctx.report({
          node: maskNode,
          severity: 'warning',
          message: `masked_fill with ${v === -Infinity ? '-inf' : v} where ${maskNode.text} hides each position from itself: the pairwise difference is 0 wherever query and key are the same position (the positions to keep are where it is 0)`,
          fixes: diagonalFix(e.node, maskNode),
        });
        return;
      }
      if (v === undefined || v > -1e3) return;
      flag(e.kwargs.mask ?? e.args[1], e.kwargNodes.mask ?? e.argNodes[1], 'ignore', `masked_fill with ${v === -Infinity ? '-inf' : v <= -1e30 ? "the dtype's lowest value" : v}`);
    }
  },
};

/**
 * `torch.triu(x, diagonal=1)` rewritten as `fn` with diagonal d (`x.tril()` in the method form);
 * undefined when the call has arguments other than the tensor and the diagonal.
 */
function triangleCall(n: Node, method: MaskTriangle['method'], fn: 'triu' | 'tril', d: number): string | undefined {
  const callee = n.childForFieldName('function');
  const list = n.childForFieldName('arguments');
  if (!callee || !list || !/tri[ul]$/.test(callee.text)) return undefined;
  const args = list.namedChildren.filter((c): c is Node => !!c && c.type !== 'comment');
  const positional = args.filter((c) => c.type !== 'keyword_argument');
  const keywords = args.filter((c) => c.type === 'keyword_argument').map((c) => c.childForFieldName('name')?.text);
  if (keywords.some((k) => k !== 'diagonal' && k !== 'input') || positional.length > (method ? 1 : 2)) return undefined;
  const input = method ? undefined : positional[0] ?? args.find((c) => c.childForFieldName('name')?.text === 'input')?.childForFieldName('value');
  if (!method && !input) return undefined;
  const name = callee.text.replace(/tri[ul]$/, fn);
  const diag = d === 0 ? '' : `diagonal=${d}`;
  return method ? `${name}(${diag})` : `${name}(${input!.text}${diag ? `, ${diag}` : ''})`;
}

/**
 * The fix for a fill keyed on `d == 0` of a pairwise difference: `d != 0`; when the call is
 * chained into the complementary fill (`.masked_fill(d != 0, 0.0)`, Swin's form), that one
 * becomes `d == 0`, so the pair still writes every cell once.
 */
function diagonalFix(call: Node, cond: Node): Fix[] {
  if (cond.type !== 'comparison_operator' || cond.namedChildren.length !== 2 || cond.children[1]?.type !== '==') return [];
  const d = cond.namedChildren[0]!.text;
  const edits: TextEdit[] = [replaceNode(cond, `${d} != ${cond.namedChildren[1]!.text}`)];
  // The complementary fill chained on the same line: `.masked_fill(d != 0, …)`.
  const chained = /^(\s*\.\s*masked_fill\(\s*)(\S(?:.*?\S)?)(\s*!=\s*)(0)\s*,/.exec(call.restOfLine);
  if (chained && chained[2] === d) {
    const column = call.endPosition.column + chained[1].length;
    const end = column + chained[2].length + chained[3].length + chained[4].length;
    const line = call.endPosition.row;
    edits.push({ range: { line, column, endLine: line, endColumn: end }, newText: `${d} == 0` });
  }
  return [{ title: edits.length === 2 ? 'Fill where the difference is not 0, and zero where it is' : 'Fill where the difference is not 0', edits, safe: true }];
}



function describe(r: { upper: boolean; diagonal: number }): string {
  return r.upper ? `j - i >= ${r.diagonal}` : `j - i <= ${r.diagonal}`;
}
