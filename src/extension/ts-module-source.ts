/**
 * *Preview module* for TypeScript files, the part that reads the source without running it: which
 * classes are runtime modules (`tsModuleClasses`: a class whose base is the runtime's `nn.Module`,
 * another module class of the runtime such as `nn.Linear`, or a module class of the same file),
 * what their constructors take (`constructorParameters`: names, and which have no default), and
 * the input shape a class's doc comment states (`guessTsInputShape`: the `- x: (N, L, embed_dim)`
 * lines the generated blocks carry, sizes named by constructor parameters read from their
 * defaults). It is a scanner over comments, strings and brackets, not a TypeScript parser: a class
 * it misses gets no lens, and the run itself (`ts-module-run.ts`, on the module thread) is what
 * decides. It never evaluates anything and imports neither `vscode` nor the transpiler, so the
 * extension host loads it cheaply for the lenses.
 */

import { nn } from '../runtime/index';

/** The import specifier of the runtime (package.json `exports['./runtime']`). */
export const RUNTIME_SPECIFIER = 'attention-forge/runtime';

/**
 * Whether an import specifier names the runtime: the package's, or a relative path to this
 * repository's runtime source (`../src/runtime`, `../src/runtime/index.ts`), as the repository's
 * own examples import it. The run checks that the relative path really is the runtime's folder.
 */
export function isRuntimeSpecifier(spec: string): boolean {
  return spec === RUNTIME_SPECIFIER || /^\.\.?\/(?:.*\/)?runtime(?:\/index)?(?:\.[cm]?[jt]s)?$/.test(spec);
}

/**
 * The source with comments blanked (and, with `strings`, the contents of string literals), newlines
 * kept, so offsets and lines stay those of the source.
 */
export function maskComments(src: string, strings = false): string {
  let out = '';
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    const d = src[i + 1];
    if (c === '/' && d === '/') {
      const end = src.indexOf('\n', i);
      const stop = end < 0 ? src.length : end;
      out += ' '.repeat(stop - i);
      i = stop;
    } else if (c === '/' && d === '*') {
      const end = src.indexOf('*/', i + 2);
      const stop = end < 0 ? src.length : end + 2;
      out += src.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
    } else if (c === '"' || c === "'" || c === '`') {
      const stop = stringEnd(src, i);
      out += strings ? c + src.slice(i + 1, stop - 1).replace(/[^\n]/g, ' ') + (stop - i > 1 ? src[stop - 1] : '') : src.slice(i, stop);
      i = stop;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** The offset just past the string literal that opens at `i` (a template's `${…}` parts are skipped whole, nesting included). */
function stringEnd(src: string, i: number): number {
  const q = src[i];
  let j = i + 1;
  while (j < src.length) {
    const c = src[j];
    if (c === '\\') j += 2;
    else if (c === q) return j + 1;
    else if (q !== '`' && c === '\n') return j;
    else if (q === '`' && c === '$' && src[j + 1] === '{') j = matching(src, j + 1) + 1;
    else j++;
  }
  return src.length;
}

const OPEN: Record<string, string> = { '(': ')', '[': ']', '{': '}' };

/** The offset of the bracket that closes the one at `i` (strings skipped); the end of the text when it never closes. */
function matching(src: string, i: number): number {
  const stack = [OPEN[src[i]]];
  let j = i + 1;
  while (j < src.length && stack.length) {
    const c = src[j];
    if (c === '"' || c === "'" || c === '`') {
      j = stringEnd(src, j);
      continue;
    }
    if (OPEN[c]) stack.push(OPEN[c]);
    else if (c === stack[stack.length - 1]) stack.pop();
    j++;
  }
  return j - 1;
}

/** 1-based line of an offset. */
export function lineAt(src: string, offset: number): number {
  let n = 1;
  for (let i = 0; i < offset; i++) if (src.charCodeAt(i) === 10) n++;
  return n;
}

/** What one import statement binds from the runtime: local names of its exports, and names of the whole namespace. */
function runtimeBindings(masked: string): { named: Map<string, string>; namespaces: Set<string> } {
  const named = new Map<string, string>();
  const namespaces = new Set<string>();
  for (const m of masked.matchAll(/\bimport\s+(?!type\b)([^;'"]*?)\s+from\s*(['"])([^'"]+)\2/g)) {
    if (!isRuntimeSpecifier(m[3])) continue;
    const clause = m[1];
    const star = /\*\s*as\s+([A-Za-z_$][\w$]*)/.exec(clause);
    if (star) namespaces.add(star[1]);
    const def = /^([A-Za-z_$][\w$]*)\s*(?:,|$)/.exec(clause.trim());
    if (def) namespaces.add(def[1]);
    const braces = /\{([^}]*)\}/.exec(clause);
    for (const item of braces ? braces[1].split(',') : []) {
      const p = /^\s*(?:type\s+)?([A-Za-z_$][\w$]*)(?:\s+as\s+([A-Za-z_$][\w$]*))?\s*$/.exec(item);
      if (p && !/^\s*type\s/.test(item)) named.set(p[2] ?? p[1], p[1]);
    }
  }
  return { named, namespaces };
}

/** Whether a runtime export path (`['nn', 'Module']`) is `nn.Module` or a module class of the runtime. */
function isRuntimeModuleClass(pathParts: readonly string[]): boolean {
  if (pathParts.length !== 2 || pathParts[0] !== 'nn') return false;
  const v = (nn as unknown as Record<string, unknown>)[pathParts[1]];
  return typeof v === 'function' && (v === nn.Module || v.prototype instanceof nn.Module);
}

export interface TsModuleClass {
  /** 1-based line of the `class` keyword. */
  readonly line: number;
  readonly className: string;
  /** The base as written (`nn.Module`, `Attention`). */
  readonly base: string;
}

/** Every top-level-looking class of the file that extends a runtime module class, directly or through classes of the same file. */
export function tsModuleClasses(source: string): TsModuleClass[] {
  const { named, namespaces } = runtimeBindings(maskComments(source));
  const masked = maskComments(source, true);
  const all: { offset: number; className: string; base: string }[] = [];
  for (const m of masked.matchAll(/\bclass\s+([A-Za-z_$][\w$]*)\s*(?:<[\s\S]*?>\s*)?extends\s+([A-Za-z_$][\w$]*(?:\s*\.\s*[A-Za-z_$][\w$]*)*)/g)) {
    all.push({ offset: m.index + m[0].indexOf('class'), className: m[1], base: m[2].replace(/\s+/g, '') });
  }
  const fromRuntime = (base: string): boolean => {
    const [head, ...rest] = base.split('.');
    if (namespaces.has(head)) return isRuntimeModuleClass(rest);
    const exported = named.get(head);
    return exported !== undefined && isRuntimeModuleClass([exported, ...rest]);
  };
  const modules = new Set<string>();
  // A class may extend one declared further down the file: repeat until nothing changes.
  for (let changed = true; changed; ) {
    changed = false;
    for (const c of all) {
      if (modules.has(c.className)) continue;
      if (fromRuntime(c.base) || modules.has(c.base)) {
        modules.add(c.className);
        changed = true;
      }
    }
  }
  return all.filter((c) => modules.has(c.className)).map((c) => ({ line: lineAt(source, c.offset), className: c.className, base: c.base }));
}

/** One constructor parameter as written. */
export interface ConstructorParameter {
  /** Its name; undefined for a destructuring pattern. */
  readonly name?: string;
  /** The default's text, when it has one. */
  readonly defaultText?: string;
  /** `x?: T`, or a rest parameter: nothing needs to be passed. */
  readonly optional: boolean;
  /** The runtime's `nn.FactoryOptions` (typed so, or a destructuring pattern that takes `generator`): the preview passes its seeded generator there. */
  readonly factoryOptions: boolean;
}

/** Splits at top-level commas (brackets, angle brackets of types, and strings respected). */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"' || c === "'" || c === '`') {
      i = stringEnd(text, i) - 1;
    } else if (c === '(' || c === '[' || c === '{' || (c === '<' && text[i + 1] !== '=')) depth++;
    else if (c === ')' || c === ']' || c === '}' || (c === '>' && text[i - 1] !== '=' && text[i + 1] !== '=')) depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (text.slice(start).trim()) parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter(Boolean);
}

/** The offset of the first top-level `=` of a parameter that is an initialiser (not `=>`, `==`, `<=`, `>=`, `!=`). */
function initialiserAt(p: string): number {
  let depth = 0;
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '"' || c === "'" || c === '`') i = stringEnd(p, i) - 1;
    else if (c === '(' || c === '[' || c === '{' || (c === '<' && p[i + 1] !== '=')) depth++;
    else if (c === ')' || c === ']' || c === '}' || (c === '>' && p[i - 1] !== '=' && p[i + 1] !== '=')) depth--;
    else if (c === '=' && depth === 0 && p[i + 1] !== '>' && p[i + 1] !== '=' && !'=!<>'.includes(p[i - 1] ?? '')) return i;
  }
  return -1;
}

/** Where the class's body opens and closes in the masked text; undefined when the class is not found. */
function classBody(masked: string, className: string): { open: number; close: number; offset: number } | undefined {
  const re = new RegExp(`\\bclass\\s+${className.replace(/\$/g, '\\$')}\\b`, 'g');
  const m = re.exec(masked);
  if (!m) return undefined;
  // The body is the first `{` after the header at bracket depth 0 (a type argument's `{…}` sits inside `<…>`).
  let depth = 0;
  for (let i = m.index + m[0].length; i < masked.length; i++) {
    const c = masked[i];
    if (c === '<' || c === '(' || c === '[') depth++;
    else if ((c === '>' && masked[i - 1] !== '=') || c === ')' || c === ']') depth--;
    else if (c === '{' && depth <= 0) return { open: i, close: matching(masked, i), offset: m.index };
    else if (c === '{') i = matching(masked, i);
  }
  return undefined;
}

/**
 * The parameters of the class's own `constructor` (TypeScript or the transpiled JavaScript);
 * `[]` when it declares none (it takes its base's, which for the runtime's `nn.Module` is none);
 * undefined when the class is not in the text.
 */
export function constructorParameters(source: string, className: string): ConstructorParameter[] | undefined {
  const masked = maskComments(source);
  const body = classBody(masked, className);
  if (!body) return undefined;
  // `constructor(` at the body's own depth: skip every nested bracket pair.
  let params: string | undefined;
  for (let i = body.open + 1; i < body.close; i++) {
    const c = masked[i];
    if (c === '"' || c === "'" || c === '`') {
      i = stringEnd(masked, i) - 1;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') {
      i = matching(masked, i);
      continue;
    }
    const m = /^constructor\s*\(/.exec(masked.slice(i, i + 40));
    if (m && !/[\w$.]/.test(masked[i - 1] ?? '')) {
      const open = i + m[0].length - 1;
      params = masked.slice(open + 1, matching(masked, open));
      break;
    }
  }
  if (params === undefined) return [];
  return splitTopLevel(params).map((raw) => {
    const p = raw.replace(/^(?:(?:public|private|protected|readonly|override)\s+)+/, '');
    const eq = initialiserAt(p);
    const head = (eq >= 0 ? p.slice(0, eq) : p).trim();
    const defaultText = eq >= 0 ? p.slice(eq + 1).trim() : undefined;
    if (head.startsWith('{') || head.startsWith('[')) {
      const pattern = head.slice(0, matching(head, 0) + 1);
      return { optional: false, factoryOptions: head.startsWith('{') && /\bgenerator\b/.test(pattern), ...(defaultText !== undefined ? { defaultText } : {}) };
    }
    const n = /^(\.\.\.)?\s*([A-Za-z_$][\w$]*)\s*(\?)?/.exec(head);
    // `o: nn.FactoryOptions = {}` (or an intersection with it) takes the generator too.
    return { ...(n ? { name: n[2] } : {}), optional: !!n && (!!n[1] || !!n[3]), factoryOptions: /:[^]*\bFactoryOptions\b/.test(head), ...(defaultText !== undefined ? { defaultText } : {}) };
  });
}

/** The parameters that must be given: no default, not optional, not the factory options. */
export function requiredParameters(params: readonly ConstructorParameter[]): string[] {
  return params.filter((p) => p.defaultText === undefined && !p.optional && !p.factoryOptions).map((p, i) => p.name ?? `parameter ${i + 1}`);
}

/** Names of a leading batch axis (the preview makes it 2; any other unnamed size is 16). */
const BATCH_NAMES = new Set(['N', 'B', 'batch', 'batch_size', 'bs']);

/**
 * The input shapes the class's doc comment states (`- x: (N, L, embed_dim)` per forward input,
 * before any `returns` line): numbers as written, a constructor parameter its given value or
 * numeric default, a first axis named as a batch (N, B) 2, any other name 16 (a ViT's N tokens). Undefined when there is no such comment
 * or a size is an expression.
 */
export function guessTsInputShape(source: string, className: string, given: ReadonlyMap<string, unknown> = new Map()): number[][] | undefined {
  const body = classBody(maskComments(source), className);
  if (!body) return undefined;
  // The comment that ends right above the class (its JSDoc or line comments), decorators and `export` aside.
  const before = source.slice(0, body.offset).replace(/(?:export\s+)?(?:default\s+)?(?:abstract\s+)?$/, '');
  const doc = /(\/\*\*?[\s\S]*?\*\/|(?:[ \t]*\/\/[^\n]*\n)+)\s*$/.exec(before);
  if (!doc) return undefined;
  const values = new Map<string, number>();
  for (const p of constructorParameters(source, className) ?? []) {
    const v = p.name !== undefined ? (given.has(p.name) ? given.get(p.name) : p.defaultText !== undefined && /^-?\d+$/.test(p.defaultText) ? parseInt(p.defaultText, 10) : undefined) : undefined;
    if (p.name !== undefined && typeof v === 'number' && Number.isInteger(v) && v > 0) values.set(p.name, v);
  }
  const shapes: number[][] = [];
  for (const line of doc[1].split('\n')) {
    const m = /^\s*(?:\/\/|\*)?\s*-?\s*([A-Za-z_$][\w$]*)\s*:\s*\(([^()]*)\)/.exec(line);
    if (!m) continue;
    if (/^returns?$/.test(m[1])) break;
    const dims = m[2].split(',').map((d) => d.trim()).filter(Boolean);
    const shape = dims.map((d, i) => (/^\d+$/.test(d) ? parseInt(d, 10) : !/^[A-Za-z_$][\w$]*$/.test(d) ? NaN : values.get(d) ?? (i === 0 && BATCH_NAMES.has(d) ? 2 : 16)));
    if (!shape.length || shape.some((d) => !Number.isInteger(d) || d < 1)) return undefined;
    shapes.push(shape);
  }
  return shapes.length ? shapes : undefined;
}

/** A constructor argument as the panel's text gives it: a number, a boolean, null, a quoted string, or an array of those. */
export type TsArgument = number | boolean | null | string | TsArgument[];

/**
 * `dim=64 causal=true window=7,7 name="x"` (the form the constructor-arguments box asks for, in
 * TypeScript's spelling) as values by parameter name; undefined for anything else. A value with
 * commas is an array.
 */
export function parseTsArguments(text: string): Map<string, TsArgument> | undefined {
  const one = (t: string): TsArgument | undefined => {
    if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return Number(t);
    if (t === 'true' || t === 'false') return t === 'true';
    if (t === 'null') return null;
    const q = /^(['"])(.*)\1$/.exec(t);
    return q ? q[2] : undefined;
  };
  const out = new Map<string, TsArgument>();
  for (const item of text.trim().split(/\s+/).filter(Boolean)) {
    const eq = item.indexOf('=');
    if (eq <= 0 || !/^[A-Za-z_$][\w$]*$/.test(item.slice(0, eq))) return undefined;
    const raw = item.slice(eq + 1).replace(/^\[(.*)\]$/, '$1,');
    const parts = raw.split(',').filter((x) => x !== '');
    const values = parts.map(one);
    if ((!parts.length && !raw.includes(',')) || values.some((v) => v === undefined)) return undefined;
    out.set(item.slice(0, eq), raw.includes(',') ? (values as TsArgument[]) : (values[0] as TsArgument));
  }
  return out;
}
