/** Rule: `kdim-vdim-mismatch`. See the docs below. */

import type { Rule } from '../diagnostics';

export const rule: Rule = {
  name: 'kdim-vdim-mismatch',
  summary: "key/value feature size differs from nn.MultiheadAttention's kdim/vdim (embed_dim when not given)",
  defaultSeverity: 'error',
  docs: {
    what: "Compares the last dimension of the key and value given to `nn.MultiheadAttention` with its `kdim` and `vdim`, which default to `embed_dim`. Where no caller built the module, two different expressions of the sizes its constructor's caller chooses, each as computed, are reported as a warning that says where the code runs.",
    why: 'Cross-attention to features of another width needs `kdim=`/`vdim=`; without them PyTorch raises a shape error in the key/value projection.',
    example: 'self.cross = nn.MultiheadAttention(256, 8, batch_first=True)\nself.cross(q, ctx512, ctx512)',
    useInstead: 'self.cross = nn.MultiheadAttention(256, 8, kdim=512, vdim=512, batch_first=True)',
    fixSafety: 'No automatic fix.',
  },
  on: ['module-call'],
  check(e, ctx) {
    if (e.kind !== 'module-call' || e.module.type !== 'MultiheadAttention') return;
    const m = e.module;
    const E = m.kwargs.embed_dim ?? m.args[0];
    const kdim = m.kwargs.kdim ?? m.args[6];
    const vdim = m.kwargs.vdim ?? m.args[7];
    const pairs: [string, import('../values').Value | undefined, import('../values').Value | undefined][] = [
      ['key', e.args[1] ?? e.kwargs.key, kdim && kdim.kind !== 'none' ? kdim : E],
      ['value', e.args[2] ?? e.kwargs.value, vdim && vdim.kind !== 'none' ? vdim : E],
    ];
    const q = e.args[0] ?? e.kwargs.query;
    // A query that already disagrees with embed_dim is embed-dim-channel-mismatch's finding.
    if (q?.kind === 'tensor' && q.axes?.length && E?.kind === 'int' && ctx.compare(q.axes[q.axes.length - 1].size, E.dim) === 'ne') return;
    for (const [what, t, want] of pairs) {
      if (t?.kind !== 'tensor' || !t.axes || t.axes.length === 0 || want?.kind !== 'int') continue;
      const got = t.axes[t.axes.length - 1].size;
      if (ctx.compare(got, want.dim, true) !== 'ne') continue;
      ctx.report({ node: e.node, severity: ctx.severity(got, want.dim), message: `${what} has ${ctx.fmt(got)} features but the module expects ${what === 'key' ? 'kdim' : 'vdim'} = ${ctx.fmt(want.dim)}; pass ${what === 'key' ? 'kdim' : 'vdim'}=${ctx.fmt(got)}` });
      return;
    }
  },
};
