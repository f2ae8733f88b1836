/**
 * Writes (or checks) every file generated from code: the catalog docs, the generated parts of
 * package.json (commands, settings from the rule registry, snippets, walkthrough), and the
 * snippets of every language.
 *   tsx scripts/gen.ts write   regenerate
 *   tsx scripts/gen.ts check   exit 1 and name the stale files when any differs
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import { allBlocks } from '../src/blocks/catalog';
import { blocksMarkdown } from '../src/codegen/docs';
import { GENERATORS } from '../src/extension/generators';
import { generatedManifest } from '../src/extension/contributions';
import { snippetsFile, snippetsJson } from '../src/codegen/snippets';

const ROOT = path.resolve(__dirname, '..');

/**
 * package.json with its generated parts refreshed (activation events, capabilities, and the
 * commands, settings, snippets and walkthrough under contributes), every other field kept.
 */
function manifest(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const gen = generatedManifest();
  pkg.activationEvents = gen.activationEvents;
  pkg.capabilities = gen.capabilities;
  pkg.contributes = { ...pkg.contributes, ...gen.contributes };
  return JSON.stringify(pkg, null, 2) + '\n';
}

function targets(): Map<string, string> {
  return new Map([
    ['docs/blocks.md', blocksMarkdown(allBlocks())],
    ['package.json', manifest()],
    ['snippets/python.json', snippetsJson(snippetsFile(allBlocks(), 'python', GENERATORS.pytorch.generate))],
    ['snippets/typescript.json', snippetsJson(snippetsFile(allBlocks(), 'typescript', GENERATORS.typescript.generate))],
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
