/** Rule: `attention-scale-mismatch`. See the docs below. */

import type { Fix, Rule, RuleContext, TextEdit } from '../diagnostics';
import { replaceNode } from '../diagnostics';
import type { Dim } from '../dims';
import { floorDiv, ratio } from '../dims';
import type { Node } from '../parse';
import type { ScaleFact, TensorV } from '../values';

export const rule: Rule = {
  name: 'attention-scale-mismatch',
  summary: 'scores scaled by something other than 1/sqrt(head_dim) (the embed dim, sqrt(d) instead of 1/sqrt(d), d instead of sqrt(d)), not scaled, or scaled twice',
  defaultSeverity: 'warning',
  docs: {
    what: 'Follows the factor applied to q @ k^T, on the scores or on `q` before the product (`/ math.sqrt(d)`, `* d ** -0.5`, `/ d_k`, `* (1.0 / k.size(-1))`, `self.scale = head_dim ** -0.5` set in `__init__` and applied as `q = q * self.scale` or `einsum(...) * self.scale`, `torch.baddbmm`\'s `alpha`), and checks it is 1/sqrt of the size of the contracted axis: a base that is another size (the embed dim, `n_heads * head_dim`, the heads axis `query.size(1)`), the right base with the wrong power (`head_dim ** 0.5`, `/ self.scale`, `* math.sqrt(d)`, `/ self.head_dim`), a positive power of any size (it enlarges the scores, whatever the head dim), or a number that is not 1/sqrt of a known head dim (`/ 8` for 16-wide heads), or any number where the head dim is a size the constructor\'s caller chooses (`/ 8` with `dim_head` a parameter: right for one choice only, a warning that names it). Symbolic sizes are enough: `dim ** -0.5` against heads of `dim // num_heads` is wrong for any width with more than one head. Flags multi-head scores that reach softmax unscaled (unless a learned bias, as in T5, which folds the scale into its weights, was added), and queries pre-scaled before `F.scaled_dot_product_attention`, which scales again. A factor whose value is unknown (a temperature, a learned logit scale, an attribute never assigned on the path analysed) may be the scale, so it silences the rule; so does a negative power other than -1/2 of a size whose value is unknown, which may be right for that one size.',
    why: 'Scaled dot-product attention divides by sqrt(d_k), the per-head size. Dividing by sqrt(embed_dim) makes the softmax num_heads^0.5 times flatter, multiplying by sqrt(d_k) makes it d_k times sharper, dividing by d_k makes it sqrt(d_k) times flatter; nothing raises.',
    example: 'self.scale = self.head_dim ** 0.5\n...\nq = q * self.scale\nattn = q @ k.transpose(-2, -1)',
    useInstead: 'self.scale = self.head_dim ** -0.5\n...\nq = q * self.scale\nattn = q @ k.transpose(-2, -1)',
    fixSafety: 'Each fix computes exactly 1/sqrt(head dim) and is marked safe; it edits the factor where it is written, in the file\'s own form: a right base with the power 0.5 gets `-0.5` (also in `__init__`), `/ d_k` and `1.0 / d_k` get `math.sqrt(d_k)` (or `d_k ** 0.5` where `math` is not imported), a division by a scale that is already 1/sqrt(d) becomes a product, `* math.sqrt(d)` becomes `/ math.sqrt(d)`. A wrong base is replaced with the contracted size read from the query where the factor is applied: `math.sqrt(C)` becomes `math.sqrt(q.size(-1))`, `/ 8` becomes `/ math.sqrt(q.size(-1))`, and `q = q * self.scale` with a wrong `self.scale` becomes `q = q * q.size(-1) ** -0.5`. Unscaled multi-head scores get `q` scaled by `q.size(-1) ** -0.5` in the product: the standard scale, but it changes the model, so it is offered for review, never preferred. A `torch.baddbmm` product, a query that is not a plain name, and a query scaled before `F.scaled_dot_product_attention` (whose `scale=` argument needs torch 2.1) get no fix.',
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
    if (!sc.base) return;
    const wrong = judge(sc, s.contraction, s.multiHead, t.axes?.map((a) => a.size) ?? [], ctx);
    if (!wrong) return;
    const at = s.scaleNode ?? s.node;
    const fixes = fixesFor(wrong, sc, t.scores, ctx);
    ctx.report({ node: at, severity: ctx.severity(sc.base, s.contraction), message: messageFor(wrong, sc, s.contraction, ctx), fixes });
  },
};

type Scores = NonNullable<TensorV['scores']>;

/** How a factor is wrong (see `judge`). */
type Wrong = 'power' | 'base' | 'value' | 'literal';

/**
 * How the factor `base ** exp` differs from 1/sqrt(contraction), when that is proven: `power`
 * when the base is the contracted size but the power is not -1/2 (`d ** 0.5`, `/ d`), `base`
 * when the power is -1/2 of another size (the embed dim, the heads axis), `value` when both are
 * numbers and the factor is another number (`/ 8` for 16-wide heads), or the factor is a positive
 * power of any size; `literal` when the factor is a number and the head dim a size the
 * constructor's caller chooses (`/ 8` with `dim_head` a parameter): right for one choice only.
 */
function judge(sc: ScaleFact, contraction: Dim, multiHead: boolean, axes: Dim[], ctx: RuleContext): Wrong | undefined {
  const base = sc.base!;
  const inverseRoot = Math.abs(sc.exp + 0.5) < 1e-9;
  // A number against a head dim the constructor's caller chooses (`/ 8` with `dim_head=64`):
  // right for one choice only (judged before any comparison at the defaults, which one of them
  // may satisfy).
  const num = ctx.value(base);
  if (num !== undefined && num > 0 && sc.exp < 0 && ctx.value(contraction) === undefined && ctx.chosen(contraction)) return 'literal';
  if (ctx.compare(base, contraction) === 'eq' || ctx.same(base, contraction)) return inverseRoot ? undefined : 'power';
  const bv = ctx.value(base);
  const cv = ctx.value(contraction);
  if (bv !== undefined && cv !== undefined) {
    if (bv <= 0 || cv <= 0) return undefined;
    const want = cv ** -0.5;
    return Math.abs(bv ** sc.exp - want) <= 1e-9 * want ? undefined : inverseRoot ? 'base' : 'value';
  }
  // A positive power of a size (sqrt(d_head), d) enlarges the scores, where 1/sqrt of any head
  // wider than one shrinks them; another negative power of an unknown size may be right for one
  // size only: not proven.
  if (!inverseRoot) return sc.exp > 0 && (bv === undefined || bv > 1) ? 'value' : undefined;
  if (ctx.compare(base, contraction) === 'ne') return 'base';
  const r = ratio(base, contraction);
  if (r !== undefined && r !== 1) return 'base';
  if (bv === undefined) {
    // embed_dim vs embed_dim // num_heads (or n_heads * head_dim vs head_dim): the base is the
    // contracted size times the head count, which differ whenever there is more than one head:
    // the scores have a heads axis, or the heads are folded into another axis (b * heads).
    const q = floorDiv(ctx.norm(base), ctx.norm(contraction));
    const t = q?.terms.length === 1 ? q.terms[0] : undefined;
    if (t && t.coef >= 1 && t.syms.length > 0 && t.syms.every(([, e]) => e > 0)) {
      const folded = axes.some((a) => ctx.norm(a).terms.some((x) => t.syms.every(([s]) => x.syms.some(([y, e]) => y === s && e > 0))));
      if (multiHead || folded) return 'base';
    }
    if (multiHead && ctx.fmt(contraction).startsWith(`${ctx.fmt(base)}//`)) return 'base';
  }
  return undefined;
}

function factorText(base: string, exp: number): string {
  if (Math.abs(exp + 0.5) < 1e-9) return `1/sqrt(${base})`;
  if (Math.abs(exp - 0.5) < 1e-9) return `sqrt(${base})`;
  if (exp === -1) return `1/${base}`;
  if (exp === 1) return base;
  if (exp === 0) return `1 (the powers of ${base} cancel)`;
  return `${base} ** ${exp}`;
}

function messageFor(wrong: Wrong, sc: ScaleFact, contraction: Dim, ctx: RuleContext): string {
  const d = ctx.fmt(contraction);
  if (wrong === 'literal') {
    const f = ctx.value(sc.base!)! ** sc.exp;
    const fits = f ** -2;
    const shown = Number.isInteger(fits) ? String(fits) : fits.toPrecision(4);
    return `scores are scaled by the number ${factorText(ctx.fmt(sc.base!), sc.exp)}, which is 1/sqrt(${shown}), but the contracted (head) dimension is ${d}, which the constructor's caller chooses: it is right only where ${d} == ${shown}`;
  }
  if (wrong === 'base') return `scores are scaled by 1/sqrt(${ctx.fmt(sc.base!)}) but the contracted (head) dimension is ${d}`;
  if (wrong === 'power' && Math.abs(sc.exp - 0.5) < 1e-9) return `scores are multiplied by sqrt(${d}) instead of divided by it (the head dim's scale is 1/sqrt(${d}))`;
  if (wrong === 'power' && sc.exp === -1) return `scores are divided by ${d}, the head dim itself, instead of by sqrt(${d})`;
  return `scores are scaled by ${factorText(ctx.fmt(sc.base!), sc.exp)} but the contracted (head) dimension is ${d}, whose scale is 1/sqrt(${d})`;
}

/** `math.sqrt(x)` where the file imports math (under the name it gives it), else `x ** 0.5`. */
function sqrtText(x: Node, ctx: RuleContext): string {
  const math = ctx.moduleAlias('math');
  if (math) return `${math}.sqrt(${x.text})`;
  return /^[\w.]+(\([^()]*\))?$/.test(x.text) ? `${x.text} ** 0.5` : `(${x.text}) ** 0.5`;
}

const operands = (n: Node | undefined) => (n?.type === 'binary_operator' ? { left: n.childForFieldName('left'), op: n.childForFieldName('operator')?.text ?? n.children[1]?.text, right: n.childForFieldName('right') } : undefined);
const before = (a: { row: number; column: number }, b: { row: number; column: number }) => a.row < b.row || (a.row === b.row && a.column <= b.column);
const within = (x: Node, n: Node) => before(n.startPosition, x.startPosition) && before(x.endPosition, n.endPosition);

/**
 * The fix for a proven wrong factor, written where the factor is: the exponent of a right base
 * turned to -0.5 (`head_dim ** 0.5`), the square root put back (`/ d_k` → `/ math.sqrt(d_k)`),
 * a division by a scale that is already 1/sqrt(d) turned into a product, and a wrong base
 * (`math.sqrt(embed_dim)`, `/ 8`) replaced with the contracted size read from the query. Each
 * computes exactly 1/sqrt(head dim), so they are safe.
 */
function fixesFor(wrong: Wrong, sc: ScaleFact, s: Scores, ctx: RuleContext): Fix[] {
  const at = s.scaleNode;
  const ap = operands(at);
  const written = sc.node;
  const fix = (title: string, edits: TextEdit[]): Fix[] => [{ title, edits, safe: true }];
  if (wrong === 'power' && Math.abs(sc.exp - 0.5) < 1e-9) {
    const w = operands(written);
    // `... / self.scale` where scale = d ** -0.5: multiply instead.
    if (ap && at && ap.op === '/' && ap.left && ap.right && w?.op === '**' && /^\(?\s*-/.test(w.right?.text ?? '') && !at.text.includes('\n')) {
      return fix('Multiply by the scale (it is already 1/sqrt of the head dim)', [replaceNode(at, `${ap.left.text} * ${ap.right.text}`)]);
    }
    if (w?.op === '**' && w.right && /^\(?\s*0?\.5\s*\)?$/.test(w.right.text)) return fix('Use the power -0.5 (1/sqrt of the head dim)', [replaceNode(w.right, '-0.5')]);
    // `scores * math.sqrt(d)`: divide instead.
    if (ap && at && ap.op === '*' && ap.left && ap.right && written && within(written, ap.right) && within(ap.right, written) && !at.text.includes('\n')) {
      return fix('Divide by the square root of the head dim', [replaceNode(at, `${ap.left.text} / ${ap.right.text}`)]);
    }
    return [];
  }
  if (wrong === 'power' && sc.exp === -1) {
    // `1.0 / d_k` written as one expression, or `/ d_k` applied to the scores.
    const w = operands(written);
    const divisor = w?.op === '/' && w.right ? w.right : ap?.op === '/' && ap.right ? ap.right : undefined;
    if (divisor) return fix(`Divide by the square root of ${divisor.text}`, [replaceNode(divisor, sqrtText(divisor, ctx))]);
    return [];
  }
  // A wrong base: read the contracted size from the query where the factor is applied.
  const q = queryName(s);
  if (!q || !at) return [];
  const base = findScaleBase(at);
  if (wrong === 'base' && base) return fix(`Scale by 1/sqrt(${q}.size(-1)), the head dim`, [replaceNode(base, `${q}.size(-1)`)]);
  if (ap?.right && (ap.op === '/' || ap.op === '*')) {
    const factor = ap.right;
    if (ap.op === '/' && (factor.type === 'integer' || factor.type === 'attribute' || factor.type === 'identifier') && factor.text !== q) return fix(`Scale by 1/sqrt(${q}.size(-1)), the head dim`, [replaceNode(factor, ctx.moduleAlias('math') ? `${ctx.moduleAlias('math')}.sqrt(${q}.size(-1))` : `${q}.size(-1) ** 0.5`)]);
    if (ap.op === '*' && (factor.type === 'attribute' || factor.type === 'identifier') && factor.text !== q) return fix(`Scale by ${q}.size(-1) ** -0.5 (1/sqrt of the head dim)`, [replaceNode(factor, `${q}.size(-1) ** -0.5`)]);
  }
  return [];
}

/**
 * The name whose last axis is the contracted one, in scope where the factor is applied: the
 * query of `q @ k…` (or of an einsum whose first operand ends with the contracted letter) when
 * the scores are scaled, the scaled operand itself when it is scaled before the product.
 */
function queryName(s: Scores): string | undefined {
  const q = queryOf(s.node) ?? einsumQuery(s.node);
  const at = s.scaleNode;
  if (!at || within(at, s.node) || within(s.node, at)) return q?.text;
  // Scaled before the product (`q = q * self.scale`): the operand scaled there.
  const ap = operands(at);
  const names = [ap?.left, ap?.right].filter((x): x is Node => x?.type === 'identifier').map((x) => x.text);
  return q && names.includes(q.text) ? q.text : undefined;
}

function einsumQuery(n: Node): Node | undefined {
  if (n.type !== 'call' || !/(^|\.)einsum$/.test(n.childForFieldName('function')?.text ?? '')) return undefined;
  const args = n.childForFieldName('arguments')?.namedChildren.filter((c) => c.type !== 'comment') ?? [];
  if (args.length !== 3 || args[0].type !== 'string' || args[1].type !== 'identifier') return undefined;
  const m = /^['"]([\w\s,]+)->([\w\s]*)['"]$/.exec(args[0].text);
  if (!m) return undefined;
  const first = m[1].split(',')[0].replace(/\s/g, '');
  const last = first[first.length - 1];
  return last && !m[2].includes(last) ? args[1] : undefined;
}

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
