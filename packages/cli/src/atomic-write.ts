import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { CliError, ExitCode, usageError } from './errors.js';

function tempName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/**
 * Writes a file atomically: the bytes go to a temporary file in the same folder (same file
 * system, so rename is atomic), are flushed, then renamed over `path`. A reader sees the old file
 * or the new one, never half of one, and an interrupted write leaves no partial output.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = tempName(path);
  let handle;
  try {
    handle = await open(tmp, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o644);
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(tmp, path);
  } catch (error) {
    await handle?.close().catch(() => {});
    await rm(tmp, { force: true }).catch(() => {});
    throw new CliError(ExitCode.FAILURE, `Cannot write ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** The real path of an existing file, or the absolute path when it does not exist yet. */
async function identity(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    return resolve(path);
  }
}

export interface OutputCheck {
  /** What asked for the file, e.g. "--out". */
  readonly option: string;
  readonly path: string;
}

/**
 * Checks, before any work is done, that every output can be written and replaces nothing it must
 * not: no output may be one of the inputs or another output, none may be a folder, and each folder
 * must accept a new file (probed by creating and removing a temporary file, which also catches
 * read-only mounts and ACLs that permission bits miss). Missing parent folders are created.
 */
export async function checkOutputs(outputs: readonly OutputCheck[], inputs: readonly string[]): Promise<void> {
  const inputIds = new Map<string, string>();
  for (const input of inputs) inputIds.set(await identity(input), input);
  const seen = new Map<string, string>();
  for (const { option, path } of outputs) {
    const id = await identity(path);
    const input = inputIds.get(id);
    if (input !== undefined) {
      throw usageError(`${option} ${path} is also an input (${input}); refusing to overwrite an input. Choose another output file.`);
    }
    const other = seen.get(id);
    if (other !== undefined) throw usageError(`${option} and ${other} name the same file ${path}; give each output its own file.`);
    seen.set(id, option);
    const info = await stat(path).catch(() => null);
    if (info?.isDirectory()) throw usageError(`${option} ${path} is a folder; give a file name.`);
    const dir = dirname(resolve(path));
    try {
      await mkdir(dir, { recursive: true });
    } catch (error) {
      throw usageError(`${option}: cannot create the folder ${dir}: ${(error as Error).message}`, error);
    }
    const probe = tempName(resolve(path));
    try {
      const h = await open(probe, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o644);
      await h.close();
    } catch (error) {
      throw usageError(`${option}: the folder ${dir} is not writable (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); choose another output path.`, error);
    } finally {
      await rm(probe, { force: true }).catch(() => {});
    }
  }
}
