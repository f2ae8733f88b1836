/** Rule: `swapped-arguments`. See the docs below. */

import type { Rule } from '../diagnostics';
import { replaceNode } from '../diagnostics';

export const rule: Rule = {
  name: 'swapped-arguments',
  summary: 'a height and a width named exactly as two parameters of the call, each passed to the other one (`window_reverse(w, ws, W, H)` for `(windows, window_size, H, W)`)',
  defaultSeverity: 'warning',
  docs: {
    what: 'For a call of a function, method or module of the file, reports two positional arguments that are sizes held in plain names, each named exactly as another parameter of the callee, and passed to each other\'s parameter, where the two names are a height and a width (`H` and `W`, `h` and `w`, `height` and `width`, `rows` and `cols`, `grid_h` and `grid_w`): `W` given as `H` and `H` as `W`. Arguments named after their own parameters, or after no parameter, are never reported, nor are other pairs: code swaps operands on purpose (`sub(b, a)` for a reversed subtraction, an inverse permutation passed as the permutation).',
    why: 'Height and width (or queries and keys, batch and sequence) passed the other way round often keep the shapes legal when they are equal, and compute the wrong thing (or raise) when they are not: a window reversal on a non-square map puts every window in another place.',
    example: 'def window_reverse(windows, window_size, H, W): ...\nx = window_reverse(windows, self.window_size, W, H)',
    useInstead: 'x = window_reverse(windows, self.window_size, H, W)',
    fixSafety: 'Swaps the two arguments back; offered, not preferred.',
  },
  on: ['call'],
  check(e, ctx) {
    if (e.kind !== 'call') return;
    const args = e.argNodes;
    if (args.some((a) => a.type === 'list_splat' || a.type === 'dictionary_splat')) return;
    const n = Math.min(args.length, e.params.length);
    for (let i = 0; i < n; i++) {
      const a = args[i];
      if (a.type !== 'identifier' || a.text === e.params[i]) continue;
      const j = e.params.indexOf(a.text);
      if (j <= i || j >= n) continue;
      const b = args[j];
      if (b.type !== 'identifier' || b.text !== e.params[i] || !heightWidth(a.text, b.text) || e.args[i]?.kind !== 'int' || e.args[j]?.kind !== 'int') continue;
      ctx.report({
        node: a,
        severity: 'warning',
        message: `${a.text} is passed as ${e.params[i]} and ${b.text} as ${e.params[j]}: ${e.callee} takes ${e.params[i]} before ${e.params[j]}`,
        fixes: [{ title: `Pass ${b.text}, ${a.text} in ${e.callee}'s order`, edits: [replaceNode(a, b.text), replaceNode(b, a.text)] }],
      });
      return;
    }
  },
};

/** Two names for a height and a width: the same but for h and w (either case), height and width, rows and cols. */
function heightWidth(a: string, b: string): boolean {
  const swap = (s: string) =>
    s.replace(/height|width|rows|cols|row|col|(?<![a-z])h(?![a-z])|(?<![a-z])w(?![a-z])|(?<![A-Za-z])H(?![a-z])|(?<![A-Za-z])W(?![a-z])/g, (m) =>
      ({ height: 'width', width: 'height', rows: 'cols', cols: 'rows', row: 'col', col: 'row', h: 'w', w: 'h', H: 'W', W: 'H' })[m] ?? m);
  return a !== b && swap(a) === b;
}
