/**
 * PyTorch checkpoints read without Python (`src/runtime/checkpoint/`).
 * Checkpoints are written at test time by real torch 1.13 and 2.6
 * (`scripts/torch/checkpoints.py`; Python missing fails the suite, it is not
 * skipped): every dtype, views sharing a storage, tied weights, nested and
 * ambiguous dicts, the legacy format and pickle protocol 4 read back with
 * torch's values; `loadStateDict`'s errors equal torch's text; catalog
 * blocks loaded from `.pt` through `attention-forge run --weights` compute
 * torch's outputs. Hostile files are built byte by byte here (no torch
 * needed): each is refused with its one-line message and without a large
 * allocation.
 */

import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { concreteShapes, getBlock, resolveParams } from '../../src/blocks/catalog';
import { runCommand } from '../../src/cli/run';
import { CheckpointError, nn, parseSafetensors, readStateDict, readTorchCheckpoint, serializeSafetensors, Tensor, TorchError } from '../../src/runtime/index';
import { torchBlockCase, withPrefix } from '../helpers/blocks';
import { closeness } from '../helpers/goldens';
import { pythonCommand, TORCH_VERSIONS } from '../helpers/torch';

const SCRIPT = path.resolve(__dirname, '../../scripts/torch/checkpoints.py');

interface Described {
  dtype: string;
  shape: number[];
  values: number[];
}

type Expected = Record<string, Record<string, Described>> & { torch: string; strictError: string; nonStrict: { missing: string[]; unexpected: string[] } };

/** Blocks whose state_dicts go through a `.pt` file: fused MHA projections, int64/BN buffers, relative position bias. */
const BLOCKS = ['cnn-mha', 'non-local', 'window-attention'];

function runtimeDtype(torchDtype: string): string {
  if (torchDtype === 'bool') return 'bool';
  return /int|uint8/.test(torchDtype) ? 'int64' : 'float32';
}

function assertTensors(got: ReadonlyMap<string, Tensor>, want: Record<string, Described>, what: string): void {
  assert.deepEqual([...got.keys()], Object.keys(want), `${what}: keys`);
  for (const [k, d] of Object.entries(want)) {
    const t = got.get(k) as Tensor;
    assert.deepEqual([...t.shape], d.shape, `${what} ${k}: shape`);
    assert.equal(t.dtype, runtimeDtype(d.dtype), `${what} ${k}: dtype`);
    assert.deepEqual([...t.dataSync()], d.values.map((v) => Math.fround(v)), `${what} ${k}: values`);
  }
}

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) }, out, err };
}

for (const version of TORCH_VERSIONS) {
  describe(`PyTorch checkpoints written by torch ${version}`, function () {
    let dir: string;
    let expected: Expected;
    const file = (name: string) => fs.readFileSync(path.join(dir, name));

    before(function () {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'af-ckpt-'));
      const cases = BLOCKS.map((id) => {
        const block = getBlock(id)!;
        const params = resolveParams(block, {}).params;
        const dims = Object.fromEntries(block.dims.map((d) => [d.name, d.default]));
        concreteShapes(block, params, dims);
        return torchBlockCase(id, { block, params, dims, label: id });
      });
      fs.writeFileSync(path.join(dir, 'cases.json'), JSON.stringify(cases));
      const [cmd, args] = pythonCommand(version, SCRIPT, [path.join(dir, 'cases.json'), path.join(dir, 'out')]);
      const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, PYTHONWARNINGS: 'ignore' } });
      assert.equal(r.status, 0, `checkpoints.py in torch ${version} failed: ${r.stderr || r.error?.message}\nRun scripts/setup/torch.sh to install torch.`);
      dir = path.join(dir, 'out');
      expected = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8')) as Expected;
    });
    after(function () {
      fs.rmSync(path.dirname(dir), { recursive: true, force: true });
    });

    it(`is torch ${version}`, function () {
      assert.ok(expected.torch.startsWith(version), expected.torch);
    });

    it('every dtype reads as torch wrote it (floats as float32, integers as int64, bool), 0-d, empty and Parameter included', function () {
      const r = readStateDict(file('dtypes.pt'));
      assert.equal(r.format, 'torch-zip');
      assertTensors(r.tensors, expected['dtypes.pt'], 'dtypes.pt');
    });

    it('views sharing one storage (qkv slices, transpose, strided, stride 0) read through their strides and offsets', function () {
      assertTensors(readStateDict(file('views.pt')).tensors, expected['views.pt'], 'views.pt');
    });

    it('pickle protocol 4 (STACK_GLOBAL, MEMOIZE, FRAME) reads the same', function () {
      assertTensors(readStateDict(file('proto4.pt')).tensors, expected['proto4.pt'], 'proto4.pt');
    });

    it('tied weights: both keys, the same values', function () {
      const r = readStateDict(file('tied.pt'));
      assertTensors(r.tensors, expected['tied.pt'], 'tied.pt');
      assert.deepEqual(r.tensors.get('embed.weight')?.dataSync(), r.tensors.get('head.weight')?.dataSync());
    });

    it('the legacy format (_use_new_zipfile_serialization=False) reads the same, views included', function () {
      const r = readStateDict(file('legacy.pt'));
      assert.equal(r.format, 'torch-legacy');
      assertTensors(r.tensors, expected['legacy.pt'], 'legacy.pt');
      const n = readStateDict(file('legacy-nested.pt'));
      assert.equal(n.key, 'state_dict');
      assertTensors(n.tensors, expected['legacy-nested.pt'], 'legacy-nested.pt');
    });

    it('the state_dict is found inside {"state_dict": ..., "epoch", "optimizer", ...} and {"ema", "model"}; several dicts of tensors need a key', function () {
      const n = readStateDict(file('nested.pt'));
      assert.equal(n.key, 'state_dict');
      assertTensors(n.tensors, expected['nested.pt'], 'nested.pt');
      const s = readStateDict(file('several.pt'));
      assert.equal(s.key, 'model');
      assertTensors(s.tensors, expected['several.pt'], 'several.pt');
      assert.throws(() => readStateDict(file('ambiguous.pt')), { message: "not a loadable PyTorch checkpoint: the checkpoint holds several dicts of tensors ('a', 'b'); choose one by its key (--weights-key)" });
      assertTensors(readStateDict(file('ambiguous.pt'), { key: 'b' }).tensors, expected['ambiguous.pt'], 'ambiguous.pt b');
      assert.throws(() => readStateDict(file('nested.pt'), { key: 'epoch' }), { message: "not a loadable PyTorch checkpoint: 'epoch' in the checkpoint is an int, not a dict of tensors" });
    });

    it('a whole pickled module is refused by its class, nothing run', function () {
      assert.throws(() => readStateDict(file('whole.pt')), (e: Error) => {
        assert.ok(e instanceof CheckpointError);
        assert.match(e.message, /^not a loadable PyTorch checkpoint: pickle, byte \d+: global __main__\.Tied is not allowed: a checkpoint of tensors never needs it, and loading it could run code; refused without running anything\. torch\.save\(model\.state_dict\(\), path\) writes a loadable file$/);
        return true;
      });
    });

    it("load_state_dict's errors are torch's, word for word; strict=false returns the missing and unexpected keys", function () {
      const lin = new nn.Linear(3, 4);
      const before = lin.weight.dataSync();
      assert.throws(() => lin.loadStateDict(readStateDict(file('linear-bad.pt')).tensors), (e: Error) => e instanceof TorchError && e.message === expected.strictError);
      assert.deepEqual(lin.weight.dataSync(), before, 'nothing written on error');
      const r = lin.loadStateDict(readStateDict(file('linear-partial.pt')).tensors, false);
      assert.deepEqual({ missing: r.missingKeys, unexpected: r.unexpectedKeys }, expected.nonStrict);
      assert.ok(lin.weight.dataSync().every((v) => v === 0), 'the matched key was loaded');
      // Size mismatches raise even when not strict, as in torch.
      assert.throws(() => lin.loadStateDict(readStateDict(file('linear-bad.pt')).tensors, false), /size mismatch for weight: copying a param with shape torch\.Size\(\[5, 3\]\) from checkpoint, the shape in current model is torch\.Size\(\[4, 3\]\)\.$/);
    });

    for (const id of BLOCKS) {
      it(`${id}: attention-forge run --weights ${id}.pt computes torch's outputs`, async function () {
        const ioFile = parseSafetensors(file(`${id}.io.safetensors`));
        const input = path.join(dir, `${id}.input.safetensors`);
        fs.writeFileSync(input, serializeSafetensors(withPrefix(ioFile, 'input.')));
        const output = path.join(dir, `${id}.output.safetensors`);
        const c = io();
        const code = await runCommand([id, '--weights', path.join(dir, `${id}.pt`), '--input', input, '--output', output], c.io);
        assert.equal(code, 0, c.err.join(''));
        assert.match(c.out[0], new RegExp(`weights .*${id}\\.pt \\['model'\\]`));
        const got = parseSafetensors(fs.readFileSync(output));
        const want = withPrefix(ioFile, 'output.');
        assert.ok(want.size >= 1);
        [...got.values()].forEach((t, i) => {
          const w = want.get(String(i)) as Tensor;
          assert.deepEqual([...t.shape], [...w.shape]);
          const c2 = closeness(t.dataSync(), w.dataSync());
          assert.ok(c2 <= 1, `output ${i}: ${c2} × the float32 bound`);
        });
      });
    }

    it('run --weights: --no-strict reports unmatched keys, a mis-shaped or refused file exits 1, --weights-key picks the dict', async function () {
      const pt = path.join(dir, 'cnn-mha.pt');
      const c = io();
      assert.equal(await runCommand(['cnn-mha', '--weights', path.join(dir, 'tied.pt')], c.io), 1);
      assert.match(c.err.join(''), /^attention-forge run: Error\(s\) in loading state_dict for \w+:\n\tMissing key\(s\) in state_dict: .*\n\tUnexpected key\(s\) in state_dict: "embed\.weight", "head\.weight"\. \n$/);
      const d = io();
      assert.equal(await runCommand(['cnn-mha', '--weights', path.join(dir, 'linear-partial.pt'), '--no-strict'], d.io), 0, d.err.join(''));
      assert.match(d.err.join(''), /missing key\(s\) in state_dict, left at their initial values: "/);
      assert.match(d.err.join(''), /unexpected key\(s\) in state_dict, ignored: "weight", "extra"/);
      const e = io();
      assert.equal(await runCommand(['cnn-mha', '--weights', path.join(dir, 'whole.pt')], e.io), 1);
      assert.match(e.err.join(''), /^attention-forge run: weights file .*whole\.pt is not a loadable PyTorch checkpoint: pickle, byte \d+: global __main__\.Tied is not allowed/);
      const f = io();
      assert.equal(await runCommand(['cnn-mha', '--weights', pt, '--weights-key', 'model', '--json'], f.io), 0, f.err.join(''));
      const j = JSON.parse(f.out.join('')) as { weightsFormat: string; weightsKey: string; missingKeys: string[] };
      assert.deepEqual([j.weightsFormat, j.weightsKey, j.missingKeys], ['torch-zip', 'model', []]);
      const g = io();
      assert.equal(await runCommand(['cnn-mha', '--weights-key', 'model'], g.io), 2);
    });
  });
}

// ---- hostile files, built byte by byte -------------------------------------------------

const enc = new TextEncoder();

function bytes(...parts: (string | number | number[] | Uint8Array)[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'string') out.push(...enc.encode(p));
    else if (typeof p === 'number') out.push(p);
    else out.push(...p);
  }
  return Uint8Array.from(out);
}

/** BINUNICODE. */
function u(s: string): Uint8Array {
  const b = enc.encode(s);
  return bytes(0x58, [b.length & 0xff, (b.length >> 8) & 0xff, 0, 0], b);
}

/** BININT (little-endian int32) or LONG1 for larger values. */
function i(n: number): Uint8Array {
  if (n >= 0 && n < 2 ** 31) return bytes(0x4a, [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff]);
  let v = BigInt(n);
  const b: number[] = [];
  for (let k = 0; k < 8; k++) {
    b.push(Number(v & 0xffn));
    v >>= 8n;
  }
  return bytes(0x8a, 8, b);
}

/** A stored zip as torch writes it (no CRC: the reader does not check it). */
function zip(entries: [string, Uint8Array][]): Uint8Array {
  const chunks: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let off = 0;
  for (const [name, data] of entries) {
    const n = enc.encode(name);
    const local = new Uint8Array(30 + n.length);
    const dv = new DataView(local.buffer);
    dv.setUint32(0, 0x04034b50, true);
    dv.setUint32(18, data.length, true);
    dv.setUint32(22, data.length, true);
    dv.setUint16(26, n.length, true);
    local.set(n, 30);
    const c = new Uint8Array(46 + n.length);
    const cv = new DataView(c.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint32(20, data.length, true);
    cv.setUint32(24, data.length, true);
    cv.setUint16(28, n.length, true);
    cv.setUint32(42, off, true);
    c.set(n, 46);
    chunks.push(local, data);
    central.push(c);
    off += local.length + data.length;
  }
  const cdSize = central.reduce((a, c) => a + c.length, 0);
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, off, true);
  const all = [...chunks, ...central, eocd];
  const out = new Uint8Array(all.reduce((a, c) => a + c.length, 0));
  let p = 0;
  for (const c of all) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}

/** `{'w': _rebuild_tensor_v2(storage('0', Float, numel), offset, size, stride, False, OrderedDict())}`, pickled as torch does. */
function tensorPickle(o: { numel: number; offset?: number; size: number[]; stride: number[] }): Uint8Array {
  const tup = (xs: number[]) => bytes(0x28, ...xs.map(i), 0x74);
  return bytes(
    [0x80, 2, 0x7d], u('w'),
    'ctorch._utils\n_rebuild_tensor_v2\n',
    0x28, 0x28, u('storage'), 'ctorch\nFloatStorage\n', u('0'), u('cpu'), i(o.numel), 0x74, 0x51,
    i(o.offset ?? 0), tup(o.size), tup(o.stride), 0x89, 'ccollections\nOrderedDict\n', 0x29, 0x52, 0x74, 0x52,
    0x73, 0x2e,
  );
}

function checkpoint(pkl: Uint8Array, data = new Uint8Array(16)): Uint8Array {
  return zip([['archive/data.pkl', pkl], ['archive/data/0', data], ['archive/version', enc.encode('3\n')]]);
}

/** Refused with exactly `message` (a RegExp or the whole line), allocating less than 32 MB on the way. */
function refused(b: Uint8Array, message: RegExp): void {
  global.gc?.();
  const before = process.memoryUsage().arrayBuffers;
  let err: unknown;
  try {
    readTorchCheckpoint(b);
  } catch (e) {
    err = e;
  }
  const grown = process.memoryUsage().arrayBuffers - before;
  assert.ok(err instanceof CheckpointError, `expected a CheckpointError, got ${String(err)}`);
  assert.ok(!err.message.includes('\n'), 'one line');
  assert.match(err.message, message);
  assert.ok(grown < 32 << 20, `allocated ${grown} bytes`);
}

describe('hostile PyTorch checkpoints', function () {
  it('the byte-built well-formed checkpoint loads (the builder is right)', function () {
    const data = new Float32Array([1, 2, 3, 4]);
    const r = readTorchCheckpoint(checkpoint(tensorPickle({ numel: 4, size: [2, 2], stride: [1, 2] }), new Uint8Array(data.buffer)));
    assert.deepEqual([...(r.tensors.get('w') as Tensor).dataSync()], [1, 3, 2, 4]);
  });

  it('GLOBAL os.system + REDUCE is refused by name, before anything is called', function () {
    refused(checkpoint(bytes([0x80, 2], 'cos\nsystem\n', u('echo pwned'), 0x85, 0x52, 0x2e)), /^pickle, byte 2: global os\.system is not allowed: a checkpoint of tensors never needs it, and loading it could run code; refused without running anything\./);
  });

  it('STACK_GLOBAL builtins.eval (protocol 4) is refused by name', function () {
    refused(checkpoint(bytes([0x80, 4], [0x8c, 8], 'builtins', [0x8c, 4], 'eval', 0x93, u('1+1'), 0x85, 0x52, 0x2e)), /^pickle, byte 18: global builtins\.eval is not allowed/);
  });

  it('INST, OBJ, NEWOBJ and EXT1 are refused as opcodes', function () {
    refused(checkpoint(bytes([0x80, 2], 0x28, 'ios\nsystem\n', 0x2e)), /^pickle, byte 3: opcode INST is not used by a tensor state_dict; refused$/);
    refused(checkpoint(bytes([0x80, 2], 0x28, 0x6f, 0x2e)), /opcode OBJ is not used/);
    refused(checkpoint(bytes([0x80, 2], 'ccollections\nOrderedDict\n', 0x29, 0x81, 0x2e)), /opcode NEWOBJ is not used/);
    refused(checkpoint(bytes([0x80, 2], 0x82, 1, 0x2e)), /opcode EXT1 is not used/);
  });

  it('REDUCE of a storage type or BUILD on a tensor is refused', function () {
    refused(checkpoint(bytes([0x80, 2], 'ctorch\nFloatStorage\n', 0x29, 0x52, 0x2e)), /REDUCE calls a torch\.FloatStorage, which is not an allowed callable/);
    const t = tensorPickle({ numel: 4, size: [4], stride: [1] });
    refused(checkpoint(bytes(t.subarray(0, t.length - 2), 0x7d, 0x62, 0x2e)), /^pickle, byte \d+: BUILD on a torch\.Tensor is not allowed$/);
  });

  it('a storage far beyond its record is refused before any allocation', function () {
    refused(checkpoint(tensorPickle({ numel: 1e12, size: [1e6, 1e6], stride: [1e6, 1] })), /^storage '0' declares 1000000000000 float32 elements \(4000000000000 bytes\) but its record holds 16 bytes$/);
  });

  it('a view outside its storage, and a huge element count over a tiny storage, are refused', function () {
    refused(checkpoint(tensorPickle({ numel: 4, size: [1e6, 1e6], stride: [1e6, 1] })), /^tensor of size \(1000000, 1000000\), stride \(1000000, 1\), offset 0 reaches element 999999999999 of storage '0', which holds 4$/);
    refused(checkpoint(tensorPickle({ numel: 4, offset: 4, size: [1], stride: [1] })), /reaches element 4 of storage '0', which holds 4/);
    refused(checkpoint(tensorPickle({ numel: 4, size: [1e5, 1e5], stride: [0, 0] })), /^tensor 'w' of size \(100000, 100000\) takes the elements materialised past 1048592 \(the file's storages hold 4\); refused$/);
  });

  it('deeply nested MARKs and containers are refused at the cap', function () {
    refused(checkpoint(bytes([0x80, 2], new Array<number>(10000).fill(0x28))), /^pickle, byte 66: MARKs nested more than 64 deep$/);
    refused(checkpoint(bytes([0x80, 2], new Array<number>(1000).fill(0x5d), new Array<number>(999).fill(0x61), 0x2e)), /containers nested more than 64 deep/);
  });

  it('a truncated zip, pickle or string is refused', function () {
    const good = checkpoint(tensorPickle({ numel: 4, size: [4], stride: [1] }));
    refused(good.subarray(0, good.length - 30), /^zip: end of central directory not found \(a truncated or damaged file\)$/);
    refused(checkpoint(bytes([0x80, 2], 0x7d)), /^pickle, byte 3: the pickle ends before STOP \(truncated\?\)$/);
    refused(checkpoint(bytes([0x80, 2], 0x58, [0xff, 0xff, 0xff, 0x7f], 'abc')), /^pickle, byte 2: BINUNICODE needs 2147483647 bytes but only 3 remain \(truncated\?\)$/);
  });

  it('a compressed entry, a zip without data.pkl and a tar are refused by name', function () {
    const z = checkpoint(tensorPickle({ numel: 4, size: [4], stride: [1] }));
    const cd = z.length - 22 - (46 * 3 + 'archive/data.pkl'.length + 'archive/data/0'.length + 'archive/version'.length);
    new DataView(z.buffer).setUint16(cd + 10, 8, true);
    refused(z, /^zip: entry archive\/data\.pkl is compressed \(method 8\)/);
    refused(zip([['archive/other', new Uint8Array(4)]]), /^a zip archive, but not one torch\.save wrote \(no archive\/data\.pkl\)$/);
    const tar = new Uint8Array(1024);
    tar.set(enc.encode('ustar'), 257);
    refused(tar, /tar checkpoint format of torch < 0\.4 is not supported/);
  });

  it('complex and quantized storage types are refused by name', function () {
    refused(checkpoint(bytes([0x80, 2], 'ctorch\nComplexFloatStorage\n', 0x2e)), /^torch\.ComplexFloatStorage is not supported/);
    refused(checkpoint(bytes([0x80, 2], 'ctorch._utils\n_rebuild_qtensor\n', 0x2e)), /global torch\._utils\._rebuild_qtensor is not allowed/);
  });

  it('a file that is neither format is reported as safetensors', function () {
    assert.throws(() => readStateDict(enc.encode('garbage')), { name: 'CheckpointError', message: /^not a valid safetensors file \(nor a PyTorch checkpoint\): / });
  });
});
