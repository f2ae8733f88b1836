/**
 * Seeded random numbers for parameter initialisation and random inputs: a
 * `Generator` (xoshiro128** seeded through splitmix32) passed explicitly
 * wherever randomness is needed — there is no global generator. The
 * distributions match torch's (uniform, normal, truncated normal), not its
 * bit streams: the same seed gives the same values here every time, but not
 * the values torch would draw.
 */

import { cpu } from './cpu';
import type { Backend } from './backend';
import { contiguousStrides } from './kernels/kernel';
import { fresh, Tensor } from './tensor';

export class Generator {
  private s = new Uint32Array(4);
  private spare: number | undefined;

  constructor(seed = 0) {
    this.manualSeed(seed);
  }

  manualSeed(seed: number): this {
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      // splitmix32
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    this.spare = undefined;
    return this;
  }

  /** A uniform number in [0, 1) with 32 random bits. */
  next(): number {
    const s = this.s;
    const r = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return r / 4294967296;
  }

  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /** Standard normal by Box–Muller. */
  normal(mean = 0, std = 1): number {
    if (this.spare !== undefined) {
      const v = this.spare;
      this.spare = undefined;
      return mean + std * v;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return mean + std * r * Math.cos(2 * Math.PI * v);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** `torch.randn(shape, generator=gen)`. */
export function randn(shape: readonly number[], gen: Generator, device: Backend = cpu): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = gen.normal();
  return new Tensor(fresh(device.upload(d)), [...shape], contiguousStrides(shape), 0, 'float32');
}

/** `torch.rand(shape, generator=gen)`. */
export function rand(shape: readonly number[], gen: Generator, device: Backend = cpu): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = gen.next();
  return new Tensor(fresh(device.upload(d)), [...shape], contiguousStrides(shape), 0, 'float32');
}
