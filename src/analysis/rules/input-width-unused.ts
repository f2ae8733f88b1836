/** Rule: `input-width-unused`. See the docs below. */

import type { Rule } from '../diagnostics';
import { replaceNode } from '../diagnostics';

export const rule: Rule = {
  name: 'input-width-unused',
  summary: "a module takes its input's width (`in_channels`) and never uses it: the layer applied to the input is built with another width",
  defaultSeverity: 'warning',
  docs: {
    what: "Reports a constructor parameter named for the input's width (`in_channels`, `in_features`, `in_dim`, `inplanes`…) that the constructor never reads, where the layer `forward` applies to its input (`self.input_proj(features)`, an `nn.Conv*d` or `nn.Linear`) is built with another of the constructor's parameters as its input width.",
    why: 'The module then accepts only inputs of that other width: the width its callers state is ignored, and any input of that width raises in the layer ("expected input to have 128 channels, but got 64").',
    example: 'def __init__(self, in_channels=128, d_model=64):\n    self.input_proj = nn.Conv2d(d_model, d_model, kernel_size=1)\ndef forward(self, features):\n    src = self.input_proj(features)',
    useInstead: 'self.input_proj = nn.Conv2d(in_channels, d_model, kernel_size=1)',
    fixSafety: 'Builds the layer from the unused parameter; offered, not preferred (the parameter may be the one left over).',
  },
  on: ['unused-width'],
  check(e, ctx) {
    if (e.kind !== 'unused-width') return;
    const def = e.def ? ` (${e.param}=${e.def} by default)` : '';
    ctx.report({
      node: e.node,
      severity: 'warning',
      message: `${e.param} is never used: self.${e.layer}, applied to ${e.input}, is built with ${e.widthName} = ${e.widthArg.text}, so the module takes only ${e.widthArg.text}-wide inputs whatever ${e.param} says${def}`,
      fixes: [{ title: `Build self.${e.layer} from ${e.param}`, edits: [replaceNode(e.widthArg, e.param)] }],
    });
  },
};
