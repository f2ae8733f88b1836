/**
 * The runtime for TypeScript users (src/extension/runtime-dependency.ts): when a project that
 * receives generated TypeScript lacks `attention-forge/runtime`, which edits are offered, and
 * that they work. The decision and the package.json insertion as pure functions (installed or
 * declared in any dependency field: nothing; no package.json: one is created; formatting, tabs,
 * CRLF and empty objects kept; invalid JSON never touched). End to end, as a user gets it: a
 * fresh TypeScript project in a temp folder outside the repository receives a generated twin
 * through the editor's insertion plan, the planned edits are applied (the tarball the build
 * packs copied to vendor/, the `file:` dependency inserted), `npm install --offline` installs it
 * from that tarball, `tsc --strict` compiles the project and the block runs with its contract's
 * output shapes. Needs `npm run build` first (dist/attention-forge-runtime.tgz).
 */

import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { concreteShapes, defaults, getBlock } from '../../src/blocks/catalog';
import { planInsertion } from '../../src/extension/insertion';
import {
  addDependency,
  ancestorFolders,
  applyInsertions,
  BUNDLED_RUNTIME_TARBALL,
  importsRuntime,
  planRuntimeDependency,
  RUNTIME_PACKAGE,
} from '../../src/extension/runtime-dependency';
import type { ProjectFacts, RuntimePlan } from '../../src/extension/runtime-dependency';
import { blockEntry, evaluateChoice } from '../../src/extension/scaffold';

const REPO = path.resolve(__dirname, '../..');
const TSC = path.join(REPO, 'node_modules/typescript/bin/tsc');
const VERSION = (JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

function facts(over: Partial<ProjectFacts>): ProjectFacts {
  return { docPath: '/w/app/src/model.ts', fallbackDir: '/w', runtimeInstalled: false, version: '1.2.3', ...over };
}

function offer(p: RuntimePlan): Extract<RuntimePlan, { kind: 'offer' }> {
  assert.equal(p.kind, 'offer', JSON.stringify(p));
  return p as Extract<RuntimePlan, { kind: 'offer' }>;
}

describe('runtime dependency: the decision', function () {
  it('offers nothing when the runtime is installed or declared in any dependency field', function () {
    assert.equal(planRuntimeDependency(facts({ runtimeInstalled: true })).kind, 'present');
    for (const field of ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies']) {
      const text = JSON.stringify({ name: 'a', [field]: { [RUNTIME_PACKAGE]: '^0.1.0' } });
      assert.equal(planRuntimeDependency(facts({ packageJson: { path: '/w/app/package.json', text } })).kind, 'present', field);
    }
  });

  it('never rewrites a package.json that is not a JSON object', function () {
    for (const text of ['{ "name": "a", }', '[]', '']) assert.equal(planRuntimeDependency(facts({ packageJson: { path: '/w/app/package.json', text } })).kind, 'unreadable', text);
  });

  it('offers the vendored tarball and a file: dependency in the nearest package.json', function () {
    const text = '{\n  "name": "app",\n  "dependencies": {\n    "left-pad": "^1.3.0"\n  }\n}\n';
    const p = offer(planRuntimeDependency(facts({ packageJson: { path: '/w/app/package.json', text } })));
    assert.equal(p.projectDir, '/w/app');
    assert.equal(p.tarball, '/w/app/vendor/attention-forge-runtime-1.2.3.tgz');
    assert.equal(p.spec, 'file:vendor/attention-forge-runtime-1.2.3.tgz');
    assert.equal(p.command, 'npm install');
    assert.match(p.done, /Run `npm install` in \/w\/app/);
    assert.ok('insert' in p.packageJsonEdit);
    assert.equal(applyInsertions(text, p.packageJsonEdit.insert), '{\n  "name": "app",\n  "dependencies": {\n    "left-pad": "^1.3.0",\n    "attention-forge": "file:vendor/attention-forge-runtime-1.2.3.tgz"\n  }\n}\n');
  });

  it('creates package.json in the workspace folder when no folder above the file has one', function () {
    const p = offer(planRuntimeDependency(facts({ fallbackDir: '/w/My App' })));
    assert.equal(p.packageJson, '/w/My App/package.json');
    assert.ok('create' in p.packageJsonEdit);
    assert.deepEqual(JSON.parse(p.packageJsonEdit.create), { name: 'my-app', version: '1.0.0', private: true, dependencies: { 'attention-forge': 'file:vendor/attention-forge-runtime-1.2.3.tgz' } });
  });

  it('inserts into package.json text keeping its formatting', function () {
    const spec = 'file:vendor/x.tgz';
    const add = (text: string) => {
      const e = addDependency(text, 'attention-forge', spec);
      assert.ok(e, text);
      const out = applyInsertions(text, e);
      assert.equal((JSON.parse(out) as { dependencies: Record<string, string> }).dependencies['attention-forge'], spec);
      return out;
    };
    // No dependencies yet: a new member after the last one, scripts with braces in strings untouched.
    assert.equal(add('{\n  "name": "a",\n  "scripts": { "x": "echo }{:" }\n}\n'), '{\n  "name": "a",\n  "scripts": { "x": "echo }{:" },\n  "dependencies": {\n    "attention-forge": "file:vendor/x.tgz"\n  }\n}\n');
    // Tabs, CRLF, and a nested "dependencies" key that is not the top-level one.
    assert.equal(add('{\r\n\t"name": "a",\r\n\t"x": { "dependencies": {} }\r\n}\r\n'), '{\r\n\t"name": "a",\r\n\t"x": { "dependencies": {} },\r\n\t"dependencies": {\r\n\t\t"attention-forge": "file:vendor/x.tgz"\r\n\t}\r\n}\r\n');
    // Empty objects.
    assert.equal(add('{\n  "dependencies": {}\n}'), '{\n  "dependencies": {\n    "attention-forge": "file:vendor/x.tgz"\n  }\n}');
    assert.equal(add('{}'), '{\n  "dependencies": {\n    "attention-forge": "file:vendor/x.tgz"\n  }\n}');
    // One-line dependencies stay on one line.
    assert.equal(add('{"dependencies": {"a": "1"}}'), '{"dependencies": {"a": "1", "attention-forge": "file:vendor/x.tgz"}}');
    // A dependencies value that is not an object is not edited.
    assert.equal(addDependency('{"dependencies": []}', 'attention-forge', spec), undefined);
  });

  it('knows which code needs the runtime and where Node looks for it', function () {
    assert.ok(importsRuntime("import { nn, type Tensor } from 'attention-forge/runtime';"));
    assert.ok(!importsRuntime('import torch'));
    assert.deepEqual(ancestorFolders('/w/app/src/model.ts'), ['/w/app/src', '/w/app', '/w', '/']);
  });
});

describe('runtime dependency: a fresh TypeScript project, end to end', function () {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'af-runtime-dep-'));
  const proj = path.join(tmp, 'user-app');
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  function run(cmd: string, args: string[]): string {
    const r = spawnSync(cmd, args, { cwd: proj, encoding: 'utf8', env: { ...process.env, npm_config_loglevel: 'error', npm_config_fund: 'false', npm_config_audit: 'false', npm_config_update_notifier: 'false' } });
    assert.equal(r.status, 0, `${cmd} ${args.join(' ')} (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  }

  /** What RuntimeSetup.plan gathers in the editor, read from the disk. */
  function projectFacts(docPath: string): ProjectFacts {
    const dirs = ancestorFolders(docPath);
    const installed = dirs.some((d) => fs.existsSync(path.join(d, 'node_modules', RUNTIME_PACKAGE, 'package.json')));
    const pj = dirs.map((d) => path.join(d, 'package.json')).find((p) => p.startsWith(proj) && fs.existsSync(p));
    return { docPath, fallbackDir: proj, runtimeInstalled: installed, version: VERSION, ...(pj ? { packageJson: { path: pj, text: fs.readFileSync(pj, 'utf8') } } : {}) };
  }

  it('the planned edits make a generated twin install, compile under tsc --strict and run with its contract shapes', function () {
    const tarball = path.join(REPO, BUNDLED_RUNTIME_TARBALL);
    assert.ok(fs.existsSync(tarball), `${BUNDLED_RUNTIME_TARBALL} missing: run npm run build`);
    assert.ok(!proj.startsWith(REPO));
    fs.mkdirSync(path.join(proj, 'src'), { recursive: true });
    // A project as `npm init -y` and a hand-written tsconfig leave it.
    const pkgText = '{\n  "name": "user-app",\n  "version": "1.0.0",\n  "private": true,\n  "scripts": {\n    "build": "tsc -p ."\n  }\n}\n';
    fs.writeFileSync(path.join(proj, 'package.json'), pkgText);
    fs.writeFileSync(path.join(proj, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, target: 'ES2022', lib: ['ES2022', 'DOM'], types: [], module: 'node16', moduleResolution: 'node16', outDir: 'out', rootDir: 'src', noUnusedLocals: true } }));

    const blocks = ['multihead-attention', 'cbam'];
    const main: string[] = ["import { Generator, randn, type Tensor } from 'attention-forge/runtime';"];
    const body: string[] = ['declare const process: { stdout: { write(s: string): void } };', 'const shapes: Record<string, number[][]> = {};'];
    const expected: Record<string, number[][]> = {};
    let plan: RuntimePlan | undefined;
    for (const id of blocks) {
      const b = getBlock(id)!;
      const values = Object.fromEntries(blockEntry(b).params.map((f) => [f.name, f.defaultText]));
      const e = evaluateChoice({ blockId: id, values, language: 'typescript' });
      assert.ok(e.code, e.issues.map((i) => i.message).join('; '));
      // Inserted at the end of an existing file of the user's, as the editor's insertion does.
      const file = path.join(proj, 'src', `${id.replace(/-/g, '_')}.ts`);
      const existing = 'export const owner = "user";\n';
      const lines = existing.split('\n');
      const edits = planInsertion(existing, e.code, { line: lines.length - 1, character: 0 }, 'typescript');
      fs.writeFileSync(file, applyInsertions(existing, edits));
      assert.ok(importsRuntime(e.code));
      plan ??= planRuntimeDependency(projectFacts(file));
      const cls = [...e.code.matchAll(/^export class (\w+) extends nn\.Module/gm)].map((m) => m[1]).pop()!;
      const p = defaults(b);
      const c = b.contract(p);
      const s = concreteShapes(b, p);
      const args = c.inputs.map((t) => (t.optional ? 'null' : `randn(${JSON.stringify(s.inputs[t.name])}, g)`));
      main.push(`import { ${cls} } from './${path.basename(file, '.ts')}.js';`);
      body.push(`{ const g = new Generator(0); const m = new ${cls}(); m.eval(); const out = m.forward(${args.join(', ')}); shapes[${JSON.stringify(id)}] = (Array.isArray(out) ? out : [out]).map((t: Tensor) => [...t.shape]); }`);
      expected[id] = c.outputs.map((o) => s.outputs[o.name]);
    }
    body.push('process.stdout.write(JSON.stringify(shapes));');
    fs.writeFileSync(path.join(proj, 'src', 'main.ts'), [...main, ...body].join('\n') + '\n');

    // The offer, applied as the extension applies it.
    const o = offer(plan!);
    assert.equal(o.packageJson, path.join(proj, 'package.json'));
    fs.mkdirSync(path.dirname(o.tarball), { recursive: true });
    fs.copyFileSync(tarball, o.tarball);
    assert.ok('insert' in o.packageJsonEdit);
    fs.writeFileSync(o.packageJson, applyInsertions(pkgText, o.packageJsonEdit.insert));
    assert.equal((JSON.parse(fs.readFileSync(o.packageJson, 'utf8')) as { dependencies: Record<string, string> }).dependencies[RUNTIME_PACKAGE], `file:vendor/attention-forge-runtime-${VERSION}.tgz`);

    // The one command the user runs; offline: the tarball is all it needs.
    run('npm', ['install', '--offline', '--ignore-scripts']);
    assert.equal(planRuntimeDependency(projectFacts(path.join(proj, 'src', 'main.ts'))).kind, 'present');
    // The runtime alone: no CLI, no parser.
    const installed = JSON.parse(fs.readFileSync(path.join(proj, 'node_modules', RUNTIME_PACKAGE, 'package.json'), 'utf8')) as { bin?: unknown; exports: Record<string, unknown> };
    assert.equal(installed.bin, undefined);
    assert.deepEqual(Object.keys(installed.exports), ['./runtime', './package.json']);

    run(process.execPath, [TSC, '-p', 'tsconfig.json']);
    const got = JSON.parse(run(process.execPath, ['out/main.js'])) as Record<string, number[][]>;
    assert.deepEqual(got, expected);
  });
});
