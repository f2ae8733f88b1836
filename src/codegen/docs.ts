/**
 * Docs emitter: the catalog as JSON (`attention-forge blocks --json`) and as
 * Markdown (`docs/blocks.md`, written by `npm run gen`). Both list every
 * parameter with its type, default, constraints and doc, and the shape
 * contract at the default parameters.
 */

import { defaults, formatShape } from '../blocks/catalog';
import type { BlockDef, ParamDef, TensorSpec } from '../blocks/types';

export interface ParamJson {
  name: string;
  type: ParamDef['type'];
  default: ParamDef['default'];
  constraints: { min?: number; max?: number; choices?: readonly string[]; nullable?: boolean };
  doc: string;
  /** A generation-time choice rather than a constructor argument. */
  structural: boolean;
}

function tensorJson(t: TensorSpec) {
  return { name: t.name, shape: [...t.shape], dtype: t.dtype ?? 'float', doc: t.doc, ...(t.optional ? { optional: true } : {}) };
}

export function paramJson(d: ParamDef): ParamJson {
  const constraints: ParamJson['constraints'] = {};
  if (d.min !== undefined) constraints.min = d.min;
  if (d.max !== undefined) constraints.max = d.max;
  if (d.choices) constraints.choices = d.choices;
  if (d.nullable) constraints.nullable = true;
  return { name: d.name, type: d.type, default: d.default, constraints, doc: d.doc, structural: d.baked ?? false };
}

export function blockJson(b: BlockDef) {
  const c = b.contract(defaults(b));
  return {
    id: b.id,
    title: b.title,
    summary: b.summary,
    layout: b.layout,
    citation: b.citation ?? null,
    params: b.params.map(paramJson),
    dims: b.dims.map((d) => ({ name: d.name, doc: d.doc, default: d.default })),
    contract: { inputs: c.inputs.map(tensorJson), outputs: c.outputs.map(tensorJson) },
    docs: b.docs,
    differences: b.differences ?? null,
  };
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function blocksMarkdown(blocks: readonly BlockDef[]): string {
  const out: string[] = [
    '<!-- Generated from src/blocks by `npm run gen` — do not edit. -->',
    '# Block catalog',
    '',
    `${blocks.length} blocks. Shapes are stated at the default parameters; \`attention-forge blocks --json\` gives the same data.`,
    '',
    ...blocks.map((b) => `- [\`${b.id}\`](#${b.id}) — ${b.summary}`),
    '',
  ];
  for (const b of blocks) {
    const c = b.contract(defaults(b));
    out.push(`## ${b.id}`, '', `**${b.title}** — input layout ${b.layout}.`, '', b.docs, '');
    if (b.differences) out.push(`**Differences from the reference posts.** ${b.differences}`, '');
    out.push('| tensor | shape | |', '|---|---|---|');
    for (const t of c.inputs) out.push(`| input \`${t.name}\` | ${formatShape(t.shape)}${t.dtype === 'bool' ? ' bool' : ''} | ${cell(t.doc)} |`);
    for (const t of c.outputs) out.push(`| output \`${t.name}\` | ${formatShape(t.shape)} | ${cell(t.doc)} |`);
    out.push('', '| parameter | type | default | constraints | |', '|---|---|---|---|---|');
    for (const d of b.params) {
      const j = paramJson(d);
      const cons = [
        j.constraints.min !== undefined ? `≥ ${j.constraints.min}` : '',
        j.constraints.max !== undefined ? `≤ ${j.constraints.max}` : '',
        j.constraints.choices ? j.constraints.choices.join(' \\| ') : '',
        j.constraints.nullable ? 'may be None' : '',
        j.structural ? 'structural' : '',
      ].filter(Boolean);
      out.push(`| \`${d.name}\` | ${d.type} | \`${JSON.stringify(d.default)}\` | ${cons.join(', ')} | ${cell(d.doc)} |`);
    }
    if (b.citation) out.push('', `Reference: ${b.citation.authors}, [${b.citation.title}](${b.citation.url}), ${b.citation.year}.`);
    out.push('');
  }
  return out.join('\n');
}
