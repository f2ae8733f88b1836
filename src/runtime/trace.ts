/**
 * Layer tracing: runs a module's forward once and records, for every module
 * it calls (torch's `named_modules()` paths, in call order, a module called
 * twice appearing twice), its type, input and output shapes, parameter
 * counts, the bytes its outputs hold, and the kernels its own `forward` ran
 * (not its children's) — so attention's QKᵀ and AV matmuls, the softmax and a
 * fused SDPA are attributed to the layer that ran them. This is what
 * `attention-forge run` prints and what the preview shows; FLOPs come from
 * the op records (`opFlops`), activation memory from `outputBytes`. It wraps
 * `forward` per instance and observes `runKernel` only while `traceForward`
 * runs (no global setting, no `eval`); it does not time anything.
 */

import { fmtShape } from './errors';
import { numel } from './kernels/kernel';
import { Module } from './nn/module';
import { observeKernels, Tensor } from './tensor';

/** One kernel run (`matmul`, `softmax`, `scaled_dot_product_attention`, …). */
export interface OpRecord {
  /** The kernel's registry name. */
  readonly op: string;
  readonly inputs: readonly (readonly number[])[];
  readonly outputs: readonly (readonly number[])[];
  /** Multiply-adds counted as 2 FLOPs; 0 for data movement; see `opFlops`. */
  readonly flops: number;
}

/** One call of one module. */
export interface LayerRecord {
  /** Dotted path from the traced module ('' for the module itself), as in `state_dict` keys. */
  readonly path: string;
  /** torch's class name (`Linear`, `Conv2d`, or the block's class). */
  readonly type: string;
  /** Nesting depth: 0 for the traced module. */
  readonly depth: number;
  readonly inputShapes: readonly (readonly number[])[];
  readonly outputShapes: readonly (readonly number[])[];
  /** Parameters of this module and its children (numel). */
  readonly parameters: number;
  /** Parameters this module owns directly. */
  readonly ownParameters: number;
  /** Bytes of the tensors it returns (f32: 4 per element), i.e. the activation memory it adds. */
  readonly outputBytes: number;
  /** Kernels its own forward ran, in order; children's kernels are in their records. */
  readonly ops: readonly OpRecord[];
  /** Sum of `ops[].flops` plus the children's: everything this call computed. */
  readonly flops: number;
}

export interface Trace<T> {
  readonly result: T;
  readonly layers: readonly LayerRecord[];
}

/**
 * FLOPs of one kernel run: 2·M·N·K for `matmul` (QKᵀ, AV, linear layers), 2
 * per multiply-add for `conv` and the two products of a fused SDPA, one per
 * output element for elementwise, softmax (counted ×5: max, sub, exp, sum,
 * div) and normalisation kernels, 0 for copies and indexing.
 */
export function opFlops(op: string, inputs: readonly (readonly number[])[], outputs: readonly (readonly number[])[]): number {
  const out = outputs[0] ? numel(outputs[0]) : 0;
  switch (op) {
    case 'matmul': {
      const a = inputs[0];
      return 2 * out * (a[a.length - 1] ?? 1);
    }
    case 'conv': {
      const w = inputs[1];
      // Each output element is a dot product over in_channels / groups × kernel elements.
      return 2 * out * numel(w.slice(1));
    }
    case 'scaled_dot_product_attention': {
      const [q, k, v] = inputs;
      const rows = out / (v[v.length - 1] || 1);
      const S = k[k.length - 2];
      return 2 * rows * S * (q[q.length - 1] + v[v.length - 1]) + 5 * rows * S;
    }
    case 'softmax':
      return 5 * out;
    case 'layer_norm':
    case 'batch_norm':
      return 4 * out;
    case 'copy':
    case 'cat':
    case 'index_select':
      return 0;
    default:
      return out;
  }
}

function tensorsIn(v: unknown, out: Tensor[] = []): Tensor[] {
  if (v instanceof Tensor) out.push(v);
  else if (Array.isArray(v)) for (const x of v) tensorsIn(x, out);
  return out;
}

function paramCount(m: Module): number {
  return m.parameters().reduce((n, p) => n + p.numel(), 0);
}

interface Open {
  path: string;
  type: string;
  depth: number;
  inputShapes: number[][];
  outputShapes: number[][];
  parameters: number;
  ownParameters: number;
  outputBytes: number;
  ops: OpRecord[];
  flops: number;
}

/**
 * Runs `run` (which should call `module.forward` once) with every submodule
 * of `module` traced; the wrappers are removed afterwards, even on error.
 */
export function traceForward<T>(module: Module, run: () => T): Trace<T> {
  const layers: Open[] = [];
  const stack: Open[] = [];
  const restore: (() => void)[] = [];
  for (const [path, m] of module.namedModules()) {
    const rec = m as unknown as { forward: (...a: unknown[]) => unknown };
    const had = Object.prototype.hasOwnProperty.call(m, 'forward');
    const original = rec.forward;
    const children = m.namedChildren().reduce((n, [, c]) => n + paramCount(c), 0);
    const total = paramCount(m);
    rec.forward = (...args: unknown[]) => {
      const open: Open = {
        path,
        type: m.typeName,
        depth: path === '' ? 0 : path.split('.').length,
        inputShapes: tensorsIn(args).map((t) => [...t.shape]),
        outputShapes: [],
        parameters: total,
        ownParameters: total - children,
        outputBytes: 0,
        ops: [],
        flops: 0,
      };
      layers.push(open);
      stack.push(open);
      try {
        const out = original.apply(m, args);
        const outs = tensorsIn(out);
        open.outputShapes = outs.map((t) => [...t.shape]);
        open.outputBytes = outs.reduce((n, t) => n + 4 * t.numel(), 0);
        return out;
      } finally {
        stack.pop();
        const parent = stack[stack.length - 1];
        if (parent) parent.flops += open.flops;
      }
    };
    restore.push(() => {
      if (had) rec.forward = original;
      else delete (rec as Partial<typeof rec>).forward;
    });
  }
  try {
    const result = observeKernels((op, inputs, _attrs, outputs) => {
      const top = stack[stack.length - 1];
      if (!top) return;
      const ins = inputs.map((t) => [...t.shape]);
      const outs = outputs.map((t) => [...t.shape]);
      const flops = opFlops(op, ins, outs);
      top.ops.push({ op, inputs: ins, outputs: outs, flops });
      top.flops += flops;
    }, run);
    return { result, layers };
  } finally {
    for (const r of restore) r();
  }
}

/** `(2, 64, 8, 6)`, or several joined by ', '. */
export function formatShapes(shapes: readonly (readonly number[])[]): string {
  return shapes.map((s) => fmtShape(s)).join(', ');
}
