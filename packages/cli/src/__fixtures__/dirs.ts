import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

/** A new empty folder under the system temp folder, removed by {@link removeFreshDirs}. */
export function freshDir(prefix = 'sd-cli-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Removes every folder {@link freshDir} made (call from afterAll). */
export function removeFreshDirs(): void {
  for (const dir of made.splice(0)) {
    chmodSync(dir, 0o755);
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A folder this process cannot create files in. Root ignores permission bits, so as root use
 * sysfs, which refuses new files to everyone.
 */
export function unwritableDir(): string {
  if (process.getuid?.() === 0) return '/sys';
  const dir = freshDir();
  chmodSync(dir, 0o555);
  return dir;
}
