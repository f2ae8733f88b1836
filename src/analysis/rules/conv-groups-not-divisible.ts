/** Rule: `conv-groups-not-divisible`. See the docs below. */

import type { Rule } from '../diagnostics';

export const rule: Rule = {
  name: 'conv-groups-not-divisible',
  summary: 'ConvNd channels not divisible by groups, or GroupNorm channels not divisible by num_groups',
  defaultSeverity: 'error',
  docs: {
    what: 'Checks `in_channels % groups == 0` and `out_channels % groups == 0` for convolutions and `num_channels % num_groups == 0` for `nn.GroupNorm`. Channels and groups a caller handed down unchanged to the block that builds the convolution are reported at that caller\'s call.',
    why: 'PyTorch raises in the constructor ("in_channels must be divisible by groups", "num_channels must be divisible by num_groups").',
    example: 'nn.Conv2d(30, 30, 3, padding=1, groups=4)',
    useInstead: 'nn.Conv2d(32, 32, 3, padding=1, groups=4)',
    fixSafety: 'No automatic fix.',
  },
  on: ['module-new'],
  check(e, ctx) {
    if (e.kind !== 'module-new') return;
    const m = e.module;
    const get = (i: number, k: string) => {
      const v = m.kwargs[k] ?? m.args[i];
      return v?.kind === 'int' ? ctx.value(v.dim) : undefined;
    };
    if (/^Conv(Transpose)?[123]d$/.test(m.type)) {
      const g = get(6, 'groups') ?? (m.type.startsWith('ConvT') ? get(6, 'groups') : undefined);
      if (!g || g <= 1) return;
      for (const [name, v] of [['in_channels', get(0, 'in_channels')], ['out_channels', get(1, 'out_channels')]] as const) {
        if (v !== undefined && v % g !== 0) {
          // Channels and groups handed down unchanged by a caller: the caller chose them.
          const site = ctx.blame([m.kwargs.groups ?? m.args[6], m.kwargs[name] ?? m.args[name === 'in_channels' ? 0 : 1]]);
          const inside = site ? ` (in the layer built at line ${e.node.startPosition.row + 1})` : '';
          ctx.report({ node: site ?? e.node, severity: 'error', message: `${name} (${v}) must be divisible by groups (${g})${inside}` });
          return;
        }
      }
    } else if (m.type === 'GroupNorm') {
      const g = get(0, 'num_groups');
      const c = get(1, 'num_channels');
      if (g && c !== undefined && c % g !== 0) ctx.report({ node: e.node, severity: 'error', message: `num_channels (${c}) must be divisible by num_groups (${g})` });
    }
  },
};
