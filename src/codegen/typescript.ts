/**
 * TypeScript emitter: renders a catalog block, at given parameter values, as
 * a self-contained TypeScript module whose class extends the runtime's
 * `nn.Module` and mirrors the generated PyTorch class statement by statement
 * (same attribute names, hence the same state_dict keys). The block file
 * supplies the structure (`TsClassSpec` from `BlockDef.typescript`); this
 * file owns the presentation: header, imports, field declarations, the
 * constructor whose defaults are the chosen values and whose last argument
 * is the runtime's factory options (`generator`, `device`), and a doc comment
 * with the shape contract. It neither validates parameters (the catalog
 * does, in `generateTypeScript`) nor decides shapes.
 */

import { formatShape, resolveParams } from '../blocks/catalog';
import type { BlockDef, ParamDef, Params, TsArg, TsClassSpec } from '../blocks/types';
import { InvalidParamsError } from './pytorch';

/** Where generated code imports the runtime from; tests point it at `src/runtime`. */
export const DEFAULT_RUNTIME_IMPORT = 'attention-forge/runtime';

export class NoTypeScriptError extends Error {
  constructor(readonly blockId: string) {
    super(`block '${blockId}' has no TypeScript version yet (issue 3); use --lang py`);
  }
}

export function tsLiteral(v: Params[string]): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  return String(v);
}

function tsType(def: ParamDef): string {
  const base = def.type === 'enum' ? def.choices?.map((c) => `'${c}'`).join(' | ') ?? 'string' : def.type === 'bool' ? 'boolean' : 'number';
  return def.nullable ? `${base} | null` : base;
}

/** Constructor arguments of a block's main class: its non-baked parameters, defaulting to the chosen values. */
export function tsCtorArgs(block: BlockDef, p: Params): TsArg[] {
  return block.params.filter((d) => !d.baked).map((d) => ({ name: d.name, type: tsType(d), default: tsLiteral(p[d.name]) }));
}

function arg(a: TsArg): string {
  return a.default !== undefined ? `${a.name}: ${a.type} = ${a.default}` : `${a.name}: ${a.type}`;
}

function indentLines(lines: readonly string[], by: string): string[] {
  return lines.map((l) => (l === '' ? '' : by + l));
}

function renderClass(c: TsClassSpec, doc: readonly string[], ctor: readonly TsArg[]): string[] {
  const out: string[] = ['/**', ...[c.summary, ...(doc.length ? ['', ...doc] : [])].map((l) => (l ? ` * ${l}` : ' *')), ' */'];
  out.push(`export class ${c.name} extends nn.Module {`);
  out.push(...indentLines(c.fields.map((f) => `${f};`), '  '));
  if (c.fields.length) out.push('');
  const params = [...ctor.map(arg), '{ generator, device }: nn.FactoryOptions = {}'];
  out.push(`  constructor(${params.join(', ')}) {`);
  out.push('    super();');
  out.push(...indentLines(c.init, '    '));
  out.push('  }', '');
  out.push(`  forward(${c.forwardArgs.map(arg).join(', ')}): ${c.returns} {`);
  out.push(...indentLines(c.forward, '    '));
  out.push('  }', '}');
  return out;
}

function collectHelpers(c: TsClassSpec, seen: Map<string, TsClassSpec>): void {
  for (const h of c.helpers ?? []) {
    collectHelpers(h, seen);
    if (!seen.has(h.name)) seen.set(h.name, h);
  }
}

/** Renders a block's TypeScript structure. Parameters must already be valid. */
export function renderTypeScript(block: BlockDef, p: Params, runtimeImport = DEFAULT_RUNTIME_IMPORT): string {
  if (!block.typescript) throw new NoTypeScriptError(block.id);
  const main = block.typescript(p);
  const helpers = new Map<string, TsClassSpec>();
  collectHelpers(main, helpers);
  const contract = block.contract(p);
  const doc = [
    'Shape:',
    ...contract.inputs.map((t) => `- ${t.name}: ${formatShape(t.shape)}${t.dtype === 'bool' ? ' bool' : ''} — ${t.doc}`),
    ...contract.outputs.map((t) => `- returns ${t.name}: ${formatShape(t.shape)} — ${t.doc}`),
    '',
    'Parameters have random initial values from `generator` (seeded, torch-like distributions);',
    'load trained ones with `loadStateDictFromSafetensors(block, bytes)`. Runs in eval mode.',
  ];
  const classes: string[][] = [];
  for (const h of helpers.values()) classes.push(renderClass(h, [], h.ctorArgs ?? []));
  classes.push(renderClass(main, doc, main.ctorArgs ?? tsCtorArgs(block, p)));
  const body = classes.map((c) => c.join('\n')).join('\n\n');
  // Import what the code uses: `F.`, a type or constructor name, or a factory call (comments never call).
  const names = ['nn', 'Tensor', 'TorchError', 'F', 'cat', 'stack', 'ones', 'zeros', 'tensor', 'arange', 'tril', 'triu'].filter((n) => {
    if (n === 'nn') return true;
    if (n === 'F') return /(?<![\w.])F\./.test(body);
    if (n === 'Tensor' || n === 'TorchError') return new RegExp(`(?<![\\w.])${n}\\b`).test(body);
    return new RegExp(`(?<![\\w.])${n}\\(`).test(body);
  });
  const chosen = block.params.map((d) => `${d.name}=${tsLiteral(p[d.name])}`).join(', ');
  return [
    `// ${block.title} — generated by Attention Forge (block '${block.id}') for the Attention Forge runtime.`,
    `// Parameters: ${chosen}.`,
    `// Mirrors the generated PyTorch module line by line; state_dict keys are identical.`,
    `import { ${names.join(', ')} } from '${runtimeImport}';`,
    '',
    body,
    '',
  ].join('\n');
}

/** Resolves and validates parameters, then renders. Throws InvalidParamsError or NoTypeScriptError. */
export function generateTypeScript(block: BlockDef, given: Params, runtimeImport = DEFAULT_RUNTIME_IMPORT): string {
  const { params, issues } = resolveParams(block, given);
  if (issues.length) throw new InvalidParamsError(block.id, issues);
  return renderTypeScript(block, params, runtimeImport);
}
