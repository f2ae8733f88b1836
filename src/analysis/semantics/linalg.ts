/**
 * Products: `@`/`matmul`/`bmm`/`mm`, `baddbmm`/`addmm`, `einsum`, `outer`, `F.linear`. The
 * contracted sizes are the fact `matmul-inner-dim-mismatch` judges; a product of two matrices
 * is attention scores (the contraction, whether heads are batched, the scale its operands
 * carry), which `attention-scale-mismatch` and `softmax-wrong-axis` judge downstream.
 */

import * as D from '../dims';
import type { OpInfo } from '../events';
import type { Node } from '../parse';
import type { Axis, Role, ScaleFact, TensorV, Value } from '../values';
import { UNKNOWN } from '../values';
import { combineScale, contiguousStrides, scaleOf } from './facts';
import { failed, isTensor, opEvent, raises, type FunctionHandler, type MethodHandler, type OpHost } from './host';

const tensorMatmul: MethodHandler = (h, { op, argNodes, kwargNodes, n, nameNode, t, rest }) => {
  return matmul(h, t, rest[0] ?? UNKNOWN, n, nameNode, op, argNodes, kwargNodes);
};

const tensorBaddbmm: MethodHandler = (h, { op, kwargs, argNodes, kwargNodes, n, nameNode, kw }) => {
  // beta * input + alpha * (b1 @ b2): the product is checked as bmm / mm would check it;
  // the result has the product's shape (input must broadcast to it), and alpha scales it
  // the way `* alpha` after the product would.
  const prod = matmul(h, kw('batch1', 0) ?? kw('mat1', 0) ?? UNKNOWN, kw('batch2', 1) ?? kw('mat2', 1) ?? UNKNOWN, n, nameNode, op === 'baddbmm' ? 'bmm' : 'mm', [argNodes[1], argNodes[2]], kwargNodes);
  if (!isTensor(prod) || !prod.scores) return prod;
  const alpha = kwargs.alpha;
  const s = alpha ? scaleOf(alpha, '*') : undefined;
  return s ? { ...prod, scores: { ...prod.scores, scale: combineScale(h, prod.scores.scale, s), scaleNode: n } } : prod;
};

export const LINALG_METHODS: Record<string, MethodHandler> = {
  matmul: tensorMatmul,
  bmm: tensorMatmul,
  mm: tensorMatmul,
  baddbmm: tensorBaddbmm,
  addmm: tensorBaddbmm,
};

const torchEinsum: FunctionHandler = (h, { args, kwargs, argNodes, kwargNodes, n, nameNode }) => {
  return einsum(h, args, n, nameNode, argNodes, kwargNodes, kwargs);
};

const torchOuter: FunctionHandler = (h, { args }) => {
  // The outer product of two vectors (the angle table of rotary embeddings).
  const [a, b] = args;
  if (!isTensor(a) || !isTensor(b) || a.axes?.length !== 1 || b.axes?.length !== 1) return { kind: 'tensor' };
  return h.tensor([a.axes[0].size, b.axes[0].size], undefined, { dtype: 'float' });
};

const torchLinear: FunctionHandler = (h, { op, args, kwargs, argNodes, kwargNodes, n, nameNode }) => {
  // F.linear(x, weight, bias): weight is (out_features, in_features), so x's last axis
  // is contracted with the weight's second one, as in nn.Linear.
  const x = args[0] ?? kwargs.input;
  const w = args[1] ?? kwargs.weight;
  const info: OpInfo = {};
  let result: TensorV = { kind: 'tensor' };
  if (isTensor(x) && x.axes && x.axes.length > 0 && isTensor(w) && w.axes?.length === 2) {
    const last = x.axes[x.axes.length - 1].size;
    info.contracted = [last, w.axes[1].size];
    if (h.unify(last, w.axes[1].size) !== 'ne') {
      const axes: Axis[] = [...x.axes.slice(0, -1).map((a) => ({ ...a })), { size: w.axes[0].size, role: 'chan' }];
      result = { kind: 'tensor', axes, strides: contiguousStrides(axes.map((a) => a.size)), dtype: 'float' };
    }
  }
  return opEvent(h, op, args, kwargs, argNodes, kwargNodes, n, nameNode, result, info);
};

export const LINALG_FUNCTIONS: Record<string, FunctionHandler> = {
  einsum: torchEinsum,
  outer: torchOuter,
  ger: torchOuter,
  linear: torchLinear,
};

/** Axes that hold features; the others (heads, sequence, batch, space) hold positions. */
const FEATURE_ROLES = new Set<Role>(['hdim', 'chan']);
/** Axes a product carries through (batch, heads) and never sums over. */
const NEVER_CONTRACTED = new Set<Role | undefined>(['batch', 'head']);

export function matmul(h: OpHost, l: Value, r: Value, n: Node, nameNode: Node, op: string, argNodes?: (Node | undefined)[], kwargNodes?: Record<string, Node>): Value {
  if ((isTensor(l) && l.failed) || (isTensor(r) && r.failed)) return failed();
  const info: OpInfo = {};
  const args = [l, r];
  const done = (res: Value) => {
    h.emit({ kind: 'op', op: 'matmul', node: n, args, kwargs: {}, argNodes: argNodes ?? [n.childForFieldName('left') ?? undefined, n.childForFieldName('right') ?? undefined], kwargNodes: kwargNodes ?? {}, nameNode, result: res, info });
    return raises(h, info) ? failed() : res;
  };
  if (!isTensor(l) || !isTensor(r) || !l.axes || !r.axes) return done({ kind: 'tensor' });
  let a = l.axes;
  let b = r.axes;
  if (a.length === 0 || b.length === 0) return done({ kind: 'tensor' });
  if (op === 'bmm' && (a.length !== 3 || b.length !== 3)) {
    info.rank = { expected: '3-d tensors for bmm', got: a.length !== 3 ? a.length : b.length };
    return done({ kind: 'tensor' });
  }
  const aVec = a.length === 1;
  const bVec = b.length === 1;
  if (aVec) a = [{ size: D.dconst(1) }, a[0]];
  if (bVec) b = [b[0], { size: D.dconst(1) }];
  const ka = a[a.length - 1].size;
  const kb = b[b.length - 2].size;
  info.contracted = [ka, kb];
  const ra = a[a.length - 1].role;
  const rb = b[b.length - 2].role;
  if (h.compare(ka, kb) === 'unknown' && ra !== rb && ((ra && rb && FEATURE_ROLES.has(ra) !== FEATURE_ROLES.has(rb)) || NEVER_CONTRACTED.has(ra) || NEVER_CONTRACTED.has(rb))) {
    // Reported, and not run on: unifying the sizes would equate unrelated ones.
    info.contractedRoles = [ra, rb];
    return done({ kind: 'tensor' });
  }
  const c = h.unify(ka, kb);
  if (c === 'ne') return done({ kind: 'tensor' });
  // Batch dims broadcast.
  const ba = a.slice(0, -2);
  const bb = b.slice(0, -2);
  const len = Math.max(ba.length, bb.length);
  const batch: Axis[] = [];
  for (let i = 0; i < len; i++) {
    const x = ba[ba.length - len + i];
    const y = bb[bb.length - len + i];
    if (!x || !y) batch.push(x ?? y);
    else if (D.constValue(h.norm(x.size)) === 1) batch.push(y);
    else if (D.constValue(h.norm(y.size)) === 1) batch.push(x);
    else {
      if (op === 'bmm' && h.unify(x.size, y.size) === 'ne') {
        info.broadcast = [x.size, y.size];
        return done({ kind: 'tensor' });
      }
      if (h.unify(x.size, y.size, true) === 'ne') {
        info.broadcast = [x.size, y.size];
        return done({ kind: 'tensor' });
      }
      batch.push(x);
    }
  }
  const rows = a[a.length - 2];
  const cols = b[b.length - 1];
  const featureContraction = ['chan', 'hdim'].includes(a[a.length - 1].role ?? '') || ['chan', 'hdim'].includes(b[b.length - 2].role ?? '');
  // Scores are (queries, keys) unless the left operand is the key projection and the right one
  // the query projection (`bmm(proj_key^T, proj_query)`): then they are (keys, queries).
  const keyMajor = rows.role === 'key' && cols.role === 'query';
  const axes: Axis[] = [...batch, ...(aVec ? [] : [{ ...rows, role: featureContraction ? ((keyMajor ? 'key' : 'query') as Role) : rows.role }]), ...(bVec ? [] : [{ ...cols, role: featureContraction ? ((keyMajor ? 'query' : 'key') as Role) : cols.role }])];
  const res: TensorV = { kind: 'tensor', axes, strides: contiguousStrides(axes.map((x) => x.size)), dtype: 'float' };
  if (!aVec && !bVec) {
    const multiHead = axes.length >= 4 || axes.some((x) => x.role === 'head') || l.axes.some((x) => x.role === 'hdim');
    let scale: ScaleFact | undefined;
    if (l.scale || r.scale) scale = combineScale(h, l.scale, r.scale ?? { exp: 0 });
    res.scores = { contraction: ka, node: n, multiHead, scale, scaleNode: scale ? (l.scale ? l.scaleNode : r.scaleNode) : undefined };
    if (featureContraction && (rows.role === 'query' || rows.role === 'key') && (cols.role === 'query' || cols.role === 'key') && rows.role !== cols.role) res.scores.projected = true;
    // Head-dim contraction with the heads axis as queries and keys, and positions left among
    // the batch axes: the split kept (…, L, H, D) where attention needs (…, H, L, D).
    const isHead = (x: Axis) => x.role === 'head' && !x.inferred;
    const carried = ba.filter((x) => !isHead(x) && D.constValue(h.norm(x.size)) !== 1);
    if (a[a.length - 1].role === 'hdim' && isHead(rows) && isHead(cols) && carried.length >= 2) {
      res.scores.acrossHeads = l.lastPermute ?? n;
    }
  }
  // Logits against learned position tables (BoTNet's rel_h + rel_w applied to q) are a learned bias.
  if (l.learned || r.learned) res.learned = true;
  if (l.normAxis !== undefined && l.softmaxNode && l.normAxis !== l.axes.length - 1) misusedWeights(info, l);
  if (r.normAxis !== undefined && r.softmaxNode && r.normAxis !== r.axes.length - 2 && !bVec) misusedWeights(info, r);
  return done(res);
}

/** Weights contracted over an axis their softmax did not normalise: which line is at fault. */
function misusedWeights(info: OpInfo, t: TensorV): void {
  info.softmaxMisused = t.softmaxNode;
  info.softmaxContractedWrong = !!t.normLast && !t.permutes;
}

export function einsum(h: OpHost, args: Value[], n: Node, nameNode: Node, argNodes: Node[], kwargNodes: Record<string, Node>, kwargs: Record<string, Value>): Value {
  const info: OpInfo = {};
  const done = (res: Value) => {
    h.emit({ kind: 'op', op: 'einsum', node: n, args, kwargs, argNodes, kwargNodes, nameNode, result: res, info });
    return raises(h, info) ? failed() : res;
  };
  const eq = args[0];
  if (eq?.kind !== 'str') return done({ kind: 'tensor' });
  const ops = args.slice(1).length === 1 && args[1].kind === 'tuple' ? args[1].items : args.slice(1);
  const m = /^\s*([\w\s,.]+?)\s*->\s*([\w\s.]*)\s*$/.exec(eq.value);
  if (!m || eq.value.includes('.')) return done({ kind: 'tensor' });
  const ins = m[1].split(',').map((s) => s.replace(/\s/g, ''));
  const outL = m[2].replace(/\s/g, '');
  if (ins.length !== ops.length || !ops.every((o) => isTensor(o) && o.axes)) return done({ kind: 'tensor' });
  const sizes = new Map<string, Axis>();
  for (let k = 0; k < ins.length; k++) {
    const t = ops[k] as TensorV;
    if (t.axes!.length !== ins[k].length) {
      info.rank = { expected: `${ins[k].length}-d operand for '${ins[k]}'`, got: t.axes!.length };
      return done({ kind: 'tensor' });
    }
    for (let i = 0; i < ins[k].length; i++) {
      const ch = ins[k][i];
      const ax = t.axes![i];
      const prev = sizes.get(ch);
      if (!prev) sizes.set(ch, ax);
      else if (D.constValue(h.norm(ax.size)) !== 1 && D.constValue(h.norm(prev.size)) !== 1) {
        if (h.unify(prev.size, ax.size) === 'ne') {
          info.contracted = [prev.size, ax.size];
          return done({ kind: 'tensor' });
        }
      }
    }
    if (t.normAxis !== undefined && t.softmaxNode) {
      const letter = ins[k][t.normAxis];
      if (outL.includes(letter)) {
        const contracted = [...ins[k]].filter((c) => !outL.includes(c));
        if (contracted.length > 0) misusedWeights(info, t);
      }
    }
  }
  const contractedLetters = [...new Set(ins.join(''))].filter((c) => !outL.includes(c));
  const axes: Axis[] = [...outL].map((c) => {
    const ax = sizes.get(c);
    return ax ? { ...ax } : { size: h.fresh('d') };
  });
  const res: TensorV = { kind: 'tensor', axes, strides: contiguousStrides(axes.map((a) => a.size)), dtype: 'float' };
  if (ops.length === 2 && contractedLetters.length === 1) {
    const feat = sizes.get(contractedLetters[0])!;
    const l = ops[0] as TensorV;
    const r = ops[1] as TensorV;
    let scale: ScaleFact | undefined;
    if (l.scale || r.scale) scale = combineScale(h, l.scale, r.scale ?? { exp: 0 });
    res.scores = { contraction: feat.size, node: n, multiHead: axes.length >= 4, scale, scaleNode: scale ? (l.scale ? l.scaleNode : r.scaleNode) : undefined };
  }
  return done(res);
}
