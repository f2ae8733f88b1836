/**
 * Running the user's own `nn.Module` on the runtime: `loadUserModule` parses a Python file with
 * the analyzer's parser, runs its top level (imports, classes, functions, constants), picks an
 * `nn.Module` subclass (the named one, else the only one, else the only one no other class of the
 * file mentions) and builds it with the given constructor arguments (else its defaults);
 * the result is a runtime `Module` whose `forward` runs the class's Python `forward`, so
 * `loadStateDict`, `stateDict` and `traceForward` work on it as on any runtime module.
 * `moduleClasses` lists the file's module classes (for a picker, a code lens, a usage error).
 *
 * Every failure on the user's code is one `InterpretError` (file:line and the construct); this
 * module never imports vscode.
 */

import { cpu, Generator, type Backend } from '../runtime/index';
import { initParser } from '../analysis/parse';
import { tree } from './tree';
import { InterpretError, PyRaise } from './errors';
import * as fs from 'node:fs';
import { findModule, pythonPaths } from './files';
import { Interpreter, type Importer } from './interpreter';
import { PyClass, UserModule, type PyValue } from './values';

export { InterpretError } from './errors';
export { UserModule, PyTuple, PyDict, PyNamespace, PyComplex, moveValue, type PyValue } from './values';
export { Interpreter } from './interpreter';
export { findInstantiations, requiredParameters, type Instantiation } from './instantiations';

export interface ModuleClass {
  readonly name: string;
  /** 1-based line of the `class` statement. */
  readonly line: number;
  /** Whether another class of the file names it (a submodule rather than the model). */
  readonly usedByOthers: boolean;
}

export interface LoadOptions {
  /** The file name used in messages. */
  readonly file: string;
  /** Which class; required when the file defines more than one `nn.Module` subclass. */
  readonly className?: string;
  /** Constructor arguments, positional and keyword (the class's defaults for the rest). */
  readonly args?: readonly PyValue[];
  readonly kwargs?: ReadonlyMap<string, PyValue>;
  readonly generator?: Generator;
  readonly device?: Backend;
  readonly maxSteps?: number;
  /**
   * Folders where absolute imports of the user's own modules are looked for (the file's folder
   * and the workspace), before the installed Python packages. Without them, imports of modules
   * the interpreter does not know stop the run, as they did before.
   */
  readonly importRoots?: readonly string[];
  /** The file on disk, where its relative imports are resolved (defaults to `file`). */
  readonly path?: string;
}

/** An importer over the file system: `findModule` under the given roots and the installed packages. */
export function fileImporter(roots: readonly string[]): Importer {
  const all = [...roots, ...pythonPaths()];
  return (name, level, fromFile) => {
    const file = findModule(name, level, fromFile, all);
    if (!file) return null;
    return { file, root: tree(fs.readFileSync(file, 'utf8')) };
  };
}

export interface LoadedModule {
  readonly module: UserModule;
  readonly className: string;
  readonly classes: readonly ModuleClass[];
  /** The run that built it: `interp.to(device)` moves the file's globals and its factories to another backend. */
  readonly interp: Interpreter;
}


/** Classes of the file that derive from `nn.Module` (directly or through a class of the same file), found without running anything. */
export async function moduleClasses(source: string): Promise<ModuleClass[]> {
  await initParser();
  const root = tree(source);
  const byName = new Map<string, string[]>();
  const lines = new Map<string, number>();
  const texts = new Map<string, string>();
  for (const s of root.namedChildren) {
    const c = s.type === 'decorated_definition' ? s.childForFieldName('definition') : s;
    if (c?.type !== 'class_definition') continue;
    const name = c.childForFieldName('name')!.text;
    byName.set(name, (c.childForFieldName('superclasses')?.namedChildren ?? []).map((b) => b.text));
    lines.set(name, c.startPosition.row + 1);
    texts.set(name, c.text);
  }
  const isModule = (name: string, seen: Set<string>): boolean => {
    if (seen.has(name)) return false;
    seen.add(name);
    return (byName.get(name) ?? []).some((b) => /(^|\.)Module$/.test(b) || (byName.has(b) && isModule(b, seen)));
  };
  const names = [...byName.keys()].filter((n) => isModule(n, new Set()));
  const mentions = (name: string) => names.some((other) => other !== name && new RegExp(`\\b${name}\\b`).test(texts.get(other)!));
  return names.map((name) => ({ name, line: lines.get(name)!, usedByOthers: mentions(name) }));
}

/**
 * Runs the top level of `source` (imports, classes, functions, constants) and returns the
 * interpreter, whose `globals` hold what it defined and whose `call` calls it; throws
 * `InterpretError` for anything in the user's code.
 */
export async function runFile(source: string, o: Omit<LoadOptions, 'className' | 'kwargs'>): Promise<Interpreter> {
  await initParser();
  const interp = new Interpreter({ file: o.file, generator: o.generator ?? new Generator(0), device: o.device ?? cpu, maxSteps: o.maxSteps, importer: o.importRoots ? fileImporter(o.importRoots) : undefined, path: o.path });
  interp.runModule(tree(source));
  return interp;
}

/** Builds the chosen class of `source` on the runtime; throws `InterpretError` for anything in the user's code. */
export async function loadUserModule(source: string, o: LoadOptions): Promise<LoadedModule> {
  const classes = await moduleClasses(source);
  const root = tree(source);
  const interp = new Interpreter({ file: o.file, generator: o.generator ?? new Generator(0), device: o.device ?? cpu, maxSteps: o.maxSteps, importer: o.importRoots ? fileImporter(o.importRoots) : undefined, path: o.path });
  let className = o.className;
  if (!className) {
    if (classes.length === 0) throw new InterpretError('python', o.file, 1, 'no nn.Module subclass in this file');
    const roots = classes.filter((c) => !c.usedByOthers);
    if (classes.length > 1 && roots.length !== 1) throw new InterpretError('python', o.file, classes[1].line, `the file defines several nn.Module subclasses (${classes.map((c) => c.name).join(', ')}); name one as FILE:CLASS`);
    className = classes.length === 1 ? classes[0].name : roots[0].name;
  }
  interp.runModule(root);
  const failed = interp.undefinedNames.get(className);
  if (failed) throw failed;
  const cls = interp.globals.vars.get(className);
  if (!(cls instanceof PyClass)) throw new InterpretError('python', o.file, 1, `no class '${className}' in this file${classes.length ? ` (nn.Module subclasses: ${classes.map((c) => c.name).join(', ')})` : ''}`);
  if (!cls.module) throw new InterpretError('python', o.file, cls.line, `class '${className}' does not derive from nn.Module`);
  let m: PyValue;
  try {
    m = interp.call(cls, [...(o.args ?? [])], o.kwargs ?? new Map());
  } catch (e) {
    if (e instanceof PyRaise) throw new InterpretError(e.kind, o.file, cls.line, `${className}(): ${e.detail}`);
    throw e;
  }
  if (!(m instanceof UserModule)) throw new InterpretError('python', o.file, cls.line, `building ${className} did not give a module`);
  return { module: m.eval(), className, classes, interp };
}
