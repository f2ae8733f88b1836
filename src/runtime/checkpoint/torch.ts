/**
 * PyTorch checkpoints (`torch.save`) read without Python: the zip format of
 * torch ≥ 1.6 (`<name>/data.pkl`, `<name>/data/<key>`, `byteorder`,
 * `version`) and the legacy format of `_use_new_zipfile_serialization=False`
 * (magic, protocol, system info, the object, the storage keys, then each
 * storage's bytes). The object is read by the restricted unpickler
 * (`pickle.ts`) with an allowlist of exactly what a tensor state_dict needs:
 * `torch._utils._rebuild_tensor_v2` / `_rebuild_tensor` / `_rebuild_parameter`
 * (and `_rebuild_parameter_with_state`), the `torch.*Storage` types of the
 * real and integer dtypes, `collections.OrderedDict`, and storages by
 * persistent id. Every storage must fit in its record, every tensor's
 * offset, sizes and strides must stay inside its storage, and the elements
 * materialised in total are capped, so a hostile file cannot make the reader
 * allocate much more than the file's own size.
 *
 * Which dict is the state_dict (`findStateDict`): the top-level object when
 * every value is a tensor; else the value under the first of `state_dict`,
 * `model_state_dict`, `model`, `module`, `net`, `network`, `weights`, `params`
 * that leads to one (the rule applied again inside it, three levels at most);
 * else the only dict of tensors within three levels; several are an error
 * that lists them (`key` picks one by dotted path).
 *
 * Values become runtime tensors: floating dtypes (float16, bfloat16, float64)
 * as float32, integer dtypes as int64 (exact to 2^24, as the runtime's int64
 * is), bool as bool; views that share a storage (tied weights, slices of a
 * fused `qkv`, transposes) are gathered through their own strides and offset.
 * It does not load modules pickled whole, optimizer state, quantized or
 * complex tensors, or big-endian files: those are refused by name.
 */

import type { Backend, DType } from '../backend';
import { cpu } from '../cpu';
import { contiguousStrides } from '../kernels/kernel';
import { halfToFloat } from '../safetensors';
import { Tensor } from '../tensor';
import { CheckpointError } from './errors';
import { PyCallable, PyDict, PyFloat, PyTuple, pyTypeName, unpickle, type PyObject, type PyValue } from './pickle';
import { isZip, readZip } from './zip';

type Elem = 'float32' | 'float16' | 'bfloat16' | 'float64' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

const STORAGES: Record<string, { elem: Elem; size: number }> = {
  FloatStorage: { elem: 'float32', size: 4 },
  HalfStorage: { elem: 'float16', size: 2 },
  BFloat16Storage: { elem: 'bfloat16', size: 2 },
  DoubleStorage: { elem: 'float64', size: 8 },
  LongStorage: { elem: 'int64', size: 8 },
  IntStorage: { elem: 'int32', size: 4 },
  ShortStorage: { elem: 'int16', size: 2 },
  CharStorage: { elem: 'int8', size: 1 },
  ByteStorage: { elem: 'uint8', size: 1 },
  BoolStorage: { elem: 'bool', size: 1 },
};

/** The state_dict keys tried, in order, when the top level is not itself a dict of tensors. */
export const STATE_DICT_KEYS = ['state_dict', 'model_state_dict', 'model', 'module', 'net', 'network', 'weights', 'params'] as const;

class StorageType implements PyObject {
  readonly typeName: string;
  constructor(
    readonly name: string,
    readonly elem: Elem,
    readonly size: number,
  ) {
    this.typeName = `torch.${name}`;
  }
}

/** A storage named by a persistent id; `bytes` is bound when its record is found. */
class StorageRef implements PyObject {
  readonly typeName: string;
  bytes: Uint8Array | null = null;
  constructor(
    readonly type: StorageType,
    readonly key: string,
    readonly numel: number,
  ) {
    this.typeName = `torch.${type.name}`;
  }
}

/** A tensor as the pickle describes it: nothing is read until `materialize`. */
export class TensorRecord implements PyObject {
  readonly typeName = 'torch.Tensor';
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: readonly number[],
    readonly strides: readonly number[],
    public isParameter = false,
  ) {}
  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
  get dtype(): Elem {
    return this.storage.type.elem;
  }
}

export interface CheckpointOptions {
  /** Where the tensors are created (CPU by default). */
  readonly device?: Backend;
  /** Dotted path of the state_dict inside the checkpoint (`model`, `ema.state_dict`); found by rule otherwise. */
  readonly key?: string;
  /**
   * The most elements materialised over all tensors. Default: four times the elements of all
   * storages plus 2^20 — views and tied weights repeat a storage, a hostile file repeats it
   * without end.
   */
  readonly maxElements?: number;
}

export interface Checkpoint {
  readonly format: 'torch-zip' | 'torch-legacy';
  /** Where the state_dict was found ('' for the top level). */
  readonly key: string;
  readonly tensors: Map<string, Tensor>;
}

const int = (v: PyValue, what: string): number => {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  throw new CheckpointError(`${what} must be an integer, got ${v instanceof PyFloat ? v.value : pyTypeName(v)}`);
};

const ints = (v: PyValue, what: string): number[] => {
  if (!(v instanceof PyTuple) && !Array.isArray(v)) throw new CheckpointError(`${what} must be a tuple of integers, got ${pyTypeName(v)}`);
  const items = v instanceof PyTuple ? v.items : v;
  if (items.length > 64) throw new CheckpointError(`${what} has ${items.length} dimensions`);
  return items.map((x, i) => int(x, `${what}[${i}]`));
};

function fmt(shape: readonly number[]): string {
  return `(${shape.join(', ')})`;
}

/** `_rebuild_tensor_v2(storage, storage_offset, size, stride, ...)`, validated against the storage's declared size. */
function rebuildTensor(args: readonly PyValue[], fn: string, minArgs: number, maxArgs: number): TensorRecord {
  if (args.length < minArgs || args.length > maxArgs) throw new CheckpointError(`${fn} takes ${minArgs}–${maxArgs} arguments, got ${args.length}`);
  const [storage, off, size, stride] = args;
  if (!(storage instanceof StorageRef)) throw new CheckpointError(`${fn}: the first argument is a ${pyTypeName(storage)}, not a storage`);
  const offset = int(off, `${fn}: storage_offset`);
  const shape = ints(size, `${fn}: size`);
  const strides = ints(stride, `${fn}: stride`);
  if (shape.length !== strides.length) throw new CheckpointError(`${fn}: size ${fmt(shape)} and stride ${fmt(strides)} differ in length`);
  if (offset < 0 || shape.some((s) => s < 0) || strides.some((s) => s < 0)) throw new CheckpointError(`${fn}: negative offset, size or stride (offset ${offset}, size ${fmt(shape)}, stride ${fmt(strides)})`);
  // The highest element index a view reaches must lie inside its storage (an empty view reaches none).
  if (!shape.includes(0)) {
    let last = offset;
    for (let i = 0; i < shape.length; i++) last += (shape[i] - 1) * strides[i];
    if (!Number.isSafeInteger(last) || last >= storage.numel) {
      throw new CheckpointError(`tensor of size ${fmt(shape)}, stride ${fmt(strides)}, offset ${offset} reaches element ${last} of storage '${storage.key}', which holds ${storage.numel}`);
    }
    let n = 1;
    for (const s of shape) {
      n *= s;
      if (n > Number.MAX_SAFE_INTEGER) throw new CheckpointError(`tensor of size ${fmt(shape)} has too many elements`);
    }
  }
  if (args.length > 5) {
    const hooks = args[5];
    if (!(hooks instanceof PyDict) || hooks.entries.size) throw new CheckpointError(`${fn}: backward hooks are not supported`);
  }
  return new TensorRecord(storage, offset, shape, strides);
}

function rebuildParameter(args: readonly PyValue[], fn: string): TensorRecord {
  if (args.length < 3 || args.length > 4) throw new CheckpointError(`${fn} takes 3–4 arguments, got ${args.length}`);
  const t = args[0];
  if (!(t instanceof TensorRecord)) throw new CheckpointError(`${fn}: the data is a ${pyTypeName(t)}, not a tensor`);
  const hooks = args[2];
  if (!(hooks instanceof PyDict) || hooks.entries.size) throw new CheckpointError(`${fn}: backward hooks are not supported`);
  const rec = new TensorRecord(t.storage, t.offset, t.shape, t.strides, true);
  return rec;
}

/** The allowlist: the only globals a checkpoint may name. */
function findGlobal(module: string, name: string): PyValue | undefined {
  const q = `${module}.${name}`;
  if (q === 'collections.OrderedDict') {
    return new PyCallable(q, (args) => {
      const d = new PyDict(true);
      if (args.length === 0) return d;
      const items = args[0];
      if (args.length > 1 || !Array.isArray(items)) throw new CheckpointError('collections.OrderedDict is called with a list of pairs or nothing');
      for (const kv of items) {
        if (!(kv instanceof PyTuple) || kv.items.length !== 2 || typeof kv.items[0] !== 'string') throw new CheckpointError('collections.OrderedDict: items must be (str, value) pairs');
        d.entries.set(kv.items[0], kv.items[1]);
      }
      return d;
    });
  }
  if (q === 'torch._utils._rebuild_tensor_v2') return new PyCallable(q, (a) => rebuildTensor(a, name, 6, 7));
  if (q === 'torch._utils._rebuild_tensor') return new PyCallable(q, (a) => rebuildTensor(a, name, 4, 4));
  if (q === 'torch._utils._rebuild_parameter' || q === 'torch._utils._rebuild_parameter_with_state') return new PyCallable(q, (a) => rebuildParameter(a, name));
  if (module === 'torch' && name in STORAGES) return new StorageType(name, STORAGES[name].elem, STORAGES[name].size);
  if (module === 'torch' && name.endsWith('Storage')) {
    throw new CheckpointError(`torch.${name} is not supported (tensors of ${Object.keys(STORAGES).map((s) => s.replace('Storage', '')).join(', ')} are)`);
  }
  return undefined;
}

/** Reads `('storage', type, key, location, numel[, view_metadata])` and finds the storage's record. */
function storageLoader(legacy: boolean, record: (key: string) => Uint8Array | null, storages: Map<string, StorageRef>) {
  return (pid: PyValue): PyValue => {
    const items = pid instanceof PyTuple ? pid.items : null;
    if (!items || items[0] !== 'storage' || items.length < 5 || items.length > 6) {
      throw new CheckpointError(`persistent id ${pyTypeName(pid)} is not a storage reference`);
    }
    const [, type, key, location, n] = items;
    if (!(type instanceof StorageType)) throw new CheckpointError(`storage reference with a ${pyTypeName(type)} instead of a storage type`);
    if (typeof key !== 'string' || key.length > 64) throw new CheckpointError('storage key must be a short string');
    if (typeof location !== 'string') throw new CheckpointError(`storage '${key}': location must be a string`);
    if (items.length === 6 && items[5] !== null) throw new CheckpointError(`storage '${key}' is a view of another storage (torch < 1.0), which is not supported`);
    const numel = int(n, `storage '${key}': numel`);
    if (numel < 0) throw new CheckpointError(`storage '${key}' declares ${numel} elements`);
    const seen = storages.get(key);
    if (seen) {
      if (seen.type !== type && seen.type.name !== type.name) throw new CheckpointError(`storage '${key}' is declared as both ${seen.type.name} and ${type.name}`);
      return seen;
    }
    const ref = new StorageRef(type, key, numel);
    if (!legacy) {
      const bytes = record(key);
      if (!bytes) throw new CheckpointError(`storage '${key}' has no record data/${key} in the archive`);
      if (numel * type.size > bytes.length) {
        throw new CheckpointError(`storage '${key}' declares ${numel} ${type.elem} elements (${numel * type.size} bytes) but its record holds ${bytes.length} bytes`);
      }
      ref.bytes = bytes;
    }
    storages.set(key, ref);
    return ref;
  };
}

function readZipCheckpoint(bytes: Uint8Array): { root: PyValue; storages: Map<string, StorageRef> } {
  const entries = readZip(bytes);
  const first = entries.keys().next().value;
  const slash = first === undefined ? -1 : first.indexOf('/');
  if (slash < 0) throw new CheckpointError('a zip archive, but not one torch.save wrote (no <name>/data.pkl)');
  const prefix = (first as string).slice(0, slash + 1);
  const pkl = entries.get(`${prefix}data.pkl`);
  if (!pkl) throw new CheckpointError(`a zip archive, but not one torch.save wrote (no ${prefix}data.pkl)`);
  const order = entries.get(`${prefix}byteorder`);
  if (order && new TextDecoder().decode(order) !== 'little') throw new CheckpointError(`the checkpoint is ${new TextDecoder().decode(order)}-endian; only little-endian files are supported`);
  const storages = new Map<string, StorageRef>();
  const load = storageLoader(false, (key) => entries.get(`${prefix}data/${key}`) ?? null, storages);
  const { value } = unpickle(pkl, { findGlobal, persistentLoad: load });
  return { root: value, storages };
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

/** Whether the bytes start like a legacy (non-zip) `torch.save` file: protocol 2, then the magic number as LONG1. */
function isLegacy(bytes: Uint8Array): boolean {
  return bytes.length > 4 && bytes[0] === 0x80 && bytes[1] === 0x02 && bytes[2] === 0x8a && bytes[3] === 0x0a;
}

function readLegacyCheckpoint(bytes: Uint8Array): { root: PyValue; storages: Map<string, StorageRef> } {
  const none = { findGlobal: () => undefined, persistentLoad: () => { throw new CheckpointError('unexpected persistent id in the header'); } };
  let r = unpickle(bytes, none, 0);
  if (r.value !== LEGACY_MAGIC) throw new CheckpointError('a pickle, but not a torch.save file (wrong magic number)');
  r = unpickle(bytes, none, r.end);
  if (r.value !== 1001) throw new CheckpointError(`legacy checkpoint protocol ${String(r.value)} is not supported (1001 is)`);
  r = unpickle(bytes, none, r.end);
  const info = r.value;
  if (info instanceof PyDict && info.entries.get('little_endian') === false) throw new CheckpointError('the checkpoint is big-endian; only little-endian files are supported');
  const storages = new Map<string, StorageRef>();
  const main = unpickle(bytes, { findGlobal, persistentLoad: storageLoader(true, () => null, storages) }, r.end);
  const keys = unpickle(bytes, none, main.end);
  if (!Array.isArray(keys.value) || keys.value.some((k) => typeof k !== 'string')) throw new CheckpointError('the list of storage keys is missing');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = keys.end;
  for (const key of keys.value as string[]) {
    const ref = storages.get(key);
    if (!ref) throw new CheckpointError(`storage '${key}' is listed but never used`);
    if (p + 8 > bytes.length) throw new CheckpointError(`storage '${key}': the file ends before its size (truncated?)`);
    const n = dv.getBigInt64(p, true);
    if (n !== BigInt(ref.numel)) throw new CheckpointError(`storage '${key}' holds ${n} elements but the pickle declares ${ref.numel}`);
    const len = ref.numel * ref.type.size;
    if (p + 8 + len > bytes.length) throw new CheckpointError(`storage '${key}' (${len} bytes) runs past the end of the file (truncated?)`);
    ref.bytes = bytes.subarray(p + 8, p + 8 + len);
    p += 8 + len;
  }
  for (const [key, ref] of storages) if (!ref.bytes) throw new CheckpointError(`storage '${key}' has no data in the file`);
  return { root: main.value, storages };
}

function isTensorDict(v: PyValue): boolean {
  if (!(v instanceof PyDict) || v.entries.size === 0) return false;
  for (const [k, x] of v.entries) if (typeof k !== 'string' || !(x instanceof TensorRecord)) return false;
  return true;
}

function describe(v: PyValue): string {
  if (!(v instanceof PyDict)) return `${/^[aeiou]/i.test(pyTypeName(v)) ? 'an' : 'a'} ${pyTypeName(v)}`;
  const keys = [...v.entries.keys()].slice(0, 8).map((k) => JSON.stringify(k));
  return `a dict with keys ${keys.join(', ')}${v.entries.size > 8 ? ', …' : ''}`;
}

/** Finds the state_dict by the rule in this module's header; returns its dotted path. */
export function findStateDict(root: PyValue, key?: string): { dict: PyDict; path: string } {
  if (key !== undefined && key !== '') {
    let v: PyValue = root;
    for (const part of key.split('.')) {
      if (!(v instanceof PyDict) || !v.entries.has(part)) throw new CheckpointError(`the checkpoint has no key '${key}' (its top level is ${describe(root)})`);
      v = v.entries.get(part) as PyValue;
    }
    if (!isTensorDict(v)) throw new CheckpointError(`'${key}' in the checkpoint is ${describe(v)}, not a dict of tensors`);
    return { dict: v as PyDict, path: key };
  }
  const preferred = (v: PyValue, path: string, depth: number): { dict: PyDict; path: string } | null => {
    if (isTensorDict(v)) return { dict: v as PyDict, path };
    if (!(v instanceof PyDict) || depth >= 3) return null;
    for (const k of STATE_DICT_KEYS) {
      const found = v.entries.has(k) ? preferred(v.entries.get(k) as PyValue, path ? `${path}.${k}` : k, depth + 1) : null;
      if (found) return found;
    }
    return null;
  };
  const hit = preferred(root, '', 0);
  if (hit) return hit;
  const all: { dict: PyDict; path: string }[] = [];
  const seen = new Set<PyDict>();
  const walk = (v: PyValue, path: string, depth: number): void => {
    if (!(v instanceof PyDict) || seen.has(v) || all.length > 16) return;
    seen.add(v);
    if (isTensorDict(v)) {
      all.push({ dict: v, path });
      return;
    }
    if (depth >= 3) return;
    for (const [k, x] of v.entries) if (typeof k === 'string') walk(x, path ? `${path}.${k}` : k, depth + 1);
  };
  walk(root, '', 0);
  if (all.length === 1) return all[0];
  if (all.length === 0) throw new CheckpointError(`no dict of tensors found in the checkpoint (it holds ${describe(root)})`);
  throw new CheckpointError(`the checkpoint holds several dicts of tensors (${all.map((a) => `'${a.path}'`).join(', ')}); choose one by its key (--weights-key)`);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Reads a record's elements into float32 values along its strides. */
function gather(rec: TensorRecord): Float32Array {
  const bytes = rec.storage.bytes as Uint8Array;
  const n = rec.numel;
  const out = new Float32Array(n);
  if (n === 0) return out;
  const size = rec.storage.type.size;
  const elem = rec.dtype;
  const contiguous = rec.shape.every((s, i) => s === 1 || rec.strides[i] === contiguousStrides(rec.shape)[i]);
  const base = bytes.byteOffset + rec.offset * size;
  if (elem === 'float32' && contiguous && LITTLE_ENDIAN && base % 4 === 0) {
    out.set(new Float32Array(bytes.buffer, base, n));
    return out;
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bf = new Uint32Array(1);
  const bff = new Float32Array(bf.buffer);
  const read = (i: number): number => {
    const o = i * size;
    switch (elem) {
      case 'float32': return dv.getFloat32(o, true);
      case 'float16': return halfToFloat(dv.getUint16(o, true));
      case 'bfloat16': bf[0] = dv.getUint16(o, true) << 16; return bff[0];
      case 'float64': return dv.getFloat64(o, true);
      case 'int64': return Number(dv.getBigInt64(o, true));
      case 'int32': return dv.getInt32(o, true);
      case 'int16': return dv.getInt16(o, true);
      case 'int8': return dv.getInt8(o);
      case 'uint8': return dv.getUint8(o);
      case 'bool': return dv.getUint8(o) ? 1 : 0;
    }
  };
  // Walk the multi-index in row-major order, advancing the storage index by the strides.
  const nd = rec.shape.length;
  const idx = new Array<number>(nd).fill(0);
  let s = rec.offset;
  for (let k = 0; k < n; k++) {
    out[k] = read(s);
    for (let d = nd - 1; d >= 0; d--) {
      if (++idx[d] < rec.shape[d]) {
        s += rec.strides[d];
        break;
      }
      s -= (rec.shape[d] - 1) * rec.strides[d];
      idx[d] = 0;
    }
  }
  return out;
}

function runtimeDtype(e: Elem): DType {
  if (e === 'bool') return 'bool';
  if (e.startsWith('int') || e === 'uint8') return 'int64';
  return 'float32';
}

/** Whether the bytes look like a `torch.save` file (zip or legacy). */
export function isTorchCheckpoint(bytes: Uint8Array): boolean {
  return isZip(bytes) || isLegacy(bytes);
}

/** Reads a `torch.save` file's state_dict as runtime tensors. Throws `CheckpointError` with a one-line reason. */
export function readTorchCheckpoint(bytes: Uint8Array, o: CheckpointOptions = {}): Checkpoint {
  let format: Checkpoint['format'];
  let parsed: { root: PyValue; storages: Map<string, StorageRef> };
  if (isZip(bytes)) {
    format = 'torch-zip';
    parsed = readZipCheckpoint(bytes);
  } else if (isLegacy(bytes)) {
    format = 'torch-legacy';
    parsed = readLegacyCheckpoint(bytes);
  } else if (bytes.length > 262 && new TextDecoder('latin1').decode(bytes.subarray(257, 262)) === 'ustar') {
    throw new CheckpointError('the tar checkpoint format of torch < 0.4 is not supported; load it in torch and save it again');
  } else {
    throw new CheckpointError('not a torch.save file (neither a zip archive nor a legacy pickle)');
  }
  const { dict, path } = findStateDict(parsed.root, o.key);
  let storageElements = 0;
  for (const s of parsed.storages.values()) storageElements += s.numel;
  const budget = o.maxElements ?? 4 * storageElements + 2 ** 20;
  let total = 0;
  for (const [k, rec] of dict.entries) {
    total += (rec as TensorRecord).numel;
    if (total > budget) throw new CheckpointError(`tensor '${String(k)}' of size ${fmt((rec as TensorRecord).shape)} takes the elements materialised past ${budget} (the file's storages hold ${storageElements}); refused`);
  }
  const device = o.device ?? cpu;
  const tensors = new Map<string, Tensor>();
  for (const [k, v] of dict.entries) {
    const rec = v as TensorRecord;
    tensors.set(k as string, new Tensor(device.upload(gather(rec)), [...rec.shape], contiguousStrides(rec.shape), 0, runtimeDtype(rec.dtype)));
  }
  return { format, key: path, tensors };
}
