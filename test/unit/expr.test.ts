import * as assert from 'node:assert/strict';
import { evalExpr, ExprError, parseExpr } from '../../src/blocks/expr';
import { divisible } from '../../src/blocks/checks';

describe('shape expressions', function () {
  it('evaluates with Python floor division and precedence', function () {
    assert.equal(evalExpr(parseExpr('(H + 2 * 1 - 3) // stride + 1'), { H: 7, stride: 2 }), 4);
    assert.equal(evalExpr(parseExpr('-7 // 2'), {}), -4);
    assert.equal(evalExpr(parseExpr('-7 % 3'), {}), 2);
    assert.equal(evalExpr(parseExpr('max(L, C // r)'), { L: 32, C: 16, r: 2 }), 32);
    assert.equal(evalExpr(parseExpr('ceil_div(H, w) * w'), { H: 7, w: 4 }), 8);
  });
  it('rejects malformed text and unbound names', function () {
    assert.throws(() => parseExpr('H +'), ExprError);
    assert.throws(() => parseExpr('H $ 2'), ExprError);
    assert.throws(() => evalExpr(parseExpr('Q'), {}), /unbound name 'Q'/);
  });
});

describe('validation messages', function () {
  it('suggests the nearest valid values', function () {
    assert.equal(divisible('embed_dim', 100, 'num_heads', 8)[0].message,
      'embed_dim (100) must be divisible by num_heads (8): try num_heads 10, 5 or 4, or embed_dim 96 or 104');
    assert.deepEqual(divisible('embed_dim', 96, 'num_heads', 8), []);
  });
});
