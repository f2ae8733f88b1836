/**
 * Catalog invariants: every block is complete, consistent and rejects what it
 * documents as invalid with the documented message.
 */

import * as assert from 'node:assert/strict';
import { allBlocks, concreteShapes, defaults, resolveParams } from '../../src/blocks/catalog';
import { freeNames, parseExpr } from '../../src/blocks/expr';
import { paramGrid } from '../helpers/grid';

describe('catalog', function () {
  it('lists at least 19 blocks with unique ids', function () {
    const ids = allBlocks().map((b) => b.id);
    assert.ok(ids.length >= 19, `only ${ids.length} blocks`);
    assert.equal(new Set(ids).size, ids.length);
  });

  for (const b of allBlocks()) {
    describe(b.id, function () {
      it('documents every parameter and has a summary', function () {
        assert.ok(b.summary.length > 10 && !b.summary.includes('\n'));
        assert.ok(b.docs.length > 40);
        for (const d of b.params) {
          assert.ok(d.doc.length > 5, `${d.name} has no doc`);
          if (d.type === 'enum') assert.ok(d.choices?.includes(d.default as string), `${d.name} default not a choice`);
        }
      });

      it('accepts its defaults and evaluates its contract', function () {
        const { issues } = resolveParams(b, {});
        assert.deepEqual(issues, []);
        const s = concreteShapes(b, defaults(b));
        assert.ok(Object.keys(s.outputs).includes('output'));
      });

      it('uses only known names in its contract', function () {
        for (const p of paramGrid(b)) {
          const known = new Set([...b.params.map((d) => d.name), ...b.dims.map((d) => d.name)]);
          const c = b.contract(p);
          for (const t of [...c.inputs, ...c.outputs]) {
            for (const s of t.shape) for (const n of freeNames(parseExpr(s))) assert.ok(known.has(n), `${t.name}: unknown name ${n} in ${s}`);
          }
        }
      });

      it('rejects its invalid examples with an actionable message', function () {
        for (const inv of b.invalid) {
          const { issues } = resolveParams(b, inv.params);
          assert.ok(issues.some((i) => i.message.includes(inv.message)), `${JSON.stringify(inv.params)}: got ${JSON.stringify(issues)}`);
        }
      });

      it('reports unknown parameters by name', function () {
        const { issues } = resolveParams(b, { no_such_param: 1 });
        assert.match(issues[0].message, /has no parameter 'no_such_param'/);
      });
    });
  }
});
