/**
 * The syntax tree the analyzer works on: plain JavaScript nodes copied out of tree-sitter's
 * WebAssembly tree, one top-level statement group ("item": the full lines of one or more
 * top-level statements) at a time. Every property access on a web-tree-sitter node crosses
 * into WebAssembly and allocates; these nodes are ordinary objects, so the layers above walk
 * them as often as they like for free.
 *
 * Positions inside an item are stored relative to the item's first line; the item's `anchor`
 * holds the row where the item currently sits, so an unchanged item that moved (lines were
 * inserted above it) is reused by updating one number. An item's nodes are a function of its
 * text when the item has no syntax error, which is what lets the session reuse them by text.
 *
 * This layer does not know Python semantics, torch, scopes or shapes.
 */

import type { TreeCursor } from 'web-tree-sitter';

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
}

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
    private readonly relRow: number,
    private readonly column: number,
    private readonly relEndRow: number,
    private readonly endColumn: number,
    readonly children: SyntaxNode[],
    /** The field name of each child, or null. */
    private readonly fields: (string | null)[],
  ) {}

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
    return { row: this.anchor.row + this.relRow, column: this.column };
  }

  get endPosition(): Point {
    return { row: this.anchor.row + this.relEndRow, column: this.endColumn };
  }

  get namedChildren(): SyntaxNode[] {
    return (this.cachedNamed ??= this.children.filter((c) => c.isNamed));
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
 * `base` is the absolute offset of the anchor's text, `baseRow` its row; `starts` are the
 * file's line starts. Leaves the cursor where it found it. `onTruncate` hears of each cut.
 */
export function convert(cursor: TreeCursor, g: GrammarTables, anchor: Anchor, base: number, baseRow: number, starts: readonly number[], onTruncate?: (row: number) => void): SyntaxNode {
  const finish = (p: Pending): SyntaxNode => {
    const sr = rowOf(starts, p.s);
    const er = rowOf(starts, p.e);
    return new SyntaxNode(p.type, p.named, p.missing, p.hasError, anchor, p.s - base, p.e - base, sr - baseRow, p.s - starts[sr], er - baseRow, p.e - starts[er], p.children, p.fields);
  };
  const open = (field: string | null): Pending => {
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
    return { type, named, missing, hasError: type === 'ERROR' || missing, s, e, children: [], fields: [], field };
  };
  const stack: Pending[] = [open(null)];
  // Invariant: the cursor is on the node of the top of the stack, whose children are not visited yet.
  for (;;) {
    const top = stack[stack.length - 1];
    let descended = false;
    if (stack.length < MAX_TREE_DEPTH) {
      if (cursor.gotoFirstChild()) {
        const fid = cursor.currentFieldId;
        stack.push(open(fid ? g.fields[fid] ?? null : null));
        descended = true;
      }
    } else if (cursor.gotoFirstChild()) {
      // Too deep: this node stands for its whole subtree.
      cursor.gotoParent();
      top.type = TRUNCATED;
      top.named = true;
      onTruncate?.(rowOf(starts, top.s));
    }
    if (descended) continue;
    // The top has no (more) children to visit: close it, then move to the next sibling or up.
    for (;;) {
      const done = stack.pop()!;
      const node = finish(done);
      if (stack.length === 0) return node;
      const parent = stack[stack.length - 1];
      if (node.hasError) parent.hasError = true;
      parent.children.push(node);
      parent.fields.push(done.field);
      if (cursor.gotoNextSibling()) {
        const fid = cursor.currentFieldId;
        stack.push(open(fid ? g.fields[fid] ?? null : null));
        break;
      }
      cursor.gotoParent();
    }
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
