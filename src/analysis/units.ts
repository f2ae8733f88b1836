/**
 * Units of evaluation: which top-level items of a file must be evaluated together. An item is
 * the full lines of one or more top-level statements (statements sharing a line belong to one
 * item). For each item this module reads, once per item text, the module-level names it binds
 * and the free names it reads (Python's scoping: a name assigned anywhere in a function is
 * local to it; methods do not see class-level names), whether it is an import, a pure
 * constant (`D_MODEL = 64`, `HEAD = D_MODEL // 8`), a definition or script code.
 *
 * A read resolves statically to the nearest preceding item that binds the name, or the nearest
 * following one when none precedes. Items joined by a resolved read form one component; a
 * pure constant does not join the components that read it but is evaluated inside each of
 * them (it can produce neither a diagnostic nor a shape). Imports join nothing: every
 * component sees the file's import aliases. A component's evaluation therefore depends on
 * nothing but the texts of its items and the aliases, which is what the session caches on.
 *
 * This module does not evaluate anything and knows nothing of torch.
 */

import { mayHoldStatements, type SyntaxNode as Node } from './syntax';

/**
 * `data`: a class whose body only declares fields (`n_head: int = 4`, a config dataclass). A
 * constructor may take one without naming its class (`def __init__(self, config)`), so every
 * component with a definition evaluates the file's data classes too; like a constant, a data
 * class joins nothing and produces neither a diagnostic nor a shape. `comment`: comments, and
 * strings that are whole statements (a module's docstring): nothing there evaluates to anything,
 * so such an item joins no unit, and editing it evaluates nothing.
 */
export type ItemKind = 'import' | 'const' | 'data' | 'def' | 'script' | 'comment';

export interface ItemInfo {
  kind: ItemKind;
  /** Module-level names the item binds (imports excluded: they are aliases). */
  defs: string[];
  /** Free names the item reads at module level. */
  uses: string[];
  /** Import aliases the item declares, in order: local name -> dotted path. */
  aliases: [string, string][];
  comments: Node[];
  /**
   * The comments nothing reads: between statements, with no bracket (suppression comments are
   * read outside the units). The session's cache key leaves them out.
   */
  inertComments: Node[];
  /**
   * The comments inside a statement that nothing reads (no bracket): the evaluator skips comment
   * nodes wherever they are, so the key leaves them out as it does `inertComments`.
   */
  proseComments: Node[];
  /** Strings that are whole statements (docstrings), whose prose the cache key leaves out. */
  docstrings: Node[];
}

const PURE = new Set(['integer', 'float', 'true', 'false', 'none', 'identifier', 'binary_operator', 'unary_operator', 'parenthesized_expression', 'tuple', 'list', 'expression_list', 'comment']);

class Scope {
  readonly reads = new Set<string>();
  readonly binds = new Set<string>();
}

function bindTarget(n: Node, s: Scope): void {
  switch (n.type) {
    case 'identifier':
      s.binds.add(n.text);
      return;
    case 'pattern_list':
    case 'tuple_pattern':
    case 'list_pattern':
    case 'tuple':
    case 'list':
    case 'list_splat_pattern':
    case 'parenthesized_expression':
    case 'as_pattern_target':
      for (const c of n.namedChildren) bindTarget(c, s);
      return;
    default:
      // attribute and subscript targets read their object.
      walk(n, s);
  }
}

function params(fn: Node, outer: Scope, inner: Scope): void {
  const ps = fn.childForFieldName('parameters');
  for (const p of ps?.namedChildren ?? []) {
    if (p.type === 'identifier') inner.binds.add(p.text);
    else if (p.type === 'list_splat_pattern' || p.type === 'dictionary_splat_pattern') {
      for (const c of p.namedChildren) if (c.type === 'identifier') inner.binds.add(c.text);
    } else {
      const name = p.childForFieldName('name');
      if (name?.type === 'identifier') inner.binds.add(name.text);
      for (const c of p.namedChildren) {
        if (c.type === 'identifier' && !name) inner.binds.add(c.text);
        else if (c.type === 'list_splat_pattern' || c.type === 'dictionary_splat_pattern') for (const x of c.namedChildren) if (x.type === 'identifier') inner.binds.add(x.text);
      }
      const def = p.childForFieldName('value');
      const typ = p.childForFieldName('type');
      if (def) walk(def, outer);
      if (typ) walk(typ, outer);
    }
  }
}

/** Reads of a nested scope that its own bindings do not satisfy flow out to the enclosing one. */
function closeScope(inner: Scope, outer: Scope): void {
  for (const r of inner.reads) if (!inner.binds.has(r)) outer.reads.add(r);
}

function walk(n: Node, s: Scope): void {
  switch (n.type) {
    case 'identifier':
      // A read after the scope bound the name reads the scope's own binding (at module level,
      // `q = ...; f(q)` in one item does not depend on another item's q).
      if (!s.binds.has(n.text)) s.reads.add(n.text);
      return;
    case 'comment':
    case 'string_content':
      return;
    case 'attribute': {
      const o = n.childForFieldName('object');
      if (o) walk(o, s);
      return;
    }
    case 'keyword_argument': {
      const v = n.childForFieldName('value');
      if (v) walk(v, s);
      return;
    }
    case 'assignment': {
      const l = n.childForFieldName('left');
      const r = n.childForFieldName('right');
      const t = n.childForFieldName('type');
      if (r) walk(r, s);
      if (t) walk(t, s);
      if (l) bindTarget(l, s);
      return;
    }
    case 'augmented_assignment': {
      const l = n.childForFieldName('left');
      const r = n.childForFieldName('right');
      if (r) walk(r, s);
      if (l) {
        walk(l, s);
        if (l.type === 'identifier') s.binds.add(l.text);
      }
      return;
    }
    case 'named_expression': {
      const name = n.childForFieldName('name');
      const v = n.childForFieldName('value');
      if (v) walk(v, s);
      if (name) s.binds.add(name.text);
      return;
    }
    case 'for_statement':
    case 'for_in_clause': {
      const l = n.childForFieldName('left');
      for (const c of n.children) if (c !== l) walk(c, s);
      if (l) bindTarget(l, s);
      return;
    }
    case 'as_pattern': {
      for (const c of n.namedChildren) {
        if (c.type === 'as_pattern_target') bindTarget(c, s);
        else walk(c, s);
      }
      return;
    }
    case 'import_statement':
    case 'import_from_statement': {
      for (const c of n.namedChildren) {
        if (c.type === 'aliased_import') {
          const a = c.childForFieldName('alias');
          if (a) s.binds.add(a.text);
        } else if (c.type === 'dotted_name' && c !== n.childForFieldName('module_name')) s.binds.add(c.text.split('.')[0]);
      }
      return;
    }
    case 'function_definition': {
      const name = n.childForFieldName('name');
      if (name) s.binds.add(name.text);
      const inner = new Scope();
      params(n, s, inner);
      const rt = n.childForFieldName('return_type');
      if (rt) walk(rt, s);
      const body = n.childForFieldName('body');
      if (body) walk(body, inner);
      closeScope(inner, s);
      return;
    }
    case 'lambda': {
      const inner = new Scope();
      params(n, s, inner);
      const body = n.childForFieldName('body');
      if (body) walk(body, inner);
      closeScope(inner, s);
      return;
    }
    case 'class_definition': {
      const name = n.childForFieldName('name');
      if (name) s.binds.add(name.text);
      const sup = n.childForFieldName('superclasses');
      if (sup) walk(sup, s);
      const cls = new Scope();
      const methods = new Scope();
      for (const st of n.childForFieldName('body')?.namedChildren ?? []) {
        const def = st.type === 'decorated_definition' ? st.childForFieldName('definition') : st;
        if (def?.type === 'function_definition') {
          // Methods do not see the class body's names: their free names go to the module.
          if (st !== def) for (const d of st.namedChildren) if (d.type === 'decorator') walk(d, cls);
          walk(def, methods);
          if (def.childForFieldName('name')) cls.binds.add(def.childForFieldName('name')!.text);
        } else walk(st, cls);
      }
      for (const r of methods.reads) s.reads.add(r);
      closeScope(cls, s);
      return;
    }
    default: {
      // Indexed: this walk visits every node, and a for-of here allocated an iterator per node.
      const cs = n.children;
      for (let i = 0; i < cs.length; i++) walk(cs[i], s);
    }
  }
}

function importAliases(st: Node, out: [string, string][]): void {
  if (st.type === 'import_statement') {
    for (const c of st.namedChildren) {
      if (c.type === 'dotted_name') {
        const top = c.text.split('.')[0];
        out.push([top, top]);
      } else if (c.type === 'aliased_import') {
        const name = c.childForFieldName('name');
        const alias = c.childForFieldName('alias');
        if (name && alias) out.push([alias.text, name.text]);
      }
    }
  } else if (st.type === 'import_from_statement') {
    const mod = st.childForFieldName('module_name');
    if (!mod) return;
    for (const c of st.childrenForFieldName('name')) {
      if (c.type === 'dotted_name') out.push([c.text, `${mod.text}.${c.text}`]);
      else if (c.type === 'aliased_import') {
        const name = c.childForFieldName('name');
        const alias = c.childForFieldName('alias');
        if (name && alias) out.push([alias.text, `${mod.text}.${name.text}`]);
      }
    }
  } else if (st.type === 'if_statement' || st.type === 'try_statement') {
    // Imports guarded by try/if still bind their names.
    const collect = (n: Node) => {
      for (const c of n.namedChildren) {
        if (c.type === 'block') {
          for (const x of c.namedChildren) if (x.type.startsWith('import')) importAliases(x, out);
        }
        else if (c.type.endsWith('clause')) collect(c);
      }
    };
    collect(st);
  }
}

/**
 * Where a comment sits between statements (in a block, or a compound statement's header) rather
 * than inside an expression or a simple statement whose text a finding may quote.
 */
const STATEMENT_LEVEL = new Set(['module', 'block', 'class_definition', 'function_definition', 'decorated_definition', 'if_statement', 'elif_clause', 'else_clause', 'for_statement', 'while_statement', 'with_statement', 'try_statement', 'except_clause', 'finally_clause', 'match_statement', 'case_clause']);

/** Where the walk is in an item's text: the first `#` at or after offset `from` (Infinity: none). */
interface HashCursor {
  text: string;
  from: number;
  next: number;
}

function collectComments(n: Node, out: Node[], inert: Node[], prose: Node[], docs: Node[], between: boolean, hash: HashCursor): void {
  // A subtree of expressions with no `#` in its text has no comment. Nodes come in text order,
  // so the search moves forward only.
  if (hash.text !== n.itemText || n.startOffset < hash.from || hash.next < n.startOffset) {
    const i = n.itemText.indexOf('#', n.startOffset);
    hash.text = n.itemText;
    hash.from = n.startOffset;
    hash.next = i < 0 ? Infinity : i;
  }
  if (hash.next >= n.endOffset && !mayHoldStatements(n.type)) return;
  if (n.type === 'comment') {
    out.push(n);
    // No bracket: neither a shape comment (`# (B, C, H, W)`) nor a docstring-like `# x: (B, L, C)`.
    if (!/[[(]/.test(n.text)) (between ? inert : prose).push(n);
    return;
  }
  if (between && n.type === 'expression_statement') {
    // A string that is a whole statement (a docstring): evaluating it binds nothing.
    const code = n.namedChildren.filter((c) => c.type !== 'comment');
    if (code.length === 1 && code[0].type === 'string' && !code[0].namedChildren.some((c) => c.type === 'interpolation')) docs.push(code[0]);
  }
  const here = STATEMENT_LEVEL.has(n.type);
  const cs = n.children;
  for (let i = 0; i < cs.length; i++) collectComments(cs[i], out, inert, prose, docs, here, hash);
}

function isPure(n: Node): boolean {
  if (n.type === 'string') return !n.namedChildren.some((c) => c.type === 'interpolation');
  if (!PURE.has(n.type)) return false;
  return n.namedChildren.every(isPure);
}

function isDataClass(st: Node): boolean {
  const def = st.type === 'decorated_definition' ? st.childForFieldName('definition') : st;
  if (def?.type !== 'class_definition') return false;
  let fields = 0;
  for (const c of def.childForFieldName('body')?.namedChildren ?? []) {
    if (c.type === 'comment' || c.type === 'pass_statement') continue;
    const e = c.type === 'expression_statement' ? c.namedChildren.filter((x) => x.type !== 'comment') : [];
    if (e.length !== 1) return false;
    if (e[0].type === 'string') continue;
    if (e[0].type !== 'assignment' || !e[0].childForFieldName('type') || e[0].childForFieldName('left')?.type !== 'identifier') return false;
    const r = e[0].childForFieldName('right');
    if (r && !isPure(r)) return false;
    fields++;
  }
  return fields > 0;
}

/** A string that is a whole statement, with nothing interpolated: evaluating it does nothing. */
function isDocString(st: Node): boolean {
  if (st.type !== 'expression_statement') return false;
  const parts = st.namedChildren.filter((c) => c.type !== 'comment');
  return parts.length === 1 && parts[0].type === 'string' && !parts[0].namedChildren.some((c) => c.type === 'interpolation');
}

function isPureConst(st: Node): boolean {
  if (st.type !== 'expression_statement') return false;
  const parts = st.namedChildren.filter((c) => c.type !== 'comment');
  if (parts.length !== 1 || parts[0].type !== 'assignment') return false;
  const a = parts[0];
  const l = a.childForFieldName('left');
  const r = a.childForFieldName('right');
  if (!l || !r) return false;
  const targetOk = (t: Node): boolean => t.type === 'identifier' || ((t.type === 'pattern_list' || t.type === 'tuple_pattern') && t.namedChildren.every(targetOk));
  return targetOk(l) && isPure(r);
}

/** What one item binds, reads and declares; a function of the item's syntax only. */
export function itemInfo(stmts: readonly Node[]): ItemInfo {
  const comments: Node[] = [];
  const inert: Node[] = [];
  const docs: Node[] = [];
  const prose: Node[] = [];
  const hash: HashCursor = { text: '', from: 0, next: -1 };
  for (const st of stmts) collectComments(st, comments, inert, prose, docs, true, hash);
  const aliases: [string, string][] = [];
  for (const st of stmts) importAliases(st, aliases);
  const code = stmts.filter((s) => s.type !== 'comment' && !isDocString(s));
  if (code.length === 0) return { kind: 'comment', defs: [], uses: [], aliases, comments, inertComments: inert, proseComments: prose, docstrings: docs };
  if (code.every((s) => s.type === 'import_statement' || s.type === 'import_from_statement' || s.type === 'future_import_statement')) return { kind: 'import', defs: [], uses: [], aliases, comments, inertComments: inert, proseComments: prose, docstrings: docs };
  const s = new Scope();
  for (const st of code) walk(st, s);
  const defs = [...s.binds];
  const uses = [...s.reads];
  let kind: ItemKind = 'script';
  if (code.every(isPureConst)) kind = 'const';
  else if (code.length === 1 && isDataClass(code[0])) kind = 'data';
  else if (code.every((x) => x.type === 'class_definition' || x.type === 'function_definition' || x.type === 'decorated_definition')) kind = 'def';
  return { kind, defs, uses, aliases, comments, inertComments: inert, proseComments: prose, docstrings: docs };
}

export interface Component {
  /** Item indices evaluated together, in file order: members and the constants they read. */
  items: number[];
}

/**
 * Partitions items into components. Every item except imports and comments belongs to exactly
 * one component; pure constants are also listed in the components that read them.
 */
export function components(infos: readonly ItemInfo[]): Component[] {
  const n = infos.length;
  const defsOf = new Map<string, number[]>();
  infos.forEach((info, i) => {
    if (info.kind === 'import' || info.kind === 'comment') return;
    for (const d of info.defs) {
      const l = defsOf.get(d);
      if (l) l.push(i);
      else defsOf.set(d, [i]);
    }
  });
  const resolve = (name: string, i: number): number | undefined => {
    const l = defsOf.get(name);
    if (!l) return undefined;
    let best: number | undefined;
    for (const j of l) {
      if (j < i) best = j;
      else break;
    }
    if (best !== undefined) return best;
    for (const j of l) if (j > i) return j;
    return undefined;
  };
  // Resolved reads, once.
  const reads: number[][] = infos.map((info, i) => {
    if (info.kind === 'import' || info.kind === 'comment') return [];
    const out: number[] = [];
    for (const u of info.uses) {
      const j = resolve(u, i);
      if (j !== undefined && j !== i) out.push(j);
    }
    return out;
  });
  // A constant that reads a non-constant is not pure after all.
  const isConst = infos.map((x) => x.kind === 'const');
  for (let changed = true; changed; ) {
    changed = false;
    for (let i = 0; i < n; i++) {
      if (isConst[i] && reads[i].some((j) => !isConst[j])) {
        isConst[i] = false;
        changed = true;
      }
    }
  }
  const parent = Array.from({ length: n }, (_, i) => i);
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]];
      x = parent[x];
    }
    return x;
  };
  const isData = infos.map((x) => x.kind === 'data');
  const dataItems = infos.flatMap((x, i) => (x.kind === 'data' ? [i] : []));
  for (let i = 0; i < n; i++) {
    if (isConst[i] || isData[i]) continue;
    for (const j of reads[i]) {
      if (isConst[j] || isData[j]) continue;
      const a = find(i);
      const b = find(j);
      if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
    }
  }
  const groups = new Map<number, Set<number>>();
  for (let i = 0; i < n; i++) {
    const k = infos[i].kind;
    if (k === 'import' || k === 'comment') continue;
    const r = find(i);
    let g = groups.get(r);
    if (!g) groups.set(r, (g = new Set()));
    g.add(i);
  }
  const out: Component[] = [];
  for (const g of groups.values()) {
    // The constants the members read, transitively.
    const stack = [...g];
    const all = new Set(g);
    while (stack.length) {
      const i = stack.pop()!;
      for (const j of reads[i]) {
        if (isConst[j] && !all.has(j)) {
          all.add(j);
          stack.push(j);
        }
      }
    }
    // The data classes, in every component that defines something (see `ItemKind`).
    if (dataItems.length && [...g].some((i) => infos[i].kind === 'def')) {
      for (const j of dataItems) {
        if (all.has(j)) continue;
        all.add(j);
        for (const k of reads[j]) if (isConst[k]) all.add(k);
      }
    }
    out.push({ items: [...all].sort((a, b) => a - b) });
  }
  out.sort((a, b) => a.items[0] - b.items[0]);
  return out;
}
