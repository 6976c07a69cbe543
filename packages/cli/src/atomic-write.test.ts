import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freshDir, removeFreshDirs, unwritableDir } from './__fixtures__/dirs.js';
import { checkOutputs, writeFileAtomic } from './atomic-write.js';
import { CliError } from './errors.js';

const fresh = (): string => freshDir('sd-atomic-');

async function codeOf(p: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await p;
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    return { code: (error as CliError).exitCode, message: (error as Error).message };
  }
  throw new Error('expected a rejection');
}

afterAll(removeFreshDirs);

describe('writeFileAtomic', () => {
  it('writes a new file and replaces an old one, leaving no temporary file', async () => {
    const dir = fresh();
    const path = join(dir, 'a.txt');
    await writeFileAtomic(path, 'one');
    expect(readFileSync(path, 'utf8')).toBe('one');
    await writeFileAtomic(path, new Uint8Array([50, 51]));
    expect(readFileSync(path, 'utf8')).toBe('23');
    expect(readdirSync(dir)).toEqual(['a.txt']);
  });
  it('fails with exit 1 and leaves the old file whole when the rename cannot happen', async () => {
    const dir = fresh();
    const target = join(dir, 'taken');
    mkdirSync(target);
    writeFileSync(join(target, 'inside'), 'x');
    const { code, message } = await codeOf(writeFileAtomic(target, 'new'));
    expect(code).toBe(1);
    expect(message).toMatch(/Cannot write/);
    expect(readdirSync(dir)).toEqual(['taken']);
    expect(readFileSync(join(target, 'inside'), 'utf8')).toBe('x');
  });
  it('fails in a folder that cannot be written', async () => {
    const { code } = await codeOf(writeFileAtomic(join(unwritableDir(), 'a.png'), 'x'));
    expect(code).toBe(1);
  });
});

describe('checkOutputs', () => {
  it('accepts new and existing output files and creates missing folders', async () => {
    const dir = fresh();
    writeFileSync(join(dir, 'old.png'), 'old');
    await checkOutputs(
      [
        { option: '--out', path: join(dir, 'old.png') },
        { option: '--gif', path: join(dir, 'sub', 'deeper', 'a.gif') },
      ],
      [join(dir, 'task.json')],
    );
    expect(existsSync(join(dir, 'sub', 'deeper'))).toBe(true);
    expect(readFileSync(join(dir, 'old.png'), 'utf8')).toBe('old');
    expect(readdirSync(dir).sort()).toEqual(['old.png', 'sub']);
  });
  it('refuses an output that is an input, also through a symlink, with exit 2', async () => {
    const dir = fresh();
    writeFileSync(join(dir, 'mask.png'), 'mask');
    symlinkSync(join(dir, 'mask.png'), join(dir, 'link.png'));
    for (const out of ['mask.png', 'link.png', './sub/../mask.png']) {
      const { code, message } = await codeOf(checkOutputs([{ option: '--out', path: join(dir, out) }], [join(dir, 'mask.png')]));
      expect(code).toBe(2);
      expect(message).toMatch(/is also an input/);
    }
    expect(readFileSync(join(dir, 'mask.png'), 'utf8')).toBe('mask');
  });
  it('refuses two outputs naming one file, a folder as output and an unwritable folder', async () => {
    const dir = fresh();
    const same = await codeOf(checkOutputs([{ option: '--out', path: join(dir, 'a.png') }, { option: '--before', path: join(dir, 'a.png') }], []));
    expect(same.message).toMatch(/--before and --out name the same file/);
    const folder = await codeOf(checkOutputs([{ option: '--out', path: dir }], []));
    expect(folder.message).toMatch(/is a folder/);
    const ro = await codeOf(checkOutputs([{ option: '--gif', path: join(unwritableDir(), 'a.gif') }], []));
    expect(ro.code).toBe(2);
    expect(ro.message).toMatch(/--gif: the folder .* is not writable/);
  });
});
