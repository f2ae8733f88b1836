/**
 * The interpreter (`src/interpret/`) against reality: user-style modules of
 * test/fixtures/user-modules/ are built and run in real torch 1.13 and 2.6
 * (`scripts/torch/user_modules.py`: fixed seed, perturbed parameters, the
 * state_dict saved with torch.save, inputs and outputs as safetensors; Python
 * or torch missing fails the suite, it is not skipped), then run here through
 * `attention-forge run --module … --weights <the .pt>` and compared with
 * torch's outputs within the whole-block bound (assert_close's float32 bound,
 * 1e-5 + 1.3e-6·|expected|). The rest needs no torch: an unsupported construct
 * stops with one `file:line` message and exit 1, a Python exception in the
 * user's code is reported at its line, unbounded loops and recursion end at
 * the step and depth bounds, and command-line mistakes exit 2.
 */

import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { run } from '../../src/cli/main';
import { InterpretError, loadUserModule, moduleClasses, moveValue, runFile, UserModule } from '../../src/interpret/index';
import { cpuReference, parseSafetensors, randn, Generator, tensor, type Tensor } from '../../src/runtime/index';
import { closeness } from '../helpers/goldens';
import { pythonCommand, TORCH_VERSIONS } from '../helpers/torch';

const FIXTURES = path.resolve(__dirname, '../fixtures/user-modules');
const SCRIPT = path.resolve(__dirname, '../../scripts/torch/user_modules.py');

interface Case {
  id: string;
  file: string;
  className: string;
  init: Record<string, number | boolean>;
  inputs: (number[] | { shape: number[]; dtype?: string; fill?: string })[];
  seed: number;
}

const CASES: Case[] = [
  { id: 'vit', file: 'vit_attention.py', className: 'Attention', init: { dim: 64, num_heads: 4, qkv_bias: true }, inputs: [[2, 10, 64]], seed: 1 },
  { id: 'se', file: 'se_block.py', className: 'SEBlock', init: { channels: 32, reduction: 4 }, inputs: [[2, 32, 5, 7]], seed: 2 },
  { id: 'causal', file: 'causal_self_attention.py', className: 'CausalSelfAttention', init: {}, inputs: [[2, 12, 48]], seed: 3 },
  { id: 'encoder', file: 'encoder_layer.py', className: 'Encoder', init: { depth: 2 }, inputs: [[2, 7, 32]], seed: 4 },
  { id: 'sagan', file: 'sagan_attention.py', className: 'SelfAttn', init: {}, inputs: [[2, 16, 6, 5]], seed: 5 },
  { id: 'rope', file: 'complex_rope_attention.py', className: 'RopeAttention', init: {}, inputs: [[2, 12, 32]], seed: 8 },
  { id: 'config', file: 'config_encoder.py', className: 'ConfigEncoder', init: { depth: 2 }, inputs: [[2, 12, 32]], seed: 7 },
  { id: 'upsample', file: 'upsample_attention.py', className: 'TopKAttention', init: {}, inputs: [[2, 8, 5, 6]], seed: 9 },
  { id: 'local', file: 'local_window_attention.py', className: 'LocalWindowAttention', init: {}, inputs: [[2, 16, 6, 5]], seed: 10 },
  { id: 'mixed', file: 'mixed_idioms.py', className: 'Mixer', init: { dim: 24, heads: 3 }, inputs: [[2, 8, 24], { shape: [2, 8], dtype: 'bool', fill: 'padding' }], seed: 6 },
];

async function cli(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(args, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join(''), err: err.join('') };
}

function initArgs(init: Record<string, number | boolean>): string[] {
  return Object.entries(init).flatMap(([k, v]) => ['--init', `${k}=${typeof v === 'boolean' ? (v ? 'True' : 'False') : v}`]);
}

for (const version of TORCH_VERSIONS) {
  describe(`user modules against torch ${version}`, function () {
    let dir: string;
    let torchVersion: string;

    before(function () {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'af-interpret-'));
      const cases = CASES.map((c) => ({ ...c, file: path.join(FIXTURES, c.file) }));
      fs.writeFileSync(path.join(dir, 'cases.json'), JSON.stringify(cases));
      const [cmd, args] = pythonCommand(version, SCRIPT, [path.join(dir, 'cases.json'), path.join(dir, 'out')]);
      const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, PYTHONWARNINGS: 'ignore' } });
      assert.equal(r.status, 0, `user_modules.py in torch ${version} failed: ${r.stderr || r.error?.message}\nRun scripts/setup/torch.sh to install torch.`);
      torchVersion = (JSON.parse(fs.readFileSync(path.join(dir, 'out/results.json'), 'utf8')) as { torch: string }).torch;
    });
    after(function () {
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('runs the torch that was asked for', function () {
      assert.ok(torchVersion.startsWith(version), `expected torch ${version}, got ${torchVersion}`);
    });

    for (const c of CASES) {
      it(`${c.file}:${c.className} computes torch's output from torch's .pt weights`, async function () {
        const io = path.join(dir, 'out', `${c.id}.io.safetensors`);
        const outFile = path.join(dir, `${c.id}.out.safetensors`);
        const r = await cli('run', '--module', `${path.join(FIXTURES, c.file)}:${c.className}`, ...initArgs(c.init), '--weights', path.join(dir, 'out', `${c.id}.pt`), '--input', io, '--output', outFile);
        assert.equal(r.code, 0, r.err);
        assert.equal(r.err, '', 'strict load: no missing or unexpected keys');
        assert.match(r.out, new RegExp(`^\\S+:${c.className} on cpu, seed 0, weights `));
        const want = parseSafetensors(fs.readFileSync(io));
        const got = parseSafetensors(fs.readFileSync(outFile));
        const expected = [...want.keys()].filter((k) => k.startsWith('output'));
        assert.deepEqual([...got.keys()].filter((k) => !k.startsWith('attn.')), expected.length === 1 ? ['output'] : expected, 'output names');
        for (const [i, k] of expected.entries()) {
          const actual = got.get(expected.length === 1 ? 'output' : k)!;
          assert.deepEqual([...actual.shape], [...want.get(k)!.shape], `${k} shape`);
          const worst = closeness(actual.dataSync(), want.get(k)!.dataSync());
          assert.ok(worst <= 1, `${c.id} output ${i}: worst |Δ| / (1e-5 + 1.3e-6·|torch|) = ${worst.toFixed(3)} > 1`);
        }
      });
    }

    if (version === '2.6') {
      // The same runs on WebGPU (Dawn on lavapipe, the built CLI in its own process): the module is
      // built and loaded on the CPU, then moved. Bound: 1e-3 of the output's scale, as the
      // real-style corpus on WebGPU; the captured maps must equal the CPU run's.
      it("runs every user module on WebGPU from torch's .pt weights with torch's outputs, and the CPU run's attention maps", function () {
        const CLI = path.resolve(__dirname, '../../dist/cli.js');
        const rows: string[] = [];
        for (const c of CASES) {
          const io = path.join(dir, 'out', `${c.id}.io.safetensors`);
          const outs = (['webgpu', 'cpu'] as const).map((backend) => {
            const outFile = path.join(dir, `${c.id}.${backend}.safetensors`);
            const r = spawnSync(process.execPath, [CLI, 'run', '--module', `${path.join(FIXTURES, c.file)}:${c.className}`, ...initArgs(c.init), '--weights', path.join(dir, 'out', `${c.id}.pt`), '--input', io, '--output', outFile, '--force', '--backend', backend], { encoding: 'utf8' });
            assert.equal(r.status, 0, `${c.id} on ${backend}: ${r.stderr}`);
            assert.match(r.stdout, new RegExp(`:${c.className} on ${backend}, seed 0, weights `));
            return parseSafetensors(fs.readFileSync(outFile));
          });
          const [gpu, cpuOut] = outs;
          const want = parseSafetensors(fs.readFileSync(io));
          const expected = [...want.keys()].filter((k) => k.startsWith('output'));
          let worst = 0;
          for (const k of expected) {
            const a = gpu.get(expected.length === 1 ? 'output' : k)!.dataSync();
            const b = want.get(k)!.dataSync();
            const scale = Math.max(1, ...Array.from(b, Math.abs));
            for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / (1e-3 * scale));
          }
          const maps = [...cpuOut.keys()].filter((k) => k.startsWith('attn.'));
          assert.deepEqual([...gpu.keys()].filter((k) => k.startsWith('attn.')), maps, `${c.id}: the maps captured`);
          for (const k of maps) {
            const a = gpu.get(k)!.dataSync();
            const b = cpuOut.get(k)!.dataSync();
            for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / 1e-3);
          }
          rows.push(`${c.id} ${worst.toExponential(1)} (${maps.length} maps)`);
          assert.ok(worst <= 1, `${c.id}: worst |Δ| / bound = ${worst.toFixed(3)} > 1`);
        }
        console.log(`      worst |Δ| / bound per module on WebGPU: ${rows.join(', ')}`);
      });
    }

    it('lists torch-worded size mismatches when the weights come from another configuration (exit 1)', async function () {
      const r = await cli('run', '--module', path.join(FIXTURES, 'vit_attention.py'), '--init', 'dim=32', '--init', 'num_heads=4', '--weights', path.join(dir, 'out', 'vit.pt'), '--input', '2,10,32');
      assert.equal(r.code, 1);
      assert.match(r.err, /^attention-forge run: Error\(s\) in loading state_dict for Attention:/);
      assert.match(r.err, /Unexpected key\(s\) in state_dict: "qkv\.bias"/);
      assert.match(r.err, /size mismatch for qkv\.weight: copying a param with shape torch\.Size\(\[192, 64\]\) from checkpoint, the shape in current model is torch\.Size\(\[96, 32\]\)/);
    });

    it('names the missing and unexpected keys with --no-strict and runs', async function () {
      const r = await cli('run', '--module', path.join(FIXTURES, 'vit_attention.py'), '--init', 'dim=64', '--init', 'num_heads=4', '--weights', path.join(dir, 'out', 'vit.pt'), '--no-strict', '--input', '2,10,64');
      assert.equal(r.code, 0, r.err);
      assert.equal(r.err, 'attention-forge run: unexpected key(s) in state_dict, ignored: "qkv.bias"\n');
    });
  });
}

// torchvision's installed model code (Debian's python3-torchvision, beside torch 1.13), read in
// place: its relative imports are followed into the package, as the editor follows them.
const TORCHVISION_VIT = '/usr/lib/python3/dist-packages/torchvision/models/vision_transformer.py';

describe("torchvision's installed vision_transformer.py against torch 1.13", function () {
  let dir: string;
  const c = { id: 'tv-encoder', module: 'torchvision.models.vision_transformer', file: TORCHVISION_VIT, className: 'EncoderBlock', init: { num_heads: 4, hidden_dim: 32, mlp_dim: 64, dropout: 0.0, attention_dropout: 0.0 }, inputs: [[2, 7, 32]], seed: 11, maps: true };

  before(function () {
    assert.ok(fs.existsSync(TORCHVISION_VIT), `${TORCHVISION_VIT} is missing: run scripts/setup/torch.sh`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'af-torchvision-'));
    fs.writeFileSync(path.join(dir, 'cases.json'), JSON.stringify([c]));
    const [cmd, args] = pythonCommand('1.13', SCRIPT, [path.join(dir, 'cases.json'), path.join(dir, 'out')]);
    const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, PYTHONWARNINGS: 'ignore' } });
    assert.equal(r.status, 0, `user_modules.py failed: ${r.stderr || r.error?.message}`);
  });
  after(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("an EncoderBlock runs from a checkpoint torch saved, with torch's output and per-head attention maps", async function () {
    const io = path.join(dir, 'out', `${c.id}.io.safetensors`);
    const outFile = path.join(dir, `${c.id}.out.safetensors`);
    const r = await cli('run', '--module', `${TORCHVISION_VIT}:EncoderBlock`, ...initArgs(c.init), '--weights', path.join(dir, 'out', `${c.id}.pt`), '--input', io, '--output', outFile);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, '', 'strict load: no missing or unexpected keys');
    assert.match(r.out, /^\s+mlp\.3\s+Linear\s+\(2, 7, 32\)/m, 'MLPBlock (a subclass of torchvision.ops.misc.MLP, an nn.Sequential) keeps its children');
    const want = parseSafetensors(fs.readFileSync(io));
    const got = parseSafetensors(fs.readFileSync(outFile));
    assert.deepEqual([...got.keys()].sort(), ['attn.self_attention', 'output']);
    assert.deepEqual([...want.keys()].sort(), ['attn.self_attention', 'input0', 'output0']);
    for (const [mine, theirs] of [['output', 'output0'], ['attn.self_attention', 'attn.self_attention']]) {
      assert.deepEqual([...got.get(mine)!.shape], [...want.get(theirs)!.shape], `${mine} shape`);
      const worst = closeness(got.get(mine)!.dataSync(), want.get(theirs)!.dataSync());
      assert.ok(worst <= 1, `${mine}: worst |Δ| / (1e-5 + 1.3e-6·|torch|) = ${worst.toFixed(3)} > 1`);
    }
  });

  it('builds the whole VisionTransformer, whose module also defines what the interpreter cannot run (a typing.NamedTuple, weight enums)', async function () {
    const r = await cli('run', '--module', `${TORCHVISION_VIT}:VisionTransformer`, '--init', 'image_size=32', '--init', 'patch_size=8', '--init', 'num_layers=1', '--init', 'num_heads=2', '--init', 'hidden_dim=16', '--init', 'mlp_dim=32', '--input', '1,3,32,32');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /output: output \(1, 1000\)/);
  });
});

describe('interpreter: unsupported constructs and errors', function () {
  let dir: string;
  before(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'af-interpret-err-'));
  });
  after(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A module file whose forward body is `body` (indented by the caller's lines). */
  function moduleFile(name: string, forward: string, init = ''): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, `import torch\nimport torch.nn as nn\n\n\nclass M(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(8, 8)\n${init}\n    def forward(self, x):\n${forward}\n`);
    return file;
  }

  it("follows imports of the user's other files: relative ones in the package, absolute ones beside the file; an error in them names their own file and line", async function () {
    const pkg = path.join(dir, 'proj', 'models');
    fs.mkdirSync(path.join(dir, 'proj', 'layers'), { recursive: true });
    fs.mkdirSync(pkg, { recursive: true });
    fs.writeFileSync(path.join(pkg, '__init__.py'), '');
    fs.writeFileSync(path.join(pkg, 'blocks.py'), 'import torch.nn as nn\nfrom scipy import special\n\nclass Proj(nn.Linear):\n    pass\n\n\ndef broken():\n    return special.erf(1.0)\n');
    fs.writeFileSync(path.join(dir, 'proj', 'layers', '__init__.py'), 'from .norm import Norm\n');
    fs.writeFileSync(path.join(dir, 'proj', 'layers', 'norm.py'), 'import torch.nn as nn\n\nclass Norm(nn.LayerNorm):\n    pass\n');
    const main = path.join(pkg, 'net.py');
    fs.writeFileSync(main, 'import torch.nn as nn\nfrom .blocks import Proj, broken\nimport sys\n\n\nclass Net(nn.Module):\n    def __init__(self, use_broken=False):\n        super().__init__()\n        from layers import Norm\n        self.norm = Norm(8)\n        self.proj = Proj(8, 4)\n        self.use_broken = use_broken\n\n    def forward(self, x):\n        if self.use_broken:\n            broken()\n        return self.proj(self.norm(x))\n');
    const cwd = process.cwd();
    process.chdir(path.join(dir, 'proj'));
    try {
      const ok = await cli('run', '--module', `${main}:Net`, '--input', '2,8');
      assert.equal(ok.code, 0, ok.err);
      assert.match(ok.out, /output: output \(2, 4\)/);
      const bad = await cli('run', '--module', `${main}:Net`, '--init', 'use_broken=True', '--input', '2,8');
      assert.equal(bad.code, 1);
      assert.equal(bad.err, `attention-forge run: ${path.join(pkg, 'blocks.py')}:2: not supported by the interpreter: from scipy import … (the interpreter knows torch, torch.nn, torch.nn.functional, torch.nn.utils, math, einops, dataclasses, functools, copy, typing and collections, and the Python files it can find)\n`);
    } finally {
      process.chdir(cwd);
    }
  });

  it('stops at an op the runtime lacks with one line naming it, file:line, exit 1', async function () {
    const file = path.join(FIXTURES, 'unsupported_fft.py');
    const r = await cli('run', '--module', file, '--input', '2,5,16');
    assert.equal(r.code, 1);
    assert.equal(r.err, `attention-forge run: ${file}:13: not supported by the interpreter: torch.fft\n`);
    assert.equal(r.out, '');
  });

  // forward's body starts on line 11 of moduleFile's files.
  const constructs: [string, string, number, string][] = [
    ['a context manager that changes the run', '        with self.fc:\n            return self.fc(x)', 11, 'with self.fc (the interpreter knows the context managers that change nothing on an inference run, such as torch.no_grad())'],
    ['indexing with a list of bools', '        keep = [True, False] * 4\n        return x[:, keep]', 12, 'indexing a tensor with a list of bools'],
    ['an in-place tensor method', '        y = x\n        y.exponential_(0.5)\n        return y', 12, 'Tensor.exponential_'],
    ['an unknown tensor method', '        return x.logcumsumexp(-1)', 11, 'Tensor.logcumsumexp'],
    ['an import the interpreter does not know', '        import scipy\n        return x', 11, 'import scipy (the interpreter knows torch, torch.nn, torch.nn.functional, torch.nn.utils, math, einops, dataclasses, functools, copy, typing and collections)'],
    ['a runtime layer with keyword arguments', '        return self.fc(input=x)', 11, 'keyword arguments to nn.Linear'],
    ['a class decorator', '        return x', 4, 'torch.compile'],
  ];
  for (const [what, body, line, message] of constructs) {
    it(`names ${what} at its line`, async function () {
      const file = moduleFile(`${what.replace(/\W+/g, '_')}.py`, body);
      if (what.includes('decorator')) fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('\n\nclass M', '\n@torch.compile\nclass M'));
      const r = await cli('run', '--module', file, '--input', '2,8');
      assert.equal(r.code, 1, r.err);
      assert.equal(r.err, `attention-forge run: ${file}:${line}: not supported by the interpreter: ${message}\n`);
    });
  }

  it('compares dtypes as Python does: singletons, equal by name and alias (torch.float is torch.float32)', async function () {
    const file = moduleFile('dtypes.py', '        assert x.dtype == torch.float32 and x.dtype is torch.float\n        assert x.dtype != torch.long, "float is not long"\n        return self.fc(x)');
    const r = await cli('run', '--module', file, '--input', '2,8');
    assert.equal(r.code, 0, r.err);
  });

  it('reports the exception the user code raises, at its line (a failing assert with its message)', async function () {
    const r = await cli('run', '--module', path.join(FIXTURES, 'vit_attention.py'), '--init', 'num_heads=5', '--input', '2,4,64');
    assert.equal(r.code, 1);
    assert.equal(r.err, `attention-forge run: ${path.join(FIXTURES, 'vit_attention.py')}:9: AssertionError: dim should be divisible by num_heads\n`);
  });

  it("reports torch's error for a shape mismatch at the line that raises it", async function () {
    const file = path.join(FIXTURES, 'vit_attention.py');
    const r = await cli('run', '--module', file, '--input', '2,4,32');
    assert.equal(r.code, 1);
    assert.match(r.err, new RegExp(`^attention-forge run: ${file.replace(/[.]/g, '\\.')}:21: RuntimeError: .*\n$`));
  });

  it('ends a loop that never stops at the step bound, quickly', async function () {
    const file = moduleFile('loop.py', '        while True:\n            x = x + 0\n        return x'.replace('x = x + 0', 'pass'));
    const t0 = Date.now();
    const r = await cli('run', '--module', file, '--input', '2,8');
    assert.equal(r.code, 1);
    assert.match(r.err, /:1[23]: stopped after 2,000,000 steps \(a loop that does not end, or a module too large to preview\)\n$/);
    assert.ok(Date.now() - t0 < 20_000, 'bounded in time');
  });

  it('ends unbounded recursion at the depth bound', async function () {
    const file = moduleFile('recurse.py', '        return self.forward(x)');
    const r = await cli('run', '--module', file, '--input', '2,8');
    assert.equal(r.code, 1);
    assert.match(r.err, /:10: calls nested deeper than 100 \(recursion\)\n$/);
  });

  it('reports a syntax error at its line', async function () {
    const file = path.join(dir, 'syntax.py');
    fs.writeFileSync(file, 'import torch.nn as nn\n\nclass M(nn.Module):\n    def forward(self, x):\n        return x +\n');
    const r = await cli('run', '--module', file, '--input', '2,8');
    assert.equal(r.code, 1);
    assert.match(r.err, /syntax\.py:\d: SyntaxError near /);
  });

  it('exits 2 for command-line mistakes, naming what is wrong', async function () {
    const vit = path.join(FIXTURES, 'vit_attention.py');
    const cases: [string[], RegExp][] = [
      [['--module', `${vit}:Nope`, '--input', '2,4,64'], /no class 'Nope' in this file \(nn\.Module subclasses: Attention\)/],
      [['--module', vit], /run --module needs --input/],
      [['--module', vit, '--input', '2,4,64', '--init', 'heads'], /--init expects name=value, got "heads"/],
      [['--module', vit, '--input', 'two'], /--input expects a shape such as 2,16,64 or a \.safetensors file/],
      [['--module', vit, '--input', '2,4,64', '--set', 'dim=4'], /takes constructor arguments as --init/],
      [['cnn-mha', '--init', 'dim=4'], /--init needs --module/],
    ];
    for (const [args, message] of cases) {
      const r = await cli('run', ...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
      assert.match(r.err, message);
    }
  });

  it('exits 1 when the module file cannot be read', async function () {
    const r = await cli('run', '--module', path.join(dir, 'missing.py'), '--input', '2,8');
    assert.equal(r.code, 1);
    assert.match(r.err, /^attention-forge run: cannot read module file .*missing\.py: ENOENT/);
  });

  it('picks the only class no other class mentions, and lists module classes without running anything', async function () {
    const source = fs.readFileSync(path.join(FIXTURES, 'encoder_layer.py'), 'utf8');
    const classes = await moduleClasses(source);
    assert.deepEqual(
      classes.map((c) => [c.name, c.usedByOthers]),
      [['SelfAttention', true], ['Mlp', true], ['Block', true], ['Encoder', false]],
    );
    const { module, className } = await loadUserModule(source, { file: 'encoder_layer.py' });
    assert.equal(className, 'Encoder');
    const y = module.forward(randn([1, 3, 32], new Generator(0))) as { shape: number[] };
    assert.deepEqual([...y.shape], [1, 3, 32]);
    await assert.rejects(loadUserModule('import torch\n', { file: 'empty.py' }), (e: unknown) => e instanceof InterpretError && e.message === 'empty.py:1: no nn.Module subclass in this file');
  });

  it('prints the per-layer table of the tracer', async function () {
    const r = await cli('run', '--module', path.join(FIXTURES, 'se_block.py'), '--input', '2,32,4,4', '--json');
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out) as { className: string; layers: { path: string; type: string; outputShapes: number[][] }[]; outputs: { name: string; shape: number[] }[] };
    assert.equal(j.className, 'SEBlock');
    assert.deepEqual(j.outputs, [{ name: 'output', shape: [2, 32, 4, 4], dtype: 'float32' }]);
    assert.deepEqual(
      j.layers.map((l) => [l.path, l.type, l.outputShapes]),
      [
        ['', 'SEBlock', [[2, 32, 4, 4]]],
        ['avg_pool', 'AdaptiveAvgPool2d', [[2, 32, 1, 1]]],
        ['fc', 'Sequential', [[2, 32]]],
        ['fc.0', 'Linear', [[2, 8]]],
        ['fc.1', 'ReLU', [[2, 8]]],
        ['fc.2', 'Linear', [[2, 32]]],
        ['fc.3', 'Sigmoid', [[2, 32]]],
      ],
    );
  });
});

describe('interpreter: moving a run to another backend', function () {
  it('moves parameters, buffers, plain tensor attributes and arguments, keeps tied weights tied, and builds on the new backend from then on', async function () {
    const source = [
      'import torch',
      'import torch.nn as nn',
      '',
      'class Tied(nn.Module):',
      '    def __init__(self):',
      '        super().__init__()',
      '        self.emb = nn.Embedding(5, 4)',
      '        self.head = nn.Linear(4, 5, bias=False)',
      '        self.head.weight = self.emb.weight',
      "        self.register_buffer('scale', torch.ones(4))",
      '        self.shift = torch.full((4,), 0.5)',
      '        self.masks = [torch.zeros(4), torch.ones(4)]',
      '',
      '    def forward(self, idx):',
      '        x = self.emb(idx) * self.scale + self.shift + self.masks[1]',
      '        x[:, 0] = 2.0',
      '        return self.head(x) + torch.zeros(5)',
      '',
      'def build():',
      '    return Tied()',
    ].join('\n');
    const interp = await runFile(source, { file: 'tied.py' });
    const m = interp.call(interp.globals.vars.get('build')!, []) as UserModule;
    const idx = tensor([1, 3], { dtype: 'int64' });
    const before = (m.forward(idx) as Tensor).dataSync();
    const moved = new Map<Tensor, Tensor>();
    interp.to(cpuReference, moved);
    m.to(cpuReference, moved);
    const arg = moveValue(idx, cpuReference, moved) as Tensor;
    assert.equal(arg.device, cpuReference);
    for (const [k, t] of m.stateDict()) assert.equal(t.device, cpuReference, k);
    const rec = m as unknown as { emb: { weight: Tensor }; head: { weight: Tensor } };
    assert.equal(rec.emb.weight, rec.head.weight, 'tied weights stay one tensor');
    assert.equal((m.attrs.get('shift') as Tensor).device, cpuReference);
    assert.ok((m.attrs.get('masks') as Tensor[]).every((t) => t.device === cpuReference));
    const out = m.forward(arg) as Tensor;
    assert.equal(out.device, cpuReference);
    // The reference kernels and the fast ones round differently in the last bits.
    const got = out.dataSync();
    assert.ok(before.every((v, i) => Math.abs(v - got[i]) < 1e-5), `${[...got]} vs ${[...before]}`);
  });
});
