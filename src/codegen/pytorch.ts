/**
 * PyTorch emitter: renders a catalog block, at given parameter values, as a
 * self-contained Python module (imports, helper classes, the block class).
 *
 * The block file supplies the structure (`PyClassSpec`); this file owns the
 * presentation: the header, imports derived from what the code uses, type
 * hints, the docstring with the shape contract, arguments and citation, and
 * the constructor signature whose defaults are the chosen parameter values.
 * It does not validate parameters: callers resolve them through the catalog
 * first (`generatePyTorch` does).
 */

import { formatShape, resolveParams } from '../blocks/catalog';
import { freeNames, parseExpr } from '../blocks/expr';
import type { BlockDef, ParamDef, Params, PyArg, PyClassSpec } from '../blocks/types';

export class InvalidParamsError extends Error {
  constructor(
    readonly blockId: string,
    readonly issues: readonly { param: string; message: string }[],
  ) {
    super(issues.map((i) => i.message).join('\n'));
  }
}

/** Python source for a parameter value; floats keep a decimal point (`0.0`, not `0`). */
export function pyLiteral(v: Params[string], def?: ParamDef): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'string') return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (def?.type === 'float' && Number.isInteger(v)) return v.toFixed(1);
  return String(v);
}

export function pyType(def: ParamDef): string {
  const base = def.type === 'enum' ? 'str' : def.type;
  return def.nullable ? `Optional[${base}]` : base;
}

/** Constructor arguments of a block's main class: its non-baked parameters, defaulting to the chosen values. */
export function ctorArgs(block: BlockDef, p: Params): PyArg[] {
  return block.params.filter((d) => !d.baked).map((d) => ({ name: d.name, annotation: pyType(d), default: pyLiteral(p[d.name], d) }));
}

function indent(lines: readonly string[], by: string): string[] {
  return lines.map((l) => (l === '' ? '' : by + l));
}

function signature(name: string, self: boolean, args: readonly PyArg[], returns: string): string {
  const parts = [...(self ? ['self'] : []), ...args.map((a) => `${a.name}: ${a.annotation}${a.default !== undefined ? ` = ${a.default}` : ''}`)];
  const one = `def ${name}(${parts.join(', ')}) -> ${returns}:`;
  if (one.length <= 88) return one;
  return [`def ${name}(`, ...parts.map((p) => `    ${p},`), `) -> ${returns}:`].join('\n');
}

function docstring(lines: readonly string[]): string[] {
  if (lines.length === 1) return [`"""${lines[0]}"""`];
  return ['"""' + lines[0], ...lines.slice(1), '"""'];
}

function renderClass(c: PyClassSpec, doc: readonly string[], initArgs: readonly PyArg[]): string[] {
  const out: string[] = [`class ${c.name}(nn.Module):`];
  out.push(...indent(docstring([c.summary, ...(doc.length ? ['', ...doc] : [])]), '    '));
  out.push('');
  out.push(...indent(signature('__init__', true, initArgs, 'None').split('\n'), '    '));
  out.push(...indent(['super().__init__()', ...c.init], '        '));
  out.push('');
  out.push(...indent(signature('forward', true, c.forwardArgs, c.returns).split('\n'), '    '));
  out.push(...indent(c.forward, '        '));
  return out;
}

function collectHelpers(c: PyClassSpec, seen: Map<string, PyClassSpec>): void {
  for (const h of c.helpers ?? []) {
    collectHelpers(h, seen);
    if (!seen.has(h.name)) seen.set(h.name, h);
  }
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const w of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + w.length > width) {
      out.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) out.push(line);
  return out;
}

/** The main class docstring: shape contract, arguments, block notes, reference. */
function mainDoc(block: BlockDef, p: Params, c: PyClassSpec): string[] {
  const contract = block.contract(p);
  const doc: string[] = [];
  doc.push('Shape:');
  const entry = (head: string, rest: string) => {
    const w = wrap(`${head} ${rest}`, 72);
    doc.push(`    - ${w[0]}`, ...w.slice(1).map((l) => `      ${l}`));
  };
  for (const t of contract.inputs) entry(`${t.name}:`, `${formatShape(t.shape)}${t.dtype === 'bool' ? ' bool' : ''} — ${t.doc}`);
  for (const t of contract.outputs) entry(`returns ${t.name}:`, `${formatShape(t.shape)} — ${t.doc}`);
  // Only the dims these parameters' contract mentions (a 2-D Non-local has no T).
  const used = new Set<string>();
  for (const t of [...contract.inputs, ...contract.outputs]) for (const e of t.shape) freeNames(parseExpr(e), used);
  const dims = block.dims.filter((d) => used.has(d.name));
  if (dims.length) doc.push(...wrap(`where ${dims.map((d) => `${d.name} = ${d.doc}`).join(', ')}.`, 72).map((l) => `    ${l}`));
  const args = block.params.filter((d) => !d.baked);
  if (args.length) {
    doc.push('', 'Args:');
    for (const d of args) {
      const w = wrap(`${d.name}: ${d.doc}`, 76);
      doc.push(`    ${w[0]}`, ...w.slice(1).map((l) => `        ${l}`));
    }
  }
  if (c.doc?.length) doc.push('', ...c.doc);
  if (block.citation) {
    doc.push('', 'Reference:');
    doc.push(...wrap(`${block.citation.authors}, "${block.citation.title}", ${block.citation.year}. ${block.citation.url}`, 76).map((l) => `    ${l}`));
  }
  return doc;
}

/** The constructor's first lines when the code needs torch >= 2.0: a RuntimeError naming the reason and the installed torch. */
export function torch2Guard(className: string, reason: string): string[] {
  const msg = `${className} needs torch >= 2.0 (${reason}), found torch {torch.__version__}`.replace(/"/g, "'");
  return ['if int(torch.__version__.split(".")[0]) < 2:', `    raise RuntimeError(f"${msg}")`];
}

/** Renders a block's structure as Python source. Parameters must already be valid. */
export function renderPyTorch(block: BlockDef, p: Params): string {
  const main = block.pytorch(p);
  const helpers = new Map<string, PyClassSpec>();
  collectHelpers(main, helpers);
  const classes: string[][] = [];
  for (const h of helpers.values()) classes.push(renderClass(h, h.doc ?? [], h.initArgs ?? []));
  const needs2 = block.torch2Only?.(p);
  // Code that needs torch >= 2.0 says so when it is built on an older torch, instead of failing
  // later with an AttributeError or TypeError on the missing function or argument.
  const mainSpec = needs2 ? { ...main, init: [...torch2Guard(main.name, needs2), ...main.init] } : main;
  classes.push(renderClass(mainSpec, mainDoc(block, p, main), main.initArgs ?? ctorArgs(block, p)));
  const body = classes.map((c) => c.join('\n')).join('\n\n\n');

  const imports: string[] = [];
  if (/\bmath\./.test(body)) imports.push('import math');
  const typing = ['Optional', 'Tuple', 'List'].filter((t) => new RegExp(`\\b${t}\\[`).test(body));
  if (typing.length) imports.push(`from typing import ${typing.join(', ')}`);
  if (imports.length) imports.push('');
  imports.push('import torch', 'import torch.nn as nn');
  if (/\bF\./.test(body)) imports.push('import torch.nn.functional as F');

  const chosen = block.params.map((d) => `${d.name}=${pyLiteral(p[d.name], d)}`).join(', ');
  const header = [
    `# ${block.title} — generated by Attention Forge (block '${block.id}').`,
    ...wrap(`Parameters: ${chosen}.`, 76).map((l) => `# ${l}`),
    ...(block.torch2Only?.(p) ? [`# Requires torch >= 2.0: ${block.torch2Only(p)}.`] : []),
  ];
  return [...header, ...imports, '', '', body, ''].join('\n');
}

/** Resolves and validates parameters, then renders. Throws InvalidParamsError with actionable messages. */
export function generatePyTorch(block: BlockDef, given: Params): string {
  const { params, issues } = resolveParams(block, given);
  if (issues.length) throw new InvalidParamsError(block.id, issues);
  return renderPyTorch(block, params);
}
