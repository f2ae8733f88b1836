/**
 * Binding: the module-level facts of one file, read from the syntax tree without evaluating
 * anything: import aliases (`import torch.nn as nn`, `from torch.nn import functional as F`,
 * `from torch import Tensor`), the classes with their bases and methods (which of them are
 * `nn.Module` subclasses, directly or through another class of the file), top-level functions,
 * and the shape comments of each line (`# (B, C, H, W)`).
 *
 * It does not evaluate constants, constructor arguments or shapes: the evaluator does, in
 * program order, with these tables.
 */

import type { Node } from './parse';
import type { ClassInfo } from './values';

export interface Binding {
  /** Local name -> dotted path in a library (nn -> torch.nn, F -> torch.nn.functional). */
  aliases: Map<string, string>;
  classes: Map<string, ClassInfo>;
  functions: Map<string, Node>;
  /** 0-based line -> the names of a shape comment on that line. */
  shapeComments: Map<number, string[]>;
  /** 0-based line -> rules suppressed on that line ('*' for all). */
  suppressions: Map<number, Set<string>>;
}

const LIBRARIES = ['torch', 'math', 'numpy', 'einops', 'jaxtyping', 'typing', 'torchtyping'];

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

export function bind(root: Node): Binding {
  const b: Binding = { aliases: new Map(), classes: new Map(), functions: new Map(), shapeComments: new Map(), suppressions: new Map() };
  for (const lib of LIBRARIES) b.aliases.set(lib, lib);
  const walkComments = (n: Node) => {
    if (n.type === 'comment') {
      const m = SHAPE_COMMENT.exec(n.text);
      if (m) {
        const names = m[1].split(/\s*,\s*/).map((s) => s.trim());
        if (names.every((s) => /^[A-Za-z_]\w*$|^\d+$/.test(s))) b.shapeComments.set(n.startPosition.row, names);
      }
      const s = SUPPRESS.exec(n.text);
      if (s) {
        const set = b.suppressions.get(n.startPosition.row) ?? new Set<string>();
        if (s[1] === undefined) set.add('*');
        else for (const r of s[1].split(',')) if (r.trim()) set.add(r.trim());
        b.suppressions.set(n.startPosition.row, set);
      }
      return;
    }
    for (const c of n.children) if (c) walkComments(c);
  };
  walkComments(root);
  const pending: { info: ClassInfo; bases: string[] }[] = [];
  const visitTop = (stmts: Node[]) => {
    for (const st of stmts) {
      if (!st) continue;
      if (st.type === 'import_statement') {
        for (const c of st.namedChildren) {
          if (!c) continue;
          if (c.type === 'dotted_name') {
            const top = c.text.split('.')[0];
            b.aliases.set(top, top);
          } else if (c.type === 'aliased_import') {
            const name = c.childForFieldName('name');
            const alias = c.childForFieldName('alias');
            if (name && alias) b.aliases.set(alias.text, name.text);
          }
        }
      } else if (st.type === 'import_from_statement') {
        const mod = st.childForFieldName('module_name');
        if (!mod) continue;
        for (const c of st.childrenForFieldName('name')) {
          if (!c) continue;
          if (c.type === 'dotted_name') b.aliases.set(c.text, `${mod.text}.${c.text}`);
          else if (c.type === 'aliased_import') {
            const name = c.childForFieldName('name');
            const alias = c.childForFieldName('alias');
            if (name && alias) b.aliases.set(alias.text, `${mod.text}.${name.text}`);
          }
        }
      } else if (st.type === 'class_definition' || (st.type === 'decorated_definition' && st.childForFieldName('definition')?.type === 'class_definition')) {
        const def = st.type === 'class_definition' ? st : st.childForFieldName('definition')!;
        const name = def.childForFieldName('name')?.text;
        if (!name) continue;
        const info: ClassInfo = { name, node: def, isModule: false, methods: new Map() };
        const body = def.childForFieldName('body');
        for (const m of body?.namedChildren ?? []) {
          if (!m) continue;
          const fn = m.type === 'decorated_definition' ? m.childForFieldName('definition') : m;
          if (fn?.type === 'function_definition') {
            const fname = fn.childForFieldName('name')?.text;
            if (fname) info.methods.set(fname, fn);
          }
        }
        const supers = def.childForFieldName('superclasses');
        const bases = (supers?.namedChildren ?? []).filter((x): x is Node => !!x && x.type !== 'keyword_argument').map((x) => x.text);
        pending.push({ info, bases });
        b.classes.set(name, info);
      } else if (st.type === 'function_definition' || (st.type === 'decorated_definition' && st.childForFieldName('definition')?.type === 'function_definition')) {
        const def = st.type === 'function_definition' ? st : st.childForFieldName('definition')!;
        const name = def.childForFieldName('name')?.text;
        if (name) b.functions.set(name, def);
      } else if (st.type === 'if_statement' || st.type === 'try_statement') {
        // Imports guarded by try/if still bind their names.
        const inner: Node[] = [];
        const collect = (n: Node) => {
          for (const c of n.namedChildren) {
            if (!c) continue;
            if (c.type === 'block') inner.push(...(c.namedChildren.filter(Boolean) as Node[]).filter((x) => x.type.startsWith('import')));
            else if (c.type.endsWith('clause')) collect(c);
          }
        };
        collect(st);
        visitTop(inner);
      }
    }
  };
  visitTop(root.namedChildren.filter(Boolean) as Node[]);
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
        if (local && !info.base) info.base = local;
      }
    }
  }
  return b;
}

/** A method of a class or of its bases in the file. */
export function findMethod(cls: ClassInfo, name: string): Node | undefined {
  for (let c: ClassInfo | undefined = cls; c; c = c.base) {
    const m = c.methods.get(name);
    if (m) return m;
  }
  return undefined;
}
