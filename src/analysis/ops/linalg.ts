/**
 * Shape signatures of `torch.linalg` (norms, determinants, inverses, solves, the QR, SVD and
 * eigen decompositions as named tuples), their older `torch.`/method names (`torch.svd` with
 * `some`, `torch.qr`, `x.det()`, `x.inverse()`), and `torch.fft` (lengths along the transformed
 * dims: `rfft` keeps n // 2 + 1, `irfft` gives 2 * (n - 1)). Matrices are the last two dims;
 * the dims before them are a batch. Pure functions of sizes; see `signature.ts`.
 */

import * as D from '../dims';
import type { Dim } from '../dims';
import { broadcast, c, fail, one, reduce, same, unknown, val, wrap, wrapAll, Call, type Out, type Signature } from './signature';

function matrix(s: Dim[], what: string): { batch: Dim[]; m: Dim; n: Dim } {
  if (s.length < 2) fail({ kind: 'rank', expected: `a tensor of at least 2 dims (${what})`, got: s.length });
  return { batch: s.slice(0, -2), m: s[s.length - 2], n: s[s.length - 1] };
}

function square(s: Dim[], what: string): { batch: Dim[]; n: Dim } {
  const { batch, m, n } = matrix(s, what);
  if (D.compare(m, n) === 'ne') fail({ kind: 'size', axis: s.length - 1, expected: m, got: n, what: `${what} of a square matrix` });
  return { batch, n: m };
}

/** min(m, n), when it is known. */
function minDim(m: Dim, n: Dim): Dim | undefined {
  const mv = val(m);
  const nv = val(n);
  if (mv !== undefined && nv !== undefined) return c(Math.min(mv, nv));
  return D.compare(m, n) === 'eq' ? m : undefined;
}

const det: Signature = {
  shape(a) {
    return { sizes: square(a.input(), 'det').batch, dtype: 'same' };
  },
};

const slogdet: Signature = {
  fields: ['sign', 'logabsdet'],
  shape(a) {
    const b = square(a.input(), 'slogdet').batch;
    return { items: [{ sizes: b, dtype: 'same' }, { sizes: [...b], dtype: 'same' }], names: ['sign', 'logabsdet'] };
  },
};

const squareSame: (what: string) => Signature = (what) => ({
  shape(a) {
    square(a.input(), what);
    return same(a.input());
  },
});

const pinv: Signature = {
  shape(a) {
    const { batch, m, n } = matrix(a.input(), 'pinv');
    return { sizes: [...batch, n, m], dtype: 'same' };
  },
};

const solve: Signature = {
  shape(a) {
    const A = a.input();
    const B = a.sizes(1, 'B');
    const { batch, n } = square(A, 'solve');
    const left = a.bool(-1, 'left', true);
    if (!left) return unknown();
    // B is a batch of vectors when it is 1-d or has A's batch shape with one dim fewer.
    const vector = B.length === 1 || (B.length === A.length - 1 && B.every((d, i) => D.compare(d, A[i]) === 'eq'));
    if (vector) {
      const k = B[B.length - 1];
      if (D.compare(k, n) === 'ne') fail({ kind: 'size', axis: B.length - 1, expected: n, got: k, what: 'solve' });
      return { sizes: [...broadcast(batch, B.slice(0, -1)), n], dtype: 'same' };
    }
    if (B.length < 2) fail({ kind: 'rank', expected: 'a 1-d or at least 2-d B (solve)', got: B.length });
    if (D.compare(B[B.length - 2], n) === 'ne') fail({ kind: 'size', axis: B.length - 2, expected: n, got: B[B.length - 2], what: 'solve' });
    return { sizes: [...broadcast(batch, B.slice(0, -2)), n, B[B.length - 1]], dtype: 'same' };
  },
};

const qr: Signature = {
  fields: ['Q', 'R'],
  shape(a) {
    const { batch, m, n } = matrix(a.input(), 'qr');
    const mode = a.str(1, 'mode', 'reduced');
    const k = minDim(m, n);
    if (mode === 'complete') return { items: [{ sizes: [...batch, m, m], dtype: 'same' }, { sizes: [...batch, m, n], dtype: 'same' }], names: ['Q', 'R'] };
    if (mode === 'r') return { items: [{ sizes: [c(0)], dtype: 'same' }, { sizes: [...batch, k, n], dtype: 'same' }], names: ['Q', 'R'] };
    if (mode !== 'reduced') fail(`qr: unknown mode '${mode}'`);
    return { items: [{ sizes: [...batch, m, k], dtype: 'same' }, { sizes: [...batch, k, n], dtype: 'same' }], names: ['Q', 'R'] };
  },
};

/** torch.qr(A, some=True): the old name, with `some` for mode='reduced'. */
const qrOld: Signature = {
  fields: ['Q', 'R'],
  shape(a) {
    const some = a.bool(1, 'some', true);
    return qr.shape(new Call(a.args.slice(0, 1), { input: a.arg(0, 'input') ?? { kind: 'unknown' }, mode: { kind: 'str', value: some ? 'reduced' : 'complete' } }));
  },
};

const svd: Signature = {
  fields: ['U', 'S', 'Vh'],
  shape(a) {
    const { batch, m, n } = matrix(a.input(), 'svd');
    const full = a.bool(1, 'full_matrices', true);
    const k = minDim(m, n);
    const U: Out = { sizes: [...batch, m, full ? m : k], dtype: 'same' };
    const Vh: Out = { sizes: [...batch, full ? n : k, n], dtype: 'same' };
    return { items: [U, { sizes: [...batch, k], dtype: 'same' }, Vh], names: ['U', 'S', 'Vh'] };
  },
};

/** torch.svd(A, some=True): U (m, k), S (k), V (n, k) — V, not its transpose. */
const svdOld: Signature = {
  fields: ['U', 'S', 'V'],
  shape(a) {
    const { batch, m, n } = matrix(a.input(), 'svd');
    const some = a.bool(1, 'some', true);
    const k = minDim(m, n);
    return {
      items: [
        { sizes: [...batch, m, some ? k : m], dtype: 'same' },
        { sizes: [...batch, k], dtype: 'same' },
        { sizes: [...batch, n, some ? k : n], dtype: 'same' },
      ],
      names: ['U', 'S', 'V'],
    };
  },
};

const svdvals: Signature = {
  shape(a) {
    const { batch, m, n } = matrix(a.input(), 'svdvals');
    return { sizes: [...batch, minDim(m, n)], dtype: 'same' };
  },
};

function eig(names: [string, string], complex: boolean): Signature {
  return {
    fields: names,
    shape(a) {
      const { batch, n } = square(a.input(), 'eig');
      const dtype = complex ? 'complex' : 'same';
      return { items: [{ sizes: [...batch, n], dtype }, { sizes: [...batch, n, n], dtype }], names };
    },
  };
}

function eigvals(complex: boolean): Signature {
  return {
    shape(a) {
      const { batch, n } = square(a.input(), 'eigvals');
      return { sizes: [...batch, n], dtype: complex ? 'complex' : 'same' };
    },
  };
}

const norm: Signature = {
  shape(a) {
    const s = a.input();
    const keep = a.bool(3, 'keepdim', false);
    const ord = a.given(1, 'ord');
    if (!a.given(2, 'dim')) {
      if (ord && s.length !== 1 && s.length !== 2) fail({ kind: 'rank', expected: 'a 1-d or 2-d input when ord is given without dim (linalg.norm)', got: s.length });
      return reduce(s, undefined, keep);
    }
    const dims = a.ints(2, 'dim');
    if (dims.length > 2) fail('linalg.norm: dim must have one or two entries');
    return reduce(s, dims, keep);
  },
};

const vectorNorm: Signature = {
  shape(a) {
    const s = a.input();
    const dims = a.given(2, 'dim') ? a.ints(2, 'dim') : undefined;
    return reduce(s, dims, a.bool(3, 'keepdim', false));
  },
};

const matrixNorm: Signature = {
  shape(a) {
    const s = a.input();
    if (s.length < 2) fail({ kind: 'rank', expected: 'at least a 2-d input (matrix_norm)', got: s.length });
    const dims = a.ints(2, 'dim', [-2, -1]);
    if (dims.length !== 2) fail('matrix_norm: dim must have two entries');
    return reduce(s, dims, a.bool(3, 'keepdim', false));
  },
};

const cond: Signature = {
  shape(a) {
    return { sizes: matrix(a.input(), 'cond').batch, dtype: 'same' };
  },
};

const matrixRank: Signature = {
  shape(a) {
    return { sizes: matrix(a.input(), 'matrix_rank').batch, dtype: 'long' };
  },
};

const matrixPower: Signature = {
  shape(a) {
    square(a.input(), 'matrix_power');
    return same(a.input());
  },
};

const cholEx: Signature = {
  fields: ['L', 'info'],
  shape(a) {
    const { batch } = square(a.input(), 'cholesky_ex');
    return { items: [same(a.input()), { sizes: batch, dtype: 'long' }], names: ['L', 'info'] };
  },
};

const invEx: Signature = {
  fields: ['inverse', 'info'],
  shape(a) {
    const { batch } = square(a.input(), 'inv_ex');
    return { items: [same(a.input()), { sizes: batch, dtype: 'long' }], names: ['inverse', 'info'] };
  },
};

const luFactor: Signature = {
  fields: ['LU', 'pivots'],
  shape(a) {
    const { batch, m, n } = matrix(a.input(), 'lu_factor');
    return { items: [same(a.input()), { sizes: [...batch, minDim(m, n)], dtype: 'long' }], names: ['LU', 'pivots'] };
  },
};

const lu: Signature = {
  fields: ['P', 'L', 'U'],
  shape(a) {
    const { batch, m, n } = matrix(a.input(), 'lu');
    const k = minDim(m, n);
    return { items: [{ sizes: [...batch, m, m], dtype: 'same' }, { sizes: [...batch, m, k], dtype: 'same' }, { sizes: [...batch, k, n], dtype: 'same' }], names: ['P', 'L', 'U'] };
  },
};

const cross: Signature = {
  shape(a) {
    const x = a.input();
    const y = a.sizes(1, 'other');
    const b = broadcast(x, y);
    const d = wrap(a.int(2, 'dim', -1), b.length);
    const sz = b[d];
    if (sz !== undefined && val(sz) !== undefined && val(sz) !== 3) fail({ kind: 'size', axis: d, expected: c(3), got: sz, what: 'cross' });
    return { sizes: b, dtype: 'same' };
  },
};

const vecdot: Signature = {
  shape(a) {
    const b = broadcast(a.input(), a.sizes(1, 'y'));
    const d = wrap(a.int(2, 'dim', -1), b.length);
    return { sizes: b.filter((_, i) => i !== d), dtype: 'same' };
  },
};

const multiDot: Signature = {
  shape(a) {
    const ts = a.tensorList(0, 'tensors');
    if (ts.length < 2) fail('multi_dot needs at least two tensors');
    ts.forEach((s, i) => {
      const ok = i === 0 || i === ts.length - 1 ? s.length === 1 || s.length === 2 : s.length === 2;
      if (!ok) fail({ kind: 'rank', expected: 'matrices, and vectors only at the ends (multi_dot)', got: s.length });
    });
    for (let i = 0; i + 1 < ts.length; i++) {
      const l = ts[i][ts[i].length - 1];
      const r = ts[i + 1][0];
      if (D.compare(l, r) === 'ne') fail({ kind: 'size', axis: 0, expected: l, got: r, what: 'multi_dot' });
    }
    const first = ts[0];
    const last = ts[ts.length - 1];
    const out: Dim[] = [];
    if (first.length === 2) out.push(first[0]);
    if (last.length === 2) out.push(last[1]);
    return { sizes: out, dtype: 'same' };
  },
};

// ---------------------------------------------------------------- fft

/** The transformed dims and their requested lengths for an fft of `nd` dims (undefined: all given by s or all dims). */
function fftDims(a: Call, s: Dim[], nd: number | undefined, sPos: number, dimPos: number): { dims: number[]; lens: (Dim | undefined)[] } {
  const one1 = nd === 1;
  if (one1) {
    const d = wrap(a.int(dimPos, 'dim', -1), s.length);
    return { dims: [d], lens: [a.given(sPos, 'n') ? a.dim(sPos, 'n') : undefined] };
  }
  const given = a.given(sPos, 's') ? a.ints(sPos, 's') : undefined;
  let dims: number[];
  if (a.given(dimPos, 'dim')) dims = wrapAll(a.ints(dimPos, 'dim'), s.length);
  else if (nd === 2) dims = wrapAll([-2, -1], s.length);
  else if (given) dims = given.map((_, i) => s.length - given.length + i);
  else dims = s.map((_, i) => i);
  if (given && given.length !== dims.length) fail('fft: s and dim must have the same length');
  return { dims, lens: dims.map((_, i) => (given ? (given[i] === -1 ? undefined : c(given[i])) : undefined)) };
}

type FftKind = 'c2c' | 'r2c' | 'c2r';

function fft(nd: number | undefined, kind: FftKind): Signature {
  return {
    shape(a) {
      const s = a.input();
      if (s.length === 0) fail({ kind: 'rank', expected: 'at least a 1-d input (fft)', got: 0 });
      const { dims, lens } = fftDims(a, s, nd, 1, 2);
      const out: (Dim | undefined)[] = [...s];
      dims.forEach((d, i) => {
        const n = lens[i] ?? s[d];
        const last = i === dims.length - 1;
        const nv = val(n);
        if (nv !== undefined && nv < 1) fail(`fft: invalid length ${nv}`);
        // n // 2 + 1 is only exact for a known n.
        if (kind === 'r2c' && last) out[d] = nv !== undefined ? c(Math.floor(nv / 2) + 1) : undefined;
        else if (kind === 'c2r' && last) out[d] = lens[i] ?? D.mul(D.sub(s[d], one), c(2));
        else out[d] = n;
      });
      return { sizes: out, dtype: kind === 'c2r' ? 'float' : 'complex', from: s.map((_, i) => (dims.includes(i) ? undefined : i)) };
    },
  };
}

/** hfft: a Hermitian half-signal in, a real signal of n (default 2 * (m - 1)) out; ihfft: the reverse (n // 2 + 1). */
const hfft: Signature = fft(1, 'c2r');
const ihfft: Signature = fft(1, 'r2c');

const fftfreq: Signature = {
  shape(a) {
    return { sizes: [a.dim(0, 'n')], dtype: 'float' };
  },
};

const rfftfreq: Signature = {
  shape(a) {
    const n = a.int(0, 'n');
    return { sizes: [c(Math.floor(n / 2) + 1)], dtype: 'float' };
  },
};

const shift: Signature = { shape: (a) => same(a.input()) };

/** `torch.linalg.` names. */
export const LINALG: Record<string, Signature> = {
  det,
  slogdet,
  inv: squareSame('inv'),
  inv_ex: invEx,
  pinv,
  matrix_exp: squareSame('matrix_exp'),
  matrix_power: matrixPower,
  cholesky: squareSame('cholesky'),
  cholesky_ex: cholEx,
  solve,
  qr,
  svd,
  svdvals,
  eigh: eig(['eigenvalues', 'eigenvectors'], false),
  eig: eig(['eigenvalues', 'eigenvectors'], true),
  eigvalsh: eigvals(false),
  eigvals: eigvals(true),
  norm,
  vector_norm: vectorNorm,
  matrix_norm: matrixNorm,
  cond,
  matrix_rank: matrixRank,
  lu_factor: luFactor,
  lu,
  cross,
  vecdot,
  multi_dot: multiDot,
};

/** Tensor-method and `torch.` names (the older spellings). */
export const LINALG_METHODS: Record<string, Signature> = {
  det,
  logdet: det,
  slogdet,
  inverse: squareSame('inverse'),
  pinverse: pinv,
  matrix_exp: squareSame('matrix_exp'),
  matrix_power: matrixPower,
  cholesky: squareSame('cholesky'),
  svd: svdOld,
  qr: qrOld,
  cross,
};

/** `torch.fft.` names. */
export const FFT: Record<string, Signature> = {
  fft: fft(1, 'c2c'),
  ifft: fft(1, 'c2c'),
  rfft: fft(1, 'r2c'),
  irfft: fft(1, 'c2r'),
  hfft,
  ihfft,
  fft2: fft(2, 'c2c'),
  ifft2: fft(2, 'c2c'),
  rfft2: fft(2, 'r2c'),
  irfft2: fft(2, 'c2r'),
  fftn: fft(undefined, 'c2c'),
  ifftn: fft(undefined, 'c2c'),
  rfftn: fft(undefined, 'r2c'),
  irfftn: fft(undefined, 'c2r'),
  fftshift: shift,
  ifftshift: shift,
  fftfreq,
  rfftfreq,
};
