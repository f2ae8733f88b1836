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
    const W = weight.dataSync();
    const norm = (a: Float64Array) => {
      const n = Math.max(Math.hypot(...a), eps);
      return a.map((x) => x / n);
    };
    let u = norm(Float64Array.from({ length: h }, () => generator.normal()));
    let v = norm(Float64Array.from({ length: w }, () => generator.normal()));
    // torch runs 15 power iterations when the parametrization is registered.
    for (let it = 0; it < 15; it++) {
      const wv = new Float64Array(h);
      for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) wv[i] += W[i * w + j] * v[j];
      u = norm(wv);
      const wtu = new Float64Array(w);
      for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) wtu[j] += W[i * w + j] * u[i];
      v = norm(wtu);
    }
    this.registerBuffer('_u', tensor(Float32Array.from(u), { device: weight.device }));
    this.registerBuffer('_v', tensor(Float32Array.from(v), { device: weight.device }));
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
