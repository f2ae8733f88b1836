/**
 * `adaptive_pool`: max or average pooling to a target size over 1–3 trailing
 * spatial dims, bins [floor(i·in/out), ceil((i+1)·in/out)) as torch.
 */

import type { OutputSpec } from '../../backend';
import { TorchError } from '../../errors';
import { contiguousData, DEFAULT_TOLERANCE, flopsPerInput, numel, type Kernel } from '../kernel';
import { MATH_WGSL, perOutputProgram } from '../wgsl';
import { poolHead, poolPrelude } from './pool';

export interface AdaptivePoolAttrs {
  readonly op: 'max' | 'avg';
  readonly outputSize: readonly number[];
}

export const adaptivePool: Kernel<AdaptivePoolAttrs> = {
  name: 'adaptive_pool',
  flops: flopsPerInput,
  outputs([x], a): OutputSpec[] {
    const nsp = a.outputSize.length;
    if (x.shape.slice(-nsp).some((s) => s === 0)) {
      throw new TorchError('RuntimeError', `adaptive_${a.op}_pool${nsp}d(): Expected input to have non-zero size for non-batch dimensions, but input has sizes [${x.shape.join(', ')}] with dimension ${x.shape.length - nsp} being empty`);
    }
    return [{ shape: [...x.shape.slice(0, -nsp), ...a.outputSize], dtype: x.dtype }];
  },
  cpu([xv], a, [out]) {
    const x = contiguousData(xv);
    const nsp = a.outputSize.length;
    const lift = (v: readonly number[]) => [...new Array(3 - v.length).fill(1), ...v];
    const [D, H, W] = lift(xv.shape.slice(-nsp));
    const [OD, OH, OW] = lift(a.outputSize);
    const planes = numel(xv.shape.slice(0, -nsp));
    const st = (i: number, o: number, n: number) => Math.floor((i * n) / o);
    const en = (i: number, o: number, n: number) => Math.ceil(((i + 1) * n) / o);
    let o = 0;
    for (let pl = 0; pl < planes; pl++) {
      const base = pl * D * H * W;
      for (let od = 0; od < OD; od++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++, o++) {
        let best = -Infinity;
        let sum = 0;
        let cnt = 0;
        for (let id = st(od, OD, D); id < en(od, OD, D); id++) for (let ih = st(oh, OH, H); ih < en(oh, OH, H); ih++) for (let iw = st(ow, OW, W); iw < en(ow, OW, W); iw++) {
          const v = x[base + (id * H + ih) * W + iw];
          if (v > best || Number.isNaN(v)) best = v;
          sum += v;
          cnt++;
        }
        out[o] = a.op === 'max' ? best : sum / cnt;
      }
    }
  },
  wgsl([x], a, [out]) {
    const nsp = a.outputSize.length;
    const lift = (v: readonly number[]) => [...new Array<number>(3 - v.length).fill(1), ...v];
    const [D, H, W] = lift(x.shape.slice(-nsp));
    const [OD, OH, OW] = lift(a.outputSize);
    // Bins [floor(i·in/out), ceil((i+1)·in/out)), in integers.
    const bin = (v: string, o: number, n: number) => `let ${v}s = (${v} * ${n}i) / ${o}i;\n  let ${v}e = ((${v} + 1i) * ${n}i + ${o - 1}i) / ${o}i;`;
    const body = `${poolHead(OD, OH, OW)}
  ${bin('od', OD, D)}
  ${bin('oh', OH, H)}
  ${bin('ow', OW, W)}
  var best = neg_inf();
  var sum = 0.0;
  for (var id = ods; id < ode; id++) {
    for (var ih = ohs; ih < ohe; ih++) {
      for (var iw = ows; iw < owe; iw++) {
        let v = in0[at(id, ih, iw)];
        if (v > best || isnan_f32(v)) { best = v; }
        sum += v;
      }
    }
  }
  out0[o] = ${a.op === 'max' ? 'best' : 'sum / f32((ode - ods) * (ohe - ohs) * (owe - ows))'};`;
    return perOutputProgram(numel(out.shape), 1, 1, body, MATH_WGSL + poolPrelude(x, nsp));
  },
  tolerance: DEFAULT_TOLERANCE,
};
