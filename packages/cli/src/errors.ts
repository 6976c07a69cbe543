import { StableDragError } from '@stabledrag/core';

/**
 * Exit codes of the `stabledrag` command. Scripts (and the benchmark) branch on them, so they are
 * part of the public interface and listed in the README.
 */
export const ExitCode = {
  /** The command did what was asked (a drag that hit --steps without converging included). */
  OK: 0,
  /** Something failed while running: a file could not be written, the runtime threw. */
  FAILURE: 1,
  /** Bad usage or bad input: unknown option, malformed points, a mask of the wrong size… */
  USAGE: 2,
  /** The model could not be loaded: unknown folder, broken model.json, missing file or tensor. */
  MODEL: 3,
  /**
   * The drag left the generator's range (its features blew up) and was stopped; the outputs hold
   * the best latent seen before. Retry with a lower --lr or a shorter drag.
   */
  DIVERGED: 4,
  /** Interrupted by Ctrl-C (128 + SIGINT); the last image was still written. */
  INTERRUPTED: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** An error whose message is for the user and whose exit code is decided where it is thrown. */
export class CliError extends Error {
  readonly exitCode: ExitCodeValue;

  constructor(exitCode: ExitCodeValue, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** Bad usage or input (exit 2). */
export function usageError(message: string, cause?: unknown): CliError {
  return new CliError(ExitCode.USAGE, message, cause === undefined ? undefined : { cause });
}

/** Model loading failed (exit 3). */
export function modelError(message: string, cause?: unknown): CliError {
  return new CliError(ExitCode.MODEL, message, cause === undefined ? undefined : { cause });
}

/** Maps anything thrown to an exit code: CliError says its own, StableDragError by its code. */
export function exitCodeOf(error: unknown): ExitCodeValue {
  if (error instanceof CliError) return error.exitCode;
  // signal.throwIfAborted() inside a backend throws the abort reason or a DOMException named AbortError.
  if (error instanceof Error && error.name === 'AbortError') return ExitCode.INTERRUPTED;
  if (error instanceof StableDragError) {
    switch (error.code) {
      case 'INVALID_INPUT':
      case 'UNSUPPORTED':
        return ExitCode.USAGE;
      case 'MODEL_ERROR':
        return ExitCode.MODEL;
      case 'ABORTED':
        return ExitCode.INTERRUPTED;
      default:
        return ExitCode.FAILURE;
    }
  }
  return ExitCode.FAILURE;
}

/** The message to print for an error; unexpected errors keep their name so bugs stay visible. */
export function messageOf(error: unknown): string {
  if (error instanceof CliError || error instanceof StableDragError) return error.message;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
