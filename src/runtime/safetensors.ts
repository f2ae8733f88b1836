/**
 * The `.safetensors` format: an 8-byte little-endian header length, a JSON
 * header mapping each tensor name to `{dtype, shape, data_offsets}` (plus an
 * optional `__metadata__` of strings), then the raw little-endian data.
 * `parseSafetensors` reads F32, F64, F16, BF16, I64, I32, I16, I8, U8 and BOOL
 * into runtime tensors (floats → float32, integers → int64, BOOL → bool),
 * checking the header strictly and naming the offending key in every error;
 * `serializeSafetensors` writes float32 as F32, int64 as I64 and bool as BOOL.
 * No file system access here: callers pass bytes.
 */

import type { Backend } from './backend';
import { cpu } from './cpu';
import { TorchError } from './errors';
import { contiguousStrides, numel } from './kernels/kernel';
import { Tensor, type DType } from './tensor';

const SIZES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

export class SafetensorsError extends Error {}

interface Entry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** An IEEE half-precision bit pattern as a number (also used by the PyTorch checkpoint reader). */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** Parses a whole file's bytes; tensors are created on `device` (CPU by default). */
export function parseSafetensors(bytes: Uint8Array, device: Backend = cpu): Map<string, Tensor> {
  if (bytes.length < 8) throw new SafetensorsError(`not a safetensors file: ${bytes.length} bytes, need at least 8`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  if (8 + n > bytes.length) throw new SafetensorsError(`header length ${n} exceeds the file size ${bytes.length}`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
  } catch (e) {
    throw new SafetensorsError(`invalid JSON header: ${(e as Error).message}`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new SafetensorsError('the header must be a JSON object');
  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  const out = new Map<string, Tensor>();
  const ranges: [number, number, string][] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const e = raw as Entry;
    if (!e || typeof e !== 'object' || typeof e.dtype !== 'string' || !Array.isArray(e.shape) || !Array.isArray(e.data_offsets) || e.data_offsets.length !== 2) {
      throw new SafetensorsError(`tensor '${name}': header entry needs dtype, shape and data_offsets [begin, end]`);
    }
    const size = SIZES[e.dtype];
    if (!size) throw new SafetensorsError(`tensor '${name}': unsupported dtype ${e.dtype} (supported: ${Object.keys(SIZES).join(', ')})`);
    if (e.shape.some((s) => !Number.isInteger(s) || s < 0)) throw new SafetensorsError(`tensor '${name}': invalid shape ${JSON.stringify(e.shape)}`);
    const [b, en] = e.data_offsets;
    const count = numel(e.shape);
    if (!Number.isInteger(b) || !Number.isInteger(en) || b < 0 || en < b || en > dataLen) {
      throw new SafetensorsError(`tensor '${name}': data_offsets [${b}, ${en}] outside the data section of ${dataLen} bytes`);
    }
    if (en - b !== count * size) {
      throw new SafetensorsError(`tensor '${name}': ${e.dtype} ${JSON.stringify(e.shape)} needs ${count * size} bytes but data_offsets span ${en - b}`);
    }
    ranges.push([b, en, name]);
    const p = dataStart + b;
    const vals = new Float32Array(count);
    let dtype: DType = 'float32';
    for (let i = 0; i < count; i++) {
      const o = p + i * size;
      switch (e.dtype) {
        case 'F32': vals[i] = dv.getFloat32(o, true); break;
        case 'F64': vals[i] = dv.getFloat64(o, true); break;
        case 'F16': vals[i] = halfToFloat(dv.getUint16(o, true)); break;
        case 'BF16': vals[i] = new Float32Array(new Uint32Array([dv.getUint16(o, true) << 16]).buffer)[0]; break;
        case 'I64': vals[i] = Number(dv.getBigInt64(o, true)); break;
        case 'I32': vals[i] = dv.getInt32(o, true); break;
        case 'I16': vals[i] = dv.getInt16(o, true); break;
        case 'I8': vals[i] = dv.getInt8(o); break;
        case 'U8': vals[i] = dv.getUint8(o); break;
        case 'BOOL': vals[i] = dv.getUint8(o) ? 1 : 0; break;
      }
    }
    if (e.dtype === 'BOOL') dtype = 'bool';
    else if (e.dtype[0] === 'I' || e.dtype === 'U8') dtype = 'int64';
    out.set(name, new Tensor(device.upload(vals), [...e.shape], contiguousStrides(e.shape), 0, dtype));
  }
  ranges.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i][0] < ranges[i - 1][1]) throw new SafetensorsError(`tensors '${ranges[i - 1][2]}' and '${ranges[i][2]}' overlap in the data section`);
  }
  return out;
}

/** Serialises tensors (CPU-readable) to safetensors bytes, in the map's order. */
export function serializeSafetensors(tensors: ReadonlyMap<string, Tensor>, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  const datas: { bytes: Uint8Array }[] = [];
  let off = 0;
  for (const [name, t] of tensors) {
    const d = t.dataSync();
    let bytes: Uint8Array;
    let dtype: string;
    if (t.dtype === 'float32') {
      dtype = 'F32';
      bytes = new Uint8Array(d.length * 4);
      const dv = new DataView(bytes.buffer);
      d.forEach((v, i) => dv.setFloat32(i * 4, v, true));
    } else if (t.dtype === 'int64') {
      dtype = 'I64';
      bytes = new Uint8Array(d.length * 8);
      const dv = new DataView(bytes.buffer);
      d.forEach((v, i) => dv.setBigInt64(i * 8, BigInt(Math.trunc(v)), true));
    } else {
      dtype = 'BOOL';
      bytes = Uint8Array.from(d, (v) => (v ? 1 : 0));
    }
    header[name] = { dtype, shape: [...t.shape], data_offsets: [off, off + bytes.length] };
    datas.push({ bytes });
    off += bytes.length;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
  while ((8 + json.length) % 8 !== 0) json += ' ';
  const hb = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + hb.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let p = 8 + hb.length;
  for (const { bytes } of datas) {
    out.set(bytes, p);
    p += bytes.length;
  }
  return out;
}

/** Reads a state dict from safetensors bytes and loads it strictly into a module. */
export function loadStateDictFromSafetensors(module: { loadStateDict(sd: ReadonlyMap<string, Tensor>, strict?: boolean): void }, bytes: Uint8Array, strict = true): void {
  let sd: Map<string, Tensor>;
  try {
    sd = parseSafetensors(bytes);
  } catch (e) {
    if (e instanceof SafetensorsError) throw new TorchError('RuntimeError', `cannot read safetensors: ${e.message}`);
    throw e;
  }
  module.loadStateDict(sd, strict);
}
