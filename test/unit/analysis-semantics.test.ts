/**
 * The registry of fact-carrying op handlers (`src/analysis/semantics/`): each op name belongs
 * to one family table, so which handler runs never depends on the order the tables merge in.
 */

import * as assert from 'node:assert/strict';
import { FUNCTION_FAMILIES, METHOD_FAMILIES } from '../../src/analysis/semantics';

function owners(families: Record<string, Record<string, unknown>>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [family, table] of Object.entries(families)) {
    for (const op of Object.keys(table)) out.set(op, [...(out.get(op) ?? []), family]);
  }
  return out;
}

describe('analyzer op handlers', () => {
  it('name each tensor method and torch function in one family only', () => {
    for (const families of [METHOD_FAMILIES, FUNCTION_FAMILIES]) {
      const shared = [...owners(families)].filter(([, fs]) => fs.length > 1).map(([op, fs]) => `${op}: ${fs.join(', ')}`);
      assert.deepEqual(shared, []);
    }
  });
});
