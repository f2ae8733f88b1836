/** Rule: `reduction-to-zero-channels`. See the docs below. */

import type { Rule } from '../diagnostics';

export const rule: Rule = {
  name: 'reduction-to-zero-channels',
  summary: 'a bottleneck (channels // reduction) that leaves zero channels',
  defaultSeverity: 'error',
  docs: {
    what: 'Evaluates the channel counts given to `nn.Linear` and `nn.ConvNd` (typically `channels // reduction` in SE, CBAM and non-local blocks) and reports one that is zero.',
    why: 'With fewer channels than the reduction ratio the bottleneck has zero width: convolutions raise, and a zero-width Linear silently turns the attention into a constant.',
    example: 'SEBlock(channels=8, reduction=16)  # Linear(8, 8 // 16 = 0)',
    useInstead: 'nn.Linear(channels, max(1, channels // reduction))',
    fixSafety: 'No automatic fix.',
  },
  on: ['module-new'],
  check(e, ctx) {
    if (e.kind !== 'module-new') return;
    const m = e.module;
    if (!/^(Linear|Conv[123]d|ConvTranspose[123]d|BatchNorm[123]d|LayerNorm|GroupNorm)$/.test(m.type)) return;
    const names = m.type === 'Linear' ? ['in_features', 'out_features'] : m.type.startsWith('Conv') ? ['in_channels', 'out_channels'] : m.type === 'GroupNorm' ? ['num_groups', 'num_channels'] : m.type === 'LayerNorm' ? ['normalized_shape'] : ['num_features'];
    names.forEach((name, i) => {
      const v = m.kwargs[name] ?? m.args[i];
      if (v?.kind !== 'int') return;
      if (ctx.value(v.dim) === 0) ctx.report({ node: e.node, severity: 'error', message: `${m.type} ${name} evaluates to 0: the reduction leaves no channels` });
    });
  },
};
