/**
 * *Compare with PyTorch* for a user module: the bundled run (the same build, seeded weights or
 * the loaded checkpoint, and seeded inputs as `runModulePreview`) is repeated in real torch
 * through `python/compare_module.py`, on the state_dict and inputs this run used, and every
 * module's first output is compared: the largest |Δ| per layer. Python runs only here, only when
 * the user asks (the command checks that the workspace is trusted), with a time limit; any
 * failure is one line in the result, never a throw.
 *
 * No `vscode` import: unit-tested against the torch installed on the machine.
 */

import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InterpretError, loadUserModule } from '../interpret/index';
import { Generator, parseSafetensors, randn, serializeSafetensors, Tensor, tensor, TorchError, traceForward } from '../runtime/index';
import type { ModuleCompare } from '../protocol/preview';
import { encode } from './module-runner';
import type { GivenInput, ImportContext, ModuleWeights } from './module-preview';

export interface CompareOptions {
  /** The Python interpreter (one with torch). */
  readonly python: string;
  /** python/compare_module.py of the extension. */
  readonly script: string;
  readonly source: string;
  /** The name shown in messages, and the file on disk torch imports (`where.path`). */
  readonly file: string;
  readonly className: string;
  readonly shapes: readonly number[][];
  readonly seed?: number;
  readonly where: ImportContext & { readonly path: string };
  readonly weights?: ModuleWeights;
  /** forward's first input given (an image), as the preview ran it. */
  readonly given?: GivenInput;
  /** Time limit of the Python run, ms (default 120 s). */
  readonly timeoutMs?: number;
}

/** Runs the module here and in torch; resolves with the per-layer differences or an error line. */
export async function compareWithTorch(o: CompareOptions): Promise<ModuleCompare> {
  const fail = (error: string): ModuleCompare => ({ python: o.python, error, layers: [] });
  const gen = new Generator(o.seed ?? 0);
  const ours = new Map<string, { type: string; t: Float32Array; shape: number[] }>();
  let state: Map<string, Tensor>;
  let inputs: Tensor[];
  try {
    const { module } = await loadUserModule(o.source, { file: o.file, className: o.className, generator: gen, ...o.where });
    if (o.weights) module.loadStateDict(o.weights.tensors, false);
    // The preview's draw, in its order: the given first input in place of the seeded one.
    const runShapes = o.given ? [[...o.given.shape], ...o.shapes.slice(1)] : o.shapes;
    inputs = runShapes.map((s, i) => (i === 0 && o.given ? tensor(o.given.data, { shape: [...o.given.shape] }) : randn(s, gen)));
    traceForward(module, () => module.forward(...inputs), {
      onLayerOutput: (layer, outs) => {
        if (!ours.has(layer.path) && outs[0]) ours.set(layer.path, { type: layer.type, t: outs[0].contiguous().dataSync(), shape: [...outs[0].shape] });
      },
    });
    state = module.stateDict();
  } catch (e) {
    if (e instanceof InterpretError) return fail(`the bundled run stopped: ${e.message}`);
    if (e instanceof TorchError) return fail(`the bundled run stopped: ${e.message}`);
    throw e;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'af-compare-'));
  try {
    fs.writeFileSync(path.join(dir, 'state.safetensors'), serializeSafetensors(state));
    fs.writeFileSync(path.join(dir, 'inputs.safetensors'), serializeSafetensors(new Map(inputs.map((t, i) => [`input${i}`, t]))));
    fs.writeFileSync(path.join(dir, 'request.json'), JSON.stringify({ args: (o.where.args ?? []).map(encode), kwargs: Object.fromEntries([...(o.where.kwargs ?? [])].map(([k, v]) => [k, encode(v)])) }));
    const roots = [path.dirname(o.where.path), ...(o.where.importRoots ?? [])];
    const ran = await new Promise<{ code: number | null; stderr: string; spawnError?: string }>((resolve) => {
      execFile(o.python, [o.script, o.where.path, o.className, dir], { cwd: path.dirname(o.where.path), timeout: o.timeoutMs ?? 120_000, maxBuffer: 8 << 20, env: { ...process.env, PYTHONPATH: [...roots, process.env.PYTHONPATH ?? ''].filter(Boolean).join(path.delimiter), PYTHONWARNINGS: 'ignore' } }, (err, _stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { killed?: boolean }) | null;
        if (e && typeof e.code === 'string') resolve({ code: null, stderr, spawnError: `${e.code}` });
        else if (e?.killed) resolve({ code: null, stderr, spawnError: `no answer within ${Math.round((o.timeoutMs ?? 120_000) / 1000)} s` });
        else resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, stderr });
      });
    });
    if (ran.spawnError) return fail(ran.spawnError === 'ENOENT' ? `could not start ${o.python}: it was not found (set attentionForge.python.interpreter to a Python with torch)` : `${o.python} did not finish: ${ran.spawnError}`);
    if (ran.code !== 0) {
      const last = ran.stderr.trim().split('\n').pop() ?? '';
      return fail(/ModuleNotFoundError: No module named 'torch'/.test(ran.stderr) ? `${o.python} has no torch: install it there, or set attentionForge.python.interpreter` : `PyTorch could not run ${o.className}: ${last.slice(0, 500)}`);
    }
    const theirs = parseSafetensors(fs.readFileSync(path.join(dir, 'torch.safetensors')));
    const torchVersion = (JSON.parse(fs.readFileSync(path.join(dir, 'result.json'), 'utf8')) as { torch: string }).torch;
    const layers: ModuleCompare['layers'] = [];
    for (const [p, mine] of ours) {
      const t = theirs.get(`layer:${p}`);
      if (!t) {
        layers.push({ path: p, type: mine.type, maxAbsDiff: null, note: 'no tensor output in torch' });
        continue;
      }
      if (t.shape.join() !== mine.shape.join()) {
        layers.push({ path: p, type: mine.type, maxAbsDiff: null, note: `torch's output is (${t.shape.join(', ')}), the bundled run's (${mine.shape.join(', ')})` });
        continue;
      }
      const d = t.to('float32').dataSync();
      let worst = 0;
      for (let i = 0; i < d.length; i++) worst = Math.max(worst, Math.abs(d[i] - mine.t[i]));
      layers.push({ path: p, type: mine.type, maxAbsDiff: worst });
    }
    return { python: o.python, torch: torchVersion, layers };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
