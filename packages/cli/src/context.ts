import type { createMethod } from './methods.js';
import type { ModelLoader } from './models.js';
import type { TextSink } from './progress.js';

/** Everything a command touches outside its arguments; bin.ts passes the real ones, tests fakes. */
export interface CliContext {
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  /** Folder relative paths are resolved against. */
  readonly cwd: string;
  /** Aborted on Ctrl-C (SIGINT): a drag stops at the next step and still writes its outputs. */
  readonly signal?: AbortSignal;
  readonly loadModel: ModelLoader;
  readonly createMethod: typeof createMethod;
}
