/**
 * Symbolic dimensions stay canonical under arithmetic: every result has its monomials sorted by
 * name with no zero exponent, its terms sorted by monomial with no like terms and no zero
 * coefficient, so structural equality is equality of the expressions. Checked on random
 * polynomials (seeded) against the laws the evaluator relies on, and against evaluation at
 * random positive values of the symbols.
 */

import * as assert from 'node:assert/strict';
import * as D from '../../src/analysis/dims';
import { rng } from './rng.helpers';

const NAMES = ['B', 'C', 'H', 'T', 'd#1', 'dim', 'n_head'];

function randomDim(r: () => number): D.Dim {
  let acc = D.dconst(Math.floor(r() * 5));
  const terms = 1 + Math.floor(r() * 3);
  for (let i = 0; i < terms; i++) {
    let t = D.dconst(1 + Math.floor(r() * 4));
    const factors = Math.floor(r() * 3);
    for (let k = 0; k < factors; k++) {
      const s = D.dsym(NAMES[Math.floor(r() * NAMES.length)]);
      // Exact division by a symbol now and then: a negative exponent.
      t = r() < 0.2 ? D.floorDiv(t, s) ?? t : D.mul(t, s);
    }
    acc = r() < 0.25 ? D.sub(acc, t) : D.add(acc, t);
  }
  return acc;
}

function canonical(d: D.Dim): void {
  const keys = d.terms.map((t) => {
    assert.ok(Math.abs(t.coef) > 1e-9, 'no zero coefficient');
    for (let i = 0; i < t.syms.length; i++) {
      assert.notEqual(t.syms[i][1], 0, 'no zero exponent');
      if (i > 0) assert.ok(t.syms[i - 1][0] < t.syms[i][0], `symbols sorted and distinct in ${D.format(d)}`);
    }
    return t.syms.map(([s, e]) => `${s}^${e}`).join('*');
  });
  assert.equal(new Set(keys).size, keys.length, `no like terms in ${D.format(d)}`);
}

function valueAt(d: D.Dim, env: Map<string, number>): number {
  let v = 0;
  for (const t of d.terms) {
    let p = t.coef;
    for (const [s, e] of t.syms) p *= env.get(s)! ** e;
    v += p;
  }
  return v;
}

describe('analysis: symbolic dimensions', () => {
  it('arithmetic on random polynomials is canonical and agrees with evaluation', () => {
    const r = rng(20261207);
    let checked = 0;
    for (let i = 0; i < 400; i++) {
      const a = randomDim(r);
      const b = randomDim(r);
      const c = randomDim(r);
      const env = new Map(NAMES.map((n) => [n, 2 + Math.floor(r() * 9)]));
      const close = (x: number, y: number) => assert.ok(Math.abs(x - y) <= 1e-6 * Math.max(1, Math.abs(x), Math.abs(y)), `${x} vs ${y}`);
      const ab = D.mul(a, b);
      const sum = D.add(a, b);
      for (const d of [a, b, ab, sum, D.sub(a, b), D.mul(ab, c)]) canonical(d);
      close(valueAt(ab, env), valueAt(a, env) * valueAt(b, env));
      close(valueAt(sum, env), valueAt(a, env) + valueAt(b, env));
      assert.ok(D.equal(ab, D.mul(b, a)), 'commutative');
      assert.ok(D.equal(D.mul(ab, c), D.mul(a, D.mul(b, c))), 'associative');
      assert.ok(D.equal(D.mul(a, D.add(b, c)), D.add(ab, D.mul(a, c))), 'distributive');
      assert.equal(D.compare(a, a), 'eq');
      assert.equal(D.compare(D.add(a, D.dconst(1)), a), 'ne');
      // Substituting a symbol by a polynomial is evaluation at its value.
      const s = NAMES[i % NAMES.length];
      const sub = D.substitute(ab, (x) => (x === s ? c : undefined));
      canonical(sub);
      // (A symbol divided by, where its value is a sum, stays: exact division is by monomials.)
      if (!D.symbolsOf(sub).has(s) && valueAt(c, env) !== 0) {
        const at = new Map(env);
        at.set(s, valueAt(c, env));
        close(valueAt(sub, env), valueAt(ab, at));
      }
      // A substitution that touches nothing gives the dimension back.
      assert.equal(D.substitute(ab, () => undefined), ab);
      checked++;
    }
    assert.equal(checked, 400);
  });

  it('many like terms collapse as few do', () => {
    let d = D.dconst(0);
    for (let i = 0; i < 40; i++) d = D.add(d, D.mul(D.dsym(NAMES[i % NAMES.length]), D.dconst(i + 1)));
    canonical(d);
    assert.equal(d.terms.length, NAMES.length);
    const many = D.mul(d, d);
    canonical(many);
    const env = new Map(NAMES.map((n, i) => [n, i + 2]));
    assert.ok(Math.abs(valueAt(many, env) - valueAt(d, env) ** 2) < 1e-6);
  });

  it('formats with the names the code gave', () => {
    const hs = D.floorDiv(D.dsym('C'), D.dsym('n_head'))!;
    assert.equal(D.format(hs), 'C//n_head');
    assert.equal(D.format(D.mul(hs, D.dsym('n_head'))), 'C');
    assert.deepEqual(D.formatAll([D.dsym('d#1'), D.dsym('d#2')]), ['d', "d'"]);
  });
});
