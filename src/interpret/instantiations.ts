/**
 * Where the user builds a class, for *Preview module*'s constructor arguments: every call
 * `Name(...)` (or `mod.Name(...)`) in a file whose arguments are literals (numbers, strings,
 * booleans, None, tuples and lists of them, and arithmetic on numbers), read from the syntax
 * tree without running anything. A call with any other argument (a variable, a config object)
 * is not offered: its values are not known without running the code around it.
 */

import { initParser } from '../analysis/parse';
import type { SyntaxNode } from '../analysis/syntax';
import { tree } from './tree';
import { PyTuple, type PyValue } from './values';

export interface Instantiation {
  /** The file as the caller named it, and the 1-based line of the call. */
  readonly file: string;
  readonly line: number;
  /** The call as written, on one line (shortened). */
  readonly text: string;
  readonly args: PyValue[];
  readonly kwargs: Map<string, PyValue>;
}


const NOT_LITERAL = Symbol('not a literal');

/** The value of a literal expression, or NOT_LITERAL. */
function literal(n: SyntaxNode): PyValue | typeof NOT_LITERAL {
  switch (n.type) {
    case 'integer': {
      const t = n.text.replace(/_/g, '').toLowerCase();
      const v = t.startsWith('0x') ? parseInt(t.slice(2), 16) : t.startsWith('0o') ? parseInt(t.slice(2), 8) : t.startsWith('0b') ? parseInt(t.slice(2), 2) : Number(t);
      return Number.isSafeInteger(v) ? v : NOT_LITERAL;
    }
    case 'float': {
      const v = Number(n.text.replace(/_/g, ''));
      return Number.isFinite(v) ? v : NOT_LITERAL;
    }
    case 'true':
      return true;
    case 'false':
      return false;
    case 'none':
      return null;
    case 'string': {
      if (n.namedChildren.some((c) => c.type === 'interpolation')) return NOT_LITERAL;
      const q = /^[rRuU]?('''|"""|'|")([\s\S]*)\1$/.exec(n.text);
      return q && !q[2].includes('\\') ? q[2] : NOT_LITERAL;
    }
    case 'parenthesized_expression':
      return n.namedChildren.length === 1 ? literal(n.namedChildren[0]) : NOT_LITERAL;
    case 'unary_operator': {
      const v = literal(n.childForFieldName('argument')!);
      const op = n.childForFieldName('operator')?.text;
      return typeof v === 'number' && (op === '-' || op === '+') ? (op === '-' ? -v : v) : NOT_LITERAL;
    }
    case 'binary_operator': {
      const a = literal(n.childForFieldName('left')!);
      const b = literal(n.childForFieldName('right')!);
      if (typeof a !== 'number' || typeof b !== 'number') return NOT_LITERAL;
      switch (n.childForFieldName('operator')?.text) {
        case '+':
          return a + b;
        case '-':
          return a - b;
        case '*':
          return a * b;
        case '/':
          return b === 0 ? NOT_LITERAL : a / b;
        case '//':
          return b === 0 ? NOT_LITERAL : Math.floor(a / b);
        case '**':
          return a ** b;
        default:
          return NOT_LITERAL;
      }
    }
    case 'tuple':
    case 'list': {
      const items = n.namedChildren.filter((c) => c.type !== 'comment').map(literal);
      if (items.some((v) => v === NOT_LITERAL)) return NOT_LITERAL;
      return n.type === 'tuple' ? new PyTuple(items as PyValue[]) : (items as PyValue[]);
    }
    default:
      return NOT_LITERAL;
  }
}

/** The calls of `className` in `source` whose arguments are all literals, in file order. */
export async function findInstantiations(source: string, file: string, className: string): Promise<Instantiation[]> {
  if (!source.includes(`${className}(`)) return [];
  await initParser();
  const out: Instantiation[] = [];
  const stack: SyntaxNode[] = [tree(source)];
  while (stack.length) {
    const n = stack.pop()!;
    for (let i = n.namedChildren.length - 1; i >= 0; i--) stack.push(n.namedChildren[i]);
    if (n.type !== 'call') continue;
    const f = n.childForFieldName('function')!;
    const name = f.type === 'identifier' ? f.text : f.type === 'attribute' ? f.childForFieldName('attribute')?.text : undefined;
    if (name !== className) continue;
    const argsNode = n.childForFieldName('arguments');
    if (!argsNode || argsNode.type !== 'argument_list') continue;
    const args: PyValue[] = [];
    const kwargs = new Map<string, PyValue>();
    let ok = true;
    for (const a of argsNode.namedChildren) {
      if (a.type === 'comment') continue;
      if (a.type === 'keyword_argument') {
        const v = literal(a.childForFieldName('value')!);
        if (v === NOT_LITERAL) ok = false;
        else kwargs.set(a.childForFieldName('name')!.text, v);
      } else if (kwargs.size || a.type === 'list_splat' || a.type === 'dictionary_splat') ok = false;
      else {
        const v = literal(a);
        if (v === NOT_LITERAL) ok = false;
        else args.push(v);
      }
    }
    if (!ok) continue;
    const text = n.text.replace(/\s+/g, ' ');
    out.push({ file, line: n.startPosition.row + 1, text: text.length > 120 ? `${text.slice(0, 117)}...` : text, args, kwargs });
  }
  return out.sort((a, b) => a.line - b.line);
}

/** The parameters of `className.__init__` in `source` that have no default (without `self`); undefined when the class or its `__init__` is not in the file. */
export async function requiredParameters(source: string, className: string): Promise<string[] | undefined> {
  await initParser();
  for (const s of tree(source).namedChildren) {
    const c = s.type === 'decorated_definition' ? s.childForFieldName('definition') : s;
    if (c?.type !== 'class_definition' || c.childForFieldName('name')?.text !== className) continue;
    for (const m of c.childForFieldName('body')?.namedChildren ?? []) {
      const d = m.type === 'decorated_definition' ? m.childForFieldName('definition') : m;
      if (d?.type !== 'function_definition' || d.childForFieldName('name')?.text !== '__init__') continue;
      const ps = d.childForFieldName('parameters')!.namedChildren;
      const out: string[] = [];
      for (const [i, p] of ps.entries()) if ((p.type === 'identifier' || p.type === 'typed_parameter') && i > 0) out.push(p.type === 'identifier' ? p.text : p.namedChildren[0].text);
      return out;
    }
    return undefined;
  }
  return undefined;
}
