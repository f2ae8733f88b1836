/**
 * Small helpers kernels use to write their WGSL: float literals, the index
 * arithmetic of strided (and broadcast) views, dispatch sizes that stay
 * inside `maxComputeWorkgroupsPerDimension`, uniform packing and the math
 * functions WGSL lacks (erf, an overflow-safe tanh). Every kernel's own
 * program lives in its kernel file (`<op>.ts`); this module holds no kernel and
 * never touches a device. Shapes, strides and offsets are baked into the code
 * as constants: one pipeline per shape, which the backend caches by source
 * text, in exchange for index arithmetic the shader compiler can fold.
 */

import type { TensorMeta } from '../backend';
import type { WgslProgram } from './kernel';
import { broadcastStrides, numel } from './kernel';

/** A program plus what the backend checks against the device limits before dispatch. */
export interface GpuProgram extends WgslProgram {
  /** Bytes of `var<workgroup>` memory the program declares (checked against maxComputeWorkgroupStorageSize). */
  readonly workgroupStorageBytes?: number;
  /** Invocations per workgroup (checked against maxComputeInvocationsPerWorkgroup). */
  readonly invocations?: number;
}

/** Largest workgroup count per dimension every WebGPU device supports. */
export const MAX_GROUPS_PER_DIM = 65535;

/** A WGSL `f32` literal for a finite number (rounded to f32 first, printed so it round-trips). */
export function f32(x: number): string {
  const v = Math.fround(x);
  if (!Number.isFinite(v)) throw new Error(`f32(${x}): WGSL has no literal for a non-finite value; pass it in the uniforms`);
  if (Number.isInteger(v) && Math.abs(v) < 1e9) return `${v}.0`;
  return `${v.toPrecision(9)}`;
}

/** A WGSL `u32` literal. */
export function u32(x: number): string {
  if (!Number.isInteger(x) || x < 0 || x > 0xffffffff) throw new Error(`u32(${x}): not a u32`);
  return `${x}u`;
}

/**
 * `fn name(i: u32) -> u32`: the storage index of element `i` (row-major over
 * `shape`) of `view`, which is broadcast to `shape` (right-aligned; size-1
 * and missing dims repeat). Contiguous unbroadcast views reduce to `offset + i`.
 */
export function viewIndexFn(name: string, shape: readonly number[], view: TensorMeta): string {
  return stridedIndexFn(name, shape, broadcastStrides(view, shape), view.offset);
}

/** `fn name(i: u32) -> u32`: `offset + Σ coord_d(i) · strides[d]`, coords of `i` row-major over `shape`. */
export function stridedIndexFn(name: string, shape: readonly number[], strides: readonly number[], offset: number): string {
  let contiguous = true;
  let s = 1;
  for (let d = shape.length - 1; d >= 0 && contiguous; d--) {
    if (shape[d] !== 1 && strides[d] !== s) contiguous = false;
    s *= shape[d];
  }
  if (contiguous) return `fn ${name}(i: u32) -> u32 { return ${u32(offset)} + i; }\n`;
  const lines = [`fn ${name}(i: u32) -> u32 {`, `  var r = i;`, `  var o = ${u32(offset)};`];
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] === 1) continue;
    const last = !shape.slice(0, d).some((x) => x !== 1);
    if (strides[d] !== 0) lines.push(last ? `  o += r * ${u32(strides[d])};` : `  o += (r % ${u32(shape[d])}) * ${u32(strides[d])};`);
    if (last) break;
    lines.push(`  r = r / ${u32(shape[d])};`);
  }
  lines.push('  return o;', '}');
  return lines.join('\n') + '\n';
}

/**
 * Workgroup counts for `n` invocations in groups of `size`, folded into a
 * second dimension when one would exceed `MAX_GROUPS_PER_DIM`, and the WGSL expression of
 * the flat invocation index (which may exceed `n`: guard with `if (i >= n)`).
 */
export function flatDispatch(n: number, size: number): { workgroups: [number, number, number]; index: string } {
  const groups = Math.max(1, Math.ceil(n / size));
  if (groups <= MAX_GROUPS_PER_DIM) return { workgroups: [groups, 1, 1], index: 'gid.x' };
  const y = Math.ceil(groups / MAX_GROUPS_PER_DIM);
  const x = Math.ceil(groups / y);
  return { workgroups: [x, y, 1], index: `(gid.x + gid.y * ${u32(x * size)})` };
}

/** Binding declarations in the backend's order: inputs (read), outputs (read_write), then uniforms. */
export function bindings(nInputs: number, nOutputs: number, uniformStruct?: string): string {
  const out: string[] = [];
  for (let i = 0; i < nInputs; i++) out.push(`@group(0) @binding(${i}) var<storage, read> in${i}: array<f32>;`);
  for (let i = 0; i < nOutputs; i++) out.push(`@group(0) @binding(${nInputs + i}) var<storage, read_write> out${i}: array<f32>;`);
  if (uniformStruct) out.push(`@group(0) @binding(${nInputs + nOutputs}) var<uniform> u: ${uniformStruct};`);
  return out.join('\n') + '\n';
}

/**
 * An elementwise program over a contiguous output of `shape`: `body` is WGSL
 * computing `out0[i]` from `a0`, `a1`… (each input read through its own view
 * index, broadcast to `shape`). Used by unary, binary and where-like kernels.
 */
export function elementwiseProgram(
  shape: readonly number[],
  inputs: readonly TensorMeta[],
  body: string,
  options: { uniforms?: ArrayBuffer; uniformStruct?: string; prelude?: string } = {},
): GpuProgram {
  const n = numel(shape);
  const wg = 64;
  const { workgroups, index } = flatDispatch(n, wg);
  const fns = inputs.map((v, k) => viewIndexFn(`idx${k}`, shape, v)).join('');
  const loads = inputs.map((_, k) => `  let a${k} = in${k}[idx${k}(i)];`).join('\n');
  const code =
    `${bindings(inputs.length, 1, options.uniformStruct)}${options.prelude ?? ''}${fns}` +
    `@compute @workgroup_size(${wg})\nfn main(@builtin(global_invocation_id) gid: vec3u) {\n` +
    `  let i = ${index};\n  if (i >= ${u32(n)}) { return; }\n${loads}\n  ${body}\n}\n`;
  return { code, workgroups, invocations: wg, ...(options.uniforms ? { uniforms: options.uniforms } : {}) };
}

/** Packs f32 values into a uniform buffer's bytes (WGSL side: a struct of f32 fields, or `array<vec4f, n>`). */
export function f32Uniforms(values: readonly number[]): ArrayBuffer {
  const a = new Float32Array(Math.max(4, Math.ceil(values.length / 4) * 4));
  a.set(values);
  return a.buffer;
}

/**
 * WGSL has no erf; `erf_f32` is Abramowitz & Stegun 7.1.26 (max abs error
 * 1.5e-7, far inside the 1e-4 budget: gelu multiplies it by x / 2). `tanh_f32`
 * avoids the exp overflow some drivers' `tanh` hits for |x| > 44.
 */
export const MATH_WGSL = `
fn erf_f32(x: f32) -> f32 {
  let a = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-a * a);
  return select(-y, y, x >= 0.0);
}
fn tanh_f32(x: f32) -> f32 {
  let e = exp(-2.0 * abs(x));
  let y = (1.0 - e) / (1.0 + e);
  return select(-y, y, x >= 0.0);
}
// -inf and NaN as run-time values: a constant expression must not evaluate to either.
var<private> neg_inf_bits: u32 = 0xff800000u;
var<private> nan_bits: u32 = 0x7fc00000u;
fn neg_inf() -> f32 {
  return bitcast<f32>(neg_inf_bits);
}
fn nan_f32() -> f32 {
  return bitcast<f32>(nan_bits);
}
fn isneginf_f32(x: f32) -> bool {
  return bitcast<u32>(x) == 0xff800000u;
}
fn isnan_f32(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}
fn pow_f32(x: f32, y: f32) -> f32 {
  // WGSL pow is undefined for x < 0 and for 0^0; torch follows C's pow.
  if (y == 0.0) { return 1.0; }
  if (y == 2.0) { return x * x; }
  if (y == 1.0) { return x; }
  let r = pow(abs(x), y);
  if (x >= 0.0) { return r; }
  if (floor(y) != y) { return nan_f32(); }
  let odd = (abs(y) % 2.0) == 1.0;
  return select(r, -r, odd);
}
`;

/** A program that does nothing: for outputs with no elements. */
export function emptyProgram(): GpuProgram {
  return { code: '@compute @workgroup_size(1)\nfn main() {}\n', workgroups: [1, 1, 1], invocations: 1 };
}

/**
 * A program with one invocation per output row/element: `index` is the flat
 * id (`o`), guarded by `n`. `body` is the per-invocation WGSL.
 */
export function perOutputProgram(n: number, nInputs: number, nOutputs: number, body: string, prelude = ''): GpuProgram {
  if (n === 0) return emptyProgram();
  const wg = 64;
  const { workgroups, index } = flatDispatch(n, wg);
  const code =
    `${bindings(nInputs, nOutputs)}${prelude}` +
    `@compute @workgroup_size(${wg})\nfn main(@builtin(global_invocation_id) gid: vec3u) {\n` +
    `  let o = ${index};\n  if (o >= ${u32(n)}) { return; }\n${body}\n}\n`;
  return { code, workgroups, invocations: wg };
}
