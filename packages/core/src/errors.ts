/** Machine-readable reasons a StableDrag call can fail; UIs and the CLI map them to messages and exit codes. */
export type StableDragErrorCode =
  | 'INVALID_INPUT'
  | 'INVALID_BACKEND'
  | 'UNSUPPORTED'
  | 'DISPOSED'
  | 'ABORTED'
  | 'MODEL_ERROR';

/** Every error this project throws on purpose: a message that says what was wrong and how to fix it. */
export class StableDragError extends Error {
  readonly code: StableDragErrorCode;

  constructor(code: StableDragErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StableDragError';
    this.code = code;
  }
}

/** Throws INVALID_INPUT unless `condition` holds. */
export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new StableDragError('INVALID_INPUT', message);
}
