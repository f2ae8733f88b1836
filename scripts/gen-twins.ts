/**
 * Writes the compiled-twins registry (src/codegen/twins.ts) under
 * src/generated/twins/: one TypeScript module per block per structural
 * combination and `table.ts`. Files whose text is unchanged are not
 * rewritten (keeps watchers and tsc incremental state quiet); stale files are
 * removed. Run by scripts/build.mjs, `npm run typecheck` and the mocha setup,
 * so a clean clone needs no extra step.
 *   tsx scripts/gen-twins.ts
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderTwins, TWINS_DIR } from '../src/codegen/twins';

export function writeTwins(root = path.resolve(__dirname, '..')): { classes: number; written: number } {
  const dir = path.join(root, TWINS_DIR);
  const { files, classes } = renderTwins();
  let written = 0;
  for (const [rel, text] of files) {
    const abs = path.join(dir, rel);
    if (fs.existsSync(abs) && fs.readFileSync(abs, 'utf8') === text) continue;
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, text);
    written++;
  }
  if (fs.existsSync(dir)) {
    for (const rel of fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
      const abs = path.join(dir, rel);
      if (fs.statSync(abs).isFile() && !files.has(rel.split(path.sep).join('/'))) fs.rmSync(abs);
    }
  }
  return { classes, written };
}

if (require.main === module) {
  const { classes, written } = writeTwins();
  process.stdout.write(`gen-twins: ${classes} classes, ${written} file(s) written under src/generated/twins/\n`);
}
