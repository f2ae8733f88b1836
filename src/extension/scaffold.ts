/**
 * The decisions behind scaffolding a block, as pure functions (no `vscode` import, unit-tested
 * in test/unit/scaffold.test.ts): the form's fields derived from the catalog, evaluating the
 * user's field texts into code or validation messages, the quick-pick validation of one value,
 * and the quick-pick parameter menu. The panel and the commands only carry out what these return.
 *
 * It pulls in the catalog and the generators, so the extension loads it on first use
 * (`import('./scaffold')`, a bundle of its own): activation does not pay for the catalog.
 */

import { allBlocks, checkParam, concreteShapes, getBlock, parseParamValue, resolveParams } from '../blocks/catalog';
import type { BlockDef, ParamDef, Params } from '../blocks/catalog';
import { pyLiteral } from '../codegen/pytorch';
import type { BlockEntry, FieldIssue, FormChoice, ParamField } from '../protocol/form';
import { GENERATORS, languageAvailability } from './generators';

// What the lazily loaded scaffold bundle offers the `vscode` glue besides the functions below.
export { allBlocks, getBlock, languageAvailability };

export function paramField(d: ParamDef): ParamField {
  return {
    name: d.name,
    type: d.type,
    defaultText: defaultText(d),
    doc: d.doc,
    ...(d.min !== undefined ? { min: d.min } : {}),
    ...(d.max !== undefined ? { max: d.max } : {}),
    ...(d.choices ? { choices: [...d.choices] } : {}),
    nullable: d.nullable ?? false,
    main: d.main ?? false,
  };
}

/** The text a field starts with: what `parseParamValue` reads back as the default. */
export function defaultText(d: ParamDef): string {
  if (d.default === null) return 'None';
  if (typeof d.default === 'boolean') return d.default ? 'true' : 'false';
  if (d.type === 'float') return pyLiteral(d.default, d);
  return String(d.default);
}

export function blockEntry(b: BlockDef): BlockEntry {
  // Main parameters first: they are the ones most people change.
  const params = [...b.params.filter((d) => d.main), ...b.params.filter((d) => !d.main)].map(paramField);
  return { id: b.id, title: b.title, summary: b.summary, layout: b.layout, params };
}

export function blockEntries(): BlockEntry[] {
  return allBlocks().map(blockEntry);
}

export { filterBlocks } from '../protocol/form';

export interface Evaluation {
  /** The generated code, when every value is valid and the language is available. */
  code: string | null;
  issues: FieldIssue[];
  /** `name: (shape)` of each output at the block's default dims. */
  shapes: string[];
  params?: Params;
}

/**
 * Parses each field text, resolves against the catalog (defaults + per-parameter checks +
 * the block's cross-parameter validation) and generates code. Never throws: every problem
 * becomes an issue naming its field.
 */
export function evaluateChoice(choice: FormChoice): Evaluation {
  const block = getBlock(choice.blockId);
  if (!block) return { code: null, issues: [{ param: '', message: `unknown block '${choice.blockId}'` }], shapes: [] };
  const given: Params = {};
  const issues: FieldIssue[] = [];
  for (const [name, text] of Object.entries(choice.values)) {
    const def = block.params.find((d) => d.name === name);
    if (!def) continue; // A field of another block left in the state; the catalog decides what exists.
    const parsed = parseParamValue(def, text);
    if ('error' in parsed) issues.push({ param: name, message: parsed.error });
    else given[name] = parsed.value;
  }
  if (issues.length) return { code: null, issues, shapes: [] };
  const resolved = resolveParams(block, given);
  if (resolved.issues.length) return { code: null, issues: resolved.issues.map((i) => ({ param: i.param, message: i.message })), shapes: [] };
  const shapes = outputShapes(block, resolved.params);
  const gen = GENERATORS[choice.language];
  if (!gen.generate) return { code: null, issues: [{ param: '', message: gen.note ?? `${choice.language} generation is not available` }], shapes, params: resolved.params };
  try {
    return { code: gen.generate(block, resolved.params), issues: [], shapes, params: resolved.params };
  } catch (e) {
    return { code: null, issues: [{ param: '', message: e instanceof Error ? e.message : String(e) }], shapes, params: resolved.params };
  }
}

function outputShapes(block: BlockDef, p: Params): string[] {
  try {
    const s = concreteShapes(block, p);
    return Object.entries(s.outputs).map(([k, v]) => `${k}: (${v.join(', ')})`);
  } catch {
    return [];
  }
}

/** Quick-pick input validation: undefined when the text is a valid value for the parameter. */
export function validateParamText(def: ParamDef, text: string): string | undefined {
  const parsed = parseParamValue(def, text);
  return 'error' in parsed ? parsed.error : checkParam(def, parsed.value);
}

// ------------------------------------------------------------------ the quick-pick flow

export interface ParamMenuItem {
  /** The parameter name, or undefined for the "accept" item. */
  param?: string;
  label: string;
  description: string;
  detail?: string;
}

/**
 * The items of *Insert Attention Block*'s parameter menu: first "insert" (with the reason it is
 * blocked when values are invalid), then every parameter with its current text, main
 * parameters first, and its doc or its validation message.
 */
export function paramMenu(blockId: string, values: Record<string, string>): { items: ParamMenuItem[]; valid: boolean } {
  const block = getBlock(blockId);
  if (!block) return { items: [], valid: false };
  const e = evaluateChoice({ blockId, values, language: 'pytorch' });
  const byParam = new Map<string, string>();
  for (const i of e.issues) byParam.set(i.param, [byParam.get(i.param), i.message].filter(Boolean).join('; '));
  const valid = e.code !== null;
  const accept: ParamMenuItem = valid
    ? { label: '$(check) Insert', description: e.shapes.join(', ') }
    : { label: '$(error) Fix the values below to insert', description: e.issues.map((i) => i.message).join('; ') };
  const entry = blockEntry(block);
  const items = entry.params.map((f) => {
    const text = values[f.name] ?? f.defaultText;
    const problem = byParam.get(f.name);
    return { param: f.name, label: `${problem ? '$(warning) ' : ''}${f.name} = ${text}`, description: `${f.type}${f.main ? ', main' : ''}`, detail: problem ?? f.doc };
  });
  return { items: [accept, ...items], valid };
}
