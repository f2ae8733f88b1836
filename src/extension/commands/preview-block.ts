/**
 * *Preview Attention Block*: the interactive preview panel (running a block on the tensor
 * runtime) is a later issue; until then this opens the form in read-only preview mode, which
 * shows the generated code and output shapes for the chosen parameters.
 */

import type { Services } from '../services';

export async function previewBlock(s: Services, blockId?: unknown): Promise<void> {
  s.forms.show('preview', typeof blockId === 'string' ? blockId : undefined);
}
