/**
 * The concrete interpreter: the statements and expressions of a Python file, walked over the
 * analyzer's syntax tree (`analysis/parse.ts` + `syntax.ts`) and evaluated on concrete values
 * (`values.ts`) with the runtime's tensors and modules (`surface.ts`). It runs a class's
 * `__init__` and `forward` as Python would: classes with user bases and `super()`, attributes,
 * defaults and keywords, `*args`/`**kwargs`, `if`/`for`/`while`, comprehensions, tuples and
 * lists, unpacking, closures over nested scopes, imports of torch and math.
 *
 * It never evaluates text and never runs Python: a construct it does not know stops the run with
 * one `InterpretError` naming the construct and its line. Steps (statements and expressions)
 * and call depth are bounded, so a loop or a recursion in the user's code ends with a message,
 * never a hang. It does not decide shapes (the runtime's kernels do) and does not share its core
 * with the analyzer's abstract evaluator yet (see ARCHITECTURE.md).
 */

import type { Node } from '../analysis/parse';
import { F, copyStorage, nn, Tensor, TorchError, full, writeStorage, tensor as tensorOf, where, type Backend, type Generator } from '../runtime/index';
import { Module } from '../runtime/nn/module';
import { isContiguous, stridedOffsets } from '../runtime/kernels/kernel';
import { InterpretError, pyError, PyRaise, unsupported } from './errors';
import { makeStdlib, PyContext } from './stdlib';
import { complexAttribute, complexBinary } from './complex';
import { asTensor, bind, makeSurface, MODULE_BASE, OBJECT_BASE, tensorAttribute, tensorMethod, type Host } from './surface';
import { asInt, Kwargs, moveValue, PyBoundMethod, PyComplex, PyBuiltin, PyClass, PyDict, PyEllipsis, PyFunction, PyInstance, PyNamespace, PySlice, PySuper, PyToken, PyTuple, pyStr, Scope, typeName, UserModule, type Args, type PyValue } from './values';

export interface InterpreterOptions {
  readonly file: string;
  readonly generator: Generator;
  readonly device: Backend;
  /** Statements and expressions one interpreter may evaluate in all (default 2,000,000). */
  readonly maxSteps?: number;
  /** Nested calls of user functions (default 100). */
  readonly maxDepth?: number;
  /**
   * Finds the file an `import` names that is not one the interpreter knows (torch, math, …):
   * `name` dotted, `level` the leading dots of a relative import, `fromFile` the importing file.
   * Without one, such imports stop the run.
   */
  readonly importer?: Importer;
  /** The user's file on disk, where its relative imports are resolved (`file` may be a shorter name for messages). */
  readonly path?: string;
}

/** A module file found for an import, parsed. */
export interface ImportedSource {
  readonly file: string;
  readonly root: Node;
}
export type Importer = (name: string, level: number, fromFile: string) => ImportedSource | null;

class ReturnSignal {
  constructor(readonly value: PyValue) {}
}
class BreakSignal {}
class ContinueSignal {}

const BINARY: Record<string, string> = { '+': 'add', '-': 'sub', '*': 'mul', '/': 'div', '//': 'floordiv', '%': 'mod', '**': 'pow', '@': 'matmul', '&': 'and', '|': 'or', '<<': 'lshift', '>>': 'rshift' };

export class Interpreter implements Host {
  readonly globals = new Scope(null);
  readonly generator: Generator;
  /** Where factories (`torch.zeros`, `torch.arange`, layers built in `forward`) put their tensors; see `to`. */
  device: Backend;
  private readonly surface: ReturnType<typeof makeSurface>;
  private readonly stdlib: ReturnType<typeof makeStdlib>;
  private steps = 0;
  private depth = 0;
  private readonly maxSteps: number;
  private readonly maxDepth: number;
  /** The node being evaluated, for the line of errors raised in the value domain. */
  private current: Node | null = null;

  /** The syntax of the call being made, for builtins whose result depends on how a value was written. */
  currentCall(): Node | null {
    return this.current?.type === 'call' ? this.current : null;
  }

  constructor(private readonly o: InterpreterOptions) {
    this.generator = o.generator;
    this.device = o.device;
    this.maxSteps = o.maxSteps ?? 2_000_000;
    this.maxDepth = o.maxDepth ?? 100;
    this.surface = makeSurface(this);
    this.stdlib = makeStdlib(this);
  }

  /**
   * Moves the run to another backend: the tensors among the file's globals (and the modules and
   * containers holding them) move there, and factories create on it from now on. Modules are
   * built on the CPU, whose synchronous reads their in-place initialisation needs, then moved,
   * as torch code builds and then calls `.to(device)`; move the modules a run calls and their
   * tensor arguments with `moveValue` (and the same `moved` map, so shared tensors stay shared).
   */
  to(device: Backend, moved: Map<Tensor, Tensor> = new Map()): this {
    this.device = device;
    for (const [k, v] of this.globals.vars) this.globals.vars.set(k, moveValue(v, device, moved));
    for (const ns of this.modules.values()) for (const [k, v] of ns.attrs) (ns.attrs as Map<string, PyValue>).set(k, moveValue(v, device, moved));
    return this;
  }

  // ---- errors -------------------------------------------------------------------------

  private line(node: Node | null): number {
    return (node ?? this.current)?.startPosition.row !== undefined ? (node ?? this.current)!.startPosition.row + 1 : 0;
  }

  private fail(node: Node, kind: 'unsupported' | 'python' | 'limit', detail: string): InterpretError {
    return new InterpretError(kind, this.fileOf(node), this.line(node), detail);
  }

  /** The file a node was parsed from: the user's file, or a module it imported. */
  private fileOf(node: Node | null): string {
    return (node && this.rootFiles.get(node.origin)) ?? this.o.file;
  }

  // ---- imported modules -------------------------------------------------------------------

  /** Imported module files by path (a module is run once; a cycle sees it partly run, as in Python). */
  private readonly modules = new Map<string, PyNamespace>();
  private readonly rootFiles = new WeakMap<object, string>();

  /**
   * Runs a module file an import names and returns its namespace. Its top level runs as the
   * user's does, except that a statement the interpreter cannot run (an import of a package it
   * does not know, a class on an unsupported base) does not stop the import: the names it would
   * have bound stand for that failure, and stop the run only if the user's code uses them.
   */
  private importModule(name: string, level: number, node: Node): PyNamespace | undefined {
    const from = this.fileOf(node);
    const found = this.o.importer?.(name, level, from === this.o.file ? this.o.path ?? from : from);
    if (!found) return undefined;
    const cached = this.modules.get(found.file);
    if (cached) return cached;
    const scope = new Scope(null);
    const ns = new PyNamespace(name || found.file, scope.vars);
    this.modules.set(found.file, ns);
    this.rootFiles.set(found.root.origin, found.file);
    scope.vars.set('__name__', name);
    this.runTopLevel(found.root, scope, new Map());
    return ns;
  }

  /**
   * Runs a file's top-level statements. One the interpreter cannot run (an import of a package
   * it does not know, a class on an unsupported base, a weights table) does not stop the file:
   * the names it would have bound stand for that error, which stops the run, at the statement's
   * own line, only if something uses them. `failed` records which names, and why.
   */
  private runTopLevel(root: Node, scope: Scope, failed: Map<string, InterpretError>): void {
    for (const stmt of root.namedChildren) {
      if (!this.topLevel(stmt)) continue;
      try {
        this.exec(stmt, scope, null);
      } catch (e) {
        if (!(e instanceof InterpretError) || e.kind === 'limit') throw e;
        for (const bound of boundNames(stmt)) {
          failed.set(bound, e);
          const stand = new PyBuiltin(bound, () => {
            throw e;
          });
          this.standIns.set(stand, e);
          scope.vars.set(bound, stand);
        }
      }
    }
  }

  /** The values standing for names a top-level statement could not bind, with its error. */
  private readonly standIns = new WeakMap<PyBuiltin, InterpretError>();

  /** Names of the user's file whose top-level statement could not run, with the error it raised. */
  readonly undefinedNames = new Map<string, InterpretError>();

  /** Top-level statements a module file runs when imported (`if __name__ == "__main__":` and bare expressions are skipped). */
  private topLevel(stmt: Node): boolean {
    if (stmt.type === 'comment') return false;
    if (stmt.type === 'if_statement' && /__name__/.test(stmt.childForFieldName('condition')?.text ?? '')) return false;
    if (stmt.type === 'expression_statement' && stmt.namedChildren[0]?.type !== 'assignment') return false;
    return true;
  }

  /** Turns anything the value domain or the runtime raised into an InterpretError at `node`. */
  located(node: Node, e: unknown): unknown {
    if (e instanceof InterpretError || e instanceof ReturnSignal || e instanceof BreakSignal || e instanceof ContinueSignal) return e;
    if (e instanceof PyRaise) return this.fail(node, e.kind, e.detail);
    if (e instanceof TorchError) return this.fail(node, 'python', `${e.kind}: ${e.message.split('\n').join(' ')}`);
    return e;
  }

  private tick(node: Node): void {
    if (++this.steps > this.maxSteps) throw this.fail(node, 'limit', `stopped after ${this.maxSteps.toLocaleString('en-US')} steps (a loop that does not end, or a module too large to preview)`);
  }

  // ---- the file ---------------------------------------------------------------------------

  /** Runs a file's top level: imports, classes, functions and assignments (`if __name__ == "__main__":` and bare expressions are skipped). */
  runModule(root: Node): void {
    this.rootFiles.set(root.origin, this.o.file);
    this.globals.vars.set('__name__', '__main__');
    this.runTopLevel(root, this.globals, this.undefinedNames);
  }

  // ---- statements -------------------------------------------------------------------------

  private execBlock(block: Node, scope: Scope, fnCtx: FnCtx | null): void {
    for (const s of block.namedChildren) this.exec(s, scope, fnCtx);
  }

  private exec(node: Node, scope: Scope, fnCtx: FnCtx | null): void {
    this.tick(node);
    this.current = node;
    if (node.hasError) throw this.fail(node, 'python', `SyntaxError near '${node.text.split('\n')[0].slice(0, 60)}'`);
    switch (node.type) {
      case 'comment':
      case 'pass_statement':
        return;
      case 'delete_statement': {
        // `del name` (and `del a, b`): the names are unbound; other targets are unsupported.
        const targets = node.namedChildren[0]?.type === 'expression_list' ? node.namedChildren[0].namedChildren : node.namedChildren;
        for (const t of targets) {
          if (t.type !== 'identifier') throw this.fail(t, 'unsupported', `del ${t.text.slice(0, 40)}`);
          if (!scope.vars.delete(t.text)) throw this.fail(t, 'python', `NameError: name '${t.text}' is not defined`);
        }
        return;
      }
      case 'expression_statement': {
        const e = node.namedChildren[0];
        if (!e) return;
        if (e.type === 'assignment') return this.assignment(e, scope, fnCtx);
        if (e.type === 'augmented_assignment') return this.augmented(e, scope, fnCtx);
        if (e.type === 'string') return;
        for (const x of node.namedChildren) this.eval(x, scope, fnCtx);
        return;
      }
      case 'return_statement': {
        const e = node.namedChildren[0];
        throw new ReturnSignal(e ? this.eval(e, scope, fnCtx) : null);
      }
      case 'if_statement': {
        if (this.truthy(this.eval(node.childForFieldName('condition')!, scope, fnCtx), node)) return this.execBlock(node.childForFieldName('consequence')!, scope, fnCtx);
        for (const alt of node.childrenForFieldName('alternative')) {
          if (alt.type === 'else_clause') return this.execBlock(alt.childForFieldName('body')!, scope, fnCtx);
          if (this.truthy(this.eval(alt.childForFieldName('condition')!, scope, fnCtx), alt)) return this.execBlock(alt.childForFieldName('consequence')!, scope, fnCtx);
        }
        return;
      }
      case 'for_statement': {
        if (node.childForFieldName('alternative')) throw this.fail(node, 'unsupported', 'for … else');
        const items = this.iterateAt(this.eval(node.childForFieldName('right')!, scope, fnCtx), node);
        for (const item of items) {
          this.bindTarget(node.childForFieldName('left')!, item, scope, fnCtx);
          try {
            this.execBlock(node.childForFieldName('body')!, scope, fnCtx);
          } catch (e) {
            if (e instanceof BreakSignal) break;
            if (e instanceof ContinueSignal) continue;
            throw e;
          }
        }
        return;
      }
      case 'while_statement': {
        if (node.childForFieldName('alternative')) throw this.fail(node, 'unsupported', 'while … else');
        while (this.truthy(this.eval(node.childForFieldName('condition')!, scope, fnCtx), node)) {
          try {
            this.execBlock(node.childForFieldName('body')!, scope, fnCtx);
          } catch (e) {
            if (e instanceof BreakSignal) break;
            if (e instanceof ContinueSignal) continue;
            throw e;
          }
        }
        return;
      }
      case 'break_statement':
        throw new BreakSignal();
      case 'continue_statement':
        throw new ContinueSignal();
      case 'assert_statement': {
        const [cond, msg] = node.namedChildren.filter((c) => c.type !== 'line_continuation' && c.type !== 'comment');
        if (!this.truthy(this.eval(cond, scope, fnCtx), node)) throw this.fail(node, 'python', `AssertionError${msg ? `: ${pyStr(this.eval(msg, scope, fnCtx))}` : ''}`);
        return;
      }
      case 'raise_statement': {
        const e = node.namedChildren[0];
        if (e?.type === 'call') {
          const name = e.childForFieldName('function')!.text;
          const args = e.childForFieldName('arguments')!.namedChildren;
          throw this.fail(node, 'python', `${name}${args.length ? `: ${pyStr(this.eval(args[0], scope, fnCtx))}` : ''}`);
        }
        throw this.fail(node, 'python', e ? e.text : 'RuntimeError: No active exception to reraise');
      }
      case 'import_statement':
      case 'import_from_statement':
        return this.importStmt(node, scope);
      case 'future_import_statement':
        return;
      case 'class_definition':
        scope.vars.set(node.childForFieldName('name')!.text, this.classDef(node, scope));
        return;
      case 'function_definition':
        scope.vars.set(node.childForFieldName('name')!.text, this.functionDef(node, scope, null));
        return;
      case 'decorated_definition': {
        const def = node.childForFieldName('definition')!;
        const name = def.childForFieldName('name')!.text;
        const value = def.type === 'class_definition' ? this.classDef(def, scope) : this.functionDef(def, scope, null);
        scope.vars.set(name, this.decorate(node, value, scope));
        return;
      }
      case 'with_statement': {
        const items = node.namedChildren.find((c) => c.type === 'with_clause')?.namedChildren.filter((c) => c.type === 'with_item') ?? [];
        for (const item of items) {
          const v = item.childForFieldName('value') ?? item.namedChildren[0];
          const expr = v.type === 'as_pattern' ? v.namedChildren[0] : v;
          const alias = v.type === 'as_pattern' ? v.childForFieldName('alias') : null;
          const ctx = this.eval(expr, scope, fnCtx);
          if (!(ctx instanceof PyContext)) throw this.fail(item, 'unsupported', `with ${expr.text.split('\n')[0].slice(0, 60)} (the interpreter knows the context managers that change nothing on an inference run, such as torch.no_grad())`);
          if (alias) this.bindTarget(alias.namedChildren[0] ?? alias, null, scope, fnCtx);
        }
        return this.execBlock(node.childForFieldName('body')!, scope, fnCtx);
      }
      default:
        throw this.fail(node, 'unsupported', `statement '${node.type.replace(/_statement$/, '')}'`);
    }
  }

  private importStmt(node: Node, scope: Scope): void {
    const known = (dotted: string): PyValue | undefined => {
      const s = this.surface;
      const table: Record<string, PyValue> = { torch: s.torch, 'torch.nn': s.nn, 'torch.nn.functional': s.F, 'torch.nn.init': s.init, 'torch.jit': s.jit, 'torch.nn.utils': s.utils, 'torch.nn.utils.parametrizations': s.utils.attrs.get('parametrizations')!, math: s.math, ...this.stdlib };
      return table[dotted];
    };
    const harmless = /^(__future__|collections\.abc|abc|logging|os|sys|enum|numbers|inspect|types)$/;
    if (node.type === 'import_statement') {
      for (const n of node.namedChildren) {
        const [dotted, alias] = n.type === 'aliased_import' ? [n.childForFieldName('name')!.text, n.childForFieldName('alias')!.text] : [n.text, null];
        const v = known(dotted) ?? this.importModule(dotted, 0, node);
        if (v === undefined) {
          if (harmless.test(dotted)) continue;
          throw this.fail(node, 'unsupported', `import ${dotted} (the interpreter knows torch, torch.nn, torch.nn.functional, torch.nn.utils, math, einops, dataclasses, functools, copy, typing and collections)`);
        }
        if (alias) scope.vars.set(alias, v);
        else {
          const top = dotted.split('.')[0];
          const t = known(top) ?? this.importModule(top, 0, node);
          if (t === undefined) throw this.fail(node, 'unsupported', `import ${dotted}`);
          // `import a.b` binds `a`, with `b` reachable as its attribute.
          if (t instanceof PyNamespace && t !== v && dotted.split('.').length === 2 && !t.attrs.has(dotted.split('.')[1])) (t.attrs as Map<string, PyValue>).set(dotted.split('.')[1], v);
          scope.vars.set(top, t);
        }
      }
      return;
    }
    const from = node.childForFieldName('module_name')!.text;
    if (harmless.test(from)) {
      // Names from modules that only matter to types or tooling: bound, so a use names them.
      for (const n of node.childrenForFieldName('name')) {
        const [name, alias] = n.type === 'aliased_import' ? [n.childForFieldName('name')!.text, n.childForFieldName('alias')!.text] : [n.text, n.text];
        scope.vars.set(alias, new PyToken(`${from}.${name}`));
      }
      return;
    }
    const level = /^\.*/.exec(from)![0].length;
    const dotted = from.slice(level);
    const base = (level === 0 ? known(from) : undefined) ?? this.importModule(dotted, level, node);
    if (!(base instanceof PyNamespace)) throw this.fail(node, 'unsupported', `from ${from} import … (the interpreter knows torch, torch.nn, torch.nn.functional, torch.nn.utils, math, einops, dataclasses, functools, copy, typing and collections${this.o.importer ? ', and the Python files it can find' : ''})`);
    for (const n of node.childrenForFieldName('name')) {
      const [name, alias] = n.type === 'aliased_import' ? [n.childForFieldName('name')!.text, n.childForFieldName('alias')!.text] : [n.text, n.text];
      // A name the module does not define may be a submodule of a package (`from . import utils`).
      const v = base.attrs.get(name) ?? (level === 0 ? known(`${from}.${name}`) : undefined) ?? this.importModule(dotted ? `${dotted}.${name}` : name, level, node);
      if (v === undefined) throw this.fail(node, 'unsupported', `${from}.${name}`);
      scope.vars.set(alias, v);
    }
    if (node.namedChildren.some((c) => c.type === 'wildcard_import')) throw this.fail(node, 'unsupported', `from ${from} import *`);
  }

  private classDef(node: Node, scope: Scope): PyClass {
    const name = node.childForFieldName('name')!.text;
    const bases: PyClass[] = [];
    const natives: PyBuiltin[] = [];
    let module = false;
    for (const b of node.childForFieldName('superclasses')?.namedChildren ?? []) {
      if (b.type === 'keyword_argument') throw this.fail(b, 'unsupported', `class keyword '${b.text}'`);
      const v = this.eval(b, scope, null);
      if (v instanceof PyBuiltin && this.standIns.has(v)) throw this.standIns.get(v)!;
      if (v === MODULE_BASE) module = true;
      else if (v instanceof PyClass) {
        bases.push(v);
        module ||= v.module;
        if (v.native) natives.push(v.native);
      } else if (v instanceof PyBuiltin && v.cls && v.cls.prototype instanceof Module && v.cls !== nn.ModuleList && v.cls !== nn.ModuleDict) {
        // A torch layer as the base: `class WeightStandardizedConv2d(nn.Conv2d)`.
        module = true;
        natives.push(v);
      } else if (v !== OBJECT_BASE) throw this.fail(b, 'unsupported', `base class ${b.text} (a class may derive from nn.Module, a torch layer such as nn.Conv2d, or classes of the same file)`);
    }
    if (new Set(natives).size > 1) throw this.fail(node, 'unsupported', `class ${name} derives from two torch layers`);
    const cls = new PyClass(name, bases, module, new Map(), node.startPosition.row + 1);
    cls.native = natives[0] ?? null;
    const moduleName = scope.lookup('__name__');
    if (typeof moduleName === 'string') cls.dict.set('__module__', moduleName);
    const body = new Scope(scope);
    for (const s of node.childForFieldName('body')!.namedChildren) {
      const target = s.type === 'decorated_definition' ? s.childForFieldName('definition')! : s;
      if (target.type === 'function_definition') {
        const f = this.functionDef(target, scope, cls);
        cls.dict.set(target.childForFieldName('name')!.text, s.type === 'decorated_definition' ? this.decorate(s, f, scope) : f);
        continue;
      }
      const a = s.type === 'expression_statement' ? s.namedChildren[0] : null;
      if (a?.type === 'assignment' && a.childForFieldName('type') && a.childForFieldName('left')?.type === 'identifier') cls.annotations.push(a.childForFieldName('left')!.text);
      this.exec(s, body, null);
    }
    for (const [k, v] of body.vars) if (!cls.dict.has(k)) cls.dict.set(k, v);
    return cls;
  }

  private functionDef(node: Node, scope: Scope, owner: PyClass | null, isStatic = false): PyFunction {
    const defaults = new Map<string, PyValue>();
    for (const p of node.childForFieldName('parameters')!.namedChildren) {
      if (p.type === 'default_parameter' || p.type === 'typed_default_parameter') defaults.set(p.childForFieldName('name')!.text, this.eval(p.childForFieldName('value')!, scope, null));
    }
    const f = new PyFunction(node.childForFieldName('name')!.text, node, defaults, scope, owner);
    return isStatic ? (Object.assign(f, { isStatic: true }) as PyFunction) : f;
  }

  /**
   * Applies a definition's decorators, innermost first: `staticmethod`, `classmethod` and
   * `property` mark the function; any other decorator is evaluated and called with the value
   * (`dataclass`, `torch.jit.script`, `torch.no_grad()`, `functools.wraps(f)`, the user's own).
   */
  private decorate(node: Node, value: PyFunction | PyClass, scope: Scope): PyValue {
    let v: PyValue = value;
    for (const d of node.namedChildren.filter((c) => c.type === 'decorator').reverse()) {
      const expr = d.namedChildren[0];
      const text = expr.text;
      if ((text === 'staticmethod' || text === 'classmethod' || text === 'property') && v instanceof PyFunction && v.owner) {
        Object.assign(v, text === 'staticmethod' ? { isStatic: true } : text === 'classmethod' ? { isClassMethod: true } : { isProperty: true });
        continue;
      }
      if (/^[A-Za-z_][\w]*\.setter$/.test(text)) throw this.fail(d, 'unsupported', `decorator @${text} (properties are read-only here)`);
      const deco = this.eval(expr, scope, null);
      if (deco instanceof PyContext) continue;
      try {
        v = this.call(deco, [v]);
      } catch (e) {
        throw this.located(d, e);
      }
    }
    return v;
  }

  // ---- assignment ---------------------------------------------------------------------------

  private assignment(node: Node, scope: Scope, fnCtx: FnCtx | null): void {
    const right = node.childForFieldName('right');
    if (!right) return; // An annotation alone (`x: int`) binds nothing.
    // `a = b = value`: tree-sitter nests the chain in `right`.
    const targets: Node[] = [node.childForFieldName('left')!];
    let r = right;
    while (r.type === 'assignment') {
      targets.push(r.childForFieldName('left')!);
      r = r.childForFieldName('right')!;
    }
    const v = this.eval(r, scope, fnCtx);
    for (const t of targets) this.bindTarget(t, v, scope, fnCtx);
  }

  private augmented(node: Node, scope: Scope, fnCtx: FnCtx | null): void {
    const left = node.childForFieldName('left')!;
    const op = node.childForFieldName('operator')!.text.slice(0, -1);
    const v = this.binary(op, this.eval(left, scope, fnCtx), this.eval(node.childForFieldName('right')!, scope, fnCtx), node);
    this.bindTarget(left, v, scope, fnCtx);
  }

  private bindTarget(t: Node, v: PyValue, scope: Scope, fnCtx: FnCtx | null): void {
    switch (t.type) {
      case 'identifier':
        scope.vars.set(t.text, v);
        return;
      case 'pattern_list':
      case 'tuple_pattern':
      case 'list_pattern':
      case 'tuple':
      case 'list':
      case 'expression_list': {
        const targets = t.namedChildren;
        const items = this.iterateAt(v, t);
        const star = targets.findIndex((x) => x.type === 'list_splat_pattern');
        if (star < 0 && items.length !== targets.length) throw this.fail(t, 'python', `ValueError: ${items.length < targets.length ? `not enough values to unpack (expected ${targets.length}, got ${items.length})` : `too many values to unpack (expected ${targets.length})`}`);
        if (star >= 0) {
          const after = targets.length - star - 1;
          targets.slice(0, star).forEach((x, i) => this.bindTarget(x, items[i], scope, fnCtx));
          this.bindTarget(targets[star].namedChildren[0], items.slice(star, items.length - after), scope, fnCtx);
          targets.slice(star + 1).forEach((x, i) => this.bindTarget(x, items[items.length - after + i], scope, fnCtx));
          return;
        }
        targets.forEach((x, i) => this.bindTarget(x, items[i], scope, fnCtx));
        return;
      }
      case 'parenthesized_expression':
        return this.bindTarget(t.namedChildren[0], v, scope, fnCtx);
      case 'attribute': {
        const obj = this.eval(t.childForFieldName('object')!, scope, fnCtx);
        this.setAttr(obj, t.childForFieldName('attribute')!.text, v, t);
        return;
      }
      case 'subscript': {
        const obj = this.eval(t.childForFieldName('value')!, scope, fnCtx);
        const idx = t.childrenForFieldName('subscript');
        if (Array.isArray(obj) && idx.length === 1) {
          const i = asInt(this.eval(idx[0], scope, fnCtx), 'list index');
          obj[i < 0 ? i + obj.length : i] = v;
          return;
        }
        if (obj instanceof PyDict && idx.length === 1) {
          obj.map.set(this.key(this.eval(idx[0], scope, fnCtx), t), v);
          return;
        }
        if (obj instanceof nn.ModuleDict && idx.length === 1 && v instanceof Module) {
          obj.set(String(this.eval(idx[0], scope, fnCtx)), v);
          return;
        }
        if (obj instanceof Tensor) {
          const ix = idx.map((n) => this.eval(n, scope, fnCtx));
          return this.writeTensor(obj, ix.length === 1 && ix[0] instanceof PyTuple ? ix[0].items : ix, v, t);
        }
        throw this.fail(t, 'unsupported', `assignment into ${typeName(obj)}[…]`);
      }
      default:
        throw this.fail(t, 'unsupported', `assignment target '${t.type}'`);
    }
  }

  private key(v: PyValue, node: Node): string | number {
    if (typeof v === 'string' || typeof v === 'number') return v;
    throw this.fail(node, 'unsupported', `dict key of type ${typeName(v)}`);
  }

  setAttribute(obj: PyValue, name: string, v: PyValue): void {
    this.setAttr(obj, name, v, this.current!);
  }

  setAttr(obj: PyValue, name: string, v: PyValue, node: Node): void {
    if (obj instanceof UserModule) {
      const rec = obj as unknown as Record<string, unknown>;
      if (v instanceof Module || v instanceof nn.Parameter || (v instanceof Tensor && obj.slots.has(name)) || (v === null && obj.slots.has(name))) {
        if (!obj.slots.has(name) && name in obj) throw this.fail(node, 'unsupported', `attribute name '${name}' (it clashes with the runtime's Module API)`);
        obj.attrs.delete(name);
        obj.slots.add(name);
        rec[name] = v;
        return;
      }
      if (name === 'training') {
        obj.training = Boolean(v);
        return;
      }
      obj.attrs.set(name, v);
      return;
    }
    if (obj instanceof PyInstance) {
      obj.attrs.set(name, v);
      return;
    }
    if (obj instanceof Module) {
      // A runtime layer's parameter replaced by another (weight tying: `head.weight = emb.weight`).
      const rec = obj as unknown as Record<string, unknown>;
      if (Object.prototype.hasOwnProperty.call(obj, name) && rec[name] instanceof nn.Parameter && v instanceof nn.Parameter) {
        if ((rec[name] as Tensor).shape.join() !== v.shape.join()) throw this.fail(node, 'python', `RuntimeError: the parameter ${name} of nn.${obj.typeName} has shape (${(rec[name] as Tensor).shape.join(', ')}), not (${v.shape.join(', ')})`);
        rec[name] = v;
        return;
      }
      if (name === 'training') {
        obj.training = Boolean(v);
        return;
      }
    }
    throw this.fail(node, 'unsupported', `setting attribute '${name}' of ${typeName(obj)}`);
  }

  // ---- attributes -------------------------------------------------------------------------

  hasAttr(v: PyValue, name: string): boolean {
    try {
      this.getAttr(v, name);
      return true;
    } catch (e) {
      if (e instanceof PyRaise || e instanceof InterpretError) return false;
      throw e;
    }
  }

  getAttr(v: PyValue, name: string): PyValue {
    if (v instanceof PyBuiltin && this.standIns.has(v)) throw this.standIns.get(v)!;
    if ((v instanceof UserModule || v instanceof PyInstance) && name === '__class__') return v.cls;
    if (v instanceof PyClass && name === '__name__') return v.name;
    if (v instanceof UserModule) {
      if (v.slots.has(name)) return (v as unknown as Record<string, PyValue>)[name];
      if (v.attrs.has(name)) return v.attrs.get(name)!;
      if (name === 'training') return v.training;
      const c = v.cls.lookup(name);
      if (c !== undefined) return this.bindMethod(c, v);
      const native = this.natives.get(v);
      return (native && this.nativeMethod(native, name)) || (this.moduleMethod(v, name) ?? this.raiseAttr(v, name));
    }
    if (v instanceof PyInstance) {
      if (v.attrs.has(name)) return v.attrs.get(name)!;
      const c = v.cls.lookup(name);
      if (c !== undefined) return this.bindMethod(c, v);
      return this.raiseAttr(v, name);
    }
    if (v instanceof Module) {
      const own = (v as unknown as Record<string, unknown>)[name];
      if (Object.prototype.hasOwnProperty.call(v, name) && isValue(own)) return Array.isArray(own) ? new PyTuple(own as PyValue[]) : (own as PyValue);
      return this.moduleMethod(v, name) ?? this.raiseAttr(v, name, true);
    }
    if (v instanceof PyComplex) {
      const a = complexAttribute(v, name, (xs) => (xs.length === 1 && (Array.isArray(xs[0]) || xs[0] instanceof PyTuple) ? this.iterate(xs[0]) : xs).map((x) => asInt(x, 'size')));
      if (a !== undefined) return a;
      throw unsupported(`Tensor.${name} on a complex tensor`);
    }
    if (v instanceof Tensor) {
      const a = tensorAttribute(v, name);
      if (a !== undefined) return a;
      const m = tensorMethod(v, name, this);
      if (m) return m;
      // `t.op_(...)`: the out-of-place op, written back into t's elements (every view of t sees it).
      const base = name.endsWith('_') && !name.startsWith('_') ? tensorMethod(v, name.slice(0, -1), this) : undefined;
      if (base) {
        const node = this.current!;
        return new PyBuiltin(`Tensor.${name}`, (a) => {
          const r = base.call(a);
          if (!(r instanceof Tensor)) throw unsupported(`Tensor.${name}`);
          this.writeTensor(v, [], r, node);
          return v;
        });
      }
      throw unsupported(`Tensor.${name}`);
    }
    if (v instanceof PyNamespace) {
      const a = v.attrs.get(name);
      if (a === undefined) throw unsupported(`${v.name}.${name}`);
      return a;
    }
    if (v instanceof PySuper) {
      const c = v.cls.lookup(name, v.cls);
      if (c !== undefined) return this.bindMethod(c, v.self);
      const native = v.self instanceof UserModule ? v.cls.native : null;
      if (native && v.self instanceof UserModule) {
        const self = v.self;
        if (name === '__init__') return new PyBuiltin(`${native.name}.__init__`, (a) => (this.adoptNative(self, native.call(a) as Module), null));
        const m = this.natives.get(self);
        if (m && name === 'forward') return new PyBuiltin(`${native.name}.forward`, (a) => this.callModule(m, a));
        if (m) return this.nativeMethod(m, name) ?? this.moduleMethod(self, name) ?? this.raiseAttr(v.self, name);
      }
      if (name === '__init__' && v.cls.module) return new PyBuiltin('nn.Module.__init__', () => null);
      if (name === '__init__') return new PyBuiltin('object.__init__', () => null);
      throw unsupported(`super().${name}`);
    }
    if (v instanceof PyClass) {
      const c = v.lookup(name);
      if (c instanceof PyFunction && (c as PyFunction & { isClassMethod?: boolean }).isClassMethod) return new PyBoundMethod(c, v);
      if (c !== undefined) return c;
      return this.raiseAttr(v, name);
    }
    if (Array.isArray(v)) {
      if (name === 'append') return new PyBuiltin('list.append', (a) => (v.push(a.pos[0]), null));
      if (name === 'extend') return new PyBuiltin('list.extend', (a) => (v.push(...this.iterate(a.pos[0])), null));
    }
    if (v instanceof PyDict) {
      if (name === 'get') return new PyBuiltin('dict.get', (a) => (v.map.has(a.pos[0] as string) ? v.map.get(a.pos[0] as string)! : a.pos[1] === undefined ? null : a.pos[1]));
      if (name === 'items') return new PyBuiltin('dict.items', () => [...v.map].map(([k, x]) => new PyTuple([k, x])));
      if (name === 'keys') return new PyBuiltin('dict.keys', () => [...v.map.keys()]);
      if (name === 'values') return new PyBuiltin('dict.values', () => [...v.map.values()]);
    }
    if (typeof v === 'number' && name === 'is_integer') return new PyBuiltin('float.is_integer', () => Number.isInteger(v));
    if (typeof v === 'string') {
      const str = v;
      const strMethods: Record<string, (a: Args) => PyValue> = {
        startswith: (a) => (a.pos[0] instanceof PyTuple ? a.pos[0].items.some((p) => str.startsWith(String(p))) : str.startsWith(String(a.pos[0]))),
        endswith: (a) => (a.pos[0] instanceof PyTuple ? a.pos[0].items.some((p) => str.endsWith(String(p))) : str.endsWith(String(a.pos[0]))),
        lower: () => str.toLowerCase(),
        upper: () => str.toUpperCase(),
        strip: () => str.trim(),
        split: (a) => (a.pos[0] === undefined || a.pos[0] === null ? str.trim().split(/\s+/).filter(Boolean) : str.split(String(a.pos[0]))),
        replace: (a) => str.split(String(a.pos[0])).join(String(a.pos[1])),
        join: (a) => this.iterate(a.pos[0]).map((x) => pyStr(x)).join(str),
      };
      if (strMethods[name]) return new PyBuiltin(`str.${name}`, strMethods[name]);
    }
    if (v instanceof PyDict && name === 'update')
      return new PyBuiltin('dict.update', (a) => {
        if (a.pos[0] instanceof PyDict) for (const [k, x] of a.pos[0].map) v.map.set(k, x);
        for (const [k, x] of a.kw) v.map.set(k, x);
        return null;
      });
    if (v instanceof PyDict && name === 'pop')
      return new PyBuiltin('dict.pop', (a) => {
        const k = a.pos[0] as string;
        if (!v.map.has(k)) {
          if (a.pos.length > 1) return a.pos[1];
          throw pyError('KeyError', pyStr(a.pos[0] ?? null));
        }
        const x = v.map.get(k)!;
        v.map.delete(k);
        return x;
      });
    if (typeof v === 'string' && name === 'format') throw unsupported('str.format');
    throw unsupported(`attribute '${name}' of ${typeName(v)}`);
  }

  private raiseAttr(v: PyValue, name: string, runtime = false): never {
    if (runtime) throw unsupported(`attribute '${name}' of nn.${typeName(v)}`);
    throw pyError('AttributeError', `'${typeName(v)}' object has no attribute '${name}'`);
  }

  private bindMethod(c: PyValue, self: PyValue): PyValue {
    if (!(c instanceof PyFunction)) return c;
    const marks = c as PyFunction & { isStatic?: boolean; isClassMethod?: boolean; isProperty?: boolean };
    if (marks.isStatic) return c;
    if (marks.isClassMethod) return new PyBoundMethod(c, self instanceof UserModule || self instanceof PyInstance ? self.cls : self);
    if (marks.isProperty) return this.invoke(c, self, [], new Map());
    return new PyBoundMethod(c, self);
  }

  /** The `nn.Module` methods user code calls on modules. */
  private moduleMethod(m: Module, name: string): PyValue | undefined {
    switch (name) {
      case 'register_buffer':
        return new PyBuiltin('register_buffer', (a) => {
          const b = bind('register_buffer', ['name', 'tensor', 'persistent='], a);
          const n = b.get('name');
          if (typeof n !== 'string') throw pyError('TypeError', 'buffer name should be a string');
          const t = b.get('tensor');
          m.registerBuffer(n, t === null || t === undefined ? null : asTensor(t, 'tensor'), b.get('persistent') === undefined ? true : Boolean(b.get('persistent')));
          if (m instanceof UserModule) {
            m.slots.add(n);
            m.attrs.delete(n);
          }
          return null;
        });
      case 'register_parameter':
        return new PyBuiltin('register_parameter', (a) => {
          const b = bind('register_parameter', ['name', 'param'], a);
          if (m instanceof UserModule) this.setAttr(m, String(b.get('name')), b.get('param') ?? null, this.current!);
          return null;
        });
      case 'apply':
        return new PyBuiltin('apply', (a) => {
          const mods = m.namedModules().map(([, x]) => x);
          // torch applies to children first, then the module itself.
          for (const x of mods.slice(1).reverse().concat([m])) this.call(a.pos[0], [x]);
          return m;
        });
      case 'modules':
        return new PyBuiltin('modules', () => m.namedModules().map(([, x]) => x));
      case 'children':
        return new PyBuiltin('children', () => m.namedChildren().map(([, x]) => x));
      case 'parameters':
        return new PyBuiltin('parameters', () => m.parameters());
      case 'named_parameters':
        return new PyBuiltin('named_parameters', () => m.namedParameters().map(([k, p]) => new PyTuple([k, p])));
      case 'named_modules':
        return new PyBuiltin('named_modules', () => m.namedModules().map(([k, c]) => new PyTuple([k, c])));
      case 'named_children':
        return new PyBuiltin('named_children', () => m.namedChildren().map(([k, c]) => new PyTuple([k, c])));
      case 'state_dict':
        return new PyBuiltin('state_dict', () => new PyDict(new Map(m.stateDict())));
      case 'eval':
        return new PyBuiltin('eval', () => m.eval());
      case 'train':
        return new PyBuiltin('train', (a) => m.train(a.pos[0] === undefined ? true : Boolean(a.pos[0])));
      case 'append':
      case 'extend':
      case 'insert':
        if (!(m instanceof nn.ModuleList || m instanceof nn.Sequential)) return undefined;
        return new PyBuiltin(`${m.typeName}.${name}`, (a) => {
          const kids = m.namedChildren().map(([, c]) => c);
          const added = name === 'append' ? [a.pos[0]] : name === 'extend' ? this.iterate(a.pos[0]) : [];
          if (name === 'insert') {
            const i = asInt(a.pos[0], 'index');
            kids.splice(i < 0 ? Math.max(0, kids.length + i) : Math.min(i, kids.length), 0, a.pos[1] as Module);
          }
          for (const c of added) {
            if (!(c instanceof Module)) throw pyError('TypeError', `${m.typeName}.${name}: ${typeName(c)} is not a Module subclass`);
            kids.push(c);
          }
          kids.forEach((c, i) => ((m as unknown as Record<string, Module>)[String(i)] = c));
          return m instanceof nn.Sequential ? m : null;
        });
      case 'items':
      case 'keys':
      case 'values':
        if (!(m instanceof nn.ModuleDict)) return undefined;
        return new PyBuiltin(`ModuleDict.${name}`, () => m.namedChildren().map(([k, c]) => (name === 'items' ? new PyTuple([k, c]) : name === 'keys' ? k : c)));
      case 'forward':
        return new PyBuiltin(`${m.typeName}.forward`, (a) => this.callModule(m, a));
    }
    return undefined;
  }

  // ---- expressions ---------------------------------------------------------------------------

  eval(node: Node, scope: Scope, fnCtx: FnCtx | null): PyValue {
    this.tick(node);
    try {
      return this.evalInner(node, scope, fnCtx);
    } catch (e) {
      throw this.located(node, e);
    }
  }

  private evalInner(node: Node, scope: Scope, fnCtx: FnCtx | null): PyValue {
    switch (node.type) {
      case 'identifier': {
        // `None` is null: only undefined means unbound.
        let v = scope.lookup(node.text);
        if (v === undefined) v = this.globals.lookup(node.text);
        if (v === undefined) v = this.builtin(node.text);
        if (v === undefined) throw this.fail(node, 'python', `NameError: name '${node.text}' is not defined`);
        return v;
      }
      case 'integer': {
        const t = node.text.replace(/_/g, '').toLowerCase();
        return t.startsWith('0x') || t.startsWith('0o') || t.startsWith('0b') ? Number(t) : parseInt(t, 10);
      }
      case 'float':
        return parseFloat(node.text.replace(/_/g, ''));
      case 'true':
        return true;
      case 'false':
        return false;
      case 'none':
        return null;
      case 'ellipsis':
        return PyEllipsis.value;
      case 'string':
        return this.string(node, scope, fnCtx);
      case 'concatenated_string':
        return node.namedChildren.map((c) => this.string(c, scope, fnCtx)).join('');
      case 'parenthesized_expression':
        return this.eval(node.namedChildren[0], scope, fnCtx);
      case 'tuple':
      case 'expression_list':
        return new PyTuple(this.elements(node, scope, fnCtx));
      case 'list':
        return this.elements(node, scope, fnCtx);
      case 'set': {
        // A set literal as a list of distinct items: membership, iteration and len behave as a set's.
        const items = this.elements(node, scope, fnCtx);
        return items.filter((x, i) => items.indexOf(x) === i);
      }
      case 'dictionary': {
        const d = new PyDict();
        for (const p of node.namedChildren) {
          if (p.type !== 'pair') throw this.fail(p, 'unsupported', `dict entry '${p.type}'`);
          d.map.set(this.key(this.eval(p.childForFieldName('key')!, scope, fnCtx), p), this.eval(p.childForFieldName('value')!, scope, fnCtx));
        }
        return d;
      }
      case 'attribute':
        return this.getAttr(this.eval(node.childForFieldName('object')!, scope, fnCtx), node.childForFieldName('attribute')!.text);
      case 'call':
        return this.callExpr(node, scope, fnCtx);
      case 'binary_operator':
        return this.binary(node.childForFieldName('operator')!.text, this.eval(node.childForFieldName('left')!, scope, fnCtx), this.eval(node.childForFieldName('right')!, scope, fnCtx), node);
      case 'unary_operator': {
        const v = this.eval(node.childForFieldName('argument')!, scope, fnCtx);
        const op = node.childForFieldName('operator')!.text;
        if (v instanceof Tensor) {
          if (op === '-') return v.neg();
          if (op === '+') return v;
          if (op === '~') return v.logicalNot();
        }
        if (typeof v === 'number' || typeof v === 'boolean') {
          const n = Number(v);
          if (op === '-') return -n;
          if (op === '+') return n;
          if (op === '~') return ~n;
        }
        throw this.fail(node, 'python', `TypeError: bad operand type for unary ${op}: '${typeName(v)}'`);
      }
      case 'not_operator':
        return !this.truthy(this.eval(node.childForFieldName('argument')!, scope, fnCtx), node);
      case 'boolean_operator': {
        const left = this.eval(node.childForFieldName('left')!, scope, fnCtx);
        const isAnd = node.childForFieldName('operator')!.text === 'and';
        if (this.truthy(left, node) === !isAnd) return left;
        return this.eval(node.childForFieldName('right')!, scope, fnCtx);
      }
      case 'comparison_operator':
        return this.comparison(node, scope, fnCtx);
      case 'conditional_expression': {
        const [a, cond, b] = node.namedChildren.filter((c) => c.type !== 'line_continuation' && c.type !== 'comment');
        return this.truthy(this.eval(cond, scope, fnCtx), node) ? this.eval(a, scope, fnCtx) : this.eval(b, scope, fnCtx);
      }
      case 'subscript':
        return this.subscript(node, scope, fnCtx);
      case 'slice': {
        const parts: (PyValue | null)[] = [null, null, null];
        let k = 0;
        for (const c of node.children) {
          if (c.text === ':' && !c.isNamed) k++;
          else if (c.isNamed) parts[k] = this.eval(c, scope, fnCtx);
        }
        const n = (v: PyValue | null) => (v === null ? null : asInt(v, 'slice index'));
        return new PySlice(n(parts[0]), n(parts[1]), n(parts[2]));
      }
      case 'dictionary_comprehension': {
        const pair = node.childForFieldName('body')!;
        const d = new PyDict();
        this.comprehension(node, scope, fnCtx, (inner) => {
          const k = this.key(this.eval(pair.childForFieldName('key')!, inner, fnCtx), pair);
          d.map.set(k, this.eval(pair.childForFieldName('value')!, inner, fnCtx));
          return null;
        });
        return d;
      }
      case 'list_comprehension':
      case 'generator_expression':
      case 'set_comprehension':
        if (node.type === 'set_comprehension') throw this.fail(node, 'unsupported', 'set comprehension');
        return this.comprehension(node, scope, fnCtx);
      case 'lambda': {
        const params = node.childForFieldName('parameters');
        const defaults = new Map<string, PyValue>();
        for (const p of params?.namedChildren ?? []) if (p.type === 'default_parameter') defaults.set(p.childForFieldName('name')!.text, this.eval(p.childForFieldName('value')!, scope, fnCtx));
        return new PyFunction('<lambda>', node, defaults, scope, fnCtx?.owner ?? null);
      }
      case 'keyword_argument':
      case 'list_splat':
      case 'dictionary_splat':
        throw this.fail(node, 'unsupported', `'${node.text}' here`);
      default:
        throw this.fail(node, 'unsupported', `expression '${node.type.replace(/_/g, ' ')}' (${node.text.split('\n')[0].slice(0, 40)})`);
    }
  }

  private builtin(name: string): PyValue | undefined {
    return this.surface.builtins.get(name) ?? (name === 'super' ? SUPER : undefined);
  }

  private elements(node: Node, scope: Scope, fnCtx: FnCtx | null): PyValue[] {
    const out: PyValue[] = [];
    for (const c of node.namedChildren) {
      if (c.type === 'comment') continue;
      if (c.type === 'list_splat') out.push(...this.iterateAt(this.eval(c.namedChildren[0], scope, fnCtx), c));
      else out.push(this.eval(c, scope, fnCtx));
    }
    return out;
  }

  private string(node: Node, scope: Scope, fnCtx: FnCtx | null): string {
    let out = '';
    for (const c of node.namedChildren) {
      if (c.type === 'string_content') out += c.text.replace(/\\n/g, '\n').replace(/\\t/g, '\t').replace(/\\(['"\\])/g, '$1');
      else if (c.type === 'interpolation') {
        const e = c.childForFieldName('expression') ?? c.namedChildren[0];
        out += pyStr(this.eval(e, scope, fnCtx));
      } else if (c.type === 'escape_sequence') out += JSON.parse(`"${c.text.replace(/"/g, '\\"')}"`) as string;
    }
    return out;
  }

  private comprehension(node: Node, scope: Scope, fnCtx: FnCtx | null, make?: (inner: Scope) => PyValue): PyValue[] {
    const body = node.childForFieldName('body')!;
    const clauses = node.namedChildren.filter((c) => c.type === 'for_in_clause' || c.type === 'if_clause');
    const inner = new Scope(scope);
    const out: PyValue[] = [];
    const run = (i: number): void => {
      if (i === clauses.length) {
        out.push(make ? make(inner) : this.eval(body, inner, fnCtx));
        return;
      }
      const c = clauses[i];
      if (c.type === 'if_clause') {
        if (this.truthy(this.eval(c.namedChildren[0], inner, fnCtx), c)) run(i + 1);
        return;
      }
      for (const item of this.iterateAt(this.eval(c.childForFieldName('right')!, inner, fnCtx), c)) {
        this.bindTarget(c.childForFieldName('left')!, item, inner, fnCtx);
        run(i + 1);
      }
    };
    run(0);
    return out;
  }

  private comparison(node: Node, scope: Scope, fnCtx: FnCtx | null): PyValue {
    const operands = node.namedChildren;
    const ops: string[] = [];
    let pending = '';
    for (const c of node.children) {
      if (c.isNamed) {
        if (pending) ops.push(pending);
        pending = '';
      } else pending = pending ? `${pending} ${c.text}` : c.text;
    }
    let left = this.eval(operands[0], scope, fnCtx);
    let result: PyValue = true;
    for (let i = 0; i < ops.length; i++) {
      const right = this.eval(operands[i + 1], scope, fnCtx);
      result = this.compare(ops[i], left, right, node);
      if (result instanceof Tensor) {
        if (ops.length > 1) throw this.fail(node, 'unsupported', 'chained comparison of tensors');
        return result;
      }
      if (!result) return false;
      left = right;
    }
    return result;
  }

  private compare(op: string, a: PyValue, b: PyValue, node: Node): PyValue {
    if (op === 'is' || op === 'is not') {
      const same = a === b || (a === null && b === null) || (a instanceof PyToken && b instanceof PyToken && canonicalToken(a.name) === canonicalToken(b.name));
      return op === 'is' ? same : !same;
    }
    if (op === 'in' || op === 'not in') {
      const items = b instanceof PyDict ? [...b.map.keys()] : typeof b === 'string' ? null : this.iterateAt(b, node);
      const found = items === null ? (b as string).includes(String(a)) : items.some((x) => x === a);
      return op === 'in' ? found : !found;
    }
    if (a instanceof Tensor || b instanceof Tensor) {
      const [t, other, flipped] = a instanceof Tensor ? [a, b, false] : [b as Tensor, a, true];
      const o = other instanceof Tensor ? other : asNumberOrBool(other, node, this);
      const map: Record<string, string> = flipped ? { '<': 'gt', '<=': 'ge', '>': 'lt', '>=': 'le', '==': 'eq', '!=': 'ne' } : { '<': 'lt', '<=': 'le', '>': 'gt', '>=': 'ge', '==': 'eq', '!=': 'ne' };
      const m = map[op];
      if (!m) throw this.fail(node, 'unsupported', `tensor comparison '${op}'`);
      return (t as unknown as Record<string, (x: Tensor | number) => Tensor>)[m](o);
    }
    if (op === '==' || op === '!=') {
      const eq = pyEquals(a, b);
      return op === '==' ? eq : !eq;
    }
    if ((typeof a === 'number' || typeof a === 'boolean') && (typeof b === 'number' || typeof b === 'boolean')) {
      const [x, y] = [Number(a), Number(b)];
      return op === '<' ? x < y : op === '<=' ? x <= y : op === '>' ? x > y : x >= y;
    }
    throw this.fail(node, 'python', `TypeError: '${op}' not supported between instances of '${typeName(a)}' and '${typeName(b)}'`);
  }

  binary(op: string, a: PyValue, b: PyValue, node: Node): PyValue {
    const name = BINARY[op];
    if (!name) throw this.fail(node, 'unsupported', `operator '${op}'`);
    if (a instanceof PyComplex || b instanceof PyComplex) {
      try {
        return complexBinary(op, a, b);
      } catch (e) {
        throw this.located(node, e);
      }
    }
    if (a instanceof Tensor || b instanceof Tensor) return this.tensorBinary(name, op, a, b, node);
    if ((typeof a === 'number' || typeof a === 'boolean') && (typeof b === 'number' || typeof b === 'boolean')) {
      const [x, y] = [Number(a), Number(b)];
      switch (name) {
        case 'add':
          return x + y;
        case 'sub':
          return x - y;
        case 'mul':
          return x * y;
        case 'div':
          if (y === 0) throw this.fail(node, 'python', 'ZeroDivisionError: division by zero');
          return x / y;
        case 'floordiv':
          if (y === 0) throw this.fail(node, 'python', 'ZeroDivisionError: integer division or modulo by zero');
          return Math.floor(x / y);
        case 'mod':
          if (y === 0) throw this.fail(node, 'python', 'ZeroDivisionError: integer division or modulo by zero');
          return ((x % y) + y) % y;
        case 'pow':
          return Math.pow(x, y);
        case 'and':
          return typeof a === 'boolean' && typeof b === 'boolean' ? a && b : x & y;
        case 'or':
          return typeof a === 'boolean' && typeof b === 'boolean' ? a || b : x | y;
        case 'lshift':
          return x * 2 ** y;
        case 'rshift':
          return Math.floor(x / 2 ** y);
      }
    }
    if (op === '+' && typeof a === 'string' && typeof b === 'string') return a + b;
    if (op === '+' && a instanceof PyTuple && b instanceof PyTuple) return new PyTuple([...a.items, ...b.items]);
    if (op === '+' && Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
    if (op === '*' && (a instanceof PyTuple || Array.isArray(a)) && typeof b === 'number') {
      const items = a instanceof PyTuple ? a.items : a;
      const out = Array.from({ length: Math.max(0, b) }, () => items).flat();
      return a instanceof PyTuple ? new PyTuple(out) : out;
    }
    if (op === '%' && typeof a === 'string') throw this.fail(node, 'unsupported', "'%' string formatting");
    throw this.fail(node, 'python', `TypeError: unsupported operand type(s) for ${op}: '${typeName(a)}' and '${typeName(b)}'`);
  }

  private tensorBinary(name: string, op: string, a: PyValue, b: PyValue, node: Node): Tensor {
    const num = (v: PyValue) => asNumberOrBool(v, node, this);
    if (a instanceof Tensor) {
      const o = b instanceof Tensor ? b : num(b);
      switch (name) {
        case 'add':
          return a.add(o);
        case 'sub':
          return a.sub(o);
        case 'mul':
          return a.mul(o);
        case 'div':
          return a.div(o);
        case 'pow':
          return a.pow(o);
        case 'matmul':
          if (!(o instanceof Tensor)) break;
          return a.matmul(o);
        case 'floordiv': {
          const q = a.div(o).floor();
          return a.dtype === 'int64' && (!(o instanceof Tensor) ? Number.isInteger(o) : o.dtype === 'int64') ? q.to('int64') : q;
        }
        case 'mod': {
          const q = a.div(o).floor();
          const r = a.sub(o instanceof Tensor ? q.mul(o) : q.mul(o));
          return a.dtype === 'int64' && (!(o instanceof Tensor) ? Number.isInteger(o) : o.dtype === 'int64') ? r.to('int64') : r;
        }
        case 'and':
        case 'or':
          if (!(o instanceof Tensor) || a.dtype !== 'bool' || o.dtype !== 'bool') break;
          return name === 'and' ? a.logicalAnd(o) : a.logicalOr(o);
      }
      throw this.fail(node, 'unsupported', `operator '${op}' on tensors`);
    }
    const t = b as Tensor;
    const x = num(a);
    switch (name) {
      case 'add':
        return t.add(x);
      case 'mul':
        return t.mul(x);
      case 'sub':
        return t.rsub(x);
      case 'div':
        return full([], x, { device: t.device }).div(t);
      case 'pow':
        return full([], x, { device: t.device }).pow(t);
    }
    throw this.fail(node, 'unsupported', `operator '${op}' with a number on the left of a tensor`);
  }

  private subscript(node: Node, scope: Scope, fnCtx: FnCtx | null): PyValue {
    const obj = this.eval(node.childForFieldName('value')!, scope, fnCtx);
    const idxNodes = node.childrenForFieldName('subscript');
    const idx = idxNodes.map((n) => this.eval(n, scope, fnCtx));
    if (obj instanceof Tensor) return this.indexTensor(obj, idx.length === 1 && idx[0] instanceof PyTuple ? idx[0].items : idx, node);
    if (obj instanceof PyComplex) {
      const ix = idx.length === 1 && idx[0] instanceof PyTuple ? idx[0].items : idx;
      return new PyComplex(this.indexTensor(obj.re, ix, node), this.indexTensor(obj.im, ix, node));
    }
    if (idx.length !== 1) throw this.fail(node, 'python', `TypeError: ${typeName(obj)} indices must be integers or slices, not tuple`);
    const i = idx[0];
    if (obj instanceof PyDict) {
      const k = this.key(i, node);
      if (!obj.map.has(k)) throw this.fail(node, 'python', `KeyError: ${pyStr(i)}`);
      return obj.map.get(k)!;
    }
    if (obj instanceof nn.ModuleDict) {
      if (typeof i !== 'string') throw this.fail(node, 'python', `TypeError: ModuleDict keys are strings, not ${typeName(i)}`);
      if (!obj.has(i)) throw this.fail(node, 'python', `KeyError: '${i}'`);
      return obj.get(i);
    }
    if (obj instanceof nn.Sequential || obj instanceof nn.ModuleList) {
      if (i instanceof PySlice) throw this.fail(node, 'unsupported', `slicing an nn.${obj.typeName}`);
      return obj.get(asInt(i, 'index'));
    }
    const items = obj instanceof PyTuple ? obj.items : Array.isArray(obj) ? obj : typeof obj === 'string' ? [...obj] : null;
    if (!items) throw this.fail(node, 'python', `TypeError: '${typeName(obj)}' object is not subscriptable`);
    if (i instanceof PySlice) {
      const picked = sliceIndices(items.length, i).map((k) => items[k]);
      return obj instanceof PyTuple ? new PyTuple(picked) : typeof obj === 'string' ? picked.join('') : picked;
    }
    const k = asInt(i, `${typeName(obj)} index`);
    const j = k < 0 ? k + items.length : k;
    if (j < 0 || j >= items.length) throw this.fail(node, 'python', `IndexError: ${typeName(obj)} index out of range`);
    return items[j];
  }

  /**
   * `t[idx] = value` with basic indexing: the elements of the view are overwritten in `t`'s
   * storage, so every view of it sees the write, as in torch. Needs a backend that reads
   * synchronously (the CPU); a scalar or a tensor broadcast to the view's shape.
   */
  private writeTensor(t: Tensor, idx: readonly PyValue[], v: PyValue, node: Node): void {
    const readSync = t.device.readSync?.bind(t.device);
    if (!readSync) return this.writeOnDevice(t, idx, v, node);
    // Index tensors select copies, not views: index a tensor of t's storage offsets the same
    // way to learn which elements the assignment writes.
    const advanced = idx.some((x) => x instanceof Tensor || Array.isArray(x) || x instanceof PyTuple);
    const where = advanced ? this.indexTensor(tensorOf(Float32Array.from(stridedOffsets(t.shape, t.strides, t.offset)), { shape: t.shape, dtype: 'int64' }), idx, node) : null;
    const view = where ?? this.indexTensor(t, idx, node);
    let values: ArrayLike<number>;
    if (v instanceof Tensor) {
      try {
        values = v.to(t.dtype).expand(view.shape).contiguous().dataSync();
      } catch (e) {
        throw this.located(node, e);
      }
    } else if (typeof v === 'number' || typeof v === 'boolean') values = new Float32Array(view.numel()).fill(Number(v));
    else throw this.fail(node, 'python', `TypeError: can't assign a ${typeName(v)} to a Tensor`);
    const data = readSync(t.storage).slice();
    const offs = where ? where.contiguous().dataSync() : stridedOffsets(view.shape, view.strides, view.offset);
    for (let i = 0; i < offs.length; i++) data[offs[i]] = t.dtype === 'bool' ? (values[i] ? 1 : 0) : t.dtype === 'int64' ? Math.trunc(values[i]) : values[i];
    writeStorage(t.storage, data);
  }

  /**
   * `writeTensor` on a backend that cannot read synchronously (WebGPU): the storage's new
   * contents are computed there — each written element gathered from the values, the others
   * kept — and copied over the storage, so every view sees the write and nothing is read back.
   * Which storage elements the view covers is known from its strides; through advanced indexing
   * it would take the index tensors' values, which stay on the device, so that is unsupported.
   */
  private writeOnDevice(t: Tensor, idx: readonly PyValue[], v: PyValue, node: Node): void {
    const dev = t.device;
    if (!dev.copy) throw this.fail(node, 'unsupported', `assignment into a tensor on the ${dev.name} backend`);
    if (idx.some((x) => x instanceof Tensor || Array.isArray(x) || x instanceof PyTuple)) return this.indexCopyOnDevice(t, idx, v, node);
    const view = this.indexTensor(t, idx, node);
    const n = view.numel();
    const size = t.storage.size;
    try {
      const values = this.assigned(t, v, view.shape, node).reshape([n]);
      const offs = stridedOffsets(view.shape, view.strides, view.offset);
      let whole = offs.length === size;
      for (let i = 0; whole && i < offs.length; i++) whole = offs[i] === i;
      let next = values;
      if (!whole) {
        // For each storage element, the last value written to it (as the CPU loop's order), or -1.
        const from = new Float32Array(size).fill(-1);
        for (let i = 0; i < offs.length; i++) from[offs[i]] = i;
        const picked = tensorOf(from.map((i) => Math.max(i, 0)), { dtype: 'int64', device: dev });
        const written = tensorOf(from.map((i) => (i >= 0 ? 1 : 0)), { dtype: 'bool', device: dev });
        const old = new Tensor(t.storage, [size], [1], 0, t.dtype);
        next = where(written, values.indexSelect(0, picked), old);
      }
      // The copy takes whole storages: the values may be a view into a larger one.
      if (next.offset !== 0 || next.storage.size !== size) next = next.clone();
      copyStorage(next.storage, t.storage);
    } catch (e) {
      if (e instanceof InterpretError) throw e;
      throw this.located(node, e);
    }
  }

  /** What `t[…] = v` writes, as a contiguous tensor of `shape` on t's device in t's dtype (a tensor broadcast, or a number). */
  private assigned(t: Tensor, v: PyValue, shape: readonly number[], node: Node): Tensor {
    if (v instanceof Tensor) return v.to(t.dtype).expand(shape).contiguous();
    if (typeof v === 'number' || typeof v === 'boolean') return full(shape, t.dtype === 'bool' ? Number(Boolean(v)) : t.dtype === 'int64' ? Math.trunc(Number(v)) : Number(v), { dtype: t.dtype, device: t.device });
    throw this.fail(node, 'python', `TypeError: can't assign a ${typeName(v)} to a Tensor`);
  }

  /**
   * `t[:, :, idx] = v` on a device (a KV cache written at the positions of an index tensor): one
   * 1-D int64 index tensor after full slices, into a tensor that is its whole storage, is the
   * `index_copy` kernel on the device, copied over the storage; nothing is read back. Other
   * advanced-index assignments need the index values and are unsupported there.
   */
  private indexCopyOnDevice(t: Tensor, idx: readonly PyValue[], v: PyValue, node: Node): void {
    const dev = t.device;
    const dim = idx.findIndex((x) => x instanceof Tensor);
    const index = idx[dim];
    const all = (x: PyValue) => x instanceof PySlice && x.start === null && x.stop === null && (x.step === null || x.step === 1);
    const simple =
      index instanceof Tensor && index.dtype === 'int64' && index.ndim <= 1 && dim < t.ndim &&
      idx.every((x, i) => i === dim || all(x)) &&
      t.offset === 0 && t.numel() === t.storage.size && isContiguous(t);
    if (!simple) throw this.fail(node, 'unsupported', `assignment through advanced indexing into a tensor on the ${dev.name} backend (other than t[:, …, index] = v with one index tensor into a whole contiguous tensor)`);
    try {
      const k = index.numel();
      const values = this.assigned(t, v, t.shape.map((s, d) => (d === dim ? k : s)), node);
      const next = t.indexCopy(dim, index.reshape([k]), values);
      copyStorage(next.storage, t.storage);
    } catch (e) {
      if (e instanceof InterpretError) throw e;
      throw this.located(node, e);
    }
  }

  /** Basic indexing: ints, slices, None and one Ellipsis, as views; one int64 index tensor after full slices (a lookup table) as `index_select`. */
  private indexTensor(t: Tensor, idx: readonly PyValue[], node: Node): Tensor {
    const tensors = idx.filter((v) => v instanceof Tensor) as Tensor[];
    if (tensors.length === 1 && tensors[0].dtype === 'int64') {
      const at = idx.indexOf(tensors[0]);
      const full = (v: PyValue) => v instanceof PySlice && v.start === null && v.stop === null && (v.step === null || v.step === 1);
      const leadingEllipsis = idx[0] instanceof PyEllipsis && at === 1;
      if ((leadingEllipsis || idx.slice(0, at).every(full)) && idx.slice(at + 1).every(full)) {
        const d = leadingEllipsis ? t.ndim - 1 - (idx.length - 2) : at;
        const index = tensors[0];
        try {
          const picked = t.indexSelect(d, index.reshape(-1));
          return picked.reshape([...t.shape.slice(0, d), ...index.shape, ...t.shape.slice(d + 1)]);
        } catch (e) {
          throw this.located(node, e);
        }
      }
    }
    if (idx.some((v) => v instanceof Tensor || Array.isArray(v) || v instanceof PyTuple)) return this.advancedIndex(t, idx, node);
    const consuming = idx.filter((v) => typeof v === 'number' || typeof v === 'boolean' || v instanceof PySlice).length;
    if (consuming > t.ndim) throw this.fail(node, 'python', `IndexError: too many indices for tensor of dimension ${t.ndim}`);
    let out = t;
    let d = 0;
    for (const v of idx) {
      if (v instanceof PySlice) {
        out = out.slice(d, v.start ?? undefined, v.stop ?? undefined, v.step ?? 1);
        d++;
      } else if (typeof v === 'number') out = out.select(d, asInt(v, 'index'));
      else if (v === null) {
        out = out.unsqueeze(d);
        d++;
      } else if (v instanceof PyEllipsis) d += t.ndim - consuming;
      else throw this.fail(node, 'unsupported', `indexing a tensor with ${typeName(v)} (advanced indexing)`);
    }
    return out;
  }

  /**
   * Advanced indexing as torch (numpy) defines it: index tensors and lists, with the ints beside
   * them, are broadcast together; their result dims replace the indexed dims where those are
   * adjacent, and go first where slices separate them. A bool mask stands for its nonzero
   * positions (read from the CPU backend). One gather (`index_select`) over the indexed dims,
   * flattened, does the work.
   */
  private advancedIndex(t: Tensor, raw: readonly PyValue[], node: Node): Tensor {
    const dev = t.device;
    const toIndex = (v: PyValue): Tensor[] => {
      if (v instanceof Tensor) {
        if (v.dtype === 'bool') {
          const read = v.device.readSync?.bind(v.device);
          if (!read) throw this.fail(node, 'unsupported', `indexing with a bool mask on the ${v.device.name} backend`);
          const data = read(v.storage);
          const offs = stridedOffsets(v.shape, v.strides, v.offset);
          const coords: number[][] = v.shape.map(() => []);
          offs.forEach((o, flat) => {
            if (!data[o]) return;
            let r = flat;
            for (let d = v.ndim - 1; d >= 0; d--) {
              coords[d].push(r % v.shape[d]);
              r = Math.floor(r / v.shape[d]);
            }
          });
          return coords.map((c) => tensorOf(c, { dtype: 'int64', device: dev }));
        }
        if (v.dtype !== 'int64') throw this.fail(node, 'python', 'IndexError: tensors used as indices must be long, int, byte or bool tensors');
        return [v];
      }
      const flat = (x: PyValue): unknown => {
        if (Array.isArray(x) || x instanceof PyTuple) return this.iterate(x).map(flat);
        if (typeof x === 'boolean') throw this.fail(node, 'unsupported', 'indexing a tensor with a list of bools');
        return asInt(x, 'index');
      };
      const nested = flat(v);
      return [tensorOf(nested as number[], { dtype: 'int64', device: dev })];
    };
    // Expand the Ellipsis, turn None into a unit axis, and give every indexed dim one entry.
    const consuming = raw.reduce<number>((n, v) => n + (v === null || v instanceof PyEllipsis ? 0 : v instanceof Tensor && v.dtype === 'bool' ? v.ndim : 1), 0);
    if (consuming > t.ndim) throw this.fail(node, 'python', `IndexError: too many indices for tensor of dimension ${t.ndim}`);
    let x = t;
    const entries: (PySlice | Tensor | number)[] = [];
    const all = new PySlice(null, null, null);
    for (const v of raw) {
      if (v instanceof PyEllipsis) for (let k = 0; k < t.ndim - consuming; k++) entries.push(all);
      else if (v === null) {
        x = x.unsqueeze(entries.length);
        entries.push(all);
      } else if (v instanceof PySlice) entries.push(v);
      else if (typeof v === 'number' || typeof v === 'boolean') entries.push(asInt(v, 'index'));
      else entries.push(...toIndex(v));
    }
    while (entries.length < x.ndim) entries.push(all);
    try {
      entries.forEach((e, d) => {
        if (e instanceof PySlice && e !== all) x = x.slice(d, e.start ?? undefined, e.stop ?? undefined, e.step ?? 1);
      });
      // Unlike numpy, torch takes an int beside index tensors as a plain select: it does not
      // broadcast with them, and does not separate them.
      for (let d = entries.length - 1; d >= 0; d--) {
        const e = entries[d];
        if (typeof e === 'number') {
          x = x.select(d, e);
          entries.splice(d, 1);
        }
      }
      const adv = entries.map((e, d) => (e instanceof Tensor ? d : -1)).filter((d) => d >= 0);
      const rest = entries.map((_, d) => d).filter((d) => !adv.includes(d));
      const sizes = adv.map((d) => x.shape[d]);
      // Bounds, as torch reports them (where the backend can be read synchronously).
      adv.forEach((d, j) => {
        const ix = entries[d] as Tensor;
        const read = ix.device.readSync?.bind(ix.device);
        if (!read) return;
        const data = read(ix.storage);
        for (const o of stridedOffsets(ix.shape, ix.strides, ix.offset)) {
          if (data[o] < -sizes[j] || data[o] >= sizes[j]) throw pyError('IndexError', `index ${data[o]} is out of bounds for dimension ${d} with size ${sizes[j]}`);
        }
      });
      let lin: Tensor | null = null;
      adv.forEach((d, j) => {
        const ix = entries[d] as Tensor;
        const pos = ix.where(ix.ge(0), ix.add(sizes[j]));
        const stride = sizes.slice(j + 1).reduce((p, n) => p * n, 1);
        const term = stride === 1 ? pos : pos.mul(stride);
        lin = lin === null ? term : lin.add(term);
      });
      const index = lin! as Tensor;
      const moved = x.permute([...adv, ...rest]);
      const gathered = moved.reshape([-1, ...rest.map((d) => x.shape[d])]).indexSelect(0, index.reshape(-1));
      const bshape = [...index.shape];
      let out = gathered.reshape([...bshape, ...rest.map((d) => x.shape[d])]);
      const adjacent = adv.every((d, j) => j === 0 || d === adv[j - 1] + 1);
      if (adjacent && adv[0] > 0) {
        // The broadcast dims take the place of the indexed ones.
        const k = bshape.length;
        const before = rest.filter((d) => d < adv[0]).length;
        const perm = [...Array.from({ length: before }, (_, i) => k + i), ...Array.from({ length: k }, (_, i) => i), ...Array.from({ length: rest.length - before }, (_, i) => k + before + i)];
        out = out.permute(perm);
      }
      return out;
    } catch (e) {
      throw this.located(node, e);
    }
  }

  // ---- calls ---------------------------------------------------------------------------

  private callExpr(node: Node, scope: Scope, fnCtx: FnCtx | null): PyValue {
    const fnode = node.childForFieldName('function')!;
    const argsNode = node.childForFieldName('arguments')!;
    if (argsNode.type === 'generator_expression') return this.call(this.eval(fnode, scope, fnCtx), [this.comprehension(argsNode, scope, fnCtx)], new Map());
    // `super()` without arguments: the class of the method being run and its `self`.
    if (fnode.type === 'identifier' && fnode.text === 'super' && scope.lookup('super') === undefined) {
      if (!fnCtx?.owner || fnCtx.self === undefined) throw this.fail(node, 'unsupported', 'super() outside a method');
      return new PySuper(fnCtx.owner, fnCtx.self);
    }
    const f = this.eval(fnode, scope, fnCtx);
    const pos: PyValue[] = [];
    const kw = new Map<string, PyValue>();
    for (const a of argsNode.namedChildren) {
      if (a.type === 'comment') continue;
      if (a.type === 'keyword_argument') kw.set(a.childForFieldName('name')!.text, this.eval(a.childForFieldName('value')!, scope, fnCtx));
      else if (a.type === 'list_splat') pos.push(...this.iterateAt(this.eval(a.namedChildren[0], scope, fnCtx), a));
      else if (a.type === 'dictionary_splat') {
        const d = this.eval(a.namedChildren[0], scope, fnCtx);
        if (!(d instanceof PyDict)) throw this.fail(a, 'python', `TypeError: argument after ** must be a mapping, not ${typeName(d)}`);
        for (const [k, v] of d.map) kw.set(String(k), v);
      } else pos.push(this.eval(a, scope, fnCtx));
    }
    this.current = node;
    try {
      return this.call(f, pos, kw);
    } catch (e) {
      const err = this.located(node, e);
      if (err instanceof InterpretError || !(err instanceof Error) || err instanceof RangeError) throw err;
      // A JavaScript error from the runtime on arguments Python would reject (a string where a size goes).
      if (err instanceof TypeError) throw this.fail(node, 'python', `TypeError: invalid arguments to ${fnode.text}(): ${err.message}`);
      throw err;
    }
  }

  call(f: PyValue, pos: PyValue[], kw: ReadonlyMap<string, PyValue> = new Map()): PyValue {
    if (f instanceof PyBuiltin) return f.call({ pos, kw });
    if (f instanceof PyFunction) return this.invoke(f, undefined, pos, kw);
    if (f instanceof PyBoundMethod) return this.invoke(f.fn, f.self, pos, kw);
    if (f instanceof PyClass) return this.instantiate(f, pos, kw);
    if (f instanceof Module) return this.callModule(f, { pos, kw });
    if (f === SUPER) throw unsupported('super() with arguments');
    throw pyError('TypeError', `'${typeName(f)}' object is not callable`);
  }

  private callModule(m: Module, a: Args): PyValue {
    const fwd = (m as unknown as { forward: (...x: unknown[]) => unknown }).forward;
    if (m instanceof UserModule) return fwd.apply(m, a.kw.size ? [...a.pos, new Kwargs(a.kw)] : [...a.pos]) as PyValue;
    if (m instanceof nn.ModuleList) throw pyError('NotImplementedError', 'ModuleList is not callable: iterate over it');
    if (m instanceof nn.MultiheadAttention) {
      const b = bind('MultiheadAttention.forward', ['query', 'key', 'value', 'key_padding_mask=', 'need_weights=', 'attn_mask=', 'average_attn_weights=', 'is_causal='], a);
      const opt = (k: string) => (b.get(k) === undefined ? undefined : b.get(k));
      const r = fwd.call(m, b.get('query'), b.get('key'), b.get('value'), Object.fromEntries(['key_padding_mask', 'need_weights', 'attn_mask', 'average_attn_weights', 'is_causal'].filter((k) => opt(k) !== undefined).map((k) => [k, opt(k)]))) as [Tensor, Tensor | null];
      return new PyTuple([r[0], r[1]]);
    }
    if (a.kw.size) throw unsupported(`keyword arguments to nn.${m.typeName}`);
    for (const x of a.pos) if (!(x instanceof Tensor)) throw pyError('TypeError', `nn.${m.typeName}: expected a Tensor argument, got ${typeName(x)}`);
    return fwd.apply(m, [...a.pos]) as PyValue;
  }

  private instantiate(cls: PyClass, pos: PyValue[], kw: ReadonlyMap<string, PyValue>): PyValue {
    const self: PyValue = cls.module ? new UserModule(cls, (m, args, kws) => this.runForward(m, args, kws)) : new PyInstance(cls);
    const init = cls.lookup('__init__');
    if (init instanceof PyFunction) this.invoke(init, self, pos, kw);
    else if (init instanceof PyBuiltin) init.call({ pos: [self, ...pos], kw });
    else if (cls.native && self instanceof UserModule) this.adoptNative(self, cls.native.call({ pos, kw }) as Module);
    else if (pos.length || kw.size) throw pyError('TypeError', `${cls.name}() takes no arguments`);
    return self;
  }

  /**
   * The torch layer a class derives from, once `super().__init__(...)` built it: its parameters
   * and children become the instance's own (the same tensors, so a loaded state dict reaches
   * both), its buffers are shared, and its settings (`stride`, `padding`, …) read as attributes.
   */
  private readonly natives = new WeakMap<UserModule, Module>();

  private adoptNative(self: UserModule, m: Module): void {
    this.natives.set(self, m);
    const rec = m as unknown as Record<string, unknown>;
    const own = self as unknown as Record<string, unknown>;
    const buffers = new Set(m.namedBuffers().map(([k]) => k).filter((k) => !k.includes('.')));
    for (const [k, v] of Object.entries(m)) {
      if (k === 'training' || k.startsWith('_')) continue;
      if (buffers.has(k) && v instanceof Tensor) {
        self.registerBuffer(k, v);
        self.slots.add(k);
        rec[k] = own[k];
      } else if (v instanceof Module || v instanceof nn.Parameter || (v === null && (k === 'bias' || k === 'weight'))) {
        self.slots.add(k);
        own[k] = v;
      } else if (isValue(v)) self.attrs.set(k, Array.isArray(v) ? new PyTuple(v as PyValue[]) : (v as PyValue));
    }
  }

  /** A torch layer's own methods that subclasses call (`self._conv_forward(x, w, b)`). */
  private nativeMethod(m: Module, name: string): PyValue | undefined {
    if (name === '_conv_forward' && m instanceof nn.Conv2d) {
      return new PyBuiltin('Conv2d._conv_forward', (a) => {
        const b = bind('_conv_forward', ['input', 'weight', 'bias'], a);
        const bias = b.get('bias');
        return F.conv2d(asTensor(b.get('input'), 'input'), asTensor(b.get('weight'), 'weight'), bias === null || bias === undefined ? null : asTensor(bias, 'bias'), { stride: m.stride, padding: m.padding, dilation: m.dilation, groups: m.groups });
      });
    }
    return undefined;
  }

  private runForward(m: UserModule, args: PyValue[], kw: ReadonlyMap<string, PyValue>): PyValue {
    const native = this.natives.get(m);
    if (native && !(m.cls.lookup('forward') instanceof PyFunction)) return this.callModule(native, { pos: args, kw });
    const f = m.cls.lookup('forward');
    if (!(f instanceof PyFunction)) throw pyError('NotImplementedError', `Module [${m.cls.name}] is missing the required "forward" function`);
    try {
      return this.invoke(f, m, args, kw);
    } catch (e) {
      // Binding the call's arguments fails before any line of forward runs: report the def.
      throw this.located(f.node, e);
    }
  }

  /** Calls a user function: binds parameters as Python does, runs the body in a new scope. */
  invoke(f: PyFunction, self: PyValue | undefined, pos: PyValue[], kw: ReadonlyMap<string, PyValue>): PyValue {
    if (++this.depth > this.maxDepth) {
      this.depth = 0;
      throw this.fail(f.node, 'limit', `calls nested deeper than ${this.maxDepth} (recursion)`);
    }
    try {
      const scope = new Scope(f.closure);
      const args = self === undefined ? pos : [self, ...pos];
      this.bindParams(f, args, kw, scope);
      const ctx: FnCtx = { owner: f.owner, self: self ?? (f.owner ? args[0] : undefined) };
      if (f.node.type === 'lambda') return this.eval(f.node.childForFieldName('body')!, scope, ctx);
      try {
        this.execBlock(f.node.childForFieldName('body')!, scope, ctx);
      } catch (e) {
        if (e instanceof ReturnSignal) return e.value;
        throw e;
      }
      return null;
    } finally {
      this.depth--;
    }
  }

  private bindParams(f: PyFunction, args: PyValue[], kw: ReadonlyMap<string, PyValue>, scope: Scope): void {
    const params = f.node.childForFieldName('parameters')?.namedChildren ?? [];
    const left = new Map(kw);
    let i = 0;
    let kwOnly = false;
    let star: string | null = null;
    let dstar: string | null = null;
    const name = (p: Node) => (p.type === 'identifier' ? p.text : p.type === 'typed_parameter' ? p.namedChildren.find((c) => c.type === 'identifier')!.text : p.childForFieldName('name')!.text);
    for (const p of params) {
      if (p.type === 'keyword_separator') {
        kwOnly = true;
        continue;
      }
      if (p.type === 'positional_separator') continue;
      if (p.type === 'list_splat_pattern' || (p.type === 'typed_parameter' && p.namedChildren[0]?.type === 'list_splat_pattern')) {
        star = p.text.replace(/^\*/, '').split(':')[0].trim();
        scope.vars.set(star, new PyTuple(args.slice(i)));
        i = args.length;
        kwOnly = true;
        continue;
      }
      if (p.type === 'dictionary_splat_pattern' || (p.type === 'typed_parameter' && p.namedChildren[0]?.type === 'dictionary_splat_pattern')) {
        dstar = p.text.replace(/^\*\*/, '').split(':')[0].trim();
        continue;
      }
      const n = name(p);
      if (!kwOnly && i < args.length) {
        if (left.has(n)) throw pyError('TypeError', `${f.name}() got multiple values for argument '${n}'`);
        scope.vars.set(n, args[i++]);
      } else if (left.has(n)) {
        scope.vars.set(n, left.get(n)!);
        left.delete(n);
      } else if (f.defaults.has(n)) scope.vars.set(n, f.defaults.get(n)!);
      else throw pyError('TypeError', `${f.name}() missing required argument '${n}'`);
    }
    if (i < args.length && star === null) throw pyError('TypeError', `${f.name}() takes ${i} positional arguments but ${args.length} were given`);
    if (dstar !== null) scope.vars.set(dstar, new PyDict(new Map(left)));
    else if (left.size) throw pyError('TypeError', `${f.name}() got an unexpected keyword argument '${[...left.keys()][0]}'`);
  }

  // ---- iteration and truth -------------------------------------------------------------

  iterate(v: PyValue): PyValue[] {
    if (Array.isArray(v)) return [...v];
    if (v instanceof PyTuple) return [...v.items];
    if (v instanceof PyDict) return [...v.map.keys()];
    if (typeof v === 'string') return [...v];
    if (v instanceof nn.ModuleList || v instanceof nn.Sequential) return v.namedChildren().map(([, m]) => m);
    if (v instanceof nn.ModuleDict) return v.keys();
    if (v instanceof Tensor) {
      if (v.ndim === 0) throw pyError('TypeError', 'iteration over a 0-d tensor');
      return v.unbind(0);
    }
    throw pyError('TypeError', `'${typeName(v)}' object is not iterable`);
  }

  private iterateAt(v: PyValue, node: Node): PyValue[] {
    try {
      return this.iterate(v);
    } catch (e) {
      throw this.located(node, e);
    }
  }

  private truthy(v: PyValue, node: Node): boolean {
    if (v instanceof Tensor) {
      if (v.numel() !== 1) throw this.fail(node, 'python', `RuntimeError: Boolean value of Tensor with more than one value is ambiguous`);
      return v.item() !== 0;
    }
    if (v === null) return false;
    if (typeof v === 'number' || typeof v === 'boolean') return Boolean(v);
    if (typeof v === 'string' || Array.isArray(v)) return v.length > 0;
    if (v instanceof PyTuple) return v.items.length > 0;
    if (v instanceof PyDict) return v.map.size > 0;
    if (v instanceof nn.ModuleList || v instanceof nn.Sequential) return v.length > 0;
    return true;
  }
}

interface FnCtx {
  readonly owner: PyClass | null;
  readonly self: PyValue | undefined;
}

const SUPER = new PyToken('super');

function isValue(v: unknown): boolean {
  return v === null || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string' || v instanceof Tensor || v instanceof Module || (Array.isArray(v) && v.every((x) => typeof x === 'number'));
}

function asNumberOrBool(v: PyValue, node: Node, it: Interpreter): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  throw new InterpretError('python', (it as unknown as { o: InterpreterOptions }).o.file, node.startPosition.row + 1, `TypeError: unsupported operand type for a tensor operation: '${typeName(v)}'`);
}

function pyEquals(a: PyValue, b: PyValue): boolean {
  if ((typeof a === 'number' || typeof a === 'boolean') && (typeof b === 'number' || typeof b === 'boolean')) return Number(a) === Number(b);
  if ((a instanceof PyTuple || Array.isArray(a)) && (b instanceof PyTuple || Array.isArray(b))) {
    const [x, y] = [a instanceof PyTuple ? a.items : a, b instanceof PyTuple ? b.items : b];
    if (Array.isArray(a) !== Array.isArray(b)) return false;
    return x.length === y.length && x.every((v, i) => pyEquals(v, y[i]));
  }
  // dtypes, devices and other tokens are singletons in Python: equal by name, aliases included.
  if (a instanceof PyToken && b instanceof PyToken) return canonicalToken(a.name) === canonicalToken(b.name);
  return a === b;
}

const TOKEN_ALIASES: Record<string, string> = { 'torch.float': 'torch.float32', 'torch.long': 'torch.int64', 'torch.int': 'torch.int32', 'torch.cfloat': 'torch.complex64', 'torch.bool': 'torch.bool' };

function canonicalToken(name: string): string {
  return TOKEN_ALIASES[name] ?? name;
}

/** The indices a Python slice picks from a sequence of length n. */
function sliceIndices(n: number, s: PySlice): number[] {
  const step = s.step ?? 1;
  if (step === 0) throw pyError('ValueError', 'slice step cannot be zero');
  const norm = (v: number | null, def: number, lo: number, hi: number) => (v === null ? def : Math.min(Math.max(v < 0 ? v + n : v, lo), hi));
  const out: number[] = [];
  if (step > 0) for (let i = norm(s.start, 0, 0, n); i < norm(s.stop, n, 0, n); i += step) out.push(i);
  else for (let i = norm(s.start, n - 1, -1, n - 1); i > norm(s.stop, -1, -1, n - 1); i += step) out.push(i);
  return out;
}

/** The names a top-level statement binds (what an import that could not run it leaves unusable). */
function boundNames(stmt: Node): string[] {
  const def = stmt.type === 'decorated_definition' ? stmt.childForFieldName('definition') : stmt;
  if (def && (def.type === 'class_definition' || def.type === 'function_definition')) return [def.childForFieldName('name')!.text];
  if (stmt.type === 'import_from_statement') return stmt.childrenForFieldName('name').map((n) => (n.type === 'aliased_import' ? n.childForFieldName('alias')! : n).text);
  if (stmt.type === 'import_statement') return stmt.namedChildren.map((n) => (n.type === 'aliased_import' ? n.childForFieldName('alias')!.text : n.text.split('.')[0]));
  const names: string[] = [];
  const collect = (n: Node) => {
    if (n.type === 'identifier') names.push(n.text);
    else if (['pattern_list', 'tuple_pattern', 'list_pattern', 'expression_list', 'tuple', 'list'].includes(n.type)) n.namedChildren.forEach(collect);
  };
  const a = stmt.type === 'expression_statement' ? stmt.namedChildren[0] : null;
  if (a?.type === 'assignment') collect(a.childForFieldName('left')!);
  return names;
}
