/**
 * *Preview module* (issue 14), the decisions without the `vscode` API: which classes of a Python
 * file get a lens (`moduleLenses`), which input shape to offer for a class (`guessInputShape`: from
 * the first layer its `__init__` builds — a Linear's `in_features` is the last dim of a
 * `(2, 16, in_features)` input, or the channels of an image when a 2-D pooling comes first, a
 * Conv2d's `in_channels` the channels of a `(2, C, 16, 16)` one),
 * how the user's answer is read (`parseShapes`), and the run itself (`runModulePreview`): the
 * class built by the interpreter (`src/interpret/`) with its defaults and seeded weights, run once
 * under the runtime's tracer in the extension host, and answered as the preview's `module`
 * message — the per-layer shapes, or the interpreter's one-line `file:line` reason. Loaded on
 * first use, so activation does not pay for the parser or the runtime.
 */

import { InterpretError, loadUserModule, moduleClasses, PyTuple, type PyValue } from '../interpret/index';
import { AttentionCapture, Generator, nn, randn, Tensor, tensor, TorchError, traceForward, type CapturedAttention } from '../runtime/index';
import type { PreviewModuleMessage } from '../protocol/preview';
import type { AttentionMap } from '../protocol/preview-worker';

export interface ModuleLens {
  /** 0-based line of the `class` statement. */
  readonly line: number;
  readonly className: string;
}

/** Where the file's imports are looked for (its path on disk and the workspace's folders), and the constructor's arguments. */
export interface ImportContext {
  readonly path?: string;
  readonly importRoots?: readonly string[];
  readonly args?: readonly PyValue[];
  readonly kwargs?: ReadonlyMap<string, PyValue>;
}

/** `dim=64 heads=8 window=7,7` (the form the panel asks for) as keyword arguments; undefined for anything else. */
export function parseConstructorArguments(text: string): Map<string, PyValue> | undefined {
  const out = new Map<string, PyValue>();
  const one = (t: string): PyValue | undefined => {
    if (/^[-+]?\d+$/.test(t)) return parseInt(t, 10);
    if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return parseFloat(t);
    if (t === 'True') return true;
    if (t === 'False') return false;
    if (t === 'None') return null;
    const q = /^(['"])(.*)\1$/.exec(t);
    return q ? q[2] : undefined;
  };
  for (const item of text.trim().split(/\s+/).filter(Boolean)) {
    const eq = item.indexOf('=');
    if (eq <= 0 || !/^[A-Za-z_]\w*$/.test(item.slice(0, eq))) return undefined;
    const parts = item.slice(eq + 1).split(',').filter((x) => x !== '');
    const values = parts.map(one);
    if (!parts.length || values.some((v) => v === undefined)) return undefined;
    out.set(item.slice(0, eq), parts.length > 1 || item.endsWith(',') ? new PyTuple(values as PyValue[]) : (values[0] as PyValue));
  }
  return out;
}

/** A lens above every `nn.Module` subclass of the file (found without running anything). */
export async function moduleLenses(source: string): Promise<ModuleLens[]> {
  return (await moduleClasses(source)).map((c) => ({ line: c.line - 1, className: c.name }));
}

/** The input the class's first layer takes, at batch 2 and 16 positions (or 16×16 pixels); undefined when no layer says. */
export async function guessInputShape(source: string, file: string, className: string, where: ImportContext = {}): Promise<number[] | undefined> {
  let module;
  try {
    module = (await loadUserModule(source, { file, className, maxSteps: 200_000, ...where })).module;
  } catch {
    return undefined;
  }
  // A 2-D pooling before any layer that fixes the width (SE's squeeze) means an image input.
  let image = false;
  for (const [, m] of module.namedModules().slice(1)) {
    if (m instanceof nn.AdaptiveAvgPool2d || m instanceof nn.AdaptiveMaxPool2d || m instanceof nn.AvgPool2d || m instanceof nn.MaxPool2d) image = true;
    if (m instanceof nn.Linear) return image ? [2, m.in_features, 16, 16] : [2, 16, m.in_features];
    if (m instanceof nn.Conv2d) return [2, m.in_channels, 16, 16];
    if (m instanceof nn.Conv1d) return [2, m.in_channels, 16];
    if (m instanceof nn.BatchNorm2d) return [2, m.num_features, 16, 16];
    if (m instanceof nn.LayerNorm) return [2, 16, ...m.normalized_shape];
    if (m instanceof nn.MultiheadAttention) return m.batch_first ? [2, 16, m.embed_dim] : [16, 2, m.embed_dim];
  }
  return undefined;
}

/** `2,16,64` or `2x16x64`, several separated by `;` (one per forward argument); an error message otherwise. */
export function parseShapes(text: string): number[][] | string {
  const parts = text.split(';').map((p) => p.trim()).filter(Boolean);
  if (!parts.length) return 'Give the input shape, such as 2,16,64 (several separated by ;).';
  const out: number[][] = [];
  for (const p of parts) {
    if (!/^\d+(\s*[,x×]\s*\d+)*$/.test(p)) return `'${p}' is not a shape: write sizes separated by commas, such as 2,16,64.`;
    const shape = p.split(/[,x×]/).map((d) => parseInt(d, 10));
    if (shape.some((d) => d < 1 || d > 65_536)) return `'${p}': every size must be between 1 and 65,536.`;
    if (shape.length > 8) return `'${p}': at most 8 dimensions.`;
    out.push(shape);
  }
  return out;
}

/** Values read per map (whole items only). */
const MAX_MAP_VALUES = 1 << 20;

/** A captured map as the panel receives it: its first items' values, and its geometry. */
function toMap(m: CapturedAttention, className: string): AttentionMap {
  const w = m.weights;
  const shape = [...w.shape];
  const [L, S] = shape.slice(-2);
  const heads = shape.length >= 4 ? shape[shape.length - 3] : 1;
  const items = shape.slice(0, -2).reduce((p, d) => p * d, 1) / heads;
  const perItem = heads * L * S;
  const itemsRead = Math.min(items, Math.floor(MAX_MAP_VALUES / perItem));
  const data = itemsRead > 0 ? w.contiguous().dataSync().slice(0, itemsRead * perItem) : null;
  return { path: m.path || className, source: m.source, shape, items, heads, L, S, data, itemsRead, channel: false };
}

/** A checkpoint to load into the module before the run: its name as shown and its state_dict. */
export interface ModuleWeights {
  readonly file: string;
  readonly tensors: ReadonlyMap<string, Tensor>;
}

/** A tensor given for forward's first input (an image the panel resized and normalised), in place of the seeded draw. */
export interface GivenInput {
  /** Where it came from, as shown (the image's file name). */
  readonly from: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/**
 * Runs the class on seeded inputs of the given shapes (the first one `given` instead, when there
 * is one: its shape replaces the first shape) and describes the run for the preview panel.
 */
export async function runModulePreview(source: string, file: string, className: string, shapes: readonly number[][], seed = 0, where: ImportContext = {}, weights?: ModuleWeights, given?: GivenInput): Promise<PreviewModuleMessage> {
  const gen = new Generator(seed);
  const base = baseMessage(file, className, shapes, given);
  try {
    const { module } = await loadUserModule(source, { file, className, generator: gen, ...where });
    return runBuiltModule(module, base, gen, weights, given);
  } catch (e) {
    if (e instanceof InterpretError) return { ...base, error: e.message };
    if (e instanceof RangeError) return { ...base, error: memoryMessage(className, e) };
    throw e;
  }
}

/** The message of a run that has not happened yet: the inputs it will take (the given one's shape first, when there is one), no layers. */
export function baseMessage(file: string, className: string, shapes: readonly number[][], given?: GivenInput): PreviewModuleMessage {
  const runShapes = given ? [[...given.shape], ...shapes.slice(1)] : shapes;
  return { type: 'module', file, className, inputs: runShapes.map((s, i) => ({ name: `input${i}`, shape: [...s] })), outputs: [], layers: [], totalParams: 0, totalFlops: 0, activationBytes: 0, forwardMs: 0, ...(given ? { inputFrom: given.from } : {}) };
}

/** What the panel says when the CPU backend could not allocate a run's tensors. */
export function memoryMessage(className: string, e: RangeError): string {
  return `${className} with these inputs needs more memory than the CPU backend can allocate (${e.message}); choose a smaller input.`;
}

/**
 * The run shared by Python and TypeScript modules, once the module is built (its parameters
 * drawn from `gen`): the checkpoint loaded non-strict, the inputs drawn from `gen` (or given),
 * one forward under the tracer with the attention capture, and the message. Errors of the user's
 * code propagate to the caller, which knows how to name their place.
 */
export function runBuiltModule(module: nn.Module, base: PreviewModuleMessage, gen: Generator, weights?: ModuleWeights, given?: GivenInput): PreviewModuleMessage {
  const className = base.className;
  const runShapes = base.inputs.map((i) => i.shape);
  let loaded: PreviewModuleMessage['weights'];
  if (weights) {
    // Non-strict, as `load_state_dict(strict=False)`: what did not match is listed in the panel; a shape mismatch stops the run.
    try {
      const r = module.loadStateDict(weights.tensors, false);
      loaded = { file: weights.file, missing: r.missingKeys, unexpected: r.unexpectedKeys };
    } catch (e) {
      if (e instanceof TorchError) return { ...base, error: `${weights.file}: ${e.message}` };
      throw e;
    }
  }
  if (given && given.data.length !== given.shape.reduce((p, d) => p * d, 1)) return { ...base, error: `${given.from}: ${given.data.length} values do not fill the shape (${given.shape.join(', ')})` };
  const inputs = runShapes.map((s, i) => (i === 0 && given ? tensor(given.data, { shape: [...given.shape] }) : randn(s, gen)));
  const t0 = performance.now();
  const capture = new AttentionCapture();
  // A module's forward takes what its class declares; the inputs are the tensors its caller chose shapes for.
  // It is read inside the call, where the tracer has wrapped it.
  const trace = traceForward(module, () => (module.forward as (...args: Tensor[]) => unknown).call(module, ...inputs), { onKernel: capture.onKernel });
  const maps = capture.maps.map((m) => toMap(m, className));
  const forwardMs = performance.now() - t0;
  const r = trace.result as PyValue;
  const items = r instanceof PyTuple ? r.items : Array.isArray(r) ? r : [r];
  const outputs = items.flatMap((t, i) => (t instanceof Tensor ? [{ name: items.length > 1 ? `output${i}` : 'output', shape: [...t.shape] }] : []));
  return {
    ...base,
    outputs,
    layers: trace.layers.map((l) => ({ path: l.path || className, type: l.type, depth: l.depth, outputShapes: l.outputShapes.map((s) => [...s]), params: l.parameters, flops: l.flops, activationBytes: l.activationBytes })),
    totalParams: trace.totals.parameters,
    totalFlops: trace.totals.flops,
    activationBytes: trace.totals.activationBytes,
    forwardMs,
    maps,
    ...(loaded ? { weights: loaded } : {}),
  };
}
