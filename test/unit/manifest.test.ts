/**
 * The manifest and the code agree: every contributed command is in the
 * command table and has a handler in src/extension/main.ts, and vice versa.
 * (main.ts imports 'vscode', so its handler keys are read from the source.)
 */

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CATEGORY, COMMAND_TABLE } from '../../src/extension/command-ids';

const ROOT = path.resolve(__dirname, '../..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

describe('manifest', function () {
  it('contributes exactly the command table, in the Attention Forge category', function () {
    const contributed = (pkg.contributes.commands as { command: string; category: string }[]);
    assert.deepEqual(contributed.map((c) => c.command), COMMAND_TABLE.map((c) => c.id));
    assert.ok(contributed.every((c) => c.category === CATEGORY));
  });

  it('has a handler for every command and no handler without a command', function () {
    const src = fs.readFileSync(path.join(ROOT, 'src/extension/main.ts'), 'utf8');
    const table = src.slice(src.indexOf('export const COMMANDS'), src.indexOf('};', src.indexOf('export const COMMANDS')));
    const handled = [...table.matchAll(/'(attentionForge\.[\w.]+)'\s*:/g)].map((m) => m[1]);
    assert.deepEqual(handled.sort(), COMMAND_TABLE.map((c) => c.id).sort());
  });

  it('points main and bin at the esbuild bundles', function () {
    assert.equal(pkg.main, './dist/extension.js');
    assert.equal(pkg.bin['attention-forge'], './dist/cli.js');
    assert.equal(pkg.name, 'attention-forge');
    assert.equal(pkg.displayName, 'Attention Forge');
  });
});
