/**
 * Shape expressions: the small arithmetic language of shape contracts.
 *
 * A contract states every output dimension as an expression over the input
 * dimensions and the block's parameters, written the way PyTorch code writes
 * it: `(H + 2 * padding - kernel) // stride + 1`, `H * W`, `embed_dim // num_heads`.
 * The same string is shown in docs and docstrings and evaluated by tests, so
 * the text a user reads is the text that was verified.
 *
 * Supported: integers, identifiers, `+ - * // %`, unary minus, parentheses and
 * the functions `max`, `min`, `ceil_div`. Division is Python floor division.
 * This module does not simplify or compare symbolic expressions; it parses and
 * evaluates them against concrete values.
 */

export type Expr =
  | { kind: 'num'; value: number }
  | { kind: 'name'; name: string }
  | { kind: 'neg'; arg: Expr }
  | { kind: 'bin'; op: '+' | '-' | '*' | '//' | '%'; left: Expr; right: Expr }
  | { kind: 'call'; fn: 'max' | 'min' | 'ceil_div'; args: Expr[] };

export class ExprError extends Error {}

const TOKEN = /\s*(?:(\d+)|([A-Za-z_][A-Za-z0-9_]*)|(\/\/|[-+*%(),]))/y;

function tokenize(src: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  let pos = 0;
  while (pos < src.length) {
    if (/^\s*$/.test(src.slice(pos))) break;
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(src);
    if (!m) throw new ExprError(`unexpected character in shape expression ${JSON.stringify(src)} at ${pos}`);
    out.push(m[1] ?? m[2] ?? m[3]);
    pos = TOKEN.lastIndex;
  }
  return out;
}

/** Parses a shape expression; throws ExprError on malformed text (catalog bugs, not user input). */
export function parseExpr(src: string): Expr {
  const toks = tokenize(src);
  let i = 0;
  const peek = () => toks[i];
  const next = () => toks[i++];
  const expect = (t: string) => {
    if (next() !== t) throw new ExprError(`expected '${t}' in ${JSON.stringify(src)}`);
  };
  function primary(): Expr {
    const t = next();
    if (t === undefined) throw new ExprError(`unexpected end of ${JSON.stringify(src)}`);
    if (t === '(') {
      const e = sum();
      expect(')');
      return e;
    }
    if (t === '-') return { kind: 'neg', arg: primary() };
    if (/^\d+$/.test(t)) return { kind: 'num', value: Number(t) };
    if (/^[A-Za-z_]/.test(t)) {
      if (peek() === '(') {
        if (t !== 'max' && t !== 'min' && t !== 'ceil_div') throw new ExprError(`unknown function ${t}`);
        next();
        const args: Expr[] = [sum()];
        while (peek() === ',') {
          next();
          args.push(sum());
        }
        expect(')');
        return { kind: 'call', fn: t, args };
      }
      return { kind: 'name', name: t };
    }
    throw new ExprError(`unexpected '${t}' in ${JSON.stringify(src)}`);
  }
  function product(): Expr {
    let e = primary();
    while (peek() === '*' || peek() === '//' || peek() === '%') {
      const op = next() as '*' | '//' | '%';
      e = { kind: 'bin', op, left: e, right: primary() };
    }
    return e;
  }
  function sum(): Expr {
    let e = product();
    while (peek() === '+' || peek() === '-') {
      const op = next() as '+' | '-';
      e = { kind: 'bin', op, left: e, right: product() };
    }
    return e;
  }
  const e = sum();
  if (i !== toks.length) throw new ExprError(`trailing '${toks[i]}' in ${JSON.stringify(src)}`);
  return e;
}

export type Env = Readonly<Record<string, number>>;

function floorDiv(a: number, b: number): number {
  if (b === 0) throw new ExprError('division by zero in shape expression');
  return Math.floor(a / b);
}

export function evalExpr(e: Expr, env: Env): number {
  switch (e.kind) {
    case 'num':
      return e.value;
    case 'name': {
      const v = env[e.name];
      if (v === undefined) throw new ExprError(`unbound name '${e.name}' in shape expression`);
      return v;
    }
    case 'neg':
      return -evalExpr(e.arg, env);
    case 'bin': {
      const a = evalExpr(e.left, env);
      const b = evalExpr(e.right, env);
      switch (e.op) {
        case '+':
          return a + b;
        case '-':
          return a - b;
        case '*':
          return a * b;
        case '//':
          return floorDiv(a, b);
        case '%':
          return a - floorDiv(a, b) * b;
      }
      break;
    }
    case 'call': {
      const xs = e.args.map((x) => evalExpr(x, env));
      if (e.fn === 'max') return Math.max(...xs);
      if (e.fn === 'min') return Math.min(...xs);
      return -floorDiv(-xs[0], xs[1]);
    }
  }
  throw new ExprError('malformed expression');
}

/** Evaluates a shape given as expression strings. */
export function evalShape(shape: readonly string[], env: Env): number[] {
  return shape.map((s) => evalExpr(parseExpr(s), env));
}

/** Names an expression refers to, for checking that contracts only use known symbols. */
export function freeNames(e: Expr, into = new Set<string>()): Set<string> {
  switch (e.kind) {
    case 'name':
      into.add(e.name);
      break;
    case 'neg':
      freeNames(e.arg, into);
      break;
    case 'bin':
      freeNames(e.left, into);
      freeNames(e.right, into);
      break;
    case 'call':
      e.args.forEach((a) => freeNames(a, into));
      break;
    default:
      break;
  }
  return into;
}
