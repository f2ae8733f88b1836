/**
 * Syntax highlighting of the form's generated code: a small scanner that splits Python or
 * TypeScript source into tokens (keyword, string, comment, number, constant, definition name,
 * type, decorator, plain text). It only has to colour code the catalog's own emitters write —
 * well-formed modules with docstrings, comments, type hints and decorators — so it knows
 * lexical classes, not grammar; anything it does not recognise is plain text, and the tokens
 * always concatenate back to the source exactly (the form shows the same text it inserts).
 * It builds no DOM and imports nothing, so it is unit-tested in Node
 * (test/unit/form-highlight.test.ts); the form turns tokens into `<span class="tok-…">`.
 */

import type { Language } from '../../src/protocol/form';

export type TokenKind = 'keyword' | 'string' | 'comment' | 'number' | 'constant' | 'def' | 'type' | 'decorator' | 'text';

export interface Token {
  kind: TokenKind;
  text: string;
}

const PY_KEYWORDS = new Set([
  'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue', 'def', 'del', 'elif', 'else', 'except', 'finally', 'for', 'from',
  'global', 'if', 'import', 'in', 'is', 'lambda', 'nonlocal', 'not', 'or', 'pass', 'raise', 'return', 'try', 'while', 'with', 'yield',
]);
const PY_CONSTANTS = new Set(['True', 'False', 'None', 'self']);
const TS_KEYWORDS = new Set([
  'as', 'async', 'await', 'break', 'case', 'catch', 'class', 'const', 'constructor', 'continue', 'default', 'delete', 'do', 'else', 'export',
  'extends', 'finally', 'for', 'from', 'function', 'if', 'implements', 'import', 'in', 'instanceof', 'interface', 'let', 'new', 'of',
  'private', 'protected', 'public', 'readonly', 'return', 'static', 'super', 'switch', 'throw', 'try', 'type', 'typeof', 'var', 'void',
  'while', 'yield',
]);
const TS_CONSTANTS = new Set(['true', 'false', 'null', 'undefined', 'this']);
const TS_TYPES = new Set(['number', 'string', 'boolean', 'bigint', 'unknown', 'never', 'any', 'object']);

/** Keywords after which the next identifier is the name being defined. */
const DEFINERS = new Set(['def', 'class', 'function', 'interface', 'type']);

const NUMBER = /^(?:0[xX][0-9a-fA-F_]+|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d+)?)[jJnL]?/;
const IDENT = /^[A-Za-z_$][\w$]*/;

/** The length of a string literal starting at `i` (its opening quote), or of the rest of the text when unterminated. */
function stringLength(src: string, i: number, language: Language): number {
  const q = src[i];
  if (language === 'pytorch' && src.startsWith(q.repeat(3), i)) {
    const end = src.indexOf(q.repeat(3), i + 3);
    return (end < 0 ? src.length : end + 3) - i;
  }
  // Template literals may span lines; other strings end at the line.
  const multiline = language === 'typescript' && q === '`';
  for (let j = i + 1; j < src.length; j++) {
    const c = src[j];
    if (c === '\\') j++;
    else if (c === q) return j + 1 - i;
    else if (c === '\n' && !multiline) return j - i;
  }
  return src.length - i;
}

/** Splits generated source into tokens; `tokens.map((t) => t.text).join('') === src` always. */
export function highlight(src: string, language: Language): Token[] {
  const py = language === 'pytorch';
  const keywords = py ? PY_KEYWORDS : TS_KEYWORDS;
  const constants = py ? PY_CONSTANTS : TS_CONSTANTS;
  const out: Token[] = [];
  const push = (kind: TokenKind, text: string) => {
    const last = out[out.length - 1];
    if (last && last.kind === kind) last.text += text;
    else out.push({ kind, text });
  };
  let defining = false;
  let i = 0;
  while (i < src.length) {
    const rest = src.slice(i, i + 3);
    const c = src[i];
    let len: number;
    if ((py && c === '#') || (!py && rest.startsWith('//'))) {
      const end = src.indexOf('\n', i);
      len = (end < 0 ? src.length : end) - i;
      push('comment', src.slice(i, i + len));
    } else if (!py && rest.startsWith('/*')) {
      const end = src.indexOf('*/', i + 2);
      len = (end < 0 ? src.length : end + 2) - i;
      push('comment', src.slice(i, i + len));
    } else if (c === '"' || c === "'" || (!py && c === '`')) {
      len = stringLength(src, i, language);
      push('string', src.slice(i, i + len));
    } else if (py && /^[rRbBfFuU]{1,2}['"]/.test(rest)) {
      // A prefixed Python string: r'…', f"…", rb"""…""".
      const prefix = /^[rRbBfFuU]{1,2}/.exec(rest)![0].length;
      len = prefix + stringLength(src, i + prefix, language);
      push('string', src.slice(i, i + len));
    } else if (c === '@' && (i === 0 || /\n[ \t]*$/.test(src.slice(Math.max(0, i - 200), i)))) {
      // A decorator at the start of a line (elsewhere `@` is matrix multiplication).
      const m = /^@[\w.]+/.exec(src.slice(i));
      len = m ? m[0].length : 1;
      push(m ? 'decorator' : 'text', src.slice(i, i + len));
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      len = NUMBER.exec(src.slice(i, i + 64))?.[0].length ?? 1;
      push('number', src.slice(i, i + len));
    } else if (IDENT.test(c)) {
      const word = IDENT.exec(src.slice(i, i + 256))![0];
      len = word.length;
      // A property (`x.type`, `self.class_`) is never a keyword.
      const property = src[i - 1] === '.';
      if (defining) push('def', word);
      else if (property) push('text', word);
      else if (keywords.has(word)) push('keyword', word);
      else if (constants.has(word)) push('constant', word);
      else if ((!py && TS_TYPES.has(word)) || /^[A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*$/.test(word)) push('type', word);
      else push('text', word);
      defining = DEFINERS.has(word) && !defining && !property;
      i += len;
      continue;
    } else {
      len = 1;
      push('text', c);
      // A definer's name follows after blanks only.
      if (!/[ \t]/.test(c)) defining = false;
      i += len;
      continue;
    }
    defining = false;
    i += len;
  }
  return out;
}
