// `npm run package`: builds, then packs the extension into attention-forge-<version>.vsix with
// @vscode/vsce, using .vscodeignore's allow-list (bundles, webview assets, parser wasm,
// snippets, walkthrough media). Fails if a source, test or source map slipped in, and prints
// the file list and the size.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
process.chdir(root);
const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8'));
const out = `${pkg.name}-${pkg.version}.vsix`;

execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: ['ignore', 'ignore', 'inherit'] });
const vsce = path.join('node_modules', '@vscode', 'vsce', 'vsce');
// --no-dependencies: everything is bundled. No LICENSE file or repository URL yet, so those
// checks are waived explicitly instead of prompting; relative README links stay relative.
execFileSync(process.execPath, [vsce, 'package', '--no-dependencies', '--skip-license', '--allow-missing-repository', '--no-rewrite-relative-links', '--out', out], { stdio: 'inherit' });

const listing = execFileSync(process.execPath, [vsce, 'ls', '--no-dependencies'], { encoding: 'utf8' }).split('\n').filter(Boolean);
const bad = listing.filter((f) => /\.map$|^(src|test|scripts|webview|node_modules)\/|\.ts$/.test(f));
if (bad.length) {
  console.error(`the package must not contain sources, tests or maps: ${bad.join(', ')}`);
  process.exit(1);
}
const size = fs.statSync(out).size;
console.log(`${out}: ${(size / 1024).toFixed(0)} KiB, ${listing.length} files`);
for (const f of listing) console.log(`  ${f}`);
