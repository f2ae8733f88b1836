/**
 * Binding: the module-level facts of one unit of evaluation (see units.ts), read from the
 * syntax tree without evaluating anything: import aliases (`import torch.nn as nn`,
 * `from torch.nn import functional as F`, `from torch import Tensor`; the file's, shared by
 * every unit), the classes with their bases and methods (which of them are `nn.Module`
 * subclasses, directly or through another class of the unit), top-level functions, the shape
 * comments of each line (`# (B, C, H, W)`) and the suppression comments.
 *
 * It does not evaluate constants, constructor arguments or shapes: the evaluator does, in
 * program order, with these tables.
 */

import type { Node } from './parse';
import { mayHoldStatements } from './syntax';
import type { ClassInfo } from './values';

export interface Binding {
  /** Local name -> dotted path in a library (nn -> torch.nn, F -> torch.nn.functional). */
  aliases: Map<string, string>;
  /** Classes by name (the last definition of a name wins), for lookups. */
  classes: Map<string, ClassInfo>;
  /** Every class definition, in file order, and the class of each definition node. */
  classList: ClassInfo[];
  classOf: Map<Node, ClassInfo>;
  functions: Map<string, Node>;
  /** Every top-level function definition, in file order. */
  functionList: Node[];
  /** 0-based line -> the names of a shape comment on that line. */
  shapeComments: Map<number, string[]>;
  /** 0-based line -> the shape an assignment on that line produces (after `->` when there is one). */
  resultShapeComments: Map<number, string[]>;
  /** 0-based line -> rules suppressed on that line ('*' for all). */
  suppressions: Map<number, Set<string>>;
  /**
   * Attribute names assigned other than as `self.name = …` in an `__init__` (by another method,
   * `model.attn.cache = …` in a setup function, module-level code): an instance's value for such
   * a name when `forward` runs is not known to be the one its `__init__` gave.
   */
  reassigned: Set<string>;
}

export const LIBRARIES = ['torch', 'math', 'numpy', 'einops', 'jaxtyping', 'typing', 'torchtyping'];

export function dotted(n: Node | null): string | undefined {
  if (!n) return undefined;
  if (n.type === 'identifier') return n.text;
  if (n.type === 'attribute') {
    const o = dotted(n.childForFieldName('object'));
    const a = n.childForFieldName('attribute');
    return o && a ? `${o}.${a.text}` : undefined;
  }
  return undefined;
}

/** Resolves a dotted expression through the import aliases; undefined for a non-library name. */
export function qualify(b: Binding, text: string): string | undefined {
  const dot = text.indexOf('.');
  const head = dot < 0 ? text : text.slice(0, dot);
  const rest = dot < 0 ? '' : text.slice(dot);
  const a = b.aliases.get(head);
  if (a) return a + rest;
  return undefined;
}

const SHAPE_COMMENT = /#[^#\n]*?\(\s*([A-Za-z_][\w]*(?:\s*[,x×*]\s*[A-Za-z_\d][\w]*)+)\s*,?\s*\)/;
const SUPPRESS = /#\s*attention-forge:\s*ignore(?:\[([^\]]*)\])?/;
const TYPE_IGNORE = /#\s*(?:type|pyright):\s*ignore\b/;

/** Whether a comment's text is a suppression (ours or a type checker's): `suppressions` reads it. */
export function isSuppression(text: string): boolean {
  return SUPPRESS.test(text) || TYPE_IGNORE.test(text);
}

/** The file's import aliases, from each item's declarations in order (later ones win). */
export function aliasMap(declared: Iterable<[string, string]>): Map<string, string> {
  const m = new Map<string, string>();
  for (const lib of LIBRARIES) m.set(lib, lib);
  for (const [k, v] of declared) m.set(k, v);
  return m;
}

function shapeTuple(text: string): string[] | undefined {
  const m = SHAPE_COMMENT.exec(text);
  if (!m) return undefined;
  const names = m[1].split(/\s*,\s*/).map((s) => s.trim());
  return names.every((s) => /^[A-Za-z_]\w*$|^\d+$/.test(s)) ? names : undefined;
}

/**
 * Shape comments of the given comment nodes, by row: the first tuple (what a parameter's line
 * declares) into `into`, and the shape the line produces into `results`. A comment that
 * describes a transformation, `# (N, C, H, W) -> (N, 1, C)`, produces the tuple after the last
 * arrow, and nothing when that part is not a tuple.
 */
export function shapeComments(comments: Iterable<Node>, into: Map<number, string[]>, results: Map<number, string[]>): void {
  for (const n of comments) {
    const names = shapeTuple(n.text);
    if (!names) continue;
    into.set(n.startPosition.row, names);
    const parts = n.text.split(/->|→/);
    const out = parts.length === 1 ? names : shapeTuple(`#${parts[parts.length - 1]}`);
    if (out) results.set(n.startPosition.row, out);
  }
}

/** Suppression comments (`# attention-forge: ignore[rule]`) of the given comment nodes, by row. */
export function suppressions(comments: Iterable<Node>, into: Map<number, Set<string>>): void {
  for (const n of comments) {
    // A type checker's own suppression (`# type: ignore[attr-defined]`, `# pyright: ignore`)
    // says the author knows the attribute is not the declared type's: no attribute error there.
    if (TYPE_IGNORE.test(n.text)) {
      const row = n.startPosition.row;
      into.set(row, (into.get(row) ?? new Set<string>()).add('unknown-tensor-method'));
    }
    const s = SUPPRESS.exec(n.text);
    if (!s) continue;
    const row = n.startPosition.row;
    const set = into.get(row) ?? new Set<string>();
    if (s[1] === undefined) set.add('*');
    else for (const r of s[1].split(',')) if (r.trim()) set.add(r.trim());
    into.set(row, set);
  }
}

/**
 * Binds the top-level statements of one unit of evaluation: its classes (with bases and
 * methods, and which are `nn.Module` subclasses) and functions, given the file's aliases and
 * the unit's comments.
 */
export function bind(stmts: readonly Node[], aliases: Map<string, string>, comments: Iterable<Node>): Binding {
  const b: Binding = { aliases, classes: new Map(), classList: [], classOf: new Map(), functions: new Map(), functionList: [], shapeComments: new Map(), resultShapeComments: new Map(), suppressions: new Map(), reassigned: new Set() };
  shapeComments(comments, b.shapeComments, b.resultShapeComments);
  const pending: { info: ClassInfo; bases: string[] }[] = [];
  for (const st of stmts) {
    const def = st.type === 'decorated_definition' ? st.childForFieldName('definition') : st;
    if (!def) continue;
    if (def.type === 'class_definition') {
      const name = def.childForFieldName('name')?.text;
      if (!name) continue;
      const info: ClassInfo = { name, node: def, isModule: false, methods: new Map() };
      if (st !== def) info.decorators = st.namedChildren.filter((d) => d.type === 'decorator').map((d) => d.text.replace(/^@\s*/, ''));
      const body = def.childForFieldName('body');
      for (const m of body?.namedChildren ?? []) {
        const fn = m.type === 'decorated_definition' ? m.childForFieldName('definition') : m;
        if (fn?.type === 'function_definition') {
          const fname = fn.childForFieldName('name')?.text;
          if (fname) info.methods.set(fname, fn);
        }
      }
      const supers = def.childForFieldName('superclasses');
      const bases = (supers?.namedChildren ?? []).filter((x) => x.type !== 'keyword_argument' && x.type !== 'comment').map((x) => x.text);
      pending.push({ info, bases });
      b.classes.set(name, info);
      b.classList.push(info);
      b.classOf.set(def, info);
    } else if (def.type === 'function_definition') {
      const name = def.childForFieldName('name')?.text;
      if (name) {
        b.functions.set(name, def);
        b.functionList.push(def);
      }
    }
  }
  for (let changed = true; changed; ) {
    changed = false;
    for (const { info, bases } of pending) {
      if (info.isModule) continue;
      for (const base of bases) {
        const q = qualify(b, base);
        const local = b.classes.get(base);
        if (q === 'torch.nn.Module' || q === 'torch.nn.modules.module.Module' || local?.isModule) {
          info.isModule = true;
          if (local) info.base = local;
          changed = true;
          break;
        }
        // A subclass of a torch layer (class MyEmbedding(nn.Embedding)) is that layer unless it
        // overrides forward.
        const layer = q ? /^torch\.nn\.(?:modules\.\w+\.)?([A-Z]\w*)$/.exec(q) : null;
        if (layer) {
          info.isModule = true;
          info.torchBase = layer[1];
          changed = true;
          break;
        }
        if (local && !info.base && local !== info) info.base = local;
      }
    }
  }
  for (const st of stmts) reassignedAttributes(st, undefined, b.reassigned);
  return b;
}

const SAME_SHAPE = new Set(['to', 'type', 'cuda', 'cpu', 'float', 'half', 'double', 'bfloat16', 'detach', 'contiguous', 'clone', 'type_as']);

/** Collects into `out` the attribute names assigned outside `self.name = …` in an `__init__`. */
const TARGET_GROUPS = new Set(['pattern_list', 'tuple_pattern', 'list_pattern', 'tuple', 'list', 'list_splat_pattern', 'parenthesized_expression']);

function reassignedAttributes(n: Node, fn: string | undefined, out: Set<string>): void {
  if (n.type === 'function_definition') fn = n.childForFieldName('name')?.text;
  else if (n.type === 'class_definition') fn = undefined;
  if (n.type === 'assignment' || n.type === 'augmented_assignment') {
    const targets: Node[] = [];
    const walk = (t: Node | null): void => {
      if (!t) return;
      if (t.type === 'attribute') targets.push(t);
      else if (TARGET_GROUPS.has(t.type)) for (const c of t.namedChildren) walk(c);
    };
    walk(n.childForFieldName('left'));
    // `self.cache_k = self.cache_k.to(x)`: the value moves (device, dtype), its shape stays.
    const right = n.childForFieldName('right');
    const recv = right?.type === 'call' ? right.childForFieldName('function') : undefined;
    const same = n.type === 'assignment' && targets.length === 1 && recv?.type === 'attribute' && SAME_SHAPE.has(recv.childForFieldName('attribute')?.text ?? '') && recv.childForFieldName('object')?.text === targets[0].text;
    if (same) targets.length = 0;
    for (const t of targets) {
      const name = t.childForFieldName('attribute')?.text;
      if (name && !(fn === '__init__' && t.childForFieldName('object')?.text === 'self')) out.add(name);
    }
  }
  // An assignment is a statement (or the value of one, `a = b = c`): expressions hold none.
  if (n.type !== 'assignment' && !mayHoldStatements(n.type)) return;
  for (const c of n.children) if (c.isNamed) reassignedAttributes(c, fn, out);
}

/** A method of a class or of its bases in the file. */
export function findMethod(cls: ClassInfo, name: string): Node | undefined {
  for (let c: ClassInfo | undefined = cls; c; c = c.base) {
    const m = c.methods.get(name);
    if (m) return m;
  }
  return undefined;
}
