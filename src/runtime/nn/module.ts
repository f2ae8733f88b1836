/**
 * `nn.Module` and `nn.Parameter` for the runtime. A module's parameters and
 * submodules are its own properties (found by type, in assignment order, as
 * torch's `__setattr__` registers them) and its buffers are registered
 * explicitly (`registerBuffer`), so `stateDict()` yields torch's keys in
 * torch's order: own parameters, own buffers, then each child under
 * `name.`. `loadStateDict` is strict by default (missing/unexpected keys,
 * shapes, dtypes), lists errors in torch's words and returns the unmatched
 * keys. Modules always run in eval mode semantics unless `train()` is called
 * (which the inference-only layers reject). Forward hooks wrap an instance's `forward` (no `eval`), which is
 * how `attention-forge run` prints its per-layer table.
 */

import type { Backend } from '../backend';
import { cpu } from '../cpu';
import { fmtShape, TorchError } from '../errors';
import { contiguousStrides } from '../kernels/kernel';
import { Generator } from '../random';
import { adopt, Tensor, writeStorage } from '../tensor';

/** A trainable tensor: owns contiguous storage that `loadStateDict` and `nn.init` overwrite in place. */
export class Parameter extends Tensor {
  constructor(t: Tensor) {
    const c = t.isContiguous() && t.offset === 0 && t.storage.size === t.numel() ? t : t.clone();
    super(c.storage, [...c.shape], contiguousStrides(c.shape), 0, c.dtype);
    // A parameter or buffer belongs to its module: a `tidy` scope it was made in must not release it.
    adopt(c.storage);
  }
}

/** Overwrites a contiguous, offset-0 tensor's values (parameters and buffers). */
export function writeInto(t: Tensor, data: Float32Array): void {
  if (data.length !== t.numel()) throw new TorchError('RuntimeError', `cannot write ${data.length} values into a tensor of shape ${fmtShape(t.shape)}`);
  writeStorage(t.storage, data);
}

/** Common construction options of runtime modules: where random initial values come from and where tensors live. */
export interface FactoryOptions {
  /** Source of random initial values; a module without one draws from `new Generator(0)`. */
  readonly generator?: Generator;
  readonly device?: Backend;
}

/** What `loadStateDict` did not match (torch's `_IncompatibleKeys`). */
export interface IncompatibleKeys {
  readonly missingKeys: string[];
  readonly unexpectedKeys: string[];
}

/** A shape as torch prints it in `load_state_dict` errors: `torch.Size([4, 64])`. */
export function torchSize(shape: readonly number[]): string {
  return `torch.Size([${shape.join(', ')}])`;
}

export type ForwardHook = (module: Module, inputs: unknown[], output: unknown) => void;

export abstract class Module {
  training = false;
  private readonly _buffers = new Map<string, Tensor | null>();
  private readonly _nonPersistent = new Set<string>();

  abstract forward(...args: never[]): unknown;

  /** torch's class name, shown in tables (`Linear`, `MultiheadAttention`). */
  get typeName(): string {
    return this.constructor.name;
  }

  registerBuffer(name: string, t: Tensor | null, persistent = true): void {
    const owned = t === null ? null : new Parameter(t);
    // Buffers are plain tensors, not parameters: re-wrap the owned storage.
    const buf = owned === null ? null : new Tensor(owned.storage, owned.shape, owned.strides, 0, owned.dtype);
    this._buffers.set(name, buf);
    if (!persistent) this._nonPersistent.add(name);
    (this as unknown as Record<string, unknown>)[name] = buf;
  }

  /** Own parameters in registration order (skips `null`, like torch's None). */
  private ownParameters(): [string, Parameter][] {
    return Object.entries(this).filter((e): e is [string, Parameter] => e[1] instanceof Parameter);
  }

  /** Direct children in registration order. */
  namedChildren(): [string, Module][] {
    return Object.entries(this).filter((e): e is [string, Module] => e[1] instanceof Module);
  }

  /** Every module with its dotted path ('' for this one), depth first, like `named_modules()`. */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [n, c] of this.namedChildren()) out.push(...c.namedModules(prefix ? `${prefix}.${n}` : n));
    return out;
  }

  namedParameters(prefix = ''): [string, Parameter][] {
    const out: [string, Parameter][] = this.ownParameters().map(([n, p]) => [prefix + n, p]);
    for (const [n, c] of this.namedChildren()) out.push(...c.namedParameters(`${prefix}${n}.`));
    return out;
  }

  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, b] of this._buffers) if (b) out.push([prefix + n, this.currentBuffer(n) ?? b]);
    for (const [n, c] of this.namedChildren()) out.push(...c.namedBuffers(`${prefix}${n}.`));
    return out;
  }

  private currentBuffer(name: string): Tensor | null {
    const v = (this as unknown as Record<string, unknown>)[name];
    return v instanceof Tensor ? v : null;
  }

  /** `state_dict()`: own parameters, own persistent buffers, then children, with dotted keys. */
  stateDict(prefix = ''): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [n, p] of this.ownParameters()) out.set(prefix + n, p);
    for (const [n] of this._buffers) {
      const b = this.currentBuffer(n);
      if (b && !this._nonPersistent.has(n)) out.set(prefix + n, b);
    }
    for (const [n, c] of this.namedChildren()) for (const [k, v] of c.stateDict(`${prefix}${n}.`)) out.set(k, v);
    return out;
  }

  /**
   * `load_state_dict(sd, strict=True)`: every key present in both must have the same shape and a
   * compatible dtype; with `strict`, no key may be missing or unexpected. Errors are listed as
   * torch lists them (missing, unexpected, then size mismatches in the model's order) in one
   * `RuntimeError`; nothing is written unless all pass. Values are copied into the existing
   * storage. Returns the missing and unexpected keys (torch's `_IncompatibleKeys`), which is
   * what `strict = false` leaves for the caller to report.
   */
  loadStateDict(sd: ReadonlyMap<string, Tensor>, strict = true): IncompatibleKeys {
    const own = this.stateDict();
    const missingKeys = [...own.keys()].filter((k) => !sd.has(k));
    const unexpectedKeys = [...sd.keys()].filter((k) => !own.has(k));
    const errors: string[] = [];
    if (strict) {
      // torch's wording, trailing space included.
      if (missingKeys.length) errors.push(`Missing key(s) in state_dict: ${missingKeys.map((k) => `"${k}"`).join(', ')}. `);
      if (unexpectedKeys.length) errors.push(`Unexpected key(s) in state_dict: ${unexpectedKeys.map((k) => `"${k}"`).join(', ')}. `);
    }
    for (const [k, dst] of own) {
      const src = sd.get(k);
      if (!src) continue;
      if (src.shape.length !== dst.shape.length || src.shape.some((s, i) => s !== dst.shape[i])) {
        errors.push(`size mismatch for ${k}: copying a param with shape ${torchSize(src.shape)} from checkpoint, the shape in current model is ${torchSize(dst.shape)}.`);
        continue;
      }
      if ((src.dtype === 'float32') !== (dst.dtype === 'float32')) {
        errors.push(`dtype mismatch for ${k}: checkpoint has ${src.dtype}, the model expects ${dst.dtype}.`);
      }
    }
    if (errors.length) throw new TorchError('RuntimeError', `Error(s) in loading state_dict for ${this.typeName}:\n\t${errors.join('\n\t')}`);
    for (const [k, dst] of own) {
      const src = sd.get(k);
      if (src) writeInto(dst, src.dataSync());
    }
    return { missingKeys, unexpectedKeys };
  }

  eval(): this {
    for (const [, m] of this.namedModules()) m.training = false;
    return this;
  }

  /** Training mode: accepted, but dropout/batch-norm layers raise when they run (inference-only runtime). */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  /**
   * `module.to(device)`: moves every parameter and buffer of this module and its descendants to
   * another backend, in place (the module is returned, as torch's). A tensor held by several
   * modules (tied weights) stays one tensor on the new device; `moved` (the tensors already
   * moved, and their copies) extends that to a move of several modules and values together.
   */
  to(device: Backend, moved = new Map<Tensor, Tensor>()): this {
    for (const [, m] of this.namedModules()) m.moveOwn(device, moved);
    return this;
  }

  /**
   * Moves this module's own parameters and buffers (not its children's). Subclasses that keep
   * other tensors (the interpreter's user modules keep plain tensor attributes) move those too.
   */
  protected moveOwn(device: Backend, moved: Map<Tensor, Tensor>): void {
    const rec = this as unknown as Record<string, unknown>;
    for (const [n, p] of Object.entries(rec)) if (p instanceof Parameter) rec[n] = movedTensor(p, device, moved);
    for (const [n] of this._buffers) {
      const b = this.currentBuffer(n);
      if (b) rec[n] = movedTensor(b, device, moved);
    }
  }

  /** Calls `hook(module, inputs, output)` after every `forward` of this instance; returns a remover. */
  registerForwardHook(hook: ForwardHook): () => void {
    const rec = this as unknown as { forward: (...a: unknown[]) => unknown };
    const original = rec.forward;
    const wrapped = (...args: unknown[]) => {
      const out = original.apply(this, args);
      hook(this, args, out);
      return out;
    };
    rec.forward = wrapped;
    return () => {
      if (rec.forward === wrapped) delete (rec as Partial<typeof rec>).forward;
    };
  }
}

/**
 * `t` on `device`, owned as a module's tensors are (a `tidy` scope never releases it): a
 * `Parameter` stays one. `moved` maps tensors already moved to their copies, so a tensor
 * reachable twice is moved once.
 */
export function movedTensor(t: Tensor, device: Backend, moved: Map<Tensor, Tensor>): Tensor {
  const done = moved.get(t);
  if (done) return done;
  let out: Tensor;
  if (t instanceof Parameter) out = t.device === device ? t : new Parameter(t.to(device));
  else {
    out = t.to(device);
    if (out !== t) adopt(out.storage);
  }
  moved.set(t, out);
  return out;
}

export function defaultGenerator(o: FactoryOptions | undefined): Generator {
  return o?.generator ?? new Generator(0);
}

export function defaultDevice(o: FactoryOptions | undefined): Backend {
  return o?.device ?? cpu;
}
