/**
 * `nn.init`: fills a parameter in place from a distribution, with an explicit
 * `Generator`. The functions and their defaults mirror torch's
 * (`kaiming_uniform_` with a = √5 is what Linear and Conv use by default;
 * `trunc_normal_` resamples outside [a, b]); the drawn values are this
 * runtime's own, not torch's bit stream.
 */

import { TorchError } from '../errors';
import { Generator } from '../random';
import type { Tensor } from '../tensor';
import { writeInto } from './module';

export function calculateFanInAndFanOut(t: Tensor): [number, number] {
  if (t.ndim < 2) throw new TorchError('ValueError', 'Fan in and fan out can not be computed for tensor with fewer than 2 dimensions');
  const receptive = t.shape.slice(2).reduce((a, b) => a * b, 1);
  return [t.shape[1] * receptive, t.shape[0] * receptive];
}

function fill(t: Tensor, f: () => number): Tensor {
  const d = new Float32Array(t.numel());
  for (let i = 0; i < d.length; i++) d[i] = f();
  writeInto(t, d);
  return t;
}

export const constant_ = (t: Tensor, v: number): Tensor => fill(t, () => v);
export const zeros_ = (t: Tensor): Tensor => constant_(t, 0);
export const ones_ = (t: Tensor): Tensor => constant_(t, 1);

export function uniform_(t: Tensor, a = 0, b = 1, generator = new Generator(0)): Tensor {
  return fill(t, () => generator.uniform(a, b));
}

export function normal_(t: Tensor, mean = 0, std = 1, generator = new Generator(0)): Tensor {
  return fill(t, () => generator.normal(mean, std));
}

/** torch's gain for `leaky_relu` with negative slope a (the default nonlinearity of kaiming_*). */
function leakyReluGain(a: number): number {
  return Math.sqrt(2 / (1 + a * a));
}

export interface KaimingOptions {
  readonly a?: number;
  readonly mode?: 'fan_in' | 'fan_out';
  readonly generator?: Generator;
}

export function kaimingUniform_(t: Tensor, o: KaimingOptions = {}): Tensor {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  const fan = (o.mode ?? 'fan_in') === 'fan_in' ? fanIn : fanOut;
  const bound = fan === 0 ? 0 : Math.sqrt(3) * (leakyReluGain(o.a ?? 0) / Math.sqrt(fan));
  return uniform_(t, -bound, bound, o.generator);
}

export function xavierUniform_(t: Tensor, gain = 1, generator = new Generator(0)): Tensor {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  const a = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform_(t, -a, a, generator);
}

export interface TruncNormalOptions {
  readonly mean?: number;
  readonly std?: number;
  readonly a?: number;
  readonly b?: number;
  readonly generator?: Generator;
}

export function truncNormal_(t: Tensor, o: TruncNormalOptions = {}): Tensor {
  const mean = o.mean ?? 0;
  const std = o.std ?? 1;
  const a = o.a ?? -2;
  const b = o.b ?? 2;
  const g = o.generator ?? new Generator(0);
  return fill(t, () => {
    for (;;) {
      const v = g.normal(mean, std);
      if (v >= a && v <= b) return v;
    }
  });
}

/** The bias bound torch's Linear/Conv use: U(-1/√fan_in, 1/√fan_in). */
export function fanInBound(weight: Tensor): number {
  const [fanIn] = calculateFanInAndFanOut(weight);
  return fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
}
