/**
 * Attention maps kept from a traced forward (`traceForward`'s `onKernel`): every softmax over the
 * last axis of scores shaped (…, L, S), and every scaled-dot-product attention, whose weights are
 * computed once more on its weights path when the fused kernel ran without them. The preview
 * panel draws them; `attention-forge run --module --output` writes them as `attn.<module path>`.
 */

import { getKernel } from './kernels/registry';
import { runKernel, type Tensor } from './tensor';
import type { TracedKernel } from './trace';

export interface CapturedAttention {
  /** The dotted path of the module whose forward computed it ('' for the root module). */
  readonly path: string;
  /** The kernel: `softmax` or `scaled_dot_product_attention`. */
  readonly source: string;
  /** The weights, (…, [heads,] L, S). */
  readonly weights: Tensor;
}

/** Collects attention maps from the kernels a traced forward runs, at most `max` of them. */
export class AttentionCapture {
  readonly maps: CapturedAttention[] = [];
  private recomputing = false;
  constructor(private readonly max = 32) {}

  readonly onKernel = (k: TracedKernel): void => this.observe(k.op, k.inputs, k.attrs, k.outputs, k.layer.path);

  /** One kernel run, as `observeKernels` reports it, inside the module at `path` ('' for the root). */
  observe(op: string, inputs: readonly Tensor[], attrs: unknown, outputs: readonly Tensor[], path = ''): void {
    if (this.recomputing || this.maps.length >= this.max) return;
    let w: Tensor | undefined;
    if (op === 'softmax') {
      const a = attrs as { dim: number; log: boolean };
      const out = outputs[0];
      if (a.log || out.ndim < 2 || (a.dim !== -1 && a.dim !== out.ndim - 1) || out.shape[out.ndim - 1] < 2 || out.shape[out.ndim - 2] < 2) return;
      w = out;
    } else if (op === 'scaled_dot_product_attention') {
      const a = attrs as { scale?: number; causal: boolean; needWeights: boolean };
      if (outputs[1]) w = outputs[1];
      else {
        this.recomputing = true;
        try {
          w = runKernel(getKernel('scaled_dot_product_attention'), inputs, { ...a, needWeights: true })[1];
        } finally {
          this.recomputing = false;
        }
      }
    }
    if (w) this.maps.push({ path, source: op, weights: w });
  }

  /** The maps by name, `attn.<path>` (`attn.<path>.1`, … for a module that computed several). */
  named(rootName: string): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const m of this.maps) {
      const base = `attn.${m.path || rootName}`;
      let key = base;
      for (let i = 1; out.has(key); i++) key = `${base}.${i}`;
      out.set(key, m.weights);
    }
    return out;
  }
}
