/**
 * What `pnpm publish` would upload, checked on the tarballs `pnpm pack` makes (publish packs the
 * same way): no development-only `@stabledrag/source` condition, no `workspace:` ranges, a
 * LICENSE, and a CommonJS entry that `require()` loads from a plain CommonJS project.
 *
 * The packages are packed from a copy of their manifests (node_modules linked to the real ones so
 * pnpm can resolve `workspace:` ranges), and core and tracker are built into that copy with their
 * own tsup configs: turbo runs builds beside tests, and packing the real dist/ folders could read a
 * build half-way through.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDir, removeFreshDirs } from './__fixtures__/dirs.js';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const packagesDir = join(repoRoot, 'packages');
/** Built into the copy and required from CommonJS (tracker depends on core). */
const BUILT = ['core', 'tracker'];

interface Manifest {
  name: string;
  private?: boolean;
  main?: string;
  module?: string;
  types?: string;
  exports: Record<string, unknown>;
  bin?: Record<string, string>;
  files: string[];
  dependencies?: Record<string, string>;
}

interface Packed {
  folder: string;
  manifest: Manifest;
  raw: string;
  files: string[];
  tarball: string;
}

const published = readdirSync(packagesDir).filter((name) => {
  const file = join(packagesDir, name, 'package.json');
  return existsSync(file) && !(JSON.parse(readFileSync(file, 'utf8')) as Manifest).private;
});

/** Every path a manifest points at: export targets (all conditions), main, module, types, bin. */
function targets(m: Manifest): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') out.push(v);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(m.exports);
  for (const v of [m.main, m.module, m.types, ...Object.values(m.bin ?? {})]) if (v) out.push(v);
  return out.map((p) => p.replace(/^\.\//, ''));
}

const packed = new Map<string, Packed>();
let work = '';

// Asynchronous: minutes of synchronous child processes would block the worker's event loop and
// time out vitest's RPC on a loaded machine.
const run = promisify(execFile);

beforeAll(async () => {
  work = freshDir('sd-pack-');
  const copy = join(work, 'repo');
  mkdirSync(join(copy, 'packages'), { recursive: true });
  for (const f of ['package.json', 'pnpm-workspace.yaml', '.npmrc']) cpSync(join(repoRoot, f), join(copy, f));
  for (const name of published) {
    const from = join(packagesDir, name);
    const to = join(copy, 'packages', name);
    mkdirSync(to);
    for (const entry of readdirSync(from)) {
      // What a publish could ship besides dist/ (built below for BUILT) and the big model folders.
      if (['dist', 'src', 'models', 'node_modules', 'bench', 'examples'].includes(entry)) continue;
      cpSync(join(from, entry), join(to, entry), { recursive: true });
    }
    if (existsSync(join(from, 'node_modules'))) symlinkSync(join(from, 'node_modules'), join(to, 'node_modules'));
    if (BUILT.includes(name)) await run('pnpm', ['exec', 'tsup', '--out-dir', join(to, 'dist'), '--silent'], { cwd: from });
  }
  const tarballs = join(work, 'tarballs');
  for (const name of published) {
    const folder = join(copy, 'packages', name);
    const out = join(tarballs, name);
    await run('pnpm', ['pack', '--pack-destination', out], { cwd: folder });
    const tarball = join(out, readdirSync(out).find((f) => f.endsWith('.tgz'))!);
    const raw = (await run('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' })).stdout;
    const files = (await run('tar', ['-tzf', tarball], { encoding: 'utf8', maxBuffer: 64 << 20 })).stdout.trim().split('\n').map((f) => f.replace(/^package\//, ''));
    packed.set(name, { folder, manifest: JSON.parse(raw) as Manifest, raw, files, tarball });
  }
}, 900_000); // packs and builds seven packages: minutes on a loaded 2-core machine

afterAll(removeFreshDirs);

describe('the packed packages', () => {
  it('cover every published package', () => {
    expect(published).toEqual(expect.arrayContaining(['core', 'tracker', 'motion', 'onnx-autograd', 'backends-gan', 'cli']));
  });

  it('carry no source condition and no workspace: ranges, but a LICENSE and the repository manifest otherwise', () => {
    for (const [name, p] of packed) {
      // (Scripts, which npm ships too, may still name the condition; they only run in a clone.)
      const entryPoints = JSON.stringify([p.manifest.exports, p.manifest.main, p.manifest.module, p.manifest.types, p.manifest.bin]);
      expect(entryPoints, name).not.toContain('@stabledrag/source');
      expect(entryPoints, name).not.toContain('src/');
      expect(p.raw, name).not.toContain('workspace:');
      expect(p.files, name).toContain('LICENSE');
      expect(readFileSync(join(p.folder, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) 2026 StableDrag for JavaScript contributors\n/);
      // Internal dependencies become real version ranges of the packages' own versions.
      for (const [dep, range] of Object.entries(p.manifest.dependencies ?? {})) {
        if (!dep.startsWith('@stabledrag/')) continue;
        const version = (JSON.parse(readFileSync(join(packagesDir, dep.slice('@stabledrag/'.length), 'package.json'), 'utf8')) as { version: string }).version;
        expect(range, `${name} → ${dep}`).toBe(`^${version}`);
      }
      // Every target is shipped: under a `files` entry, and present when the package was built.
      for (const target of targets(p.manifest)) {
        // (npm always ships package.json.)
        expect(target === 'package.json' || p.manifest.files.some((f) => target === f || target.startsWith(`${f}/`)), `${name}: ${target}`).toBe(true);
        if (BUILT.includes(name) || !target.startsWith('dist/')) expect(p.files, `${name}: ${target}`).toContain(target);
      }
      // Both module systems, each with its own types.
      const main = p.manifest.exports['.'] as { import: { types: string; default: string }; require: { types: string; default: string } };
      expect(main.import.default, name).toMatch(/\.js$/);
      expect(main.import.types, name).toMatch(/\.d\.ts$/);
      expect(main.require.default, name).toMatch(/\.cjs$/);
      expect(main.require.types, name).toMatch(/\.d\.cts$/);
    }
  });

  it('keep the source condition in the repository, so the workspace runs without a build', () => {
    const manifest = JSON.parse(readFileSync(join(packagesDir, 'tracker', 'package.json'), 'utf8')) as Manifest;
    expect((manifest.exports['.'] as Record<string, string>)['@stabledrag/source']).toBe('./src/index.ts');
  });

  it('ship the stabledrag launcher as the bin', () => {
    const cli = packed.get('cli')!;
    expect(cli.manifest.bin).toEqual({ stabledrag: './bin/stabledrag.js' });
    expect(cli.files).toContain('bin/stabledrag.js');
  });

  it('load with require() from a CommonJS project, and with import() from ESM', () => {
    const consumer = join(work, 'consumer');
    for (const name of BUILT) {
      const dir = join(consumer, 'node_modules', '@stabledrag', name);
      mkdirSync(dir, { recursive: true });
      execFileSync('tar', ['-xzf', packed.get(name)!.tarball, '-C', dir, '--strip-components=1']);
    }
    // npm's default project type: no "type" field, so .js files are CommonJS.
    writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
    writeFileSync(
      join(consumer, 'check.js'),
      `const { NearestNeighbourTracker } = require('@stabledrag/tracker');
const { StableDragError } = require('@stabledrag/core');
// A 1-channel 8x8 feature map with one bright pixel, moved one pixel right: the tracker follows it.
const map = (u) => { const data = new Float32Array(64); data[3 * 8 + u] = 1; return { data, channels: 1, height: 8, width: 8, scale: 1 }; };
const tracker = new NearestNeighbourTracker({ radius: 3 });
tracker.init(map(2), [{ x: 2, y: 3 }]);
const [r] = tracker.track(map(3), [{ x: 2, y: 3 }]);
import('@stabledrag/tracker').then((esm) => {
  console.log(JSON.stringify({
    resolved: require.resolve('@stabledrag/tracker'),
    point: r.point,
    error: typeof StableDragError,
    esmSame: typeof esm.NearestNeighbourTracker === 'function',
  }));
});
`,
    );
    const out = JSON.parse(execFileSync(process.execPath, ['check.js'], { cwd: consumer, encoding: 'utf8' })) as Record<string, unknown>;
    expect(out).toEqual({
      resolved: join(consumer, 'node_modules', '@stabledrag', 'tracker', 'dist', 'index.cjs'),
      point: { x: 3, y: 3 },
      error: 'function',
      esmSame: true,
    });
  });
});
