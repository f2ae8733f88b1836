/**
 * *Preview module* for a TypeScript file: the user's class built and run on the runtime this
 * thread traces with. This executes the user's code (unlike the Python preview, which
 * interprets it), so it runs only on the module thread (`module-worker.ts`, started per run by
 * `module-runner.ts`, which bounds its heap and terminates it on Cancel), and the extension asks
 * for it only in a trusted workspace.
 *
 * Loading: the file (its editor text) and every file it imports relatively are transpiled with
 * sucrase's `typescript` and `imports` transforms (types stripped, ES imports as CommonJS
 * `require`, line numbers kept), and every `require` of the output is resolved before anything
 * runs: `attention-forge/runtime` (or a relative import of this repository's runtime source) is
 * the runtime instance the tracer and the attention capture use, so the user's `nn.Module` is
 * theirs; a relative import is another workspace file; anything else (a bare npm package, a
 * file that is not there) stops the run. Each file is then compiled with `vm.compileFunction`
 * under its own path, so an exception's stack names the user's file and line.
 *
 * Every failure is one `TsModuleError` line that names the file and line: a syntax error, an
 * import the preview cannot load, a class that is not there or not a module, a constructor
 * argument without default and not given, an exception of the user's code (the innermost stack
 * frame in one of the user's files). No `vscode` import: unit-tested directly.
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { transform } from 'sucrase';
import * as runtime from '../runtime/index';
import { Generator, nn } from '../runtime/index';
import type { PreviewModuleMessage } from '../protocol/preview';
import { baseMessage, memoryMessage, runBuiltModule, type GivenInput, type ModuleWeights } from './module-preview';
import { constructorParameters, lineAt, requiredParameters, RUNTIME_SPECIFIER, type ConstructorParameter } from './ts-module-source';

/** A TypeScript module that cannot be previewed: the message is one line, `file:line: why`. */
export class TsModuleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TsModuleError';
  }
}

/** What a `require` of a transpiled file leads to. */
type Target = { kind: 'runtime' } | { kind: 'runtime-nn' } | { kind: 'file'; path: string };

interface Unit {
  /** Absolute path (a made-up one for an unsaved entry file). */
  readonly path: string;
  /** As the messages name it (workspace-relative). */
  readonly display: string;
  /** The TypeScript as written (constructor parameters are read from it: their types say which takes the factory options). */
  readonly source: string;
  readonly code: string;
  readonly requires: ReadonlyMap<string, Target>;
}

export interface TsModuleOptions {
  /** The entry file's text (the editor's, saved or not). */
  readonly source: string;
  /** The entry file as messages name it (workspace-relative). */
  readonly file: string;
  /** The entry file on disk; relative imports are resolved from its folder (none without it). */
  readonly path?: string;
  readonly className: string;
  /** Constructor arguments by parameter name (the panel's `name=value` fields). */
  readonly kwargs?: ReadonlyMap<string, unknown>;
  /** Where parameters draw from: handed to the constructor's `{ generator }` options, when it has them. */
  readonly generator?: Generator;
}

/** Extensions tried, in order, for an extensionless relative import. */
const EXTENSIONS = ['.ts', '.tsx', '.mts', '.cts', '.js', '.mjs', '.cjs'];

function transpile(source: string, display: string, filePath: string): string {
  try {
    return transform(source, { transforms: ['typescript', 'imports', ...(/\.tsx$/.test(filePath) ? (['jsx'] as const) : [])], filePath, production: true }).code;
  } catch (e) {
    // sucrase reports 1-based lines and columns.
    const loc = (e as { loc?: { line: number; column: number } }).loc;
    const what = (e instanceof Error ? e.message : String(e)).replace(/^Error transforming [^:]*: /, '').replace(/\s*\(\d+:\d+\)$/, '');
    throw new TsModuleError(loc ? `${display}:${loc.line}:${loc.column}: syntax error: ${what}` : `${display}: syntax error: ${what}`);
  }
}

/** The file a relative import names: as written, with each extension, a `.js` written for its `.ts`, or the folder's index. */
function resolveRelative(from: string, spec: string): string | undefined {
  const base = path.resolve(path.dirname(from), spec);
  const isFile = (p: string) => fs.statSync(p, { throwIfNoEntry: false })?.isFile() === true;
  const candidates = [base, ...EXTENSIONS.map((e) => base + e), ...(/\.[cm]?js$/.test(base) ? [base.replace(/js$/, 'ts')] : []), ...EXTENSIONS.map((e) => path.join(base, `index${e}`))];
  return candidates.find(isFile);
}

/** Whether a folder is this repository's runtime source (its index, tracer and capture beside each other). */
function isRuntimeSource(dir: string): boolean {
  return ['index.ts', 'trace.ts', 'capture.ts', 'tensor.ts'].every((f) => fs.existsSync(path.join(dir, f)));
}

/**
 * Transpiles the file and, through its relative imports, every file it reaches; resolves every
 * `require` of the output. Nothing runs here, so an unsupported import stops the run before any
 * of the user's code does.
 */
function collect(entry: { path: string; display: string; source: string; onDisk: boolean }, units: Map<string, Unit>): void {
  const displayOf = (p: string) => path.join(path.dirname(entry.display), path.relative(path.dirname(entry.path), p)).split(path.sep).join('/');
  const visit = (filePath: string, display: string, source: string, onDisk: boolean): void => {
    const code = transpile(source, display, filePath);
    const requires = new Map<string, Target>();
    units.set(filePath, { path: filePath, display, source, code, requires });
    for (const m of code.matchAll(/\brequire\((['"])([^'"\n]+)\1\)/g)) {
      const spec = m[2];
      const at = `${display}:${lineAt(code, m.index)}`;
      if (spec === RUNTIME_SPECIFIER) {
        requires.set(spec, { kind: 'runtime' });
        continue;
      }
      if (!spec.startsWith('./') && !spec.startsWith('../')) {
        throw new TsModuleError(`${at}: imports '${spec}', which the preview cannot load: it runs ${RUNTIME_SPECIFIER} and the workspace's own files (relative imports), no other package.`);
      }
      if (!onDisk) throw new TsModuleError(`${at}: imports '${spec}': save the file first, so its relative imports can be found.`);
      const target = resolveRelative(filePath, spec);
      if (!target) throw new TsModuleError(`${at}: imports '${spec}', and no such file is there.`);
      const dir = path.dirname(target);
      const stem = path.basename(target).replace(/\.[^.]+$/, '');
      // This repository's runtime source, reached by a relative path (its examples and fixtures import it so).
      if (isRuntimeSource(dir) || isRuntimeSource(path.dirname(dir))) {
        if (stem === 'index' && isRuntimeSource(dir)) requires.set(spec, { kind: 'runtime' });
        else if (stem === 'index' && path.basename(dir) === 'nn' && isRuntimeSource(path.dirname(dir))) requires.set(spec, { kind: 'runtime-nn' });
        else throw new TsModuleError(`${at}: imports '${spec}', a file inside the runtime's source: import the runtime's index (or ${RUNTIME_SPECIFIER}) so the preview traces the classes it runs.`);
        continue;
      }
      requires.set(spec, { kind: 'file', path: target });
      if (!units.has(target)) {
        let text: string;
        try {
          text = fs.readFileSync(target, 'utf8');
        } catch (e) {
          throw new TsModuleError(`${at}: cannot read '${spec}': ${e instanceof Error ? e.message : String(e)}`);
        }
        visit(target, displayOf(target), text, true);
      }
    }
  };
  visit(entry.path, entry.display, entry.source, entry.onDisk);
}

/** The innermost stack frame in one of the user's files, as `file:line`; undefined when the error came from elsewhere only. */
function userFrame(e: unknown, units: ReadonlyMap<string, Unit>): string | undefined {
  const stack = e instanceof Error ? (e.stack ?? '') : '';
  for (const line of stack.split('\n').slice(1)) {
    // `at name (file:line:col)` or `at file:line:col`.
    const t = line.trim().replace(/^at\s+/, '');
    const inner = t.endsWith(')') && t.includes('(') ? t.slice(t.lastIndexOf('(') + 1, -1) : t;
    const m = /^(.*):(\d+):\d+$/.exec(inner);
    const unit = m ? units.get(m[1]) : undefined;
    if (unit) return `${unit.display}:${m![2]}`;
  }
  return undefined;
}

/** An exception of the user's code (or of the runtime, called by it) as one line naming the user's file and line. */
function describeError(e: unknown, units: ReadonlyMap<string, Unit>, fallback: string): string {
  const where = userFrame(e, units) ?? fallback;
  const what = e instanceof Error ? `${e.name}: ${e.message.split('\n')[0]}` : `uncaught ${String(e)}`;
  return `${where}: ${what}`;
}

/**
 * The class's own constructor parameters, or its nearest base's that declares any (a class
 * without a constructor takes its base's arguments): read from the TypeScript of the user's file
 * that declares the class, else from the class's transpiled text.
 */
/** A class as a value: what the constructor-argument check reads of it. */
type AnyClass = abstract new (...args: never[]) => unknown;

function parametersOf(cls: AnyClass, units: ReadonlyMap<string, Unit>): { params: ConstructorParameter[]; declaredBy: string } {
  const ours = new Set<unknown>(Object.values(nn));
  for (let c: AnyClass | null = cls; c && c !== nn.Module && c !== Function.prototype; c = Object.getPrototypeOf(c) as AnyClass | null) {
    // A layer of the runtime (`extends nn.Linear` without a constructor): its arguments have no defaults to read.
    if (ours.has(c)) return { params: c.length ? [{ name: `the arguments of nn.${c.name}`, optional: false, factoryOptions: false }] : [], declaredBy: c.name };
    const fromSource = [...units.values()].map((u) => constructorParameters(u.source, c!.name)).find((p) => p !== undefined);
    const params = fromSource ?? constructorParameters(Function.prototype.toString.call(c), c.name);
    if (params?.length) return { params, declaredBy: c.name };
  }
  return { params: [], declaredBy: cls.name };
}

/** A constructor argument as plain JavaScript: arrays as arrays (a tuple crosses the thread boundary as `{ tuple }`). */
function plain(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object' && 'tuple' in v && Array.isArray((v as { tuple: unknown }).tuple)) return (v as { tuple: unknown[] }).tuple.map(plain);
  return v;
}

/**
 * Builds the class: transpiles and resolves the file and its imports, runs them (the entry
 * last-first as Node would), and constructs the class with the given arguments, its defaults
 * for the rest, and `{ generator }` in its factory options. Throws `TsModuleError` only.
 */
export function loadTsModule(o: TsModuleOptions): { module: nn.Module; units: ReadonlyMap<string, Unit> } {
  if (!/^[A-Za-z_$][\w$]*$/.test(o.className)) throw new TsModuleError(`${o.file}: '${o.className}' is not a class name.`);
  const entryPath = o.path ?? path.resolve('/untitled', path.basename(o.file));
  const units = new Map<string, Unit>();
  collect({ path: entryPath, display: o.file, source: o.source, onDisk: o.path !== undefined }, units);
  const classLine = lineAt(o.source, Math.max(0, o.source.search(new RegExp(`\\bclass\\s+${o.className.replace(/\$/g, '\\$')}\\b`))));
  const at = `${o.file}:${classLine}`;

  const loaded = new Map<string, { exports: Record<string, unknown> }>();
  let picked: unknown;
  const load = (unit: Unit): Record<string, unknown> => {
    const done = loaded.get(unit.path);
    if (done) return done.exports; // a cycle sees the module partly run, as in Node
    const module = { exports: {} as Record<string, unknown> };
    loaded.set(unit.path, module);
    const require = (spec: string): unknown => {
      const t = unit.requires.get(spec);
      if (!t) throw new TsModuleError(`${unit.display}: require('${spec}') is computed at run time; the preview follows static imports only.`);
      if (t.kind === 'runtime') return runtime;
      if (t.kind === 'runtime-nn') return runtime.nn;
      return load(units.get(t.path)!);
    };
    // The entry hands its class back by name, so a class that is not exported can be previewed too.
    const pick = unit.path === entryPath ? `\n;__pickClass(typeof ${o.className} === 'undefined' ? undefined : ${o.className});` : '';
    const fn = vm.compileFunction(unit.code + pick, ['exports', 'require', 'module', '__filename', '__dirname', '__pickClass'], { filename: unit.path });
    fn.call(module.exports, module.exports, require, module, unit.path, path.dirname(unit.path), (c: unknown) => (picked = c));
    return module.exports;
  };

  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 200;
  try {
    try {
      load(units.get(entryPath)!);
    } catch (e) {
      if (e instanceof TsModuleError) throw e;
      throw new TsModuleError(describeError(e, units, o.file));
    }
    const cls = picked;
    if (typeof cls !== 'function') throw new TsModuleError(`${o.file}: no top-level class ${o.className}.`);
    if (!(cls.prototype instanceof nn.Module)) throw new TsModuleError(`${at}: ${o.className} does not extend the runtime's nn.Module (import it from ${RUNTIME_SPECIFIER}).`);
    const { params, declaredBy } = parametersOf(cls as AnyClass, units);
    const given = new Map(o.kwargs ?? []);
    const names = params.flatMap((p) => (p.name ? [p.name] : []));
    for (const k of given.keys()) if (!names.includes(k)) throw new TsModuleError(`${at}: ${declaredBy}'s constructor has no parameter '${k}' (it takes ${names.length ? names.join(', ') : 'none'}).`);
    const missing = requiredParameters(params).filter((n) => !given.has(n));
    if (missing.length) throw new TsModuleError(`${at}: ${declaredBy}'s constructor needs ${missing.join(', ')} (no default): give ${missing.length > 1 ? 'them' : 'it'} as ${missing.map((n) => `${n}=…`).join(' ')} in the constructor arguments.`);
    const args = params.map((p) => (p.name !== undefined && given.has(p.name) ? plain(given.get(p.name)) : p.factoryOptions && o.generator ? { generator: o.generator } : undefined));
    while (args.length && args[args.length - 1] === undefined) args.pop();
    let module: unknown;
    try {
      module = Reflect.construct(cls, args);
    } catch (e) {
      throw new TsModuleError(describeError(e, units, at));
    }
    return { module: module as nn.Module, units };
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** The TypeScript twin of `runModulePreview`: the class built from the file, one traced forward on seeded inputs, the panel's message (or its one-line error). */
export function runTsModulePreview(o: Omit<TsModuleOptions, 'generator'> & { shapes: readonly number[][]; seed?: number; weights?: ModuleWeights; given?: GivenInput }): PreviewModuleMessage {
  const gen = new Generator(o.seed ?? 0);
  const base = baseMessage(o.file, o.className, o.shapes, o.given);
  let units: ReadonlyMap<string, Unit> = new Map();
  const limit = Error.stackTraceLimit;
  try {
    const built = loadTsModule({ ...o, generator: gen });
    units = built.units;
    Error.stackTraceLimit = 200;
    return runBuiltModule(built.module, base, gen, o.weights, o.given);
  } catch (e) {
    if (e instanceof TsModuleError) return { ...base, error: e.message };
    if (e instanceof RangeError && /allocat|typed array length|Array buffer/i.test(e.message)) return { ...base, error: memoryMessage(o.className, e) };
    return { ...base, error: describeError(e, units, o.file) };
  } finally {
    Error.stackTraceLimit = limit;
  }
}
