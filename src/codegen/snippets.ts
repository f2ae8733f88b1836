/**
 * Snippets emitter: one VS Code snippet per catalog block and target language (prefix
 * `attn-<id>`), written to `snippets/<language>.json` by `npm run gen`. The body is the
 * generated code at the block's defaults, with the block's main parameters (`ParamDef.main`)
 * turned into numbered placeholders at their constructor defaults and mirrored wherever the
 * header comment repeats them. It decides nothing about blocks: values come from the catalog
 * and code from the language's generator (PyTorch and TypeScript alike).
 *
 * For a language without a code generator, the snippet is the block's parameter object with
 * the same placeholders and the shape contract as a doc comment.
 */

import { defaults, formatShape } from '../blocks/catalog';
import type { BlockDef, ParamDef, Params } from '../blocks/catalog';
import { pyLiteral } from './pytorch';

export interface Snippet {
  prefix: string;
  description: string;
  body: string[];
}

export const SNIPPET_PREFIX = 'attn-';

/** Escapes text so the snippet engine inserts it literally. */
export function escapeSnippet(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\$/g, '\\$').replace(/\}/g, '\\}');
}

function mainParams(block: BlockDef): ParamDef[] {
  return block.params.filter((d) => d.main && !d.baked);
}

/**
 * Turns the generated Python at the defaults into a snippet body: in the main class's
 * constructor signature each main parameter's default becomes `${n:value}`; in the header
 * comment (`Parameters: name=value`) it becomes the mirror `$n`.
 */
export function pythonSnippetBody(block: BlockDef, code: string): string {
  return placeholderBody(block, code, { literal: pyLiteral, comment: '#', type: '[\\w\\[\\]]+' });
}

/** The same for generated TypeScript: `name: number = 64` in the main class's constructor, `// Parameters: name=64`. */
export function typescriptSnippetBody(block: BlockDef, code: string): string {
  return placeholderBody(block, code, { literal: (v) => tsLiteral(v), comment: '//', type: '[\\w| ]+?' });
}

interface Syntax {
  literal(v: Params[string], d: ParamDef): string;
  /** The line-comment marker of the header. */
  comment: string;
  /** A regular expression for a parameter's type annotation in the constructor signature. */
  type: string;
}

function placeholderBody(block: BlockDef, code: string, syntax: Syntax): string {
  let text = escapeSnippet(code);
  const p = defaults(block);
  mainParams(block).forEach((d, i) => {
    const n = i + 1;
    const lit = escapeSnippet(syntax.literal(p[d.name], d));
    const sig = new RegExp(`(\\b${d.name}: ${syntax.type} = )${escapeRe(lit)}(?=[,)\\n])`, 'g');
    // The main class comes last, so its signature is the last match.
    const matches = [...text.matchAll(sig)];
    const last = matches[matches.length - 1];
    if (last?.index !== undefined) text = text.slice(0, last.index) + `${last[1]}\${${n}:${lit}}` + text.slice(last.index + last[0].length);
    text = text.replace(new RegExp(`^(${escapeRe(syntax.comment)}.*\\b${d.name}=)${escapeRe(lit)}(?=[,.])`, 'm'), (_, head: string) => `${head}$${n}`);
  });
  return text;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function tsLiteral(v: Params[string]): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return `'${v}'`;
  return String(v);
}

/** The parameter-object snippet used for a language without a generator. */
export function paramObjectSnippetBody(block: BlockDef): string {
  const p = defaults(block);
  const c = block.contract(p);
  const mains = mainParams(block);
  const ident = block.id.replace(/[^A-Za-z0-9]+(.)/g, (_, ch: string) => ch.toUpperCase());
  const fields = block.params.map((d) => {
    const lit = escapeSnippet(tsLiteral(p[d.name]));
    const i = mains.indexOf(d);
    return `  ${d.name}: ${i >= 0 ? `\${${i + 1}:${lit}}` : lit},`;
  });
  const io = [
    ...c.inputs.map((t) => ` * @input ${t.name} ${formatShape(t.shape)} — ${t.doc}`),
    ...c.outputs.map((t) => ` * @output ${t.name} ${formatShape(t.shape)} — ${t.doc}`),
  ];
  return escapeSnippetLines([
    `/**`,
    ` * ${block.title} (Attention Forge block '${block.id}').`,
    ...io,
  ]).concat([` */`, `const ${ident}Params = {`, ...fields, `};`, '$0']).join('\n');
}

function escapeSnippetLines(lines: string[]): string[] {
  return lines.map(escapeSnippet);
}

/**
 * The snippets file of one language: `generate` renders a block at its defaults (absent when
 * the language has no generator).
 */
export function snippetsFile(blocks: readonly BlockDef[], language: 'python' | 'typescript', generate?: (b: BlockDef, p: Params) => string): Record<string, Snippet> {
  const out: Record<string, Snippet> = {};
  for (const b of blocks) {
    let body: string;
    if (generate) body = (language === 'python' ? pythonSnippetBody : typescriptSnippetBody)(b, generate(b, defaults(b)));
    else body = paramObjectSnippetBody(b);
    out[`${b.title} (${b.id})`] = { prefix: `${SNIPPET_PREFIX}${b.id}`, description: b.summary, body: body.replace(/\n+$/, '').split('\n') };
  }
  return out;
}

/** The JSON text written to `snippets/<language>.json`. */
export function snippetsJson(file: Record<string, Snippet>): string {
  // VS Code reads snippet files as JSON with comments, so the banner can be a comment.
  return '// Generated from src/blocks by `npm run gen` — do not edit.\n' + JSON.stringify(file, null, 2) + '\n';
}
