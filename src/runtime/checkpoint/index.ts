/**
 * Trained weights from a file's bytes, whatever wrote them: `readStateDict`
 * tells a `torch.save` checkpoint (zip or legacy, `torch.ts`) from
 * safetensors by their first bytes and returns the state_dict as runtime
 * tensors; `loadStateDictFromFile` also loads it into a module the way
 * torch's `load_state_dict` does (`Module.loadStateDict`). No file system
 * access here: callers pass bytes. Re-exported by the runtime's index.
 */

import type { Backend } from '../backend';
import type { IncompatibleKeys } from '../nn/module';
import { parseSafetensors, SafetensorsError } from '../safetensors';
import type { Tensor } from '../tensor';
import { CheckpointError } from './errors';
import { isTorchCheckpoint, readTorchCheckpoint } from './torch';

export { CheckpointError } from './errors';
export { readTorchCheckpoint, findStateDict, STATE_DICT_KEYS, type Checkpoint, type CheckpointOptions } from './torch';

export type WeightsFormat = 'safetensors' | 'torch-zip' | 'torch-legacy';

export interface StateDictFile {
  readonly format: WeightsFormat;
  /** Where in a torch checkpoint the state_dict was found ('' for the top level or safetensors). */
  readonly key: string;
  readonly tensors: Map<string, Tensor>;
}

export interface ReadStateDictOptions {
  readonly device?: Backend;
  /** For torch checkpoints: the state_dict's dotted path (`model`, `ema`); found by rule otherwise. */
  readonly key?: string;
}

/** Reads safetensors or a `torch.save` checkpoint; errors are `CheckpointError`s that name the format. */
export function readStateDict(bytes: Uint8Array, o: ReadStateDictOptions = {}): StateDictFile {
  if (isTorchCheckpoint(bytes)) {
    try {
      return readTorchCheckpoint(bytes, o);
    } catch (e) {
      if (e instanceof CheckpointError) throw new CheckpointError(`not a loadable PyTorch checkpoint: ${e.message}`);
      throw e;
    }
  }
  try {
    return { format: 'safetensors', key: '', tensors: parseSafetensors(bytes, o.device) };
  } catch (e) {
    if (e instanceof SafetensorsError) throw new CheckpointError(`not a valid safetensors file (nor a PyTorch checkpoint): ${e.message}`);
    throw e;
  }
}

/** `module.load_state_dict(torch.load(file), strict)` for safetensors and torch checkpoints alike. */
export function loadStateDictFromFile(
  module: { loadStateDict(sd: ReadonlyMap<string, Tensor>, strict?: boolean): IncompatibleKeys },
  bytes: Uint8Array,
  o: ReadStateDictOptions & { readonly strict?: boolean } = {},
): IncompatibleKeys & { format: WeightsFormat; key: string } {
  const file = readStateDict(bytes, o);
  return { ...module.loadStateDict(file.tensors, o.strict ?? true), format: file.format, key: file.key };
}
