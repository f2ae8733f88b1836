/**
 * `nn.utils`: `spectralNorm(module)`, the runtime's version of
 * `torch.nn.utils.parametrizations.spectral_norm` in inference form. The
 * module's `weight` becomes `original / σ` with σ = uᵀ·W·v from the stored
 * power-iteration vectors (no iteration at inference, as torch in eval mode),
 * and the state_dict keys are torch's: `parametrizations.weight.original`,
 * `parametrizations.weight.0._u`, `parametrizations.weight.0._v`.
 */

import { TorchError } from '../errors';
import { Generator } from '../random';
import { Tensor, tensor } from '../tensor';
import { Module, Parameter } from './module';

/** torch's `_SpectralNorm` parametrization: buffers `_u`, `_v`. */
export class _SpectralNorm extends Module {
  declare _u: Tensor;
  declare _v: Tensor;
  constructor(weight: Tensor, generator: Generator, readonly eps = 1e-12) {
    super();
    const h = weight.shape[0];
    const w = weight.numel() / h;
    // The power iteration runs as tensor ops on the weight's own device: a WebGPU weight
    // cannot be read synchronously, and enqueuing keeps construction synchronous everywhere.
    const W = weight.reshape(h, w);
    const normalize = (x: Tensor): Tensor => {
      // F.normalize: x / max(‖x‖₂, eps).
      const sq = x.mul(x);
      const sum = sq.sum();
      const n = sum.sqrt().clampMin(eps);
      const out = x.div(n);
      for (const t of [sq, sum, n]) t.dispose();
      return out;
    };
    const draw = (n: number) => normalize(tensor(Float32Array.from({ length: n }, () => generator.normal()), { device: weight.device }));
    let u = draw(h);
    let v = draw(w);
    // torch runs 15 power iterations when the parametrization is registered.
    for (let it = 0; it < 15; it++) {
      const wv = W.matmul(v);
      u.dispose();
      u = normalize(wv);
      wv.dispose();
      const wtu = W.t().matmul(u);
      v.dispose();
      v = normalize(wtu);
      wtu.dispose();
    }
    if (W.storage !== weight.storage) W.dispose();
    this.registerBuffer('_u', u);
    this.registerBuffer('_v', v);
  }
  forward(weight: Tensor): Tensor {
    const mat = weight.flatten(1);
    const sigma = this._u.matmul(mat.matmul(this._v));
    return weight.div(sigma);
  }
}

class ParametrizationList extends Module {
  original: Parameter;
  '0': _SpectralNorm;
  constructor(original: Parameter, sn: _SpectralNorm) {
    super();
    this.original = original;
    this['0'] = sn;
  }
  forward(): Tensor {
    return this['0'].forward(this.original);
  }
}

class ParametrizationDict extends Module {
  constructor(readonly weight: ParametrizationList) {
    super();
  }
  forward(): never {
    throw new TorchError('RuntimeError', 'ModuleDict is not callable');
  }
}

/** Wraps `module.weight` in spectral normalisation (dim 0), in place; returns the module. */
export function spectralNorm<M extends Module & { weight: Tensor | null }>(module: M, o: { generator?: Generator } = {}): M {
  const w = module.weight;
  if (!(w instanceof Parameter)) throw new TorchError('ValueError', `Module '${module.typeName}' has no parameter or buffer with name 'weight'`);
  const list = new ParametrizationList(w, new _SpectralNorm(w, o.generator ?? new Generator(0)));
  const rec = module as unknown as Record<string, unknown>;
  delete rec.weight;
  rec.parametrizations = new ParametrizationDict(list);
  Object.defineProperty(module, 'weight', { get: () => list.forward(), enumerable: false, configurable: true });
  return module;
}

/**
 * `torch.nn.utils.spectral_norm(module)`, the older hook-based form, in inference form: the
 * module's parameters become `weight_orig` with buffers `weight_u` and `weight_v` (torch's
 * state_dict keys), and `weight` reads `weight_orig / σ` with σ = uᵀ·W·v from the stored
 * vectors, as torch computes it in eval mode. Registration draws u and v from N(0, 1) and
 * normalises them without iterating, as torch does.
 */
export function spectralNormHooked<M extends Module & { weight: Tensor | null }>(module: M, o: { generator?: Generator; eps?: number } = {}): M {
  const w = module.weight;
  if (!(w instanceof Parameter)) throw new TorchError('ValueError', `Module '${module.typeName}' has no parameter or buffer with name 'weight'`);
  const eps = o.eps ?? 1e-12;
  const g = o.generator ?? new Generator(0);
  const h = w.shape[0];
  const cols = w.numel() / h;
  const normalize = (x: Tensor): Tensor => x.div(x.mul(x).sum().sqrt().clampMin(eps));
  const draw = (n: number) => normalize(tensor(Float32Array.from({ length: n }, () => g.normal()), { device: w.device }));
  const rec = module as unknown as Record<string, unknown>;
  delete rec.weight;
  rec.weight_orig = w;
  module.registerBuffer('weight_u', draw(h));
  module.registerBuffer('weight_v', draw(cols));
  Object.defineProperty(module, 'weight', {
    get: () => {
      const orig = rec.weight_orig as Tensor;
      const sigma = (rec.weight_u as Tensor).matmul(orig.reshape(h, cols).matmul(rec.weight_v as Tensor));
      return orig.div(sigma);
    },
    enumerable: false,
    configurable: true,
  });
  return module;
}
