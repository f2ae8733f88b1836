/** *New Attention Block…*: opens the scaffold form, optionally with a block selected. */

import type { Services } from '../services';

export async function newBlock(s: Services, blockId?: unknown): Promise<void> {
  s.forms.show(typeof blockId === 'string' ? blockId : undefined);
}
