/**
 * Shape signatures of the layout and indexing ops the evaluator's own `switch` does not cover:
 * moving and flipping axes (`movedim`, `flip`, `roll`, `rot90`), slicing along a dim (`narrow`,
 * `select`, `index_select`, `gather`, `unfold`), building from several tensors (`hstack`,
 * `meshgrid`, `broadcast_tensors`, `block_diag`, `cartesian_prod`), diagonals, `tile`,
 * `unflatten`, `atleast_nd`, and the products that are not matmul (`kron`, `tensordot`, `cdist`,
 * `inner`, `mv`, `dot`). Argument 0 is the input. Pure functions of sizes; see `signature.ts`.
 */

import * as D from '../dims';
import type { Dim } from '../dims';
import { broadcast, c, fail, isOne, numel, one, same, unknown, val, wrap, wrapAll, type Out, type Signature } from './signature';

const movedim: Signature = {
  shape(a) {
    const s = a.input();
    const src = wrapAll(a.ints(1, 'source'), s.length);
    const dst = wrapAll(a.ints(2, 'destination'), s.length);
    if (src.length !== dst.length) fail('movedim: source and destination must have the same number of dims');
    const order: (number | undefined)[] = Array(s.length).fill(undefined);
    src.forEach((x, i) => (order[dst[i]] = x));
    const rest = s.map((_, i) => i).filter((i) => !src.includes(i));
    for (let i = 0, k = 0; i < order.length; i++) if (order[i] === undefined) order[i] = rest[k++];
    return { sizes: order.map((i) => s[i!]), dtype: 'same', from: order };
  },
};

const flip: Signature = {
  shape(a) {
    const s = a.input();
    wrapAll(a.varInts(1, 'dims'), s.length);
    return same(s);
  },
};

function flipRank(min: number, name: string): Signature {
  return {
    shape(a) {
      const s = a.input();
      if (s.length < min) fail({ kind: 'rank', expected: `at least a ${min}-d tensor (${name})`, got: s.length });
      return same(s);
    },
  };
}

const roll: Signature = {
  shape(a) {
    const s = a.input();
    // Only how many shifts there are matters (`shifts=(-self.shift_size, -self.shift_size)`).
    const shifts = a.dims(1, 'shifts');
    if (a.given(2, 'dims')) {
      const dims = a.ints(2, 'dims');
      if (dims.length !== shifts.length) fail('roll: shifts and dims must have the same length');
      dims.forEach((d) => wrap(d, s.length));
    } else if (shifts.length !== 1) fail('roll: shifts must be one number when dims is not given');
    return same(s);
  },
};

const rot90: Signature = {
  shape(a) {
    const s = a.input();
    const k = a.int(1, 'k', 1);
    const dims = a.ints(2, 'dims', [0, 1]);
    if (dims.length !== 2) fail('rot90: dims must have two entries');
    if (s.length < 2) fail({ kind: 'rank', expected: 'at least a 2-d tensor (rot90)', got: s.length });
    const [x, y] = dims.map((d) => wrap(d, s.length));
    if (x === y) fail('rot90: the two dims must differ');
    if (((k % 2) + 2) % 2 === 0) return same(s);
    const from = s.map((_, i) => (i === x ? y : i === y ? x : i));
    return { sizes: from.map((i) => s[i]), dtype: 'same', from };
  },
};

const narrow: Signature = {
  shape(a) {
    const s = a.input();
    const d = wrap(a.int(1, 'dim'), s.length);
    const start = a.arg(2, 'start');
    const length = a.dim(3, 'length');
    const n = val(s[d]);
    const st = start?.kind === 'int' ? val(start.dim) : undefined;
    const len = val(length);
    if (n !== undefined && st !== undefined && len !== undefined) {
      const begin = st < 0 ? st + n : st;
      if (begin < 0 || begin > n || len < 0 || begin + len > n) fail(`narrow: start (${st}) + length (${len}) exceeds the dim's size (${n})`);
    }
    const out = same(s);
    out.sizes[d] = length;
    out.from![d] = undefined;
    return out;
  },
};

const select: Signature = {
  shape(a) {
    const s = a.input();
    if (s.length === 0) fail({ kind: 'rank', expected: 'a tensor with at least one dim (select)', got: 0 });
    const d = wrap(a.int(1, 'dim'), s.length);
    const idx = a.arg(2, 'index');
    const n = val(s[d]);
    const i = idx?.kind === 'int' ? val(idx.dim) : undefined;
    if (n !== undefined && i !== undefined && (i >= n || i < -n)) fail(`select: index ${i} is out of range for a dim of size ${n}`);
    const keep = s.map((_, k) => k).filter((k) => k !== d);
    return { sizes: keep.map((k) => s[k]), dtype: 'same', from: keep };
  },
};

const indexSelect: Signature = {
  shape(a) {
    const s = a.input();
    const d = wrap(a.int(1, 'dim'), s.length);
    const idx = a.sizes(2, 'index');
    if (idx.length > 1) fail({ kind: 'rank', expected: 'a 0-d or 1-d index (index_select)', got: idx.length });
    const out = same(s);
    if (s.length === 0) return out;
    out.sizes[d] = idx.length ? idx[0] : one;
    out.from![d] = undefined;
    return out;
  },
};

const gather: Signature = {
  shape(a) {
    const s = a.input();
    wrap(a.int(1, 'dim'), s.length);
    const idx = a.sizes(2, 'index');
    if (idx.length !== s.length && !(s.length === 0 && idx.length <= 1)) fail({ kind: 'rank', expected: `an index with as many dims as the input (${s.length})`, got: idx.length });
    return { sizes: [...idx], dtype: 'same' };
  },
};

/** Ops that write into a copy of the input: the input's shape. */
const sameAsInput: Signature = { shape: (a) => same(a.input()) };

const take: Signature = {
  shape(a) {
    a.input();
    return { sizes: [...a.sizes(1, 'index')], dtype: 'same' };
  },
};

const unfoldDim: Signature = {
  shape(a) {
    const s = a.input();
    const d = wrap(a.int(1, 'dimension'), s.length);
    const size = a.int(2, 'size');
    const step = a.int(3, 'step');
    if (step <= 0) fail('unfold: step must be positive');
    const n = s.length ? s[d] : one;
    const nv = val(n);
    if (nv !== undefined && size > nv) fail(`unfold: size (${size}) exceeds the dim's size (${nv})`);
    let count: Dim | undefined;
    if (nv !== undefined) count = c(Math.floor((nv - size) / step) + 1);
    else if (step === 1) count = D.add(n, c(1 - size));
    const out: Out = same(s);
    if (s.length) {
      out.sizes[d] = count;
      out.from![d] = undefined;
    }
    out.sizes.push(c(size));
    out.from!.push(undefined);
    return out;
  },
};

const tile: Signature = {
  shape(a) {
    const s = a.input();
    const reps = a.varInts(1, 'dims');
    const rank = Math.max(s.length, reps.length);
    const ss = [...Array(rank - s.length).fill(one), ...s];
    const rs = [...Array(rank - reps.length).fill(1), ...reps];
    return { sizes: ss.map((x, i) => D.mul(x, c(rs[i]))), dtype: 'same' };
  },
};

const unflatten: Signature = {
  shape(a) {
    const s = a.input();
    const d = wrap(a.int(1, 'dim'), s.length);
    const sizes = a.arg(2, 'sizes');
    if (sizes?.kind !== 'list' || sizes.items.some((x) => x.kind !== 'int')) unknown();
    const parts = sizes.items.map((x) => (x.kind === 'int' ? x.dim : one));
    const infer = parts.findIndex((p) => val(p) === -1);
    const known = numel(parts.filter((_, i) => i !== infer));
    if (infer >= 0) {
      const q = D.floorDiv(s[d], known);
      const kv = val(known);
      const nv = val(s[d]);
      if (kv !== undefined && nv !== undefined && (kv === 0 || nv % kv !== 0)) fail(`unflatten: ${nv} is not divisible by ${kv}`);
      parts[infer] = q ?? (undefined as unknown as Dim);
    } else if (D.compare(known, s[d]) === 'ne') fail({ kind: 'size', axis: d, expected: known, got: s[d], what: 'unflatten' });
    const sizes2: (Dim | undefined)[] = [...s.slice(0, d), ...parts, ...s.slice(d + 1)];
    return { sizes: sizes2.map((x) => x ?? undefined), dtype: 'same' };
  },
};

function atleast(nd: number): Signature {
  return {
    shape(a) {
      const s = a.input();
      if (s.length >= nd) return same(s);
      if (s.length === 0) return { sizes: Array(nd).fill(one), dtype: 'same' };
      if (nd === 2) return { sizes: [one, ...s], dtype: 'same' };
      // atleast_3d: (n) -> (1, n, 1), (a, b) -> (a, b, 1).
      return { sizes: s.length === 1 ? [one, s[0], one] : [...s, one], dtype: 'same' };
    },
  };
}

const ravel: Signature = { shape: (a) => ({ sizes: [numel(a.input())], dtype: 'same' }) };

/** The length of the diagonal at `offset` of an (r, c) matrix. */
function diagLength(r: Dim, cc: Dim, offset: number): Dim | undefined {
  const rv = val(r);
  const cv = val(cc);
  if (rv !== undefined && cv !== undefined) return c(Math.max(0, offset >= 0 ? Math.min(rv, cv - offset) : Math.min(rv + offset, cv)));
  if (offset === 0 && D.compare(r, cc) === 'eq') return r;
  return undefined;
}

const diagonal: Signature = {
  shape(a) {
    const s = a.input();
    if (s.length < 2) fail({ kind: 'rank', expected: 'at least a 2-d tensor (diagonal)', got: s.length });
    const offset = a.int(1, 'offset', 0);
    const [x, y] = wrapAll([a.int(2, 'dim1', 0), a.int(3, 'dim2', 1)], s.length);
    const keep = s.map((_, i) => i).filter((i) => i !== x && i !== y);
    return { sizes: [...keep.map((i) => s[i]), diagLength(s[x], s[y], offset)], dtype: 'same', from: [...keep, undefined] };
  },
};

const diag: Signature = {
  shape(a) {
    const s = a.input();
    const offset = a.int(1, 'diagonal', 0);
    if (s.length === 1) {
      const n = D.add(s[0], c(Math.abs(offset)));
      return { sizes: [n, n], dtype: 'same' };
    }
    if (s.length === 2) return { sizes: [diagLength(s[0], s[1], offset)], dtype: 'same' };
    return fail({ kind: 'rank', expected: 'a 1-d or 2-d tensor (diag)', got: s.length });
  },
};

const diagEmbed: Signature = {
  shape(a) {
    const s = a.input();
    if (s.length === 0) unknown();
    const offset = a.int(1, 'offset', 0);
    const rank = s.length + 1;
    const [x, y] = wrapAll([a.int(2, 'dim1', -2), a.int(3, 'dim2', -1)], rank);
    const n = D.add(s[s.length - 1], c(Math.abs(offset)));
    const rest = s.slice(0, -1);
    const out: Dim[] = [];
    for (let i = 0, k = 0; i < rank; i++) out.push(i === x || i === y ? n : rest[k++]);
    return { sizes: out, dtype: 'same' };
  },
};

const diagflat: Signature = {
  shape(a) {
    const n = D.add(numel(a.input()), c(Math.abs(a.int(1, 'offset', 0))));
    return { sizes: [n, n], dtype: 'same' };
  },
};

const trace: Signature = {
  shape(a) {
    const s = a.input();
    if (s.length !== 2) fail({ kind: 'rank', expected: 'a 2-d tensor (trace)', got: s.length });
    return { sizes: [], dtype: 'same' };
  },
};

function triIndices(upper: boolean): Signature {
  return {
    shape(a) {
      const rows = a.int(0, 'row');
      const cols = a.int(1, 'col');
      const offset = a.int(2, 'offset', 0);
      if (rows * cols > 1 << 20) return { sizes: [c(2), undefined], dtype: 'long' };
      let n = 0;
      for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) if (upper ? j - i >= offset : j - i <= offset) n++;
      return { sizes: [c(2), c(n)], dtype: 'long' };
    },
  };
}

/** hstack, vstack, dstack, column_stack, row_stack: cat after atleast_nd. */
function stackFamily(kind: 'h' | 'v' | 'd' | 'column'): Signature {
  return {
    shape(a) {
      const ts = a.tensorList(0, 'tensors');
      const lift = (s: Dim[]): Dim[] => {
        if (kind === 'v') return s.length >= 2 ? s : s.length === 1 ? [one, s[0]] : [one, one];
        if (kind === 'd') return s.length >= 3 ? s : s.length === 2 ? [...s, one] : s.length === 1 ? [one, s[0], one] : [one, one, one];
        if (kind === 'column') return s.length >= 2 ? s : s.length === 1 ? [s[0], one] : [one, one];
        return s.length >= 1 ? s : [one];
      };
      const xs = ts.map(lift);
      const rank = xs[0].length;
      if (xs.some((s) => s.length !== rank)) fail(`${kind}stack: tensors of different ranks`);
      const axis = kind === 'h' ? (rank === 1 ? 0 : 1) : kind === 'v' ? 0 : kind === 'd' ? 2 : 1;
      const out: Dim[] = [];
      for (let i = 0; i < rank; i++) {
        if (i === axis) out.push(xs.reduce((acc, s) => D.add(acc, s[i]), c(0)));
        else {
          for (const s of xs.slice(1)) if (D.compare(s[i], xs[0][i]) === 'ne') fail({ kind: 'size', axis: i, expected: xs[0][i], got: s[i], what: `${kind}stack` });
          out.push(xs[0][i]);
        }
      }
      return { sizes: out, dtype: 'same' };
    },
  };
}

const meshgrid: Signature = {
  shape(a) {
    const ts = a.tensorList(0, 'tensors');
    const indexing = a.str(-1, 'indexing', 'ij');
    if (ts.some((s) => s.length > 1)) fail({ kind: 'rank', expected: '0-d or 1-d tensors (meshgrid)', got: Math.max(...ts.map((s) => s.length)) });
    const ns = ts.map((s) => (s.length ? s[0] : one));
    const grid = [...ns];
    if (indexing === 'xy' && grid.length >= 2) [grid[0], grid[1]] = [grid[1], grid[0]];
    return { items: ts.map(() => ({ sizes: [...grid], dtype: 'same' as const })) };
  },
};

const broadcastTensors: Signature = {
  shape(a) {
    const ts = a.tensorList(0, 'tensors');
    const out = broadcast(...ts);
    return { items: ts.map(() => ({ sizes: [...out], dtype: 'same' as const })) };
  },
};

const broadcastShapes: Signature = {
  shape(a) {
    void a;
    return unknown();
  },
};

const blockDiag: Signature = {
  shape(a) {
    const ts = a.tensorList(0, 'tensors');
    let rows: Dim = c(0);
    let cols: Dim = c(0);
    for (const s of ts) {
      if (s.length > 2) fail({ kind: 'rank', expected: 'tensors of at most 2 dims (block_diag)', got: s.length });
      const m = s.length === 2 ? s : s.length === 1 ? [one, s[0]] : [one, one];
      rows = D.add(rows, m[0]);
      cols = D.add(cols, m[1]);
    }
    return { sizes: [rows, cols], dtype: 'same' };
  },
};

const cartesianProd: Signature = {
  shape(a) {
    const ts = a.tensorList(0, 'tensors');
    if (ts.some((s) => s.length !== 1)) fail({ kind: 'rank', expected: '1-d tensors (cartesian_prod)', got: ts.find((s) => s.length !== 1)!.length });
    const n = numel(ts.map((s) => s[0]));
    return ts.length === 1 ? { sizes: [n], dtype: 'same' } : { sizes: [n, c(ts.length)], dtype: 'same' };
  },
};

const kron: Signature = {
  shape(a) {
    const x = a.input();
    const y = a.sizes(1, 'other');
    const rank = Math.max(x.length, y.length);
    const px = [...Array(rank - x.length).fill(one), ...x];
    const py = [...Array(rank - y.length).fill(one), ...y];
    return { sizes: px.map((d, i) => D.mul(d, py[i])), dtype: 'same' };
  },
};

const tensordot: Signature = {
  shape(a) {
    const x = a.input();
    const y = a.sizes(1, 'b');
    const dv = a.arg(2, 'dims');
    let dx: number[];
    let dy: number[];
    if (dv === undefined || dv.kind === 'int') {
      const n = dv ? a.int(2, 'dims') : 2;
      if (n < 0 || n > x.length || n > y.length) fail('tensordot: dims exceeds a rank');
      dx = x.map((_, i) => i).slice(x.length - n);
      dy = Array.from({ length: n }, (_, i) => i);
    } else if (dv.kind === 'list' && dv.items.length === 2 && dv.items.every((i) => i.kind === 'list' || i.kind === 'int')) {
      const side = (v: (typeof dv.items)[number]) => (v.kind === 'list' ? v.items.map((x) => (x.kind === 'int' && val(x.dim) !== undefined ? val(x.dim)! : unknown())) : [val((v as { dim: Dim }).dim) ?? unknown()]);
      dx = wrapAll(side(dv.items[0]), x.length);
      dy = wrapAll(side(dv.items[1]), y.length);
      if (dx.length !== dy.length) fail('tensordot: both sides must contract as many dims');
    } else return unknown();
    dx.forEach((i, k) => {
      if (D.compare(x[i], y[dy[k]]) === 'ne') fail({ kind: 'size', axis: dy[k], expected: x[i], got: y[dy[k]], what: 'tensordot' });
    });
    return { sizes: [...x.filter((_, i) => !dx.includes(i)), ...y.filter((_, i) => !dy.includes(i))], dtype: 'same' };
  },
};

const cdist: Signature = {
  shape(a) {
    const x = a.input();
    const y = a.sizes(1, 'x2');
    if (x.length < 2 || y.length < 2) fail({ kind: 'rank', expected: 'at least 2-d tensors (cdist)', got: Math.min(x.length, y.length) });
    if (D.compare(x[x.length - 1], y[y.length - 1]) === 'ne') fail({ kind: 'size', axis: y.length - 1, expected: x[x.length - 1], got: y[y.length - 1], what: 'cdist' });
    const batch = broadcast(x.slice(0, -2), y.slice(0, -2));
    return { sizes: [...batch, x[x.length - 2], y[y.length - 2]], dtype: 'same' };
  },
};

const inner: Signature = {
  shape(a) {
    const x = a.input();
    const y = a.sizes(1, 'other');
    if (x.length === 0 || y.length === 0) return { sizes: x.length === 0 ? [...y] : [...x], dtype: 'same' };
    if (D.compare(x[x.length - 1], y[y.length - 1]) === 'ne') fail({ kind: 'size', axis: y.length - 1, expected: x[x.length - 1], got: y[y.length - 1], what: 'inner' });
    return { sizes: [...x.slice(0, -1), ...y.slice(0, -1)], dtype: 'same' };
  },
};

const dot: Signature = {
  shape(a) {
    const x = a.input();
    const y = a.sizes(1, 'other');
    if (x.length !== 1 || y.length !== 1) fail({ kind: 'rank', expected: '1-d tensors (dot)', got: x.length !== 1 ? x.length : y.length });
    if (D.compare(x[0], y[0]) === 'ne') fail({ kind: 'size', axis: 0, expected: x[0], got: y[0], what: 'dot' });
    return { sizes: [], dtype: 'same' };
  },
};

const mv: Signature = {
  shape(a) {
    const m = a.input();
    const v = a.sizes(1, 'vec');
    if (m.length !== 2 || v.length !== 1) fail({ kind: 'rank', expected: 'a 2-d matrix and a 1-d vector (mv)', got: m.length !== 2 ? m.length : v.length });
    if (D.compare(m[1], v[0]) === 'ne') fail({ kind: 'size', axis: 0, expected: m[1], got: v[0], what: 'mv' });
    return { sizes: [m[0]], dtype: 'same' };
  },
};

const searchsorted: Signature = {
  shape(a) {
    const seq = a.input();
    const v = a.arg(1, 'input') ?? a.arg(1, 'values');
    if (v?.kind !== 'tensor' || !v.sizes) return unknown();
    if (seq.length > 1 && v.sizes.length !== seq.length) fail({ kind: 'rank', expected: `values with ${seq.length} dims (searchsorted)`, got: v.sizes.length });
    return { sizes: [...v.sizes], dtype: 'long' };
  },
};

const bucketize: Signature = { shape: (a) => same(a.input(), 'long') };

const asStrided: Signature = {
  shape(a) {
    a.input();
    const size = a.arg(1, 'size');
    if (size?.kind !== 'list' || size.items.some((x) => x.kind !== 'int')) unknown();
    return { sizes: size.items.map((x) => (x.kind === 'int' ? x.dim : one)), dtype: 'same' };
  },
};

void isOne;

/** Method and `torch.` names of the family. */
export const SHAPE: Record<string, Signature> = {
  movedim,
  moveaxis: movedim,
  flip,
  fliplr: flipRank(2, 'fliplr'),
  flipud: flipRank(1, 'flipud'),
  roll,
  rot90,
  narrow,
  select,
  index_select: indexSelect,
  gather,
  take_along_dim: { shape: () => unknown() },
  take,
  unfold: unfoldDim,
  tile,
  unflatten,
  atleast_1d: atleast(1),
  atleast_2d: atleast(2),
  atleast_3d: atleast(3),
  ravel,
  diagonal,
  diag,
  diag_embed: diagEmbed,
  diagflat,
  trace,
  tril_indices: triIndices(false),
  triu_indices: triIndices(true),
  hstack: stackFamily('h'),
  vstack: stackFamily('v'),
  row_stack: stackFamily('v'),
  dstack: stackFamily('d'),
  column_stack: stackFamily('column'),
  meshgrid,
  broadcast_tensors: broadcastTensors,
  broadcast_shapes: broadcastShapes,
  block_diag: blockDiag,
  cartesian_prod: cartesianProd,
  kron,
  tensordot,
  cdist,
  inner,
  dot,
  vdot: dot,
  mv,
  searchsorted,
  bucketize,
  as_strided: asStrided,
  scatter: sameAsInput,
  scatter_add: sameAsInput,
  scatter_reduce: sameAsInput,
  index_add: sameAsInput,
  index_copy: sameAsInput,
  index_fill: sameAsInput,
  index_put: sameAsInput,
  masked_scatter: sameAsInput,
  put: sameAsInput,
  adjoint: {
    shape(a) {
      const s = a.input();
      if (s.length < 2) fail({ kind: 'rank', expected: 'at least a 2-d tensor (adjoint)', got: s.length });
      const from = s.map((_, i) => (i === s.length - 1 ? s.length - 2 : i === s.length - 2 ? s.length - 1 : i));
      return { sizes: from.map((i) => s[i]), dtype: 'same', from };
    },
  },
};
