/**
 * *Preview module* for TypeScript files, without an editor: which classes get a lens
 * (`tsModuleClasses`), what their constructors take and which input shape their doc comment
 * states (`ts-module-source.ts`), and the run (`ts-module-run.ts`) over user-style files in
 * test/fixtures/ts-modules/ — a ViT attention written against `attention-forge/runtime`, and a
 * tiny ViT importing it and a helper from sibling files — in process and on the module thread
 * (the built dist/module-worker.js; `npm run build` first). The failures name the file and line:
 * a syntax error, an npm import, a constructor argument without default, an exception in forward.
 * Every catalog block's generated TypeScript gets its lens, a shape from its doc comment, and runs.
 */

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { allBlocks } from '../../src/blocks/catalog';
import { generateTypeScript } from '../../src/codegen/typescript';
import { Cancelled, request, runModuleInWorker } from '../../src/extension/module-runner';
import { loadTsModule, runTsModulePreview } from '../../src/extension/ts-module-run';
import { constructorParameters, guessTsInputShape, parseTsArguments, requiredParameters, tsModuleClasses } from '../../src/extension/ts-module-source';
import { Generator, nn, randn } from '../../src/runtime/index';

const FIXTURES = path.resolve(__dirname, '../fixtures/ts-modules');
const SCRIPT = path.resolve(__dirname, '../../dist/module-worker.js');

function fixture(name: string): { source: string; path: string; file: string } {
  const p = path.join(FIXTURES, name);
  return { source: fs.readFileSync(p, 'utf8'), path: p, file: `models/${name}` };
}

/** Rows of a softmax map: every row of every item and head sums to 1, every weight in [0, 1]. */
function assertRowsAreDistributions(data: Float32Array, S: number): void {
  for (let r = 0; r < data.length / S; r++) {
    let sum = 0;
    for (let j = 0; j < S; j++) {
      const w = data[r * S + j];
      assert.ok(w >= 0 && w <= 1, `weight ${w} outside [0, 1]`);
      sum += w;
    }
    assert.ok(Math.abs(sum - 1) < 1e-5, `row ${r} sums to ${sum}`);
  }
}

describe('Preview module for TypeScript: the source', function () {
  it('finds the classes that extend the runtime nn.Module, directly, through a runtime layer or a class of the file', function () {
    const source = [
      "import { nn as N, type Tensor } from 'attention-forge/runtime';", // 1
      "import * as rt from '../src/runtime/index';",
      '',
      'export class Block<T extends { a: number }> extends N.Module {', // 4
      '  forward(x: Tensor): Tensor { return x; }',
      '}',
      'class Wide extends Deep {}', // 7: its base comes later in the file
      'abstract class Deep extends Block<{ a: 1 }> {}', // 8
      'class Lin extends rt.nn.Linear {}', // 9
      'class NotAModule extends Map {}',
      'class Options extends rt.Generator {}',
      '// class Commented extends N.Module {}',
      "const s = 'class InString extends N.Module {}';",
    ].join('\n');
    assert.deepEqual(
      tsModuleClasses(source).map((c) => [c.line, c.className, c.base]),
      [
        [4, 'Block', 'N.Module'],
        [7, 'Wide', 'Deep'],
        [8, 'Deep', 'Block'],
        [9, 'Lin', 'rt.nn.Linear'],
      ],
    );
    // A class named like the runtime's but not imported from it is not one.
    assert.deepEqual(tsModuleClasses("import { nn } from 'torchjs';\nclass A extends nn.Module {}\n"), []);
    assert.deepEqual(tsModuleClasses(fixture('tiny_vit.ts').source).map((c) => [c.line, c.className]), [[7, 'TinyViT']]);
  });

  it('reads constructor parameters: names, defaults, optional ones and the factory options', function () {
    const source = 'class A extends nn.Module {\n  constructor(private readonly dim: number, m: Map<string, number> = new Map(), f = (a: number) => a >= 2, opt?: number, { generator }: nn.FactoryOptions = {}, o: nn.FactoryOptions & { bias?: boolean } = {}, ...rest: number[]) { super(); }\n  other(constructor: number) {}\n}\nclass B extends A {}\n';
    const params = constructorParameters(source, 'A')!;
    assert.deepEqual(
      params.map((p) => [p.name, p.defaultText, p.optional, p.factoryOptions]),
      [
        ['dim', undefined, false, false],
        ['m', 'new Map()', false, false],
        ['f', '(a: number) => a >= 2', false, false],
        ['opt', undefined, true, false],
        [undefined, '{}', false, true],
        ['o', '{}', false, true],
        ['rest', undefined, true, false],
      ],
    );
    assert.deepEqual(requiredParameters(params), ['dim']);
    assert.deepEqual(constructorParameters(source, 'B'), [], 'no constructor of its own');
    assert.equal(constructorParameters(source, 'C'), undefined);
  });

  it('offers the input shape the doc comment states, sizes named by constructor parameters read from them', function () {
    const vit = fixture('vit_attention.ts').source;
    assert.deepEqual(guessTsInputShape(vit, 'Attention'), [[2, 16, 64]]);
    assert.deepEqual(guessTsInputShape(vit, 'Attention', new Map([['dim', 32]])), [[2, 16, 32]]);
    assert.deepEqual(guessTsInputShape(fixture('tiny_vit.ts').source, 'TinyViT'), [[2, 3, 16, 16]]);
    assert.equal(guessTsInputShape(fixture('needs_args.ts').source, 'Projection'), undefined, 'no shape comment');
    assert.equal(guessTsInputShape('/** - x: (B, H * W, C) */\nclass A extends nn.Module {}', 'A'), undefined, 'an expression is not guessed');
  });

  it("reads the constructor-arguments box in TypeScript's spelling", function () {
    assert.deepEqual(parseTsArguments('dim=64 causal=true name="q" window=7,7 none=null r=1e-3 empty=[]'), new Map<string, unknown>([['dim', 64], ['causal', true], ['name', 'q'], ['window', [7, 7]], ['none', null], ['r', 1e-3], ['empty', []]]));
    assert.equal(parseTsArguments('dim'), undefined);
    assert.equal(parseTsArguments('dim=True'), undefined);
  });
});

describe('Preview module for TypeScript: the run', function () {
  it("runs a user's ViT attention: the tracer's layers and its per-head attention maps", function () {
    const f = fixture('vit_attention.ts');
    const m = runTsModulePreview({ ...f, className: 'Attention', shapes: [[2, 10, 64]] });
    assert.equal(m.error, undefined, m.error);
    assert.deepEqual(
      m.layers.map((l) => [l.path, l.type, l.depth, l.outputShapes, l.params]),
      [
        ['Attention', 'Attention', 0, [[2, 10, 64]], 64 * 192 + 64 * 64 + 64],
        ['qkv', 'Linear', 1, [[2, 10, 192]], 64 * 192],
        ['proj', 'Linear', 1, [[2, 10, 64]], 64 * 64 + 64],
      ],
    );
    assert.deepEqual(m.outputs, [{ name: 'output', shape: [2, 10, 64] }]);
    // FLOPs from the kernels' own rules: the two projections' and attention's matmuls (2 per multiply–add) are in the total.
    assert.ok(m.totalFlops >= 2 * (2 * 10 * 64 * 192 + 2 * 10 * 64 * 64 + 2 * 2 * 8 * 10 * 10 * 8), `${m.totalFlops} FLOPs`);
    assert.equal(m.layers[0].flops, m.totalFlops, 'the module row is the total');
    assert.equal(m.maps?.length, 1);
    const map = m.maps![0];
    assert.deepEqual([map.path, map.source, map.shape, map.items, map.heads, map.L, map.S], ['Attention', 'softmax', [2, 8, 10, 10], 2, 8, 10, 10]);
    assert.equal(map.data!.length, 2 * 8 * 10 * 10);
    assertRowsAreDistributions(map.data!, 10);
  });

  it('captures the same maps the class computes when the test builds and runs it itself', function () {
    const f = fixture('vit_attention.ts');
    const m = runTsModulePreview({ ...f, className: 'Attention', shapes: [[1, 5, 16]], kwargs: new Map<string, unknown>([['dim', 16], ['num_heads', 2]]), seed: 7 });
    assert.equal(m.error, undefined, m.error);
    // The same build and input drawn the way the preview draws them (its generator: parameters first, then the input).
    const gen = new Generator(7);
    const { module } = loadTsModule({ ...f, className: 'Attention', kwargs: new Map<string, unknown>([['dim', 16], ['num_heads', 2]]), generator: gen });
    const a = module as nn.Module & { qkv: nn.Linear; scale: number };
    const x = randn([1, 5, 16], gen);
    const [q, k] = a.qkv.forward(x).reshape(1, 5, 3, 2, 8).permute(2, 0, 3, 1, 4).unbind(0);
    const want = q.matmul(k.transpose(-2, -1)).mul(a.scale).softmax(-1).dataSync();
    assert.deepEqual(m.maps![0].shape, [1, 2, 5, 5]);
    assert.deepEqual([...m.maps![0].data!], [...want]);
  });

  it('follows relative imports: a tiny ViT built from a sibling attention file and a helper file', function () {
    const f = fixture('tiny_vit.ts');
    const m = runTsModulePreview({ ...f, className: 'TinyViT', shapes: [[2, 3, 16, 16]], kwargs: new Map([['dim', 16]]) });
    assert.equal(m.error, undefined, m.error);
    assert.deepEqual(
      m.layers.map((l) => [l.path, l.type, l.outputShapes]),
      [
        ['TinyViT', 'TinyViT', [[2, 17, 16]]],
        ['patch_embed', 'PatchEmbed', [[2, 16, 16]]],
        ['patch_embed.proj', 'Conv2d', [[2, 16, 4, 4]]],
        ['blocks.0', 'Attention', [[2, 17, 16]]],
        ['blocks.0.qkv', 'Linear', [[2, 17, 48]]],
        ['blocks.0.proj', 'Linear', [[2, 17, 16]]],
        ['blocks.1', 'Attention', [[2, 17, 16]]],
        ['blocks.1.qkv', 'Linear', [[2, 17, 48]]],
        ['blocks.1.proj', 'Linear', [[2, 17, 16]]],
        ['norm', 'LayerNorm', [[2, 17, 16]]],
      ],
    );
    // One map per block: the class token and 16 patches, 2 heads.
    assert.deepEqual(m.maps?.map((x) => [x.path, x.shape, x.heads]), [
      ['blocks.0', [2, 2, 17, 17], 2],
      ['blocks.1', [2, 2, 17, 17], 2],
    ]);
    for (const map of m.maps!) assertRowsAreDistributions(map.data!, 17);
    assert.notDeepEqual([...m.maps![0].data!.slice(0, 17)], [...m.maps![1].data!.slice(0, 17)], 'each block has weights of its own');
    // The parameters come from the preview's seeded generator: the same seed, the same maps; another, others.
    const again = runTsModulePreview({ ...f, className: 'TinyViT', shapes: [[2, 3, 16, 16]], kwargs: new Map([['dim', 16]]) });
    assert.deepEqual([...again.maps![1].data!], [...m.maps![1].data!]);
    const other = runTsModulePreview({ ...f, className: 'TinyViT', shapes: [[2, 3, 16, 16]], kwargs: new Map([['dim', 16]]), seed: 1 });
    assert.notDeepEqual([...other.maps![1].data!.slice(0, 17)], [...m.maps![1].data!.slice(0, 17)]);
  });

  it('resolves a relative import of the runtime source to the runtime it traces with', function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'af-ts-rt-'));
    try {
      const runtimeDir = path.resolve(__dirname, '../../src/runtime');
      const file = path.join(dir, 'gate.ts');
      const rel = path.relative(dir, runtimeDir).split(path.sep).join('/');
      const source = `import { nn, type Tensor } from '${rel}';\nimport { Linear } from '${rel}/nn';\n\nexport class Gate extends nn.Module {\n  fc = new Linear(4, 4);\n  forward(x: Tensor): Tensor {\n    return this.fc.forward(x).sigmoid().mul(x);\n  }\n}\n`;
      const m = runTsModulePreview({ source, file: 'gate.ts', path: file, className: 'Gate', shapes: [[2, 4]] });
      assert.equal(m.error, undefined, m.error);
      assert.deepEqual(m.layers.map((l) => [l.path, l.type]), [['Gate', 'Gate'], ['fc', 'Linear']], 'the tracer sees the runtime Linear');
      const deep = runTsModulePreview({ source: `import { zeros } from '${rel}/tensor';\nimport { nn, type Tensor } from '${rel}';\nexport class T extends nn.Module { forward(x: Tensor) { return x.add(zeros([1])); } }\n`, file: 'gate.ts', path: file, className: 'T', shapes: [[1]] });
      assert.match(deep.error ?? '', /^gate\.ts:1: imports '.*\/runtime\/tensor', a file inside the runtime's source/);
      // The user's own file named runtime.ts is theirs, followed like any other.
      fs.writeFileSync(path.join(dir, 'runtime.ts'), 'export const width = 6;\n');
      const own = runTsModulePreview({ source: "import { nn, type Tensor } from 'attention-forge/runtime';\nimport { width } from './runtime';\nexport class W extends nn.Module {\n  fc = new nn.Linear(width, 2);\n  forward(x: Tensor): Tensor { return this.fc.forward(x); }\n}\n", file: 'w.ts', path: path.join(dir, 'w.ts'), className: 'W', shapes: [[1, 6]] });
      assert.equal(own.error, undefined, own.error);
      assert.deepEqual(own.outputs, [{ name: 'output', shape: [1, 2] }]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the file and line of a syntax error', function () {
    const f = fixture('invalid/broken_syntax.ts');
    const m = runTsModulePreview({ ...f, className: 'Broken', shapes: [[2, 3]] });
    assert.equal(m.error, 'models/invalid/broken_syntax.ts:5:18: syntax error: Unexpected token');
    assert.deepEqual(m.layers, []);
    // In an imported file, the imported file's name.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'af-ts-syntax-'));
    try {
      fs.writeFileSync(path.join(dir, 'helper.ts'), 'export const k = 1;\nexport const j = ;\n');
      const entry = path.join(dir, 'main.ts');
      const r = runTsModulePreview({ source: "import { nn } from 'attention-forge/runtime';\nimport { k } from './helper';\nexport class M extends nn.Module { forward() { return k; } }\n", file: 'src/main.ts', path: entry, className: 'M', shapes: [[1]] });
      assert.equal(r.error, 'src/helper.ts:2:18: syntax error: Unexpected token');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the file and line of an import it cannot load, before running anything', function () {
    const f = fixture('invalid/npm_import.ts');
    const m = runTsModulePreview({ ...f, className: 'UsesLodash', shapes: [[2, 3]] });
    assert.equal(m.error, "models/invalid/npm_import.ts:2: imports 'lodash', which the preview cannot load: it runs attention-forge/runtime and the workspace's own files (relative imports), no other package.");
    const missing = runTsModulePreview({ source: "import { nn } from 'attention-forge/runtime';\n\nimport { X } from './nowhere';\nexport class M extends X {}\n", file: 'models/m.ts', path: path.join(FIXTURES, 'm.ts'), className: 'M', shapes: [[1]] });
    assert.equal(missing.error, "models/m.ts:3: imports './nowhere', and no such file is there.");
    const unsaved = runTsModulePreview({ source: "import { A } from './vit_attention';\nexport class M extends A {}\n", file: 'Untitled-1', className: 'M', shapes: [[1]] });
    assert.equal(unsaved.error, "Untitled-1:1: imports './vit_attention': save the file first, so its relative imports can be found.");
    // A module-level statement that would have run first never did: the check is before any code runs.
    const side = runTsModulePreview({ source: "globalThis.__ranBeforeCheck = true;\nimport 'left-pad';\n", file: 's.ts', className: 'S', shapes: [[1]] });
    assert.match(side.error ?? '', /^s\.ts:2: imports 'left-pad'/);
    assert.equal((globalThis as Record<string, unknown>).__ranBeforeCheck, undefined);
  });

  it('names the constructor arguments that have no default and were not given, and runs with them given', function () {
    const f = fixture('needs_args.ts');
    const m = runTsModulePreview({ ...f, className: 'Projection', shapes: [[2, 3]] });
    assert.equal(m.error, "models/needs_args.ts:3: Projection's constructor needs in_dim, out_dim (no default): give them as in_dim=… out_dim=… in the constructor arguments.");
    const wrong = runTsModulePreview({ ...f, className: 'Projection', shapes: [[2, 3]], kwargs: new Map([['in_dim', 3], ['out_dims', 5]]) });
    assert.equal(wrong.error, "models/needs_args.ts:3: Projection's constructor has no parameter 'out_dims' (it takes in_dim, out_dim, bias).");
    const ok = runTsModulePreview({ ...f, className: 'Projection', shapes: [[2, 3]], kwargs: new Map<string, unknown>([['in_dim', 3], ['out_dim', 5], ['bias', false]]) });
    assert.equal(ok.error, undefined, ok.error);
    assert.deepEqual(ok.layers.map((l) => [l.path, l.outputShapes, l.params]), [['Projection', [[2, 5]], 15], ['proj', [[2, 5]], 15]]);
  });

  it("names the user's line where forward fails, and a class that is not there or not a module", function () {
    const f = fixture('needs_args.ts');
    const m = runTsModulePreview({ ...f, className: 'Mismatch', shapes: [[2, 8]] });
    assert.equal(m.error, 'models/needs_args.ts:21: RuntimeError: mat1 and mat2 shapes cannot be multiplied (2x4 and 2x8)');
    assert.equal(runTsModulePreview({ ...f, className: 'Nope', shapes: [[1]] }).error, 'models/needs_args.ts: no top-level class Nope.');
    const plain = runTsModulePreview({ source: 'export class P { forward() {} }\n', file: 'p.ts', className: 'P', shapes: [[1]] });
    assert.equal(plain.error, "p.ts:1: P does not extend the runtime's nn.Module (import it from attention-forge/runtime).");
    const thrown = runTsModulePreview({ source: "import { nn } from 'attention-forge/runtime';\nexport class T extends nn.Module {\n  constructor() {\n    super();\n    throw new TypeError('no');\n  }\n  forward() {}\n}\n", file: 't.ts', className: 'T', shapes: [[1]] });
    assert.equal(thrown.error, 't.ts:5: TypeError: no');
  });

  it("previews every catalog block's generated TypeScript: a lens, a shape from its doc comment, a run", function () {
    for (const block of allBlocks()) {
      const source = generateTypeScript(block, {});
      const classes = tsModuleClasses(source);
      assert.ok(classes.length >= 1, `${block.id}: no lens`);
      const main = classes[classes.length - 1];
      const shapes = guessTsInputShape(source, main.className);
      assert.ok(shapes, `${block.id}: no shape from the doc comment`);
      const m = runTsModulePreview({ source, file: `${block.id}.ts`, className: main.className, shapes });
      assert.equal(m.error, undefined, `${block.id}: ${m.error}`);
      assert.equal(m.layers[0].path, main.className);
      assert.deepEqual(m.layers[0].outputShapes, m.outputs.map((o) => o.shape), block.id);
    }
  });
});

describe('Preview module for TypeScript: on the module thread', function () {
  before(function () {
    assert.ok(fs.existsSync(SCRIPT), 'dist/module-worker.js missing: run npm run build');
  });

  it('gives the message the in-process run gives, arguments and a checkpoint crossing intact', async function () {
    const f = fixture('tiny_vit.ts');
    const here = runTsModulePreview({ ...f, className: 'TinyViT', shapes: [[1, 3, 16, 16]], kwargs: new Map([['dim', 8]]) });
    const there = await runModuleInWorker({ script: SCRIPT }, { ...request(f.source, f.file, 'TinyViT', [[1, 3, 16, 16]], 0, { path: f.path, kwargs: new Map([['dim', 8]]) }), language: 'typescript' });
    assert.equal(there.error, undefined, there.error);
    assert.deepEqual(there.layers, here.layers);
    assert.deepEqual([...there.maps![1].data!], [...here.maps![1].data!], 'the same seeded values');
    const weights = { file: 'norm.pt', tensors: new Map([['norm.weight', randn([8], new Generator(3))]]) };
    const loaded = await runModuleInWorker({ script: SCRIPT }, { ...request(f.source, f.file, 'TinyViT', [[1, 3, 16, 16]], 0, { path: f.path, kwargs: new Map([['dim', 8]]) }, weights), language: 'typescript' });
    assert.equal(loaded.error, undefined, loaded.error);
    assert.equal(loaded.weights?.file, 'norm.pt');
    assert.deepEqual(loaded.weights?.unexpected, []);
    assert.ok(loaded.weights!.missing.includes('norm.bias') && !loaded.weights!.missing.includes('norm.weight'));
  });

  it("ends a run at Cancel, whatever the user's TypeScript is doing", async function () {
    const source = "import { nn, type Tensor } from 'attention-forge/runtime';\nexport class Spin extends nn.Module {\n  forward(x: Tensor): Tensor {\n    for (;;) {}\n    return x;\n  }\n}\n";
    let cancel: (() => void) | undefined;
    const token = { onCancellationRequested: (f: () => void) => (cancel = f) };
    const run = runModuleInWorker({ script: SCRIPT }, { ...request(source, 'spin.ts', 'Spin', [[1, 4]], 0, {}), language: 'typescript' }, token);
    setTimeout(() => cancel!(), 50);
    await assert.rejects(run, Cancelled);
  });

  it('reports a run that outgrows the heap ceiling as a message, not a crash', async function () {
    const source = "import { nn, type Tensor } from 'attention-forge/runtime';\nexport class Hoard extends nn.Module {\n  forward(x: Tensor): Tensor {\n    const kept: number[][] = [];\n    for (;;) kept.push(new Array(1 << 16).fill(1));\n    return x;\n  }\n}\n";
    const m = await runModuleInWorker({ script: SCRIPT, maxHeapMb: 64 }, { ...request(source, 'hoard.ts', 'Hoard', [[1, 4]], 0, {}), language: 'typescript' });
    assert.match(m.error ?? '', /^Hoard with these inputs needs more memory than the preview allows \(64 MiB\)/);
  });
});
