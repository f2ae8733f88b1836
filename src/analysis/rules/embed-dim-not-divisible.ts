/** Rule: `embed-dim-not-divisible`. See the docs below. */

import { divisibleRepairs } from '../../blocks/checks';
import { replaceNode } from '../diagnostics';
import type { Fix, Rule } from '../diagnostics';
import type { Node } from '../parse';

/**
 * The modules that split a width into heads, with their keyword names; the width and the head
 * count are the first two positional arguments of each. A missing argument (nn.Transformer's
 * defaults, 512 and 8) divides, so only what is written is checked.
 */
const SIGNATURES: Record<string, { embed: string; heads: string }> = {
  MultiheadAttention: { embed: 'embed_dim', heads: 'num_heads' },
  TransformerEncoderLayer: { embed: 'd_model', heads: 'nhead' },
  TransformerDecoderLayer: { embed: 'd_model', heads: 'nhead' },
  Transformer: { embed: 'd_model', heads: 'nhead' },
};

/** A divisor named as a head count (`num_heads`, `n_kv_heads`, `nhead`, `heads`). */
const HEADS = /head/i;
const lastName = (n: Node) => (n.type === 'attribute' ? n.childForFieldName('attribute')?.text ?? n.text : n.text);

export const rule: Rule = {
  name: 'embed-dim-not-divisible',
  summary: 'nn.MultiheadAttention (or a Transformer layer) built with an embed_dim (d_model) that num_heads (nhead) does not divide',
  defaultSeverity: 'error',
  docs: {
    what: 'Checks that `embed_dim` is a multiple of `num_heads` where `nn.MultiheadAttention` is built, and that `d_model` is a multiple of `nhead` where `nn.TransformerEncoderLayer`, `nn.TransformerDecoderLayer` or `nn.Transformer` is built (each builds `nn.MultiheadAttention(d_model, nhead)` inside), and reports an `assert width % heads == 0` in the module where the numbers it gets (the defaults of a config, the arguments of a call) do not divide, and a `width // heads` (a head dim, or query heads per key/value head) that leaves a remainder for those numbers.',
    why: 'Each head gets `embed_dim // num_heads` channels; PyTorch asserts divisibility in the constructor ("embed_dim must be divisible by num_heads").',
    example: 'attn = nn.MultiheadAttention(100, 8)',
    useInstead: 'attn = nn.MultiheadAttention(100, 10)  # or embed_dim 96 / 104',
    fixSafety: 'The fixes are the repairs the block catalog suggests for the same constraint: a literal head count (`num_heads` / `nhead`) replaced by one of the nearest divisors of the width (the two below it and the one above, nearest first), or a literal width replaced by the nearest multiples of the head count. Each changes the model and there are several, so they are offered, never preferred or applied without review.',
  },
  on: ['module-new', 'assert', 'binary'],
  check(e, ctx) {
    if (e.kind === 'binary') {
      // `head_dim = dim // num_heads` (or query heads per key/value head) with numbers that leave
      // a remainder: every head gets the floor and the remaining channels are dropped.
      const r = e.info.floorRemainder;
      if (!r || !HEADS.test(lastName(r.divisor))) return;
      for (const d of r.dims) ctx.valueAtDefaults(d);
      const [a, b] = r.values;
      ctx.report({ node: e.node, severity: 'warning', message: `${lastName(r.dividend)} (${a}) is not divisible by ${lastName(r.divisor)} (${b}): ${a} // ${b} = ${Math.floor(a / b)} drops the remaining ${a % b} (a width split into heads, or heads shared by groups, must divide exactly)` });
      return;
    }
    if (e.kind === 'assert') {
      // The code's own `assert width % heads == 0`, failing for the numbers it is given.
      const [a, b] = e.values;
      // Registers the defaults the values were found with, if any (the finding names them).
      for (const d of e.dims) ctx.valueAtDefaults(d);
      const name = (n: typeof e.dividend) => (n.type === 'attribute' ? n.childForFieldName('attribute')?.text ?? n.text : n.text);
      ctx.report({ node: e.node, severity: 'error', message: `${name(e.dividend)} (${a}) is not divisible by ${name(e.divisor)} (${b}): this assert fails (${a} % ${b} = ${a % b})` });
      return;
    }
    if (e.kind !== 'module-new') return;
    const sig = SIGNATURES[e.module.type];
    if (!sig) return;
    const m = e.module;
    const E = m.kwargs[sig.embed] ?? m.args[0];
    const H = m.kwargs[sig.heads] ?? m.args[1];
    if (E?.kind !== 'int' || H?.kind !== 'int') return;
    const ev = ctx.valueAtDefaults(E.dim);
    const hv = ctx.valueAtDefaults(H.dim);
    if (ev === undefined || hv === undefined || hv <= 0 || ev % hv === 0) return;
    // The catalog's repairs (src/blocks/checks.ts), so the editor and the scaffold form agree.
    const repairs = divisibleRepairs(ev, hv);
    const hNode = e.kwargNodes[sig.heads] ?? e.argNodes[1];
    const eNode = e.kwargNodes[sig.embed] ?? e.argNodes[0];
    const fixes: Fix[] = [
      ...(hNode?.type === 'integer' ? repairs.b.map((v) => ({ title: `Use ${sig.heads}=${v}`, edits: [replaceNode(hNode, String(v))] })) : []),
      ...(eNode?.type === 'integer' ? repairs.a.map((v) => ({ title: `Use ${sig.embed}=${v}`, edits: [replaceNode(eNode, String(v))] })) : []),
    ];
    const hint = [repairs.b.length ? `${sig.heads} ${repairs.b.join(', ')}` : '', repairs.a.length ? `${sig.embed} ${repairs.a.join(', ')}` : ''].filter(Boolean).join('; ');
    ctx.report({
      node: e.node,
      severity: 'error',
      message: `${sig.embed} (${ev}) must be divisible by ${sig.heads} (${hv}); nearest valid: ${hint}`,
      fixes,
    });
  },
};
