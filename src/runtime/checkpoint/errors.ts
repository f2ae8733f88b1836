/**
 * The one error type of the checkpoint readers: a file that is not a
 * loadable tensor checkpoint, or that asks for something a state_dict never
 * needs. Messages are one line and name the entry, opcode or global at fault.
 */

export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
}
