/**
 * The rank of a parameter nobody passed, from what the function itself does with it.
 *
 * `def forward(self, q, k, v)` in a module no code calls gives `q` no shape by itself. The body
 * usually says more, further down: `q = self.q_proj(q)` then `b, n, c = q.shape`, or
 * `self._separate_heads(q, h)` whose first line unpacks three sizes, or an `nn.Conv2d` that
 * only takes batches of maps. This module follows a parameter through statements that keep its
 * rank (linear layers, norms, activations, dropout, elementwise arithmetic with numbers, the
 * layout methods) to the first place that fixes the rank, and reports that rank with the names
 * the code gives the axes. It is syntactic: the evaluator supplies what the callees are
 * (`RankEnv`), and seeds the parameter before the body runs.
 *
 * Only evidence counts: a parameter whose rank nothing in the body fixes stays of unknown rank.
 * Broadcasting with another tensor may raise the rank, so arithmetic keeps it only with numbers
 * or with values that themselves keep the parameter's rank.
 */

import { mayHoldStatements, type SyntaxNode as Node } from './syntax';

/** What calling a callee does to the rank of its first argument. */
export type CalleeRank =
  /** The result has the argument's rank; `sameShape`: and its shape (a norm, an activation). */
  | { kind: 'keep'; sameShape: boolean }
  /** The result has `by` axes more than the argument (an `nn.Embedding`): its rank, shifted. */
  | { kind: 'shift'; by: number }
  /** The argument must have this rank (a Conv2d's batch of maps), its axes named so. */
  | { kind: 'sink'; rank: number; names?: string[] }
  /** A function of the file: its parameter at `index` is followed into its body. */
  | { kind: 'function'; node: Node; index: number; env?: RankEnv };

export interface RankEnv {
  /** The callee of a call, as far as the rank of the argument at `index` goes. */
  callee(fn: Node, index: number): CalleeRank | undefined;
  /**
   * Whether an expression is a plain number (`self.scale`, `math.sqrt(d)`, `2`) or a tensor of
   * at most one axis (`self.gamma` of `dim` sizes): broadcasting either with a tensor of one
   * axis or more keeps that tensor's rank.
   */
  isNumber(n: Node): boolean;
}

export interface RankFact {
  rank: number;
  /** Axis names the code gives (`b, n, c = q.shape`), where it names them. */
  names?: (string | undefined)[];
}

/** Tensor methods whose result has the same shape as the tensor. */
const SAME_METHODS = new Set([
  'contiguous', 'float', 'half', 'double', 'bfloat16', 'to', 'type', 'type_as', 'clone', 'detach', 'requires_grad_',
  'softmax', 'log_softmax', 'sigmoid', 'tanh', 'relu', 'exp', 'sqrt', 'rsqrt', 'abs', 'neg', 'sin', 'cos', 'pow',
  'mul', 'div', 'add', 'sub', 'mul_', 'div_', 'add_', 'sub_', 'clamp', 'clamp_', 'sigmoid_', 'relu_', 'tanh_', 'exp_',
  'cumsum', 'cumprod', 'flip', 'roll', 'square', 'reciprocal', 'log', 'erf',
]);

/** `F.` / `torch.` functions whose result has the shape of their first argument. */
const SAME_FUNCTIONS = new Set([
  'gelu', 'relu', 'silu', 'elu', 'leaky_relu', 'mish', 'hardswish', 'hardsigmoid', 'sigmoid', 'tanh', 'dropout',
  'softmax', 'log_softmax', 'layer_norm', 'normalize', 'rms_norm', 'exp', 'sqrt', 'rsqrt', 'abs', 'sin', 'cos', 'erf',
  'relu6', 'softplus', 'celu', 'selu', 'group_norm', 'clamp', 'cumsum', 'roll', 'flip',
]);

/** Tensor methods that cut a tensor into pieces of its rank. */
const SPLIT_METHODS = new Set(['chunk', 'split', 'tensor_split']);

const MAX_DEPTH = 3;

const PARAMETER_TYPES = new Set(['identifier', 'default_parameter', 'typed_default_parameter', 'typed_parameter', 'list_splat_pattern', 'dictionary_splat_pattern']);

function unwrap(n: Node | null | undefined): Node | undefined {
  let x = n ?? undefined;
  while (x && x.type === 'parenthesized_expression') x = x.namedChildren[0] ?? undefined;
  return x;
}

function positionalArgs(call: Node): Node[] {
  const args = call.childForFieldName('arguments');
  return args ? args.namedChildren.filter((a): a is Node => !!a && a.type !== 'keyword_argument' && a.type !== 'comment') : [];
}

function isLiteralNumber(n: Node): boolean {
  const x = unwrap(n);
  if (!x) return false;
  if (x.type === 'integer' || x.type === 'float') return true;
  return x.type === 'unary_operator' && !!x.namedChildren[0] && isLiteralNumber(x.namedChildren[0]);
}

/** The einops pattern's input rank, when it has no ellipsis. */
function patternRank(s: string): RankFact | undefined {
  const left = s.split('->')[0];
  if (!left || left.includes('...') || left.includes('…')) return undefined;
  const names: (string | undefined)[] = [];
  let depth = 0;
  let group = false;
  for (const tok of left.match(/\(|\)|[A-Za-z_]\w*|\d+/g) ?? []) {
    if (tok === '(') {
      depth++;
      group = true;
      names.push(undefined);
    } else if (tok === ')') depth--;
    else if (depth === 0) names.push(/^\d+$/.test(tok) ? undefined : tok);
    else void group;
  }
  return names.length ? { rank: names.length, names } : undefined;
}

function parameters(fn: Node): Node[] {
  return fn.childForFieldName('parameters')?.namedChildren.filter((p): p is Node => !!p && PARAMETER_TYPES.has(p.type)) ?? [];
}

function parameterName(p: Node): string | undefined {
  if (p.type === 'list_splat_pattern' || p.type === 'dictionary_splat_pattern') return undefined;
  return p.type === 'identifier' ? p.text : p.childForFieldName('name')?.text ?? p.namedChildren.find((c) => c?.type === 'identifier')?.text;
}

function parameterIndex(fn: Node, name: string): number | undefined {
  const i = parameters(fn).findIndex((p) => parameterName(p) === name);
  return i < 0 ? undefined : i;
}

interface Flow {
  /** Names that hold the parameter (or a value of its rank), and whether of its shape. */
  names: Map<string, boolean>;
  /**
   * The rank of a followed name minus the parameter's, where it is not 0:
   * `q = self.q_proj(x).view(*x.shape[:-1], -1, d)` has one axis more than `x`.
   */
  shifts: Map<string, number>;
  /** Names of shape tuples whose length is the parameter's rank plus this (`s = x.shape[:-1]`: -1). */
  sizes: Map<string, number>;
  /** Followed names whose axes are not the parameter's in order (`h = x.transpose(0, 1)`). */
  anon: Set<string>;
  /**
   * Names of the pieces of a followed value (`qkv = self.to_qkv(x).chunk(3, dim=-1)`): each of
   * its rank, shifted by this many axes, and whether its axes may be in another order.
   */
  pieces: Map<string, { shift: number; anon: boolean }>;
}

/** Tensor methods whose result has the rank (not the shape) of the tensor. */
const RANK_METHODS = new Set(['transpose', 'swapaxes', 'swapdims', 'repeat_interleave']);

/** Reductions that keep the reduced axes as size 1 with `keepdim=True`: the rank is kept. */
const KEEPDIM_REDUCTIONS = new Set(['mean', 'sum', 'amax', 'amin', 'std', 'var', 'norm', 'logsumexp', 'prod']);

/** Whether a call passes `keepdim=True`. */
function keepsDims(call: Node): boolean {
  return (call.childForFieldName('arguments')?.namedChildren ?? []).some((a) => a?.type === 'keyword_argument' && a.childForFieldName('name')?.text === 'keepdim' && a.childForFieldName('value')?.text === 'True');
}

/** Tensor methods that take the result's sizes: `view(*s, -1, d)`, `reshape(s)`. */
const VIEW_METHODS = new Set(['view', 'reshape']);

class Scan {
  constructor(
    private readonly env: RankEnv,
    private readonly depth: number,
  ) {}

  /** Same rank as a followed value? undefined: no; else whether the shape is the same. */
  keeps(e: Node | undefined, flow: Flow): boolean | undefined {
    const x = unwrap(e);
    if (!x) return undefined;
    switch (x.type) {
      case 'identifier':
        return flow.names.get(x.text);
      case 'binary_operator': {
        const op = x.childForFieldName('operator')?.text ?? '';
        if (!['+', '-', '*', '/', '//', '**', '%'].includes(op)) return undefined;
        const l = x.childForFieldName('left');
        const r = x.childForFieldName('right');
        const kl = l ? this.keeps(l, flow) : undefined;
        const kr = r ? this.keeps(r, flow) : undefined;
        const num = (n: Node | null) => !!n && (isLiteralNumber(n) || this.env.isNumber(n));
        // Two followed values of different ranks broadcast to the larger one, which is not known here.
        if (kl !== undefined && kr !== undefined && this.shift(l!, flow) !== this.shift(r!, flow)) return undefined;
        if (kl !== undefined && (kr !== undefined || num(r))) return kl && (kr ?? true);
        if (kr !== undefined && num(l) && op !== '**') return kr;
        return undefined;
      }
      case 'unary_operator': {
        const a = x.namedChildren[0];
        return a ? this.keeps(a, flow) : undefined;
      }
      case 'subscript': {
        // `idx[:, -n:]`, `x[..., :d]`: slices only keep every axis (not its size).
        const v = x.childForFieldName('value');
        const items = x.childrenForFieldName('subscript');
        if (!v || items.length === 0 || !items.every((c) => c.type === 'slice' || c.type === 'ellipsis')) return undefined;
        return this.keeps(v, flow) !== undefined ? false : undefined;
      }
      case 'conditional_expression': {
        // `x.mul_(g) if inplace else x * g`: either branch's value, so both must keep the rank.
        const [a, , b] = x.namedChildren;
        const ka = a ? this.keeps(a, flow) : undefined;
        const kb = b ? this.keeps(b, flow) : undefined;
        return ka === undefined || kb === undefined || this.shift(a!, flow) !== this.shift(b!, flow) ? undefined : ka && kb;
      }
      case 'call': {
        const fn = x.childForFieldName('function');
        if (!fn) return undefined;
        const args = positionalArgs(x);
        if (fn.type === 'attribute') {
          const obj = fn.childForFieldName('object');
          const name = fn.childForFieldName('attribute')?.text ?? '';
          // A method of a followed tensor.
          const k = obj ? this.keeps(obj, flow) : undefined;
          if (k !== undefined) {
            if (SAME_METHODS.has(name)) return k;
            if (RANK_METHODS.has(name) || (KEEPDIM_REDUCTIONS.has(name) && keepsDims(x))) return false;
            return VIEW_METHODS.has(name) && this.viewSizes(x, flow) !== undefined ? false : undefined;
          }
          const path = fn.text;
          if (/^(F|torch|torch\.nn\.functional|nn\.functional)\.\w+$/.test(path) && SAME_FUNCTIONS.has(name)) return args[0] ? this.keeps(args[0], flow) : undefined;
          // `torch.mean(x * x, dim=-1, keepdim=True)`.
          if (/^torch\.\w+$/.test(path) && KEEPDIM_REDUCTIONS.has(name) && keepsDims(x)) return args[0] && this.keeps(args[0], flow) !== undefined ? false : undefined;
        }
        if (!args[0]) return undefined;
        const k0 = this.keeps(args[0], flow);
        if (k0 === undefined) return undefined;
        const c = this.env.callee(fn, 0);
        if (c?.kind === 'keep') return k0 && c.sameShape;
        if (c?.kind === 'shift') return false;
        if (c?.kind === 'function' && this.depth < MAX_DEPTH) {
          const r = scan(c.env ?? this.env, this.depth + 1, c.node, c.index);
          if (r?.returns !== undefined) return k0 && r.returns;
        }
        return undefined;
      }
      default:
        return undefined;
    }
  }

  /**
   * Whether the axes of a value `keeps` follows may be the parameter's in another order or
   * split differently (a transpose, a view): its rank is evidence, the names its use gives are not.
   */
  anon(e: Node, flow: Flow): boolean {
    const x = unwrap(e);
    if (!x) return false;
    switch (x.type) {
      case 'identifier':
        return flow.anon.has(x.text);
      case 'binary_operator': {
        const l = x.childForFieldName('left');
        const r = x.childForFieldName('right');
        return (!!l && this.keeps(l, flow) !== undefined && this.anon(l, flow)) || (!!r && this.keeps(r, flow) !== undefined && this.anon(r, flow));
      }
      case 'unary_operator':
        return !!x.namedChildren[0] && this.anon(x.namedChildren[0], flow);
      case 'conditional_expression':
        return x.namedChildren.some((c) => !!c && this.keeps(c, flow) !== undefined && this.anon(c, flow));
      case 'call': {
        const fn = x.childForFieldName('function');
        if (fn?.type === 'attribute') {
          const obj = fn.childForFieldName('object');
          if (obj && this.keeps(obj, flow) !== undefined) {
            const name = fn.childForFieldName('attribute')?.text ?? '';
            return RANK_METHODS.has(name) || VIEW_METHODS.has(name) || this.anon(obj, flow);
          }
        }
        const a = positionalArgs(x)[0];
        return !!a && this.anon(a, flow);
      }
      default:
        return false;
    }
  }

  /** How many axes a value `keeps` follows has more than the parameter (negative: fewer). */
  shift(e: Node, flow: Flow): number {
    const x = unwrap(e);
    if (!x) return 0;
    switch (x.type) {
      case 'identifier':
        return flow.shifts.get(x.text) ?? 0;
      case 'binary_operator': {
        const l = x.childForFieldName('left');
        const r = x.childForFieldName('right');
        return l && this.keeps(l, flow) !== undefined ? this.shift(l, flow) : r ? this.shift(r, flow) : 0;
      }
      case 'unary_operator':
        return x.namedChildren[0] ? this.shift(x.namedChildren[0], flow) : 0;
      case 'conditional_expression':
        return x.namedChildren[0] ? this.shift(x.namedChildren[0], flow) : 0;
      case 'call': {
        const fn = x.childForFieldName('function');
        if (fn?.type === 'attribute') {
          const obj = fn.childForFieldName('object');
          if (obj && this.keeps(obj, flow) !== undefined) {
            const name = fn.childForFieldName('attribute')?.text ?? '';
            return VIEW_METHODS.has(name) ? this.viewSizes(x, flow) ?? 0 : this.shift(obj, flow);
          }
        }
        const a = positionalArgs(x)[0];
        if (!a) return 0;
        const c = fn && this.keeps(a, flow) !== undefined ? this.env.callee(fn, 0) : undefined;
        return this.shift(a, flow) + (c?.kind === 'shift' ? c.by : 0);
      }
      default:
        return 0;
    }
  }

  /**
   * The length of a tuple of sizes relative to the parameter's rank, where it spreads a shape
   * of a followed value: `x.shape[:-1]` (-1), `(*s, -1, d)` (s's + 2).
   */
  sizesOf(e: Node, flow: Flow): number | undefined {
    const x = unwrap(e);
    if (!x) return undefined;
    if (x.type === 'identifier') return flow.sizes.get(x.text);
    if (x.type === 'subscript') {
      // `y.shape[:-k]`, `y.size()[:-k]`.
      const v = x.childForFieldName('value');
      const sl = x.childForFieldName('subscript');
      const m = sl?.type === 'slice' ? /^:\s*-\s*(\d+)$/.exec(sl.text) : null;
      if (!v || !m) return undefined;
      let t: Node | undefined;
      if (v.type === 'attribute' && v.childForFieldName('attribute')?.text === 'shape') t = v.childForFieldName('object') ?? undefined;
      else if (v.type === 'call' && positionalArgs(v).length === 0) {
        const f = v.childForFieldName('function');
        if (f?.type === 'attribute' && f.childForFieldName('attribute')?.text === 'size') t = f.childForFieldName('object') ?? undefined;
      }
      if (!t || this.keeps(t, flow) === undefined) return undefined;
      return this.shift(t, flow) - Number(m[1]);
    }
    if (x.type === 'tuple' || x.type === 'list') return this.itemsSizes(x.namedChildren.filter((c): c is Node => !!c), flow);
    return undefined;
  }

  /** Items of a size tuple or argument list: one spread of followed sizes, the rest one each. */
  private itemsSizes(items: Node[], flow: Flow): number | undefined {
    let spread: number | undefined;
    let rest = 0;
    for (const it of items) {
      if (it.type === 'list_splat') {
        const inner = it.namedChildren[0];
        const n = inner ? this.sizesOf(inner, flow) : undefined;
        if (n === undefined || spread !== undefined) return undefined;
        spread = n;
      } else if (it.type === 'keyword_argument' || it.type === 'comment') continue;
      else rest++;
    }
    return spread === undefined ? undefined : spread + rest;
  }

  /** `t.view(*x.shape[:-1], -1, d)` / `t.view(hidden_shape)`: the result's rank relative to the parameter's. */
  viewSizes(call: Node, flow: Flow): number | undefined {
    const args = call.childForFieldName('arguments')?.namedChildren.filter((a): a is Node => !!a && a.type !== 'comment' && a.type !== 'keyword_argument') ?? [];
    if (args.length === 1 && args[0].type !== 'list_splat') return this.sizesOf(args[0], flow);
    return this.itemsSizes(args, flow);
  }

  /** Evidence from one use of a followed value: the call or unpacking it sits in. */
  private evidenceAt(use: Node, up: Node[], flow: Flow, same = flow.names.get(use.text)!): RankFact | undefined {
    // up: the ancestors, nearest last.
    const parent = up[up.length - 1];
    const grand = up[up.length - 2];
    const great = up[up.length - 3];
    if (!parent) return undefined;
    const named = (names: (string | undefined)[]): RankFact => ({ rank: names.length, names: same ? names : [...names.slice(0, -1), undefined] });
    // `y[:, None, :].repeat(h, 1, 1)`: slices without an ellipsis need at least as many axes,
    // the result has y's axes and one per None, and `repeat`/`expand` take at most as many axes
    // as sizes; an index of as many items as there are sizes leaves y exactly its slices.
    // `pad_mask[:, None, None, :]`: a mask indexed into the four axes of (B, H, L, S) scores has
    // exactly its slices' axes (with more, it would not broadcast against the scores).
    if (parent.type === 'subscript' && parent.childForFieldName('value') === use && /mask/i.test(use.text)) {
      const items = parent.childrenForFieldName('subscript');
      if (items.length === 4 && items.some((c) => c.type === 'none') && items.every((c) => c.type === 'none' || (c.type === 'slice' && c.namedChildren.length === 0))) return { rank: items.filter((c) => c.type !== 'none').length };
    }
    if (parent.type === 'subscript' && parent.childForFieldName('value') === use && grand?.type === 'attribute' && great?.type === 'call') {
      const items = parent.childrenForFieldName('subscript');
      const method = grand.childForFieldName('attribute')?.text;
      if ((method === 'repeat' || method === 'expand') && items.length > 0 && items.every((c) => c.type === 'slice' || c.type === 'none')) {
        const args = positionalArgs(great);
        const sizes = args.length === 1 && (args[0].type === 'tuple' || args[0].type === 'list') ? args[0].namedChildren.filter((c): c is Node => !!c) : args;
        if (sizes.length === items.length && !sizes.some((s) => s.type === 'list_splat')) return { rank: items.filter((c) => c.type !== 'none').length };
      }
      return undefined;
    }
    // `b, n, c = y.shape` / `y.size()`.
    if (parent.type === 'attribute' && parent.childForFieldName('object') === use) {
      const attr = parent.childForFieldName('attribute')?.text;
      let value: Node = parent;
      let asg = grand;
      if (attr === 'size' && grand?.type === 'call' && positionalArgs(grand).length === 0) {
        value = grand;
        asg = great;
      } else if (attr !== 'shape') {
        // `y.permute(0, 2, 1)` names every axis once.
        if (attr === 'permute' && grand?.type === 'call') {
          const args = positionalArgs(grand);
          if (args.length > 1 && args.every((a) => isLiteralNumber(a))) return { rank: args.length };
        }
        return undefined;
      }
      if (asg?.type === 'assignment' && asg.childForFieldName('right') === value) {
        const left = asg.childForFieldName('left');
        if (left && (left.type === 'pattern_list' || left.type === 'tuple_pattern' || left.type === 'list_pattern')) {
          const targets = left.namedChildren.filter((t): t is Node => !!t);
          if (targets.every((t) => t.type === 'identifier')) return named(targets.map((t) => (t.text === '_' ? undefined : t.text)));
        }
      }
      return undefined;
    }
    // `map(lambda t: rearrange(t, 'b n (h d) -> b h n d', h=h), (q, k, v))`: the lambda's
    // parameter takes each item, so its evidence is the item's.
    if ((parent.type === 'tuple' || parent.type === 'list') && grand?.type === 'argument_list' && great?.type === 'call' && great.childForFieldName('function')?.text === 'map' && this.depth < MAX_DEPTH) {
      const [fn, items] = positionalArgs(great);
      if (fn?.type === 'lambda' && items === parent && parameters(fn).length === 1) {
        const r = scan(this.env, this.depth + 1, fn, 0);
        if (r?.fact) return same ? r.fact : { rank: r.fact.rank, names: r.fact.names ? [...r.fact.names.slice(0, -1), undefined] : undefined };
      }
      return undefined;
    }
    // An argument of a call, by position or by keyword (`self.attn(q=queries)`).
    const byKeyword = parent.type === 'keyword_argument' && parent.childForFieldName('value') === use && grand?.type === 'argument_list' && great?.type === 'call';
    if ((parent.type === 'argument_list' && grand?.type === 'call') || byKeyword) {
      const call = byKeyword ? great! : grand!;
      const fn = call.childForFieldName('function');
      const index = positionalArgs(call).indexOf(use);
      if (!fn) return undefined;
      if (byKeyword) {
        const key = parent.childForFieldName('name')?.text ?? '';
        const mhaIndex = ['query', 'key', 'value'].indexOf(key);
        if (mhaIndex >= 0) {
          const m = this.env.callee(fn, mhaIndex);
          if (m?.kind === 'sink' && m.rank === 3) return m.names ? { rank: 3, names: same ? m.names : [...m.names.slice(0, -1), undefined] } : { rank: 3 };
        }
        const c = this.env.callee(fn, 0);
        if (c?.kind !== 'function') return undefined;
        const i = parameterIndex(c.node, parent.childForFieldName('name')?.text ?? '');
        if (i === undefined) return undefined;
        const r = scan(c.env ?? this.env, this.depth + 1, c.node, i);
        if (!r?.fact || this.depth >= MAX_DEPTH) return undefined;
        return same ? r.fact : { rank: r.fact.rank, names: r.fact.names ? [...r.fact.names.slice(0, -1), undefined] : undefined };
      }
      if (index < 0) return undefined;
      const name = fn.type === 'attribute' ? fn.childForFieldName('attribute')?.text : fn.text;
      if ((name === 'rearrange' || name === 'reduce' || name === 'repeat') && index === 0) {
        const p = positionalArgs(call)[1];
        if (p?.type === 'string') {
          const r = patternRank(p.text.replace(/^[a-z]*["']|["']$/g, ''));
          if (r) return named(r.names ?? []);
        }
        return undefined;
      }
      const c = this.env.callee(fn, index);
      if (c?.kind === 'sink') return c.names ? { rank: c.rank, names: same ? c.names : [...c.names.slice(0, -1), undefined] } : { rank: c.rank };
      if (c?.kind === 'function' && this.depth < MAX_DEPTH) {
        const r = scan(c.env ?? this.env, this.depth + 1, c.node, c.index);
        if (r?.fact) return same ? r.fact : { rank: r.fact.rank, names: r.fact.names ? [...r.fact.names.slice(0, -1), undefined] : undefined };
      }
    }
    return undefined;
  }

  /**
   * Follows the parameter at `index` (counting `self`) through the function's body: the first
   * evidence of its rank, and whether its value reaches a `return` with its rank (its shape).
   */
  param(fn: Node, index: number): { fact?: RankFact; returns?: boolean } | undefined {
    const p = parameters(fn)[index];
    const pname = p ? parameterName(p) : undefined;
    if (!pname) return undefined;
    const body = fn.childForFieldName('body');
    if (!body) return undefined;
    const flow: Flow = { names: new Map([[pname, true]]), shifts: new Map(), sizes: new Map(), anon: new Set(), pieces: new Map() };
    let fact: RankFact | undefined;
    let returns: boolean | undefined;
    const up: Node[] = [];
    // Where each followed name next occurs in the text (nodes come mostly in text order): an
    // expression that mentions none of them gives no evidence, and holds no assignment.
    const next = new Map<string, { text: string; from: number; at: number }>();
    const occurs = (name: string, text: string, s: number, e: number): boolean => {
      let c = next.get(name);
      if (!c || c.text !== text || s < c.from || c.at < s) {
        const i = text.indexOf(name, s);
        next.set(name, (c = { text, from: s, at: i < 0 ? Infinity : i }));
      }
      return c.at < e;
    };
    const mentions = (n: Node): boolean => {
      const text = n.itemText;
      const s = n.startOffset;
      const e = n.endOffset;
      for (const k of flow.names.keys()) if (occurs(k, text, s, e)) return true;
      for (const k of flow.pieces.keys()) if (occurs(k, text, s, e)) return true;
      for (const k of flow.sizes.keys()) if (occurs(k, text, s, e)) return true;
      return false;
    };
    const visit = (n: Node): void => {
      if (fact && returns !== undefined) return;
      if (n.type === 'function_definition' || n.type === 'class_definition' || n.type === 'lambda') return;
      if (n.type !== 'assignment' && !mayHoldStatements(n.type) && !mentions(n)) return;
      if (n.type === 'assignment') {
        const right = n.childForFieldName('right');
        up.push(n);
        if (right) visit(right);
        up.pop();
        this.assign(n, flow);
        return;
      }
      if (n.type === 'return_statement') {
        const v = n.namedChildren[0];
        if (v) {
          up.push(n);
          visit(v);
          up.pop();
          const k = this.shift(v, flow) === 0 ? this.keeps(v, flow) : undefined;
          if (returns === undefined) returns = k;
          else if (k === undefined) returns = undefined;
          else returns = returns && k;
        }
        return;
      }
      if (n.type === 'identifier' && !fact && flow.pieces.has(n.text)) {
        // `map(lambda t: rearrange(t, 'b n (h d) -> b h n d', h=h), qkv)`: each piece is the
        // lambda's parameter, of the followed value's rank (not its shape).
        const e = this.mapped(n, up);
        const piece = flow.pieces.get(n.text)!;
        if (e) fact = shifted({ rank: e.rank, names: e.names ? [...e.names.slice(0, -1), undefined] : undefined }, piece.shift, piece.anon);
        return;
      }
      if (n.type === 'identifier' && !fact && flow.names.has(n.text)) {
        const e = this.evidenceAt(n, up, flow);
        if (e) fact = shifted(e, this.shift(n, flow), this.anon(n, flow));
        return;
      }
      // A value computed from a followed one with its rank (`self.norm1(x)`, `x * 2`) is
      // evidence where it is used: `self.attn(self.norm1(x))` passes x's rank to attn's input.
      if (!fact && (n.type === 'call' || n.type === 'binary_operator' || n.type === 'unary_operator')) {
        const k = this.keeps(n, flow);
        if (k !== undefined) {
          const e = this.evidenceAt(n, up, flow, k);
          if (e) fact = shifted(e, this.shift(n, flow), this.anon(n, flow));
        }
      }
      up.push(n);
      for (const c of n.namedChildren) if (c) visit(c);
      up.pop();
    };
    visit(body);
    return { fact, returns };
  }

  /** The evidence a `map(lambda t: ..., items)` gives for each of `items`, the use at hand. */
  private mapped(use: Node, up: Node[]): RankFact | undefined {
    const parent = up[up.length - 1];
    const call = up[up.length - 2];
    if (parent?.type !== 'argument_list' || call?.type !== 'call' || call.childForFieldName('function')?.text !== 'map' || this.depth >= MAX_DEPTH) return undefined;
    const [fn, items] = positionalArgs(call);
    if (fn?.type !== 'lambda' || items !== use || parameters(fn).length !== 1) return undefined;
    return scan(this.env, this.depth + 1, fn, 0)?.fact;
  }

  /** A `chunk`/`split`/`tensor_split` of a followed value: pieces of its rank. */
  private splits(e: Node, flow: Flow): boolean {
    const x = unwrap(e);
    const fn = x?.type === 'call' ? x.childForFieldName('function') : undefined;
    if (fn?.type !== 'attribute' || !SPLIT_METHODS.has(fn.childForFieldName('attribute')?.text ?? '')) return false;
    const obj = fn.childForFieldName('object');
    return !!obj && this.keeps(obj, flow) !== undefined;
  }

  private assign(asg: Node, flow: Flow): void {
    const left = asg.childForFieldName('left');
    let right = asg.childForFieldName('right');
    if (!left || !right) return;
    // `q = k = f(x)`: the innermost value binds every target.
    const targets: Node[] = [left];
    while (right.type === 'assignment') {
      const l = right.childForFieldName('left');
      if (l) targets.push(l);
      right = right.childForFieldName('right')!;
      if (!right) return;
    }
    for (const t of targets) {
      if (t.type === 'identifier') flow.pieces.delete(t.text);
      if (t.type === 'identifier' && this.splits(right, flow)) {
        const obj = unwrap(right)!.childForFieldName('function')!.childForFieldName('object')!;
        flow.pieces.set(t.text, { shift: this.shift(obj, flow), anon: this.anon(obj, flow) });
        flow.names.delete(t.text);
        flow.shifts.delete(t.text);
        flow.sizes.delete(t.text);
        flow.anon.delete(t.text);
      } else if (t.type === 'identifier') {
        const k = this.keeps(right, flow);
        const d = k === undefined ? 0 : this.shift(right, flow);
        const sizes = this.sizesOf(right, flow);
        if (k !== undefined && this.anon(right, flow)) flow.anon.add(t.text);
        else flow.anon.delete(t.text);
        if (k === undefined) flow.names.delete(t.text);
        else flow.names.set(t.text, k);
        if (d === 0) flow.shifts.delete(t.text);
        else flow.shifts.set(t.text, d);
        if (sizes === undefined) flow.sizes.delete(t.text);
        else flow.sizes.set(t.text, sizes);
      } else if ((t.type === 'pattern_list' || t.type === 'tuple_pattern') && (right.type === 'expression_list' || right.type === 'tuple')) {
        const ts = t.namedChildren.filter((x): x is Node => !!x);
        const vs = right.namedChildren.filter((x): x is Node => !!x);
        const ks = vs.map((v) => this.keeps(v, flow));
        ts.forEach((x, i) => {
          if (x.type !== 'identifier') return;
          const k = ts.length === vs.length ? ks[i] : undefined;
          const d = k === undefined ? 0 : this.shift(vs[i], flow);
          if (k !== undefined && this.anon(vs[i], flow)) flow.anon.add(x.text);
          else flow.anon.delete(x.text);
          if (k === undefined) flow.names.delete(x.text);
          else flow.names.set(x.text, k);
          if (d === 0) flow.shifts.delete(x.text);
          else flow.shifts.set(x.text, d);
          flow.sizes.delete(x.text);
        });
      } else if ((t.type === 'pattern_list' || t.type === 'tuple_pattern') && this.splits(right, flow)) {
        // `q, k, v = self.to_qkv(x).chunk(3, dim=-1)`: each piece has the rank, not the shape.
        const obj = unwrap(right)!.childForFieldName('function')!.childForFieldName('object')!;
        const d = this.shift(obj, flow);
        const anon = this.anon(obj, flow);
        for (const x of t.namedChildren) {
          if (x?.type !== 'identifier') continue;
          flow.names.set(x.text, false);
          if (anon) flow.anon.add(x.text);
          else flow.anon.delete(x.text);
          if (d === 0) flow.shifts.delete(x.text);
          else flow.shifts.set(x.text, d);
        }
      } else if (t.type === 'pattern_list' || t.type === 'tuple_pattern') {
        for (const x of t.namedChildren) {
          if (x?.type !== 'identifier') continue;
          flow.names.delete(x.text);
          flow.shifts.delete(x.text);
          flow.sizes.delete(x.text);
          flow.anon.delete(x.text);
        }
      }
    }
  }
}

/**
 * What following a parameter finds, once per environment: the callees an environment resolves
 * do not change while it is in use, and a module's `forward` is followed from many call sites.
 */
const scans = new WeakMap<RankEnv, WeakMap<Node, Map<string, { fact?: RankFact; returns?: boolean } | undefined>>>();

function scan(env: RankEnv, depth: number, fn: Node, index: number): { fact?: RankFact; returns?: boolean } | undefined {
  let byFn = scans.get(env);
  if (!byFn) scans.set(env, (byFn = new WeakMap()));
  let memo = byFn.get(fn);
  if (!memo) byFn.set(fn, (memo = new Map()));
  const key = `${index}:${depth}`;
  if (memo.has(key)) return memo.get(key);
  const r = new Scan(env, depth).param(fn, index);
  memo.set(key, r);
  return r;
}

/** Evidence for a value with `shift` axes more than the parameter: the parameter's rank, unnamed. */
function shifted(e: RankFact, shift: number, anon: boolean): RankFact | undefined {
  if (shift === 0) return anon ? { rank: e.rank } : e;
  return e.rank - shift > 0 ? { rank: e.rank - shift } : undefined;
}

/** The rank the body of `fn` shows for its parameter at `index` (counting `self`), if any. */
export function rankOfParameter(fn: Node, index: number, env: RankEnv): RankFact | undefined {
  return new Scan(env, 0).param(fn, index)?.fact;
}

/**
 * Whether every `return` of `fn` gives its parameter at `index` (counting `self`) with its rank:
 * true with its shape, false with its rank only, undefined when unknown.
 */
export function keepsParameter(fn: Node, index: number, env: RankEnv): boolean | undefined {
  return new Scan(env, 1).param(fn, index)?.returns;
}
