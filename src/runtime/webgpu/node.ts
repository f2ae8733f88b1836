/**
 * WebGPU in Node: loads Dawn from the npm package `webgpu` (pinned to 0.6.2;
 * older builds fail to load on Debian 12's libstdc++) and, on a machine
 * without a GPU, points the Vulkan loader at the lavapipe driver that
 * `scripts/setup/webgpu.sh` unpacks into the cache folder. Node-only: the
 * webview and the extension never import this file (they get their device
 * from `navigator.gpu`).
 *
 * Dawn is asked for its Vulkan backend only: its OpenGL ES backend runs on
 * Mesa 22 but computes wrong results for attention kernels.
 *
 * The Vulkan loader reads `VK_ICD_FILENAMES` when Dawn creates its instance,
 * so setting it in `process.env` before the first `createNodeWebGpu()` is
 * enough; `webgpuEnv()` gives the same variables to child processes.
 */

/// <reference types="@webgpu/types" />

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { requestDeviceFrom, WebGpuBackend, WebGpuError, type WebGpuBackendOptions } from './backend';

/** Where `scripts/setup/webgpu.sh` keeps lavapipe (`$ATTENTION_FORGE_CACHE/lavapipe`). */
export function lavapipeDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.ATTENTION_FORGE_CACHE ?? '/var/cache/attention-forge', 'lavapipe');
}

/**
 * The environment a process needs to find a WebGPU adapter here: the given
 * one plus, unless it already names a Vulkan driver, lavapipe's ICD and
 * library folder, and a private `XDG_RUNTIME_DIR` when none is set.
 * `undefined` values mean "leave as is".
 */
export function webgpuEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  const dir = lavapipeDir(env);
  const icd = path.join(dir, 'lvp_icd.json');
  if (!env.VK_ICD_FILENAMES && fs.existsSync(icd)) {
    out.VK_ICD_FILENAMES = icd;
    const lib = path.join(dir, 'usr/lib/x86_64-linux-gnu');
    out.LD_LIBRARY_PATH = env.LD_LIBRARY_PATH ? `${lib}:${env.LD_LIBRARY_PATH}` : lib;
  }
  if (!env.XDG_RUNTIME_DIR) {
    const xdg = path.join(os.tmpdir(), `attention-forge-xdg-${process.getuid?.() ?? 0}`);
    fs.mkdirSync(xdg, { recursive: true, mode: 0o700 });
    out.XDG_RUNTIME_DIR = xdg;
  }
  return out;
}

interface DawnModule {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}

let dawn: DawnModule | null = null;

/**
 * Dawn's instance (the object `create()` returns) must outlive its devices:
 * once it is garbage-collected, pending `mapAsync` callbacks are never
 * delivered and lavapipe's threads abort the process. Each device keeps its
 * instance and adapter reachable through this map.
 */
const instanceOf = new WeakMap<GPUDevice, { gpu: GPU; adapter: GPUAdapter }>();

function loadDawn(): DawnModule {
  if (!dawn) {
    // Only the loader's variables; LD_LIBRARY_PATH cannot change once a process runs and
    // lavapipe's libraries resolve against the system's (webgpu.sh checks that they do).
    const add = webgpuEnv();
    if (add.VK_ICD_FILENAMES) process.env.VK_ICD_FILENAMES = add.VK_ICD_FILENAMES;
    if (add.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = add.XDG_RUNTIME_DIR;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      dawn = require('webgpu') as DawnModule;
    } catch (e) {
      throw new WebGpuError(`cannot load Dawn (npm package 'webgpu'; needs Node >= 20.19): ${(e as Error).message}`);
    }
    // The WebGPU constants (GPUBufferUsage…) some callers expect as globals.
    for (const [k, v] of Object.entries(dawn.globals)) if (!(k in globalThis)) Object.assign(globalThis, { [k]: v });
  }
  return dawn;
}

/** A Dawn device on Vulkan (lavapipe when no GPU driver is configured), with the limits kernels use. */
export async function createNodeWebGpu(): Promise<{ device: GPUDevice; adapter: string }> {
  const gpu = loadDawn().create(['backend=vulkan']);
  const adapter = await gpu.requestAdapter();
  if (!adapter) {
    throw new WebGpuError(
      `no Vulkan adapter for WebGPU (VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES ?? 'unset'}); run scripts/setup/webgpu.sh to install lavapipe`,
    );
  }
  const info = adapter.info;
  const device = await requestDeviceFrom(adapter);
  instanceOf.set(device, { gpu, adapter });
  return { device, adapter: `${info.vendor} ${info.description || info.device}`.trim() };
}

/** A WebGPU backend on a fresh Node device. */
export async function createNodeWebGpuBackend(options?: WebGpuBackendOptions): Promise<WebGpuBackend> {
  const { device, adapter } = await createNodeWebGpu();
  return new WebGpuBackend(device, { adapter, ...options });
}
