/**
 * The analyzer on the code Attention Forge itself generates: every catalog block over its
 * parameter grid (the same grid the torch suite runs, so every one of these programs is known to
 * run in real torch) gets no diagnostic at all. Generated code is correct by construction and
 * users paste it into their models, so any report here is a false alarm — in styles the corpus
 * may not have (helper classes, list comprehensions over branches, SDPA variants, masks built
 * inside forward).
 */

import * as assert from 'node:assert/strict';
import { allBlocks } from '../../src/blocks/catalog';
import { renderPyTorch } from '../../src/codegen/pytorch';
import { gridCases } from '../helpers/grid';
import { analyzeSource, ready } from './analysis.helpers';

describe('analyzer on generated PyTorch', function () {
  before(async function () {
    await ready();
  });

  for (const b of allBlocks()) {
    it(`${b.id}: no diagnostic on any grid point`, function () {
      const problems: string[] = [];
      const seen = new Set<string>();
      for (const g of gridCases(b)) {
        const code = renderPyTorch(b, g.params);
        if (seen.has(code)) continue;
        seen.add(code);
        const a = analyzeSource(code);
        for (const d of a.diagnostics) problems.push(`${g.label}: line ${d.range.line + 1} [${d.rule}] ${d.message}`);
      }
      assert.ok(seen.size > 0);
      assert.deepEqual(problems, []);
    });
  }
});
