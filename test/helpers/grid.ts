/**
 * The parameter grid every block is verified over: its defaults, its own
 * examples, each boolean flipped, each enum choice, each bounded integer at
 * its minimum — keeping only combinations the catalog accepts — each at the
 * default input dims and at deliberately odd ones. Derived from the catalog,
 * so a new block or parameter is covered without touching the tests.
 */

import { concreteShapes, defaults, resolveParams } from '../../src/blocks/catalog';
import type { BlockDef, Params } from '../../src/blocks/types';

export interface GridCase {
  readonly block: BlockDef;
  readonly params: Params;
  readonly dims: Record<string, number>;
  readonly label: string;
}

function key(p: Params): string {
  return JSON.stringify(Object.keys(p).sort().map((k) => [k, p[k]]));
}

export function paramGrid(block: BlockDef): Params[] {
  const base = defaults(block);
  const candidates: Params[] = [base, ...block.examples.map((e) => ({ ...base, ...e }))];
  for (const d of block.params) {
    if (d.type === 'bool') candidates.push({ ...base, [d.name]: !base[d.name] });
    if (d.type === 'enum') for (const c of d.choices ?? []) candidates.push({ ...base, [d.name]: c });
    if (d.type === 'int' && d.min !== undefined && !d.nullable) candidates.push({ ...base, [d.name]: d.min });
  }
  const seen = new Set<string>();
  const out: Params[] = [];
  for (const c of candidates) {
    const { params, issues } = resolveParams(block, c);
    if (issues.length) continue;
    const k = key(params);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(params);
  }
  return out;
}

function dimSets(block: BlockDef): Record<string, number>[] {
  const def: Record<string, number> = {};
  const odd: Record<string, number> = {};
  for (const d of block.dims) {
    def[d.name] = d.default;
    odd[d.name] = d.odd;
  }
  return block.dims.length ? [def, odd] : [def];
}

export function gridCases(block: BlockDef): GridCase[] {
  const out: GridCase[] = [];
  for (const params of paramGrid(block)) {
    const changed = Object.entries(params)
      .filter(([k, v]) => v !== block.params.find((d) => d.name === k)?.default)
      .map(([k, v]) => `${k}=${v}`);
    for (const dims of dimSets(block)) {
      // Evaluate now so a contract that cannot be evaluated fails loudly at load time.
      concreteShapes(block, params, dims);
      const dimText = Object.entries(dims).map(([k, v]) => `${k}=${v}`).join(',');
      out.push({ block, params, dims, label: `${block.id} {${changed.join(', ') || 'defaults'}} [${dimText}]` });
    }
  }
  return out;
}
