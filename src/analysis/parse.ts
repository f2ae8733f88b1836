/**
 * Syntax: Python source to a tree-sitter tree, with web-tree-sitter and the tree-sitter-python
 * grammar, both WebAssembly read from disk (never fetched). The runtime and the grammar are
 * loaded once per process by `initParser`; `parse` is synchronous afterwards. A tree with
 * syntax errors is still a tree: error nodes are data for the layers above. `reparse` is the
 * editor's path: it describes the change from the previous text as one tree-sitter edit and
 * lets tree-sitter reuse the previous tree. The layers above never read tree-sitter nodes:
 * `syntax.ts` copies them into plain objects (`Node` here is that plain node).
 *
 * This layer does not know torch, scopes or shapes.
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
// `import = require` makes bundlers resolve the package's CommonJS build, which locates its
// files without import.meta.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import TreeSitter = require('web-tree-sitter');
import type { Edit, Tree, TreeCursor } from 'web-tree-sitter';
import type { CursorView, GrammarTables } from './syntax';

const { Language, Parser } = TreeSitter;
type Parser = InstanceType<typeof TreeSitter.Parser>;

export type { Tree };
export type { SyntaxNode as Node } from './syntax';

let parser: Parser | undefined;
let tables: GrammarTables | undefined;
let loading: Promise<void> | undefined;

/**
 * The runtime's own cursor functions, which web-tree-sitter's `TreeCursor` wraps. Each wrapper
 * call first writes the cursor's four words into the runtime's transfer buffer and a move reads
 * them back; the functions themselves leave them there. A walk that makes no other call into the
 * runtime can therefore call the functions directly and copy the words once at each end
 * (`direct`), about a third of the cost of converting a tree. The Emscripten module is the
 * options object `Parser.init` is given, filled with the exports; when one of them is missing
 * (another runtime build), `direct` hands out the wrapper itself.
 */
const CURSOR_FUNCTIONS = [
  '_ts_tree_cursor_current_node_type_id_wasm',
  '_ts_tree_cursor_current_node_is_named_wasm',
  '_ts_tree_cursor_current_node_is_missing_wasm',
  '_ts_tree_cursor_start_index_wasm',
  '_ts_tree_cursor_end_index_wasm',
  '_ts_tree_cursor_current_field_id_wasm',
  '_ts_tree_cursor_goto_first_child_wasm',
  '_ts_tree_cursor_goto_next_sibling_wasm',
  '_ts_tree_cursor_goto_parent_wasm',
] as const;

/** Each cursor function reads the cursor from the transfer buffer; its argument is the tree's address. */
type Runtime = { HEAP32: Int32Array; _ts_init(): number } & Record<(typeof CURSOR_FUNCTIONS)[number], (tree: number) => number>;

let runtime: { m: Runtime; buffer: number } | undefined;
/** Whether `direct` walks with the runtime's functions (false: the wrapper). For tests. */
export let directCursors = false;

/** Walks with the wrapper even where the runtime's functions are there (tests compare the two). */
export function useDirectCursors(on: boolean): void {
  directCursors = on && runtime !== undefined;
}

class DirectCursor implements CursorView {
  constructor(
    private readonly m: Runtime,
    private readonly tree: number,
  ) {}

  get nodeTypeId(): number {
    return this.m._ts_tree_cursor_current_node_type_id_wasm(this.tree);
  }

  get nodeIsNamed(): boolean {
    return this.m._ts_tree_cursor_current_node_is_named_wasm(this.tree) === 1;
  }

  get nodeIsMissing(): boolean {
    return this.m._ts_tree_cursor_current_node_is_missing_wasm(this.tree) === 1;
  }

  get startIndex(): number {
    return this.m._ts_tree_cursor_start_index_wasm(this.tree);
  }

  get endIndex(): number {
    return this.m._ts_tree_cursor_end_index_wasm(this.tree);
  }

  get currentFieldId(): number {
    return this.m._ts_tree_cursor_current_field_id_wasm(this.tree);
  }

  gotoFirstChild(): boolean {
    return this.m._ts_tree_cursor_goto_first_child_wasm(this.tree) === 1;
  }

  gotoNextSibling(): boolean {
    return this.m._ts_tree_cursor_goto_next_sibling_wasm(this.tree) === 1;
  }

  gotoParent(): boolean {
    return this.m._ts_tree_cursor_goto_parent_wasm(this.tree) === 1;
  }
}

/** A `TreeCursor`'s state: its four words and its tree's address, as web-tree-sitter keeps them. */
type CursorState = Record<0 | 1 | 2 | 3, number> & { tree: Record<0, number> };

/**
 * `f` given a view of `cursor` that calls the runtime directly; `f` must make no other call into
 * tree-sitter. The cursor is where `f` left the view afterwards.
 */
export function direct<T>(cursor: TreeCursor, f: (c: CursorView) => T): T {
  const rt = runtime;
  if (!rt || !directCursors) return f(cursor);
  const st = cursor as unknown as CursorState;
  const at = rt.buffer >> 2;
  let heap = rt.m.HEAP32;
  heap[at] = st[0];
  heap[at + 1] = st[1];
  heap[at + 2] = st[2];
  heap[at + 3] = st[3];
  try {
    return f(new DirectCursor(rt.m, st.tree[0]));
  } finally {
    // A move may have grown the runtime's memory: the heap view is read again.
    heap = rt.m.HEAP32;
    st[0] = heap[at];
    st[1] = heap[at + 1];
    st[2] = heap[at + 2];
    st[3] = heap[at + 3];
  }
}

function runtimeOf(module: Record<string, unknown>): { m: Runtime; buffer: number } | undefined {
  if (!(module.HEAP32 instanceof Int32Array) || typeof module._ts_init !== 'function' || CURSOR_FUNCTIONS.some((f) => typeof module[f] !== 'function')) return undefined;
  const m = module as unknown as Runtime;
  return { m, buffer: m._ts_init() };
}

/**
 * Where a wasm file is: next to the running bundle first (dist/, where a packaged build copies
 * it), then in node_modules.
 */
function locate(file: string, pkg: string): string {
  const here = path.join(__dirname, file);
  if (fs.existsSync(here)) return here;
  return require.resolve(`${pkg}/${file}`);
}

/** Loads the tree-sitter runtime and the Python grammar once; later calls share the load. */
export function initParser(): Promise<void> {
  if (parser) return Promise.resolve();
  if (!loading) {
    loading = (async () => {
      const wasm = locate('tree-sitter.wasm', 'web-tree-sitter');
      const module: Record<string, unknown> = { locateFile: () => wasm, wasmBinary: fs.readFileSync(wasm) };
      await Parser.init(module);
      runtime = runtimeOf(module);
      directCursors = runtime !== undefined;
      const lang = await Language.load(new Uint8Array(fs.readFileSync(locate('tree-sitter-python.wasm', 'tree-sitter-python'))));
      const p = new Parser();
      p.setLanguage(lang);
      tables = { types: lang.types, fields: lang.fields, named: new Map() };
      parser = p;
    })();
    loading.catch(() => {
      loading = undefined;
    });
  }
  return loading;
}

export function parserReady(): boolean {
  return parser !== undefined;
}

/** The grammar's type and field names; `initParser` must have resolved. */
export function grammar(): GrammarTables {
  if (!tables) throw new Error('initParser() has not completed');
  return tables;
}

/**
 * The input as tree-sitter reads it: chunks of the string. (Given a string, web-tree-sitter
 * copies the whole remaining text into WebAssembly memory on every read, which costs more than
 * the parse itself on an incremental reparse.)
 */
function reader(source: string): (index: number) => string {
  return (index) => source.slice(index, index + 4096);
}

/** Parses a whole file; `initParser` must have resolved. */
export function parse(source: string): Tree {
  if (!parser) throw new Error('initParser() has not completed');
  const tree = parser.parse(reader(source));
  if (!tree) throw new Error('tree-sitter returned no tree');
  return tree;
}

/**
 * Parses `source` reusing `previous`, the tree of `previousSource`: the change is described as
 * the one edit that replaces what lies between their common prefix and common suffix. The
 * previous tree is edited in place and must not be used afterwards except to delete it.
 */
export function reparse(source: string, previousSource: string, previous: Tree, edit = singleEdit(previousSource, source)): Tree {
  if (!parser) throw new Error('initParser() has not completed');
  if (edit) previous.edit(edit);
  const tree = parser.parse(reader(source), previous);
  if (!tree) throw new Error('tree-sitter returned no tree');
  return tree;
}

/** The smallest single edit turning `a` into `b` (common prefix and suffix kept), or undefined when equal. */
export function singleEdit(a: string, b: string): Edit | undefined {
  const d = changedSpan(a, b);
  if (!d) return undefined;
  return { startIndex: d.start, oldEndIndex: d.oldEnd, newEndIndex: d.newEnd, startPosition: point(a, d.start), oldEndPosition: point(a, d.oldEnd), newEndPosition: point(b, d.newEnd) } as Edit;
}

/** Where `a` and `b` differ, as offsets: `a[start, oldEnd)` became `b[start, newEnd)`; undefined when equal. */
export function changedSpan(a: string, b: string): { start: number; oldEnd: number; newEnd: number } | undefined {
  if (a === b) return undefined;
  const n = Math.min(a.length, b.length);
  let p = 0;
  // Whole blocks first (native comparisons), then characters.
  while (p + 256 <= n && a.slice(p, p + 256) === b.slice(p, p + 256)) p += 256;
  while (p < n && a.charCodeAt(p) === b.charCodeAt(p)) p++;
  let ea = a.length;
  let eb = b.length;
  while (ea - 256 >= p && eb - 256 >= p && a.slice(ea - 256, ea) === b.slice(eb - 256, eb)) {
    ea -= 256;
    eb -= 256;
  }
  while (ea > p && eb > p && a.charCodeAt(ea - 1) === b.charCodeAt(eb - 1)) {
    ea--;
    eb--;
  }
  return { start: p, oldEnd: ea, newEnd: eb };
}

/** The row and column of an offset in a text. */
export function point(text: string, index: number): { row: number; column: number } {
  let row = 0;
  let last = -1;
  for (let i = text.indexOf('\n'); i >= 0 && i < index; i = text.indexOf('\n', i + 1)) {
    row++;
    last = i;
  }
  return { row, column: index - last - 1 };
}
