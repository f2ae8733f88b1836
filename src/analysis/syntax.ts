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

  get isError(): boolean {
    return this.type === 'ERROR';
  }

  get text(): string {
    return (this.cachedText ??= this.anchor.text.slice(this.start, this.end));
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
 * Copies the subtree under the cursor into SyntaxNodes. `base` is the absolute offset of the
 * anchor's text, `baseRow` its row; `starts` are the file's line starts. Leaves the cursor
 * where it found it.
 */
export function convert(cursor: TreeCursor, g: GrammarTables, anchor: Anchor, base: number, baseRow: number, starts: readonly number[]): SyntaxNode {
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
  const children: SyntaxNode[] = [];
  const fields: (string | null)[] = [];
  let hasError = type === 'ERROR' || missing;
  if (cursor.gotoFirstChild()) {
    do {
      const fid = cursor.currentFieldId;
      const c = convert(cursor, g, anchor, base, baseRow, starts);
      if (c.hasError) hasError = true;
      children.push(c);
      fields.push(fid ? g.fields[fid] ?? null : null);
    } while (cursor.gotoNextSibling());
    cursor.gotoParent();
  }
  const sr = rowOf(starts, s);
  const er = rowOf(starts, e);
  return new SyntaxNode(type, named, missing, hasError, anchor, s - base, e - base, sr - baseRow, s - starts[sr], er - baseRow, e - starts[er], children, fields);
}

/** Counts error and missing nodes, as the editor reports syntax errors. */
export function countErrors(n: SyntaxNode): number {
  if (n.isError || n.isMissing) return 1;
  if (!n.hasError) return 0;
  let k = 0;
  for (const c of n.children) k += countErrors(c);
  return k;
}
