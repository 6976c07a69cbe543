import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DOCUMENTED, artefactPaths, e2eOutDir, missingBrowserVerdict, refreshPictures } from './artefacts.js';

const made: string[] = [];
const fresh = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'sd-e2e-'));
  made.push(dir);
  return dir;
};
afterAll(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('the e2e artefacts', () => {
  it('go to the ignored e2e/.out/ folder, never to the documented files', () => {
    const ignored = readFileSync(new URL('../.gitignore', import.meta.url), 'utf8').split('\n').map((l) => l.trim());
    expect(ignored).toContain('e2e/.out/');
    for (const backend of ['gan', 'blobs'] as const) {
      for (const path of Object.values(artefactPaths(backend))) {
        expect(relative(e2eOutDir, path)).not.toMatch(/^\.\./);
        expect(Object.values(DOCUMENTED)).not.toContain(path);
      }
    }
  });

  it('are copied to the documented places only by refresh-pictures, from a converged GAN run', () => {
    const out = fresh();
    const docs = fresh();
    const targets = { screenshot: join(docs, 'images', 'demo.png'), results: join(docs, 'results.json') };
    expect(() => refreshPictures(out, targets)).toThrow(/no GAN e2e run to copy/);
    const run = artefactPaths('gan', out);
    writeFileSync(run.screenshot, 'png bytes');
    writeFileSync(run.results, JSON.stringify({ stopReason: 'max-steps' }));
    expect(() => refreshPictures(out, targets)).toThrow(/stopped with 'max-steps'/);
    writeFileSync(run.results, JSON.stringify({ stopReason: 'converged' }));
    expect(refreshPictures(out, targets)).toEqual([targets.screenshot, targets.results]);
    expect(readFileSync(targets.screenshot, 'utf8')).toBe('png bytes');
    expect(JSON.parse(readFileSync(targets.results, 'utf8'))).toEqual({ stopReason: 'converged' });
  });
});

describe('a missing browser', () => {
  it('runs when the browser is there, CI or not', () => {
    expect(missingBrowserVerdict('/usr/bin/chromium', true, { CI: 'true' })).toEqual({ action: 'run' });
    expect(missingBrowserVerdict('/usr/bin/chromium', true, {})).toEqual({ action: 'run' });
  });

  it('skips locally and fails under CI', () => {
    for (const env of [{}, { CI: '' }, { CI: '0' }, { CI: 'false' }, { CI: 'FALSE' }]) {
      const v = missingBrowserVerdict('/no/chromium', false, env);
      expect(v.action, JSON.stringify(env)).toBe('skip');
      expect(v).toMatchObject({ message: expect.stringMatching(/^SKIP: no browser at \/no\/chromium\./) });
    }
    for (const env of [{ CI: 'true' }, { CI: '1' }, { CI: 'TRUE' }, { CI: 'woodpecker' }]) {
      const v = missingBrowserVerdict('/no/chromium', false, env);
      expect(v.action, JSON.stringify(env)).toBe('fail');
      expect(v).toMatchObject({ message: expect.stringMatching(/^no browser at \/no\/chromium and CI=/) });
    }
  });
});
