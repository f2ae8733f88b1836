/**
 * Layer tracing, the one tracer of the CLI (`attention-forge run`), the preview and the
 * benchmarks: runs a module's forward once and records, for every module it calls (torch's
 * `named_modules()` paths, in call order, a module called twice appearing twice), its type,
 * input and output shapes, parameter counts, the bytes its outputs hold, and the kernels its
 * own `forward` ran (not its children's) — so attention's QKᵀ and AV matmuls, the softmax and
 * a fused SDPA are attributed to the layer that ran them. FLOPs are each kernel's own `flops`
 * (one rule set, in `kernels/kernel.ts`); activation memory is the bytes of every kernel output.
 * Totals add up by construction: a layer's `flops` and `activationBytes` are its own kernels'
 * plus its children's, and `totals` sums every kernel run inside the traced module, which is
 * the root layer's row when the module is called once. Kernels run outside any module call
 * (building inputs) are not counted. It wraps `forward` per instance and observes `runKernel`
 * only while `traceForward` runs (no global setting, no `eval`); it does not time anything.
 */

import { fmtShape } from './errors';
import { numel, type AnyKernel } from './kernels/kernel';
import { KERNELS } from './kernels/registry';
import { Module } from './nn/module';
import { observeKernels, Tensor } from './tensor';

/** One kernel run (`matmul`, `softmax`, `scaled_dot_product_attention`, …). */
export interface OpRecord {
  /** The kernel's registry name. */
  readonly op: string;
  readonly inputs: readonly (readonly number[])[];
  readonly outputs: readonly (readonly number[])[];
  /** The kernel's `flops` for this call (a multiply–add is 2; data movement 0). */
  readonly flops: number;
  /** Bytes of its outputs (f32: 4 per element). */
  readonly bytes: number;
}

/** One call of one module. */
export interface LayerRecord {
  /** Dotted path from the traced module ('' for the module itself), as in `state_dict` keys. */
  readonly path: string;
  /** torch's class name (`Linear`, `Conv2d`, or the block's class). */
  readonly type: string;
  /** Nesting depth: 0 for the traced module. */
  readonly depth: number;
  /** Index in `layers` of the call that made this one (-1 for the traced module's own call). */
  readonly parent: number;
  readonly inputShapes: readonly (readonly number[])[];
  readonly outputShapes: readonly (readonly number[])[];
  /** Parameters of this module and its children (numel). */
  readonly parameters: number;
  /** Parameters this module owns directly. */
  readonly ownParameters: number;
  /** Bytes of the tensors it returns (f32: 4 per element). */
  readonly outputBytes: number;
  /** Kernels its own forward ran, in order; children's kernels are in their records. */
  readonly ops: readonly OpRecord[];
  /** Sum of `ops[].flops` plus the children's: everything this call computed. */
  readonly flops: number;
  /** Sum of `ops[].bytes` plus the children's: the activation memory this call wrote. */
  readonly activationBytes: number;
}

/** Everything the traced module computed: the sums over every kernel it ran. */
export interface TraceTotals {
  /** Parameters of the traced module. */
  readonly parameters: number;
  readonly flops: number;
  readonly activationBytes: number;
}

export interface Trace<T> {
  readonly result: T;
  readonly layers: readonly LayerRecord[];
  readonly totals: TraceTotals;
}

/** A kernel call as `TraceOptions.onKernel` sees it: the layer running it and the tensors. */
export interface TracedKernel {
  readonly layer: LayerRecord;
  readonly op: string;
  readonly attrs: unknown;
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly Tensor[];
}

export interface TraceOptions {
  /** Told about every kernel run inside a module call (the preview keeps attention maps this way). */
  readonly onKernel?: (k: TracedKernel) => void;
  /** Told about every module call's tensor outputs when it returns (Compare with PyTorch keeps them this way). */
  readonly onLayerOutput?: (layer: LayerRecord, outputs: readonly Tensor[]) => void;
}

/** FLOPs of one kernel run by its registry name, from shapes (the kernel's own `flops`). */
export function opFlops(op: string, inputs: readonly (readonly number[])[], outputs: readonly (readonly number[])[], attrs: unknown = {}): number {
  const k: AnyKernel | undefined = KERNELS.get(op);
  if (!k) throw new Error(`no kernel '${op}'`);
  const meta = (shape: readonly number[]) => ({ shape, strides: [], offset: 0, dtype: 'float32' as const });
  return k.flops(inputs.map(meta), attrs, outputs.map((shape) => ({ shape, dtype: 'float32' as const })));
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
  parent: number;
  inputShapes: number[][];
  outputShapes: number[][];
  parameters: number;
  ownParameters: number;
  outputBytes: number;
  ops: OpRecord[];
  flops: number;
  activationBytes: number;
}

/**
 * Runs `run` (which should call `module.forward` once) with every submodule
 * of `module` traced; the wrappers are removed afterwards, even on error.
 */
export function traceForward<T>(module: Module, run: () => T, o: TraceOptions = {}): Trace<T> {
  const layers: Open[] = [];
  const stack: Open[] = [];
  const restore: (() => void)[] = [];
  let flops = 0;
  let activationBytes = 0;
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
        parent: stack.length ? layers.indexOf(stack[stack.length - 1]) : -1,
        inputShapes: tensorsIn(args).map((t) => [...t.shape]),
        outputShapes: [],
        parameters: total,
        ownParameters: total - children,
        outputBytes: 0,
        ops: [],
        flops: 0,
        activationBytes: 0,
      };
      layers.push(open);
      stack.push(open);
      try {
        const out = original.apply(m, args);
        const outs = tensorsIn(out);
        open.outputShapes = outs.map((t) => [...t.shape]);
        open.outputBytes = outs.reduce((n, t) => n + 4 * t.numel(), 0);
        o.onLayerOutput?.(open, outs);
        return out;
      } finally {
        stack.pop();
        const parent = stack[stack.length - 1];
        if (parent) {
          parent.flops += open.flops;
          parent.activationBytes += open.activationBytes;
        }
      }
    };
    restore.push(() => {
      if (had) rec.forward = original;
      else delete (rec as Partial<typeof rec>).forward;
    });
  }
  try {
    const result = observeKernels((op, inputs, attrs, outputs) => {
      const top = stack[stack.length - 1];
      if (!top) return;
      const kernel = KERNELS.get(op);
      const n = kernel ? kernel.flops(inputs, attrs, outputs) : 0;
      const bytes = outputs.reduce((b, t) => b + 4 * numel(t.shape), 0);
      top.ops.push({ op, inputs: inputs.map((t) => [...t.shape]), outputs: outputs.map((t) => [...t.shape]), flops: n, bytes });
      top.flops += n;
      top.activationBytes += bytes;
      flops += n;
      activationBytes += bytes;
      o.onKernel?.({ layer: top, op, attrs, inputs, outputs });
    }, run);
    return { result, layers, totals: { parameters: paramCount(module), flops, activationBytes } };
  } finally {
    for (const r of restore) r();
  }
}

/** `(2, 64, 8, 6)`, or several joined by ', '. */
export function formatShapes(shapes: readonly (readonly number[])[]): string {
  return shapes.map((s) => fmtShape(s)).join(', ');
}
