/**
 * Shape evaluation: an abstract interpreter over one file. It runs the top level in program
 * order (constants, module instances such as `Block(64, 8)`, tensors such as
 * `torch.randn(2, 10, 64)`, calls such as `model(x)`), evaluates `__init__` with the bound
 * constructor arguments and `forward` with the bound inputs, and afterwards evaluates every
 * module class, instance and function that the file never exercised, with symbolic dimensions
 * seeded from parameter names, defaults, shape comments, jaxtyping annotations, `x.shape`
 * unpacking and asserts. Nested functions and lambdas read the enclosing frames live, as
 * Python's closures do; `**kwargs` of a real call is a dict of the keywords it received; a
 * decorator on a method is not applied (its body is evaluated as written).
 *
 * This is the interpreter core: it knows Python, not torch. Tensor methods, `torch.`/`F.`
 * functions and torch layer calls go to the op handlers of `semantics/` (by family, with the
 * facts the rules judge) through the narrow `OpHost` interface this class implements with one
 * adapter object (`host`); pure-shape signatures are in `ops/`.
 *
 * Values are abstract (`values.ts`): a shape that cannot be known is `unknown` and silences
 * everything downstream. Where an operation constrains two symbolic sizes to be equal and
 * nothing proves otherwise, the evaluator unifies them (the code is assumed right until shown
 * wrong). It reports nothing itself: it emits events (`events.ts`) with the facts it found,
 * and the rules decide. It never throws on user code: each statement is evaluated under a
 * guard, and a step budget bounds the work on any file.
 */

import type { Binding } from './bind';
import { dotted, findMethod, qualify } from './bind';
import * as D from './dims';
import type { Dim } from './dims';
import type { Event } from './events';
import type { Node } from './parse';
import * as S from './semantics';
import { CAUSAL_HELPER } from './semantics/attention';
import { contiguousStrides, flipMask, flipOrigin, roleFromName, triRegion } from './semantics/facts';
import { intV, isTensor, margs, numValue, type OpHost } from './semantics/host';
import { BATCHED_RANK, RANK_ADDING } from './semantics/modules';
import type { AltV, Axis, ClassInfo, InstanceV, IntV, MaskOrigin, MaskPolarity, NumV, ScaleFact, SymObjV, TensorV, TorchModuleV, TupleV, Value } from './values';
import { UNKNOWN } from './values';
import { keepsParameter, rankOfParameter, type CalleeRank, type RankEnv, type RankFact } from './rank-evidence';
import { walkNamed } from './syntax';

export interface ShapeRecord {
  line: number;
  column: number;
  name: string;
  shape: string;
}

/** A size a branch may take as known: `e == c` (`if n_rep == 1:`), and the substitution that makes it so where e is one symbol. */
interface Assumption {
  e: Dim;
  c: number;
  subst?: Map<string, Dim>;
}

interface Frame {
  vars: Map<string, Value>;
  /** The values the parameters were bound to, before any reassignment. */
  params?: Value[];
  returns: Value[];
  /** For each return, what its path assumed of sizes (`if n_rep == 1: return x`), where it assumed anything. */
  assumed?: (Assumption[] | undefined)[];
  self?: InstanceV;
  forward: boolean;
  /** The enclosing functions' variables, innermost first, for a nested function or lambda. */
  closure?: Map<string, Value>[];
  /** Run with seeded arguments (no caller): a tensor of unknown rank there says nothing. */
  seeded?: boolean;
  /** The function's name (`subsequent_mask`), for what a return says. */
  name?: string;
  /**
   * A return ran on the path being evaluated: the statements after it in the enclosing blocks do
   * not run (`if return_nl_map: return z, f` with the flag passed as True returns the pair only).
   */
  ended?: boolean;
}

class Budget extends Error {}

const MAX_DEPTH = 12;
const MAX_STEPS = 60000;

/** Parameter annotations that declare a tensor (or an optional one). */
function isTensorAnnotation(text: string): boolean {
  let t = text.replace(/\s+/g, '').replace(/^["']|["']$/g, '');
  // Optional[T], Union[T, None], T | None: the T.
  for (;;) {
    const m = /^(?:typing\.)?Optional\[(.*)\]$/.exec(t) ?? /^(?:typing\.)?Union\[(.*),None\]$/.exec(t) ?? /^(.*)\|None$/.exec(t) ?? /^None\|(.*)$/.exec(t);
    if (!m) break;
    t = m[1];
  }
  return /^(?:torch\.)?(?:Tensor|FloatTensor|LongTensor|BoolTensor|HalfTensor|IntTensor|nn\.Parameter|Parameter)$/.test(t)
    || /^(?:jaxtyping\.|jt\.)?(?:Float|Int|Bool|Shaped|Num|Real|Integer|Inexact|Float32|Int64|TensorType)\[/.test(t);
}

/** Layers whose output has their input's shape, whatever its rank. */
const RANK_SAME_MODULES = new Set([
  'LayerNorm', 'RMSNorm', 'Dropout', 'Identity', 'GELU', 'ReLU', 'ReLU6', 'SiLU', 'Tanh', 'Sigmoid', 'Softmax', 'LeakyReLU',
  'ELU', 'Mish', 'Hardswish', 'Hardsigmoid', 'Softplus', 'PReLU', 'SELU', 'CELU', 'GroupNorm',
]);

/** List methods that change a list in place. */
const LIST_MUTATORS = new Set(['append', 'extend', 'insert', 'pop', 'remove', 'clear', 'reverse', 'sort']);

/** nn.Module methods that return the module itself. */
const MODULE_SELF_METHODS = new Set(['eval', 'train', 'to', 'cuda', 'cpu', 'float', 'double', 'half', 'bfloat16', 'requires_grad_', 'apply', 'zero_grad', 'share_memory', 'to_empty']);

/** torch functions that always return one floating (randint: integer) tensor, whatever their size arguments. */
const TENSOR_FACTORIES = /^torch\.(randn|rand|zeros|ones|empty|randint)$/;

export class Evaluator {
  readonly records: ShapeRecord[] = [];
  private readonly subst = new Map<string, Dim>();
  /** Symbols of sizes chosen by a branch: never bound by unification (see `freshRigid`). */
  private readonly rigid = new Set<string>();
  /**
   * Sizes of every other position of a symbolic axis (`x[:, 0::2]`, `x[:, 1::2]`): the symbol's
   * axis size and whether it is the ceiling (start 0) or the floor (start 1) of its half.
   */
  private readonly halves = new Map<string, { n: Dim; ceil: boolean }>();
  /** The symbol of each such half, by ceiling-or-floor and axis size: one symbol per half. */
  private readonly halfSyms = new Map<string, Dim>();
  /**
   * The integer default of each size that was named after its parameter because nothing called
   * the constructor (`num_heads: int = 8` gives the symbol `num_heads`): what the module computes
   * with its own defaults, for `compareAtDefaults`.
   */
  private readonly defaults = new Map<string, Dim>();
  /**
   * Sizes named after a constructor's parameters because nothing called it (`dim`, `hidden_dim`,
   * `config.n_embd`): each one the caller chooses on its own. Two different expressions of them
   * are never made one by unification: code that needs them equal runs only for some choices.
   */
  private readonly free = new Set<string>();
  /**
   * Sizes computed from defaulted ones where no symbolic form is exact (`int(2 * hidden_dim / 3)`,
   * `(n + multiple_of - 1) // multiple_of` when the defaults do not divide): their value at the
   * defaults (in `defaults`) and the defaults it was computed from, which a finding names.
   */
  private readonly derived = new Map<string, [string, number][]>();
  private readonly globals = new Map<string, Value>();
  private readonly instances: InstanceV[] = [];
  private readonly instantiated = new Set<ClassInfo>();
  private readonly calledFunctions = new Set<Node>();
  private readonly active = new Set<Node>();
  private symCount = 0;
  private labelCount = 0;
  private steps = 0;
  private depth = 0;

  constructor(
    /** The unit's top-level statements, in file order. */
    private readonly stmts: readonly Node[],
    private readonly b: Binding,
    private readonly sink: (e: Event) => void,
    /** The file's convention for masks, from its causal-mask helpers in other units (see `MaskCell`). */
    private readonly fileConvention?: [MaskPolarity, string],
  ) {}

  /** What True means in the results of this unit's causal-mask helpers, with a helper's name. */
  readonly maskConventions: [MaskPolarity, string][] = [];

  /**
   * Above 0 while evaluating a branch that a known condition skips (`if not self.batch_first:`
   * with `batch_first=True` at the call): only `attribute` events get through then — a name that
   * no tensor has (`x.permutation`) is wrong whatever the flags are, while shape facts in a branch
   * that does not run for these arguments prove nothing. Nothing the branch assigns survives it.
   */
  private speculative = 0;
  /** How many of the `speculative` levels are calls of one of several modules (`callAlternatives`). */
  private alternatives = 0;

  /**
   * What the torch semantics (`semantics/`) may ask of this interpreter: the size algebra, new
   * symbols and axis identities, events, and the calls that reach back into the core.
   */
  private readonly host: OpHost = {
    norm: (d) => this.norm(d),
    compare: (a, b) => this.compare(a, b),
    same: (a, b) => this.same(a, b),
    unify: (a, b, broadcast) => this.unify(a, b, broadcast),
    compareAtDefaults: (a, b) => this.compareAtDefaults(a, b),
    apart: (a, b) => this.apart(a, b),
    fresh: (name) => this.fresh(name),
    label: () => this.label(),
    tensor: (sizes, names, extra) => this.tensor(sizes, names, extra),
    emit: (e) => this.emit(e),
    truth: (v) => this.truth(v),
    dimForName: (name) => this.dimForName(name),
    statedOrder: (d) => this.statedOrders.find(([a, b]) => this.compare(D.mul(a, b), d) === 'eq' && this.compare(a, b) !== 'eq'),
    binaryValues: (op, l, r, n) => this.binaryValues(op, l, r, n),
    tensorOp: (op, args, kwargs, argNodes, kwargNodes, n, nameNode) => this.tensorOp(op, args, kwargs, argNodes, kwargNodes, n, nameNode),
    callModule: (m, args, kwargs, argNodes, kwargNodes, n) => this.callModule(m, args, kwargs, argNodes, kwargNodes, n),
    callInstance: (inst, args, kwargs, node, seed) => this.callInstance(inst, args, kwargs, node, seed),
  };

  private emit(e: Event): void {
    if (this.quiet > 0) return;
    // In one of several modules chosen by a condition nobody knows, a layer fed the wrong
    // size is wrong whenever that module is the one chosen.
    if (this.speculative > 0 && e.kind !== 'attribute' && !(e.kind === 'module-call' && this.speculative === this.alternatives)) return;
    this.sink(e);
  }

  // ---------------------------------------------------------------- dims

  private readonly substLookup = (s: string): Dim | undefined => this.subst.get(s) ?? this.halfValue(s);

  /** A half's size once its axis has a known size (`⌈7/2⌉ = 4`). */
  private halfValue(s: string): Dim | undefined {
    const h = this.halves.get(s);
    // An axis size bound to an expression of its own half (H = 2*⌈H/2⌉) is not resolved again.
    if (!h || this.resolvingHalves.has(s)) return undefined;
    this.resolvingHalves.add(s);
    try {
      const n = D.constValue(this.norm(h.n));
      return n === undefined ? undefined : D.dconst(h.ceil ? Math.ceil(n / 2) : Math.floor(n / 2));
    } finally {
      this.resolvingHalves.delete(s);
    }
  }

  private readonly resolvingHalves = new Set<string>();

  /**
   * The size of `start::2` over an axis of symbolic size `n`, start 0 or 1: ⌈n/2⌉ or ⌊n/2⌋, one
   * symbol each. Two such halves of one axis found equal make the axis even (both n/2).
   */
  private half(n: Dim, ceil: boolean): Dim {
    const key = `${ceil}:${D.format(this.norm(n))}`;
    let d = this.halfSyms.get(key);
    if (!d) {
      // Named as shown: `⌈H/2⌉`, `⌊H/2⌋` (the axis written in, when it is one name).
      const name = D.format(this.norm(n)).replace(/#\d+/g, '');
      d = this.fresh(/^\w+$/.test(name) ? (ceil ? `⌈${name}/2⌉` : `⌊${name}/2⌋`) : ceil ? '⌈n/2⌉' : '⌊n/2⌋');
      this.halfSyms.set(key, d);
      this.halves.set(D.asSymbol(d)!, { n: this.norm(n), ceil });
    }
    return d;
  }

  norm(d: Dim): Dim {
    if (this.subst.size === 0 && this.halves.size === 0) return d;
    let cur = d;
    for (let i = 0; i < 4 && this.subst.size > 0; i++) {
      const next = D.substitute(cur, this.substLookup);
      if (next === cur || D.equal(next, cur)) break;
      cur = next;
    }
    return this.halves.size > 0 ? this.joinHalves(cur) : cur;
  }

  /**
   * `c*⌈n/2⌉*r + c*⌊n/2⌋*r` is `c*n*r`: the two halves of an axis (`x[:, 0::2]` and `x[:, 1::2]`)
   * concatenated again have the axis's size, in a product too.
   */
  private joinHalves(d: Dim): Dim {
    if (d.terms.length < 2) return d;
    // The half in a term (exponent 1), and the rest of its monomial.
    const split = (t: D.Term) => {
      const at = t.syms.findIndex(([sym, e]) => e === 1 && this.halves.has(sym));
      return at < 0 ? undefined : { h: this.halves.get(t.syms[at][0])!, rest: t.syms.filter((_, k) => k !== at) };
    };
    const sameRest = (a: readonly (readonly [string, number])[], b: readonly (readonly [string, number])[]) => a.length === b.length && a.every(([s, e], k) => b[k][0] === s && b[k][1] === e);
    for (const [i, a] of d.terms.entries()) {
      const sa = split(a);
      if (!sa) continue;
      const j = d.terms.findIndex((b, k) => {
        const sb = k === i ? undefined : split(b);
        return !!sb && sb.h.ceil !== sa.h.ceil && Math.abs(b.coef - a.coef) < 1e-9 && sameRest(sa.rest, sb.rest) && D.equal(sb.h.n, sa.h.n);
      });
      if (j < 0) continue;
      const rest: Dim = { terms: d.terms.filter((_, k) => k !== i && k !== j) };
      const factor: Dim = { terms: [{ coef: a.coef, syms: sa.rest }] };
      return this.joinHalves(D.add(rest, D.mul(sa.h.n, factor)));
    }
    return d;
  }

  compare(a: Dim, b: Dim): D.Cmp {
    return D.compare(this.norm(a), this.norm(b));
  }

  /**
   * `compare` once every size named after a defaulted parameter takes its default (`dim` vs
   * `dim // num_heads` is 'ne' with `num_heads = 8`), with the parameters that decided it. Only
   * a 'ne' that needed a default is returned as such; anything else is the plain comparison.
   */
  compareAtDefaults(a: Dim, b: Dim): { cmp: D.Cmp; assumed: [string, number][] } {
    const na = this.norm(a);
    const nb = this.norm(b);
    const plain = D.compare(na, nb);
    if (plain !== 'unknown' || this.defaults.size === 0) return { cmp: plain, assumed: [] };
    const used = new Map<string, number>();
    const at = (s: string) => {
      const d = this.defaults.get(s);
      if (d) this.useDefault(s, d, used);
      return d;
    };
    const cmp = D.compare(D.substitute(na, at), D.substitute(nb, at));
    return cmp === 'ne' ? { cmp, assumed: [...used] } : { cmp: plain, assumed: [] };
  }

  /** The value of a size once every defaulted parameter takes its default, with those it took. */
  valueAtDefaults(d: Dim): { value?: number; assumed: [string, number][] } {
    const n = this.norm(d);
    const plain = D.constValue(n);
    if (plain !== undefined || this.defaults.size === 0) return { value: plain, assumed: [] };
    const used = new Map<string, number>();
    const value = D.constValue(D.substitute(n, (s) => {
      const v = this.defaults.get(s);
      if (v) this.useDefault(s, v, used);
      return v;
    }));
    return value === undefined ? { assumed: [] } : { value, assumed: [...used] };
  }

  /** Records the default a comparison took: a parameter's own, or those a derived size came from. */
  private useDefault(s: string, d: Dim, used: Map<string, number>): void {
    const from = this.derived.get(s);
    if (from) for (const [k, v] of from) used.set(k, v);
    else used.set(D.displayName(s), D.constValue(d)!);
  }

  /**
   * A size with no exact symbolic form, computed from sizes whose values at the defaults are
   * known: a fresh size whose default is `value` (torch's number when the module is built as
   * written), undefined when the inputs have no such values.
   */
  private derivedSize(name: string, inputs: Dim[], compute: (xs: number[]) => number): Dim | undefined {
    if (this.defaults.size === 0) return undefined;
    const used = new Map<string, number>();
    const xs: number[] = [];
    for (const d of inputs) {
      const n = this.norm(d);
      const v = D.constValue(D.substitute(n, (s) => {
        const x = this.defaults.get(s);
        if (x) this.useDefault(s, x, used);
        return x;
      }));
      // A value that is not a whole number came from an exact-division reading the defaults
      // do not satisfy: not torch's number.
      if (v === undefined || !Number.isInteger(v)) return undefined;
      xs.push(v);
    }
    if (used.size === 0) return undefined;
    const value = compute(xs);
    if (!Number.isFinite(value) || !Number.isInteger(value) || value <= 0) return undefined;
    const sym = this.fresh(name);
    this.defaults.set(D.asSymbol(sym)!, D.dconst(value));
    this.derived.set(D.asSymbol(sym)!, [...used]);
    return sym;
  }

  same(a: Dim, b: Dim): boolean {
    return D.equal(this.norm(a), this.norm(b));
  }

  /** A size the caller chooses: a constructor's parameter with no caller. */
  private freeSize(name: string): Dim {
    const d = this.fresh(name);
    this.free.add(D.asSymbol(d)!);
    return d;
  }

  private freeOnly(d: Dim): boolean {
    const syms = D.symbolsOf(d);
    if (syms.size === 0) return false;
    for (const s of syms) if (!this.free.has(s)) return false;
    return true;
  }

  /**
   * Two different expressions of sizes the caller chooses independently (`dim` and
   * `heads * dim_head`), each as computed (a layer's width, not a seeded input's size found
   * equal to one): equal only for some choices.
   */
  apart(a: Dim, b: Dim): boolean {
    return this.chosen(a) && this.chosen(b) && !D.equal(this.norm(a), this.norm(b));
  }

  /** An expression of sizes the caller chooses, as computed and after unification. */
  chosen(d: Dim): boolean {
    return this.free.size > 0 && this.freeOnly(d) && this.freeOnly(this.norm(d));
  }

  /**
   * Records a == b when nothing proves otherwise; returns the comparison before unifying.
   * `stated`: the code states the equality (`assert dim == heads * dim_head`, `if a != b: raise`),
   * so sizes the caller chooses are made one too.
   */
  unify(a: Dim, b: Dim, broadcast = false, stated = false): D.Cmp {
    const na = this.norm(a);
    const nb = this.norm(b);
    const c = D.compare(na, nb);
    if (c !== 'unknown') return c;
    const ha = this.halves.get(D.asSymbol(na) ?? '');
    const hb = this.halves.get(D.asSymbol(nb) ?? '');
    // Broadcasting does not make two halves one (⌈3/2⌉ = 2 broadcasts against ⌊3/2⌋ = 1).
    if (broadcast && (ha || hb)) return 'unknown';
    // ⌈n/2⌉ == ⌊n/2⌋ where sizes must be equal (the halves concatenated): n is even.
    if (ha && hb && ha.ceil !== hb.ceil && D.equal(this.norm(ha.n), this.norm(hb.n))) {
      const half = D.mul(this.norm(ha.n), D.dconst(0.5));
      this.subst.set(D.asSymbol(na)!, half);
      this.subst.set(D.asSymbol(nb)!, half);
      return 'unknown';
    }
    // Sizes that differ once the parameters they are named after take their defaults (a layer
    // built for `dim_feedforward` fed `d_model` features) are not made one: the rule that sees
    // them judges them at those defaults.
    if (this.defaults.size && this.compareAtDefaults(na, nb).cmp === 'ne') return 'unknown';
    // Sizes the caller chooses apart stay apart: the rule that sees them says when they meet.
    if (this.free.size && !stated && this.freeOnly(na) && this.freeOnly(nb)) return 'unknown';
    // A size with a default (`d_model = 64`) met by sizes without one (read from a tensor of
    // unknown provenance) keeps its name: those are solved for, so the default still decides
    // later comparisons (`Linear(d_model, ...)` fed `dim_feedforward` features).
    const defaulted = (d: Dim) => [...D.symbolsOf(d)].some((s) => this.defaults.has(s));
    if (defaulted(na) !== defaulted(nb)) {
      const [keep, other] = defaulted(na) ? [na, nb] : [nb, na];
      const so = D.asSymbol(other);
      if (so && !this.rigid.has(so) && !D.symbolsOf(keep).has(so)) {
        this.subst.set(so, keep);
        return 'unknown';
      }
      const solved = D.solveLinear(other, keep);
      if (solved && !this.rigid.has(solved[0])) {
        this.subst.set(solved[0], solved[1]);
        return 'unknown';
      }
    }
    // A size read from a tensor that meets a constructor's parameter takes the parameter's name
    // (kept for what is compared later), not the other way round; a size chosen by a branch
    // (`freshRigid`) leaves the parameter as it is.
    const sa0 = D.asSymbol(na);
    const sb0 = D.asSymbol(nb);
    if (sa0 && sb0 && this.free.has(sa0) !== this.free.has(sb0)) {
      const [param, other] = this.free.has(sa0) ? [na, sb0] : [nb, sa0];
      if (this.rigid.has(other)) return 'unknown';
      if (!D.symbolsOf(param).has(other)) {
        this.subst.set(other, param);
        return 'unknown';
      }
    }
    const sa = D.asSymbol(na);
    if (sa && !this.rigid.has(sa) && !D.symbolsOf(nb).has(sa)) {
      this.subst.set(sa, nb);
      return 'unknown';
    }
    const sb = D.asSymbol(nb);
    if (sb && !this.rigid.has(sb) && !D.symbolsOf(na).has(sb)) {
      this.subst.set(sb, na);
      return 'unknown';
    }
    // `4*C == 4*dim`, `C + 1 == n + 1`: the equation is solved for a symbol that occurs linearly,
    // so what is computed later from either side is compared with the other (`2*dim` vs `4*C`).
    const solved = D.solveLinear(na, nb) ?? D.solveLinear(nb, na);
    if (solved && !this.rigid.has(solved[0])) this.subst.set(solved[0], solved[1]);
    // `bb*h == b*h` (a mask tiled per head met by scores with the heads folded into the batch):
    // the shared factor divided out, `bb == b`.
    else if (!solved) {
      const cut = D.cancelCommon(na, nb);
      if (cut) return this.unify(cut[0], cut[1]) === 'ne' ? 'ne' : 'unknown';
    }
    return 'unknown';
  }

  fresh(name: string): Dim {
    return D.dsym(`${name}#${++this.symCount}`);
  }

  /**
   * A size chosen by a branch (`inp if stride > 1 else inp // 2`): one size, but which one
   * depends on the path, so no use on one path may decide it for the others (unification never
   * binds it).
   */
  private freshRigid(name: string): Dim {
    const d = this.fresh(name);
    this.rigid.add(D.asSymbol(d)!);
    return d;
  }

  private label(): string {
    return `a${++this.labelCount}`;
  }

  tensor(sizes: Dim[], names?: (string | undefined)[], extra?: Partial<TensorV>): TensorV {
    const all = (names ?? []).filter((x): x is string => !!x);
    const axes: Axis[] = sizes.map((size, i) => {
      const n = names?.[i];
      const role = n ? roleFromName(n, all) : undefined;
      return role ? { size, role, label: this.label() } : { size, label: this.label() };
    });
    return { kind: 'tensor', axes, strides: contiguousStrides(sizes), ...extra };
  }

  // ---------------------------------------------------------------- driver

  run(): void {
    const frame: Frame = { vars: this.globals, returns: [], forward: false };
    this.block(this.stmts as Node[], frame);
    // The file's convention for masks (see `MaskCell`): what True means in the results of its
    // causal-mask helpers, each run first on its own for its result only (no event, no shape:
    // it runs again where it runs anyway).
    const conventions = new Map<MaskPolarity, string>();
    for (const fn of this.b.functionList) {
      const name = fn.childForFieldName('name')?.text ?? '';
      if (!CAUSAL_HELPER.test(name)) continue;
      this.guard(() => {
        this.speculative++;
        this.quiet++;
        let v: Value;
        try {
          v = this.runFunction(fn, [], {}, undefined, true, false);
        } finally {
          this.speculative--;
          this.quiet--;
        }
        // Only a helper whose result is causal under one reading (True at exactly j > i, or at
        // exactly j <= i) says what True means; the mask-polarity rule judges the others.
        if (!isTensor(v) || v.dtype !== 'bool' || !v.mask?.tri || v.mask.additive) return;
        const exactlyFuture = (r: { upper: boolean; diagonal: number }) => r.upper && r.diagonal === 1;
        const p = exactlyFuture(triRegion(v.mask.tri)) ? 'ignore' : exactlyFuture(triRegion(v.mask.tri, true)) ? 'keep' : undefined;
        if (p) conventions.set(p, name);
      });
    }
    this.maskConventions.push(...conventions);
    const own = conventions.size === 1 ? [...conventions][0] : conventions.size === 0 ? this.fileConvention : undefined;
    if (own) {
      const [polarity, name] = own;
      this.maskConvention = { polarity, why: `the file's ${name}() makes masks True where ${polarity === 'keep' ? 'attended' : 'hidden'}` };
    }
    // Exercise what the file itself did not. A class the file's own code built (a driver) is
    // shown as built; one built only inside another class nobody built (BasicConv(2, 1) in a
    // spatial gate) is also exercised on its own, so its shapes hold for every construction.
    const built = new Set(this.instantiated);
    for (const cls of this.b.classList) {
      if (!cls.isModule || built.has(cls)) continue;
      this.guard(() => this.instantiate(cls, [], {}, undefined, true));
    }
    for (const inst of [...this.instances]) {
      if (inst.called) continue;
      this.guard(() => this.callInstance(inst, [], {}, undefined, true));
    }
    for (const fn of this.b.functionList) {
      if (this.calledFunctions.has(fn)) continue;
      this.guard(() => this.callFunction(fn, [], {}, undefined, true));
    }
    // A module's other methods that nothing called (`update`, `generate`, `_pos_embed`) run on
    // their own, on the first instance of their class, inputs seeded as a forward's are.
    for (const inst of [...this.instances]) {
      if (!inst.cls.isModule || inst.failed) continue;
      for (const [name, m] of inst.cls.methods) {
        if (name.startsWith('__') || name === 'forward' || this.ranMethods.has(m)) continue;
        this.ranMethods.add(m);
        this.guard(() => this.runFunction(m, [], {}, inst, true, false));
      }
    }
    // A function or method that a caller passed something of unknown shape (an input whose rank
    // nothing fixed, a size read from it) runs once more on its own, as if nobody called it:
    // what its body shows holds for every caller (see `record`).
    for (let round = 0; round < 4 && this.blind.size > 0; round++) {
      const todo = [...this.blind];
      this.blind.clear();
      for (const [fn, selves] of todo) {
        if (this.ownRuns.has(fn)) continue;
        this.ownRuns.add(fn);
        for (const self of selves) this.guard(() => this.runFunction(fn, [], {}, self, true, fn.childForFieldName('name')?.text === 'forward'));
      }
    }
  }

  /** Functions called with an argument of unknown shape, with the instances they ran on. */
  private readonly blind = new Map<Node, Set<InstanceV | undefined>>();
  /** Methods that ran on an instance outside a skipped branch. */
  private readonly ranMethods = new Set<Node>();
  /** Functions run on their own after such calls. */
  private readonly ownRuns = new Set<Node>();

  /** An argument of unknown shape: nothing in it can be checked, and nothing said with it. */
  private isBlind(v: Value): boolean {
    return v.kind === 'unknown' || (isTensor(v) && !v.axes && !v.failed);
  }

  private guard(f: () => void): void {
    // Each class, instance or function exercised without a caller names its own sizes: `C` in
    // one block is not `C` in the next (and neither is bound by the other's constructor).
    this.commentSyms.clear();
    try {
      this.steps = Math.min(this.steps, MAX_STEPS - 5000);
      f();
    } catch {
      // User code is data: whatever went wrong leaves the rest unknown.
    }
  }

  private tick(): void {
    if (++this.steps > MAX_STEPS) throw new Budget();
  }

  // ---------------------------------------------------------------- statements

  private block(stmts: Node[], f: Frame): void {
    for (const s of stmts) {
      // A comment is no statement: it costs no step of the budget (the unit cache's key leaves
      // most comments out, so a comment must not change what an evaluation reaches).
      if (!s || s.type === 'comment') continue;
      if (f.ended) return;
      try {
        this.stmt(s, f);
      } catch (e) {
        if (e instanceof Budget) throw e;
      }
    }
  }

  private body(n: Node | null): Node[] {
    return (n?.namedChildren ?? []).filter((x): x is Node => !!x);
  }

  private stmt(s: Node, f: Frame): void {
    this.tick();
    switch (s.type) {
      case 'expression_statement': {
        for (const c of s.namedChildren) if (c) this.exprStmt(c, f);
        return;
      }
      case 'return_statement': {
        const e = s.namedChildren[0];
        const v = e ? this.expr(e, f) : { kind: 'none' as const };
        f.returns.push(v);
        if (this.assuming.length) (f.assumed ??= [])[f.returns.length - 1] = [...this.assuming];
        if (f.vars !== this.globals) f.ended = true;
        // Besides forward's, the returns of masks cut as triangles (a causal-mask helper's result).
        if (f.forward || (isTensor(v) && v.mask?.tri)) this.emit({ kind: 'return', node: s, value: v, params: f.params ?? [], forward: f.forward, function: f.name });
        return;
      }
      case 'if_statement':
        return this.ifStmt(s, f);
      case 'for_statement':
        // A return in a loop's body may not run (no iteration): the code after the loop does.
        try {
          return this.forStmt(s, f);
        } finally {
          f.ended = false;
        }
      case 'while_statement':
        this.openLoops++;
        try {
          return this.block(this.body(s.childForFieldName('body')), f);
        } finally {
          this.openLoops--;
          f.ended = false;
        }
      case 'with_statement':
        return this.block(this.body(s.childForFieldName('body')), f);
      case 'try_statement': {
        // An exception may leave the body before its return.
        this.block(this.body(s.childForFieldName('body')), f);
        f.ended = false;
        return;
      }
      case 'assert_statement':
        return this.assertStmt(s, f);
      case 'match_statement':
        this.matchStmt(s, f);
        f.ended = false;
        return;
      case 'class_definition':
      case 'decorated_definition':
      case 'function_definition': {
        const def = s.type === 'decorated_definition' ? s.childForFieldName('definition') : s;
        const name = def?.childForFieldName('name')?.text;
        if (!def || !name) return;
        const cls = this.b.classOf.get(def) ?? this.b.classes.get(name);
        if (def.type === 'class_definition' && cls) f.vars.set(name, { kind: 'class', cls });
        else if (def.type === 'function_definition') f.vars.set(name, { kind: 'function', node: def, closure: this.closureOf(f) });
        return;
      }
      case 'if_clause':
      default:
        return;
    }
  }

  /** What a function defined in frame f closes over: nothing at module level. */
  private closureOf(f: Frame): Map<string, Value>[] | undefined {
    return f.vars === this.globals ? undefined : [f.vars, ...(f.closure ?? [])];
  }

  private exprStmt(e: Node, f: Frame): void {
    if (e.type === 'assignment') {
      const left = e.childForFieldName('left');
      const right = e.childForFieldName('right');
      const typ = e.childForFieldName('type');
      if (!left) return;
      if (right?.type === 'assignment') {
        // Chained assignment a = b = value: the inner assignment binds b, its value binds a.
        this.exprStmt(right, f);
        let inner: Node = right;
        while (inner.childForFieldName('right')?.type === 'assignment') inner = inner.childForFieldName('right')!;
        const target = inner.childForFieldName('left');
        const v = target ? this.expr(target, f) : UNKNOWN;
        this.assign(left, v, f, right);
        return;
      }
      const outer = this.assignedValue;
      this.assignedValue = right ?? undefined;
      let v: Value = right ? this.expr(right, f) : UNKNOWN;
      this.assignedValue = outer;
      if (typ && (v.kind === 'unknown' || (isTensor(v) && !v.axes))) {
        const seeded = this.fromAnnotation(typ, f);
        if (seeded) v = seeded;
      }
      v = this.seedFromComment(e, left, v, f);
      this.assign(left, v, f, right);
      if (typ) this.declaredAttribute(left, typ, f);
      return;
    }
    if (e.type === 'augmented_assignment') {
      const left = e.childForFieldName('left');
      const right = e.childForFieldName('right');
      const op = e.childForFieldName('operator')?.text.replace('=', '') ?? '+';
      if (!left || !right) return;
      const lv = this.expr(left, f);
      let v = this.binaryValues(op, lv, this.expr(right, f), e);
      // `scores += position_bias` on a tensor is in place: whatever the other operand, the
      // result has the tensor's shape (torch refuses a broadcast that would change it).
      if (isTensor(lv) && lv.axes && !lv.failed && !lv.hypothetical && isTensor(v) && !v.axes && !v.failed && ['+', '-', '*', '/'].includes(op)) v = { ...v, axes: lv.axes, strides: lv.strides };
      this.assign(left, v, f, right);
      return;
    }
    this.expr(e, f);
  }

  /**
   * `self.kv_cache: Optional[KVCache] = None` in `__init__` of an attribute other code assigns:
   * its value is not the one given here, but the annotation says what it is, None or an
   * instance of a module class of the file (built with no caller, so what holds for it holds
   * for every construction).
   */
  private declaredAttribute(left: Node, typ: Node, f: Frame): void {
    const attr = left.type === 'attribute' && left.childForFieldName('object')?.text === 'self' ? left.childForFieldName('attribute')?.text : undefined;
    if (!attr || !f.self || f.name !== '__init__' || !this.b.reassigned.has(attr)) return;
    const text = typ.text.replace(/\s+/g, '');
    const m = /^(?:(?:typing\.)?Optional\[(\w+)\]|(\w+))$/.exec(text);
    const cls = m ? this.b.classes.get(m[1] ?? m[2]) : undefined;
    if (!cls?.isModule || this.active.size > 4) return;
    const inst = this.annotatedModule(typ, cls);
    if (!inst) return;
    f.self.attrs.set(attr, m![1] ? { kind: 'alt', items: [{ kind: 'none' }, inst] } : inst);
  }
  /** The right-hand side of the assignment being evaluated (a size the code names). */
  private assignedValue: Node | undefined;

  /** `x = f(x)  # (B, C, H, W)` seeds an unknown tensor with the comment's names. */
  private seedFromComment(stmt: Node, left: Node, v: Value, f: Frame): Value {
    const names = this.b.resultShapeComments.get(stmt.startPosition.row);
    if (!names || left.type !== 'identifier') return v;
    if (isTensor(v) && v.axes) {
      // A name the code itself binds to a size (`b, t = idx.size()`) is that size: a comment that
      // puts it where the code computes another variable's size is not evidence that they are
      // equal (the code is what runs).
      const contradicts = (size: Dim, name: string) => {
        const local = f.vars.get(name);
        if (local?.kind !== 'int' || !D.asSymbol(this.norm(local.dim)) || this.compare(local.dim, size) !== 'unknown') return false;
        const n = this.norm(size);
        return !!D.asSymbol(n) && [...f.vars.values()].some((x) => x.kind === 'int' && x !== local && D.equal(this.norm(x.dim), n));
      };
      if (v.axes.length === names.length && !v.axes.some((a, i) => contradicts(a.size, names[i]))) v.axes.forEach((a, i) => this.bindName(a.size, names[i]));
      return v;
    }
    // A tensor of unknown shape keeps what is known of its values (a learned bias, a mask).
    if (isTensor(v)) return { ...this.tensorFromNames(names), dtype: v.dtype, learned: v.learned, mask: v.mask, positions: v.positions, rankFromComment: true };
    if (v.kind === 'unknown') return { ...this.tensorFromNames(names), rankFromComment: true };
    return v;
  }

  private readonly commentSyms = new Map<string, Dim>();

  /** A dimension for a name in a shape comment: a constant's value, a known symbol, or a new symbol. */
  private dimForName(n: string, f?: Frame): Dim {
    if (/^\d+$/.test(n)) return D.dconst(Number(n));
    const local = f?.vars.get(n) ?? this.globals.get(n);
    if (local?.kind === 'int') return local.dim;
    const known = this.commentSyms.get(n);
    if (known) return known;
    const d = this.fresh(n);
    this.commentSyms.set(n, d);
    return d;
  }

  private bindName(size: Dim, name: string): void {
    if (/^\d+$/.test(name)) return;
    const known = this.commentSyms.get(name);
    if (known) this.unify(known, size);
    else this.commentSyms.set(name, size);
  }

  private tensorFromNames(names: string[], f?: Frame): TensorV {
    return this.tensor(names.map((n) => this.dimForName(n, f)), names);
  }

  private assign(target: Node, v: Value, f: Frame, valueNode?: Node | null): void {
    switch (target.type) {
      case 'identifier':
        f.vars.set(target.text, v);
        if (isTensor(v) && v.axes) this.record(target, target.text, v, !!f.seeded);
        // A value no context can vouch for removes the line's shape (unless the function's own
        // run without a caller found it: see `record`); a tensor of unknown rank, or any unknown
        // value, in code run without a caller only means no caller said what it is.
        // So does a tensor of unknown rank that a caller passed: the line's shape from another
        // caller need not hold for this one.
        else if ((v.kind === 'unknown' || (isTensor(v) && !v.axes)) && !f.seeded) this.unrecord(target, target.text);
        // A later iteration of a loop whose value nothing is known of: no shape holds for all.
        else if (this.quiet > 0 && (v.kind === 'unknown' || (isTensor(v) && !v.axes))) this.unrecord(target, target.text, true);
        else if (isTensor(v) && v.varies) this.unrecord(target, target.text, true);
        if (v.kind === 'int' && !v.name) f.vars.set(target.text, { ...v, name: target.text });
        return;
      case 'attribute': {
        const obj = target.childForFieldName('object');
        const attr = target.childForFieldName('attribute');
        if (obj?.text === 'self' && attr && f.self) {
          // A value `__init__` gives a name that other code assigns too is one of several: unknown.
          if (f.name === '__init__' && this.b.reassigned.has(attr.text)) {
            f.self.attrs.set(attr.text, UNKNOWN);
            return;
          }
          f.self.attrs.set(attr.text, v.kind === 'int' && !v.name ? { ...v, name: attr.text } : v);
          if (isTensor(v) && v.axes) this.record(target, target.text, v);
        }
        return;
      }
      case 'pattern_list':
      case 'tuple_pattern':
      case 'list_pattern':
      case 'tuple':
      case 'list': {
        const targets = target.namedChildren.filter((x): x is Node => !!x);
        const star = targets.findIndex((t) => t.type === 'list_splat_pattern');
        // Python raises unless the value gives exactly as many items as there are names (at the
        // module's defaults too): the names then hold what an operation shown to raise gives.
        const unpacked: [Dim, TensorV, 'unbind' | 'tensor'] | undefined =
          star >= 0 ? undefined : v.kind === 'tuple' && v.count ? [v.count.size, v.count.of, 'unbind'] : isTensor(v) && v.axes && v.axes.length > 0 && !v.hypothetical && !v.failed ? [v.axes[0].size, v, 'tensor'] : undefined;
        if (unpacked) {
          this.emit({ kind: 'unpack', node: target, names: targets.length, count: unpacked[0], source: unpacked[1], from: unpacked[2] });
          if (!unpacked[1].hypothetical && this.compareAtDefaults(unpacked[0], D.dconst(targets.length)).cmp === 'ne') {
            for (const t of targets) this.assign(t, { kind: 'tensor', failed: true }, f);
            return;
          }
        }
        let items: Value[] | undefined;
        if (v.kind === 'tuple' && v.inexact && star < 0) {
          // A sequence of unknown length unpacks into its representatives.
          if (v.items.length === 1) items = targets.map(() => v.items[0]);
        } else if (v.kind === 'tuple') items = v.items;
        // `for attn, ff in self.layers:` over ModuleLists of modules unpacks their modules.
        else if (v.kind === 'torchmodule' && v.items && (v.type === 'ModuleList' || v.type === 'Sequential') && !v.inexact) items = v.items;
        else if (isTensor(v) && !v.axes && !v.failed && star < 0) {
          // Iterating a tensor of unknown shape gives tensors of unknown shape.
          items = targets.map(() => ({ kind: 'tensor', dtype: v.dtype, hypothetical: v.hypothetical }) as TensorV);
        }
        else if (isTensor(v) && v.axes && v.axes.length > 0 && star < 0 && D.constValue(this.norm(v.axes[0].size)) === targets.length) {
          // Unpacking a tensor iterates its first axis.
          const rest = v.axes.slice(1);
          items = targets.map(() => ({ kind: 'tensor', axes: rest, strides: v.strides?.slice(1), dtype: v.dtype, scale: v.scale, scaleNode: v.scaleNode }) as TensorV);
        }
        if (v.kind === 'tuple' && v.shapeOf && !v.shapeOf.axes && !v.shapeOf.failed && star < 0) {
          // `B, C, H, W = x.shape` on a tensor of unknown rank fixes its rank and names (`b, *axis,
          // d = x.shape` only bounds it from below).
          const names = targets.map((t) => (t.type === 'identifier' ? t.text : '_'));
          const t = v.shapeOf;
          // Fresh sizes named after the targets: `c` unpacked in one call of a helper is not
          // the `c` of another call (two attentions of different widths share the helper).
          const named = names.map((n) => (n === '_' ? `d` : n));
          const fresh = this.tensor(named.map((n) => (/^\d+$/.test(n) ? D.dconst(Number(n)) : this.fresh(n))), named);
          t.axes = fresh.axes;
          t.strides = fresh.strides;
          items = t.axes!.map((a, i) => intV(a.size, names[i]));
        } else if (v.kind === 'tuple' && v.shapeOf && v.shapeOf.axes && star < 0 && v.shapeOf.axes.length === targets.length) {
          targets.forEach((t, i) => {
            if (t.type === 'identifier') {
              const axis = v.shapeOf!.axes![i];
              if (!axis.role) {
                const role = roleFromName(t.text, targets.map((x) => x.text));
                if (role) axis.role = role;
              }
            }
          });
        }
        if (v.kind === 'tuple' && v.shapeOf && !v.shapeOf.axes && !v.shapeOf.failed && star >= 0) {
          // `b, *axis, d = x.shape` on a tensor of unknown rank: `b` and `d` are sizes (its first
          // and last), named after the targets; the rank and `axis` stay unknown.
          targets.forEach((t, i) => {
            if (i === star) this.assign(t.namedChildren[0]!, UNKNOWN, f);
            else this.assign(t, t.type === 'identifier' ? intV(this.fresh(t.text), t.text) : UNKNOWN, f);
          });
          return;
        }
        if (!items) {
          for (const t of targets) this.assign(t.type === 'list_splat_pattern' ? t.namedChildren[0]! : t, UNKNOWN, f);
          return;
        }
        if (star >= 0) {
          const after = targets.length - star - 1;
          targets.forEach((t, i) => {
            if (i < star) this.assign(t, items![i] ?? UNKNOWN, f);
            else if (i === star) this.assign(t.namedChildren[0]!, { kind: 'tuple', items: items!.slice(star, items!.length - after) }, f);
            else this.assign(t, items![items!.length - (targets.length - i)] ?? UNKNOWN, f);
          });
          return;
        }
        if (items.length !== targets.length) {
          for (const t of targets) this.assign(t, UNKNOWN, f);
          return;
        }
        targets.forEach((t, i) => {
          const it = items![i];
          this.assign(t, it.kind === 'int' && t.type === 'identifier' ? { ...it, name: t.text } : it, f);
        });
        return;
      }
      case 'subscript': {
        // `mask[:, :prefix] = True` changes cells of a triangle mask: its triangle is no longer known.
        const obj = target.childForFieldName('value');
        const cur = obj?.type === 'identifier' ? f.vars.get(obj.text) : undefined;
        if (obj && cur && isTensor(cur) && cur.mask?.tri) f.vars.set(obj.text, { ...cur, mask: { ...cur.mask, tri: undefined } });
        return;
      }
      default:
        void valueNode;
        return;
    }
  }

  /**
   * A line's shape. `own`: found by the function's own run without a caller (its inputs and
   * constructor arguments symbolic, its ranks from the code's evidence), which holds for every
   * caller; a caller that passes what nothing can be known of does not remove it.
   */
  private record(node: Node, name: string, t: TensorV, own = false): void {
    if (this.speculative > 0) return; // a skipped branch's values are not what runs
    const key = `${node.startPosition.row}:${name}`;
    // Formatted only where it can change what is shown.
    const format = () => D.formatAll(t.axes!.map((a) => this.norm(a.size)));
    const seen = this.recordParts.get(key);
    if (seen && !seen.record && own && !seen.conflict) this.recordParts.delete(key);
    else if (seen) {
      // The same line in another context (a block built at 32 and at 48 channels): the shape
      // shown is what every context agrees on, `?` where they differ, nothing if the ranks do.
      const rec = seen.record;
      if (own) seen.own = true;
      if (!rec) return;
      if (seen.parts.length !== t.axes!.length) {
        this.records.splice(this.records.indexOf(rec), 1);
        seen.record = undefined;
        seen.conflict = true;
        return;
      }
      if (seen.parts.every((p) => p === '?')) return;
      const parts = format();
      seen.parts = seen.parts.map((p, i) => (p === parts[i] ? p : '?'));
      rec.shape = `(${seen.parts.join(', ')})`;
      return;
    }
    if (this.recordParts.has(key)) return;
    const parts = format();
    const record = { line: node.startPosition.row, column: node.startPosition.column, name, shape: `(${parts.join(', ')})` };
    this.recordParts.set(key, { parts, record, own });
    this.records.push(record);
  }

  private readonly recordParts = new Map<string, { parts: string[]; record?: ShapeRecord; own?: boolean; conflict?: boolean }>();

  /** A context where the line binds a value of unknown shape: no shape is shown there. */
  private unrecord(node: Node, name: string, always = false): void {
    if (this.speculative > 0) return;
    const key = `${node.startPosition.row}:${name}`;
    const seen = this.recordParts.get(key);
    if (seen?.own && !always) return;
    if (seen?.record) this.records.splice(this.records.indexOf(seen.record), 1);
    this.recordParts.set(key, { parts: [], record: undefined, conflict: seen?.conflict });
  }

  /**
   * Whether a size is one positive monomial (`dim * mlp_ratio`, `in_channels // 2`): every
   * symbol of dims.ts stands for a positive value and `//` of symbols is exact, so it is not 0.
   */
  private positiveSize(d: Dim): boolean {
    const n = this.norm(d);
    return n.terms.length === 1 && n.terms[0].coef > 0 && n.terms[0].syms.length > 0;
  }

  private truth(v: Value): boolean | undefined {
    if (v.kind === 'bool') return v.value;
    if (v.kind === 'none') return false;
    if (v.kind === 'int') {
      const c = D.constValue(this.norm(v.dim));
      return c === undefined ? undefined : c !== 0;
    }
    if (v.kind === 'num') return v.value === undefined ? undefined : v.value !== 0;
    if (v.kind === 'str') return v.value.length > 0;
    if (v.kind === 'tensor' && v.optional) return undefined;
    if (v.kind === 'torchmodule' || v.kind === 'instance' || v.kind === 'tensor') return true;
    if (v.kind === 'tuple') return v.items.length > 0;
    return undefined;
  }

  private ifStmt(s: Node, f: Frame): void {
    this.ifStmtNarrowed(s, f);
    // `if hidden_dim != dim: raise ValueError(...)`: from here on the two sizes are one.
    const cond = s.childForFieldName('condition');
    if (cond?.type === 'comparison_operator' && s.childrenForFieldName('alternative').length === 0 && this.exits(s.childForFieldName('consequence'))) {
      const ops = cond.children.filter((c) => c && !c.isNamed).map((c) => c!.text);
      const parts = cond.namedChildren.filter((x): x is Node => !!x);
      if (ops.length === 1 && ops[0] === '!=' && parts.length === 2) {
        const a = this.expr(parts[0], f);
        const b = this.expr(parts[1], f);
        if (a.kind === 'int' && b.kind === 'int') this.unify(a.dim, b.dim, false, true);
      }
    }
  }

  private ifStmtNarrowed(s: Node, f: Frame): void {
    // `if isinstance(x, FakeTensor):`, `elif type(x) is DTensor and …:` — there x is an instance
    // of a class that may add attributes tensors lack: it is a tensor by hypothesis only, in
    // every branch of the statement. After `if not isinstance(x, C): raise`, x is a C from then on.
    const conds = [s.childForFieldName('condition'), ...s.childrenForFieldName('alternative').map((a) => (a?.type === 'elif_clause' ? a.childForFieldName('condition') : null))];
    const narrowed = new Map<string, TensorV>();
    const keep = new Set<string>();
    for (const c of conds) {
      for (const [name, negated] of narrowings(c, false)) {
        const v = f.vars.get(name);
        if (v && isTensor(v) && !v.hypothetical && !narrowed.has(name)) narrowed.set(name, v);
        if (negated && conds.length === 1 && this.exits(s.childForFieldName('consequence'))) keep.add(name);
      }
    }
    if (narrowed.size === 0) return this.ifStmtInner(s, f);
    for (const [name, before] of narrowed) f.vars.set(name, { ...before, hypothetical: true });
    try {
      this.ifStmtInner(s, f);
    } finally {
      for (const [name, before] of narrowed) {
        const after = f.vars.get(name);
        if (after && isTensor(after) && after.hypothetical && after !== before && !keep.has(name)) f.vars.set(name, before);
      }
    }
  }

  /** Whether a block always leaves the code after it (its last statement raises, returns or continues). */
  private exits(body: Node | null): boolean {
    const last = this.body(body).at(-1);
    return last?.type === 'raise_statement' || last?.type === 'return_statement' || last?.type === 'continue_statement';
  }

  private ifStmtInner(s: Node, f: Frame): void {
    const cond = s.childForFieldName('condition');
    const cv = cond ? this.expr(cond, f) : undefined;
    const c = cv ? this.truth(cv) : undefined;
    const cons = this.body(s.childForFieldName('consequence'));
    const alts = s.childrenForFieldName('alternative').filter((x): x is Node => !!x);
    const altBody = (x: Node) => this.body(x.type === 'else_clause' ? x.childForFieldName('body') : x.childForFieldName('consequence'));
    if (c === true) {
      this.block(cons, f);
      this.speculate(alts.map(altBody), f);
      return;
    }
    if (c === false) {
      this.speculate([cons], f);
      const first = alts[0];
      if (!first) return;
      if (first.type === 'elif_clause') {
        // Re-evaluate the elif chain as an if statement of its own.
        const cond2 = first.childForFieldName('condition');
        const c2 = cond2 ? this.truth(this.expr(cond2, f)) : undefined;
        if (c2 === true) return this.block(this.body(first.childForFieldName('consequence')), f);
        if (c2 === false) {
          const rest = alts.slice(1);
          const els = rest.find((x) => x.type === 'else_clause');
          if (rest.length === 1 && els) this.block(this.body(els.childForFieldName('body')), f);
          else if (rest.length) this.branches(rest.map((x) => this.body(x.type === 'else_clause' ? x.childForFieldName('body') : x.childForFieldName('consequence'))), f, !els);
          return;
        }
        return this.branches([this.body(first.childForFieldName('consequence')), ...alts.slice(1).map((x) => this.body(x.type === 'else_clause' ? x.childForFieldName('body') : x.childForFieldName('consequence')))], f, !alts.some((x) => x.type === 'else_clause'));
      }
      return this.block(this.body(first.childForFieldName('body')), f);
    }
    const bodies = [cons, ...alts.map((x) => this.body(x.type === 'else_clause' ? x.childForFieldName('body') : x.childForFieldName('consequence')))];
    const assume = cond ? this.equalityAssumption(cond, f) : undefined;
    // `if self.use_res_connect:` of `stride == 1 and inp == oup`: the branch runs where the sizes are equal.
    const stated = cv?.kind === 'bool' ? cv.implies : undefined;
    this.branches(bodies, f, !alts.some((x) => x.type === 'else_clause'), assume ? [assume] : undefined, stated);
  }

  /** What the branches of the innermost `if`s being evaluated assume of sizes (`n_rep == 1`). */
  private readonly assuming: Assumption[] = [];

  /**
   * `n == 1` with n a size and 1 a literal: the branch it guards may take n as 1 (an early
   * `return x` of `if n_rep == 1:` then has the size the other path writes with n_rep). Where n
   * is one symbol it is also substituted in that branch.
   */
  private equalityAssumption(cond: Node, f: Frame): Assumption | undefined {
    const c = cond.type === 'parenthesized_expression' ? cond.namedChildren[0] : cond;
    if (c?.type !== 'comparison_operator' || c.namedChildren.length !== 2 || c.children.filter((x) => !x.isNamed).map((x) => x.text).join() !== '==') return undefined;
    const [l, r] = c.namedChildren as Node[];
    const lit = [l, r].find((x) => x.type === 'integer');
    const other = lit === l ? r : l;
    // A name or an attribute of one (`n_rep`, `self.n_rep`): read again without side effects.
    if (!lit || !(other.type === 'identifier' || (other.type === 'attribute' && other.childForFieldName('object')?.type === 'identifier'))) return undefined;
    const v = this.expr(other, f);
    const n = Number(lit.text);
    if (v.kind !== 'int' || !Number.isInteger(n) || n === 0) return undefined;
    const e = this.norm(v.dim);
    if (D.isConst(e) || [...D.symbolsOf(e)].some((x) => this.rigid.has(x))) return undefined;
    const sym = D.asSymbol(e);
    return { e, c: n, subst: sym ? new Map([[sym, D.dconst(n)]]) : undefined };
  }

  /**
   * The returns of a function, each path's sizes written as the paths without assumptions write
   * them where that is the same size under the path's assumptions: `if n_rep == 1: return x`
   * returns (…, n_kv, …), which is (…, n_kv * n_rep, …) when n_rep is 1, the other path's.
   */
  private generalizeReturns(f: Frame): Value[] {
    const assumed = f.assumed;
    if (!assumed?.some(Boolean)) return f.returns;
    const general = f.returns.filter((r, i) => !assumed[i] && isTensor(r) && r.axes);
    if (general.length === 0) return f.returns;
    // Equal once e == c: one size is the other times e / c.
    const sameUnder = (a: Dim, b: Dim, as: Assumption[]) =>
      as.some(({ e, c }) => {
        const k = D.mul(e, D.dconst(1 / c));
        return D.equal(this.norm(a), this.norm(D.mul(b, k))) || D.equal(this.norm(b), this.norm(D.mul(a, k)));
      });
    return f.returns.map((r, i) => {
      const as = assumed[i];
      if (!as || !isTensor(r) || !r.axes) return r;
      for (const g of general as TensorV[]) {
        if (g.axes!.length !== r.axes.length) continue;
        let changed = false;
        let all = true;
        const axes = r.axes.map((ax, k) => {
          const gs = g.axes![k].size;
          if (D.equal(this.norm(ax.size), this.norm(gs))) return ax;
          if (!sameUnder(ax.size, gs, as)) {
            all = false;
            return ax;
          }
          changed = true;
          return { ...ax, size: gs };
        });
        if (!changed || !all) continue;
        // A contiguous layout stays contiguous; any other is no longer known.
        const dense = contiguousStrides(r.axes.map((x) => x.size));
        const contiguous = !!r.strides && r.strides.length === dense.length && r.strides.every((st, k) => D.equal(this.norm(st), this.norm(dense[k])));
        return { ...r, axes, strides: contiguous ? contiguousStrides(axes.map((x) => x.size)) : undefined };
      }
      return r;
    });
  }

  /**
   * `match` runs the one case a known subject selects (a literal pattern equal to it, or the
   * first `_` / capture after none matched); with an unknown subject, guards or other patterns,
   * every case is an alternative, as the arms of an if/elif chain are.
   */
  private matchStmt(s: Node, f: Frame): void {
    const subjectNode = s.childForFieldName('subject');
    const subject = subjectNode ? this.expr(subjectNode, f) : UNKNOWN;
    const block = s.childForFieldName('body') ?? s.namedChildren.find((c) => c?.type === 'block') ?? null;
    const cases = (block?.namedChildren ?? []).filter((c): c is Node => c?.type === 'case_clause');
    const bodyOf = (c: Node) => this.body(c.childForFieldName('consequence') ?? c.namedChildren.find((x) => x?.type === 'block') ?? null);
    const known = subject.kind === 'str' ? subject.value : numValue(subject);
    let wildcard = false;
    for (const c of cases) {
      const pats = c.namedChildren.filter((x): x is Node => x?.type === 'case_pattern');
      const guarded = c.namedChildren.some((x) => x?.type === 'if_clause');
      const texts = pats.map((p) => p.text.trim());
      const isWild = !guarded && texts.length === 1 && /^[A-Za-z_]\w*$/.test(texts[0]) && !texts[0].includes('.');
      if (isWild) wildcard = true;
      if (known === undefined || guarded) continue;
      const lit = texts.length === 1 ? this.expr(pats[0].namedChildren[0] ?? pats[0], f) : UNKNOWN;
      const v = lit.kind === 'str' ? lit.value : numValue(lit);
      if (isWild || (v !== undefined && v === known)) return this.block(bodyOf(c), f);
      if (v === undefined) break;
    }
    this.branches(cases.map(bodyOf), f, !wildcard);
  }

  /** Evaluates alternative bodies on copies of the frame and joins what they assign. */
  /** Evaluates branches a known condition skips, for path-independent checks only (see `speculative`). */
  private speculate(bodies: Node[][], f: Frame): void {
    if (bodies.every((b) => b.length === 0)) return;
    const vars = new Map(f.vars);
    const attrs = f.self ? new Map(f.self.attrs) : undefined;
    const returns = f.returns.length;
    const ended = f.ended;
    this.speculative++;
    try {
      for (const body of bodies) {
        f.ended = false;
        this.block(body, f);
        f.vars.clear();
        for (const [k, v] of vars) f.vars.set(k, v);
      }
    } finally {
      this.speculative--;
      f.vars.clear();
      for (const [k, v] of vars) f.vars.set(k, v);
      if (f.self && attrs) {
        f.self.attrs.clear();
        for (const [k, v] of attrs) f.self.attrs.set(k, v);
      }
      f.returns.length = returns;
      // What a skipped branch's returns assumed goes with them (a later return takes the index).
      if (f.assumed && f.assumed.length > returns) f.assumed.length = returns;
      f.ended = ended;
    }
  }

  /** `stated`: sizes the first branch's condition states equal (`if inp == oup:`), one in that branch. */
  private branches(bodies: Node[][], f: Frame, fallthrough: boolean, assumptions?: (Assumption | undefined)[], stated?: [Dim, Dim][]): void {
    const before = new Map(f.vars);
    const selfBefore = f.self ? new Map(f.self.attrs) : undefined;
    const results: Map<string, Value>[] = [];
    // `self.x = …` in a branch is joined like a local: `if self.inter == 0: self.inter = 1`
    // leaves a size that is either, not the branch's 1.
    const selfResults: Map<string, Value>[] = [];
    // What one branch assumes (`unify`) is not assumed by the next: `if stride == 1:` splits the
    // channels in halves where the other branch keeps them whole, and a size chosen by the same
    // condition (`inp if stride > 1 else oup // 2`) is one in each. After the statement a symbol
    // keeps the binding the branches that made one agree on.
    const substBefore = new Map(this.subst);
    const substResults: Map<string, Dim>[] = [];
    for (const [bi, body] of bodies.entries()) {
      this.subst.clear();
      for (const [k, v] of substBefore) this.subst.set(k, v);
      const assume = assumptions?.[bi];
      if (assume) {
        for (const [k, v] of assume.subst ?? []) this.subst.set(k, v);
        this.assuming.push(assume);
      }
      if (bi === 0) for (const [a, b] of stated ?? []) this.unify(a, b, false, true);
      f.vars.clear();
      for (const [k, v] of before) f.vars.set(k, v);
      if (f.self && selfBefore) {
        f.self.attrs.clear();
        for (const [k, v] of selfBefore) f.self.attrs.set(k, v);
      }
      const returnsBefore = f.returns.length;
      f.ended = false;
      try {
        this.block(body, f);
      } finally {
        if (assume) {
          this.assuming.pop();
          // What the branch assumed holds in that branch only.
          for (const k of assume.subst?.keys() ?? []) this.subst.delete(k);
        }
      }
      // The other paths go on after the statement.
      f.ended = false;
      // What a branch worked out under its assumption (n taken as 1) holds in that branch only.
      substResults.push(assume ? new Map(substBefore) : new Map(this.subst));
      const returned = f.returns.length > returnsBefore && body.some((x) => x.type === 'return_statement');
      if (!returned) {
        results.push(new Map(f.vars));
        if (f.self) selfResults.push(new Map(f.self.attrs));
      }
    }
    if (fallthrough) {
      results.push(before);
      if (selfBefore) selfResults.push(selfBefore);
    }
    this.subst.clear();
    for (const [k, v] of substBefore) this.subst.set(k, v);
    const made = new Map<string, Dim | null>();
    for (const r of substResults) {
      for (const [k, v] of r) {
        if (substBefore.has(k)) continue;
        const prev = made.get(k);
        made.set(k, prev === undefined ? v : prev !== null && D.equal(prev, v) ? prev : null);
      }
    }
    for (const [k, v] of made) if (v) this.subst.set(k, v);
    if (f.self && selfBefore && selfResults.length > 0) {
      const attrKeys = new Set<string>();
      for (const r of selfResults) for (const k of r.keys()) attrKeys.add(k);
      f.self.attrs.clear();
      for (const k of attrKeys) {
        const vals = selfResults.map((r) => r.get(k));
        const first = vals[0];
        // Submodules assigned in one branch only are kept (the other branch leaves the name
        // unset, which a later use would not survive); differing values join.
        const set = vals.filter((v): v is Value => v !== undefined);
        f.self.attrs.set(k, set.length < vals.length && set.every((v) => v === set[0]) ? set[0] : vals.every((v) => v === first) ? first! : this.join(vals));
      }
    } else if (f.self && selfBefore && selfResults.length === 0) {
      f.self.attrs.clear();
      for (const [k, v] of selfBefore) f.self.attrs.set(k, v);
    }
    f.vars.clear();
    if (results.length === 0) {
      for (const [k, v] of before) f.vars.set(k, v);
      return;
    }
    const keys = new Set<string>();
    for (const r of results) for (const k of r.keys()) keys.add(k);
    for (const k of keys) {
      const vals = results.map((r) => r.get(k));
      f.vars.set(k, this.join(vals));
    }
  }

  /**
   * The scores of one product on every path (`scores = scores + mask` under `if mask is not
   * None`): the scale both paths agree on, else an unknown one (which silences the scale rule).
   */
  private joinScores(ts: TensorV[]): TensorV['scores'] {
    const s = ts[0].scores;
    if (!s || !ts.every((v) => v.scores && v.scores.node === s.node)) return undefined;
    const all = ts.map((v) => v.scores!);
    const sameScale = (a: ScaleFact | undefined, b: ScaleFact | undefined) => a === b || (!!a && !!b && a.exp === b.exp && (a.base === b.base || (!!a.base && !!b.base && this.same(a.base, b.base))));
    const out: NonNullable<TensorV['scores']> = { ...s, scale: all.every((x) => sameScale(x.scale, s.scale)) ? s.scale : { exp: 0 } };
    if (!all.every((x) => x.scaleNode === s.scaleNode)) out.scaleNode = undefined;
    if (all.some((x) => x.learnedBias)) out.learnedBias = true;
    if (!all.every((x) => x.added01 === s.added01)) out.added01 = undefined;
    if (!all.every((x) => x.acrossHeads === s.acrossHeads)) out.acrossHeads = undefined;
    return out;
  }

  /** Whether two merged axes were made of parts of the same sizes, in the same order. */
  private sameParts(a: Axis[] | undefined, b: Axis[]): boolean {
    return !!a && a.length === b.length && a.every((x, i) => this.same(x.size, b[i].size));
  }

  private join(vals: (Value | undefined)[]): Value {
    const first = vals[0];
    if (!first) return UNKNOWN;
    if (vals.every((v) => v === first)) return first;
    if (vals.every((v) => isTensor(v) && v.axes && first.kind === 'tensor' && first.axes && v.axes.length === first.axes.length && v.axes.every((a, i) => this.same(a.size, first.axes![i].size)))) {
      // The join keeps the facts every branch agrees on (a fused-attention branch and its
      // fallback both leave a contiguous (B, H, T, D): the layout survives the join).
      const ts = vals as TensorV[];
      const t = ts[0];
      const agree = <K extends keyof TensorV>(k: K) => ts.every((v) => v[k] === t[k]);
      const axes = t.axes!.map((a, i) => {
        const ax: Axis = { size: a.size };
        if (ts.every((v) => v.axes![i].role === a.role) && a.role) ax.role = a.role;
        if (ts.every((v) => v.axes![i].label === a.label) && a.label) ax.label = a.label;
        if (a.parts && ts.every((v) => this.sameParts(v.axes![i].parts, a.parts!))) ax.parts = a.parts;
        if (ts.every((v) => v.axes![i].leadToken)) ax.leadToken = true;
        return ax;
      });
      const out: TensorV = { kind: 'tensor', axes, dtype: agree('dtype') ? t.dtype : undefined };
      if (ts.every((v) => v.strides && v.strides.length === t.strides!.length && v.strides.every((d, i) => this.same(d, t.strides![i])))) out.strides = t.strides;
      if (agree('normAxis') && t.normAxis !== undefined) out.normAxis = t.normAxis;
      if (agree('lastPermute') && t.lastPermute) out.lastPermute = t.lastPermute;
      if (t.mask && ts.every((v) => sameMask(v.mask, t.mask))) out.mask = t.mask;
      out.maskOf = sameOrigin(ts);
      if (ts.some((v) => v.hypothetical)) out.hypothetical = true;
      // A bias that is learned on one path may be the learned one (T5's first layer).
      if (ts.some((v) => v.learned)) out.learned = true;
      const scores = this.joinScores(ts);
      if (scores) out.scores = scores;
      return out;
    }
    // An optional mask (`mask = None`, then built under a condition nobody knows): where code
    // uses it, it is the mask built.
    const built = vals.filter((v) => v?.kind !== 'none');
    if (built.length > 0 && built.length < vals.length && built.every((v) => isTensor(v) && v.mask)) return this.join(built);
    // A tensor on some paths and None on the others: the tensor, where code uses it.
    if (built.length > 0 && built.length < vals.length && built.every((v) => isTensor(v))) {
      const t = this.join(built);
      if (isTensor(t)) return { ...t, optional: true };
    }
    // Tensors of one rank whose sizes differ on some axes (`return x` when `n_rep == 1`, else
    // the repeated heads) keep the rank and the sizes they agree on; each other axis gets a size
    // of its own that nothing is known of.
    if (vals.every((v) => isTensor(v) && v.axes && first.kind === 'tensor' && first.axes && v.axes.length === first.axes.length)) {
      const ts = vals as TensorV[];
      const t = ts[0];
      const axes = t.axes!.map((a, i) => {
        const ax: Axis = { size: ts.every((v) => this.same(v.axes![i].size, a.size)) ? a.size : this.freshRigid('?') };
        if (ts.every((v) => v.axes![i].role === a.role) && a.role) ax.role = a.role;
        if (ax.size === a.size && a.parts && ts.every((v) => this.sameParts(v.axes![i].parts, a.parts!))) ax.parts = a.parts;
        return ax;
      });
      const out: TensorV = { kind: 'tensor', axes };
      const contiguous = (v: TensorV) => !!v.strides && contiguousStrides(v.axes!.map((a) => a.size)).every((d, i) => this.same(d, v.strides![i]));
      if (ts.every(contiguous)) out.strides = contiguousStrides(axes.map((a) => a.size));
      if (ts.every((v) => v.dtype === t.dtype)) out.dtype = t.dtype;
      if (t.mask && ts.every((v) => sameMask(v.mask, t.mask))) out.mask = t.mask;
      out.maskOf = sameOrigin(ts);
      if (ts.some((v) => v.learned)) out.learned = true;
      // A value that is a tensor only by hypothesis on some path stays one.
      if (ts.some((v) => v.hypothetical)) out.hypothetical = true;
      const scores = this.joinScores(ts);
      if (scores) out.scores = scores;
      return out;
    }
    // Tensors of different ranks join to a tensor of unknown shape that keeps what may hold
    // on either path (a learned bias, a value that is a tensor only by hypothesis).
    if (vals.every((v) => isTensor(v))) {
      const ts = vals as TensorV[];
      const out: TensorV = { kind: 'tensor', maskOf: sameOrigin(ts) };
      if (ts.some((v) => v.learned)) out.learned = true;
      if (ts.some((v) => v.hypothetical)) out.hypothetical = true;
      if (ts.every((v) => v.dtype === ts[0].dtype)) out.dtype = ts[0].dtype;
      const scores = this.joinScores(ts);
      if (scores) out.scores = scores;
      return out;
    }
    if (vals.every((v) => v?.kind === 'int' && first.kind === 'int' && this.same(v.dim, first.dim))) return first;
    // Sizes that differ by path (`in_channels // 2`, or 1 when that is 0) are one size that
    // nothing is known of, the same wherever this value is used.
    if (vals.every((v) => v?.kind === 'int')) {
      const name = (vals as IntV[]).find((v) => v.name)?.name;
      return intV(this.freshRigid(name ?? '?'), name);
    }
    if (vals.every((v) => v?.kind === 'none')) return first;
    // Numbers that differ by path (`1e-5 if x.dtype == torch.float32 else 1e-3`) are a number.
    if (vals.every((v) => v?.kind === 'num')) {
      const value = (first as NumV).value;
      return vals.every((v) => (v as NumV).value === value) && value !== undefined ? { kind: 'num', value } : { kind: 'num' };
    }
    // Modules chosen by a condition that is not known stay callable: each alternative is called.
    const callable = (v: Value | undefined): boolean => v?.kind === 'torchmodule' || (v?.kind === 'instance' && v.cls.isModule) || v?.kind === 'none' || v?.kind === 'alt';
    if (vals.every(callable) && vals.some((v) => v?.kind !== 'none')) {
      const items: Value[] = [];
      for (const v of vals as Value[]) for (const x of v.kind === 'alt' ? v.items : [v]) if (!items.includes(x)) items.push(x);
      if (items.length <= 4) return { kind: 'alt', items };
    }
    return UNKNOWN;
  }

  private forStmt(s: Node, f: Frame): void {
    const left = s.childForFieldName('left');
    const right = s.childForFieldName('right');
    const body = this.body(s.childForFieldName('body'));
    if (!left || !right) return;
    const it = this.expr(right, f);
    let items: Value[] | undefined;
    if (it.kind === 'torchmodule' && it.items) items = it.items;
    else if (it.kind === 'tuple') items = it.items;
    // A list of unknown length (stages built in a loop): its representative items, each
    // possibly run any number of times.
    if (items && ((it.kind === 'tuple' && it.inexact) || (it.kind === 'torchmodule' && it.inexact))) {
      const reps = items.length > 0 ? items.slice(0, 4) : [UNKNOWN];
      this.openLoops++;
      try {
        for (const item of reps) {
          this.assign(left, item, f);
          this.branches([body], f, true);
        }
      } finally {
        this.openLoops--;
      }
      return;
    }
    if (items && items.length <= 16) {
      for (const item of items) {
        this.assign(left, item, f);
        this.block(body, f);
      }
      return;
    }
    this.assign(left, UNKNOWN, f);
    this.openLoops++;
    try {
      const before = new Map(f.vars);
      this.branches([body], f, true);
      // A value one iteration hands the next (`idx = torch.cat((idx, idx_next), dim=1)`): the
      // body runs once more from the join of the states before and after one iteration, so the
      // shapes shown hold for every iteration. That run reports nothing (the first one did).
      if ([...before].some(([k, v]) => f.vars.get(k) !== v)) {
        this.quiet++;
        try {
          this.branches([body], f, true);
        } finally {
          this.quiet--;
        }
      }
    } finally {
      this.openLoops--;
    }
  }

  /** Above 0 while a loop body runs again for its shapes only: no event gets through. */
  private quiet = 0;

  /** Loops being evaluated whose number of iterations is unknown. */
  private openLoops = 0;

  private assertStmt(s: Node, f: Frame): void {
    const e = s.namedChildren[0];
    // `assert isinstance(x, NestedTensor)`: from here on x is such an instance.
    for (const [name, negated] of narrowings(e ?? null, false)) {
      const v = f.vars.get(name);
      if (!negated && v && isTensor(v) && !v.hypothetical) f.vars.set(name, { ...v, hypothetical: true });
    }
    if (!e || e.type !== 'comparison_operator') return;
    if (this.failingDivisibility(s, e, f)) return;
    const ops = e.children.filter((c) => c && !c.isNamed).map((c) => c!.text);
    const parts = e.namedChildren.filter((x): x is Node => !!x);
    if (ops.length !== 1 || ops[0] !== '==' || parts.length !== 2) return;
    const a = this.expr(parts[0], f);
    const b = this.expr(parts[1], f);
    if (a.kind === 'int' && b.kind === 'int') {
      this.unify(a.dim, b.dim, false, true);
      // `assert L == H * W`: the order the product is written in is the tokens' layout.
      for (const p of parts) {
        const [l, r] = p.type === 'binary_operator' && p.childForFieldName('operator')?.text === '*' ? [p.childForFieldName('left'), p.childForFieldName('right')] : [];
        if (!l || !r || l.type === 'binary_operator' || r.type === 'binary_operator') continue;
        const x = this.expr(l, f);
        const y = this.expr(r, f);
        if (x.kind === 'int' && y.kind === 'int' && !D.isConst(this.norm(x.dim)) && !D.isConst(this.norm(y.dim))) this.statedOrders.push([x.dim, y.dim]);
      }
    }
    else if (a.kind === 'tuple' && b.kind === 'tuple' && a.items.length === b.items.length) {
      a.items.forEach((x, i) => {
        const y = b.items[i];
        if (x.kind === 'int' && y.kind === 'int') this.unify(x.dim, y.dim, false, true);
      });
    } else if (a.kind === 'tuple' && a.shapeOf && !a.shapeOf.axes && b.kind === 'tuple') {
      const t = a.shapeOf;
      const sizes = b.items.map((x) => (x.kind === 'int' ? x.dim : this.fresh('d')));
      const fresh = this.tensor(sizes, b.items.map((x) => (x.kind === 'int' ? x.name : undefined)));
      t.axes = fresh.axes;
      t.strides = fresh.strides;
    }
  }

  /**
   * `assert n_embd % n_head == 0` with numbers that do not divide (a config's defaults): the
   * event for the rules, and a constructor that raises marks its instance as failed, so its
   * `forward` (which would split the width into heads) is not evaluated.
   */
  private failingDivisibility(s: Node, e: Node, f: Frame): boolean {
    const parts = e.namedChildren.filter((x): x is Node => !!x);
    const ops = e.children.filter((c) => c && !c.isNamed).map((c) => c!.text);
    if (ops.length !== 1 || ops[0] !== '==' || parts.length !== 2 || parts[1].text !== '0' || parts[0].type !== 'binary_operator') return false;
    if (parts[0].childForFieldName('operator')?.text !== '%') return false;
    const l = parts[0].childForFieldName('left');
    const r = parts[0].childForFieldName('right');
    if (!l || !r) return false;
    const a = this.expr(l, f);
    const b = this.expr(r, f);
    if (a.kind !== 'int' || b.kind !== 'int') return false;
    // With no caller the sizes are named after their parameters: the assert is judged at their
    // defaults, and the constructor goes on (another construction may pass sizes that divide).
    const ad = this.valueAtDefaults(a.dim);
    const bd = this.valueAtDefaults(b.dim);
    const av = ad.value;
    const bv = bd.value;
    if (av === undefined || bv === undefined || !Number.isInteger(av) || !Number.isInteger(bv) || bv <= 0 || av % bv === 0) return false;
    this.emit({ kind: 'assert', node: s, dividend: l, divisor: r, values: [av, bv], dims: [a.dim, b.dim] });
    if (ad.assumed.length || bd.assumed.length) return false;
    if (f.self && !f.forward && this.speculative === 0) {
      f.self.failed = true;
      f.self.called = true;
    }
    return true;
  }

  // ---------------------------------------------------------------- functions and classes

  private params(fn: Node): readonly Param[] {
    let out = PARAMS.get(fn);
    if (!out) PARAMS.set(fn, (out = paramsOf(fn)));
    return out;
  }

  /** A tensor from a jaxtyping annotation `Float[Tensor, "b c h w"]` or a `# (B, C)` comment. */
  private fromAnnotation(ann: Node, f: Frame): TensorV | undefined {
    const txt = ann.text;
    const m = /\[\s*[\w.]+\s*,\s*["']([^"']*)["']\s*\]/.exec(txt);
    if (m) {
      const names = m[1].trim().split(/\s+/).filter(Boolean);
      if (names.some((n) => n.startsWith('*') || n === '...')) return undefined;
      return this.tensorFromNames(names.map((n) => n.replace(/^_/, '')), f);
    }
    return undefined;
  }

  private seedParam(fn: Node, p: { name: string; node: Node; ann?: Node }, index: number, f: Frame): Value {
    if (p.ann) {
      const t = this.fromAnnotation(p.ann, f);
      if (t) return t;
    }
    // A shape comment on the parameter's line or in the docstring: `x: (B, C, H, W)`.
    const line = p.node.startPosition.row;
    const names = this.b.shapeComments.get(line);
    const defLine = fn.startPosition.row;
    if (names && (line !== defLine || this.paramsOnLine(fn, line) === 1 || index === 0)) return this.tensorFromNames(names, f);
    const doc = this.docShape(fn, p.name);
    if (doc) return this.tensorFromNames(doc, f);
    if (p.ann && !isTensorAnnotation(p.ann.text)) return this.annotatedModule(p.ann) ?? this.fromTypeAnnotation(p.ann, p.name);
    // What the body does with it may fix its rank: `q = self.q_proj(q); b, n, c = q.shape`.
    const fact = this.rankOf(fn, index, f);
    if (fact && fact.rank > 0 && fact.rank <= 8) {
      const names = Array.from({ length: fact.rank }, (_, i) => fact.names?.[i] ?? `${p.name}${i}`);
      return { ...this.tensor(names.map((n) => this.fresh(n)), names), hypothetical: p.ann ? undefined : true };
    }
    if (p.ann) return { kind: 'tensor' };
    // No evidence either way: a tensor for tensor methods, silent for anything else.
    return { kind: 'tensor', hypothetical: true };
  }

  /** One instance per module class, built with no caller, for parameters annotated with the class. */
  private readonly annotatedInstances = new Map<ClassInfo, InstanceV>();

  /**
   * `model: TinyDecoder` in a function nobody calls: an instance of that module class of the
   * file, built with no caller (its sizes named after its parameters), so what holds for it
   * holds for every construction of the class.
   */
  private annotatedModule(ann: Node, declared?: ClassInfo): InstanceV | undefined {
    const cls = declared ?? this.b.classes.get(ann.text.replace(/\s+/g, '').replace(/^["']|["']$/g, ''));
    if (!cls?.isModule) return undefined;
    let inst = this.annotatedInstances.get(cls);
    if (!inst) {
      inst = this.instantiate(cls, [], {}, undefined, true);
      this.annotatedInstances.set(cls, inst);
    }
    return inst.failed ? undefined : inst;
  }

  /**
   * The rank the body of `fn` fixes for its parameter at `index`, as `rankOfParameter` reads it
   * with the frame's callees. A parameter seeded with no caller is read in a frame that holds only
   * `self` and the parameters seeded before it, so the answer is the same for one `self` each
   * time the function runs without a caller: it is read once per `self` and evaluation.
   */
  private rankOf(fn: Node, index: number, f: Frame): RankFact | undefined {
    const plain = [...f.vars.entries()].every(([k, v]) => k === 'self' || (v.kind !== 'instance' && v.kind !== 'torchmodule' && v.kind !== 'function' && v.kind !== 'class'));
    if (!plain) return rankOfParameter(fn, index, this.rankEnv(f));
    const owner: object = f.self ?? this.rankMemoNoSelf;
    let byFn = this.rankMemo.get(owner);
    if (!byFn) this.rankMemo.set(owner, (byFn = new WeakMap()));
    let memo = byFn.get(fn);
    if (!memo) byFn.set(fn, (memo = new Map()));
    // What the rank reading asks of the frame's other names: whether each is a number.
    const numeric = (v: Value) => v.kind === 'int' || v.kind === 'num' || (isTensor(v) && !!v.axes && v.axes.length <= 1);
    const key = `${index}:${[...f.vars].map(([k, v]) => `${k}${numeric(v) ? '#' : ''}`).join(',')}`;
    if (memo.has(key)) return memo.get(key);
    const fact = rankOfParameter(fn, index, this.rankEnv(f));
    memo.set(key, fact);
    return fact;
  }

  private readonly rankMemo = new WeakMap<object, WeakMap<Node, Map<string, RankFact | undefined>>>();
  private readonly rankMemoNoSelf = {};

  /** The rank environment of a module instance's own `forward` (a frame of only `self`), one per instance and evaluation. */
  private instanceRankEnv(m: InstanceV): RankEnv {
    let env = this.instanceEnvs.get(m);
    if (!env) this.instanceEnvs.set(m, (env = this.rankEnv({ vars: new Map(), returns: [], forward: true, self: m })));
    return env;
  }

  private readonly instanceEnvs = new WeakMap<InstanceV, RankEnv>();

  /** What the rank scan needs to know of callees and numbers, from the frame being seeded. */
  private rankEnv(f: Frame): RankEnv {
    let nesting = 0;
    const moduleRank = (m: Value | undefined): CalleeRank | undefined => {
      if (!m) return undefined;
      if (m.kind === 'torchmodule') {
        if (RANK_SAME_MODULES.has(m.type)) return { kind: 'keep', sameShape: true };
        if (m.type === 'Linear' || m.type === 'LazyLinear') return { kind: 'keep', sameShape: false };
        if (RANK_ADDING[m.type]) return { kind: 'shift', by: RANK_ADDING[m.type] };
        const r = BATCHED_RANK[m.type];
        if (r) return { kind: 'sink', rank: r, names: ['B', 'C', ...['L', 'H,W', 'D,H,W'][r - 3].split(',')] };
        if (m.type === 'MultiheadAttention') {
          const bf = margs(m, ['embed_dim', 'num_heads', 'dropout', 'bias', 'add_bias_kv', 'add_zero_attn', 'kdim', 'vdim', 'batch_first']).batch_first ?? { kind: 'bool', value: false };
          if (bf.kind === 'bool' && bf.value !== undefined) return { kind: 'sink', rank: 3, names: bf.value ? ['N', 'L', 'E'] : ['L', 'N', 'E'] };
          return undefined;
        }
        if (m.type === 'Sequential' && m.items && !m.inexact && m.items.length > 0) {
          const parts = m.items.map(moduleRank);
          if (parts[0]?.kind === 'sink') return parts[0];
          if (parts.every((x) => x?.kind === 'keep')) return { kind: 'keep', sameShape: parts.every((x) => x?.kind === 'keep' && x.sameShape) };
        }
        return undefined;
      }
      if (m.kind === 'instance' && m.cls.isModule) {
        const fwd = findMethod(m.cls, 'forward');
        return fwd ? { kind: 'function', node: fwd, index: 1, env: m === f.self ? undefined : this.instanceRankEnv(m) } : undefined;
      }
      if (m.kind === 'alt') {
        // `LayerScale(dim) if init_values else nn.Identity()`: a module of the file keeps the
        // rank when every return of its forward gives its input's rank.
        const parts = m.items.filter((x) => x.kind !== 'none').map((x): CalleeRank | undefined => {
          const r = moduleRank(x);
          if (r?.kind !== 'function' || nesting > 1) return r;
          nesting++;
          try {
            const k = keepsParameter(r.node, r.index, r.env ?? env);
            return k === undefined ? undefined : { kind: 'keep', sameShape: k };
          } finally {
            nesting--;
          }
        });
        if (parts.length && parts.every((x) => x?.kind === 'keep')) return { kind: 'keep', sameShape: parts.every((x) => x?.kind === 'keep' && x.sameShape) };
      }
      return undefined;
    };
    // A helper of the file whose docstring or comments declare the parameter's shape
    // (`""" (B,) lengths -> (B, S) bool """`) takes that rank, as its own run without a caller does.
    const fileFunction = (node: Node, index: number): CalleeRank => {
      const p = this.params(node)[index];
      const doc = p?.kind === 'plain' && !p.ann ? this.docShape(node, p.name) : undefined;
      return doc ? { kind: 'sink', rank: doc.length, names: doc } : { kind: 'function', node, index };
    };
    const isNum = (v: Value | undefined) => v?.kind === 'int' || v?.kind === 'num' || (!!v && isTensor(v) && !!v.axes && v.axes.length <= 1);
    const env: RankEnv = {
      callee: (fn, index) => {
        if (fn.type === 'attribute' && fn.childForFieldName('object')?.text === 'self' && f.self) {
          const name = fn.childForFieldName('attribute')?.text ?? '';
          const v = f.self.attrs.get(name);
          if (v) {
            const r = moduleRank(v);
            if (r?.kind === 'function') return { ...r, index: r.index + index };
            // A layer's input is its first argument; nn.MultiheadAttention's are query, key and value.
            const mha = v.kind === 'torchmodule' && v.type === 'MultiheadAttention';
            return index === 0 || (mha && index <= 2) ? r : undefined;
          }
          const m = findMethod(f.self.cls, name);
          return m ? fileFunction(m, index + 1) : undefined;
        }
        if (fn.type === 'identifier') {
          const g = this.b.functions.get(fn.text);
          if (g && !f.vars.has(fn.text)) return fileFunction(g, index);
          // `model(x)` with `model` a parameter holding a module of the file.
          const local = f.vars.get(fn.text);
          if (local?.kind === 'instance') {
            const r = moduleRank(local);
            return r?.kind === 'function' ? { ...r, index: r.index + index } : undefined;
          }
          // `self(idx)` in a module's method runs its forward.
          const fwd = fn.text === 'self' && f.self?.cls.isModule ? findMethod(f.self.cls, 'forward') : undefined;
          if (fwd) return { kind: 'function', node: fwd, index: index + 1 };
          // `for layer in self.layers: x = layer(x)`: the first call is the first item's, and
          // what it fixes of its input holds when every item is of one class of the file.
          const items = loopModules(fn, f.self);
          const first = items?.[0];
          if (first?.kind === 'instance' && items!.every((x) => x.kind === 'instance' && x.cls === first.cls)) {
            const r = moduleRank(first);
            if (r?.kind === 'function') return { ...r, index: r.index + index };
          }
        }
        // `F.avg_pool2d(x, (x.size(2), x.size(3)))` pools a batch of maps, as its layer does;
        // `F.conv2d(x, w)` convolves one.
        const pool = index === 0 && fn.type === 'attribute' ? /^torch\.nn\.functional\.((?:avg|max)_pool[123]d|adaptive_(?:avg|max)_pool[123]d|conv[123]d)$/.exec(qualify(this.b, fn.text) ?? '') : null;
        if (pool) {
          // avg_pool2d -> AvgPool2d, adaptive_max_pool1d -> AdaptiveMaxPool1d.
          const r = BATCHED_RANK[pool[1].replace(/(?:^|_)(\w)/g, (_, c: string) => c.toUpperCase())];
          if (r) return { kind: 'sink', rank: r, names: ['B', 'C', ...['L', 'H,W', 'D,H,W'][r - 3].split(',')] };
        }
        return undefined;
      },
      isNumber: (n) => {
        if (n.type === 'attribute' && n.childForFieldName('object')?.text === 'self') return isNum(f.self?.attrs.get(n.childForFieldName('attribute')?.text ?? ''));
        if (n.type === 'identifier') return isNum(f.vars.get(n.text) ?? this.globals.get(n.text));
        if (n.type === 'call') return /^math\.\w+$/.test(n.childForFieldName('function')?.text ?? '');
        if (n.type === 'binary_operator') {
          const l = n.childForFieldName('left');
          const r = n.childForFieldName('right');
          return !!l && !!r && (l.type === 'integer' || l.type === 'float' || env.isNumber(l)) && (r.type === 'integer' || r.type === 'float' || env.isNumber(r));
        }
        return false;
      },
    };
    return env;
  }

  /**
   * A seeded value for a parameter annotated with a type that is not a tensor: numbers for
   * `int`/`float`/`bool`, an object of named sizes for a class of the file (a config dataclass),
   * and unknown for everything else (`nn.Module`, `dict`, `Dict[str, Tensor]`, `str`, `Any`).
   */
  private fromTypeAnnotation(ann: Node, name: string, chosen = false): Value {
    const t = ann.text.replace(/\s+/g, '');
    if (/^(int|Optional\[int\]|int\|None)$/.test(t)) return intV(chosen ? this.freeSize(name) : this.fresh(name), name);
    if (/^(float|Optional\[float\])$/.test(t)) return { kind: 'num' };
    if (/^bool$/.test(t)) return { kind: 'bool' };
    // `size: Tuple[int, int]`: a tuple of that many named sizes.
    const ints = /^(?:typing\.)?[Tt]uple\[(int(?:,int)*)\]$/.exec(t);
    if (ints) return { kind: 'tuple', items: ints[1].split(',').map((_, i) => intV(chosen ? this.freeSize(`${name}${i}`) : this.fresh(`${name}${i}`), `${name}${i}`)), written: 'tuple' };
    // `features: List[Tensor]`: tensors of unknown shape, how many unknown.
    const seq = /^(?:typing\.)?(?:(List|list|Sequence)\[(?:torch\.)?Tensor\]|(Tuple|tuple)\[(?:torch\.)?Tensor,\.\.\.\])$/.exec(t);
    if (seq) return { kind: 'tuple', items: [{ kind: 'tensor' }], inexact: true, written: seq[2] ? 'tuple' : 'list' };
    const cls = this.b.classes.get(t.replace(/^["']|["']$/g, ''));
    if (cls && !cls.isModule) return this.symObj(name, cls);
    return UNKNOWN;
  }

  /** An object of named sizes for a parameter, with the annotated fields of `cls` when given. */
  private symObj(name: string, cls?: ClassInfo): SymObjV {
    const fields = cls ? new Map<string, string | undefined>() : undefined;
    const defaults = new Map<string, Node>();
    for (let c: ClassInfo | undefined = cls; c; c = c.base) {
      for (const st of c.node.childForFieldName('body')?.namedChildren ?? []) {
        const a = st.type === 'expression_statement' ? st.namedChildren[0] : undefined;
        const left = a?.type === 'assignment' ? a.childForFieldName('left') : undefined;
        if (!a || !left || left.type !== 'identifier' || fields!.has(left.text)) continue;
        fields!.set(left.text, a.childForFieldName('type')?.text);
        const right = a.childForFieldName('right');
        if (right) defaults.set(left.text, right);
      }
    }
    return { kind: 'symobj', name, attrs: new Map(), fields, defaults };
  }

  /**
   * The file's configuration class that an unannotated parameter (`def __init__(self, config)`)
   * most likely is: the one class of the file that is not a module, declares annotated fields and
   * has every attribute the constructor reads from the parameter. Undefined when there is not
   * exactly one.
   */
  private configClassFor(fn: Node, name: string): ClassInfo | undefined {
    const read = new Set<string>();
    walkNamed(fn, (n) => {
      if (n.type === 'attribute' && n.childForFieldName('object')?.text === name) read.add(n.childForFieldName('attribute')?.text ?? '');
    });
    if (read.size === 0) return undefined;
    const fits = this.b.classList.filter((c) => {
      if (c.isModule) return false;
      const o = this.symObj(name, c);
      return o.fields!.size > 0 && [...o.fields!.values()].every((t) => t !== undefined) && [...read].every((r) => o.fields!.has(r));
    });
    return fits.length === 1 ? fits[0] : undefined;
  }

  /** `config.n_embd` on an object of named sizes: the same symbol on every read. */
  private symObjAttribute(o: SymObjV, name: string): Value {
    const known = o.attrs.get(name);
    if (known) return known;
    const ann = o.fields?.get(name)?.replace(/\s+/g, '');
    let v: Value;
    if (o.fields && !o.fields.has(name)) v = UNKNOWN;
    else if (ann === undefined || /^(int|Optional\[int\])$/.test(ann)) {
      v = intV(this.freeSize(name), name);
      // `n_head: int = 4`: the configuration's own default, for `compareAtDefaults`.
      const def = o.defaults?.get(name);
      const dv = def?.type === 'integer' ? Number(def.text.replace(/_/g, '')) : undefined;
      if (dv !== undefined && Number.isInteger(dv) && dv > 0) this.defaults.set(D.asSymbol(v.dim)!, D.dconst(dv));
    }
    else if (/^(float|Optional\[float\])$/.test(ann)) v = { kind: 'num' };
    else if (ann === 'bool') v = { kind: 'bool' };
    else v = UNKNOWN;
    o.attrs.set(name, v);
    return v;
  }

  /** Whether the body of `fn` reads attributes of its parameter `name` (`config.n_embd`). */
  private readsAttributes(fn: Node, name: string): boolean {
    let memo = this.attrReaders.get(fn);
    if (!memo) {
      const readers = (memo = new Set());
      walkNamed(fn, (n) => {
        const o = n.type === 'attribute' ? n.childForFieldName('object') : null;
        if (o?.type === 'identifier') readers.add(o.text);
      });
      this.attrReaders.set(fn, memo);
    }
    return memo.has(name);
  }

  private readonly attrReaders = new Map<Node, Set<string>>();

  /** Sizes stated as a product of two, in the order written (see `OpHost.statedOrder`). */
  private readonly statedOrders: [Dim, Dim][] = [];

  private paramsOnLine(fn: Node, line: number): number {
    return this.params(fn).filter((p) => p.node.startPosition.row === line && p.name !== 'self').length;
  }

  /** `x: (B, L, C)` or `x (B, L, C)` in the docstring or in comments at the top of the body. */
  private docShape(fn: Node, name: string): string[] | undefined {
    let byName = DOC_SHAPES.get(fn);
    if (!byName) DOC_SHAPES.set(fn, (byName = new Map()));
    if (!byName.has(name)) byName.set(name, docShapeOf(fn, name));
    return byName.get(name);
  }

  /** Binds arguments to parameters; missing ones take defaults, or seeds when `seed`. */
  private bindArgs(fn: Node, args: Value[], kwargs: Record<string, Value>, f: Frame, seed: boolean, skipSelf: boolean): Value[] {
    const ps = this.params(fn);
    let i = 0;
    const bound: Value[] = [];
    ps.forEach((p, idx) => {
      if (skipSelf && idx === 0) return;
      let v: Value | undefined;
      if (p.kind === 'star') {
        // *args of a seeded call has no caller: its length is unknown, not zero.
        v = seed && i >= args.length ? UNKNOWN : { kind: 'tuple', items: args.slice(i) };
        i = args.length;
      } else if (p.kind === 'kwstar') {
        // **kwargs of a real call is exactly the keywords no named parameter took; a seeded
        // call has no caller, so its keywords stay unknown (not empty).
        const named = new Set(ps.filter((q) => q.kind === 'plain').map((q) => q.name));
        v = seed ? UNKNOWN : { kind: 'dict', items: Object.fromEntries(Object.entries(kwargs).filter(([k]) => !named.has(k) && k !== '*' && k !== '**')) };
      }
      else if (i < args.length) v = args[i++];
      else if (p.name in kwargs) v = kwargs[p.name];
      if (v === undefined && p.def && !(seed && this.isTensorish(p))) {
        v = this.expr(p.def, { vars: new Map(), returns: [], forward: false });
        // With no caller, an integer default is one choice among many (heads=8 is built with 4
        // as often): the size is named after the parameter, so shapes hold for every choice.
        if (seed && v.kind === 'int' && D.constValue(v.dim) !== undefined && D.constValue(v.dim)! > 1 && !(/^(dim|axis|dimension|ndim|n_dims?)$/.test(p.name) && D.constValue(v.dim)! <= 4)) {
          const named = fn.childForFieldName('name')?.text === '__init__' ? this.freeSize(p.name) : this.fresh(p.name);
          this.defaults.set(D.asSymbol(named)!, v.dim);
          v = intV(named, p.name);
        }
        // A whole float (mlp_ratio: float = 4.) is named likewise for the sizes computed from it
        // (`int(dim * mlp_ratio)`); its value stays for the arithmetic of floats.
        else if (seed && v.kind === 'num' && v.value !== undefined && Number.isInteger(v.value) && v.value > 1 && !v.scale) {
          const named = this.fresh(p.name);
          this.defaults.set(D.asSymbol(named)!, D.dconst(v.value));
          v = { ...v, size: named };
        }
        // An optional tensor with no caller (position_bias: Optional[Tensor] = None) may be given:
        // unknown, not None (masks aside, which are checked where they are given).
        // Its rank is what the body's use of it fixes, when it is given (`pos` added to a
        // sequence that a layer takes), and unknown otherwise.
        else if (seed && v.kind === 'none' && p.ann && isTensorAnnotation(p.ann.text) && !/mask/i.test(p.name)) {
          const given = this.seedParam(fn, p, idx, f);
          v = isTensor(given) && given.axes ? { ...given, optional: true } : UNKNOWN;
        }
        // A flag with no caller may be either (has_relative_attention_bias=False is True in the
        // first layer, need_weights=False is True where a caller asks): both branches are
        // walked and joined.
        // A mask that may be given (mask=None) has the rank the body fixes, where it does.
        else if (seed && v.kind === 'none' && (!p.ann || isTensorAnnotation(p.ann.text)) && /mask/i.test(p.name)) v = this.maskSeed(fn, p, idx, f) ?? ({ kind: 'tensor', hypothetical: true, optional: true, maskOf: this.maskOrigin(p.name) } as TensorV);
        else if (seed && v.kind === 'bool') v = { kind: 'bool' };
        // A tuple of sizes (patch_size=(2, 2), dims=(32, 48)) keeps its length, not its values.
        else if (seed && v.kind === 'tuple' && !v.shapeOf && v.items.length > 0 && v.items.every((x) => x.kind === 'int' && (D.constValue(x.dim) ?? 0) > 1)) {
          const init = fn.childForFieldName('name')?.text === '__init__';
          v = { kind: 'tuple', items: v.items.map((_, i) => intV(init ? this.freeSize(`${p.name}${i}`) : this.fresh(`${p.name}${i}`), `${p.name}${i}`)) };
        }
      }
      const given = v;
      if (v === undefined || (seed && p.def && this.isTensorish(p) && v.kind === 'none' && false)) v = seed ? this.seedFor(fn, p, idx, f) : UNKNOWN;
      // A tensor seeded for a parameter whose default is None (`mask: Optional[Tensor] = None`)
      // may also be None: `if mask is not None:` walks both paths.
      if (seed && p.def?.text === 'None' && isTensor(v) && !v.axes) v = { ...v, optional: true };
      if (v.kind === 'int' && !v.name) v = { ...v, name: p.name };
      // An annotation that declares something other than a tensor wins over what was passed.
      if (isTensor(v) && !v.hypothetical && p.ann && !isTensorAnnotation(p.ann.text)) v = { ...v, hypothetical: true };
      if (isTensor(v) && v.axes && !seed && fn.childForFieldName('name')?.text !== '__init__') v = this.withDeclaredRoles(fn, p, idx, v, f);
      // A tensor of unknown shape passed where the function declares one (`keep: (B, T)` in its
      // docstring): the declared shape, as with no caller.
      else if (isTensor(v) && !v.axes && !v.failed && !seed && fn.childForFieldName('name')?.text !== '__init__') {
        const declared = this.declaredNames(fn, p, idx);
        if (declared) v = { ...this.tensorFromNames(declared, f), dtype: v.dtype, mask: v.mask, maskOf: v.maskOf };
      }
      if (given && v !== given) this.passedAs.set(v, given);
      f.vars.set(p.name, v);
      bound.push(v);
    });
    return bound;
  }

  /**
   * A concrete argument for a parameter whose shape is declared (jaxtyping annotation, shape
   * comment, docstring) takes the declared names' roles on the axes that have none, and the
   * names are bound to its sizes: `# x: (B, L, C)` says which axis is the batch even when the
   * caller passes torch.randn(3, 6, 16).
   */
  private withDeclaredRoles(fn: Node, p: { name: string; node: Node; ann?: Node }, index: number, v: TensorV, f: Frame): TensorV {
    const declared = this.declaredNames(fn, p, index);
    if (!declared || declared.length !== v.axes!.length) return v;
    const all = declared.filter((x) => !/^\d+$/.test(x));
    let changed = false;
    const axes = v.axes!.map((a, i) => {
      this.bindName(a.size, declared[i]);
      if (a.role) return a;
      const role = roleFromName(declared[i], all);
      if (!role) return a;
      changed = true;
      return { ...a, role };
    });
    void f;
    return changed ? { ...v, axes } : v;
  }

  /** The axis names a parameter's annotation, shape comment or docstring declares. */
  private declaredNames(fn: Node, p: { name: string; node: Node; ann?: Node }, index: number): string[] | undefined {
    if (p.ann) {
      const m = /\[\s*[\w.]+\s*,\s*["']([^"']*)["']\s*\]/.exec(p.ann.text);
      if (m) {
        const names = m[1].trim().split(/\s+/).filter(Boolean);
        if (names.some((n) => n.startsWith('*') || n === '...')) return undefined;
        return names.map((n) => n.replace(/^_/, ''));
      }
    }
    const line = p.node.startPosition.row;
    const names = this.b.shapeComments.get(line);
    if (names && (line !== fn.startPosition.row || this.paramsOnLine(fn, line) === 1 || index === 0)) return names;
    return this.docShape(fn, p.name);
  }

  private isTensorish(p: { ann?: Node }): boolean {
    // `Type[nn.Module]`, `Callable[..., nn.Module]`: a layer factory, whose default is used.
    return !!p.ann && /Tensor|\[/.test(p.ann.text) && !/^(Optional\[)?(Type|Callable)\[/.test(p.ann.text.replace(/\s+/g, ''));
  }

  private seedFor(fn: Node, p: { name: string; node: Node; ann?: Node }, index: number, f: Frame): Value {
    const fname = fn.childForFieldName('name')?.text;
    if (fname === '__init__') {
      if (p.ann) return isTensorAnnotation(p.ann.text) ? { kind: 'tensor' } : this.fromTypeAnnotation(p.ann, p.name, true);
      // `config.n_embd`: an object whose attributes are named sizes; otherwise a size.
      if (this.readsAttributes(fn, p.name)) return this.symObj(p.name, this.configClassFor(fn, p.name));
      return intV(this.freeSize(p.name), p.name);
    }
    // A mask with no caller: a tensor of unknown dtype and polarity (their rules stay silent),
    // of the rank the body fixes where it does, else of unknown shape.
    if (/mask/i.test(p.name)) return this.maskSeed(fn, p, index, f) ?? { kind: 'tensor', hypothetical: true, maskOf: this.maskOrigin(p.name) };
    return this.seedParam(fn, p, index, f);
  }

  /**
   * The origin of a mask parameter nobody passes (see `MaskCell`): a cell of its own, which
   * starts with the file's convention where its name is one the convention covers (`mask`,
   * `src_mask`, `tgt_mask`: the masks a causal helper's result joins; a padding mask's name
   * promises PyTorch's convention, and `attention_mask` the opposite one).
   */
  private maskOrigin(name: string): MaskOrigin {
    const convention = /^((src|tgt|trg|memory)_)?mask$/.test(name) ? this.maskConvention : undefined;
    return { cell: { name, convention }, flipped: false };
  }

  /**
   * The file's convention for masks: what True means in the result of its causal-mask helpers
   * (`subsequent_mask`), when they all agree; set by `run` before code nobody calls runs.
   */
  private maskConvention: { polarity: MaskPolarity; why: string } | undefined;

  /** A seeded mask's meaning, where the code has shown it: evidence first, else the file's convention. */
  private seededPolarity(o: MaskOrigin): { polarity: MaskPolarity; why: string } | undefined {
    const c = o.cell.evidence ?? o.cell.convention;
    if (!c) return undefined;
    return { polarity: o.flipped ? (c.polarity === 'keep' ? 'ignore' : 'keep') : c.polarity, why: c.why };
  }

  /** What a use of a seeded mask shows: the mask (flipped or not) is True at the tokens it counts. */
  private countedAsKept(o: MaskOrigin | undefined, why: string): void {
    if (!o || o.cell.evidence) return;
    o.cell.evidence = { polarity: o.flipped ? 'ignore' : 'keep', why };
  }

  /**
   * A mask parameter nobody passes, where its function's body fixes its rank
   * (`mask[:, None, :].repeat(h, 1, 1)`): fresh sizes, nothing of its values; None as well
   * when that is its default.
   */
  private maskSeed(fn: Node, p: { name: string; node: Node; ann?: Node; def?: Node }, index: number, f: Frame): TensorV | undefined {
    if (p.ann && !isTensorAnnotation(p.ann.text)) return undefined;
    const fact = this.rankOf(fn, index, f);
    if (!fact || fact.rank <= 0 || fact.rank > 8) return undefined;
    const names = Array.from({ length: fact.rank }, (_, i) => fact.names?.[i] ?? `${p.name}${i}`);
    return { ...this.tensor(names.map((n) => this.fresh(n)), names), hypothetical: true, optional: p.def?.text === 'None' || undefined, maskOf: this.maskOrigin(p.name) };
  }

  /** The torch layer a class subclasses, through its bases in the file. */
  private torchBaseOf(cls: ClassInfo): string | undefined {
    for (let c: ClassInfo | undefined = cls; c; c = c.base) if (c.torchBase) return c.torchBase;
    return undefined;
  }

  private instantiate(cls: ClassInfo, args: Value[], kwargs: Record<string, Value>, node: Node | undefined, seed: boolean): InstanceV {
    this.instantiated.add(cls);
    const inst: InstanceV = { kind: 'instance', cls, attrs: new Map(), called: false, node };
    this.instances.push(inst);
    const init = findMethod(cls, '__init__');
    const layer = this.torchBaseOf(cls);
    if (layer && !init && node) inst.torch = { kind: 'torchmodule', type: layer, args, kwargs, node };
    if (init) {
      this.runFunction(init, args, kwargs, inst, seed, false);
      this.unusedWidth(inst, init);
    }
    else if (cls.decorators?.some((d) => /(^|\.)dataclass\b/.test(d))) {
      // A dataclass's generated __init__ binds its fields in order, defaults after.
      this.dataclassFields(cls).forEach((fld, i) => {
        let v: Value | undefined = i < args.length ? args[i] : kwargs[fld.name];
        if (v === undefined && fld.def) v = this.expr(fld.def, { vars: new Map(), returns: [], forward: false });
        if (v === undefined) v = UNKNOWN;
        inst.attrs.set(fld.name, v.kind === 'int' && !v.name ? { ...v, name: fld.name } : v);
      });
    }
    return inst;
  }

  /**
   * A constructor that takes the input's width (`in_channels`) and never reads it, where the
   * layer `forward` applies to its input (`self.input_proj(features)`) is built with another
   * of its parameters as that width: the module accepts only inputs of that other width.
   */
  private unusedWidth(inst: InstanceV, init: Node): void {
    if (this.widthChecked.has(inst.cls) || this.speculative > 0) return;
    this.widthChecked.add(inst.cls);
    const ps = this.params(init);
    const body = init.childForFieldName('body');
    if (!body) return;
    const read = new Set<string>();
    walkNamed(body, (n) => {
      if (n.type === 'identifier') read.add(n.text);
      // A keyword's name and an attribute's name are not reads of a variable.
      if (n.type !== 'keyword_argument' && n.type !== 'attribute') return;
      const only = n.childForFieldName(n.type === 'keyword_argument' ? 'value' : 'object');
      return only ? [only] : false;
    });
    const unused = ps.filter((p) => INPUT_WIDTH.test(p.name) && !read.has(p.name));
    if (unused.length !== 1) return;
    const fwd = findMethod(inst.cls, 'forward');
    const input = fwd ? this.params(fwd)[1] : undefined;
    if (!fwd || !input || input.kind !== 'plain') return;
    // The layer forward applies to its input as it came: `self.<attr>(<input>)`.
    let layer: string | undefined;
    const fwdBody = fwd.childForFieldName('body');
    if (fwdBody)
      walkNamed(fwdBody, (n, stop) => {
        if (n.type !== 'call') return;
        const fn = n.childForFieldName('function');
        const a = n.childForFieldName('arguments')?.namedChildren ?? [];
        if (fn?.type === 'attribute' && fn.childForFieldName('object')?.text === 'self' && a.length === 1 && a[0]?.text === input.name) {
          layer = fn.childForFieldName('attribute')?.text;
          if (layer) stop();
        }
      });
    const m = layer ? inst.attrs.get(layer) : undefined;
    if (m?.kind !== 'torchmodule' || !/^(Conv[123]d|Linear)$/.test(m.type)) return;
    const widthName = m.type === 'Linear' ? 'in_features' : 'in_channels';
    const argList = m.node.childForFieldName('arguments')?.namedChildren.filter((c): c is Node => !!c && c.type !== 'comment') ?? [];
    const kw = argList.find((c) => c.type === 'keyword_argument' && c.childForFieldName('name')?.text === widthName);
    const widthArg = kw ? kw.childForFieldName('value') : argList[0]?.type === 'keyword_argument' ? undefined : argList[0];
    // The width is another parameter of the constructor, as written.
    if (!widthArg || widthArg.type !== 'identifier' || !ps.some((p) => p.name === widthArg.text) || widthArg.text === unused[0].name) return;
    this.emit({ kind: 'unused-width', node: m.node, param: unused[0].name, widthArg, widthName, layer: layer!, input: input.name, def: unused[0].def?.text });
  }

  /** Classes whose constructors `unusedWidth` looked at. */
  private readonly widthChecked = new Set<ClassInfo>();

  private callInstance(inst: InstanceV, args: Value[], kwargs: Record<string, Value>, node: Node | undefined, seed: boolean): Value {
    inst.called = true;
    if (inst.failed) return UNKNOWN;
    const fwd = findMethod(inst.cls, 'forward') ?? findMethod(inst.cls, '__call__');
    // A torch layer's subclass without a forward of its own runs the layer's.
    if (!fwd && inst.torch && node) return this.callModule(inst.torch, args, kwargs, [], {}, node);
    if (!fwd) return UNKNOWN;
    return this.runFunction(fwd, args, kwargs, inst, seed, true);
  }

  private callFunction(fn: Node, args: Value[], kwargs: Record<string, Value>, self: InstanceV | undefined, seed: boolean): Value {
    // A call in a branch that is not known to run shows no shapes: the function still runs on its own.
    if (this.speculative === 0) this.calledFunctions.add(fn);
    return this.runFunction(fn, args, kwargs, self, seed, false);
  }

  private runFunction(fn: Node, args: Value[], kwargs: Record<string, Value>, self: InstanceV | undefined, seed: boolean, forward: boolean, closure?: Map<string, Value>[]): Value {
    if (this.depth >= MAX_DEPTH || this.active.has(fn)) return UNKNOWN;
    if (self && this.speculative === 0) this.ranMethods.add(fn);
    this.depth++;
    this.active.add(fn);
    try {
      const vars = new Map<string, Value>();
      const f: Frame = { vars, returns: [], self, forward, closure, seeded: seed, name: fn.childForFieldName('name')?.text };
      if (!seed && !closure && fn.type === 'function_definition' && this.speculative === 0 && (args.some((a) => this.isBlind(a)) || Object.values(kwargs).some((a) => this.isBlind(a)))) {
        const selves = this.blind.get(fn) ?? new Set();
        selves.add(self);
        this.blind.set(fn, selves);
      }
      const ps = this.params(fn);
      const hasSelf = ps[0]?.name === 'self' && !!self;
      if (hasSelf) vars.set('self', self!);
      f.params = this.bindArgs(fn, args, kwargs, f, seed, hasSelf || ps[0]?.name === 'self');
      // A lambda's body is one expression, its value.
      if (fn.type === 'lambda') {
        const body = fn.childForFieldName('body');
        return body ? this.expr(body, f) : UNKNOWN;
      }
      this.block(this.body(fn.childForFieldName('body')), f);
      if (f.returns.length === 0) return { kind: 'none' };
      const result = f.returns.length === 1 ? f.returns[0] : this.join(this.generalizeReturns(f));
      return result.kind === 'unknown' ? annotatedList(fn) ?? result : result;
    } finally {
      this.active.delete(fn);
      this.depth--;
    }
  }

  /** A seeded mask read where the code has shown what True means in it: a bool mask of that meaning. */
  private withSeededMeaning(v: TensorV): TensorV {
    const m = this.seededPolarity(v.maskOf!);
    return m ? { ...v, dtype: v.dtype ?? 'bool', mask: { polarity: m.polarity, why: m.why } } : v;
  }

  // ---------------------------------------------------------------- expressions

  private lookup(name: string, f: Frame): Value {
    const v = f.vars.get(name) ?? f.closure?.find((m) => m.has(name))?.get(name) ?? this.globals.get(name);
    if (v) return isTensor(v) && v.maskOf && !v.mask ? this.withSeededMeaning(v) : v;
    const cls = this.b.classes.get(name);
    if (cls) return { kind: 'class', cls };
    const fn = this.b.functions.get(name);
    if (fn) return { kind: 'function', node: fn };
    const q = qualify(this.b, name);
    if (q) return { kind: 'qual', path: q };
    if (name === 'True' || name === 'False') return { kind: 'bool', value: name === 'True' };
    if (name === 'None') return { kind: 'none' };
    return { kind: 'qual', path: `builtins.${name}` };
  }

  expr(n: Node, f: Frame): Value {
    this.tick();
    switch (n.type) {
      case 'integer': {
        const v = Number(n.text.replace(/_/g, ''));
        return Number.isFinite(v) ? intV(D.dconst(v)) : UNKNOWN;
      }
      case 'float':
        return { kind: 'num', value: Number(n.text.replace(/_/g, '')) };
      case 'true':
        return { kind: 'bool', value: true };
      case 'false':
        return { kind: 'bool', value: false };
      case 'none':
        return { kind: 'none' };
      case 'string': {
        if (!n.namedChildren.some((c) => c?.type === 'interpolation')) return { kind: 'str', value: n.namedChildren.filter((c) => c?.type === 'string_content').map((c) => c!.text).join('') };
        // f"patch_embed{i + 1}" of known values: the text; anything else (a format spec, an
        // unknown value) leaves it unknown.
        let text = '';
        for (const c of n.namedChildren) {
          if (c?.type === 'string_content') text += c.text;
          else if (c?.type === 'interpolation') {
            const inner = c.namedChildren.filter((x): x is Node => !!x);
            if (inner.length !== 1) return UNKNOWN;
            const v = this.expr(inner[0], f);
            const k = v.kind === 'int' ? D.constValue(this.norm(v.dim)) : undefined;
            if (v.kind === 'str') text += v.value;
            else if (k !== undefined && Number.isInteger(k)) text += String(k);
            else return UNKNOWN;
          } else if (c && c.type !== 'string_start' && c.type !== 'string_end') return UNKNOWN;
        }
        return { kind: 'str', value: text };
      }
      case 'concatenated_string':
        return UNKNOWN;
      case 'identifier':
        return this.lookup(n.text, f);
      case 'parenthesized_expression': {
        const c = n.namedChildren.find((x) => x && x.type !== 'comment');
        return c ? this.expr(c, f) : UNKNOWN;
      }
      case 'tuple':
      case 'list':
      case 'expression_list': {
        const items: Value[] = [];
        for (const c of n.namedChildren) {
          if (!c || c.type === 'comment') continue;
          if (c.type === 'list_splat') {
            const v = this.expr(c.namedChildren[0]!, f);
            if (v.kind === 'tuple') items.push(...v.items);
            else return UNKNOWN;
          } else items.push(this.expr(c, f));
        }
        return { kind: 'tuple', items, written: n.type === 'list' ? 'list' : 'tuple' };
      }
      case 'list_comprehension':
      case 'generator_expression':
        return this.comprehension(n, f);
      case 'attribute':
        return this.attribute(n, f);
      case 'call':
        return this.call(n, f);
      case 'subscript':
        return this.subscript(n, f);
      case 'binary_operator': {
        const l = n.childForFieldName('left');
        const r = n.childForFieldName('right');
        const op = n.childForFieldName('operator')?.text ?? '';
        if (!l || !r) return UNKNOWN;
        return this.binaryValues(op, this.expr(l, f), this.expr(r, f), n);
      }
      case 'unary_operator': {
        const a = n.childForFieldName('argument');
        const op = n.childForFieldName('operator')?.text;
        if (!a) return UNKNOWN;
        const v = this.expr(a, f);
        if (op === '-') {
          if (v.kind === 'int') return intV(D.neg(v.dim));
          if (v.kind === 'num') return { kind: 'num', value: v.value === undefined ? undefined : -v.value };
          if (isTensor(v)) return { ...v, mask: undefined, normAxis: undefined };
        }
        // `~` takes bools (or integers): the complement of a mask of unknown dtype is a bool mask,
        // and a value taken for a tensor by hypothesis is one (modules, lists and dicts have no `~`).
        if (op === '~' && isTensor(v)) return { ...flipMask(v), dtype: v.dtype ?? 'bool', hypothetical: undefined };
        if (op === '+') return v;
        return UNKNOWN;
      }
      case 'not_operator': {
        const a = n.childForFieldName('argument');
        const t = a ? this.truth(this.expr(a, f)) : undefined;
        return { kind: 'bool', value: t === undefined ? undefined : !t };
      }
      case 'boolean_operator': {
        const l = n.childForFieldName('left');
        const r = n.childForFieldName('right');
        const op = n.childForFieldName('operator')?.text;
        if (!l || !r) return UNKNOWN;
        const lv = this.expr(l, f);
        // `hidden_features or in_features`: a size named after symbols is positive (every symbol
        // of dims.ts stands for a positive value), so it is the size itself.
        const t = this.truth(lv) ?? (lv.kind === 'int' && this.positiveSize(lv.dim) ? true : undefined);
        if (op === 'or') return t === true ? lv : t === false ? this.expr(r, f) : UNKNOWN;
        if (op === 'and' && t === undefined && lv.kind === 'bool' && comparisonsOnly(r)) {
          // `stride == 1 and inp == oup` of unknown truth: true only where both are.
          const rv = this.expr(r, f);
          const implies = [...(lv.implies ?? []), ...(rv.kind === 'bool' ? rv.implies ?? [] : [])];
          return rv.kind === 'bool' && rv.value === false ? rv : { kind: 'bool', implies: implies.length ? implies : undefined };
        }
        if (op === 'and') return t === false ? lv : t === true ? this.expr(r, f) : UNKNOWN;
        return UNKNOWN;
      }
      case 'comparison_operator':
        return this.comparison(n, f);
      case 'conditional_expression': {
        const parts = n.namedChildren.filter((x): x is Node => !!x);
        if (parts.length !== 3) return UNKNOWN;
        const c = this.truth(this.expr(parts[1], f));
        if (c === true) return this.expr(parts[0], f);
        if (c === false) return this.expr(parts[2], f);
        return this.join([this.expr(parts[0], f), this.expr(parts[2], f)]);
      }
      case 'lambda':
        return { kind: 'function', node: n, closure: this.closureOf(f) };
      case 'named_expression': {
        // (m := mask) binds m and is the value itself.
        const name = n.childForFieldName('name');
        const val = n.childForFieldName('value');
        if (!val) return UNKNOWN;
        const v = this.expr(val, f);
        if (name) this.assign(name, v, f, val);
        return v;
      }
      case 'dictionary': {
        // Only string keys and plain pairs; a splat or a computed key leaves the dict unknown.
        const items: Record<string, Value> = {};
        for (const c of n.namedChildren) {
          if (!c || c.type === 'comment') continue;
          const key = c.type === 'pair' ? c.childForFieldName('key') : null;
          const val = c.type === 'pair' ? c.childForFieldName('value') : null;
          if (!key || !val) return UNKNOWN;
          const kv = this.expr(key, f);
          if (kv.kind !== 'str') return UNKNOWN;
          items[kv.value] = this.expr(val, f);
        }
        return { kind: 'dict', items };
      }
      case 'keyword_argument':
        return UNKNOWN;
      default:
        return UNKNOWN;
    }
  }

  private comprehension(n: Node, f: Frame): Value {
    // [blk(x) for blk in self.blocks] or [t.view(...) for t in (q, k, v)]: evaluate per item.
    const body = n.childForFieldName('body');
    const clause = n.namedChildren.find((c) => c?.type === 'for_in_clause');
    if (!body || !clause || n.namedChildren.filter((c) => c?.type === 'for_in_clause' || c?.type === 'if_clause').length !== 1) return UNKNOWN;
    const left = clause.childForFieldName('left');
    const right = clause.childForFieldName('right');
    if (!left || !right) return UNKNOWN;
    const it = this.expr(right, f);
    let items = it.kind === 'tuple' ? it.items : it.kind === 'torchmodule' ? it.items : undefined;
    // Over an iterable of unknown length (range(config.n_layer)), one representative element
    // of unknown index stands for all: [Block(config) for _ in range(n)] is a list of Blocks.
    const inexact = !items || (it.kind === 'tuple' && !!it.inexact) || (it.kind === 'torchmodule' && !!it.inexact);
    if (!items || items.length === 0) {
      if (it.kind !== 'unknown' && !(it.kind === 'torchmodule' && it.inexact) && !(it.kind === 'tuple' && it.inexact)) return UNKNOWN;
      items = [UNKNOWN];
    }
    if (items.length > 16) return UNKNOWN;
    const out: Value[] = [];
    const saved = new Map(f.vars);
    this.openLoops += inexact ? 1 : 0;
    try {
      for (const item of items) {
        this.assign(left, item, f);
        out.push(this.expr(body, f));
      }
    } finally {
      this.openLoops -= inexact ? 1 : 0;
    }
    f.vars.clear();
    for (const [k, v] of saved) f.vars.set(k, v);
    return inexact ? { kind: 'tuple', items: out, inexact: true } : { kind: 'tuple', items: out };
  }

  private attribute(n: Node, f: Frame): Value {
    const objNode = n.childForFieldName('object');
    const attrNode = n.childForFieldName('attribute');
    if (!objNode || !attrNode) return UNKNOWN;
    return this.attributeOf(this.expr(objNode, f), attrNode.text, n, attrNode);
  }

  /** A class-level assignment `name = value` or `name: T = value` in a class body or its bases. */
  private classAttribute(cls: ClassInfo, name: string): Value | undefined {
    for (let c: ClassInfo | undefined = cls; c; c = c.base) {
      for (const st of c.node.childForFieldName('body')?.namedChildren ?? []) {
        if (st.type !== 'expression_statement') continue;
        const a = st.namedChildren[0];
        if (a?.type !== 'assignment' || a.childForFieldName('left')?.text !== name) continue;
        const r = a.childForFieldName('right');
        return r ? this.expr(r, { vars: new Map(), returns: [], forward: false }) : UNKNOWN;
      }
    }
    return undefined;
  }

  /** The fields of a `@dataclass`: annotated class-level names, in order, with their default nodes. */
  private dataclassFields(cls: ClassInfo): { name: string; def?: Node }[] {
    const out: { name: string; def?: Node }[] = [];
    for (const st of cls.node.childForFieldName('body')?.namedChildren ?? []) {
      const a = st.type === 'expression_statement' ? st.namedChildren[0] : undefined;
      const left = a?.type === 'assignment' ? a.childForFieldName('left') : undefined;
      if (!a || !left || left.type !== 'identifier' || !a.childForFieldName('type')) continue;
      out.push({ name: left.text, def: a.childForFieldName('right') ?? undefined });
    }
    return out;
  }

  private attributeOf(obj: Value, name: string, n: Node, attrNode: Node): Value {
    switch (obj.kind) {
      case 'class':
        return this.classAttribute(obj.cls, name) ?? UNKNOWN;
      case 'qual':
        return { kind: 'qual', path: `${obj.path}.${name}` };
      case 'instance': {
        const v = obj.attrs.get(name);
        if (v) return v;
        const m = findMethod(obj.cls, name);
        if (m) return { kind: 'function', node: m, self: obj };
        return this.classAttribute(obj.cls, name) ?? (obj.torch ? S.moduleAttribute(obj.torch, name, this.host) : UNKNOWN);
      }
      case 'tensor':
        return S.tensorAttribute(this.host, obj, name, n, attrNode);
      case 'tuple':
        return obj.names?.includes(name) ? obj.items[obj.names.indexOf(name)] : UNKNOWN;
      case 'alt': {
        // `self.kv_cache.update(...)` of None or a cache: None has no such attribute, so where
        // the code goes on it is the one other value.
        const others = obj.items.filter((x) => x.kind !== 'none');
        return others.length === 1 && others.length < obj.items.length && others[0].kind === 'instance' ? this.attributeOf(others[0], name, n, attrNode) : UNKNOWN;
      }
      case 'torchmodule':
        return S.moduleAttribute(obj, name, this.host);
      case 'symobj':
        return this.symObjAttribute(obj, name);
      default:
        return UNKNOWN;
    }
  }

  private subscript(n: Node, f: Frame): Value {
    const valNode = n.childForFieldName('value');
    if (!valNode) return UNKNOWN;
    const v = this.expr(valNode, f);
    const subs = n.childrenForFieldName('subscript').filter((x): x is Node => !!x);
    if (v.kind === 'tuple') {
      if (subs.length !== 1) return UNKNOWN;
      const s = subs[0];
      if (s.type === 'slice') {
        if (v.shapeOf && !v.shapeOf.axes) {
          // `B, N = x.shape[:2]` of a tensor of unknown rank: two sizes, whatever the rest.
          const stop = s.namedChildren.length === 1 && s.text.trim().startsWith(':') ? numValue(this.expr(s.namedChildren[0]!, f)) : undefined;
          if (stop !== undefined && Number.isInteger(stop) && stop > 0 && stop <= 8) return { kind: 'tuple', items: Array.from({ length: stop }, () => intV(this.fresh('d'))) };
          return UNKNOWN;
        }
        const [a, b] = this.sliceBounds(s, f, v.items.length);
        if (a === undefined || b === undefined) return UNKNOWN;
        return { kind: 'tuple', items: v.items.slice(a, b) };
      }
      const iv = this.expr(s, f);
      const i = numValue(iv);
      if (i === undefined || !Number.isInteger(i)) return UNKNOWN;
      if (v.shapeOf && !v.shapeOf.axes) return intV(this.fresh('d'));
      const idx = i < 0 ? v.items.length + i : i;
      return v.items[idx] ?? UNKNOWN;
    }
    if (v.kind === 'dict') {
      const k = subs.length === 1 ? this.expr(subs[0], f) : undefined;
      return k?.kind === 'str' ? v.items[k.value] ?? UNKNOWN : UNKNOWN;
    }
    if (v.kind === 'torchmodule' && v.entries) {
      const k = subs.length === 1 ? this.expr(subs[0], f) : undefined;
      return k?.kind === 'str' ? v.entries[k.value] ?? UNKNOWN : UNKNOWN;
    }
    if (v.kind === 'torchmodule' && v.items) {
      const i = subs.length === 1 ? numValue(this.expr(subs[0], f)) : undefined;
      if (i === undefined) return UNKNOWN;
      return v.items[i < 0 ? v.items.length + i : i] ?? UNKNOWN;
    }
    // A slice up to a count of a seeded mask's True cells (`context[:, :n_ctx]`, n_ctx its
    // largest row sum): the mask is True at the tokens kept.
    if (isTensor(v)) {
      for (const s of subs) {
        const stop = s.type === 'slice' ? this.slicePart(s, 1) : undefined;
        const c = stop?.type === 'identifier' ? this.lookup(stop.text, f) : undefined;
        if (c?.kind === 'int' && c.countOf) this.countedAsKept(c.countOf, `${stop!.text}, a count of ${c.countOf.flipped ? 'False' : 'True'} cells of ${c.countOf.cell.name}, is used as a length: they mark the real tokens`);
      }
    }
    // Indexing a value that may be a list, dict or module gives a value that may be anything
    // (a mask parameter nobody passes stays one).
    if (isTensor(v) && v.hypothetical && !v.axes) return v.maskOf ? { kind: 'tensor', hypothetical: true, dtype: v.dtype, mask: v.mask, maskOf: v.maskOf } : { kind: 'tensor', hypothetical: true };
    if (isTensor(v)) return S.lastEntries(v, subs, this.indexTensor(v, subs, f, n), n);
    return UNKNOWN;
  }

  private sliceBounds(s: Node, f: Frame, len: number): [number | undefined, number | undefined] {
    const parts: (Node | undefined)[] = [undefined, undefined];
    let idx = 0;
    for (const c of s.children) {
      if (!c) continue;
      if (c.text === ':') idx++;
      else if (c.isNamed && idx < 2) parts[idx] = c;
    }
    const num = (x: Node | undefined, d: number) => {
      if (!x) return d;
      const v = numValue(this.expr(x, f));
      if (v === undefined) return undefined;
      return v < 0 ? Math.max(0, len + v) : Math.min(v, len);
    };
    return [num(parts[0], 0), num(parts[1], len)];
  }

  /** The part of `start:stop:step` in section k (0 start, 1 stop, 2 step), if written. */
  private slicePart(s: Node, k: number): Node | undefined {
    let idx = 0;
    for (const c of s.children) {
      if (!c) continue;
      if (c.text === ':') idx++;
      else if (c.isNamed && idx === k) return c;
    }
    return undefined;
  }

  /** The start of `start::step` with no stop, when it is 0 (or omitted) or 1; else undefined. */
  private sliceStart(s: Node, f: Frame): 0 | 1 | undefined {
    if (this.slicePart(s, 1)) return undefined;
    const start = this.slicePart(s, 0);
    if (!start) return 0;
    const v = numValue(this.expr(start, f));
    return v === 0 || v === 1 ? v : undefined;
  }

  /** The step of `a:b:step` when it is a known positive integer (an omitted step is 1). */
  private sliceStep(s: Node, f: Frame): number | undefined {
    const stepNode = this.slicePart(s, 2);
    if (!stepNode) return 1;
    const v = numValue(this.expr(stepNode, f));
    return v !== undefined && Number.isInteger(v) && v > 0 ? v : undefined;
  }

  private indexTensor(t: TensorV, subs: Node[], f: Frame, n: Node): Value {
    // A triangle mask keeps its diagonal only when its rows and columns are cut from the start
    // (`bias[:, :, :T, :T]`); an offset shifts which (i, j) it hides.
    if (t.mask?.tri && !subs.every((s) => s.type === 'none' || s.type === 'ellipsis' || (s.type === 'slice' && (s.children[0]?.text === ':' || s.children[0]?.text === '0') && s.children.filter((x) => x?.text === ':').length === 1))) t = { ...t, mask: { ...t.mask, tri: undefined } };
    // Indexing keeps the dtype and mask meaning even when the shape is unknown.
    if (!t.axes) return { kind: 'tensor', dtype: t.dtype, mask: t.mask, positions: t.positions, learned: t.learned, maskOf: t.maskOf };
    const out: Axis[] = [];
    let src = 0;
    let batchRow: Node | undefined;
    const ell = subs.findIndex((s) => s.type === 'ellipsis');
    const consuming = subs.filter((s) => s.type !== 'none' && s.type !== 'ellipsis').length;
    for (let k = 0; k < subs.length; k++) {
      const s = subs[k];
      if (s.type === 'none') {
        out.push({ size: D.dconst(1) });
        continue;
      }
      if (s.type === 'ellipsis') {
        const skip = t.axes.length - consuming;
        if (skip < 0) return { kind: 'tensor' };
        for (let j = 0; j < skip; j++) out.push(t.axes[src++]);
        continue;
      }
      const axis = t.axes[src];
      if (!axis) return { kind: 'tensor' };
      if (s.type === 'slice') {
        const full = s.namedChildren.length === 0;
        if (full) out.push(axis);
        else {
          const c = D.constValue(this.norm(axis.size));
          const [a, b] = c !== undefined ? this.sliceBounds(s, f, c) : [undefined, undefined];
          const parts = s.children.filter((x) => x && x.isNamed);
          const colons = s.children.filter((x) => x?.text === ':').length;
          const step = colons === 2 ? this.sliceStep(s, f) : 1;
          // A slice keeps the axis's identity (its label): fewer positions of the same axis.
          const label = axis.label ? { label: axis.label } : {};
          if (a !== undefined && b !== undefined && step !== undefined) out.push({ size: D.dconst(Math.max(0, Math.ceil((b - a) / step))), role: axis.role, ...label });
          else if (parts.length === 1 && colons === 1 && s.children[0]?.text === ':' && c === undefined) {
            const stop = this.expr(parts[0]!, f);
            out.push({ size: stop.kind === 'int' ? stop.dim : this.fresh('d'), role: axis.role, ...label });
          } else {
            const start = c === undefined && step === 2 ? this.sliceStart(s, f) : undefined;
            out.push({ size: start !== undefined ? this.half(axis.size, start === 0) : this.fresh('d'), role: axis.role, ...label });
          }
        }
        src++;
        continue;
      }
      const iv = this.expr(s, f);
      if (iv.kind === 'int') {
        // `x[0]` of (B, 1 + N, E) tokens whose first is a class token: the first sample's
        // tokens, where `x[:, 0]` is every sample's class token.
        if (subs.length === 1 && src === 0 && D.constValue(this.norm(iv.dim)) === 0 && t.axes.length === 3 && t.axes[0].role === 'batch' && t.axes[1].leadToken) batchRow = n;
        src++;
        continue;
      }
      // Advanced indexing by one tensor: an integer index puts its own axes in place of the
      // indexed axis; a boolean mask of rank r replaces r axes by one axis of unknown length.
      // An index of unknown dtype leaves the result unknown: a fresh length there would broadcast
      // against size-1 axes downstream and make contiguous results look non-viewable.
      const single = subs.filter((x) => x.type !== 'slice' && x.type !== 'none' && x.type !== 'ellipsis').length === 1;
      // `x[:, [-1], :]`: a list of ints is an integer index of that many positions.
      if (single && iv.kind === 'tuple' && iv.written === 'list' && !iv.inexact && iv.items.length > 0 && iv.items.every((x) => x.kind === 'int')) {
        out.push({ size: D.dconst(iv.items.length) });
        src++;
        continue;
      }
      if (isTensor(iv) && iv.axes && single) {
        if (iv.dtype === 'long') {
          out.push(...iv.axes.map((a) => ({ size: a.size })));
          src++;
          continue;
        }
        if (iv.dtype === 'bool') {
          const r = iv.axes.length;
          if (src + r > t.axes.length) return { kind: 'tensor' };
          out.push({ size: this.fresh('d') });
          src += r;
          continue;
        }
      }
      return { kind: 'tensor' };
    }
    void ell;
    while (src < t.axes.length) out.push(t.axes[src++]);
    const res: TensorV = { kind: 'tensor', axes: out, strides: undefined, dtype: t.dtype, mask: t.mask, positions: t.positions, learned: t.learned, maskOf: t.maskOf };
    if (batchRow) res.batchRow = batchRow;
    return res;
  }

  private comparison(n: Node, f: Frame): Value {
    const parts = n.namedChildren.filter((x): x is Node => !!x);
    const ops = n.children.filter((c) => c && !c.isNamed).map((c) => c!.text);
    if (parts.length !== 2 || ops.length < 1) return { kind: 'bool' };
    const op = ops.join(' ');
    const a = this.expr(parts[0], f);
    const b = this.expr(parts[1], f);
    if (op === 'is' || op === 'is not') {
      if ((isTensor(a) && a.optional) || (isTensor(b) && b.optional)) return { kind: 'bool' };
      // One of several values, None among them: either answer.
      if ((a.kind === 'alt' && a.items.some((x) => x.kind === 'none')) || (b.kind === 'alt' && b.items.some((x) => x.kind === 'none'))) return { kind: 'bool' };
      const same = a.kind === 'none' && b.kind === 'none' ? true : (a.kind === 'none') !== (b.kind === 'none') && a.kind !== 'unknown' && b.kind !== 'unknown' ? false : undefined;
      if (same === undefined) return { kind: 'bool' };
      return { kind: 'bool', value: op === 'is' ? same : !same };
    }
    if (isTensor(a) || isTensor(b)) return S.compareTensors(this.host, op, a, b, n);
    if (a.kind === 'int' && b.kind === 'int') {
      const c = this.compare(a.dim, b.dim);
      const av = D.constValue(this.norm(a.dim));
      const bv = D.constValue(this.norm(b.dim));
      if (av !== undefined && bv !== undefined) {
        const r = op === '==' ? av === bv : op === '!=' ? av !== bv : op === '<' ? av < bv : op === '<=' ? av <= bv : op === '>' ? av > bv : op === '>=' ? av >= bv : undefined;
        return { kind: 'bool', value: r };
      }
      if (op === '==' && c !== 'unknown') return { kind: 'bool', value: c === 'eq' };
      if (op === '!=' && c !== 'unknown') return { kind: 'bool', value: c !== 'eq' };
      // `if inter_channels == 0:` of `in_channels // 2`: a size named after symbols is positive.
      if ((op === '==' || op === '!=') && ((av === 0 && this.positiveSize(b.dim)) || (bv === 0 && this.positiveSize(a.dim)))) return { kind: 'bool', value: op === '!=' };
      // `inp == oup` of two sizes: true where they are equal.
      if (op === '==' && c === 'unknown' && av === undefined && bv === undefined) return { kind: 'bool', implies: [[a.dim, b.dim]] };
    }
    if (a.kind === 'str' && b.kind === 'str' && (op === '==' || op === '!=')) return { kind: 'bool', value: (a.value === b.value) === (op === '==') };
    return { kind: 'bool' };
  }

  // ---------------------------------------------------------------- arithmetic

  private binaryValues(op: string, l: Value, r: Value, n: Node): Value {
    if (l.kind === 'int' && r.kind === 'int') {
      switch (op) {
        case '+':
          return intV(D.add(l.dim, r.dim));
        case '-':
          return intV(D.sub(l.dim, r.dim));
        case '*':
          return intV(D.mul(l.dim, r.dim));
        case '//': {
          // Read as exact division (`C // H`: the code means H divides C). A sum divided
          // (`(n + m - 1) // m`, rounding up) is not such a claim: where the defaults it is
          // computed from do not divide, it is the floor torch computes there.
          const sum = this.norm(l.dim).terms.length > 1;
          const inexact = sum ? this.derivedSize('d', [l.dim, r.dim], ([a, b]) => (b !== 0 && a % b !== 0 ? Math.floor(a / b) : NaN)) : undefined;
          if (inexact) return intV(inexact);
          const q = D.floorDiv(this.norm(l.dim), this.norm(r.dim));
          const res = q ? intV(q) : intV(this.fresh('d'));
          const ln = n.childForFieldName('left');
          const rn = n.childForFieldName('right');
          const av = this.valueAtDefaults(l.dim).value;
          const bv = this.valueAtDefaults(r.dim).value;
          // Only a size the code names (`self.head_dim = dim // num_heads`), not one written inline.
          if (n === this.assignedValue && ln && rn && av !== undefined && bv !== undefined && Number.isInteger(av) && Number.isInteger(bv) && bv > 0 && av % bv !== 0) {
            this.emit({ kind: 'binary', op, node: n, left: l, right: r, result: res, info: { floorRemainder: { values: [av, bv], dims: [l.dim, r.dim], dividend: ln, divisor: rn } } });
          }
          return res;
        }
        case '%': {
          const a = D.constValue(this.norm(l.dim));
          const b = D.constValue(this.norm(r.dim));
          return a !== undefined && b !== undefined && b !== 0 ? intV(D.dconst(((a % b) + b) % b)) : UNKNOWN;
        }
        case '/': {
          const a = D.constValue(this.norm(l.dim));
          const b = D.constValue(this.norm(r.dim));
          // 1 / d_k is the reciprocal of a size, as 1.0 / d_k is.
          const res: NumV = { kind: 'num', value: a !== undefined && b !== undefined && b !== 0 ? a / b : undefined, scale: a === 1 ? { base: r.dim, exp: -1, node: n } : { base: l.dim, exp: 1 } };
          if (res.value === undefined) {
            const la = this.valueAtDefaults(l.dim).value;
            const rb = this.valueAtDefaults(r.dim).value;
            if (la !== undefined && rb !== undefined && rb !== 0) res.atDefaults = { value: la / rb, from: [l.dim, r.dim] };
          }
          return res;
        }
        case '**': {
          const e = D.constValue(r.dim);
          if (e !== undefined) {
            const p = D.pow(l.dim, e);
            if (p) return intV(p);
          }
          // `2 ** math.floor(math.log2(n))`: a power of a positive base is a positive integer.
          const base = D.constValue(this.norm(l.dim));
          if (e === undefined && base !== undefined && Number.isInteger(base) && base > 0) return intV(this.fresh('n'));
          return UNKNOWN;
        }
      }
      return UNKNOWN;
    }
    if ((l.kind === 'int' || l.kind === 'num') && (r.kind === 'int' || r.kind === 'num')) {
      const a = numValue(l);
      const b = numValue(r);
      const val = a !== undefined && b !== undefined ? (op === '+' ? a + b : op === '-' ? a - b : op === '*' ? a * b : op === '/' ? a / b : op === '**' ? a ** b : undefined) : undefined;
      let scale: ScaleFact | undefined;
      if (op === '**' && l.kind === 'int' && b !== undefined) scale = { base: l.dim, exp: b, node: n };
      else if (op === '/' && a === 1 && r.kind === 'num' && r.scale) scale = { base: r.scale.base, exp: -r.scale.exp, node: r.scale.node };
      // 1.0 / d_k: the reciprocal of a size (the scale written without its square root).
      else if (op === '/' && a === 1 && r.kind === 'int') scale = { base: r.dim, exp: -1, node: n };
      else if (op === '**' && l.kind === 'num' && l.scale && b !== undefined) scale = { base: l.scale.base, exp: l.scale.exp * b, node: n };
      // A size times a whole float is a whole size (`dim * 4.`), for `int()` of it.
      const whole = (v: Value) => (v.kind === 'int' ? v.dim : v.kind === 'num' ? (v.size ?? (v.value !== undefined && Number.isInteger(v.value) && v.value > 0 ? D.dconst(v.value) : undefined)) : undefined);
      const wl = whole(l);
      const wr = whole(r);
      const size = op === '*' && wl && wr ? D.mul(wl, wr) : undefined;
      return { kind: 'num', value: val, scale, ...(size ? { size } : {}) };
    }
    // A list or tuple on either side is sequence arithmetic ([0] * n, a + b), never a tensor's.
    if (l.kind === 'tuple' || r.kind === 'tuple') {
      if (op === '+' && l.kind === 'tuple' && r.kind === 'tuple') return { kind: 'tuple', items: [...l.items, ...r.items], ...(l.inexact || r.inexact ? { inexact: true } : {}) };
      // `(1,) * (x.ndim - 1)`: the items repeated a known number of times.
      const [seq, times] = l.kind === 'tuple' ? [l, r] : [r as TupleV, l];
      const k = op === '*' && times.kind === 'int' ? D.constValue(this.norm(times.dim)) : undefined;
      if (k !== undefined && !seq.inexact && !seq.shapeOf && seq.items.length * Math.max(k, 0) <= 64) {
        return { kind: 'tuple', items: Array.from({ length: Math.max(k, 0) }, () => seq.items).flat(), ...(seq.written ? { written: seq.written } : {}) };
      }
      return UNKNOWN;
    }
    if (isTensor(l) || isTensor(r)) {
      const res = S.tensorArith(this.host, op, l, r, n);
      // Arithmetic between values that are tensors only by hypothesis proves nothing more.
      const proven = (isTensor(l) && !l.hypothetical) || (isTensor(r) && !r.hypothetical);
      if (!proven && isTensor(res)) return { ...res, hypothetical: true };
      return res;
    }
    return UNKNOWN;
  }

  // ---------------------------------------------------------------- calls

  private evalArgs(n: Node, f: Frame): { args: Value[]; kwargs: Record<string, Value>; argNodes: Node[]; kwargNodes: Record<string, Node> } {
    const args: Value[] = [];
    const kwargs: Record<string, Value> = {};
    const argNodes: Node[] = [];
    const kwargNodes: Record<string, Node> = {};
    const list = n.childForFieldName('arguments');
    // `nn.ModuleList(Block(d) for _ in range(n))`: a lone generator is the argument list itself.
    if (list?.type === 'generator_expression') return { args: [this.expr(list, f)], kwargs, argNodes: [list], kwargNodes };
    for (const c of list?.namedChildren ?? []) {
      if (!c || c.type === 'comment') continue;
      if (c.type === 'keyword_argument') {
        const name = c.childForFieldName('name')?.text;
        const val = c.childForFieldName('value');
        if (name && val) {
          kwargs[name] = this.expr(val, f);
          kwargNodes[name] = val;
        }
      } else if (c.type === 'list_splat') {
        const v = this.expr(c.namedChildren[0]!, f);
        if (v.kind === 'tuple') {
          for (const it of v.items) {
            args.push(it);
            argNodes.push(c);
          }
        } else {
          args.push(UNKNOWN);
          argNodes.push(c);
          (kwargs as Record<string, Value>)['*'] = UNKNOWN;
        }
      } else if (c.type === 'dictionary_splat') {
        // f(**kwargs) with a dict whose keys are all known passes them as keywords.
        const v = c.namedChildren[0] ? this.expr(c.namedChildren[0], f) : UNKNOWN;
        if (v.kind === 'dict') {
          for (const [k, x] of Object.entries(v.items)) {
            kwargs[k] = x;
            kwargNodes[k] = c;
          }
        } else kwargs['**'] = UNKNOWN;
      } else if (c.type === 'generator_expression') {
        args.push(this.expr(c, f));
        argNodes.push(c);
      } else {
        args.push(this.expr(c, f));
        argNodes.push(c);
      }
    }
    return { args, kwargs, argNodes, kwargNodes };
  }

  private call(n: Node, f: Frame): Value {
    const fnNode = n.childForFieldName('function');
    if (!fnNode) return UNKNOWN;
    // super().__init__(...) and friends.
    if (fnNode.type === 'attribute' && fnNode.childForFieldName('object')?.type === 'call' && fnNode.childForFieldName('object')?.childForFieldName('function')?.text === 'super') {
      const name = fnNode.childForFieldName('attribute')?.text;
      // super().__init__(...) reaching a torch layer builds that layer with these arguments.
      const layer = f.self ? this.torchBaseOf(f.self.cls) : undefined;
      if (name === '__init__' && f.self && layer && !(f.self.cls.base && findMethod(f.self.cls.base, '__init__'))) {
        const a = this.evalArgs(n, f);
        f.self.torch = { kind: 'torchmodule', type: layer, args: a.args, kwargs: a.kwargs, node: n };
        return { kind: 'none' };
      }
      if (name && f.self && f.self.cls.base) {
        const m = findMethod(f.self.cls.base, name);
        if (m) {
          const a = this.evalArgs(n, f);
          return this.runFunction(m, a.args, a.kwargs, f.self, false, name === 'forward');
        }
      }
      return { kind: 'none' };
    }
    // setattr(self, f"block{i + 1}", block) in `__init__` names the attribute as assignment
    // would, unless other methods set attributes by name too; getattr(obj, "name") reads it.
    if (fnNode.type === 'identifier' && (fnNode.text === 'setattr' || fnNode.text === 'getattr') && !f.vars.has(fnNode.text) && !this.b.functions.has(fnNode.text)) {
      const a = this.evalArgs(n, f);
      const [obj, name, value] = a.args;
      if (fnNode.text === 'setattr') {
        if (obj && obj === f.self && f.name === '__init__' && name?.kind === 'str' && value && !this.b.reassigned.has(name.value) && !setsAttributesElsewhere(f.self.cls.node)) f.self.attrs.set(name.value, value);
        else if (obj?.kind === 'instance' && name?.kind === 'str') obj.attrs.set(name.value, UNKNOWN);
        return { kind: 'none' };
      }
      if (!obj || name?.kind !== 'str' || a.args.length > 2 || a.argNodes[1]?.type === 'identifier') return UNKNOWN;
      if (obj.kind === 'instance' && !obj.attrs.has(name.value)) return UNKNOWN;
      return this.attributeOf(obj, name.value, n, a.argNodes[1] ?? n);
    }
    let callee: Value;
    if (fnNode.type === 'attribute') {
      // The object is evaluated once; `model.eval()`, `layer.to(device)` return the module itself.
      const objNode = fnNode.childForFieldName('object');
      const attrNode = fnNode.childForFieldName('attribute');
      if (!objNode || !attrNode) return UNKNOWN;
      const obj = this.expr(objNode, f);
      if (MODULE_SELF_METHODS.has(attrNode.text) && (obj.kind === 'torchmodule' || (obj.kind === 'instance' && obj.cls.isModule && !findMethod(obj.cls, attrNode.text)))) {
        this.evalArgs(n, f);
        return obj;
      }
      // self.register_buffer("name", t) makes t the attribute self.name, as assignment would.
      if (obj.kind === 'instance' && obj.cls.isModule && ['register_buffer', 'register_parameter'].includes(attrNode.text) && !findMethod(obj.cls, attrNode.text)) {
        const a = this.evalArgs(n, f);
        const name = a.args[0] ?? a.kwargs.name;
        const t = a.args[1] ?? a.kwargs.tensor ?? a.kwargs.param;
        if (name?.kind === 'str' && t) obj.attrs.set(name.value, attrNode.text === 'register_parameter' && isTensor(t) ? { ...t, mask: undefined } : t);
        return { kind: 'none' };
      }
      // A list, nn.ModuleList or nn.Sequential grows in place: exactly when the appends run a
      // known number of times, otherwise its items are representatives and its length unknown.
      const growable = (obj.kind === 'tuple' && !obj.shapeOf) || (obj.kind === 'torchmodule' && !!obj.items && (obj.type === 'ModuleList' || obj.type === 'Sequential'));
      if (growable && LIST_MUTATORS.has(attrNode.text)) {
        const list = obj as TupleV | TorchModuleV;
        const items = list.kind === 'tuple' ? list.items : list.items!;
        const a = this.evalArgs(n, f);
        const m = attrNode.text;
        if (m === 'append' && a.args.length === 1) items.push(a.args[0]);
        else if (m === 'insert' && a.args.length === 2) items.push(a.args[1]);
        else if (m === 'extend' && a.args[0]?.kind === 'tuple') items.push(...a.args[0].items);
        else list.inexact = true;
        if (this.openLoops > 0 || (a.args[0]?.kind === 'tuple' && a.args[0].inexact)) list.inexact = true;
        // ModuleList.append returns the module list; list.append returns None.
        return m === 'pop' ? UNKNOWN : list.kind === 'torchmodule' ? list : { kind: 'none' };
      }
      callee = this.attributeOf(obj, attrNode.text, fnNode, attrNode);
    } else callee = this.expr(fnNode, f);
    const a = this.evalArgs(n, f);
    if (a.kwargs['*'] || a.kwargs['**']) {
      // torch's factories return a tensor whatever sizes a `*sizes` spreads; only its shape is unknown.
      if (callee.kind === 'qual' && TENSOR_FACTORIES.test(callee.path)) return { kind: 'tensor', dtype: /\.randint$/.test(callee.path) ? 'long' : 'float' };
      return UNKNOWN;
    }
    return this.apply(callee, a.args, a.kwargs, a.argNodes, a.kwargNodes, n, fnNode);
  }

  /** The calls of the file's classes and functions being evaluated, innermost last, with what they passed. */
  private readonly callStack: { node: Node; passed: Value[]; top: boolean }[] = [];

  /**
   * Where a mistake made of these values is the caller's: the outermost call of the chain now
   * being evaluated through which every one of them was passed unchanged (an argument handed on
   * from parameter to parameter), inside the file's functions and classes. Undefined when the
   * innermost call did not pass them all (the values were computed where the mistake shows) or
   * is a top-level driver's. With `carries`, an argument that carries what the finding is about
   * (the same axes in the same places) stands for a value computed from it.
   */
  blame(values: Value[], carries?: (v: Value, passed: Value) => boolean): Node | undefined {
    let site: Node | undefined;
    let vs: (Value | undefined)[] = values;
    for (let i = this.callStack.length - 1; i >= 0; i--) {
      const c = this.callStack[i];
      // A call at the top level is a driver trying the module: the module's code is reported.
      if (c.top) break;
      // A parameter's value as bound (named after the parameter) stands for the argument given.
      vs = vs.map((v) => (v && c.passed.includes(v) ? v : v && this.passedAs.has(v) && c.passed.includes(this.passedAs.get(v)!) ? this.passedAs.get(v) : v && carries ? c.passed.find((p) => carries(v, p)) : undefined));
      if (!vs.every(Boolean)) break;
      site = c.node;
    }
    return site;
  }

  /** A parameter's bound value that is a copy of the argument given (a size named after the parameter), with that argument. */
  private readonly passedAs = new WeakMap<Value, Value>();

  /** Calls a value that has been evaluated, with evaluated arguments. */
  private apply(callee: Value, args: Value[], kwargs: Record<string, Value>, argNodes: Node[], kwargNodes: Record<string, Node>, n: Node, fnNode: Node): Value {
    if (callee.kind !== 'class' && callee.kind !== 'instance' && callee.kind !== 'function') return this.applyInner(callee, args, kwargs, argNodes, kwargNodes, n, fnNode);
    // The parameters the positional arguments go to (`swapped-arguments`).
    const fn = callee.kind === 'function' ? callee.node : callee.kind === 'class' ? findMethod(callee.cls, '__init__') : findMethod(callee.cls, 'forward');
    if (fn && fn.type === 'function_definition' && argNodes.length >= 2) {
      const ps = this.params(fn);
      const bound = callee.kind !== 'function' || !!callee.self || ps[0]?.name === 'self';
      const names = ps.slice(bound ? 1 : 0);
      const plain = names.findIndex((p) => p.kind !== 'plain');
      this.emit({ kind: 'call', node: n, callee: fnNode.text, params: (plain < 0 ? names : names.slice(0, plain)).map((p) => p.name), argNodes, args });
    }
    this.callStack.push({ node: n, passed: [...args, ...Object.values(kwargs)], top: this.depth === 0 });
    try {
      return this.applyInner(callee, args, kwargs, argNodes, kwargNodes, n, fnNode);
    } finally {
      this.callStack.pop();
    }
  }

  private applyInner(callee: Value, args: Value[], kwargs: Record<string, Value>, argNodes: Node[], kwargNodes: Record<string, Node>, n: Node, fnNode: Node): Value {
    switch (callee.kind) {
      case 'class':
        return this.instantiate(callee.cls, args, kwargs, n, false);
      case 'instance':
        passMasks({ kwargs, kwargNodes });
        return this.callInstance(callee, args, kwargs, n, false);
      case 'function':
        passMasks({ kwargs, kwargNodes });
        if (callee.self) return this.runFunction(callee.node, args, kwargs, callee.self, false, false);
        if (callee.closure) return this.runFunction(callee.node, args, kwargs, undefined, false, false, callee.closure);
        return this.callFunction(callee.node, args, kwargs, undefined, false);
      case 'torchmodule':
        return this.callModule(callee, args, kwargs, argNodes, kwargNodes, n);
      case 'alt':
        return this.callAlternatives(callee, args, kwargs, argNodes, kwargNodes, n);
      case 'partial':
        return this.apply(callee.fn, [...callee.args, ...args], { ...callee.kwargs, ...kwargs }, [...callee.argNodes, ...argNodes], { ...callee.kwargNodes, ...kwargNodes }, n, fnNode);
      case 'method':
        return this.tensorOp(callee.name, [callee.self, ...args], kwargs, [fnNode.childForFieldName('object') ?? undefined, ...argNodes], kwargNodes, n, fnNode.childForFieldName('attribute') ?? fnNode);
      case 'qual':
        return this.qualCall(callee.path, args, kwargs, argNodes, kwargNodes, n, fnNode);
      default:
        return UNKNOWN;
    }
  }

  /**
   * A call of one of several modules: each runs without reporting (which one runs is not
   * known, so neither its findings nor its lines' shapes are facts) and the results join.
   */
  private callAlternatives(alt: AltV, args: Value[], kwargs: Record<string, Value>, argNodes: Node[], kwargNodes: Record<string, Node>, n: Node): Value {
    const results: Value[] = [];
    this.speculative++;
    this.alternatives++;
    try {
      for (const m of alt.items) {
        if (m.kind === 'torchmodule') results.push(this.callModule(m, args, kwargs, argNodes, kwargNodes, n));
        else if (m.kind === 'instance') results.push(this.callInstance(m, args, kwargs, n, false));
      }
    } finally {
      this.speculative--;
      this.alternatives--;
    }
    return results.length ? this.join(results) : UNKNOWN;
  }

  private qualCall(path: string, args: Value[], kwargs: Record<string, Value>, argNodes: Node[], kwargNodes: Record<string, Node>, n: Node, fnNode: Node): Value {
    const nnModule = S.newModule(this.host, path, args, kwargs, argNodes, kwargNodes, n, (x) => this.isLiteral(x));
    if (nnModule) return nnModule;
    const short = path.replace(/^torch\.nn\.functional\./, 'F.').replace(/^torch\./, 'torch.');
    const nameNode = fnNode.type === 'attribute' ? fnNode.childForFieldName('attribute') ?? fnNode : fnNode;
    switch (path) {
      // A copy has the shapes of what it copies (`clones(layer, N)` deep-copies one module N times).
      case 'copy.deepcopy':
      case 'copy.copy':
        return args[0] ?? UNKNOWN;
      case 'functools.partial':
        return args[0] && args[0].kind !== 'unknown' ? { kind: 'partial', fn: args[0], args: args.slice(1), kwargs, argNodes: argNodes.slice(1), kwargNodes } : UNKNOWN;
      case 'math.sqrt':
      case 'numpy.sqrt': {
        const v = args[0];
        if (v?.kind === 'int') {
          const c = D.constValue(this.norm(v.dim));
          return { kind: 'num', value: c !== undefined ? Math.sqrt(c) : undefined, scale: { base: v.dim, exp: 0.5, node: n } };
        }
        if (v?.kind === 'num') return { kind: 'num', value: v.value !== undefined ? Math.sqrt(v.value) : undefined, scale: v.scale ? { base: v.scale.base, exp: v.scale.exp / 2, node: n } : undefined };
        return { kind: 'num' };
      }
      case 'torch.finfo': {
        // The limits of a float dtype (float32's unless the dtype is named): `-finfo(x.dtype).max`
        // fills a mask as -inf does; every float dtype's max is above 6e4.
        const d = args[0]?.kind === 'qual' ? args[0].path.split('.').pop()! : '';
        const max = /^(float16|half)$/.test(d) ? 65504 : /^(float64|double)$/.test(d) ? Number.MAX_VALUE : /^bfloat16$/.test(d) ? 3.3895313892515355e38 : 3.4028234663852886e38;
        return { kind: 'tuple', items: [{ kind: 'num', value: max }, { kind: 'num', value: -max }], names: ['max', 'min'] };
      }
      case 'math.log2':
      case 'math.log':
      case 'math.log10':
      case 'math.exp': {
        // A float of a number (`math.log2(n_heads)`); its value where the argument's is known.
        const x = args[0] ? numValue(args[0]) : undefined;
        const fn = path === 'math.log2' ? Math.log2 : path === 'math.log10' ? Math.log10 : path === 'math.exp' ? Math.exp : Math.log;
        const value = x !== undefined && args.length === 1 ? fn(x) : undefined;
        return args[0]?.kind === 'int' || args[0]?.kind === 'num' ? { kind: 'num', value: value !== undefined && Number.isFinite(value) ? value : undefined } : UNKNOWN;
      }
      case 'math.floor':
      case 'math.ceil': {
        // An integer: the value where the argument's is known, else one nothing is known of.
        const v = args[0];
        if (v?.kind === 'int') return v;
        if (v?.kind !== 'num') return UNKNOWN;
        return v.value !== undefined ? intV(D.dconst(path === 'math.floor' ? Math.floor(v.value) : Math.ceil(v.value))) : intV(this.fresh('n'));
      }
      case 'math.pow': {
        const v = args[0];
        const e = args[1] ? numValue(args[1]) : undefined;
        if (v?.kind === 'int' && e !== undefined) return { kind: 'num', scale: { base: v.dim, exp: e } };
        return { kind: 'num' };
      }
      case 'builtins.float': {
        const v = args[0];
        if (v?.kind === 'str') return { kind: 'num', value: Number(v.value.replace('inf', 'Infinity')) };
        if (v?.kind === 'int') return { kind: 'num', value: D.constValue(this.norm(v.dim)), scale: { base: v.dim, exp: 1 } };
        return v?.kind === 'num' ? v : { kind: 'num' };
      }
      case 'builtins.int': {
        const v = args[0];
        if (v?.kind === 'int') return v;
        if (v?.kind === 'num' && v.countOf) return { ...intV(this.fresh('n')), countOf: v.countOf };
        if (v?.kind === 'num' && v.value !== undefined) return intV(D.dconst(Math.trunc(v.value)));
        if (v?.kind === 'num' && v.size) return intV(v.size);
        // `int(2 * hidden_dim / 3)`: no symbolic form, but its value at the defaults is known.
        if (v?.kind === 'num' && v.atDefaults) {
          const at = v.atDefaults;
          const q = this.derivedSize('n', at.from, () => Math.trunc(at.value));
          if (q) return intV(q);
        }
        return intV(this.fresh('n'));
      }
      case 'builtins.len': {
        const v = args[0];
        if (v?.kind === 'tuple' && !(v.shapeOf && !v.shapeOf.axes) && !v.inexact) return intV(D.dconst(v.items.length));
        if (isTensor(v) && v.axes?.length) return intV(v.axes[0].size);
        if (v?.kind === 'torchmodule' && v.items && !v.inexact) return intV(D.dconst(v.items.length));
        return intV(this.fresh('n'));
      }
      case 'builtins.range': {
        const stop = args.length === 1 ? numValue(args[0]) : undefined;
        if (stop !== undefined && stop <= 16) return { kind: 'tuple', items: Array.from({ length: stop }, (_, i) => intV(D.dconst(i))) };
        return UNKNOWN;
      }
      case 'builtins.tuple':
      case 'builtins.list':
        return args[0]?.kind === 'tuple' ? { kind: 'tuple', items: args[0].items } : UNKNOWN;
      case 'builtins.isinstance': {
        const known = args.length === 2 ? builtinIsinstance(args[0], args[1]) : undefined;
        return known === undefined ? { kind: 'bool' } : { kind: 'bool', value: known };
      }
      case 'builtins.hasattr':
        return { kind: 'bool' };
      case 'builtins.max':
      case 'builtins.min': {
        const nums = args.map((x) => (x.kind === 'int' ? D.constValue(this.norm(x.dim)) : undefined));
        if (nums.length >= 2 && nums.every((x) => x !== undefined)) return intV(D.dconst(path.endsWith('max') ? Math.max(...(nums as number[])) : Math.min(...(nums as number[]))));
        // `max(in_channels // 2, 1)`: a positive size is at least 1.
        const size = args.length === 2 ? args.findIndex((x, i) => x.kind === 'int' && this.positiveSize(x.dim) && (nums[1 - i] ?? 2) <= 1) : -1;
        if (size >= 0) return path.endsWith('max') ? args[size] : args[1 - size];
        return intV(this.fresh('n'));
      }
      // Weight reparametrisations return the module they wrap (SAGAN's spectral-norm convs).
      case 'torch.nn.utils.spectral_norm':
      case 'torch.nn.utils.weight_norm':
      case 'torch.nn.utils.parametrizations.spectral_norm':
      case 'torch.nn.utils.parametrizations.weight_norm':
      case 'torch.nn.utils.parametrizations.orthogonal':
        return args[0] ?? kwargs.module ?? UNKNOWN;
      case 'builtins.print':
      case 'builtins.super':
        return { kind: 'none' };
      // Over tuples and module lists of known length: the tuple of tuples, as long as the shortest
      // (`for lin, x in zip(self.linears, (query, key, value))`).
      case 'builtins.zip': {
        const seqs = args.map((a) => this.exactItems(a));
        if (seqs.length === 0 || seqs.some((q) => !q) || Object.keys(kwargs).some((k) => k !== 'strict')) return UNKNOWN;
        const len = Math.min(...seqs.map((q) => q!.length));
        return { kind: 'tuple', items: Array.from({ length: len }, (_, i) => ({ kind: 'tuple', items: seqs.map((q) => q![i]) }) as Value) };
      }
      case 'builtins.enumerate': {
        const items = args.length === 1 ? this.exactItems(args[0]) : undefined;
        if (!items) return UNKNOWN;
        return { kind: 'tuple', items: items.map((x, i) => ({ kind: 'tuple', items: [intV(D.dconst(i)), x] }) as Value) };
      }
      case 'builtins.dict':
        return args.length === 0 ? { kind: 'dict', items: { ...kwargs } } : args.length === 1 && args[0].kind === 'dict' ? { kind: 'dict', items: { ...args[0].items, ...kwargs } } : UNKNOWN;
      case 'builtins.map': {
        // map(f, (a, b)) over a known tuple is (f(a), f(b)); `k, v = map(split, t.chunk(2, -1))`.
        const [fn, it] = args;
        if (args.length !== 2 || it?.kind !== 'tuple' || it.items.length > 16) return UNKNOWN;
        return { kind: 'tuple', items: it.items.map((x) => this.applyValue(fn, [x], n)) };
      }
    }
    const ein = S.einopsFunction(this.host, path, args, kwargs, argNodes, kwargNodes, n, nameNode);
    if (ein) return ein;
    if (path.startsWith('torch.') || path.startsWith('F.')) {
      const op = path.split('.').pop()!;
      void short;
      return this.torchFunction(op, path, args, kwargs, argNodes, kwargNodes, n, nameNode);
    }
    return UNKNOWN;
  }

  /** The items of a tuple or a module list whose length is known (at most 16), else undefined. */
  private exactItems(v: Value): Value[] | undefined {
    // A shape's sizes are exact once its tensor's rank is known.
    const items = v.kind === 'tuple' && !v.inexact && (!v.shapeOf || (!!v.shapeOf.axes && v.shapeOf.axes.length === v.items.length)) ? v.items : v.kind === 'torchmodule' && v.items && !v.inexact ? v.items : undefined;
    return items && items.length <= 16 ? items : undefined;
  }

  /** Calls a callable value with positional arguments only (what map() and friends do). */
  private applyValue(callee: Value, args: Value[], n: Node): Value {
    switch (callee.kind) {
      case 'function':
        if (callee.self) return this.runFunction(callee.node, args, {}, callee.self, false, false);
        if (callee.closure) return this.runFunction(callee.node, args, {}, undefined, false, false, callee.closure);
        return this.callFunction(callee.node, args, {}, undefined, false);
      case 'instance':
        return this.callInstance(callee, args, {}, n, false);
      case 'torchmodule':
        return this.callModule(callee, args, {}, [n], {}, n);
      default:
        return UNKNOWN;
    }
  }

  private isLiteral(n: Node): boolean {
    if (['integer', 'float', 'true', 'false', 'none', 'string'].includes(n.type)) return true;
    if (n.type === 'unary_operator') return n.namedChildren.every((c) => !c || this.isLiteral(c));
    if (n.type === 'identifier') {
      const v = this.globals.get(n.text);
      return !!v && (v.kind === 'int' || v.kind === 'num' || v.kind === 'bool') && (v.kind !== 'int' || D.isConst(v.dim));
    }
    if (n.type === 'binary_operator' || n.type === 'parenthesized_expression' || n.type === 'tuple') return n.namedChildren.every((c) => !c || this.isLiteral(c));
    return false;
  }

  // ---------------------------------------------------------------- torch semantics (semantics/)

  private torchFunction(op: string, path: string, args: Value[], kwargs: Record<string, Value>, argNodes: Node[], kwargNodes: Record<string, Node>, n: Node, nameNode: Node): Value {
    const r0 = S.torchFunction(this.host, op, path, args, kwargs, argNodes, kwargNodes, n, nameNode);
    const r = isTensor(args[0]) && path === `torch.${op}` ? this.seededMaskThrough(op, args[0], r0, argNodes[0], args, kwargs) : r0;
    // A torch function returns the class of its tensor arguments (`__torch_function__`): given
    // only values of unknown class (`torch.stack(tensors)` of a parameter nobody typed), it may
    // return a tensor subclass with methods of its own. Factories return plain tensors.
    if (!isTensor(r) || r.hypothetical || r.failed || S.isFactory(op, path)) return r;
    let known = false;
    let unknownClass = false;
    const see = (v: Value): void => {
      if (isTensor(v) && !v.hypothetical) known = true;
      else if (v.kind === 'unknown' || isTensor(v)) unknownClass = true;
    };
    // The arguments, and the items of a list of them (`torch.stack(tensors)`).
    for (const v of [...args, ...Object.values(kwargs)]) {
      if (v.kind === 'tuple') v.items.forEach(see);
      else see(v);
    }
    return !known && unknownClass ? { ...r, hypothetical: true } : r;
  }

  private tensorOp(op: string, args: Value[], kwargs: Record<string, Value>, argNodes: (Node | undefined)[], kwargNodes: Record<string, Node>, n: Node, nameNode: Node): Value {
    const r = this.seededMaskThrough(op, args[0] as TensorV, S.tensorOp(this.host, op, args, kwargs, argNodes, kwargNodes, n, nameNode), n.childForFieldName('function')?.childForFieldName('object'), args, kwargs);
    // A method of a tensor taken for one by hypothesis (a duck-typed object, a subclass) gives
    // a tensor by hypothesis: `q_t = query.transpose(1, 2)` of a nested tensor is one too.
    if (!(args[0] as TensorV).hypothetical || (isTensor(r) && r.countOf)) return r;
    const hyp = (v: Value): Value => (isTensor(v) && !v.hypothetical && !v.failed ? { ...v, hypothetical: true } : v);
    return r.kind === 'tuple' ? { ...r, items: r.items.map(hyp) } : hyp(r);
  }

  /**
   * A seeded mask through a tensor op (see `MaskCell`): ops that move or copy its cells keep its
   * origin, `logical_not` flips it; a cumulative sum numbers the tokens it is True at (DETR's
   * `(~mask).cumsum(1)`, position ids from `attention_mask.cumsum(-1)`), so those are the tokens
   * kept; a sum along an axis counts them, and its largest count (`.max().item()`) stays a count.
   * Every other op makes something else.
   */
  private seededMaskThrough(op: string, t: TensorV, r: Value, input: Node | null | undefined, args: Value[], kwargs: Record<string, Value>): Value {
    if (!isTensor(t) || (!t.maskOf && !t.countOf)) return isTensor(r) && (r.maskOf || r.countOf) ? { ...r, maskOf: undefined, countOf: undefined } : r;
    const alongAxis = (op === 'sum' || op === 'max' || op === 'amax') && rowsKept(args, kwargs);
    if (t.maskOf && op === 'cumsum') {
      const m = input && input.text.length <= 40 ? input.text : t.maskOf.flipped ? `~${t.maskOf.cell.name}` : t.maskOf.cell.name;
      this.countedAsKept(t.maskOf, `the cumulative sum of ${m} numbers the positions where it is True, the real ones`);
    }
    const keep = t.maskOf && MASK_MOVES.has(op) ? t.maskOf : undefined;
    const maskOf = op === 'logical_not' ? flipOrigin(t.maskOf) : keep;
    // A count along an axis is one count per row; the largest of them all is one number.
    const countOf = t.maskOf && op === 'sum' ? { ...t.maskOf, perRow: alongAxis } : t.countOf && (op === 'max' || op === 'amax') ? { ...t.countOf, perRow: t.countOf.perRow && alongAxis } : undefined;
    if (op === 'item' && t.countOf && r.kind === 'num') return { ...r, countOf: t.countOf };
    if (!isTensor(r)) return r;
    // A count of a mask's cells is a tensor whatever the mask was taken for (`.item()` of it is a number).
    return r.maskOf === maskOf && r.countOf === countOf ? r : { ...r, maskOf, countOf, hypothetical: countOf ? undefined : r.hypothetical };
  }

  private callModule(m: TorchModuleV, args: Value[], kwargs: Record<string, Value>, argNodes: Node[], kwargNodes: Record<string, Node>, n: Node): Value {
    return S.callModule(this.host, m, args, kwargs, argNodes, kwargNodes, n);
  }
}

/** The shape a function's docstring or comments give its parameter `name` (see `Evaluator.docShape`), once per function node and name. */
const DOC_SHAPES = new WeakMap<Node, Map<string, string[] | undefined>>();

function docShapeOf(fn: Node, name: string): string[] | undefined {
  const body = fn.childForFieldName('body');
  const first = body?.namedChildren[0];
  const texts: string[] = [];
  if (first?.type === 'expression_statement' && first.namedChildren[0]?.type === 'string') texts.push(first.namedChildren[0].text);
  for (const c of fn.children) if (c?.type === 'comment') texts.push(c.text);
  for (const c of body?.children ?? []) if (c?.type === 'comment') texts.push(c.text);
  // A shape: two or more names, or one with Python's trailing comma (`(B,)`).
  const shape = String.raw`[\[(]\s*([A-Za-z_\d]\w*(?:\s*,\s*[A-Za-z_\d]\w*)+\s*,?|[A-Za-z_\d]\w*\s*,)\s*[\])]`;
  const sizes = (g: string) => g.split(',').map((x) => x.trim()).filter(Boolean);
  for (const t of texts) {
    // Both readings need the name and a bracket.
    if (!t.includes(name) || !/[[(]/.test(t)) continue;
    // A docstring that opens with the signature's shapes, `(B,) lengths -> (B, S) bool`: the
    // shape before the parameter's name is its shape when at most the result's follows.
    const lead = new RegExp(String.raw`^[rRuU]?(?:"{3}|'{3}|"|')\s*${shape}[ \t]+${name}\b`).exec(t);
    if (lead) {
      const after = t.slice(lead[0].length).split('\n')[0].replace(new RegExp(String.raw`^\s*->\s*${shape}`), '');
      return new RegExp(shape).test(after) ? undefined : sizes(lead[1]);
    }
    // The parameter's own name, as written (`nn.Linear(20, 10)` in an example is no shape of `linear`).
    // On one line: `qconfig:` ending a line is followed by prose, not by its shape.
    const re = new RegExp(String.raw`(?<![.\w])${name}\b[ \t]*:?[ \t]*(?:[Tt]ensor[ \t]*)?(?:of[ \t]+shape[ \t]*)?${shape}`);
    const m = re.exec(t);
    if (!m) continue;
    // `x: (b, c, t, h, w) for 3D, (b, c, h, w) for 2D`: alternatives, not one shape.
    // After `x: (B, T, C)`, another parameter's shape (`, keep: (B, T)`) or the result's
    // (`-> (B, C)`) on the line is not one (`(B, nh, T, hs) x (B, nh, hs, T) -> ...` is prose).
    const line = t.slice(m.index + m[0].length).split('\n')[0];
    const rest = !/^[^[(]*:/.test(m[0]) ? line : line.replace(/(?:[A-Za-z_]\w*\s*:|->)\s*[[(]\s*[A-Za-z_\d]\w*(?:\s*,\s*[A-Za-z_\d]\w*)+\s*[\])]/g, '');
    if (/[[(]\s*[A-Za-z_\d]\w*(?:\s*,\s*[A-Za-z_\d]\w*)+\s*[\])]/.test(rest)) return undefined;
    return sizes(m[1]);
  }
  return undefined;
}

/** A function's parameters as written (`self` included), once per function node: syntax does not change. */
interface Param {
  name: string;
  node: Node;
  def?: Node;
  ann?: Node;
  kind: 'plain' | 'star' | 'kwstar';
}

const PARAMS = new WeakMap<Node, readonly Param[]>();

function paramsOf(fn: Node): Param[] {
  const out: Param[] = [];
  for (const p of fn.childForFieldName('parameters')?.namedChildren ?? []) {
    if (!p) continue;
    if (p.type === 'identifier') out.push({ name: p.text, node: p, kind: 'plain' });
    else if (p.type === 'default_parameter' || p.type === 'typed_default_parameter') {
      const name = p.childForFieldName('name');
      if (name) out.push({ name: name.text, node: p, def: p.childForFieldName('value') ?? undefined, ann: p.childForFieldName('type') ?? undefined, kind: 'plain' });
    } else if (p.type === 'typed_parameter') {
      const id = p.namedChildren.find((c) => c?.type === 'identifier');
      const star = p.namedChildren.find((c) => c?.type === 'list_splat_pattern' || c?.type === 'dictionary_splat_pattern');
      if (id) out.push({ name: id.text, node: p, ann: p.childForFieldName('type') ?? undefined, kind: 'plain' });
      else if (star) out.push({ name: star.namedChildren[0]?.text ?? '_', node: p, kind: star.type === 'list_splat_pattern' ? 'star' : 'kwstar' });
    } else if (p.type === 'list_splat_pattern') out.push({ name: p.namedChildren[0]?.text ?? '_', node: p, kind: 'star' });
    else if (p.type === 'dictionary_splat_pattern') out.push({ name: p.namedChildren[0]?.text ?? '_', node: p, kind: 'kwstar' });
  }
  return out;
}

/**
 * The local names a condition tests against a class other than torch's tensor classes
 * (`isinstance(x, C)`, `type(x) is C`, `type(x) == C`), inside `and`/`or`/`not` and
 * parentheses; each with whether it sits under an odd number of `not`s.
 */
function narrowings(cond: Node | null, negated: boolean): [string, boolean][] {
  if (!cond) return [];
  switch (cond.type) {
    case 'parenthesized_expression':
      return narrowings(cond.namedChildren[0] ?? null, negated);
    case 'not_operator':
      return narrowings(cond.childForFieldName('argument'), !negated);
    case 'boolean_operator':
      return [...narrowings(cond.childForFieldName('left'), negated), ...narrowings(cond.childForFieldName('right'), negated)];
    case 'call': {
      if (cond.childForFieldName('function')?.text !== 'isinstance') return [];
      const args = cond.childForFieldName('arguments')?.namedChildren ?? [];
      if (args.length !== 2 || args[0]?.type !== 'identifier' || TENSOR_CLASS.test(args[1]?.text ?? '')) return [];
      return [[args[0].text, negated]];
    }
    case 'comparison_operator': {
      // `type(x) is C`, `type(x) == C`.
      const ops = cond.children.filter((c) => c && !c.isNamed).map((c) => c!.text);
      const [l, r] = cond.namedChildren;
      if (ops.length !== 1 || !['is', '=='].includes(ops[0]) || l?.type !== 'call' || l.childForFieldName('function')?.text !== 'type') return [];
      const a = l.childForFieldName('arguments')?.namedChildren ?? [];
      if (a.length !== 1 || a[0]?.type !== 'identifier' || TENSOR_CLASS.test(r?.text ?? '')) return [];
      return [[a[0].text, negated]];
    }
  }
  return [];
}

const TENSOR_CLASS = /^(torch\.)?(Tensor|nn\.Parameter|Parameter)$/;

/** Constructor parameters named for the width of a module's input. */
const INPUT_WIDTH = /^(in_channels|in_chans|in_ch|in_features|in_dim|input_dim|in_planes|inplanes|input_channels|input_size)$/;

/**
 * A reduction along one axis (`m.sum(dim=1)`) that keeps the first axis of its input: a dim of
 * 1 or more, or any dim of an input of two axes or more (`m.sum(0)` of a vector is one number).
 */
function rowsKept(args: Value[], kwargs: Record<string, Value>): boolean {
  const d = numValue(kwargs.dim ?? args[1] ?? UNKNOWN);
  const t = args[0];
  return d !== undefined && Number.isInteger(d) && (d >= 1 || (isTensor(t) && (t.axes?.length ?? 0) >= 2 && d !== 0));
}

/** Ops that move, copy or cast a mask's cells without changing what True means (see `seededMaskThrough`). */
const MASK_MOVES = new Set([
  'unsqueeze', 'squeeze', 'flatten', 'view', 'reshape', 'expand', 'expand_as', 'repeat', 'repeat_interleave', 'transpose', 'permute',
  'contiguous', 'clone', 'detach', 'to', 'bool', 'long', 'int', 'byte', 'type', 'type_as', 'unflatten',
]);

export { dotted };

/** Two mask facts that say the same: one polarity, kind of values, triangle and caller. */
/**
 * `isinstance(v, tuple)` (or a tuple of builtin types) when the value's Python type is known:
 * an int is no tuple, a tensor no int. Sequences are one kind of value here, so a sequence is
 * an instance only when both `tuple` and `list` are named, and no instance when neither is.
 * Any other class, or a value of unknown type, leaves the answer unknown.
 */
function builtinIsinstance(v: Value, cls: Value): boolean | undefined {
  const classes = cls.kind === 'tuple' && !cls.inexact ? cls.items : [cls];
  const names: string[] = [];
  for (const c of classes) {
    const m = c.kind === 'qual' ? /^builtins\.(tuple|list|int|float|str|bool|dict)$/.exec(c.path) : null;
    if (!m) return undefined;
    names.push(m[1]);
  }
  const has = (t: string) => names.includes(t);
  switch (v.kind) {
    case 'int':
      return has('int');
    case 'bool':
      return has('bool') || has('int');
    case 'str':
      return has('str');
    case 'none':
    case 'tensor':
      return false;
    case 'dict':
      return has('dict');
    case 'tuple':
      if (v.shapeOf) return has('tuple');
      if (v.written) return has(v.written);
      if (has('tuple') && has('list')) return true;
      if (!has('tuple') && !has('list')) return false;
      return undefined;
    default:
      return undefined;
  }
}

function sameMask(a: TensorV['mask'], b: TensorV['mask']): boolean {
  if (!a || !b) return a === b;
  const ta = a.tri;
  const tb = b.tri;
  const sameTri = ta === tb || (!!ta && !!tb && ta.node === tb.node && ta.upper === tb.upper && ta.diagonal === tb.diagonal && ta.flipped === tb.flipped);
  return a.polarity === b.polarity && !!a.values01 === !!b.values01 && !!a.additive === !!b.additive && !!a.uniform === !!b.uniform && a.via === b.via && sameTri;
}

/** The seeded mask every path's value derives from the same way (see `MaskCell`), if one does. */
function sameOrigin(ts: TensorV[]): MaskOrigin | undefined {
  const o = ts[0].maskOf;
  return o && ts.every((v) => v.maskOf?.cell === o.cell && v.maskOf.flipped === o.flipped) ? o : undefined;
}

/** The names of PyTorch's padding masks (True at padding in its API): `key_padding_mask`, `src_key_padding_mask`, `pad_mask`. */
const PADDING_MASK = /^(\w+_)?(key_)?pad(ding)?_mask$/i;

/**
 * A mask handed to a module or function of the file under a padding mask's name
 * (`key_padding_mask=pad`) remembers that argument (the outermost call's): the name promises
 * PyTorch's convention, so if the mask reaches a torch consumer unchanged and with the wrong
 * meaning, the mistake is the caller's, and negating that argument repairs this call alone.
 */
function passMasks(a: { kwargs: Record<string, Value>; kwargNodes: Record<string, Node> }): void {
  for (const k of Object.keys(a.kwargs)) {
    const v = a.kwargs[k];
    if (PADDING_MASK.test(k) && isTensor(v) && v.mask && !v.mask.via && a.kwargNodes[k]) a.kwargs[k] = { ...v, mask: { ...v.mask, via: a.kwargNodes[k] } };
  }
}

/**
 * The modules a loop variable takes, where the call `fn` sits in `for fn in self.<list>:` in a
 * method of the instance's class and that list is a `ModuleList`/`Sequential` of known items.
 */
/**
 * What a function annotated `-> List[float]` returns when its body says nothing (ALiBi's
 * recursive `get_slopes`): a list of floats of unknown length, which `torch.tensor` makes one axis.
 */
function annotatedList(fn: Node): Value | undefined {
  const ann = fn.childForFieldName('return_type')?.text.replace(/\s+/g, '') ?? '';
  return /^(?:typing\.)?(?:List|list)\[float\]$/.test(ann) ? { kind: 'tuple', items: [{ kind: 'num' }], inexact: true } : undefined;
}

/** Whether a method of the class other than `__init__` calls setattr: names it sets are not known. */
function setsAttributesElsewhere(cls: Node): boolean {
  const find = (n: Node, inInit: boolean): boolean => {
    if (n.type === 'function_definition') inInit = n.childForFieldName('name')?.text === '__init__';
    if (!inInit && n.type === 'call' && n.childForFieldName('function')?.text === 'setattr') return true;
    return n.namedChildren.some((c) => !!c && find(c, inInit));
  };
  return find(cls, false);
}

function loopModules(fn: Node, self: InstanceV | undefined): Value[] | undefined {
  if (!self) return undefined;
  // Syntax nodes know their children only: the path from the class down to the call.
  const path: Node[] = [];
  const find = (n: Node): boolean => {
    if (n === fn) return true;
    path.push(n);
    for (const c of n.namedChildren) if (c && find(c)) return true;
    path.pop();
    return false;
  };
  if (!find(self.cls.node)) return undefined;
  for (let i = path.length - 1; i >= 0; i--) {
    const n = path[i];
    if (n.type === 'function_definition' || n.type === 'lambda' || n.type === 'class_definition') return undefined;
    if (n.type !== 'for_statement') continue;
    const left = n.childForFieldName('left');
    const right = n.childForFieldName('right');
    // `for attn, ff in self.layers:` over ModuleLists: the module at that position of each.
    const at = left?.type === 'pattern_list' || left?.type === 'tuple_pattern' ? left.namedChildren.findIndex((c) => c?.type === 'identifier' && c.text === fn.text) : left?.type === 'identifier' && left.text === fn.text ? -1 : undefined;
    if (at === undefined || (at < 0 && left?.type !== 'identifier')) continue;
    // The loop's own header is not its body.
    if (path[i + 1] === right || path[i + 1] === left) return undefined;
    if (right?.type !== 'attribute' || right.childForFieldName('object')?.text !== 'self') return undefined;
    const v = self.attrs.get(right.childForFieldName('attribute')?.text ?? '');
    if (v?.kind !== 'torchmodule' || !v.items?.length) return undefined;
    if (at < 0) return v.items;
    const width = left!.namedChildren.filter((c) => !!c).length;
    const items = v.items.map((row) => (row.kind === 'torchmodule' && (row.type === 'ModuleList' || row.type === 'Sequential') && row.items && !row.inexact && row.items.length === width ? row.items[at] : undefined));
    return items.every((x): x is Value => !!x) ? items : undefined;
  }
  return undefined;
}

/** A condition made only of comparisons (`inp == oup`, `a == b and c != d`): evaluating it has no effect. */
function comparisonsOnly(n: Node): boolean {
  const x = n.type === 'parenthesized_expression' ? n.namedChildren[0] : n;
  if (!x) return false;
  if (x.type === 'comparison_operator') return x.namedChildren.every((c) => !!c && /^(identifier|attribute|integer)$/.test(c.type));
  if (x.type === 'boolean_operator') return x.namedChildren.every((c) => !!c && comparisonsOnly(c));
  return false;
}

