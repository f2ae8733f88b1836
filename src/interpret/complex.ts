/**
 * complex64 tensors for the interpreter (`PyComplex`: real and imaginary float32 parts), as
 * rotary position embeddings use them: `torch.polar`, `torch.view_as_complex` /
 * `view_as_real`, `.real`/`.imag`, elementwise products and sums with complex or real
 * operands, and views (`view`, `reshape`, `unsqueeze`, `flatten`, indexing) applied to both
 * parts. Everything else on a complex tensor is unsupported, by name.
 */

import { stack, Tensor } from '../runtime/index';
import { pyError, unsupported } from './errors';
import { PyBuiltin, PyComplex, PyToken, PyTuple, type Args, type PyValue } from './values';

export function polar(abs: Tensor, angle: Tensor): PyComplex {
  return new PyComplex(abs.mul(angle.cos()), abs.mul(angle.sin()));
}

export function viewAsComplex(t: Tensor): PyComplex {
  if (t.ndim === 0 || t.shape[t.ndim - 1] !== 2) throw pyError('RuntimeError', 'Tensor must have a last dimension of size 2');
  return new PyComplex(t.select(-1, 0), t.select(-1, 1));
}

export function viewAsReal(c: PyComplex): Tensor {
  return stack([c.re, c.im], -1);
}

/** `a op b` where at least one side is complex: `+`, `-`, `*`. */
export function complexBinary(op: string, a: PyValue, b: PyValue): PyComplex {
  const parts = (v: PyValue): [Tensor | number, Tensor | number] => {
    if (v instanceof PyComplex) return [v.re, v.im];
    if (v instanceof Tensor || typeof v === 'number') return [v, 0];
    throw pyError('TypeError', `unsupported operand type for complex ${op}`);
  };
  const [ar, ai] = parts(a);
  const [br, bi] = parts(b);
  const mul = (x: Tensor | number, y: Tensor | number): Tensor | number => (x instanceof Tensor ? x.mul(y) : y instanceof Tensor ? y.mul(x) : x * y);
  const add = (x: Tensor | number, y: Tensor | number, sign = 1): Tensor | number => {
    if (x instanceof Tensor) return sign > 0 ? x.add(y) : x.sub(y);
    if (y instanceof Tensor) return sign > 0 ? y.add(x) : y.neg().add(x);
    return x + sign * y;
  };
  const tensor = (x: Tensor | number, like: Tensor): Tensor => (x instanceof Tensor ? x : like.mul(0).add(x));
  const like = [ar, ai, br, bi].find((x): x is Tensor => x instanceof Tensor)!;
  switch (op) {
    case '*':
      return new PyComplex(tensor(add(mul(ar, br), mul(ai, bi), -1), like), tensor(add(mul(ar, bi), mul(ai, br)), like));
    case '+':
    case '-': {
      const s = op === '+' ? 1 : -1;
      return new PyComplex(tensor(add(ar, br, s), like), tensor(add(ai, bi, s), like));
    }
  }
  throw unsupported(`operator '${op}' on complex tensors`);
}

/** Attributes and methods of a complex tensor; undefined when it has no such one. */
export function complexAttribute(c: PyComplex, name: string, sizes: (v: readonly PyValue[]) => number[]): PyValue | undefined {
  const both = (f: (t: Tensor) => Tensor) => new PyComplex(f(c.re), f(c.im));
  const m = (f: (a: Args) => PyValue) => new PyBuiltin(`Tensor.${name}`, f);
  switch (name) {
    case 'real':
      return c.re;
    case 'imag':
      return c.im;
    case 'shape':
      return new PyTuple([...c.re.shape]);
    case 'ndim':
      return c.re.ndim;
    case 'dtype':
      return new PyToken('torch.complex64');
    case 'device':
      return new PyToken(c.re.device.name);
    case 'view':
    case 'reshape':
      return m((a) => both((t) => t.reshape(sizes(a.pos))));
    case 'unsqueeze':
      return m((a) => both((t) => t.unsqueeze(a.pos[0] as number)));
    case 'size':
      return m((a) => (a.pos.length ? c.re.size(a.pos[0] as number) : new PyTuple([...c.re.shape])));
    case 'dim':
      return m(() => c.re.ndim);
    case 'to':
    case 'contiguous':
    case 'clone':
    case 'detach':
      return m(() => c);
    case 'conj':
      return m(() => new PyComplex(c.re, c.im.neg()));
  }
  return undefined;
}
