/**
 * What the block tests send to `scripts/torch/goldens.py blocks`: a grid point rendered as the
 * PyTorch module, the class to instantiate and the inputs to draw at that point's dims. Torch
 * builds the module, writes its state_dict (`state.*`), the inputs (`input.*`) and the outputs
 * (`output.N`) as safetensors; the tests then run the runtime on the same weights and inputs.
 */

import { concreteShapes } from '../../src/blocks/catalog';
import type { Tensor } from '../../src/runtime/index';
import { renderPyTorch } from '../../src/codegen/pytorch';
import type { GridCase } from './grid';

/** The main (last) `nn.Module` class of generated PyTorch. */
export function pyClassName(code: string): string {
  const names = [...code.matchAll(/^class (\w+)\(nn\.Module\)/gm)].map((m) => m[1]);
  return names[names.length - 1];
}

/** `code` defaults to the grid point's generated module (a test may pass a variant of it). */
export function torchBlockCase(id: string, g: GridCase, code = renderPyTorch(g.block, g.params)) {
  const shapes = concreteShapes(g.block, g.params, g.dims);
  const contract = g.block.contract(g.params);
  return {
    id,
    code,
    className: pyClassName(code),
    inputs: contract.inputs.map((t) => ({ name: t.name, shape: shapes.inputs[t.name], dtype: t.dtype, fill: t.fill })),
  };
}

/** The golden tensors under `prefix` (`state.`, `input.`, `output.`), keyed by the rest of the name. */
export function withPrefix(t: ReadonlyMap<string, Tensor>, prefix: string): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [k, v] of t) if (k.startsWith(prefix)) out.set(k.slice(prefix.length), v);
  return out;
}
