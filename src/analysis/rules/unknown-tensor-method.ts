/** Rule: `unknown-tensor-method`. See the docs below. */

import type { Rule } from '../diagnostics';
import { replaceNode } from '../diagnostics';
import { TENSOR_ATTRIBUTES } from '../torch-api';
import { levenshtein } from './util';

export const rule: Rule = {
  name: 'unknown-tensor-method',
  summary: 'an attribute that torch.Tensor does not have (x.permutation, x.tranpose)',
  defaultSeverity: 'error',
  docs: {
    what: "Checks attribute names read from known tensors against `torch.Tensor`'s attributes in torch 1.13 and 2.6.",
    why: 'PyTorch raises AttributeError when the line runs, which for a rarely taken branch can be late.',
    example: 'x = x.tranpose(1, 2)',
    useInstead: 'x = x.transpose(1, 2)',
    fixSafety: 'The fix is offered only when exactly one tensor attribute is within two edits of the name; it is then the evident intent.',
  },
  on: ['attribute'],
  check(e, ctx) {
    if (e.kind !== 'attribute' || e.name.startsWith('_') || TENSOR_ATTRIBUTES.has(e.name)) return;
    const close = [...TENSOR_ATTRIBUTES].filter((n) => !n.endsWith('_') && Math.abs(n.length - e.name.length) <= 2 && levenshtein(n, e.name) <= 2);
    const fixes = close.length === 1 ? [{ title: `Use .${close[0]}`, edits: [replaceNode(e.nameNode, close[0])] }] : [];
    ctx.report({ node: e.node, severity: 'error', message: `torch.Tensor has no attribute '${e.name}'${close.length ? ` (did you mean ${close.slice(0, 3).map((c) => `'${c}'`).join(', ')}?)` : ''}`, fixes });
  },
};
