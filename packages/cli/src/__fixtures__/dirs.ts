import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const freshDir = (prefix = 'sd-cli-'): string => mkdtempSync(join(tmpdir(), prefix));

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
