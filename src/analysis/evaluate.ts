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
import type { Event, OpInfo } from './events';
import type { Node } from './parse';
import { einopsShape, einsumEquation, parseSide, type EinopsKind } from './ops/einops';
import { callSignature } from './ops';
import { TENSOR_ATTRIBUTES } from './torch-api';
import type { AltV, Axis, ClassInfo, InstanceV, IntV, Role, ScaleFact, SymObjV, TensorV, TorchModuleV, TupleV, Value } from './values';
import { UNKNOWN } from './values';
import { rankOfParameter, type CalleeRank, type RankEnv } from './rank-evidence';

export interface ShapeRecord {
  line: number;
  column: number;
  name: string;
  shape: string;
}

interface Frame {
  vars: Map<string, Value>;
  /** The values the parameters were bound to, before any reassignment. */
  params?: Value[];
  returns: Value[];
  self?: InstanceV;
  forward: boolean;
  /** The enclosing functions' variables, innermost first, for a nested function or lambda. */
  closure?: Map<string, Value>[];
  /** Run with seeded arguments (no caller): a tensor of unknown rank there says nothing. */
  seeded?: boolean;
}

class Budget extends Error {}

const MAX_DEPTH = 12;
const MAX_STEPS = 60000;

const SHAPE_PRESERVING_MODULES = new Set([
  'Dropout', 'Dropout1d', 'Dropout2d', 'ReLU', 'GELU', 'SiLU', 'Sigmoid', 'Tanh', 'Identity', 'LeakyReLU', 'ELU', 'Mish',
  'Hardswish', 'Hardsigmoid', 'ReLU6', 'Softplus', 'PReLU', 'SELU', 'Softsign', 'Tanhshrink', 'Hardtanh', 'GLU_',
]);
const ELEMENTWISE_FUNCS = new Set([
  'relu', 'gelu', 'silu', 'sigmoid', 'tanh', 'dropout', 'leaky_relu', 'elu', 'exp', 'log', 'abs', 'sqrt', 'rsqrt', 'neg',
  'clone', 'detach', 'float', 'half', 'double', 'bfloat16', 'contiguous', 'mish', 'hardswish', 'sin', 'cos', 'sign',
  'normalize', 'clamp', 'clip', 'relu_', 'sigmoid_', 'mul_', 'add_', 'tanh_', 'dropout1d', 'dropout2d', 'square', 'pow',
  'type_as', 'to', 'cpu', 'cuda', 'requires_grad_', 'zero_', 'fill_', 'nan_to_num', 'reciprocal', 'log_softmax', 'bool',
  'long', 'int', 'masked_fill', 'masked_fill_', 'softmax', 'erf', 'floor', 'ceil', 'round', 'logical_not', 'cumsum',
]);

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

/** Attributes a tensor shares with modules, arrays or Python objects: reading one proves nothing. */
const SHARED_ATTRIBUTES = new Set([
  'to', 'cuda', 'cpu', 'float', 'double', 'half', 'bfloat16', 'type', 'apply', 'requires_grad_', 'share_memory_',
  'copy', 'dtype', 'device', 'data', 'index', 'count', 'get', 'register_hook', 'names', 'is_sparse', 'is_cuda', 'storage',
  'item', 'tolist', 'split', 'join', 'replace', 'format', 'strip', 'lower', 'upper', 'startswith', 'endswith', 'add', 'update',
  'pop', 'clear', 'extend', 'append', 'insert', 'remove', 'sort', 'reverse', 'values', 'keys', 'items',
]);

/** Layers whose usual input is a batch of N-d maps, and that rank (B, C and the spatial axes). */
const BATCHED_RANK: Record<string, number> = {
  Conv1d: 3, Conv2d: 4, Conv3d: 5, ConvTranspose1d: 3, ConvTranspose2d: 4, ConvTranspose3d: 5,
  BatchNorm2d: 4, BatchNorm3d: 5, InstanceNorm2d: 4, InstanceNorm3d: 5,
  MaxPool1d: 3, MaxPool2d: 4, MaxPool3d: 5, AvgPool1d: 3, AvgPool2d: 4, AvgPool3d: 5,
  AdaptiveAvgPool1d: 3, AdaptiveAvgPool2d: 4, AdaptiveAvgPool3d: 5, AdaptiveMaxPool1d: 3, AdaptiveMaxPool2d: 4, AdaptiveMaxPool3d: 5,
};

/** Layers whose output has their input's shape, whatever its rank. */
const RANK_SAME_MODULES = new Set([
  'LayerNorm', 'RMSNorm', 'Dropout', 'Identity', 'GELU', 'ReLU', 'ReLU6', 'SiLU', 'Tanh', 'Sigmoid', 'Softmax', 'LeakyReLU',
  'ELU', 'Mish', 'Hardswish', 'Hardsigmoid', 'Softplus', 'PReLU', 'SELU', 'CELU', 'GroupNorm',
]);

/** What an operation shown to raise returns (a new object: values are sometimes refined in place). */
function failed(): TensorV {
  return { kind: 'tensor', failed: true };
}

/** List methods that change a list in place. */
const LIST_MUTATORS = new Set(['append', 'extend', 'insert', 'pop', 'remove', 'clear', 'reverse', 'sort']);

/** nn.Module methods that return the module itself. */
const MODULE_SELF_METHODS = new Set(['eval', 'train', 'to', 'cuda', 'cpu', 'float', 'double', 'half', 'bfloat16', 'requires_grad_', 'apply', 'zero_grad', 'share_memory', 'to_empty']);

function roleFromName(name: string, all: string[]): Role | undefined {
  const n = name.toLowerCase().replace(/^self\./, '');
  if (/^(b|n|bs|nb|batch|batch_size|bsz|num_batches)$/.test(n)) return 'batch';
  if (/^(l|s|t|seq|seq_len|seqlen|length|len|n_tokens|num_tokens|tokens|q_len|k_len|kv_len|src_len|tgt_len|seq_length|n_seq|max_len|num_patches|np)$/.test(n)) return 'seq';
  if (/^(c|d|e|dim|d_model|embed_dim|channels|in_channels|hidden|hidden_dim|hidden_size|emb|emb_dim|embedding_dim|d_embed|n_embd|model_dim|c_in|in_dim|feat|features|num_channels)$/.test(n)) return 'chan';
  if (/^(heads|num_heads|n_heads|nhead|nh|n_head)$/.test(n)) return 'head';
  if (/^(hd|head_dim|dh|d_k|dk|d_head|d_v|dv|head_size|c_head|dim_head)$/.test(n)) return 'hdim';
  if (/^(w|height|width|hh|ww|x_h|x_w)$/.test(n)) return 'space';
  if (n === 'h') return all.some((a) => /^w$/i.test(a)) ? 'space' : 'head';
  return undefined;
}

/** torch functions that always return one floating (randint: integer) tensor, whatever their size arguments. */
const TENSOR_FACTORIES = /^torch\.(randn|rand|zeros|ones|empty|randint)$/;

function numValue(v: Value): number | undefined {
  if (v.kind === 'int') return D.constValue(v.dim);
  if (v.kind === 'num') return v.value;
  if (v.kind === 'bool') return v.value === undefined ? undefined : v.value ? 1 : 0;
  return undefined;
}

function isTensor(v: Value | undefined): v is TensorV {
  return v?.kind === 'tensor';
}

function intV(dim: Dim, name?: string): IntV {
  return name ? { kind: 'int', dim, name } : { kind: 'int', dim };
}

function contiguousStrides(sizes: Dim[]): Dim[] {
  const out: Dim[] = new Array(sizes.length);
  let acc = D.dconst(1);
  for (let i = sizes.length - 1; i >= 0; i--) {
    out[i] = acc;
    acc = D.mul(acc, sizes[i]);
  }
  return out;
}

export class Evaluator {
  readonly records: ShapeRecord[] = [];
  private readonly subst = new Map<string, Dim>();
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
  ) {}

  /**
   * Above 0 while evaluating a branch that a known condition skips (`if not self.batch_first:`
   * with `batch_first=True` at the call): only `attribute` events get through then — a name that
   * no tensor has (`x.permutation`) is wrong whatever the flags are, while shape facts in a branch
   * that does not run for these arguments prove nothing. Nothing the branch assigns survives it.
   */
  private speculative = 0;

  private emit(e: Event): void {
    if (this.speculative > 0 && e.kind !== 'attribute') return;
    this.sink(e);
  }

  // ---------------------------------------------------------------- dims

  norm(d: Dim): Dim {
    if (this.subst.size === 0) return d;
    let cur = d;
    for (let i = 0; i < 4; i++) {
      const next = D.substitute(cur, (s) => this.subst.get(s));
      if (D.equal(next, cur)) break;
      cur = next;
    }
    return cur;
  }

  compare(a: Dim, b: Dim): D.Cmp {
    return D.compare(this.norm(a), this.norm(b));
  }

  same(a: Dim, b: Dim): boolean {
    return D.equal(this.norm(a), this.norm(b));
  }

  /** Records a == b when nothing proves otherwise; returns the comparison before unifying. */
  unify(a: Dim, b: Dim): D.Cmp {
    const na = this.norm(a);
    const nb = this.norm(b);
    const c = D.compare(na, nb);
    if (c !== 'unknown') return c;
    const sa = D.asSymbol(na);
    if (sa && !D.symbolsOf(nb).has(sa)) {
      this.subst.set(sa, nb);
      return 'unknown';
    }
    const sb = D.asSymbol(nb);
    if (sb && !D.symbolsOf(na).has(sb)) this.subst.set(sb, na);
    return 'unknown';
  }

  fresh(name: string): Dim {
    return D.dsym(`${name}#${++this.symCount}`);
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

  /**
   * The strides of an elementwise op's result on t: torch keeps the layout of a dense input
   * (a permuted contiguous tensor stays permuted) and makes anything else (a strided slice, a
   * selected column) contiguous. Unknown when density cannot be proved.
   */
  private elementwiseLayout(t: TensorV): Dim[] | undefined {
    if (!t.axes || !t.strides || t.strides.length !== t.axes.length) return undefined;
    const ax = t.axes.map((a, i) => ({ size: this.norm(a.size), stride: this.norm(t.strides![i]) }))
      .filter((a) => D.constValue(a.size) !== 1);
    if (ax.length === 0) return t.strides;
    // Order by stride, innermost first: each stride must be the product of the sizes inside it.
    const left = [...ax];
    let expect = D.dconst(1);
    while (left.length) {
      const k = left.findIndex((a) => D.equal(a.stride, expect));
      if (k < 0) {
        // Proven not dense only when every size and stride is a number: then contiguous.
        const known = ax.every((a) => D.constValue(a.stride) !== undefined && D.constValue(a.size) !== undefined);
        return known ? contiguousStrides(t.axes.map((a) => a.size)) : undefined;
      }
      const [a] = left.splice(k, 1);
      expect = D.mul(expect, a.size);
    }
    return t.strides;
  }

  private shapeText(t: TensorV): string {
    return t.axes ? `(${t.axes.map((a) => D.format(this.norm(a.size))).join(', ')})` : '?';
  }

  // ---------------------------------------------------------------- driver

  run(): void {
    const frame: Frame = { vars: this.globals, returns: [], forward: false };
    this.block(this.stmts as Node[], frame);
    // Exercise what the file itself did not. A class the file's own code built (a driver) is
    // shown as built; one built only inside another class nobody built (BasicConv(2, 1) in a
    // spatial gate) is also exercised on its own, so its shapes hold for every construction.
    const built = new Set(this.instantiated);
    // A helper function is also run on its own unless the file's own code called it: a call
    // from a module run without a caller passes what is known there, often nothing.
    const driven = new Set(this.calledFunctions);
    for (const cls of this.b.classList) {
      if (!cls.isModule || built.has(cls)) continue;
      this.guard(() => this.instantiate(cls, [], {}, undefined, true));
    }
    for (const inst of [...this.instances]) {
      if (inst.called) continue;
      this.guard(() => this.callInstance(inst, [], {}, undefined, true));
    }
    for (const fn of this.b.functionList) {
      if (driven.has(fn)) continue;
      this.guard(() => this.callFunction(fn, [], {}, undefined, true));
    }
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
      if (!s) continue;
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
        if (f.forward) this.emit({ kind: 'return', node: s, value: v, params: f.params ?? [] });
        return;
      }
      case 'if_statement':
        return this.ifStmt(s, f);
      case 'for_statement':
        return this.forStmt(s, f);
      case 'while_statement':
        this.openLoops++;
        try {
          return this.block(this.body(s.childForFieldName('body')), f);
        } finally {
          this.openLoops--;
        }
      case 'with_statement':
        return this.block(this.body(s.childForFieldName('body')), f);
      case 'try_statement': {
        this.block(this.body(s.childForFieldName('body')), f);
        return;
      }
      case 'assert_statement':
        return this.assertStmt(s, f);
      case 'match_statement':
        return this.matchStmt(s, f);
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
      let v: Value = right ? this.expr(right, f) : UNKNOWN;
      if (typ && (v.kind === 'unknown' || (isTensor(v) && !v.axes))) {
        const seeded = this.fromAnnotation(typ, f);
        if (seeded) v = seeded;
      }
      v = this.seedFromComment(e, left, v);
      this.assign(left, v, f, right);
      return;
    }
    if (e.type === 'augmented_assignment') {
      const left = e.childForFieldName('left');
      const right = e.childForFieldName('right');
      const op = e.childForFieldName('operator')?.text.replace('=', '') ?? '+';
      if (!left || !right) return;
      const v = this.binaryValues(op, this.expr(left, f), this.expr(right, f), e);
      this.assign(left, v, f, right);
      return;
    }
    this.expr(e, f);
  }

  /** `x = f(x)  # (B, C, H, W)` seeds an unknown tensor with the comment's names. */
  private seedFromComment(stmt: Node, left: Node, v: Value): Value {
    const names = this.b.resultShapeComments.get(stmt.startPosition.row);
    if (!names || left.type !== 'identifier') return v;
    if (isTensor(v) && v.axes) {
      if (v.axes.length === names.length) v.axes.forEach((a, i) => this.bindName(a.size, names[i]));
      return v;
    }
    if (v.kind === 'unknown' || isTensor(v)) return { ...this.tensorFromNames(names), rankFromComment: true };
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
        // run without a caller found it: see `record`); a tensor of unknown rank in code run
        // without a caller only means no caller said the rank.
        else if (v.kind === 'unknown') this.unrecord(target, target.text);
        if (v.kind === 'int' && !v.name) f.vars.set(target.text, { ...v, name: target.text });
        return;
      case 'attribute': {
        const obj = target.childForFieldName('object');
        const attr = target.childForFieldName('attribute');
        if (obj?.text === 'self' && attr && f.self) {
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
        let items: Value[] | undefined;
        if (v.kind === 'tuple' && v.inexact && star < 0) {
          // A sequence of unknown length unpacks into its representatives.
          if (v.items.length === 1) items = targets.map(() => v.items[0]);
        } else if (v.kind === 'tuple') items = v.items;
        else if (isTensor(v) && !v.axes && !v.failed && star < 0) {
          // Iterating a tensor of unknown shape gives tensors of unknown shape.
          items = targets.map(() => ({ kind: 'tensor', dtype: v.dtype, hypothetical: v.hypothetical }) as TensorV);
        }
        else if (isTensor(v) && v.axes && v.axes.length > 0 && star < 0 && D.constValue(this.norm(v.axes[0].size)) === targets.length) {
          // Unpacking a tensor iterates its first axis.
          const rest = v.axes.slice(1);
          items = targets.map(() => ({ kind: 'tensor', axes: rest, strides: v.strides?.slice(1), dtype: v.dtype, scale: v.scale }) as TensorV);
        }
        if (v.kind === 'tuple' && v.shapeOf && !v.shapeOf.axes && !v.shapeOf.failed) {
          // `B, C, H, W = x.shape` on a tensor of unknown rank fixes its rank and names.
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
      case 'subscript':
        return;
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
    const parts = t.axes!.map((a) => D.format(this.norm(a.size)));
    const seen = this.recordParts.get(key);
    if (seen && !seen.record && own && !seen.conflict) this.recordParts.delete(key);
    else if (seen) {
      // The same line in another context (a block built at 32 and at 48 channels): the shape
      // shown is what every context agrees on, `?` where they differ, nothing if the ranks do.
      const rec = seen.record;
      if (own) seen.own = true;
      if (!rec) return;
      if (seen.parts.length !== parts.length) {
        this.records.splice(this.records.indexOf(rec), 1);
        seen.record = undefined;
        seen.conflict = true;
        return;
      }
      seen.parts = seen.parts.map((p, i) => (p === parts[i] ? p : '?'));
      rec.shape = `(${seen.parts.join(', ')})`;
      return;
    }
    if (this.recordParts.has(key)) return;
    const record = { line: node.startPosition.row, column: node.startPosition.column, name, shape: this.shapeText(t) };
    this.recordParts.set(key, { parts, record, own });
    this.records.push(record);
  }

  private readonly recordParts = new Map<string, { parts: string[]; record?: ShapeRecord; own?: boolean; conflict?: boolean }>();

  /** A context where the line binds a value of unknown shape: no shape is shown there. */
  private unrecord(node: Node, name: string): void {
    if (this.speculative > 0) return;
    const key = `${node.startPosition.row}:${name}`;
    const seen = this.recordParts.get(key);
    if (seen?.own) return;
    if (seen?.record) this.records.splice(this.records.indexOf(seen.record), 1);
    this.recordParts.set(key, { parts: [], record: undefined, conflict: seen?.conflict });
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
    if (v.kind === 'torchmodule' || v.kind === 'instance' || v.kind === 'tensor') return true;
    if (v.kind === 'tuple') return v.items.length > 0;
    return undefined;
  }

  private ifStmt(s: Node, f: Frame): void {
    // `if isinstance(x, FakeTensor):` — inside, x is an instance of a class that may add
    // attributes tensors lack: it is a tensor by hypothesis only there.
    const narrowed = this.isinstanceNarrowing(s.childForFieldName('condition'), f);
    if (narrowed) {
      const [name, before] = narrowed;
      f.vars.set(name, { ...before, hypothetical: true });
      try {
        this.ifStmtInner(s, f);
      } finally {
        const after = f.vars.get(name);
        if (after && isTensor(after) && after.hypothetical && after !== before) f.vars.set(name, before);
      }
      return;
    }
    this.ifStmtInner(s, f);
  }

  /** `isinstance(x, C)` with x a local tensor and C not a torch tensor class: [x, its value]. */
  private isinstanceNarrowing(cond: Node | null, f: Frame): [string, TensorV] | undefined {
    if (cond?.type !== 'call' || cond.childForFieldName('function')?.text !== 'isinstance') return undefined;
    const args = cond.childForFieldName('arguments')?.namedChildren ?? [];
    if (args.length !== 2 || args[0]?.type !== 'identifier') return undefined;
    if (/^(torch\.)?(Tensor|nn\.Parameter|Parameter)$/.test(args[1]?.text ?? '')) return undefined;
    const v = f.vars.get(args[0].text);
    return v && isTensor(v) && !v.hypothetical ? [args[0].text, v] : undefined;
  }

  private ifStmtInner(s: Node, f: Frame): void {
    const cond = s.childForFieldName('condition');
    const c = cond ? this.truth(this.expr(cond, f)) : undefined;
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
    this.branches(bodies, f, !alts.some((x) => x.type === 'else_clause'));
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
    this.speculative++;
    try {
      for (const body of bodies) {
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
    }
  }

  private branches(bodies: Node[][], f: Frame, fallthrough: boolean): void {
    const before = new Map(f.vars);
    const selfBefore = f.self ? new Map(f.self.attrs) : undefined;
    const results: Map<string, Value>[] = [];
    // `self.x = …` in a branch is joined like a local: `if self.inter == 0: self.inter = 1`
    // leaves a size that is either, not the branch's 1.
    const selfResults: Map<string, Value>[] = [];
    for (const body of bodies) {
      f.vars.clear();
      for (const [k, v] of before) f.vars.set(k, v);
      if (f.self && selfBefore) {
        f.self.attrs.clear();
        for (const [k, v] of selfBefore) f.self.attrs.set(k, v);
      }
      const returnsBefore = f.returns.length;
      this.block(body, f);
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
        return ax;
      });
      const out: TensorV = { kind: 'tensor', axes, dtype: agree('dtype') ? t.dtype : undefined };
      if (ts.every((v) => v.strides && v.strides.length === t.strides!.length && v.strides.every((d, i) => this.same(d, t.strides![i])))) out.strides = t.strides;
      if (agree('normAxis') && t.normAxis !== undefined) out.normAxis = t.normAxis;
      if (ts.some((v) => v.hypothetical)) out.hypothetical = true;
      // A bias that is learned on one path may be the learned one (T5's first layer).
      if (ts.some((v) => v.learned)) out.learned = true;
      return out;
    }
    // Tensors of different shapes join to a tensor of unknown shape that keeps what may hold
    // on either path (a learned bias, a value that is a tensor only by hypothesis).
    if (vals.every((v) => isTensor(v))) {
      const ts = vals as TensorV[];
      const out: TensorV = { kind: 'tensor' };
      if (ts.some((v) => v.learned)) out.learned = true;
      if (ts.some((v) => v.hypothetical)) out.hypothetical = true;
      if (ts.every((v) => v.dtype === ts[0].dtype)) out.dtype = ts[0].dtype;
      return out;
    }
    if (vals.every((v) => v?.kind === 'int' && first.kind === 'int' && this.same(v.dim, first.dim))) return first;
    if (vals.every((v) => v?.kind === 'none')) return first;
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
      this.branches([body], f, true);
    } finally {
      this.openLoops--;
    }
  }

  /** Loops being evaluated whose number of iterations is unknown. */
  private openLoops = 0;

  private assertStmt(s: Node, f: Frame): void {
    const e = s.namedChildren[0];
    if (!e || e.type !== 'comparison_operator') return;
    const ops = e.children.filter((c) => c && !c.isNamed).map((c) => c!.text);
    const parts = e.namedChildren.filter((x): x is Node => !!x);
    if (ops.length !== 1 || ops[0] !== '==' || parts.length !== 2) return;
    const a = this.expr(parts[0], f);
    const b = this.expr(parts[1], f);
    if (a.kind === 'int' && b.kind === 'int') this.unify(a.dim, b.dim);
    else if (a.kind === 'tuple' && b.kind === 'tuple' && a.items.length === b.items.length) {
      a.items.forEach((x, i) => {
        const y = b.items[i];
        if (x.kind === 'int' && y.kind === 'int') this.unify(x.dim, y.dim);
      });
    } else if (a.kind === 'tuple' && a.shapeOf && !a.shapeOf.axes && b.kind === 'tuple') {
      const t = a.shapeOf;
      const sizes = b.items.map((x) => (x.kind === 'int' ? x.dim : this.fresh('d')));
      const fresh = this.tensor(sizes, b.items.map((x) => (x.kind === 'int' ? x.name : undefined)));
      t.axes = fresh.axes;
      t.strides = fresh.strides;
    }
  }

  // ---------------------------------------------------------------- functions and classes

  private params(fn: Node): { name: string; node: Node; def?: Node; ann?: Node; kind: 'plain' | 'star' | 'kwstar' }[] {
    const out: { name: string; node: Node; def?: Node; ann?: Node; kind: 'plain' | 'star' | 'kwstar' }[] = [];
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
    if (p.ann && !isTensorAnnotation(p.ann.text)) return this.fromTypeAnnotation(p.ann, p.name);
    // What the body does with it may fix its rank: `q = self.q_proj(q); b, n, c = q.shape`.
    const fact = rankOfParameter(fn, index, this.rankEnv(f));
    if (fact && fact.rank > 0 && fact.rank <= 8) {
      const names = Array.from({ length: fact.rank }, (_, i) => fact.names?.[i] ?? `${p.name}${i}`);
      return { ...this.tensor(names.map((n) => this.fresh(n)), names), hypothetical: p.ann ? undefined : true };
    }
    if (p.ann) return { kind: 'tensor' };
    // No evidence either way: a tensor for tensor methods, silent for anything else.
    return { kind: 'tensor', hypothetical: true };
  }

  /** What the rank scan needs to know of callees and numbers, from the frame being seeded. */
  private rankEnv(f: Frame): RankEnv {
    const moduleRank = (m: Value | undefined): CalleeRank | undefined => {
      if (!m) return undefined;
      if (m.kind === 'torchmodule') {
        if (RANK_SAME_MODULES.has(m.type)) return { kind: 'keep', sameShape: true };
        if (m.type === 'Linear' || m.type === 'LazyLinear') return { kind: 'keep', sameShape: false };
        const r = BATCHED_RANK[m.type];
        if (r) return { kind: 'sink', rank: r, names: ['B', 'C', ...['L', 'H,W', 'D,H,W'][r - 3].split(',')] };
        if (m.type === 'MultiheadAttention') {
          const bf = this.margs(m, ['embed_dim', 'num_heads', 'dropout', 'bias', 'add_bias_kv', 'add_zero_attn', 'kdim', 'vdim', 'batch_first']).batch_first ?? { kind: 'bool', value: false };
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
        return fwd ? { kind: 'function', node: fwd, index: 1, env: m === f.self ? undefined : this.rankEnv({ vars: new Map(), returns: [], forward: true, self: m }) } : undefined;
      }
      if (m.kind === 'alt') {
        const parts = m.items.filter((x) => x.kind !== 'none').map(moduleRank);
        if (parts.length && parts.every((x) => x?.kind === 'keep')) return { kind: 'keep', sameShape: parts.every((x) => x?.kind === 'keep' && x.sameShape) };
      }
      return undefined;
    };
    const isNum = (v: Value | undefined) => v?.kind === 'int' || v?.kind === 'num';
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
          return m ? { kind: 'function', node: m, index: index + 1 } : undefined;
        }
        if (fn.type === 'identifier') {
          const g = this.b.functions.get(fn.text);
          if (g && !f.vars.has(fn.text)) return { kind: 'function', node: g, index };
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
  private fromTypeAnnotation(ann: Node, name: string): Value {
    const t = ann.text.replace(/\s+/g, '');
    if (/^(int|Optional\[int\]|int\|None)$/.test(t)) return intV(this.fresh(name), name);
    if (/^(float|Optional\[float\])$/.test(t)) return { kind: 'num' };
    if (/^bool$/.test(t)) return { kind: 'bool' };
    const cls = this.b.classes.get(t.replace(/^["']|["']$/g, ''));
    if (cls && !cls.isModule) return this.symObj(name, cls);
    return UNKNOWN;
  }

  /** An object of named sizes for a parameter, with the annotated fields of `cls` when given. */
  private symObj(name: string, cls?: ClassInfo): SymObjV {
    const fields = cls ? new Map<string, string | undefined>() : undefined;
    for (let c: ClassInfo | undefined = cls; c; c = c.base) {
      for (const st of c.node.childForFieldName('body')?.namedChildren ?? []) {
        const a = st.type === 'expression_statement' ? st.namedChildren[0] : undefined;
        const left = a?.type === 'assignment' ? a.childForFieldName('left') : undefined;
        if (!a || !left || left.type !== 'identifier' || fields!.has(left.text)) continue;
        fields!.set(left.text, a.childForFieldName('type')?.text);
      }
    }
    return { kind: 'symobj', name, attrs: new Map(), fields };
  }

  /** `config.n_embd` on an object of named sizes: the same symbol on every read. */
  private symObjAttribute(o: SymObjV, name: string): Value {
    const known = o.attrs.get(name);
    if (known) return known;
    const ann = o.fields?.get(name)?.replace(/\s+/g, '');
    let v: Value;
    if (o.fields && !o.fields.has(name)) v = UNKNOWN;
    else if (ann === undefined || /^(int|Optional\[int\])$/.test(ann)) v = intV(this.fresh(name), name);
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
      memo = new Set();
      const stack: Node[] = [fn];
      while (stack.length) {
        const n = stack.pop()!;
        if (n.type === 'attribute') {
          const o = n.childForFieldName('object');
          if (o?.type === 'identifier') memo.add(o.text);
        }
        for (const c of n.namedChildren) if (c) stack.push(c);
      }
      this.attrReaders.set(fn, memo);
    }
    return memo.has(name);
  }

  private readonly attrReaders = new Map<Node, Set<string>>();

  private paramsOnLine(fn: Node, line: number): number {
    return this.params(fn).filter((p) => p.node.startPosition.row === line && p.name !== 'self').length;
  }

  /** `x: (B, L, C)` or `x (B, L, C)` in the docstring or in comments at the top of the body. */
  private docShape(fn: Node, name: string): string[] | undefined {
    const body = fn.childForFieldName('body');
    const first = body?.namedChildren[0];
    const texts: string[] = [];
    if (first?.type === 'expression_statement' && first.namedChildren[0]?.type === 'string') texts.push(first.namedChildren[0].text);
    for (const c of fn.children) if (c?.type === 'comment') texts.push(c.text);
    for (const c of body?.children ?? []) if (c?.type === 'comment') texts.push(c.text);
    for (const t of texts) {
      // The parameter's own name, as written (`nn.Linear(20, 10)` in an example is no shape of `linear`).
      const re = new RegExp(`(?<![.\\w])${name}\\b\\s*:?\\s*(?:[Tt]ensor\\s*)?(?:of\\s+shape\\s*)?[\\[(]\\s*([A-Za-z_\\d][\\w]*(?:\\s*,\\s*[A-Za-z_\\d][\\w]*)+)\\s*[\\])]`);
      const m = re.exec(t);
      if (!m) continue;
      // `x: (b, c, t, h, w) for 3D, (b, c, h, w) for 2D`: alternatives, not one shape.
      const rest = t.slice(m.index + m[0].length).split('\n')[0];
      if (/[[(]\s*[A-Za-z_\d]\w*(?:\s*,\s*[A-Za-z_\d]\w*)+\s*[\])]/.test(rest)) return undefined;
      return m[1].split(/\s*,\s*/);
    }
    return undefined;
  }

  /** Binds arguments to parameters; missing ones take defaults, or seeds when `seed`. */
  private bindArgs(fn: Node, args: Value[], kwargs: Record<string, Value>, f: Frame, seed: boolean, skipSelf: boolean): Value[] {
    const ps = this.params(fn);
    const fnName = fn.childForFieldName('name')?.text;
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
        if (seed && v.kind === 'int' && D.constValue(v.dim) !== undefined && D.constValue(v.dim)! > 1 && !(/^(dim|axis|dimension|ndim|n_dims?)$/.test(p.name) && D.constValue(v.dim)! <= 4)) v = intV(this.fresh(p.name), p.name);
        // An optional tensor with no caller (position_bias: Optional[Tensor] = None) may be given:
        // unknown, not None (masks aside, which are checked where they are given).
        else if (seed && v.kind === 'none' && p.ann && isTensorAnnotation(p.ann.text) && !/mask/i.test(p.name)) v = UNKNOWN;
        // A flag with no caller may be either (has_relative_attention_bias=False is True in the
        // first layer): both branches are walked and joined.
        else if (seed && v.kind === 'bool' && fnName === '__init__') v = { kind: 'bool' };
        // A tuple of sizes (patch_size=(2, 2), dims=(32, 48)) keeps its length, not its values.
        else if (seed && v.kind === 'tuple' && !v.shapeOf && v.items.length > 0 && v.items.every((x) => x.kind === 'int' && (D.constValue(x.dim) ?? 0) > 1)) {
          v = { kind: 'tuple', items: v.items.map((_, i) => intV(this.fresh(`${p.name}${i}`), `${p.name}${i}`)) };
        }
      }
      if (v === undefined || (seed && p.def && this.isTensorish(p) && v.kind === 'none' && false)) v = seed ? this.seedFor(fn, p, idx, f) : UNKNOWN;
      if (v.kind === 'int' && !v.name) v = { ...v, name: p.name };
      // An annotation that declares something other than a tensor wins over what was passed.
      if (isTensor(v) && !v.hypothetical && p.ann && !isTensorAnnotation(p.ann.text)) v = { ...v, hypothetical: true };
      if (isTensor(v) && v.axes && !seed && fn.childForFieldName('name')?.text !== '__init__') v = this.withDeclaredRoles(fn, p, idx, v, f);
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
    return !!p.ann && /Tensor|\[/.test(p.ann.text);
  }

  private seedFor(fn: Node, p: { name: string; node: Node; ann?: Node }, index: number, f: Frame): Value {
    const fname = fn.childForFieldName('name')?.text;
    if (fname === '__init__') {
      if (p.ann) return isTensorAnnotation(p.ann.text) ? { kind: 'tensor' } : this.fromTypeAnnotation(p.ann, p.name);
      // `config.n_embd`: an object whose attributes are named sizes; otherwise a size.
      if (this.readsAttributes(fn, p.name)) return this.symObj(p.name);
      return intV(this.fresh(p.name), p.name);
    }
    // A mask with no caller: a tensor of unknown shape, dtype and polarity (its rules stay silent).
    if (/mask/i.test(p.name)) return { kind: 'tensor', hypothetical: true };
    return this.seedParam(fn, p, index, f);
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
    if (init) this.runFunction(init, args, kwargs, inst, seed, false);
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

  private callInstance(inst: InstanceV, args: Value[], kwargs: Record<string, Value>, node: Node | undefined, seed: boolean): Value {
    inst.called = true;
    const fwd = findMethod(inst.cls, 'forward') ?? findMethod(inst.cls, '__call__');
    // A torch layer's subclass without a forward of its own runs the layer's.
    if (!fwd && inst.torch && node) return this.callModule(inst.torch, args, kwargs, [], {}, node);
    if (!fwd) return UNKNOWN;
    return this.runFunction(fwd, args, kwargs, inst, seed, true);
  }

  private callFunction(fn: Node, args: Value[], kwargs: Record<string, Value>, self: InstanceV | undefined, seed: boolean): Value {
    this.calledFunctions.add(fn);
    return this.runFunction(fn, args, kwargs, self, seed, false);
  }

  private runFunction(fn: Node, args: Value[], kwargs: Record<string, Value>, self: InstanceV | undefined, seed: boolean, forward: boolean, closure?: Map<string, Value>[]): Value {
    if (this.depth >= MAX_DEPTH || this.active.has(fn)) return UNKNOWN;
    this.depth++;
    this.active.add(fn);
    try {
      const vars = new Map<string, Value>();
      const f: Frame = { vars, returns: [], self, forward, closure, seeded: seed };
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
      return f.returns.length === 1 ? f.returns[0] : this.join(f.returns);
    } finally {
      this.active.delete(fn);
      this.depth--;
    }
  }

  // ---------------------------------------------------------------- expressions

  private lookup(name: string, f: Frame): Value {
    const v = f.vars.get(name) ?? f.closure?.find((m) => m.has(name))?.get(name) ?? this.globals.get(name);
    if (v) return v;
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
        const content = n.namedChildren.filter((c) => c?.type === 'string_content').map((c) => c!.text).join('');
        return n.namedChildren.some((c) => c?.type === 'interpolation') ? UNKNOWN : { kind: 'str', value: content };
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
        return { kind: 'tuple', items };
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
        if (op === '~' && isTensor(v)) return this.flipMask(v);
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
        const t = this.truth(lv);
        if (op === 'or') return t === true ? lv : t === false ? this.expr(r, f) : UNKNOWN;
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
        return this.classAttribute(obj.cls, name) ?? (obj.torch ? this.moduleAttribute(obj.torch, name) : UNKNOWN);
      }
      case 'tensor':
        return this.tensorAttribute(obj, name, n, attrNode);
      case 'tuple':
        return obj.names?.includes(name) ? obj.items[obj.names.indexOf(name)] : UNKNOWN;
      case 'torchmodule':
        return this.moduleAttribute(obj, name);
      case 'symobj':
        return this.symObjAttribute(obj, name);
      default:
        return UNKNOWN;
    }
  }

  private moduleAttribute(m: TorchModuleV, name: string): Value {
    if (m.entries) return m.entries[name] ?? UNKNOWN;
    const a = (i: number, k: string) => m.kwargs[k] ?? m.args[i];
    switch (m.type) {
      case 'Linear':
        if (name === 'in_features') return a(0, 'in_features') ?? UNKNOWN;
        if (name === 'out_features') return a(1, 'out_features') ?? UNKNOWN;
        break;
      case 'MultiheadAttention':
        if (name === 'embed_dim') return a(0, 'embed_dim') ?? UNKNOWN;
        if (name === 'num_heads') return a(1, 'num_heads') ?? UNKNOWN;
        if (name === 'batch_first') return a(8, 'batch_first') ?? { kind: 'bool', value: false };
        break;
    }
    return UNKNOWN;
  }

  private tensorAttribute(t: TensorV, name: string, n: Node, attrNode: Node): Value {
    // A value taken for a tensor only from how it is used may be a duck-typed object (a
    // sharded tensor, a process group, a config): an attribute tensors lack, or one modules and
    // arrays share, says nothing, and the value never becomes a proven tensor.
    if (t.hypothetical && (!TENSOR_ATTRIBUTES.has(name) || SHARED_ATTRIBUTES.has(name))) return UNKNOWN;
    switch (name) {
      case 'shape':
        return this.shapeTuple(t);
      case 'ndim':
        return t.axes ? intV(D.dconst(t.axes.length)) : UNKNOWN;
      case 'T':
      case 'mT':
        if (!t.axes) return { kind: 'tensor' };
        if (name === 'T') return this.permuteTensor(t, t.axes.map((_, i) => t.axes!.length - 1 - i), n);
        return this.transposeTensor(t, -2, -1, n);
      case 'dtype':
      case 'device':
        return { kind: 'unknown' };
      case 'is_cuda':
      case 'requires_grad':
        return { kind: 'bool' };
    }
    this.emit({ kind: 'attribute', node: n, nameNode: attrNode, name, self: t });
    return { kind: 'method', self: t, name };
  }

  private shapeTuple(t: TensorV): TupleV {
    if (!t.axes) return { kind: 'tuple', items: [], shapeOf: t };
    return { kind: 'tuple', items: t.axes.map((a) => intV(a.size)), shapeOf: t };
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
    // Indexing a value that may be a list, dict or module gives a value that may be anything.
    if (isTensor(v) && v.hypothetical && !v.axes) return { kind: 'tensor', hypothetical: true };
    if (isTensor(v)) return this.indexTensor(v, subs, f);
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

  /** The step of `a:b:step` when it is a known positive integer (an omitted step is 1). */
  private sliceStep(s: Node, f: Frame): number | undefined {
    let idx = 0;
    let stepNode: Node | undefined;
    for (const c of s.children) {
      if (!c) continue;
      if (c.text === ':') idx++;
      else if (c.isNamed && idx === 2) stepNode = c;
    }
    if (!stepNode) return 1;
    const v = numValue(this.expr(stepNode, f));
    return v !== undefined && Number.isInteger(v) && v > 0 ? v : undefined;
  }

  private indexTensor(t: TensorV, subs: Node[], f: Frame): Value {
    // Indexing keeps the dtype and mask meaning even when the shape is unknown.
    if (!t.axes) return { kind: 'tensor', dtype: t.dtype, mask: t.mask, positions: t.positions, learned: t.learned };
    const out: Axis[] = [];
    let src = 0;
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
          if (a !== undefined && b !== undefined && step !== undefined) out.push({ size: D.dconst(Math.max(0, Math.ceil((b - a) / step))), role: axis.role });
          else if (parts.length === 1 && s.children[0]?.text === ':' && c === undefined) {
            const stop = this.expr(parts[0]!, f);
            out.push({ size: stop.kind === 'int' ? stop.dim : this.fresh('d'), role: axis.role });
          } else out.push({ size: this.fresh('d'), role: axis.role });
        }
        src++;
        continue;
      }
      const iv = this.expr(s, f);
      if (iv.kind === 'int') {
        src++;
        continue;
      }
      // Advanced indexing by one tensor: an integer index puts its own axes in place of the
      // indexed axis; a boolean mask of rank r replaces r axes by one axis of unknown length.
      // An index of unknown dtype leaves the result unknown: a fresh length there would broadcast
      // against size-1 axes downstream and make contiguous results look non-viewable.
      if (isTensor(iv) && iv.axes && subs.filter((x) => x.type !== 'slice' && x.type !== 'none' && x.type !== 'ellipsis').length === 1) {
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
    return { kind: 'tensor', axes: out, strides: undefined, dtype: t.dtype, mask: t.mask, positions: t.positions, learned: t.learned };
  }

  private comparison(n: Node, f: Frame): Value {
    const parts = n.namedChildren.filter((x): x is Node => !!x);
    const ops = n.children.filter((c) => c && !c.isNamed).map((c) => c!.text);
    if (parts.length !== 2 || ops.length < 1) return { kind: 'bool' };
    const op = ops.join(' ');
    const a = this.expr(parts[0], f);
    const b = this.expr(parts[1], f);
    if (op === 'is' || op === 'is not') {
      const same = a.kind === 'none' && b.kind === 'none' ? true : (a.kind === 'none') !== (b.kind === 'none') && a.kind !== 'unknown' && b.kind !== 'unknown' ? false : undefined;
      if (same === undefined) return { kind: 'bool' };
      return { kind: 'bool', value: op === 'is' ? same : !same };
    }
    if (isTensor(a) || isTensor(b)) {
      const t = (isTensor(a) ? a : b) as TensorV;
      const other = isTensor(a) ? b : a;
      const shape = isTensor(a) && isTensor(b) ? this.broadcastValue(a, b, n) : t.axes ? t.axes.map((x) => ({ ...x })) : undefined;
      const res: TensorV = { kind: 'tensor', axes: shape ?? undefined, dtype: 'bool' };
      if (res.axes) res.strides = contiguousStrides(res.axes.map((x) => x.size));
      const k = numValue(other);
      if (!t.mask && (op === '==' || op === '!=') && other.kind === 'int' && /pad/i.test(other.name ?? '')) {
        // tokens == pad_id is True at padding (positions to ignore); != is True at real tokens.
        res.mask = { polarity: op === '==' ? 'ignore' : 'keep' };
      }
      const pa = isTensor(a) && a.positions;
      const pb = isTensor(b) && b.positions;
      const lengthLike = (v: Value) => isTensor(v) || (v.kind === 'int' && /len/i.test(v.name ?? ''));
      if (!t.mask && pa !== pb && /^[<>]=?$/.test(op) && lengthLike(pa ? b : a)) {
        // arange(S) < lengths is True at real tokens (keep); arange(S) >= lengths at padding.
        const less = op.startsWith('<');
        res.mask = { polarity: (pa ? less : !less) ? 'keep' : 'ignore' };
      }
      if (t.mask && k !== undefined && (k === 0 || k === 1)) {
        const flip = (op === '==' && k === 0) || (op === '!=' && k === 1) || (op === '<' && k === 1) || (op === '<=' && k === 0);
        const keep = (op === '==' && k === 1) || (op === '!=' && k === 0) || (op === '>' && k === 0) || (op === '>=' && k === 1);
        if (flip) res.mask = { polarity: t.mask.polarity === 'keep' ? 'ignore' : 'keep' };
        else if (keep) res.mask = { polarity: t.mask.polarity };
      }
      return res;
    }
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
    }
    if (a.kind === 'str' && b.kind === 'str' && (op === '==' || op === '!=')) return { kind: 'bool', value: (a.value === b.value) === (op === '==') };
    return { kind: 'bool' };
  }

  /** A float copy: a bool mask becomes a mask of 0s and 1s. */
  private asFloat(t: TensorV): TensorV {
    return { ...t, dtype: 'float', mask: t.mask && t.dtype === 'bool' ? { ...t.mask, values01: true } : t.mask };
  }

  private flipMask(t: TensorV): TensorV {
    return { ...t, mask: t.mask ? { polarity: t.mask.polarity === 'keep' ? 'ignore' : 'keep' } : undefined };
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
          const q = D.floorDiv(this.norm(l.dim), this.norm(r.dim));
          return q ? intV(q) : intV(this.fresh('d'));
        }
        case '%': {
          const a = D.constValue(this.norm(l.dim));
          const b = D.constValue(this.norm(r.dim));
          return a !== undefined && b !== undefined && b !== 0 ? intV(D.dconst(((a % b) + b) % b)) : UNKNOWN;
        }
        case '/': {
          const a = D.constValue(this.norm(l.dim));
          const b = D.constValue(this.norm(r.dim));
          return { kind: 'num', value: a !== undefined && b !== undefined && b !== 0 ? a / b : undefined, scale: { base: l.dim, exp: 1 } };
        }
        case '**': {
          const e = D.constValue(r.dim);
          if (e !== undefined) {
            const p = D.pow(l.dim, e);
            if (p) return intV(p);
          }
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
      if (op === '**' && l.kind === 'int' && b !== undefined) scale = { base: l.dim, exp: b };
      else if (op === '/' && a === 1 && r.kind === 'num' && r.scale) scale = { base: r.scale.base, exp: -r.scale.exp };
      else if (op === '**' && l.kind === 'num' && l.scale && b !== undefined) scale = { base: l.scale.base, exp: l.scale.exp * b };
      return { kind: 'num', value: val, scale };
    }
    // A list or tuple on either side is sequence arithmetic ([0] * n, a + b), never a tensor's.
    if (l.kind === 'tuple' || r.kind === 'tuple') {
      if (op === '+' && l.kind === 'tuple' && r.kind === 'tuple') return { kind: 'tuple', items: [...l.items, ...r.items] };
      return UNKNOWN;
    }
    if (isTensor(l) || isTensor(r)) {
      const res = this.tensorArith(op, l, r, n);
      // Arithmetic between values that are tensors only by hypothesis proves nothing more.
      const proven = (isTensor(l) && !l.hypothetical) || (isTensor(r) && !r.hypothetical);
      if (!proven && isTensor(res)) return { ...res, hypothetical: true };
      return res;
    }
    return UNKNOWN;
  }

  private scaleOf(v: Value, op: string): ScaleFact | undefined {
    if (v.kind === 'num') {
      if (v.scale) return op === '/' ? { base: v.scale.base, exp: -v.scale.exp } : v.scale;
      return { exp: 0 };
    }
    // Dividing by an integer scales; multiplying by one (x * 3, x * H) is not an attention scale.
    if (v.kind === 'int') return op === '/' ? { base: v.dim, exp: -1 } : undefined;
    return undefined;
  }

  private tensorArith(op: string, l: Value, r: Value, n: Node): Value {
    if ((isTensor(l) && l.failed) || (isTensor(r) && r.failed)) return failed();
    if (op === '@') return this.matmul(l, r, n, n, 'matmul');
    const info: OpInfo = {};
    let result: Value;
    if (isTensor(l) && isTensor(r)) {
      const axes = this.broadcastValue(l, r, n, info);
      const base = l.axes && (!r.axes || l.axes.length >= r.axes.length) ? l : r;
      result = { kind: 'tensor', axes: axes ?? undefined, strides: axes ? (base.strides && base.axes && base.axes.length === axes.length && base.axes.every((a, i) => this.same(a.size, axes[i].size)) ? this.elementwiseLayout(base) : contiguousStrides(axes.map((a) => a.size))) : undefined, dtype: l.dtype === 'bool' && r.dtype === 'bool' ? 'bool' : 'float' };
      if (op === '+' || op === '-') {
        const carrier = l.scores ? l : r.scores ? r : undefined;
        if (carrier?.scores) {
          // T5 and its descendants add a learned relative position bias to unscaled scores and
          // fold 1/sqrt(d) into the weights' initialisation: the missing scale is then a convention.
          const other = carrier === l ? r : l;
          // A term of unknown shape and provenance (a position_bias handed in by the caller) may be such a bias too.
          const mayBeLearned = other.learned || (!other.axes && !other.mask && !other.scores);
          (result as TensorV).scores = op === '+' && mayBeLearned && !carrier.scores.scale ? { ...carrier.scores, learnedBias: true } : carrier.scores;
          // Adding a float mask of 1s (keep) and 0s shifts the kept scores by one and masks nothing.
          if (op === '+' && other.dtype === 'float' && other.mask?.polarity === 'keep' && other.mask.values01) (result as TensorV).scores = { ...(result as TensorV).scores!, added01: n };
        }
        if (l.normAxis !== undefined && r.normAxis === undefined) (result as TensorV).normAxis = l.normAxis;
      }
      if (op === '*' && (l.mask || r.mask) && (l.normAxis !== undefined || r.normAxis !== undefined)) (result as TensorV).normAxis = l.normAxis ?? r.normAxis;
      if (op === '&' || op === '|') (result as TensorV).dtype = 'bool';
      if (l.learned && r.learned) (result as TensorV).learned = true;
    } else {
      const t = (isTensor(l) ? l : r) as TensorV;
      const other = isTensor(l) ? r : l;
      const res: TensorV = { ...t, strides: this.elementwiseLayout(t) };
      // An operand of unknown kind may be a tensor: broadcasting could widen any size-1 axis
      // (emb(ids) + torch.randn(1, 128, 16) is (4, 128, 16)) or add leading axes to a vector
      // or a matrix, so those shapes are not kept. A residual on a batch of sequences or maps
      // (rank 3 or more, no size-1 axis) keeps its shape.
      if (!['int', 'num', 'bool', 'none', 'str'].includes(other.kind) && t.axes && (t.axes.length < 3 || t.axes.some((a) => D.constValue(this.norm(a.size)) === 1))) {
        res.axes = undefined;
        res.strides = undefined;
        res.normAxis = undefined;
      }
      if (op === '*' || op === '/') {
        // A factor of unknown value (an attribute never assigned, an opaque call) may be the
        // scale: the scores' scale becomes unknown, which silences the scale rule.
        const s = other.kind === 'unknown' ? { exp: 0 } : this.scaleOf(other, isTensor(l) ? op : '*');
        if (s && !(isTensor(r) && op === '/')) {
          if (t.scores) res.scores = { ...t.scores, scale: this.combineScale(t.scores.scale, s), scaleNode: n };
          else res.scale = this.combineScale(t.scale, s);
        }
        if (t.mask && t.mask.values01 && numValue(other) !== undefined && numValue(other) !== 1) res.mask = undefined;
      } else if (op === '-' && isTensor(r) && numValue(l) === 1 && r.mask) {
        res.mask = { polarity: r.mask.polarity === 'keep' ? 'ignore' : 'keep', values01: r.mask.values01 };
      } else if (op === '+' || op === '-') {
        res.mask = undefined;
        // A term of unknown value added to raw scores may be a learned bias (T5's position_bias
        // handed down the stack): the scale convention is then the model's.
        if (op === '+' && other.kind === 'unknown' && t.scores && !t.scores.scale) res.scores = { ...t.scores, learnedBias: true };
      }
      if (other.kind === 'num' && (other.value === undefined || !Number.isInteger(other.value)) && res.dtype === 'long') res.dtype = 'float';
      result = res;
    }
    this.emit({ kind: 'binary', op, node: n, left: l, right: r, result, info });
    return result;
  }

  private combineScale(a: ScaleFact | undefined, b: ScaleFact): ScaleFact {
    if (!a || (a.exp === 0 && a.base === undefined)) return b.exp === 0 && !b.base ? { exp: 0 } : b;
    if (b.exp === 0 && !b.base) return a;
    if (a.base && b.base && this.same(a.base, b.base)) return { base: a.base, exp: a.exp + b.exp };
    return { exp: 0, base: undefined };
  }

  /** Broadcast shape of two tensors; records a failure in info. */
  private broadcastValue(a: TensorV, b: TensorV, _n: Node, info?: OpInfo): Axis[] | undefined {
    if (!a.axes || !b.axes) return undefined;
    const la = a.axes.length;
    const lb = b.axes.length;
    const len = Math.max(la, lb);
    const out: Axis[] = [];
    let permuted = la === lb && la > 1;
    for (let i = 0; i < len; i++) {
      const x = a.axes[la - len + i];
      const y = b.axes[lb - len + i];
      if (!x || !y) {
        out.push(x ?? y);
        continue;
      }
      if (x.label !== y.label) {
        if (!x.label || !y.label) permuted = false;
      }
      const xs = this.norm(x.size);
      const ys = this.norm(y.size);
      // A size-1 axis broadcast against a longer one is an outer combination ((N, 1) + (1, N)),
      // not the same axes met in another order.
      if ((D.constValue(xs) === 1) !== (D.constValue(ys) === 1)) permuted = false;
      if (D.constValue(xs) === 1) out.push({ ...y });
      else if (D.constValue(ys) === 1) out.push({ ...x });
      else {
        const c = this.unify(xs, ys);
        if (c === 'ne' && info && !info.broadcast) info.broadcast = [xs, ys];
        out.push({ ...x, role: x.role ?? y.role });
      }
    }
    if (info && permuted) {
      const la2 = a.axes.map((x) => x.label);
      const lb2 = b.axes.map((x) => x.label);
      if (la2.every(Boolean) && lb2.every(Boolean) && la2.join() !== lb2.join() && [...la2].sort().join() === [...lb2].sort().join()) {
        const culprit = (a.permutes ?? 0) >= (b.permutes ?? 0) ? a : b;
        const other = culprit === a ? lb2 : la2;
        // A tensor met with its own single transpose (A + A.mT) is a symmetrisation, not a way back.
        const symmetrised = culprit.permutes === 1 && culprit.preLayout?.join() === other.join();
        if (culprit.lastPermute && !symmetrised) info.permutedOperands = culprit.lastPermute;
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- calls

  private evalArgs(n: Node, f: Frame): { args: Value[]; kwargs: Record<string, Value>; argNodes: Node[]; kwargNodes: Record<string, Node> } {
    const args: Value[] = [];
    const kwargs: Record<string, Value> = {};
    const argNodes: Node[] = [];
    const kwargNodes: Record<string, Node> = {};
    const list = n.childForFieldName('arguments');
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
    switch (callee.kind) {
      case 'class': {
        if (!callee.cls.isModule) {
          const init = findMethod(callee.cls, '__init__');
          const inst = this.instantiate(callee.cls, a.args, a.kwargs, n, false);
          void init;
          return inst;
        }
        return this.instantiate(callee.cls, a.args, a.kwargs, n, false);
      }
      case 'instance':
        return this.callInstance(callee, a.args, a.kwargs, n, false);
      case 'function':
        if (callee.self) return this.runFunction(callee.node, a.args, a.kwargs, callee.self, false, false);
        if (callee.closure) return this.runFunction(callee.node, a.args, a.kwargs, undefined, false, false, callee.closure);
        return this.callFunction(callee.node, a.args, a.kwargs, undefined, false);
      case 'torchmodule':
        return this.callModule(callee, a.args, a.kwargs, a.argNodes, a.kwargNodes, n);
      case 'alt':
        return this.callAlternatives(callee, a.args, a.kwargs, a.argNodes, a.kwargNodes, n);
      case 'method':
        return this.tensorOp(callee.name, [callee.self, ...a.args], a.kwargs, [fnNode.childForFieldName('object') ?? undefined, ...a.argNodes], a.kwargNodes, n, fnNode.childForFieldName('attribute') ?? fnNode);
      case 'qual':
        return this.qualCall(callee.path, a.args, a.kwargs, a.argNodes, a.kwargNodes, n, fnNode);
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
    try {
      for (const m of alt.items) {
        if (m.kind === 'torchmodule') results.push(this.callModule(m, args, kwargs, argNodes, kwargNodes, n));
        else if (m.kind === 'instance') results.push(this.callInstance(m, args, kwargs, n, false));
      }
    } finally {
      this.speculative--;
    }
    return results.length ? this.join(results) : UNKNOWN;
  }

  private qualCall(path: string, args: Value[], kwargs: Record<string, Value>, argNodes: Node[], kwargNodes: Record<string, Node>, n: Node, fnNode: Node): Value {
    const nnMatch = /^torch\.nn\.(?:modules\.\w+\.)?([A-Z]\w*)$/.exec(path);
    if (nnMatch) {
      const type = nnMatch[1];
      if (type === 'Module') return UNKNOWN;
      // nn.Parameter(t) and nn.Buffer(t) are the tensor t, for shapes. A parameter is learned
      // (a bias table initialised with torch.zeros), so it is never a mask whatever built it.
      if (type === 'Parameter' || type === 'Buffer') {
        const t = args[0] ?? kwargs.data;
        if (!isTensor(t)) return { kind: 'tensor' };
        return type === 'Parameter' ? { ...t, mask: undefined, positions: undefined, learned: true } : t;
      }
      const m: TorchModuleV = { kind: 'torchmodule', type, args, kwargs, node: n };
      if (type === 'Sequential') m.items = args;
      if (type === 'ModuleDict' || type === 'ParameterDict') {
        const d = args[0] ?? kwargs.modules ?? kwargs.parameters;
        m.entries = d?.kind === 'dict' ? { ...d.items } : {};
      }
      if (type === 'ModuleList') {
        m.items = args[0]?.kind === 'tuple' ? args[0].items : args[0] ? [] : [];
        if (args[0] && (args[0].kind !== 'tuple' || args[0].inexact)) m.inexact = true;
      }
      const literal = [...argNodes, ...Object.values(kwargNodes)].every((x) => this.isLiteral(x));
      this.emit({ kind: 'module-new', node: n, module: m, argNodes, kwargNodes, literal });
      return m;
    }
    const short = path.replace(/^torch\.nn\.functional\./, 'F.').replace(/^torch\./, 'torch.');
    const nameNode = fnNode.type === 'attribute' ? fnNode.childForFieldName('attribute') ?? fnNode : fnNode;
    switch (path) {
      case 'math.sqrt':
      case 'numpy.sqrt': {
        const v = args[0];
        if (v?.kind === 'int') {
          const c = D.constValue(this.norm(v.dim));
          return { kind: 'num', value: c !== undefined ? Math.sqrt(c) : undefined, scale: { base: v.dim, exp: 0.5 } };
        }
        if (v?.kind === 'num') return { kind: 'num', value: v.value !== undefined ? Math.sqrt(v.value) : undefined, scale: v.scale ? { base: v.scale.base, exp: v.scale.exp / 2 } : undefined };
        return { kind: 'num' };
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
        if (v?.kind === 'num' && v.value !== undefined) return intV(D.dconst(Math.trunc(v.value)));
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
      case 'builtins.isinstance':
      case 'builtins.hasattr':
        return { kind: 'bool' };
      case 'builtins.max':
      case 'builtins.min': {
        const nums = args.map((x) => (x.kind === 'int' ? D.constValue(this.norm(x.dim)) : undefined));
        if (nums.length >= 2 && nums.every((x) => x !== undefined)) return intV(D.dconst(path.endsWith('max') ? Math.max(...(nums as number[])) : Math.min(...(nums as number[]))));
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
      case 'builtins.zip':
        return UNKNOWN;
      case 'builtins.dict':
        return args.length === 0 ? { kind: 'dict', items: { ...kwargs } } : args.length === 1 && args[0].kind === 'dict' ? { kind: 'dict', items: { ...args[0].items, ...kwargs } } : UNKNOWN;
      case 'builtins.map': {
        // map(f, (a, b)) over a known tuple is (f(a), f(b)); `k, v = map(split, t.chunk(2, -1))`.
        const [fn, it] = args;
        if (args.length !== 2 || it?.kind !== 'tuple' || it.items.length > 16) return UNKNOWN;
        return { kind: 'tuple', items: it.items.map((x) => this.applyValue(fn, [x], n)) };
      }
    }
    const ein = /^einops\.(?:layers\.torch\.)?(rearrange|repeat|reduce|einsum|Rearrange|Repeat|Reduce)$/.exec(path);
    if (ein) {
      const name = ein[1];
      if (/^[A-Z]/.test(name)) {
        const m: TorchModuleV = { kind: 'torchmodule', type: `einops.${name}`, args, kwargs, node: n };
        return m;
      }
      if (name === 'einsum') {
        // einops.einsum(a, b, "b i d, b j d -> b i j"): the pattern comes last.
        const pat = args[args.length - 1];
        const eq = pat?.kind === 'str' ? einsumEquation(pat.value) : undefined;
        if (!eq) return { kind: 'tensor' };
        return this.einsum([{ kind: 'str', value: eq }, ...args.slice(0, -1)], n, nameNode, [], {}, {});
      }
      const lengths = Object.fromEntries(Object.entries(kwargs).filter(([k]) => k !== 'pattern' && k !== 'reduction'));
      return this.einops(name as EinopsKind, args[0] ?? kwargs.tensor, args[1] ?? kwargs.pattern, lengths, n, nameNode, argNodes, kwargNodes);
    }
    if (path.startsWith('torch.') || path.startsWith('F.')) {
      const op = path.split('.').pop()!;
      void short;
      return this.torchFunction(op, path, args, kwargs, argNodes, kwargNodes, n, nameNode);
    }
    return UNKNOWN;
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

  private dimsFromArgs(args: Value[]): Dim[] | undefined {
    if (args.length === 1 && args[0].kind === 'tuple' && args[0].shapeOf && !args[0].shapeOf.axes) return undefined;
    const items = args.length === 1 && args[0].kind === 'tuple' ? args[0].items : args;
    const out: Dim[] = [];
    for (const it of items) {
      if (it.kind !== 'int') return undefined;
      out.push(it.dim);
    }
    return out;
  }

  private namesFromArgs(args: Value[]): (string | undefined)[] {
    const items = args.length === 1 && args[0].kind === 'tuple' ? args[0].items : args;
    return items.map((x) => (x.kind === 'int' ? x.name : undefined));
  }

  private dtypeOf(v: Value | undefined): TensorV['dtype'] | undefined {
    if (!v || v.kind !== 'qual') return undefined;
    const d = v.path.split('.').pop()!;
    if (d === 'bool') return 'bool';
    if (/^(long|int64|int32|int|int16|int8|uint8|short)$/.test(d)) return 'long';
    if (/float|half|double|bfloat/.test(d)) return 'float';
    return undefined;
  }

  /**
   * torch.tensor of a (nested) list literal: its shape is the nesting, its dtype bool, long or
   * float from the elements (as torch infers it). Anything not a rectangular literal is unknown.
   */
  private literalTensor(v: Value | undefined, dtype: TensorV['dtype'] | undefined): TensorV {
    const sizes: Dim[] = [];
    let kinds = new Set<string>();
    const walk = (x: Value, depth: number): boolean => {
      if (x.kind !== 'tuple' || x.shapeOf) {
        if (depth !== sizes.length) return false;
        if (x.kind === 'int' && D.constValue(this.norm(x.dim)) !== undefined) kinds.add('long');
        else if (x.kind === 'num') kinds.add('float');
        else if (x.kind === 'bool') kinds.add('bool');
        else return false;
        return true;
      }
      if (depth === sizes.length) sizes.push(D.dconst(x.items.length));
      else if (depth > sizes.length || D.constValue(sizes[depth]) !== x.items.length) return false;
      return x.items.length > 0 && x.items.every((it) => walk(it, depth + 1));
    };
    if (!v || v.kind !== 'tuple' || v.items.length > 4096 || !walk(v, 0)) return { kind: 'tensor', dtype };
    if (kinds.size === 0) kinds = new Set(['float']);
    const inferred = kinds.has('float') ? 'float' : kinds.has('long') ? 'long' : 'bool';
    return this.tensor(sizes, undefined, { dtype: dtype ?? inferred });
  }

  private torchFunction(op: string, path: string, args: Value[], kwargs: Record<string, Value>, argNodes: Node[], kwargNodes: Record<string, Node>, n: Node, nameNode: Node): Value {
    // F., torch.linalg., torch.fft. and list-taking torch. functions: their signatures (ops/) first.
    const sigInfo: OpInfo = {};
    const sig = callSignature(this, path, args, kwargs, sigInfo);
    if (sig) return this.opEvent(op, args, kwargs, argNodes, kwargNodes, n, nameNode, sig, sigInfo);
    switch (op) {
      case 'randn':
      case 'rand':
      case 'zeros':
      case 'ones':
      case 'empty':
      case 'randint':
      case 'full': {
        let sizeArgs = args;
        if (op === 'randint') sizeArgs = args.slice(args.length >= 3 ? 2 : 1).filter((x) => x.kind === 'tuple');
        if (op === 'full') sizeArgs = args.slice(0, 1);
        // `torch.randn(size=(4, 8))`: the size may come as a keyword; with neither, nothing is known.
        if (kwargs.size) sizeArgs = [kwargs.size];
        if (sizeArgs.length === 0) return { kind: 'tensor' };
        const dims = this.dimsFromArgs(sizeArgs);
        if (!dims) return { kind: 'tensor' };
        const dtype = this.dtypeOf(kwargs.dtype) ?? (op === 'randint' ? 'long' : 'float');
        const t = this.tensor(dims, this.namesFromArgs(sizeArgs), { dtype });
        if (op === 'ones' || op === 'zeros') t.mask = { polarity: op === 'ones' ? 'keep' : 'ignore', values01: true };
        if (op === 'full' && args[1] && args[1].kind === 'bool') t.mask = { polarity: 'keep', values01: true };
        return t;
      }
      case 'arange': {
        const end = args.length === 1 ? args[0] : args[1];
        if (end?.kind !== 'int' || args.length > 2) return { kind: 'tensor' };
        const pos = this.tensor([args.length === 1 ? end.dim : D.sub(end.dim, (args[0] as IntV).dim)], [end.name], { dtype: this.dtypeOf(kwargs.dtype) ?? 'long' });
        // Only 0, 1, 2… are positions: a start other than 0 shifts them.
        if (isTensor(pos) && (args.length === 1 || numValue(args[0]) === 0)) pos.positions = true;
        return pos;
      }
      case 'eye': {
        const dims = this.dimsFromArgs(args.filter((x) => x.kind === 'int'));
        if (!dims || dims.length === 0) return { kind: 'tensor' };
        return this.tensor(dims.length === 1 ? [dims[0], dims[0]] : dims, undefined, { dtype: this.dtypeOf(kwargs.dtype) ?? 'float' });
      }
      case 'tensor':
      case 'as_tensor':
        return this.literalTensor(args[0], this.dtypeOf(kwargs.dtype));
      case 'from_numpy':
        return { kind: 'tensor' };
      case 'ones_like':
      case 'zeros_like':
      case 'randn_like':
      case 'rand_like':
      case 'empty_like':
      case 'full_like': {
        const t = args[0];
        if (!isTensor(t) || !t.axes) return { kind: 'tensor' };
        const r = this.tensor(t.axes.map((a) => a.size), undefined, { dtype: this.dtypeOf(kwargs.dtype) ?? t.dtype });
        r.axes = t.axes.map((a) => ({ ...a }));
        if (op === 'ones_like' || op === 'zeros_like') r.mask = { polarity: op === 'ones_like' ? 'keep' : 'ignore', values01: true };
        return r;
      }
      case 'scaled_dot_product_attention':
        return this.sdpa(args, kwargs, argNodes, kwargNodes, n, nameNode);
      case 'generate_square_subsequent_mask': {
        // nn.Transformer.generate_square_subsequent_mask(sz): an additive (sz, sz) mask of 0 and -inf.
        const sz = args[0] ?? kwargs.sz;
        return sz?.kind === 'int' ? this.tensor([sz.dim, sz.dim], undefined, { dtype: 'float' }) : { kind: 'tensor' };
      }
      case 'multi_head_attention_forward': {
        // Always sequence-first: query (L, N, E) in, (L, N, E) out, plus the weights.
        const q = args[0] ?? kwargs.query;
        const out: TensorV = isTensor(q) && q.axes ? { ...this.sameShape(q), axes: q.axes.map((a) => ({ ...a })) } : { kind: 'tensor' };
        const result: Value = { kind: 'tuple', items: [out, { kind: 'tensor' }] };
        this.emit({ kind: 'op', op, node: n, args, kwargs, argNodes, kwargNodes, nameNode, result, info: {} });
        return result;
      }
      case 'cat':
      case 'concat':
      case 'concatenate':
      case 'stack':
        return this.catStack(op === 'stack' ? 'stack' : 'cat', args, kwargs, argNodes, kwargNodes, n, nameNode);
      case 'einsum':
        return this.einsum(args, n, nameNode, argNodes, kwargNodes, kwargs);
      case 'outer':
      case 'ger': {
        // The outer product of two vectors (the angle table of rotary embeddings).
        const [a, b] = args;
        if (!isTensor(a) || !isTensor(b) || a.axes?.length !== 1 || b.axes?.length !== 1) return { kind: 'tensor' };
        return this.tensor([a.axes[0].size, b.axes[0].size], undefined, { dtype: 'float' });
      }
      case 'where': {
        const [c, x, y] = args;
        // torch.where(cond) alone is nonzero(as_tuple=True).
        if (args.length === 1) return { kind: 'tensor', hypothetical: true };
        const ts = [c, x, y].filter(isTensor);
        if (ts.length === 0) return UNKNOWN;
        // An operand of unknown kind may be a tensor that broadcasts the result larger.
        if ([c, x, y].some((v) => !v || (!isTensor(v) && v.kind !== 'int' && v.kind !== 'num' && v.kind !== 'bool'))) return { kind: 'tensor' };
        let acc: TensorV = { kind: 'tensor', axes: ts[0].axes, strides: this.elementwiseLayout(ts[0]) };
        for (const t of ts.slice(1)) {
          const info: OpInfo = {};
          const axes = this.broadcastValue(acc, t, n, info);
          acc = { kind: 'tensor', axes: axes ?? undefined, strides: axes ? contiguousStrides(axes.map((a) => a.size)) : undefined };
        }
        return acc;
      }
      case 'linear': {
        // F.linear(x, weight, bias): weight is (out_features, in_features), so x's last axis
        // is contracted with the weight's second one, as in nn.Linear.
        const x = args[0] ?? kwargs.input;
        const w = args[1] ?? kwargs.weight;
        const info: OpInfo = {};
        let result: TensorV = { kind: 'tensor' };
        if (isTensor(x) && x.axes && x.axes.length > 0 && isTensor(w) && w.axes?.length === 2) {
          const last = x.axes[x.axes.length - 1].size;
          info.contracted = [last, w.axes[1].size];
          if (this.unify(last, w.axes[1].size) !== 'ne') {
            const axes: Axis[] = [...x.axes.slice(0, -1).map((a) => ({ ...a })), { size: w.axes[0].size, role: 'chan' }];
            result = { kind: 'tensor', axes, strides: contiguousStrides(axes.map((a) => a.size)), dtype: 'float' };
          }
        }
        return this.opEvent(op, args, kwargs, argNodes, kwargNodes, n, nameNode, result, info);
      }
      case 'interpolate':
      case 'pad':
      case 'unfold':
      case 'fold':
      case 'conv2d':
      case 'conv1d':
      case 'avg_pool2d':
      case 'max_pool2d':
      case 'one_hot':
      case 'embedding':
        return { kind: 'tensor' };
      case 'adaptive_avg_pool2d':
      case 'adaptive_max_pool2d':
      case 'adaptive_avg_pool1d':
      case 'adaptive_max_pool1d': {
        const x = args[0];
        const out = args[1] ?? kwargs.output_size;
        return this.adaptivePool(x, out, op.endsWith('1d') ? 1 : 2);
      }
      case 'layer_norm':
      case 'group_norm':
      case 'batch_norm':
      case 'instance_norm':
        return isTensor(args[0]) ? this.sameShape(args[0]) : { kind: 'tensor' };
      case 'tril':
      case 'triu': {
        const t = args[0];
        if (!isTensor(t)) return { kind: 'tensor' };
        const r = this.sameShape(t);
        if (t.mask?.values01 || t.dtype === 'bool') r.mask = { polarity: op === 'triu' ? 'ignore' : 'keep', values01: t.mask?.values01 ?? false };
        r.dtype = t.dtype;
        return r;
      }
      case 'logical_not':
        return isTensor(args[0]) ? this.flipMask({ ...args[0], dtype: 'bool' }) : { kind: 'tensor' };
      case 'sigmoid':
      case 'tanh':
      case 'relu':
      case 'gelu':
      case 'silu':
      case 'exp':
      case 'dropout':
      case 'normalize':
      case 'sqrt':
      case 'abs':
      case 'clamp':
      case 'log':
      case 'leaky_relu':
      case 'elu':
      case 'mish':
      case 'hardswish':
      case 'log_softmax':
        if (isTensor(args[0])) {
          if (op === 'dropout') return args[0];
          return this.tensorOp(op, args, kwargs, argNodes, kwargNodes, n, nameNode);
        }
        return UNKNOWN;
    }
    if (path.startsWith('torch.') && isTensor(args[0])) return this.tensorOp(op, args, kwargs, argNodes, kwargNodes, n, nameNode);
    return UNKNOWN;
  }

  private sameShape(t: TensorV): TensorV {
    return { kind: 'tensor', axes: t.axes?.map((a) => ({ ...a })), strides: t.axes ? contiguousStrides(t.axes.map((a) => a.size)) : undefined, dtype: t.dtype === 'long' ? 'float' : t.dtype };
  }

  private adaptivePool(x: Value | undefined, out: Value | undefined, nd: number): Value {
    if (!isTensor(x) || !x.axes || x.axes.length < nd + 1) return { kind: 'tensor' };
    // `None` in an output size keeps that input axis (coordinate attention's (None, 1) pools).
    const spatial = x.axes.slice(x.axes.length - nd);
    const sizes =
      out?.kind === 'int'
        ? Array(nd).fill(out.dim)
        : out?.kind === 'tuple' && out.items.length === nd && out.items.every((i) => i.kind === 'int' || i.kind === 'none')
          ? out.items.map((i, k) => (i.kind === 'int' ? i.dim : spatial[k].size))
          : undefined;
    if (!sizes) return { kind: 'tensor' };
    const lead = x.axes.slice(0, x.axes.length - nd);
    return { kind: 'tensor', axes: [...lead.map((a) => ({ ...a })), ...sizes.map((s: Dim) => ({ size: s, role: 'space' as Role }))], strides: contiguousStrides([...lead.map((a) => a.size), ...sizes]) };
  }

  // ---------------------------------------------------------------- tensor operations

  private normDim(d: number | undefined, rank: number, info: OpInfo, extra = 0): number | undefined {
    if (d === undefined || !Number.isInteger(d)) return undefined;
    const r = rank + extra;
    if (d < -r || d >= r) {
      info.dimOutOfRange = { dim: d, rank };
      return undefined;
    }
    return d < 0 ? d + r : d;
  }

  private opEvent(op: string, args: Value[], kwargs: Record<string, Value>, argNodes: (Node | undefined)[], kwargNodes: Record<string, Node>, n: Node, nameNode: Node, result: Value, info: OpInfo): Value {
    // A rank read from a comment in the middle of code describes, it does not prove.
    if ((info.dimOutOfRange || info.rank) && [...args, ...Object.values(kwargs)].some((v) => isTensor(v) && v.rankFromComment)) {
      delete info.dimOutOfRange;
      delete info.rank;
    }
    this.emit({ kind: 'op', op, node: n, args, kwargs, argNodes, kwargNodes, nameNode, result, info });
    return this.raises(info) ? failed() : result;
  }

  private permuteTensor(t: TensorV, perm: number[], n: Node): TensorV {
    const axes = t.axes!;
    const res: TensorV = {
      kind: 'tensor',
      axes: perm.map((p) => axes[p]),
      strides: t.strides ? perm.map((p) => t.strides![p]) : undefined,
      dtype: t.dtype,
      mask: t.mask,
      positions: t.positions,
      learned: t.learned,
      scale: t.scale,
      permutes: (t.permutes ?? 0) + 1,
      lastPermute: n,
      preLayout: t.permutes ? t.preLayout : axes.map((a) => a.label),
    };
    if (t.normAxis !== undefined) res.normAxis = perm.indexOf(t.normAxis);
    if (t.softmaxNode) res.softmaxNode = t.softmaxNode;
    return res;
  }

  /**
   * The second permute of a round trip, x.permute(0, 2, 3, 1) ... .permute(0, 3, 2, 1): it
   * brings back to its place the axis the first permute moved farthest (so it is meant as the
   * way back) yet leaves others elsewhere. Only for explicit permute calls of rank >= 4 with
   * every axis's identity known: a transpose, or a first chain of reshuffles, is often meant to
   * land on a new layout (seq-first for nn.MultiheadAttention, heads before positions).
   */
  private partialRoundTrip(before: TensorV, after: TensorV): { before: string[]; after: string[] } | undefined {
    const origin = before.preLayout;
    const now = after.axes?.map((a) => a.label);
    const mid = before.axes?.map((a) => a.label);
    if (after.permutes !== 2 || !origin || !now || !mid || now.length < 4 || origin.length !== now.length) return undefined;
    if (![origin, now, mid].every((ls) => ls.every((l) => l !== undefined))) return undefined;
    const o = origin as string[];
    const a = now as string[];
    const m = mid as string[];
    if ([...o].sort().join() !== [...a].sort().join() || new Set(o).size !== o.length) return undefined;
    // The axis the first permute carried farthest (channels to the end, say) is the one a way
    // back must restore; when it is back in place but other axes are not, the inverse was
    // meant and missed. When it stays put (axial attention's (B, H, W, C) -> (B, W, H, C)),
    // the second permute is a new layout, not a way back.
    const dist = o.map((l, i) => Math.abs(m.indexOf(l) - i));
    const far = Math.max(...dist);
    const farthest = dist.flatMap((d, i) => (d === far ? [i] : []));
    if (far < 2 || farthest.length !== 1) return undefined;
    const restored = a[farthest[0]] === o[farthest[0]];
    const wrong = o.some((l, i) => a[i] !== l);
    return restored && wrong ? { before: o, after: a } : undefined;
  }

  private transposeTensor(t: TensorV, a: number, b: number, n: Node): TensorV {
    const r = t.axes!.length;
    const x = a < 0 ? a + r : a;
    const y = b < 0 ? b + r : b;
    const perm = t.axes!.map((_, i) => (i === x ? y : i === y ? x : i));
    return this.permuteTensor(t, perm, n);
  }

  private tensorOp(op: string, args: Value[], kwargs: Record<string, Value>, argNodes: (Node | undefined)[], kwargNodes: Record<string, Node>, n: Node, nameNode: Node): Value {
    const t = args[0] as TensorV;
    const rest = args.slice(1);
    const info: OpInfo = {};
    if (t.failed) return op === 'chunk' || op === 'split' || op === 'unbind' ? UNKNOWN : failed();
    const done = (result: Value) => this.opEvent(op, args, kwargs, argNodes, kwargNodes, n, nameNode, result, info);
    const rank = t.axes?.length;
    const kw = (name: string, i: number) => kwargs[name] ?? rest[i];
    switch (op) {
      case 'size': {
        const d = kw('dim', 0);
        if (!d) return this.shapeTuple(t);
        const i = numValue(d);
        if (rank === undefined) return intV(this.fresh('d'));
        const k = this.normDim(i, rank, info);
        if (k === undefined) return done(i === undefined ? intV(this.fresh('d')) : UNKNOWN);
        return intV(t.axes![k].size);
      }
      case 'dim':
      case 'ndimension':
        return rank === undefined ? intV(this.fresh('r')) : intV(D.dconst(rank));
      case 'numel':
        return t.axes ? intV(t.axes.reduce((acc, a) => D.mul(acc, a.size), D.dconst(1))) : intV(this.fresh('n'));
      case 'view':
      case 'reshape':
      case 'view_as':
      case 'reshape_as': {
        let target = op.endsWith('_as') ? (isTensor(rest[0]) && rest[0].axes ? rest[0].axes.map((a) => intV(a.size)) : undefined) : rest.length === 1 && rest[0].kind === 'tuple' ? rest[0].items : rest;
        if (kwargs.shape?.kind === 'tuple') target = kwargs.shape.items;
        // `x.view(orig_shape)` with the shape of a tensor of unknown rank: the target is unknown.
        const whole = rest.length === 1 && rest[0].kind === 'tuple' ? rest[0] : kwargs.shape?.kind === 'tuple' ? kwargs.shape : undefined;
        if (whole?.shapeOf && !whole.shapeOf.axes) return done({ kind: 'tensor', dtype: t.dtype });
        if (!target) return done({ kind: 'tensor' });
        if (op === 'view' && target.length === 1 && target[0].kind === 'qual') return done({ ...t, dtype: this.dtypeOf(target[0]) });
        return done(this.reshape(t, target, op.startsWith('view'), info, n));
      }
      case 'flatten': {
        if (!t.axes) return done({ kind: 'tensor' });
        if (rank === 0) return done(this.tensor([D.dconst(1)]));
        const s = this.normDim(numValue(kw('start_dim', 0) ?? intV(D.dconst(0))), rank!, info);
        const e = this.normDim(numValue(kw('end_dim', 1) ?? intV(D.dconst(-1))), rank!, info);
        if (s === undefined || e === undefined || e < s) return done({ kind: 'tensor' });
        const merged = t.axes.slice(s, e + 1);
        const size = merged.reduce((acc, a) => D.mul(acc, a.size), D.dconst(1));
        const axes: Axis[] = [...t.axes.slice(0, s), { size, role: this.mergeRole(merged), label: merged.length === 1 ? merged[0].label : undefined }, ...t.axes.slice(e + 1)];
        const strides = this.viewStrides(t, axes.map((a) => a.size));
        return done({ kind: 'tensor', axes, strides: strides ?? contiguousStrides(axes.map((a) => a.size)), dtype: t.dtype, mask: t.mask, positions: t.positions, learned: t.learned, permutes: t.permutes, lastPermute: t.lastPermute });
      }
      case 'permute': {
        const items = rest.length === 1 && rest[0].kind === 'tuple' ? rest[0].items : kwargs.dims?.kind === 'tuple' ? kwargs.dims.items : rest;
        const perm = items.map((x) => numValue(x));
        if (perm.some((x) => x === undefined)) return done({ kind: 'tensor' });
        if (rank === undefined) {
          // permute fixes the rank of a tensor of unknown shape.
          return done({ kind: 'tensor' });
        }
        const p = perm as number[];
        if (p.length !== rank) {
          info.badPermutation = `permute got ${p.length} dims for a ${rank}-d tensor ${this.shapeText(t)}`;
          return done({ kind: 'tensor' });
        }
        const normd = p.map((x) => (x < 0 ? x + rank : x));
        if (normd.some((x) => x < 0 || x >= rank)) {
          info.badPermutation = `permute dims (${p.join(', ')}) are out of range for a ${rank}-d tensor`;
          return done({ kind: 'tensor' });
        }
        const dup = normd.find((x, i) => normd.indexOf(x) !== i);
        if (dup !== undefined) {
          const missing = t.axes!.map((_, i) => i).filter((i) => !normd.includes(i));
          info.badPermutation = `permute repeats dim ${dup}${missing.length ? ` and leaves out ${missing.join(', ')}` : ''}`;
          return done({ kind: 'tensor' });
        }
        const res = this.permuteTensor(t, normd, n);
        const trip = this.partialRoundTrip(t, res);
        if (trip) info.partialRoundTrip = trip;
        return done(res);
      }
      case 'transpose':
      case 'swapaxes':
      case 'swapdims': {
        if (!t.axes) return done({ kind: 'tensor' });
        const a = this.normDim(numValue(kw('dim0', 0)), rank!, info);
        const b = this.normDim(numValue(kw('dim1', 1)), rank!, info);
        if (a === undefined || b === undefined) return done({ kind: 'tensor' });
        return done(this.transposeTensor(t, a, b, n));
      }
      case 't':
        if (!t.axes || rank! > 2) return done({ kind: 'tensor' });
        return done(rank === 2 ? this.transposeTensor(t, 0, 1, n) : t);
      case 'contiguous':
        return done({ ...t, strides: t.axes ? contiguousStrides(t.axes.map((a) => a.size)) : undefined });
      case 'unsqueeze': {
        if (!t.axes) return done({ kind: 'tensor' });
        const d = this.normDim(numValue(kw('dim', 0)), rank!, info, 1);
        if (d === undefined) return done({ kind: 'tensor' });
        const axes = [...t.axes];
        axes.splice(d, 0, { size: D.dconst(1) });
        return done({ ...t, axes, strides: contiguousStrides(axes.map((a) => a.size)), normAxis: t.normAxis !== undefined && t.normAxis >= d ? t.normAxis + 1 : t.normAxis });
      }
      case 'squeeze': {
        if (!t.axes) return done({ kind: 'tensor' });
        const dv = kw('dim', 0);
        if (!dv) {
          if (t.axes.some((a) => D.constValue(this.norm(a.size)) === undefined)) return done({ kind: 'tensor' });
          const axes = t.axes.filter((a) => D.constValue(this.norm(a.size)) !== 1);
          return done({ ...t, axes, strides: contiguousStrides(axes.map((a) => a.size)), normAxis: undefined });
        }
        const d = this.normDim(numValue(dv), rank!, info);
        if (d === undefined) return done({ kind: 'tensor' });
        const c = D.constValue(this.norm(t.axes[d].size));
        if (c === undefined) return done({ kind: 'tensor' });
        if (c !== 1) return done(t);
        const axes = t.axes.filter((_, i) => i !== d);
        return done({ ...t, axes, strides: contiguousStrides(axes.map((a) => a.size)), normAxis: undefined });
      }
      case 'expand':
      case 'expand_as':
      case 'broadcast_to': {
        const items = op === 'expand_as' ? (isTensor(rest[0]) && rest[0].axes ? rest[0].axes.map((a) => intV(a.size)) : undefined) : rest.length === 1 && rest[0].kind === 'tuple' ? rest[0].items : rest;
        if (!items || !t.axes) return done({ kind: 'tensor' });
        const off = items.length - t.axes.length;
        if (off < 0) return done({ kind: 'tensor' });
        const axes: Axis[] = [];
        const strides: Dim[] = [];
        for (let i = 0; i < items.length; i++) {
          const it = items[i];
          const src = i >= off ? t.axes[i - off] : undefined;
          const v = numValue(it);
          if (v === -1 && src) {
            axes.push(src);
            strides.push(t.strides ? t.strides[i - off] : D.dconst(0));
          } else if (it.kind === 'int') {
            if (src && D.constValue(this.norm(src.size)) !== 1) {
              const c = this.unify(src.size, it.dim);
              if (c === 'ne') info.expectedSize = { axis: i, expected: it.dim, got: src.size, what: 'expand' };
            }
            axes.push({ size: it.dim, role: src?.role, label: src?.label });
            strides.push(src && D.constValue(this.norm(src.size)) !== 1 && t.strides ? t.strides[i - off] : D.dconst(0));
          } else return done({ kind: 'tensor' });
        }
        return done({ ...t, axes, strides: t.strides ? strides : undefined });
      }
      case 'repeat': {
        const items = rest.length === 1 && rest[0].kind === 'tuple' ? rest[0].items : rest;
        if (!t.axes || items.length < t.axes.length || items.some((x) => x.kind !== 'int')) return done({ kind: 'tensor' });
        const off = items.length - t.axes.length;
        const axes = items.map((it, i) => {
          const src = i >= off ? t.axes![i - off] : undefined;
          return { size: src ? D.mul(src.size, (it as IntV).dim) : (it as IntV).dim, role: src?.role };
        });
        return done({ kind: 'tensor', axes, strides: contiguousStrides(axes.map((a) => a.size)), dtype: t.dtype, mask: t.mask, positions: t.positions, learned: t.learned });
      }
      case 'repeat_interleave': {
        const r = kw('repeats', 0);
        const dv = kw('dim', 1);
        if (!t.axes || r?.kind !== 'int') return done({ kind: 'tensor', dtype: t.dtype });
        if (!dv || dv.kind === 'none') {
          const size = D.mul(t.axes.reduce((acc, a) => D.mul(acc, a.size), D.dconst(1)), r.dim);
          return done(this.tensor([size], undefined, { dtype: t.dtype }));
        }
        const d = this.normDim(numValue(dv), rank!, info);
        if (d === undefined) return done({ kind: 'tensor', dtype: t.dtype });
        const axes = t.axes.map((a, i) => (i === d ? { size: D.mul(a.size, r.dim), role: a.role } : a));
        return done({ kind: 'tensor', axes, strides: contiguousStrides(axes.map((a) => a.size)), dtype: t.dtype, mask: t.mask, positions: t.positions, learned: t.learned });
      }
      case 'chunk':
      case 'split':
      case 'tensor_split':
      case 'unbind': {
        if (!t.axes) {
          // chunk(3) and split of a list of sections give that many tensors of unknown shape.
          const a0 = kw('chunks', 0);
          const c = op === 'chunk' && a0 ? numValue(a0) : op === 'split' && rest[0]?.kind === 'tuple' ? rest[0].items.length : undefined;
          if (c !== undefined && Number.isInteger(c) && c > 0 && c <= 16) return done({ kind: 'tuple', items: Array.from({ length: c }, () => ({ kind: 'tensor', dtype: t.dtype }) as TensorV) });
          // As many tensors of unknown shape as the input has parts along the axis.
          return done({ kind: 'tuple', items: [{ kind: 'tensor', dtype: t.dtype, hypothetical: t.hypothetical } as TensorV], inexact: true });
        }
        const dv = op === 'unbind' ? kw('dim', 0) : kw('dim', 1);
        const d = this.normDim(numValue(dv ?? intV(D.dconst(0))), rank!, info);
        if (d === undefined) return done(UNKNOWN);
        const size = this.norm(t.axes[d].size);
        let parts: Dim[] | undefined;
        const a0 = op === 'split' ? kw('split_size_or_sections', 0) ?? kw('split_size', 0) : kw('chunks', 0);
        if (op === 'unbind') {
          const c = D.constValue(size);
          if (c === undefined || c > 16) return done(UNKNOWN);
          const axes = t.axes.filter((_, i) => i !== d);
          return done({ kind: 'tuple', items: Array.from({ length: c }, () => ({ kind: 'tensor', axes, strides: undefined, dtype: t.dtype }) as TensorV) });
        }
        if (op === 'chunk' && a0?.kind === 'int') {
          const k = D.constValue(this.norm(a0.dim));
          if (k === undefined || k > 16 || k < 1) return done(UNKNOWN);
          const c = D.constValue(size);
          if (c !== undefined) {
            const each = Math.ceil(c / k);
            parts = [];
            for (let left = c; left > 0; left -= each) parts.push(D.dconst(Math.min(each, left)));
          } else {
            const q = D.floorDiv(size, a0.dim);
            if (!q) return done(UNKNOWN);
            parts = Array(k).fill(q);
          }
        } else if (op === 'split' && a0?.kind === 'int') {
          const c = D.constValue(size);
          const s = D.constValue(this.norm(a0.dim));
          if (c !== undefined && s !== undefined && s > 0) {
            parts = [];
            for (let left = c; left > 0; left -= s) parts.push(D.dconst(Math.min(s, left)));
            if (parts.length > 16) return done(UNKNOWN);
          } else {
            const r = D.ratio(size, this.norm(a0.dim));
            if (r === undefined || !Number.isInteger(r) || r > 16 || r < 1) return done(UNKNOWN);
            parts = Array(r).fill(this.norm(a0.dim));
          }
        } else if (op === 'split' && a0?.kind === 'tuple' && a0.items.every((x) => x.kind === 'int')) {
          parts = a0.items.map((x) => (x as IntV).dim);
        }
        if (!parts) return done(UNKNOWN);
        return done({
          kind: 'tuple',
          items: parts.map((p) => {
            const axes = t.axes!.map((a, i) => (i === d ? { size: p, role: a.role } : a));
            return { kind: 'tensor', axes, strides: t.strides, dtype: t.dtype } as TensorV;
          }),
        });
      }
      case 'softmax':
      case 'log_softmax': {
        const dv = kw('dim', 0);
        if (!t.axes) return done({ kind: 'tensor' });
        const d = this.normDim(numValue(dv), rank!, info);
        const res: TensorV = { kind: 'tensor', axes: t.axes, strides: this.elementwiseLayout(t), dtype: 'float' };
        if (d !== undefined) {
          res.normAxis = d;
          res.softmaxNode = n;
        }
        return done(res);
      }
      case 'masked_fill':
      case 'masked_fill_': {
        const mask = kw('mask', 0);
        if (isTensor(mask) && t.axes && mask.axes) {
          const axes = this.broadcastValue(t, mask, n, info);
          if (axes && axes.length !== t.axes.length) info.broadcast = info.broadcast ?? [D.dconst(t.axes.length), D.dconst(axes.length)];
        }
        return done({ ...t, mask: undefined });
      }
      case 'matmul':
      case 'bmm':
      case 'mm':
        return this.matmul(t, rest[0] ?? UNKNOWN, n, nameNode, op, argNodes, kwargNodes);
      case 'baddbmm':
      case 'addmm': {
        // beta * input + alpha * (b1 @ b2): the product is checked as bmm / mm would check it;
        // the result has the product's shape (input must broadcast to it), and alpha scales it
        // the way `* alpha` after the product would.
        const prod = this.matmul(kw('batch1', 0) ?? kw('mat1', 0) ?? UNKNOWN, kw('batch2', 1) ?? kw('mat2', 1) ?? UNKNOWN, n, nameNode, op === 'baddbmm' ? 'bmm' : 'mm', [argNodes[1], argNodes[2]], kwargNodes);
        if (!isTensor(prod) || !prod.scores) return prod;
        const alpha = kwargs.alpha;
        const s = alpha ? this.scaleOf(alpha, '*') : undefined;
        return s ? { ...prod, scores: { ...prod.scores, scale: this.combineScale(prod.scores.scale, s), scaleNode: n } } : prod;
      }
      case 'mean':
      case 'sum':
      case 'amax':
      case 'amin':
      case 'max':
      case 'min':
      case 'prod':
      case 'std':
      case 'var':
      case 'norm':
      case 'logsumexp':
      case 'argmax':
      case 'argmin':
      case 'all':
      case 'any': {
        const dv = op === 'norm' ? kw('dim', 1) : kw('dim', 0);
        if (!t.axes) return done({ kind: 'tensor' });
        if (!dv || dv.kind === 'none') return done(this.tensor([]));
        if (dv.kind === 'tensor') return done({ kind: 'tensor' });
        const keep = this.truth(kwargs.keepdim ?? (op === 'norm' ? rest[2] : rest[1]) ?? { kind: 'bool', value: false });
        if (keep === undefined) return done({ kind: 'tensor' });
        const ds = dv.kind === 'tuple' ? dv.items.map((x) => numValue(x)) : [numValue(dv)];
        const idx = ds.map((x) => this.normDim(x, rank!, info));
        if (idx.some((x) => x === undefined)) return done({ kind: 'tensor' });
        const axes = keep ? t.axes.map((a, i) => (idx.includes(i) ? { size: D.dconst(1) } : a)) : t.axes.filter((_, i) => !idx.includes(i));
        const res = this.tensor(axes.map((a) => a.size));
        res.axes = axes;
        if ((op === 'max' || op === 'min') && dv.kind !== 'tuple') return done({ kind: 'tuple', items: [res, { ...res, dtype: 'long' }], names: ['values', 'indices'] });
        return done(res);
      }
      case 'bool':
        return done({ ...t, dtype: 'bool' });
      case 'long':
      case 'int':
        return done({ ...t, dtype: 'long' });
      case 'float':
      case 'half':
      case 'double':
      case 'bfloat16':
        return done(this.asFloat(t));
      case 'to':
      case 'type': {
        const d = this.dtypeOf(kwargs.dtype ?? rest.find((x) => x.kind === 'qual'));
        return done(d === 'float' ? this.asFloat(t) : d ? { ...t, dtype: d } : t);
      }
      case 'type_as':
        return done({ ...t, dtype: isTensor(rest[0]) ? rest[0].dtype : undefined });
      case 'logical_not':
        return done(this.flipMask({ ...t, dtype: 'bool' }));
      case 'new_ones':
      case 'new_zeros':
      case 'new_empty':
      case 'new_full': {
        const dims = this.dimsFromArgs(op === 'new_full' ? rest.slice(0, 1) : rest);
        if (!dims) return done({ kind: 'tensor' });
        const r = this.tensor(dims, this.namesFromArgs(op === 'new_full' ? rest.slice(0, 1) : rest), { dtype: this.dtypeOf(kwargs.dtype) ?? t.dtype });
        if (op === 'new_ones' || op === 'new_zeros') r.mask = { polarity: op === 'new_ones' ? 'keep' : 'ignore', values01: true };
        return done(r);
      }
      case 'tril':
      case 'triu': {
        const r: TensorV = { ...t, mask: t.mask?.values01 || t.dtype === 'bool' ? { polarity: op === 'triu' ? 'ignore' : 'keep', values01: t.mask?.values01 } : undefined };
        return done(r);
      }
      case 'item': {
        // Only a one-element tensor converts to a Python number.
        if (t.axes) {
          const numel = this.norm(t.axes.reduce((acc, a) => D.mul(acc, a.size), D.dconst(1)));
          const c = D.constValue(numel);
          if (c !== undefined && c !== 1) info.itemOf = numel;
        }
        done({ kind: 'num' });
        return { kind: 'num' };
      }
      case 'tolist':
      case 'numpy':
      case 'detach':
      case 'clone':
      case 'cpu':
      case 'cuda':
      case 'requires_grad_':
        return done(op === 'tolist' || op === 'numpy' ? UNKNOWN : t);
      case 'dropout':
        return done(t);
    }
    if (ELEMENTWISE_FUNCS.has(op)) {
      const other = rest[0];
      if (isTensor(other) && ['pow', 'mul_', 'add_'].includes(op)) {
        const axes = this.broadcastValue(t, other, n, info);
        return done({ kind: 'tensor', axes: axes ?? undefined, dtype: 'float' });
      }
      // Conversions to what the tensor already is return it (same strides); computations
      // follow the elementwise layout rule.
      const strides = /^(to|float|half|double|bfloat16|type_as|cpu|cuda|detach|requires_grad_|contiguous|relu_|sigmoid_|mul_|add_|tanh_|zero_|fill_|masked_fill_)$/.test(op) ? t.strides : this.elementwiseLayout(t);
      return done({ ...t, strides, mask: op === 'float' || op === 'half' ? t.mask : undefined, scores: t.scores, dtype: op === 'bool' ? 'bool' : t.dtype === 'long' && /^(exp|log|sqrt|sigmoid|tanh|relu|gelu)$/.test(op) ? 'float' : t.dtype });
    }
    if (['add', 'sub', 'mul', 'div', 'matmul', 'eq', 'ne', 'lt', 'gt', 'le', 'ge', 'logical_and', 'logical_or', 'maximum', 'minimum'].includes(op) && rest[0]) {
      const sym: Record<string, string> = { add: '+', sub: '-', mul: '*', div: '/', eq: '==', ne: '!=', logical_and: '&', logical_or: '|' };
      if (sym[op] && !['eq', 'ne'].includes(op)) return this.binaryValues(sym[op], t, rest[0], n);
      if (isTensor(rest[0])) {
        const axes = this.broadcastValue(t, rest[0], n, info);
        return done({ kind: 'tensor', axes: axes ?? undefined });
      }
      return done({ ...t, dtype: 'bool', mask: undefined });
    }
    // An op without a case here may have a signature (ops/): topk's named tuple, movedim, diag…
    const sig = callSignature(this, `Tensor.${op}`, args, kwargs, info);
    if (sig) return done(sig);
    // An op without a signature may return anything, a tuple included.
    return done({ kind: 'tensor', hypothetical: true });
  }

  private mergeRole(axes: Axis[]): Role | undefined {
    const roles = axes.map((a) => a.role).filter((r) => r !== undefined);
    if (axes.length === 1) return axes[0].role;
    if (roles.length === axes.length && roles.every((r) => r === 'space')) return 'seq';
    if (roles.includes('head') && roles.includes('hdim') && roles.length === 2) return 'chan';
    // Heads, queries or spatial positions folded into the batch (axial and window attention's
    // (B * W, H, C)) leave a batch axis.
    if (roles.includes('batch') && (roles.includes('head') || roles.includes('query') || (roles.includes('space') && roles.every((r) => r === 'batch' || r === 'space')))) return 'batch';
    if (roles.length === 1 && roles[0] === 'seq') return 'seq';
    return undefined;
  }

  /** torch's view stride computation, on symbolic sizes under the generic assumption. */
  private viewStrides(t: TensorV, newSizes: Dim[]): Dim[] | undefined | null {
    if (!t.axes || !t.strides) return undefined;
    const sizes = t.axes.map((a) => this.norm(a.size));
    const strides = t.strides.map((s) => this.norm(s));
    const isOne = (d: Dim) => D.constValue(d) === 1;
    if (sizes.length === 0) return contiguousStrides(newSizes);
    // A contiguous tensor views as any shape of its size.
    const cont = contiguousStrides(sizes);
    if (sizes.every((sz, i) => isOne(sz) || D.equal(strides[i], this.norm(cont[i])))) return contiguousStrides(newSizes);
    // Which old axes make up which new ones is only known when the sizes provably agree
    // (C against n_head * head_dim may be anything): otherwise nothing is proved.
    const total = sizes.reduce((acc, d) => D.mul(acc, d), D.dconst(1));
    const wanted = newSizes.reduce((acc, d) => D.mul(acc, this.norm(d)), D.dconst(1));
    if (this.compare(total, wanted) !== 'eq') return undefined;
    // Chunks of old dims that are mutually contiguous.
    const chunks: { numel: Dim; stride: Dim }[] = [];
    let numel = sizes[sizes.length - 1];
    let base = strides[strides.length - 1];
    for (let d = sizes.length - 1; d >= 0; d--) {
      if (d === 0) {
        chunks.unshift({ numel, stride: base });
        break;
      }
      const prevSize = sizes[d - 1];
      const contiguousWithNext = isOne(prevSize) || D.equal(strides[d - 1], D.mul(numel, base));
      if (contiguousWithNext) {
        if (!isOne(prevSize)) numel = D.mul(numel, prevSize);
      } else {
        chunks.unshift({ numel, stride: base });
        numel = prevSize;
        base = strides[d - 1];
      }
    }
    const out: Dim[] = new Array(newSizes.length);
    let vd = newSizes.length - 1;
    for (let c = chunks.length - 1; c >= 0; c--) {
      const chunk = chunks[c];
      let acc = D.dconst(1);
      let matched = D.constValue(chunk.numel) === 1;
      while (vd >= 0) {
        const s = this.norm(newSizes[vd]);
        if (matched && !isOne(s)) break;
        out[vd] = D.mul(acc, chunk.stride);
        acc = D.mul(acc, s);
        vd--;
        if (D.equal(acc, chunk.numel)) matched = true;
      }
      if (!matched) return null;
    }
    while (vd >= 0) {
      if (!isOne(this.norm(newSizes[vd]))) return null;
      out[vd] = D.dconst(1);
      vd--;
    }
    return out;
  }

  /** Whether the new axes (size-1 axes aside) have exactly the sizes of the merged parts, in order. */
  private restoresParts(parts: Axis[], news: Axis[]): boolean {
    const real = news.filter((a) => D.constValue(this.norm(a.size)) !== 1);
    return real.length === parts.length && real.every((a, i) => this.compare(a.size, parts[i].size) === 'eq');
  }

  private reshape(t: TensorV, target: Value[], isView: boolean, info: OpInfo, n: Node): Value {
    const dims: (Dim | undefined)[] = [];
    let infer = -1;
    const names: (string | undefined)[] = [];
    for (let i = 0; i < target.length; i++) {
      const it = target[i];
      if (it.kind !== 'int') return { kind: 'tensor' };
      const c = D.constValue(this.norm(it.dim));
      if (c === -1) {
        if (infer >= 0) {
          info.badShape = 'only one dimension can be inferred, and this shape has two -1s';
          return { kind: 'tensor' };
        }
        infer = i;
        dims.push(undefined);
      } else if (c !== undefined && (c < -1 || !Number.isInteger(c))) {
        info.badShape = `invalid size ${c}: sizes are -1 (inferred) or non-negative`;
        return { kind: 'tensor' };
      } else dims.push(it.dim);
      names.push(it.name);
    }
    if (!t.axes) {
      // An inferred (-1) axis of an unknown input is a size of its own, and the layout is
      // unknown (nothing about viewability follows from it).
      if (infer >= 0) {
        dims[infer] = this.fresh(names[infer] ?? 'n');
        return { ...this.tensor(dims as Dim[], names), strides: undefined, dtype: t.dtype };
      }
      return { ...this.tensor(dims as Dim[], names), dtype: t.dtype };
    }
    const total = t.axes.reduce((acc, a) => D.mul(acc, a.size), D.dconst(1));
    const known = dims.reduce<Dim>((acc, d) => (d ? D.mul(acc, d) : acc), D.dconst(1));
    if (infer >= 0) {
      const q = D.floorDiv(this.norm(total), this.norm(known));
      const tc = D.constValue(this.norm(total));
      const kc = D.constValue(this.norm(known));
      if (tc !== undefined && kc !== undefined && kc !== 0 && tc % kc !== 0) {
        info.numel = { from: total, to: known, inferred: true };
        return { kind: 'tensor' };
      }
      if (!q) return { kind: 'tensor' };
      dims[infer] = q;
    } else {
      const c = this.compare(total, known);
      if (c === 'ne') {
        info.numel = { from: total, to: known };
        return { kind: 'tensor' };
      }
      if (c === 'unknown') this.unify(total, known);
    }
    const sizes = dims as Dim[];
    // Grouping: which old axes make up each new axis (row-major).
    const groups = this.group(t.axes.map((a) => this.norm(a.size)), sizes.map((s) => this.norm(s)));
    const axes: Axis[] = sizes.map((s, i) => {
      const nm = names[i];
      const role = nm ? roleFromName(nm, names.filter((x): x is string => !!x)) : undefined;
      return { size: s, role };
    });
    if (groups && groups.some((g) => this.scrambles(g.old.map((k) => this.norm(t.axes![k].size)), g.new.map((k) => this.norm(sizes[k]))))) {
      info.reorder = true;
    } else if (groups) {
      for (const g of groups) {
        const olds = g.old.map((i) => t.axes![i]);
        if (g.new.length === 1) {
          const ax = axes[g.new[0]];
          // An axis carried over unchanged keeps the role it had: the name a size was read
          // into (`H`, which alone reads as heads) is weaker evidence than where it came from.
          if (olds.length === 1 && olds[0].role) ax.role = olds[0].role;
          if (!ax.role) ax.role = this.mergeRole(olds);
          if (olds.length === 1) ax.label = olds[0].label;
          // A merge of several axes remembers them (their identity survives the round trip).
          const real = olds.filter((o) => D.constValue(this.norm(o.size)) !== 1);
          if (olds.length === 1 && olds[0].parts) ax.parts = olds[0].parts;
          else if (real.length > 1) ax.parts = real.map((o) => ({ ...o }));
        } else if (olds.length === 1 && olds[0].parts && this.restoresParts(olds[0].parts, g.new.map((k) => axes[k]))) {
          // Splitting a merged axis back into the sizes it was made of restores those axes.
          const parts = olds[0].parts;
          g.new.filter((k) => D.constValue(this.norm(sizes[k])) !== 1).forEach((k, j) => {
            axes[k].label = parts[j].label;
            if (!axes[k].role) axes[k].role = parts[j].role;
          });
        } else if (olds.length === 1 && olds[0].role === 'chan' && g.new.length === 2) {
          const [h, d] = g.new;
          if (!axes[h].role) axes[h].role = 'head';
          if (!axes[d].role) axes[d].role = 'hdim';
        } else if (olds.length === 1) {
          for (const k of g.new) if (!axes[k].role && D.constValue(sizes[k]) !== 1) axes[k].role = olds[0].role === 'batch' ? undefined : undefined;
        }
      }
    } else if (this.isReorder(t.axes.map((a) => this.norm(a.size)), sizes.map((s) => this.norm(s)))) {
      info.reorder = true;
    }
    let strides: Dim[] | undefined;
    if (isView) {
      const vs = this.viewStrides(t, sizes);
      if (vs === null) info.notViewable = true;
      strides = vs ?? contiguousStrides(sizes);
    } else strides = contiguousStrides(sizes);
    void n;
    return { kind: 'tensor', axes, strides, dtype: t.dtype, mask: t.mask, positions: t.positions, learned: t.learned, scale: t.scale, permutes: t.permutes, lastPermute: t.lastPermute, preLayout: t.preLayout };
  }

  /**
   * Whether one row-major group (old axes whose product is the product of new axes) moves
   * factors between axes: several old axes and several new ones. One exception is a split of
   * one axis whose leading part joins the axis before it, or the way back — (N, H·D) to
   * (N·H, D) and (N·H, D) to (N, H·D), how sequence-first attention folds heads into the batch.
   * It keeps every element's order, and sizes that are numbers cannot tell it from anything
   * else, so two old and two new axes of different sizes that share such a split are not
   * evidence of a missing transpose.
   */
  private scrambles(old: Dim[], neu: Dim[]): boolean {
    const real = (ds: Dim[]) => ds.filter((d) => D.constValue(d) !== 1);
    const a = real(old);
    const b = real(neu);
    if (a.length < 2 || b.length < 2) return false;
    if (a.length !== 2 || b.length !== 2) return true;
    const [a0, a1, b0, b1] = [a[0], a[1], b[0], b[1]].map((d) => D.constValue(d));
    if (a0 === undefined || a1 === undefined || b0 === undefined || b1 === undefined) return true;
    // The same sizes in another order is a view used as a transpose.
    if ((a0 === b1 && a1 === b0) || (a0 === b0 && a1 === b1)) return true;
    // (p, q·r) to (p·q, r), or (p·q, r) to (p, q·r): the outer sizes divide one another.
    const [small, big] = a0 < b0 ? [a0, b0] : [b0, a0];
    return big % small !== 0;
  }

  /** Row-major grouping of old sizes into new sizes, under the generic assumption. */
  private group(old: Dim[], neu: Dim[]): { old: number[]; new: number[] }[] | undefined {
    const out: { old: number[]; new: number[] }[] = [];
    let i = 0;
    let j = 0;
    const isOne = (d: Dim) => D.constValue(d) === 1;
    while (i < old.length || j < neu.length) {
      if (i < old.length && isOne(old[i])) {
        i++;
        continue;
      }
      if (j < neu.length && isOne(neu[j])) {
        j++;
        continue;
      }
      if (i >= old.length || j >= neu.length) return undefined;
      const g = { old: [i], new: [j] };
      let a = old[i];
      let b = neu[j];
      i++;
      j++;
      let guard = 0;
      while (!D.equal(a, b)) {
        if (++guard > 32) return undefined;
        const av = D.constValue(a);
        const bv = D.constValue(b);
        let growA: boolean;
        if (av !== undefined && bv !== undefined) growA = av < bv;
        else if (this.divides(a, b)) growA = true;
        else if (this.divides(b, a)) growA = false;
        else return undefined;
        if (growA) {
          if (i >= old.length) return undefined;
          a = D.mul(a, old[i]);
          g.old.push(i++);
        } else {
          if (j >= neu.length) return undefined;
          b = D.mul(b, neu[j]);
          g.new.push(j++);
        }
      }
      out.push(g);
    }
    return out;
  }

  /** Whether a divides b as monomials (b / a has no negative exponents) or as numbers. */
  private divides(a: Dim, b: Dim): boolean {
    const av = D.constValue(a);
    const bv = D.constValue(b);
    if (av !== undefined && bv !== undefined) return av !== 0 && bv % av === 0 && bv > av;
    const q = D.floorDiv(b, a);
    if (!q || q.terms.length !== 1) return false;
    const t = q.terms[0];
    return t.syms.every(([, e]) => e > 0) && (t.syms.length > 0 || t.coef > 1) && Number.isInteger(t.coef);
  }

  /** Same numel and same multiset of factors, but no row-major grouping: a transpose is missing. */
  private isReorder(old: Dim[], neu: Dim[]): boolean {
    const factors = (ds: Dim[]) => {
      const out: string[] = [];
      for (const d of ds) {
        if (d.terms.length !== 1) return undefined;
        const t = d.terms[0];
        if (t.coef !== 1 && t.syms.length > 0) return undefined;
        for (const [s, e] of t.syms) {
          if (e < 0) return undefined;
          for (let k = 0; k < e; k++) out.push(s);
        }
        if (t.syms.length === 0 && t.coef !== 1) out.push(String(t.coef));
      }
      return out.sort().join('*');
    };
    const a = factors(old);
    const b = factors(neu);
    if (a !== undefined && b !== undefined && a === b && a.length > 0) return true;
    // Numbers: a grouping exists for any shapes with equal numel only if row-major factors line up;
    // when all sizes are numbers and distinct, the failed grouping above already proves a reorder.
    const allNum = [...old, ...neu].every((d) => D.isConst(d));
    if (allNum) {
      const prod = (ds: Dim[]) => ds.reduce((acc, d) => acc * (D.constValue(d) ?? 1), 1);
      return prod(old) === prod(neu);
    }
    return false;
  }

  private matmul(l: Value, r: Value, n: Node, nameNode: Node, op: string, argNodes?: (Node | undefined)[], kwargNodes?: Record<string, Node>): Value {
    if ((isTensor(l) && l.failed) || (isTensor(r) && r.failed)) return failed();
    const info: OpInfo = {};
    const args = [l, r];
    const done = (res: Value) => {
      this.emit({ kind: 'op', op: 'matmul', node: n, args, kwargs: {}, argNodes: argNodes ?? [n.childForFieldName('left') ?? undefined, n.childForFieldName('right') ?? undefined], kwargNodes: kwargNodes ?? {}, nameNode, result: res, info });
      return this.raises(info) ? failed() : res;
    };
    if (!isTensor(l) || !isTensor(r) || !l.axes || !r.axes) return done({ kind: 'tensor' });
    let a = l.axes;
    let b = r.axes;
    if (a.length === 0 || b.length === 0) return done({ kind: 'tensor' });
    if (op === 'bmm' && (a.length !== 3 || b.length !== 3)) {
      info.rank = { expected: '3-d tensors for bmm', got: a.length !== 3 ? a.length : b.length };
      return done({ kind: 'tensor' });
    }
    const aVec = a.length === 1;
    const bVec = b.length === 1;
    if (aVec) a = [{ size: D.dconst(1) }, a[0]];
    if (bVec) b = [b[0], { size: D.dconst(1) }];
    const ka = a[a.length - 1].size;
    const kb = b[b.length - 2].size;
    info.contracted = [ka, kb];
    const c = this.unify(ka, kb);
    if (c === 'ne') return done({ kind: 'tensor' });
    // Batch dims broadcast.
    const ba = a.slice(0, -2);
    const bb = b.slice(0, -2);
    const len = Math.max(ba.length, bb.length);
    const batch: Axis[] = [];
    for (let i = 0; i < len; i++) {
      const x = ba[ba.length - len + i];
      const y = bb[bb.length - len + i];
      if (!x || !y) batch.push(x ?? y);
      else if (D.constValue(this.norm(x.size)) === 1) batch.push(y);
      else if (D.constValue(this.norm(y.size)) === 1) batch.push(x);
      else {
        if (op === 'bmm' && this.unify(x.size, y.size) === 'ne') {
          info.broadcast = [x.size, y.size];
          return done({ kind: 'tensor' });
        }
        if (this.unify(x.size, y.size) === 'ne') {
          info.broadcast = [x.size, y.size];
          return done({ kind: 'tensor' });
        }
        batch.push(x);
      }
    }
    const rows = a[a.length - 2];
    const cols = b[b.length - 1];
    const featureContraction = ['chan', 'hdim'].includes(a[a.length - 1].role ?? '') || ['chan', 'hdim'].includes(b[b.length - 2].role ?? '');
    const axes: Axis[] = [...batch, ...(aVec ? [] : [{ ...rows, role: featureContraction ? ('query' as Role) : rows.role }]), ...(bVec ? [] : [{ ...cols, role: featureContraction ? ('key' as Role) : cols.role }])];
    const res: TensorV = { kind: 'tensor', axes, strides: contiguousStrides(axes.map((x) => x.size)), dtype: 'float' };
    if (!aVec && !bVec) {
      const multiHead = axes.length >= 4 || axes.some((x) => x.role === 'head') || l.axes.some((x) => x.role === 'hdim');
      let scale: ScaleFact | undefined;
      if (l.scale || r.scale) scale = this.combineScale(l.scale, r.scale ?? { exp: 0 });
      res.scores = { contraction: ka, node: n, multiHead, scale };
    }
    // Logits against learned position tables (BoTNet's rel_h + rel_w applied to q) are a learned bias.
    if (l.learned || r.learned) res.learned = true;
    if (l.normAxis !== undefined && l.softmaxNode && l.normAxis !== l.axes.length - 1) info.softmaxMisused = l.softmaxNode;
    if (r.normAxis !== undefined && r.softmaxNode && r.normAxis !== r.axes.length - 2 && !bVec) info.softmaxMisused = r.softmaxNode;
    return done(res);
  }

  private einsum(args: Value[], n: Node, nameNode: Node, argNodes: Node[], kwargNodes: Record<string, Node>, kwargs: Record<string, Value>): Value {
    const info: OpInfo = {};
    const done = (res: Value) => {
      this.emit({ kind: 'op', op: 'einsum', node: n, args, kwargs, argNodes, kwargNodes, nameNode, result: res, info });
      return this.raises(info) ? failed() : res;
    };
    const eq = args[0];
    if (eq?.kind !== 'str') return done({ kind: 'tensor' });
    const ops = args.slice(1).length === 1 && args[1].kind === 'tuple' ? args[1].items : args.slice(1);
    const m = /^\s*([\w\s,.]+?)\s*->\s*([\w\s.]*)\s*$/.exec(eq.value);
    if (!m || eq.value.includes('.')) return done({ kind: 'tensor' });
    const ins = m[1].split(',').map((s) => s.replace(/\s/g, ''));
    const outL = m[2].replace(/\s/g, '');
    if (ins.length !== ops.length || !ops.every((o) => isTensor(o) && o.axes)) return done({ kind: 'tensor' });
    const sizes = new Map<string, Axis>();
    for (let k = 0; k < ins.length; k++) {
      const t = ops[k] as TensorV;
      if (t.axes!.length !== ins[k].length) {
        info.rank = { expected: `${ins[k].length}-d operand for '${ins[k]}'`, got: t.axes!.length };
        return done({ kind: 'tensor' });
      }
      for (let i = 0; i < ins[k].length; i++) {
        const ch = ins[k][i];
        const ax = t.axes![i];
        const prev = sizes.get(ch);
        if (!prev) sizes.set(ch, ax);
        else if (D.constValue(this.norm(ax.size)) !== 1 && D.constValue(this.norm(prev.size)) !== 1) {
          if (this.unify(prev.size, ax.size) === 'ne') {
            info.contracted = [prev.size, ax.size];
            return done({ kind: 'tensor' });
          }
        }
      }
      if (t.normAxis !== undefined && t.softmaxNode) {
        const letter = ins[k][t.normAxis];
        if (outL.includes(letter)) {
          const contracted = [...ins[k]].filter((c) => !outL.includes(c));
          if (contracted.length > 0) info.softmaxMisused = t.softmaxNode;
        }
      }
    }
    const contractedLetters = [...new Set(ins.join(''))].filter((c) => !outL.includes(c));
    const axes: Axis[] = [...outL].map((c) => {
      const ax = sizes.get(c);
      return ax ? { ...ax } : { size: this.fresh('d') };
    });
    const res: TensorV = { kind: 'tensor', axes, strides: contiguousStrides(axes.map((a) => a.size)), dtype: 'float' };
    if (ops.length === 2 && contractedLetters.length === 1) {
      const feat = sizes.get(contractedLetters[0])!;
      const l = ops[0] as TensorV;
      const r = ops[1] as TensorV;
      let scale: ScaleFact | undefined;
      if (l.scale || r.scale) scale = this.combineScale(l.scale, r.scale ?? { exp: 0 });
      res.scores = { contraction: feat.size, node: n, multiHead: axes.length >= 4, scale };
    }
    return done(res);
  }

  private catStack(op: 'cat' | 'stack', args: Value[], kwargs: Record<string, Value>, argNodes: Node[], kwargNodes: Record<string, Node>, n: Node, nameNode: Node): Value {
    const info: OpInfo = {};
    const done = (res: Value) => {
      this.emit({ kind: 'op', op, node: n, args, kwargs, argNodes, kwargNodes, nameNode, result: res, info });
      return this.raises(info) ? failed() : res;
    };
    const list = args[0] ?? kwargs.tensors;
    if (list?.kind !== 'tuple' || list.items.length === 0 || !list.items.every((t) => isTensor(t) && t.axes)) return done({ kind: 'tensor' });
    const ts = list.items as TensorV[];
    const rank = ts[0].axes!.length;
    const dv = kwargs.dim ?? args[1] ?? intV(D.dconst(0));
    for (const t of ts) {
      if (t.axes!.length !== rank) {
        info.catMismatch = { rankA: rank, rankB: t.axes!.length };
        return done({ kind: 'tensor' });
      }
    }
    const d = this.normDim(numValue(dv), rank, info, op === 'stack' ? 1 : 0);
    if (d === undefined) return done({ kind: 'tensor' });
    let total = D.dconst(0);
    for (let i = 0; i < rank; i++) {
      for (const t of ts.slice(1)) {
        const a = ts[0].axes![i].size;
        const b = t.axes![i].size;
        if (op === 'cat' && i === d) continue;
        if (this.unify(a, b) === 'ne') {
          info.catMismatch = { a, b, axis: i };
          return done({ kind: 'tensor' });
        }
      }
    }
    if (op === 'cat') {
      for (const t of ts) total = D.add(total, t.axes![d].size);
      // An axis's role is whatever any of the joined tensors says it is.
      const roleAt = (i: number) => ts.map((t) => t.axes![i].role).find((r) => r !== undefined);
      const axes: Axis[] = ts[0].axes!.map((a, i) => (i === d ? { size: total, role: roleAt(i) } : { ...a, role: a.role ?? roleAt(i) }));
      // A single token (a class token, a pooled summary) joined to (?, ?, E) tokens along dim 0 or
      // 1 shows the author treats that axis as the sequence, and the other leading axis as the batch.
      const one = (t: TensorV) => D.constValue(this.norm(t.axes![d].size)) === 1;
      if (rank === 3 && d < 2 && ts.length >= 2 && ts.some(one) && ts.some((t) => !one(t)) && !axes[d].role && !axes[1 - d].role && axes[2].role !== 'batch' && axes[2].role !== 'seq') {
        axes[d] = { ...axes[d], role: 'seq', inferred: true };
        axes[1 - d] = { ...axes[1 - d], role: 'batch', inferred: true };
      }
      return done({ kind: 'tensor', axes, strides: contiguousStrides(axes.map((a) => a.size)), dtype: ts[0].dtype });
    }
    const axes = [...ts[0].axes!.map((a) => ({ ...a }))];
    axes.splice(d, 0, { size: D.dconst(ts.length) });
    return done({ kind: 'tensor', axes, strides: contiguousStrides(axes.map((a) => a.size)), dtype: ts[0].dtype });
  }

  private sdpa(args: Value[], kwargs: Record<string, Value>, argNodes: Node[], kwargNodes: Record<string, Node>, n: Node, nameNode: Node): Value {
    const info: OpInfo = {};
    const [q, k, v] = [args[0] ?? kwargs.query, args[1] ?? kwargs.key, args[2] ?? kwargs.value];
    let res: Value = { kind: 'tensor' };
    if (isTensor(q) && isTensor(k) && isTensor(v) && q.axes && k.axes && v.axes && q.axes.length >= 2) {
      const e1 = q.axes[q.axes.length - 1].size;
      const e2 = k.axes[k.axes.length - 1].size;
      info.contracted = [e1, e2];
      if (this.unify(e1, e2) !== 'ne') {
        const axes = [...q.axes.slice(0, -1).map((a) => ({ ...a })), { ...v.axes[v.axes.length - 1] }];
        res = { kind: 'tensor', axes, strides: contiguousStrides(axes.map((a) => a.size)), dtype: 'float' };
      }
    }
    this.emit({ kind: 'op', op: 'sdpa', node: n, args, kwargs, argNodes, kwargNodes, nameNode, result: res, info });
    return res;
  }

  // ---------------------------------------------------------------- torch modules

  private margs(m: TorchModuleV, names: string[]): Record<string, Value | undefined> {
    const out: Record<string, Value | undefined> = {};
    names.forEach((nm, i) => {
      out[nm] = m.kwargs[nm] ?? m.args[i];
    });
    return out;
  }

  /**
   * `rearrange`/`repeat`/`reduce` of einops (functions, or the einops.layers.torch modules):
   * the pattern's signature (ops/einops.ts) over the input's sizes; a list of tensors is
   * stacked along a new first axis first, as einops does.
   */
  private einops(kind: EinopsKind, x: Value | undefined, pattern: Value | undefined, lengthVals: Record<string, Value>, n: Node, nameNode: Node, argNodes: (Node | undefined)[], kwargNodes: Record<string, Node>): Value {
    const info: OpInfo = {};
    const done = (r: Value) => this.opEvent(kind, [x ?? UNKNOWN, pattern ?? UNKNOWN], lengthVals, argNodes, kwargNodes, n, nameNode, r, info);
    let input: Dim[] | undefined;
    let src: TensorV | undefined;
    if (isTensor(x)) {
      src = x;
      input = x.axes?.map((a) => a.size);
    } else if (x?.kind === 'tuple' && x.items.length > 0 && !x.inexact && x.items.every((t) => isTensor(t) && t.axes)) {
      src = x.items[0] as TensorV;
      input = [D.dconst(x.items.length), ...src.axes!.map((a) => a.size)];
    }
    if (!src) return done(x?.kind === 'tuple' || x?.kind === 'unknown' || !x ? UNKNOWN : { kind: 'tensor' });
    if (pattern?.kind !== 'str') return done({ kind: 'tensor', dtype: src.dtype });
    if (!input) {
      // A tensor of unknown rank takes the pattern's: each left axis a size named after it.
      const seeded = this.seedFromPattern(pattern.value, lengthVals);
      if (seeded) {
        input = seeded;
        if (isTensor(x)) {
          const fresh = this.tensor(seeded, undefined);
          x.axes = fresh.axes;
          x.strides = fresh.strides;
        }
      }
    }
    if (!input) return done({ kind: 'tensor', dtype: src.dtype });
    const lengths: Record<string, Dim> = {};
    for (const [k, v] of Object.entries(lengthVals)) {
      if (v.kind !== 'int') return done({ kind: 'tensor', dtype: src.dtype });
      lengths[k] = v.dim;
    }
    const out = einopsShape(kind, pattern.value, input.map((d) => this.norm(d)), lengths, (a, b) => this.compare(a, b));
    if (!out) return done({ kind: 'tensor', dtype: src.dtype });
    if ('error' in out) {
      const groups = pattern.value.split('->')[0].trim().split(/\s+(?![^(]*\))/).filter(Boolean);
      if (!groups.includes('...') && groups.length !== input.length) info.rank = { expected: `a ${groups.length}-d tensor for '${pattern.value.split('->')[0].trim()}'`, got: input.length };
      return done({ kind: 'tensor', dtype: src.dtype });
    }
    const t = this.tensor(out.ok.sizes, out.ok.names, { dtype: src.dtype });
    // rearrange and repeat may return a permuted view: its layout is not known to be contiguous.
    if (kind !== 'reduce') t.strides = undefined;
    return done(t);
  }

  /** The input sizes an einops pattern's left side names (`b n (h d)`), or undefined with `...`. */
  private seedFromPattern(pattern: string, lengths: Record<string, Value>): Dim[] | undefined {
    const left = parseSide(pattern.split('->')[0] ?? '');
    if (!left || left.some((g) => g.kind === 'ellipsis')) return undefined;
    return left.map((g) => {
      if (g.kind !== 'names') return D.dconst(1);
      return g.names.reduce((acc, name) => {
        if (/^\d+$/.test(name)) return D.mul(acc, D.dconst(Number(name)));
        const given = lengths[name];
        return D.mul(acc, given?.kind === 'int' ? given.dim : this.dimForName(name));
      }, D.dconst(1));
    });
  }

  private callModule(m: TorchModuleV, args: Value[], kwargs: Record<string, Value>, argNodes: Node[], kwargNodes: Record<string, Node>, n: Node): Value {
    // A tensor of unknown rank fed to a layer that needs a batched N-d input takes that rank:
    // (B, C, H, W) for Conv2d, named after the axes (the unbatched form is rare in modules).
    const first = args[0] ?? kwargs.input;
    const batchedRank = BATCHED_RANK[m.type];
    if (batchedRank && isTensor(first) && !first.axes && !first.failed) {
      const names = ['B', 'C', ...['L', 'H,W', 'D,H,W'][batchedRank - 3].split(',')];
      const seeded = this.tensor(names.map((nm) => this.fresh(nm)), names);
      first.axes = seeded.axes;
      first.strides = seeded.strides;
    }
    // nn.MultiheadAttention takes batches of sequences: (L, N, E), or (N, L, E) with batch_first;
    // query, key and value of unknown rank take that rank (the unbatched form is rare in modules).
    if (m.type === 'MultiheadAttention') {
      const bf = this.margs(m, ['embed_dim', 'num_heads', 'dropout', 'bias', 'add_bias_kv', 'add_zero_attn', 'kdim', 'vdim', 'batch_first']).batch_first ?? { kind: 'bool', value: false };
      if (bf?.kind === 'bool' && bf.value !== undefined) {
        const qkv = [args[0] ?? kwargs.query, args[1] ?? kwargs.key, args[2] ?? kwargs.value];
        qkv.forEach((t, i) => {
          if (!isTensor(t) || t.axes || t.failed) return;
          const names = bf.value ? ['N', i === 0 ? 'L' : 'S', 'E'] : [i === 0 ? 'L' : 'S', 'N', 'E'];
          const seeded = this.tensor(names.map((nm) => this.fresh(nm)), names);
          t.axes = seeded.axes;
          t.strides = seeded.strides;
        });
      }
    }
    const ein = /^einops\.(Rearrange|Repeat|Reduce)$/.exec(m.type);
    if (ein) {
      const lengths = Object.fromEntries(Object.entries(m.kwargs).filter(([k]) => k !== 'pattern' && k !== 'reduction'));
      return this.einops(ein[1].toLowerCase() as EinopsKind, args[0], m.args[0] ?? m.kwargs.pattern, lengths, n, n, argNodes, kwargNodes);
    }
    const info: OpInfo = {};
    const x = args[0] ?? kwargs.input ?? kwargs.x ?? kwargs.query;
    if ([...args, ...Object.values(kwargs)].some((v) => isTensor(v) && v.failed)) return failed();
    const emit = () => {
      if (info.rank && args.some((v) => isTensor(v) && v.rankFromComment)) delete info.rank;
      this.emit({ kind: 'module-call', node: n, module: m, args, kwargs, argNodes, kwargNodes, info });
    };
    const t = isTensor(x) ? x : undefined;
    const rank = t?.axes?.length;
    const result = (() => {
      switch (m.type) {
        case 'Linear':
        case 'LazyLinear': {
          const a = this.margs(m, m.type === 'Linear' ? ['in_features', 'out_features'] : ['out_features']);
          const out = a.out_features;
          if (!t?.axes || rank === 0) return { kind: 'tensor' } as TensorV;
          if (m.type === 'Linear' && a.in_features?.kind === 'int') {
            const last = t.axes[rank! - 1].size;
            info.contracted = [last, a.in_features.dim];
            if (this.unify(last, a.in_features.dim) === 'ne') return { kind: 'tensor' } as TensorV;
          }
          const axes = [...t.axes.slice(0, -1), { size: out?.kind === 'int' ? out.dim : this.fresh('d'), role: 'chan' as Role, label: this.label() }];
          return { kind: 'tensor', axes, strides: contiguousStrides(axes.map((q) => q.size)), dtype: 'float', permutes: t.permutes, lastPermute: t.lastPermute } as TensorV;
        }
        case 'Conv1d':
        case 'Conv2d':
        case 'Conv3d': {
          const nd = Number(m.type[4]);
          const a = this.margs(m, ['in_channels', 'out_channels', 'kernel_size', 'stride', 'padding', 'dilation', 'groups']);
          if (!t?.axes) return { kind: 'tensor' } as TensorV;
          if (rank !== nd + 2 && rank !== nd + 1) {
            info.rank = { expected: `${nd + 1}-d or ${nd + 2}-d (N, C, ${nd === 1 ? 'L' : nd === 2 ? 'H, W' : 'D, H, W'}) input`, got: rank! };
            return { kind: 'tensor' } as TensorV;
          }
          const cAxis = rank === nd + 2 ? 1 : 0;
          if (a.in_channels?.kind === 'int') {
            const got = t.axes[cAxis].size;
            if (this.unify(got, a.in_channels.dim) === 'ne') {
              info.expectedSize = { axis: cAxis, expected: a.in_channels.dim, got, what: `${m.type} in_channels` };
              return { kind: 'tensor' } as TensorV;
            }
          }
          const sp = t.axes.slice(cAxis + 1).map((ax, i) => this.convOut(ax.size, this.nth(a.kernel_size, i), this.nth(a.stride, i) ?? 1, this.padding(a.padding, i, this.nth(a.kernel_size, i), this.nth(a.dilation, i) ?? 1), this.nth(a.dilation, i) ?? 1));
          const out = a.out_channels?.kind === 'int' ? a.out_channels.dim : this.fresh('C');
          const axes: Axis[] = [...(cAxis === 1 ? [{ ...t.axes[0], role: 'batch' as Role }] : []), { size: out, role: 'chan', label: this.label() }, ...sp.map((s, i) => ({ size: s, role: 'space' as Role, label: D.equal(s, t.axes![cAxis + 1 + i].size) ? t.axes![cAxis + 1 + i].label : this.label() }))];
          return { kind: 'tensor', axes, strides: contiguousStrides(axes.map((q) => q.size)), dtype: 'float' } as TensorV;
        }
        case 'BatchNorm1d':
        case 'BatchNorm2d':
        case 'BatchNorm3d':
        case 'InstanceNorm1d':
        case 'InstanceNorm2d':
        case 'InstanceNorm3d': {
          const nd = Number(m.type[m.type.length - 2]);
          const a = this.margs(m, ['num_features']);
          if (!t?.axes) return { kind: 'tensor' } as TensorV;
          const okRanks = nd === 1 ? [2, 3] : m.type.startsWith('Instance') ? [nd + 1, nd + 2] : [nd + 2];
          if (!okRanks.includes(rank!)) {
            info.rank = { expected: `${okRanks.join('-d or ')}-d input`, got: rank! };
            return { kind: 'tensor' } as TensorV;
          }
          const cAxis = rank === nd + 1 && m.type.startsWith('Instance') ? 0 : 1;
          if (a.num_features?.kind === 'int') {
            const got = t.axes[cAxis].size;
            if (this.unify(got, a.num_features.dim) === 'ne') info.expectedSize = { axis: cAxis, expected: a.num_features.dim, got, what: `${m.type} num_features` };
          }
          if (cAxis === 1 && !t.axes[1].role) t.axes[1].role = 'chan';
          return this.keep(t);
        }
        case 'GroupNorm': {
          const a = this.margs(m, ['num_groups', 'num_channels']);
          if (!t?.axes || rank! < 2) return { kind: 'tensor' } as TensorV;
          if (a.num_channels?.kind === 'int' && this.unify(t.axes[1].size, a.num_channels.dim) === 'ne') info.expectedSize = { axis: 1, expected: a.num_channels.dim, got: t.axes[1].size, what: 'GroupNorm num_channels' };
          return this.keep(t);
        }
        case 'LayerNorm': {
          const a = this.margs(m, ['normalized_shape']);
          if (!t?.axes) return { kind: 'tensor' } as TensorV;
          const ns = a.normalized_shape;
          const dims = ns?.kind === 'int' ? [ns.dim] : ns?.kind === 'tuple' && ns.items.every((i) => i.kind === 'int') ? ns.items.map((i) => (i as IntV).dim) : undefined;
          if (dims) {
            if (dims.length > rank!) info.rank = { expected: `at least ${dims.length}-d input`, got: rank! };
            else
              dims.forEach((d, i) => {
                const ax = rank! - dims.length + i;
                if (!info.expectedSize && this.unify(t.axes![ax].size, d) === 'ne') info.expectedSize = { axis: ax, expected: d, got: t.axes![ax].size, what: 'LayerNorm normalized_shape' };
              });
          }
          return this.keep(t);
        }
        case 'MultiheadAttention':
          return this.mha(m, args, kwargs, info);
        case 'Sequential': {
          let cur: Value = x ?? UNKNOWN;
          for (const it of m.items ?? []) {
            if (it.kind === 'torchmodule') cur = this.callModule(it, [cur], {}, argNodes, {}, n);
            else if (it.kind === 'instance') cur = this.callInstance(it, [cur], {}, n, false);
            else cur = UNKNOWN;
          }
          return cur;
        }
        case 'Softmax':
        case 'LogSoftmax': {
          if (!t) return { kind: 'tensor' } as TensorV;
          const a = this.margs(m, ['dim']);
          return this.tensorOp('softmax', [t, ...(a.dim ? [a.dim] : [])], {}, [argNodes[0], m.node], {}, n, m.node);
        }
        case 'Flatten': {
          if (!t) return { kind: 'tensor' } as TensorV;
          const a = this.margs(m, ['start_dim', 'end_dim']);
          return this.tensorOp('flatten', [t, a.start_dim ?? intV(D.dconst(1)), a.end_dim ?? intV(D.dconst(-1))], {}, [argNodes[0]], {}, n, n);
        }
        case 'AdaptiveAvgPool2d':
        case 'AdaptiveMaxPool2d':
        case 'AdaptiveAvgPool1d':
        case 'AdaptiveMaxPool1d':
          return this.adaptivePool(t, this.margs(m, ['output_size']).output_size, m.type.endsWith('1d') ? 1 : 2);
        case 'AvgPool2d':
        case 'MaxPool2d':
        case 'AvgPool1d':
        case 'MaxPool1d':
        case 'AvgPool3d':
        case 'MaxPool3d': {
          const nd = m.type.endsWith('1d') ? 1 : m.type.endsWith('3d') ? 3 : 2;
          const a = this.margs(m, ['kernel_size', 'stride', 'padding']);
          if (!t?.axes || rank! < nd + 1) return { kind: 'tensor' } as TensorV;
          // Kernel, stride and padding may differ per spatial axis ((1, 2, 2) pools only H and W).
          const lead = t.axes.slice(0, rank! - nd);
          const sp = t.axes.slice(rank! - nd).map((ax, i) => {
            const k = this.nth(a.kernel_size, i);
            const s = a.stride && a.stride.kind !== 'none' ? this.nth(a.stride, i) : k;
            const p = this.nth(a.padding, i) ?? 0;
            return { size: this.convOut(ax.size, k, s ?? 1, p, 1), role: 'space' as Role };
          });
          const axes = [...lead, ...sp];
          return { kind: 'tensor', axes, strides: contiguousStrides(axes.map((q) => q.size)) } as TensorV;
        }
        case 'Embedding': {
          const a = this.margs(m, ['num_embeddings', 'embedding_dim']);
          if (!t?.axes || a.embedding_dim?.kind !== 'int') return { kind: 'tensor' } as TensorV;
          const axes = [...t.axes, { size: a.embedding_dim.dim, role: 'chan' as Role, label: this.label() }];
          return { kind: 'tensor', axes, strides: contiguousStrides(axes.map((q) => q.size)), dtype: 'float', learned: true } as TensorV;
        }
        case 'Upsample':
        case 'ConvTranspose2d':
        case 'ConvTranspose1d':
        case 'PixelShuffle': {
          // (*, C * r * r, H, W) -> (*, C, H * r, W * r); a channel count r * r does not divide is unknown.
          const r = this.margs(m, ['upscale_factor']).upscale_factor;
          if (!t?.axes || rank! < 3 || r?.kind !== 'int') return { kind: 'tensor' } as TensorV;
          const rr = D.mul(r.dim, r.dim);
          const c = t.axes[rank! - 3].size;
          const cv = D.constValue(this.norm(c));
          const rv = D.constValue(this.norm(rr));
          if (cv !== undefined && rv !== undefined ? rv === 0 || cv % rv !== 0 : !this.divides(rr, c)) return { kind: 'tensor' } as TensorV;
          const q = D.floorDiv(this.norm(c), this.norm(rr));
          if (!q) return { kind: 'tensor' } as TensorV;
          const axes: Axis[] = [...t.axes.slice(0, rank! - 3), { size: q, role: 'chan' }, { size: D.mul(t.axes[rank! - 2].size, r.dim), role: 'space' }, { size: D.mul(t.axes[rank! - 1].size, r.dim), role: 'space' }];
          return { kind: 'tensor', axes, strides: contiguousStrides(axes.map((a) => a.size)), dtype: t.dtype } as TensorV;
        }
        case 'TransformerEncoderLayer':
        case 'TransformerEncoder': {
          // Encoder layers keep the input's shape; the model width must be the last axis.
          if (!t?.axes || (rank !== 2 && rank !== 3)) return { kind: 'tensor' } as TensorV;
          const layer = m.type === 'TransformerEncoder' ? m.kwargs.encoder_layer ?? m.args[0] : m;
          const dm = layer?.kind === 'torchmodule' ? layer.kwargs.d_model ?? layer.args[0] : undefined;
          if (dm?.kind === 'int' && this.unify(t.axes[rank! - 1].size, dm.dim) === 'ne') info.expectedSize = { axis: rank! - 1, expected: dm.dim, got: t.axes[rank! - 1].size, what: 'd_model' };
          return this.keep(t);
        }
        case 'TransformerDecoderLayer':
        case 'Transformer':
          return { kind: 'tensor' } as TensorV;
        default:
          if (SHAPE_PRESERVING_MODULES.has(m.type) && t) return m.type.startsWith('Dropout') || m.type === 'Identity' ? t : this.keep(t);
          return { kind: 'tensor' } as TensorV;
      }
    })();
    emit();
    return this.raises(info) ? failed() : result;
  }

  /** Whether the facts found prove that torch raises here. */
  private raises(info: OpInfo): boolean {
    if (info.badShape || info.itemOf || info.dimOutOfRange || info.badPermutation || info.broadcast || info.catMismatch || info.rank || info.expectedSize) return true;
    return !!info.contracted && this.compare(info.contracted[0], info.contracted[1]) === 'ne';
  }

  private keep(t: TensorV): TensorV {
    return { ...t, strides: t.axes ? contiguousStrides(t.axes.map((a) => a.size)) : undefined, dtype: 'float', mask: undefined, normAxis: undefined, scores: undefined };
  }

  private nth(v: Value | undefined, i: number): number | undefined {
    if (!v) return undefined;
    if (v.kind === 'int') return D.constValue(this.norm(v.dim));
    if (v.kind === 'tuple') return numValue(v.items[i] ?? UNKNOWN);
    return undefined;
  }

  private padding(v: Value | undefined, i: number, k: number | undefined, dil: number): number | undefined {
    if (v?.kind === 'str') return v.value === 'same' && k !== undefined ? (dil * (k - 1)) / 2 : 0;
    return v === undefined ? 0 : this.nth(v, i);
  }

  private convOut(size: Dim, k: number | undefined, s: number, p: number | undefined, dil: number): Dim {
    if (k === undefined || p === undefined) return this.fresh('d');
    const num = D.add(size, D.dconst(2 * p - dil * (k - 1) - 1));
    const c = D.constValue(this.norm(num));
    if (c !== undefined) return D.dconst(Math.floor(c / s) + 1);
    if (s === 1) return D.add(num, D.dconst(1));
    return this.fresh('d');
  }

  private mha(m: TorchModuleV, args: Value[], kwargs: Record<string, Value>, info: OpInfo): Value {
    const a = this.margs(m, ['embed_dim', 'num_heads', 'dropout', 'bias', 'add_bias_kv', 'add_zero_attn', 'kdim', 'vdim', 'batch_first']);
    const q = args[0] ?? kwargs.query;
    const k = args[1] ?? kwargs.key;
    const v = args[2] ?? kwargs.value;
    const bf = a.batch_first ? this.truth(a.batch_first) : false;
    if (!isTensor(q) || !q.axes || bf === undefined) return { kind: 'tuple', items: [{ kind: 'tensor' }, { kind: 'tensor' }] };
    const rank = q.axes.length;
    if (rank !== 3 && rank !== 2) {
      info.rank = { expected: '3-d (batched) or 2-d (unbatched) query', got: rank };
      return { kind: 'tuple', items: [{ kind: 'tensor' }, { kind: 'tensor' }] };
    }
    const E = a.embed_dim?.kind === 'int' ? a.embed_dim.dim : undefined;
    if (E) {
      const last = q.axes[rank - 1].size;
      if (this.unify(last, E) === 'ne') info.expectedSize = { axis: rank - 1, expected: E, got: last, what: 'embed_dim' };
    }
    const out: Axis[] = q.axes.map((ax, i) => (i === rank - 1 ? { size: E ?? ax.size, role: 'chan' as Role, label: ax.label } : { ...ax }));
    const outT: TensorV = { kind: 'tensor', axes: out, strides: contiguousStrides(out.map((x) => x.size)), dtype: 'float', permutes: q.permutes, lastPermute: q.lastPermute, preLayout: q.preLayout };
    let weights: TensorV = { kind: 'tensor' };
    if (isTensor(k) && k.axes && k.axes.length === rank && rank === 3) {
      const N = bf ? q.axes[0].size : q.axes[1].size;
      const L = bf ? q.axes[1].size : q.axes[0].size;
      const S = bf ? k.axes[1].size : k.axes[0].size;
      weights = this.tensor([N, L, S]);
    }
    void v;
    return { kind: 'tuple', items: [outT, weights] };
  }
}

export { dotted };
