import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { layoutModelDir } from './node.js';
import { readWholeFile } from './read-whole-file.js';

describe('readWholeFile (fs.readFile stops at 2 GiB)', () => {
  it('reads a file in chunks to the same bytes', async () => {
    const path = join(layoutModelDir, 'unet/model.onnx_data');
    const bytes = await readWholeFile(path, 100_003);
    expect(bytes.byteLength).toBeGreaterThan(500_000);
    expect(Buffer.from(bytes).equals(readFileSync(path))).toBe(true);
  });

  it('fails on a missing file', async () => {
    await expect(readWholeFile(join(layoutModelDir, 'nope.bin'))).rejects.toThrow(/ENOENT/);
  });
});
