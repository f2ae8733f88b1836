/**
 * Attention rollout (Abnar & Zuidema, "Quantifying Attention Flow in Transformers", 2020), DOM-free
 * so it is unit-tested: how much each input token flows into each output position through a stack
 * of self-attention layers, taking the residual connection into account.
 *
 * Per layer l (maps given in layer order, each S×S and row-stochastic): A_l is the mean over heads,
 * Â_l = 0.5·A_l + 0.5·I with its rows renormalised to sum to 1, and the rollout is the product
 * R = Â_n · Â_(n-1) ⋯ Â_1 — the later layer on the left, because row i of Â_l mixes layer l's
 * inputs, which are layer (l-1)'s outputs. This is the paper's recursion Ã(l_i) = Â(l_i)·Ã(l_(i-1))
 * and what the usual torch code computes (`result = a @ result` over the layers in order). Row 0
 * of R is the class token's attention over the input tokens.
 */

/** The mean over heads of one item: `data` holds heads × S × S values, row-major. */
export function meanOverHeads(data: Float32Array, heads: number, S: number): Float64Array {
  const out = new Float64Array(S * S);
  for (let h = 0; h < heads; h++) for (let i = 0; i < S * S; i++) out[i] += data[h * S * S + i] / heads;
  return out;
}

/** Â = 0.5·A + 0.5·I, rows renormalised (a row summing to 0 stays the identity's row). */
export function withResidual(a: Float64Array, S: number): Float64Array {
  const out = new Float64Array(S * S);
  for (let i = 0; i < S; i++) {
    let sum = 0;
    for (let j = 0; j < S; j++) {
      const v = 0.5 * a[i * S + j] + (i === j ? 0.5 : 0);
      out[i * S + j] = v;
      sum += v;
    }
    if (sum > 0) for (let j = 0; j < S; j++) out[i * S + j] /= sum;
  }
  return out;
}

/**
 * The rollout of `layers` (each the mean over heads, S×S, in layer order): R = Â_n ⋯ Â_1, S×S.
 * Undefined when there is no layer or a layer is not S×S.
 */
export function rollout(layers: readonly Float64Array[], S: number): Float64Array | undefined {
  if (!layers.length || layers.some((a) => a.length !== S * S)) return undefined;
  let r = withResidual(layers[0], S);
  for (const a of layers.slice(1)) {
    const ah = withResidual(a, S);
    const next = new Float64Array(S * S);
    for (let i = 0; i < S; i++)
      for (let k = 0; k < S; k++) {
        const x = ah[i * S + k];
        if (x === 0) continue;
        for (let j = 0; j < S; j++) next[i * S + j] += x * r[k * S + j];
      }
    r = next;
  }
  return r;
}
