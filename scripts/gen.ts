/**
 * Writes (or checks) every file generated from the catalog.
 *   tsx scripts/gen.ts write   regenerate
 *   tsx scripts/gen.ts check   exit 1 and name the stale files when any differs
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import { allBlocks } from '../src/blocks/catalog';
import { blocksMarkdown } from '../src/codegen/docs';
import { contributedCommands } from '../src/extension/command-ids';

const ROOT = path.resolve(__dirname, '..');

/** package.json with its generated parts (contributed commands) refreshed, formatting kept. */
function manifest(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  pkg.contributes = { ...pkg.contributes, commands: contributedCommands() };
  return JSON.stringify(pkg, null, 2) + '\n';
}

function targets(): Map<string, string> {
  return new Map([
    ['docs/blocks.md', blocksMarkdown(allBlocks())],
    ['package.json', manifest()],
  ]);
}

const mode = process.argv[2];
if (mode !== 'write' && mode !== 'check') {
  console.error('usage: gen.ts write|check');
  process.exit(2);
}
const stale: string[] = [];
for (const [rel, text] of targets()) {
  const file = path.join(ROOT, rel);
  const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
  if (current === text) continue;
  if (mode === 'write') {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    console.log(`wrote ${rel}`);
  } else stale.push(rel);
}
if (stale.length) {
  console.error(`stale generated files (run npm run gen): ${stale.join(', ')}`);
  process.exit(1);
}
if (mode === 'check') console.log('generated files are up to date');
