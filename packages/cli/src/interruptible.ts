import { CliError, ExitCode } from './errors.js';
import { stageLabel } from './stage-progress.js';
import type { StageProgress } from './stage-progress.js';

/** Runs a stage before the drag; Ctrl-C there leaves nothing to write, so it ends the command (exit 130). */
export async function interruptible<T>(progress: StageProgress, signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!signal?.aborted) throw error;
    const stage = progress.lastStage;
    progress.end();
    throw new CliError(ExitCode.INTERRUPTED, `Interrupted${stage ? ` during ${stageLabel(stage)}` : ''}; nothing was written.`, { cause: error });
  }
}

