/**
 * Symbolic dimensions: sums of monomials over named symbols with rational coefficients and
 * integer exponents (negative exponents stand for exact division, `C // H` when `C` is
 * symbolic). Constants are the empty-monomial term. A dimension is immutable and canonical,
 * so structural equality is mathematical equality of the expressions.
 *
 * This module knows nothing about tensors, Python or rules. It does not decide what a symbol
 * means, and it never guesses: `compare` answers 'ne' only when the two expressions differ
 * for every positive value of their symbols it can prove (constant difference or constant
 * ratio), and 'unknown' otherwise.
 */

export interface Term {
  coef: number;
  /** Sorted by symbol name; exponents are never 0. */
  syms: readonly (readonly [string, number])[];
}

export interface Dim {
  readonly terms: readonly Term[];
}

const EPS = 1e-9;

/** Monomial keys, once per (immutable) monomial. */
const keys = new WeakMap<Term['syms'], string>();

function monoKey(syms: Term['syms']): string {
  if (syms.length === 0) return '';
  if (syms.length === 1 && syms[0][1] === 1) return syms[0][0];
  let k = keys.get(syms);
  if (k === undefined) {
    k = syms.map(([s, e]) => (e === 1 ? s : `${s}^${e}`)).join('*');
    keys.set(syms, k);
  }
  return k;
}

/** Whether two monomials are the same (what equal keys say, without making the keys). */
function sameMono(a: Term['syms'], b: Term['syms']): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i][0] !== b[i][0] || a[i][1] !== b[i][1]) return false;
  return true;
}

const ZERO: Dim = { terms: [] };

function normalize(terms: Term[]): Dim {
  const n = terms.length;
  if (n === 0) return ZERO;
  if (n === 1) return Math.abs(terms[0].coef) > EPS ? { terms } : ZERO;
  if (n > 16) return normalizeMany(terms);
  // Like terms summed in order of appearance, each monomial once, then sorted by its key.
  const ks: string[] = [];
  const ts: Term[] = [];
  for (const t of terms) {
    const k = monoKey(t.syms);
    const j = ks.indexOf(k);
    if (j >= 0) ts[j] = { coef: ts[j].coef + t.coef, syms: t.syms };
    else {
      ks.push(k);
      ts.push(t);
    }
  }
  const order: number[] = [];
  for (let i = 0; i < ts.length; i++) if (Math.abs(ts[i].coef) > EPS) order.push(i);
  order.sort((a, b) => (ks[a] < ks[b] ? -1 : ks[a] > ks[b] ? 1 : 0));
  const out: Term[] = new Array(order.length);
  for (let i = 0; i < order.length; i++) out[i] = ts[order[i]];
  return { terms: out };
}

/** `normalize` for many terms, through a map. */
function normalizeMany(terms: Term[]): Dim {
  const map = new Map<string, Term>();
  for (const t of terms) {
    const k = monoKey(t.syms);
    const prev = map.get(k);
    map.set(k, prev ? { coef: prev.coef + t.coef, syms: t.syms } : t);
  }
  const out = [...map.entries()]
    .filter(([, t]) => Math.abs(t.coef) > EPS)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, t]) => t);
  return { terms: out };
}

/** Small integer constants, shared (dimensions are immutable). */
const SMALL: Dim[] = [];
for (let i = 0; i <= 1024; i++) SMALL.push(i === 0 ? ZERO : { terms: [{ coef: i, syms: [] }] });

export function dconst(n: number): Dim {
  if (Number.isInteger(n) && n >= 0 && n <= 1024) return SMALL[n];
  return normalize([{ coef: n, syms: [] }]);
}

export function dsym(name: string): Dim {
  return { terms: [{ coef: 1, syms: [[name, 1]] }] };
}

export function isConst(d: Dim): boolean {
  return d.terms.length === 0 || (d.terms.length === 1 && d.terms[0].syms.length === 0);
}

/** The numeric value of a constant dimension, or undefined when it has symbols. */
export function constValue(d: Dim): number | undefined {
  if (d.terms.length === 0) return 0;
  if (d.terms.length === 1 && d.terms[0].syms.length === 0) return d.terms[0].coef;
  return undefined;
}

/** A single symbol with coefficient 1 and exponent 1 (a unifiable variable), or undefined. */
export function asSymbol(d: Dim): string | undefined {
  if (d.terms.length !== 1) return undefined;
  const t = d.terms[0];
  return t.coef === 1 && t.syms.length === 1 && t.syms[0][1] === 1 ? t.syms[0][0] : undefined;
}

export function symbolsOf(d: Dim): Set<string> {
  const s = new Set<string>();
  for (const t of d.terms) for (const [n] of t.syms) s.add(n);
  return s;
}

export function add(a: Dim, b: Dim): Dim {
  if (a.terms.length === 0) return b;
  if (b.terms.length === 0) return a;
  return normalize([...a.terms, ...b.terms]);
}

export function neg(a: Dim): Dim {
  return { terms: a.terms.map((t) => ({ coef: -t.coef, syms: t.syms })) };
}

export function sub(a: Dim, b: Dim): Dim {
  return add(a, neg(b));
}

function mulTerm(a: Term, b: Term): Term {
  if (a.syms.length === 0) return { coef: a.coef * b.coef, syms: b.syms };
  if (b.syms.length === 0) return { coef: a.coef * b.coef, syms: a.syms };
  // Both monomials are sorted by name: merged in one pass, exponents of a shared name added.
  const x = a.syms;
  const y = b.syms;
  const syms: (readonly [string, number])[] = [];
  let i = 0;
  let j = 0;
  while (i < x.length || j < y.length) {
    let next: readonly [string, number];
    if (j >= y.length || (i < x.length && x[i][0] < y[j][0])) next = x[i++];
    else if (i >= x.length || y[j][0] < x[i][0]) next = y[j++];
    else {
      next = [x[i][0], x[i][1] + y[j][1]];
      i++;
      j++;
    }
    if (next[1] !== 0) syms.push(next);
  }
  return { coef: a.coef * b.coef, syms };
}

/** `d` times the constant `c`. */
function scale(d: Dim, c: number): Dim {
  if (c === 1) return d;
  if (Math.abs(c) <= EPS) return ZERO;
  return normalize(d.terms.map((t) => ({ coef: t.coef * c, syms: t.syms })));
}

export function mul(a: Dim, b: Dim): Dim {
  const ca = constValue(a);
  if (ca !== undefined) return scale(b, ca);
  const cb = constValue(b);
  if (cb !== undefined) return scale(a, cb);
  const out: Term[] = [];
  for (const x of a.terms) for (const y of b.terms) out.push(mulTerm(x, y));
  return normalize(out);
}

/**
 * `a // b`. Constants use floor division; a symbolic dividend over a monomial divisor is
 * taken as exact division (the code that writes `C // H` means H divides C); anything else
 * is undefined (unknown).
 */
export function floorDiv(a: Dim, b: Dim): Dim | undefined {
  const av = constValue(a);
  const bv = constValue(b);
  if (av !== undefined && bv !== undefined) return bv === 0 ? undefined : dconst(Math.floor(av / bv));
  if (b.terms.length !== 1) return undefined;
  const t = b.terms[0];
  if (Math.abs(t.coef) < EPS) return undefined;
  const inv: Term = { coef: 1 / t.coef, syms: t.syms.map(([s, e]) => [s, -e] as const) };
  return normalize(a.terms.map((x) => mulTerm(x, inv)));
}

export function pow(a: Dim, n: number): Dim | undefined {
  if (!Number.isInteger(n) || n < 0 || n > 8) return undefined;
  if (n === 1) return a;
  let r = dconst(1);
  for (let i = 0; i < n; i++) r = mul(r, a);
  return r;
}

export function equal(a: Dim, b: Dim): boolean {
  if (a === b) return true;
  if (a.terms.length !== b.terms.length) return false;
  for (let i = 0; i < a.terms.length; i++) {
    const x = a.terms[i];
    const y = b.terms[i];
    if (Math.abs(x.coef - y.coef) > EPS || !sameMono(x.syms, y.syms)) return false;
  }
  return true;
}

export type Cmp = 'eq' | 'ne' | 'unknown';

/** Compares two dimensions; 'ne' only when provably different for all positive symbol values. */
export function compare(a: Dim, b: Dim): Cmp {
  if (equal(a, b)) return 'eq';
  const diff = sub(a, b);
  if (isConst(diff)) return 'ne';
  const r = ratio(a, b);
  if (r !== undefined && Math.abs(r - 1) > EPS) return 'ne';
  return 'unknown';
}

/** a / b when it is a constant (both monomials over the same symbols), else undefined. */
export function ratio(a: Dim, b: Dim): number | undefined {
  if (a.terms.length !== 1 || b.terms.length !== 1) return undefined;
  if (!sameMono(a.terms[0].syms, b.terms[0].syms)) return undefined;
  return a.terms[0].coef / b.terms[0].coef;
}

/**
 * Solves `a == b` for one symbol of `a` that occurs linearly and alone in its term (`4*C` or
 * `C + 1`, not `C*H` or `C**2`) and nowhere in `b`: returns the symbol and its value `(b - rest)
 * / k`. Undefined when `a` has no such symbol. The caller decides whether to assume the equation.
 */
export function solveLinear(a: Dim, b: Dim): [string, Dim] | undefined {
  const inB = symbolsOf(b);
  for (const t of a.terms) {
    if (t.syms.length !== 1 || t.syms[0][1] !== 1 || Math.abs(t.coef) < EPS) continue;
    const s = t.syms[0][0];
    if (inB.has(s)) continue;
    const rest = a.terms.filter((x) => x !== t);
    if (rest.some((x) => x.syms.some(([n]) => n === s))) continue;
    return [s, mul(sub(b, { terms: rest }), dconst(1 / t.coef))];
  }
  return undefined;
}

/**
 * Two products of sizes with the factors they share divided out (`b*h == h*n` gives `b == n`),
 * where both are one product with a positive symbol in common; undefined otherwise.
 */
export function cancelCommon(a: Dim, b: Dim): [Dim, Dim] | undefined {
  if (a.terms.length !== 1 || b.terms.length !== 1) return undefined;
  const [ta, tb] = [a.terms[0], b.terms[0]];
  const eb = new Map(tb.syms);
  const common = new Map<string, number>();
  for (const [s, e] of ta.syms) {
    const f = eb.get(s);
    if (f !== undefined && e > 0 && f > 0) common.set(s, Math.min(e, f));
  }
  if (common.size === 0) return undefined;
  const cut = (t: Term): Dim => normalize([{ coef: t.coef, syms: t.syms.map(([s, e]) => [s, e - (common.get(s) ?? 0)] as const).filter(([, e]) => e !== 0) }]);
  return [cut(ta), cut(tb)];
}

/** Substitutes symbols by dimensions. */
export function substitute(d: Dim, lookup: (s: string) => Dim | undefined): Dim {
  // Which terms have a symbol substituted (most often none: the dimension itself).
  let hit: boolean[] | undefined;
  for (let i = 0; i < d.terms.length; i++) {
    const syms = d.terms[i].syms;
    for (let k = 0; k < syms.length; k++) {
      if (lookup(syms[k][0]) === undefined) continue;
      (hit ??= new Array<boolean>(d.terms.length).fill(false))[i] = true;
      break;
    }
  }
  if (!hit) return d;
  let touched = false;
  const parts: Dim[] = [];
  for (let i = 0; i < d.terms.length; i++) {
    const t = d.terms[i];
    // A term none of whose symbols is substituted is itself.
    if (!hit[i]) {
      parts.push({ terms: [t] });
      continue;
    }
    let acc: Dim = dconst(t.coef);
    for (const [s, e] of t.syms) {
      const v = lookup(s);
      if (v === undefined) {
        acc = mul(acc, { terms: [{ coef: 1, syms: [[s, e]] }] });
        continue;
      }
      touched = true;
      let p: Dim | undefined;
      if (e > 0) p = pow(v, e);
      else {
        const q = pow(v, -e);
        p = q ? floorDivExact(dconst(1), q) : undefined;
      }
      acc = p ? mul(acc, p) : mul(acc, { terms: [{ coef: 1, syms: [[s, e]] }] });
    }
    parts.push(acc);
  }
  if (!touched) return d;
  return parts.reduce((x, y) => add(x, y), dconst(0));
}

function floorDivExact(a: Dim, b: Dim): Dim | undefined {
  const bv = constValue(b);
  if (bv !== undefined) return bv === 0 ? undefined : mul(a, dconst(1 / bv));
  return floorDiv(a, b);
}

/** A symbol's display name: internal names carry a `#n` suffix that keeps scopes apart. */
export function displayName(s: string): string {
  const i = s.indexOf('#');
  return i < 0 ? s : s.slice(0, i);
}

/**
 * The sizes of one shape, each formatted; different symbols that would print with the same name
 * (two sizes both called `d`) get primes in order of first use (`d`, `d'`, `d''`), so a shape
 * never shows two sizes as one. `?` (nothing known) is never primed.
 */
export function formatAll(dims: readonly Dim[]): string[] {
  // Each display name with the symbols that show as it, in order of first use.
  const byName = new Map<string, string[]>();
  let shared = false;
  for (const d of dims) {
    for (const t of d.terms) {
      for (let k = 0; k < t.syms.length; k++) {
        const s = t.syms[k][0];
        const name = displayName(s);
        const seen = byName.get(name);
        if (!seen) byName.set(name, [s]);
        else if (!seen.includes(s)) {
          seen.push(s);
          shared = true;
        }
      }
    }
  }
  if (!shared) return dims.map((d) => format(d));
  const names = new Map<string, string>();
  for (const [name, syms] of byName) if (syms.length > 1 && name !== '?') syms.forEach((s, i) => names.set(s, name + "'".repeat(i)));
  return dims.map((d) => format(d, names.size ? names : undefined));
}

export function format(d: Dim, names?: ReadonlyMap<string, string>): string {
  if (d.terms.length === 0) return '0';
  const show = (s: string) => names?.get(s) ?? displayName(s);
  const parts = d.terms.map((t) => {
    const num = t.syms.filter(([, e]) => e > 0).map(([s, e]) => (e === 1 ? show(s) : `${show(s)}**${e}`));
    const den = t.syms.filter(([, e]) => e < 0).map(([s, e]) => (e === -1 ? show(s) : `${show(s)}**${-e}`));
    const coef = t.coef;
    let text: string;
    if (num.length === 0) text = String(Math.abs(coef) === 1 && den.length ? 1 : formatNum(Math.abs(coef)));
    else {
      const c = Math.abs(coef);
      if (Math.abs(c - 1) < EPS) text = num.join('*');
      else if (Number.isInteger(c)) text = `${c}*${num.join('*')}`;
      else if (Number.isInteger(1 / c)) {
        den.unshift(String(Math.round(1 / c)));
        text = num.join('*');
      } else text = `${formatNum(c)}*${num.join('*')}`;
    }
    if (den.length) text = `${text}//${den.length > 1 ? `(${den.join('*')})` : den[0]}`;
    return { neg: t.coef < 0, text };
  });
  let s = '';
  parts.forEach((p, i) => {
    if (i === 0) s = p.neg ? `-${p.text}` : p.text;
    else s += p.neg ? ` - ${p.text}` : ` + ${p.text}`;
  });
  return s;
}

function formatNum(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Number(n.toFixed(6)));
}
