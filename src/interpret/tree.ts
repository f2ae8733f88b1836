/** A Python file's syntax tree as the interpreter walks it: the analyzer's parser, the whole file as one item. */

import { parse, grammar } from '../analysis/parse';
import { convert, lineStarts, type SyntaxNode } from '../analysis/syntax';

/** The file's syntax tree as plain nodes (one item spanning the whole file); the parser must be initialised. */
export function tree(source: string): SyntaxNode {
  const t = parse(source);
  try {
    const cursor = t.walk();
    try {
      return convert(cursor, grammar(), { row: 0, text: source }, 0, lineStarts(source));
    } finally {
      cursor.delete();
    }
  } finally {
    t.delete();
  }
}
