/**
 * The syntax tree the analyzer works on: plain JavaScript nodes copied out of tree-sitter's
 * WebAssembly tree, one top-level statement group ("item": the full lines of one or more
 * top-level statements) at a time. Every property access on a web-tree-sitter node crosses
 * into WebAssembly and allocates; these nodes are ordinary objects, so the layers above walk
 * them as often as they like for free.
 *
 * A node stores its offsets in its item's text; rows and columns are worked out from them when
 * asked for (the item's line starts are made once), relative to the item's `anchor`, which holds
 * the row where the item currently sits, so an unchanged item that moved (lines were inserted
 * above it) is reused by updating one number. An item's nodes are a function of its
 * text when the item has no syntax error, which is what lets the session reuse them by text.
 *
 * This layer does not know Python semantics, torch, scopes or shapes.
 */

import type { TreeCursor } from 'web-tree-sitter';
import { direct } from './parse';

export interface Point {
  row: number;
  column: number;
}

/** Where an item currently sits in the file; shared by all nodes of the item. */
export interface Anchor {
  /** 0-based row of the item's first line. */
  row: number;
  /** The item's text: its full lines, from column 0 of the first to the end of the last. */
  text: string;
  /**
   * Where the text's lines start, then where the line after it would (its nodes' rows and
   * columns are worked out from these when asked for, not stored); made on first use.
   */
  lines?: number[];
}

/** Row (relative to the anchor) and column of an offset in an anchor's text. */
function pointIn(anchor: Anchor, offset: number): Point {
  let ls = anchor.lines;
  if (!ls) {
    // A node may end just after the item's last newline (a line continuation): the next line's start.
    ls = lineStarts(anchor.text);
    ls.push(anchor.text.length + 1);
    anchor.lines = ls;
  }
  const r = rowOf(ls, offset);
  return { row: anchor.row + r, column: offset - ls[r] };
}

/** Nodes made so far: read from tree-sitter, or copied from a previous parse (see `Donor`). For tests and the bench. */
export const conversions = { read: 0, copied: 0 };

export class SyntaxNode {
  private cachedText: string | undefined;
  private cachedNamed: SyntaxNode[] | undefined;

  /** The parsed text this node belongs to: one object for every node of one parse. */
  get origin(): object {
    return this.anchor;
  }

  constructor(
    readonly type: string,
    readonly isNamed: boolean,
    readonly isMissing: boolean,
    readonly hasError: boolean,
    private readonly anchor: Anchor,
    /** Start and end offsets in the anchor's text (UTF-16 code units). */
    private readonly start: number,
    private readonly end: number,
    readonly children: SyntaxNode[],
    /** The field name of each child, or null; shorter than `children` (empty when no child has a field), the missing ones null. */
    private readonly fields: (string | null)[],
  ) {}

  /** The text of the item this node belongs to, which its offsets index. */
  get itemText(): string {
    return this.anchor.text;
  }

  /** Start offset in its item's text. */
  get startOffset(): number {
    return this.start;
  }

  /** End offset in its item's text. */
  get endOffset(): number {
    return this.end;
  }

  get isError(): boolean {
    return this.type === 'ERROR';
  }

  get text(): string {
    return (this.cachedText ??= this.anchor.text.slice(this.start, this.end));
  }

  /** The text after this node up to the end of its last line (what a chained call continues with). */
  get restOfLine(): string {
    const t = this.anchor.text;
    const nl = t.indexOf('\n', this.end);
    return t.slice(this.end, nl < 0 ? t.length : nl);
  }

  get startPosition(): Point {
    return pointIn(this.anchor, this.start);
  }

  get endPosition(): Point {
    return pointIn(this.anchor, this.end);
  }

  /** The named children (the `children` array itself when every child is named: never mutate either). */
  get namedChildren(): SyntaxNode[] {
    if (this.cachedNamed) return this.cachedNamed;
    const cs = this.children;
    let all = true;
    for (let i = 0; i < cs.length && all; i++) all = cs[i].isNamed;
    return (this.cachedNamed = all ? cs : cs.filter((c) => c.isNamed));
  }

  /**
   * This subtree in `anchor`'s item, each offset moved by `shift` (relative to the new anchor).
   * Undefined when the subtree is more than `levels` deep (the converter would cut it there).
   */
  copyTo(anchor: Anchor, shift: number, levels = MAX_TREE_DEPTH): SyntaxNode | undefined {
    if (levels <= 0) return undefined;
    const children: SyntaxNode[] = [];
    for (const c of this.children) {
      const copy = c.copyTo(anchor, shift, levels - 1);
      if (!copy) return undefined;
      children.push(copy);
    }
    conversions.copied++;
    return new SyntaxNode(this.type, this.isNamed, this.isMissing, this.hasError, anchor, this.start + shift, this.end + shift, children, this.fields);
  }

  childForFieldName(name: string): SyntaxNode | null {
    for (let i = 0; i < this.fields.length; i++) if (this.fields[i] === name) return this.children[i];
    return null;
  }

  childrenForFieldName(name: string): SyntaxNode[] {
    const out: SyntaxNode[] = [];
    for (let i = 0; i < this.fields.length; i++) if (this.fields[i] === name) out.push(this.children[i]);
    return out;
  }
}

/**
 * Whether a node of this type may hold statements: the module, a block, a statement (an
 * expression statement holds an assignment), a definition or a clause. Every other node is an
 * expression or a part of one, which the grammar lets hold no statement.
 */
export function mayHoldStatements(type: string): boolean {
  return MAY_HOLD_STATEMENTS.test(type);
}

const MAY_HOLD_STATEMENTS = /(?:^module$|^block$|_statement$|_definition$|_clause$)/;

/** Offsets of the first character of every line of a text. */
export function lineStarts(text: string): number[] {
  const out = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) out.push(i + 1);
  return out;
}

/** The row of an offset (the last line start at or before it). */
export function rowOf(starts: readonly number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** What the converter needs to know about the grammar, looked up once per type id. */
export interface GrammarTables {
  types: readonly string[];
  fields: readonly (string | null)[];
  named: Map<number, boolean>;
}

/**
 * How deep a converted tree may be. Deeper subtrees (2,000 nested brackets, a chain of 1,000
 * method calls, a sum of 2,000 terms: tree-sitter nests each of these one level per term) are
 * cut at this depth and replaced by one `truncated` leaf spanning their text, so every walker
 * above — recursive by nature, as Python's grammar is — has a bounded stack. CPython itself
 * refuses more than 200 nested brackets; code that people write stays far below this (the
 * deepest file of the installed torch package is well under it; see the robustness test).
 */
export const MAX_TREE_DEPTH = 400;

/** The type of the leaf that stands for a subtree cut at `MAX_TREE_DEPTH`; unknown to every layer above, so its value is unknown. */
export const TRUNCATED = 'truncated';

/** The fields of a node none of whose children has one (never mutated). */
const NO_FIELDS: (string | null)[] = [];

interface Pending {
  type: string;
  named: boolean;
  missing: boolean;
  hasError: boolean;
  s: number;
  e: number;
  children: SyntaxNode[];
  fields: (string | null)[];
  /** The field this node has in its parent. */
  field: string | null;
}

/**
 * Copies the subtree under the cursor into SyntaxNodes, iteratively (an explicit stack, so a
 * pathological nesting cannot overflow the JavaScript stack) and cut at `MAX_TREE_DEPTH`.
 * `base` is the absolute offset of the anchor's text; `starts` are the
 * file's line starts. Leaves the cursor where it found it. `onTruncate` hears of each cut.
 * With a `donor` (the previous parse's nodes around an edit), a node the donor holds is copied
 * from it without descending into WebAssembly: an edit converts only the path down to it.
 */
export function convert(cursor: TreeCursor, g: GrammarTables, anchor: Anchor, base: number, starts: readonly number[], onTruncate?: (row: number) => void, donor?: Donor): SyntaxNode {
  return direct(cursor, (c) => convertAt(c, g, anchor, base, starts, onTruncate, donor));
}

/** What the converter reads of a cursor: web-tree-sitter's `TreeCursor` has it, and so has `parse.direct`'s view. */
export interface CursorView {
  readonly nodeTypeId: number;
  readonly nodeIsNamed: boolean;
  readonly nodeIsMissing: boolean;
  readonly startIndex: number;
  readonly endIndex: number;
  readonly currentFieldId: number;
  gotoFirstChild(): boolean;
  gotoNextSibling(): boolean;
  gotoParent(): boolean;
}

function convertAt(cursor: CursorView, g: GrammarTables, anchor: Anchor, base: number, starts: readonly number[], onTruncate?: (row: number) => void, donor?: Donor): SyntaxNode {
  const finish = (p: Pending): SyntaxNode => {
    conversions.read++;
    return new SyntaxNode(p.type, p.named, p.missing, p.hasError, anchor, p.s - base, p.e - base, p.children, p.fields);
  };
  // One pending record per depth, reused: the node at a depth is finished before its next sibling opens.
  const pending: Pending[] = [];
  const open = (field: string | null, depth: number): Pending => {
    const typeId = cursor.nodeTypeId;
    const type = g.types[typeId] || 'ERROR';
    let named = g.named.get(typeId);
    if (named === undefined) {
      named = cursor.nodeIsNamed;
      g.named.set(typeId, named);
    }
    const s = cursor.startIndex;
    const e = cursor.endIndex;
    const missing = s === e && cursor.nodeIsMissing;
    const p = pending[depth];
    if (!p) return (pending[depth] = { type, named, missing, hasError: type === 'ERROR' || missing, s, e, children: [], fields: NO_FIELDS, field });
    p.type = type;
    p.named = named;
    p.missing = missing;
    p.hasError = type === 'ERROR' || missing;
    p.s = s;
    p.e = e;
    p.children = [];
    p.fields = NO_FIELDS;
    p.field = field;
    return p;
  };
  const add = (parent: Pending, node: SyntaxNode, field: string | null) => {
    if (node.hasError) parent.hasError = true;
    parent.children.push(node);
    // Most nodes have no child with a field: they share one empty array.
    if (field !== null) {
      if (parent.fields === NO_FIELDS) parent.fields = new Array<string | null>(parent.children.length - 1).fill(null);
      parent.fields.push(field);
    } else if (parent.fields !== NO_FIELDS) parent.fields.push(null);
  };
  const root = open(null, 0);
  const whole = donor?.take(root.s, root.e, root.type, 1, anchor, base);
  if (whole) return whole;
  const stack: Pending[] = [root];
  // The cursor is on a child of `parent`: adds the children the donor holds, up to the first it
  // does not (pushed, to be visited; true) or the last child (false, the cursor left on it).
  const enter = (parent: Pending): boolean => {
    for (;;) {
      const fid = cursor.currentFieldId;
      const field = fid ? g.fields[fid] ?? null : null;
      const p = open(field, stack.length);
      const copied = donor?.take(p.s, p.e, p.type, stack.length + 1, anchor, base);
      if (!copied) {
        stack.push(p);
        return true;
      }
      add(parent, copied, field);
      if (!cursor.gotoNextSibling()) return false;
    }
  };
  // Invariant: the cursor is on the node of the top of the stack, whose children are not visited yet.
  for (;;) {
    const top = stack[stack.length - 1];
    if (stack.length < MAX_TREE_DEPTH) {
      if (cursor.gotoFirstChild()) {
        if (enter(top)) continue;
        cursor.gotoParent();
      }
    } else if (cursor.gotoFirstChild()) {
      // Too deep: this node stands for its whole subtree.
      cursor.gotoParent();
      top.type = TRUNCATED;
      top.named = true;
      onTruncate?.(rowOf(starts, top.s));
    }
    // The top has no (more) children to visit: close it, then move to the next sibling or up.
    for (;;) {
      const done = stack.pop()!;
      const node = finish(done);
      if (stack.length === 0) return node;
      const parent = stack[stack.length - 1];
      add(parent, node, done.field);
      if (cursor.gotoNextSibling() && enter(parent)) break;
      cursor.gotoParent();
    }
  }
}

/** An edit of a text: `[start, oldEnd)` of the old text became `[start, newEnd)` of the new one. */
export interface TextEdit {
  start: number;
  oldEnd: number;
  newEnd: number;
}

/**
 * The converted nodes of a previous parse that lie wholly outside an edit, by their range in the
 * new text. A node of the new tree with the same range and type spans the same text, and (the
 * donor holds error-free, uncut items only) has the same subtree: it is copied from here.
 * Nodes that touch the edit are left out, as tree-sitter itself treats them as changed.
 */
export class Donor {
  private readonly byStart = new Map<number, { node: SyntaxNode; shift: number }[]>();

  /**
   * `roots` with `base`, the absolute offset of their anchor's text in the old text. Only the
   * nodes a conversion can ask for are held: the children of the nodes that touch the edit (the
   * cursor does not descend into a node it found here).
   */
  add(roots: readonly SyntaxNode[], base: number, edit: TextEdit): void {
    const delta = edit.newEnd - edit.oldEnd;
    const todo = [...roots];
    while (todo.length) {
      const n = todo.pop()!;
      const s = base + n.startOffset;
      const e = base + n.endOffset;
      const shift = e < edit.start ? 0 : s > edit.oldEnd ? delta : undefined;
      if (shift === undefined) {
        for (const c of n.children) todo.push(c);
        continue;
      }
      if (s === e) continue;
      const at = s + shift;
      const list = this.byStart.get(at);
      const entry = { node: n, shift: base + shift };
      if (list) list.push(entry);
      else this.byStart.set(at, [entry]);
    }
  }

  /**
   * A copy of the donor's node spanning `[s, e)` of the new text with this type, rebuilt for
   * `anchor`, or undefined. `depth` is where it would sit (1 for a top-level node): a copy that
   * would reach `MAX_TREE_DEPTH` is refused, so cutting stays the converter's.
   */
  take(s: number, e: number, type: string, depth: number, anchor: Anchor, base: number): SyntaxNode | undefined {
    const list = this.byStart.get(s);
    if (!list) return undefined;
    for (const d of list) {
      if (d.node.type !== type || d.node.startOffset + d.shift !== s || d.node.endOffset + d.shift !== e) continue;
      const copy = d.node.copyTo(anchor, d.shift - base, MAX_TREE_DEPTH - depth);
      if (copy) return copy;
    }
    return undefined;
  }
}

/**
 * Visits `root` and its named descendants, parents before children, iteratively (the tree may be
 * deep). `visit` returns false to skip a node's children, or the nodes to visit instead of them
 * (a keyword argument's value without its name); `stop()` ends the walk.
 */
export function walkNamed(root: SyntaxNode, visit: (n: SyntaxNode, stop: () => void) => boolean | SyntaxNode[] | void): void {
  const stack: SyntaxNode[] = [root];
  let stopped = false;
  const stop = () => {
    stopped = true;
  };
  while (stack.length && !stopped) {
    const n = stack.pop()!;
    const next = visit(n, stop);
    if (next === false) continue;
    for (const c of Array.isArray(next) ? next : n.namedChildren) stack.push(c);
  }
}

/** Counts error and missing nodes, as the editor reports syntax errors (iteratively: trees may be deep). */
export function countErrors(root: SyntaxNode): number {
  let k = 0;
  const todo = [root];
  while (todo.length) {
    const n = todo.pop()!;
    if (n.isError || n.isMissing) k++;
    else if (n.hasError) for (const c of n.children) todo.push(c);
  }
  return k;
}
