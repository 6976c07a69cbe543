import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import type { PageState } from '../src/page-state.js';

/**
 * What the e2e test and the speed benchmark share: building the demo into its own folder,
 * launching Debian's Chromium, and reading and driving the page through `window.__stabledrag`.
 */

const here = dirname(fileURLToPath(import.meta.url));
export const appRoot = resolve(here, '..');
export const repoRoot = resolve(appRoot, '../..');
export const outDir = join(here, '.out');
// Its own build folder, so a `vite build` of the app running beside the test (turbo runs build and
// test in parallel) cannot empty it mid-test.
export const distDir = join(outDir, 'dist');
export const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const TIMEOUT_MS = Number(process.env.STABLEDRAG_E2E_TIMEOUT_MS ?? 150_000);

export interface Point {
  x: number;
  y: number;
}

export type { PageState } from '../src/page-state.js';

export function log(msg: string): void {
  process.stdout.write(`[e2e] ${msg}\n`);
}

export function fail(msg: string): never {
  process.stderr.write(`[e2e] FAIL: ${msg}\n`);
  process.exit(1);
}

/** Builds the demo into distDir unless STABLEDRAG_E2E_NO_BUILD is set and a build is there. */
export async function buildDemo(): Promise<void> {
  if (process.env.STABLEDRAG_E2E_NO_BUILD && existsSync(join(distDir, 'index.html'))) return;
  log('building the demo…');
  await build({ root: appRoot, configFile: join(appRoot, 'vite.config.ts'), logLevel: 'warn', build: { outDir: distDir, emptyOutDir: true } });
}

/** Headless Chromium as the issue asks (no sandbox, no GPU). */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

export async function readState(page: Page): Promise<PageState> {
  return page.evaluate(() => JSON.parse(JSON.stringify(window.__stabledrag)) as PageState);
}

/** Polls the page state until `predicate` holds; fails on a page error or after `timeoutMs`. */
export async function waitFor(page: Page, what: string, predicate: (s: PageState) => boolean, timeoutMs = TIMEOUT_MS): Promise<PageState> {
  const t0 = Date.now();
  for (;;) {
    const s = await readState(page);
    if (s.error) fail(`${what}: the page reports an error: ${s.error}`);
    if (predicate(s)) return s;
    if (Date.now() - t0 > timeoutMs) fail(`${what}: timed out after ${timeoutMs} ms (status ${s.status}, step ${s.step}).`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The model is loaded and the worker's idle warm-up (GAN backends only) has finished. */
export function readyAndWarm(s: PageState, gan = true): boolean {
  return s.status === 'ready' && (!gan || (s.warmUp !== null && s.warmUp.runs >= s.warmUp.of));
}

/** The generated image's pixels (the hidden native-size canvas, without overlays). */
export async function imagePixels(page: Page): Promise<number[]> {
  return page.evaluate(() => {
    const c = document.getElementById('image-native') as HTMLCanvasElement;
    return Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data);
  });
}

/** Clicks the centre of image pixel `p` on the visible canvas. */
export async function clickImagePoint(page: Page, p: Point, size: number): Promise<void> {
  const box = await page.locator('#view').boundingBox();
  if (!box) fail('the canvas is not visible');
  await page.mouse.click(box.x + ((p.x + 0.5) / size) * box.width, box.y + ((p.y + 0.5) / size) * box.height);
}

/** Clicks each handle then its target and checks the page placed exactly those pairs. */
export async function placePairs(
  page: Page,
  pairs: readonly { readonly handle: Point; readonly target: Point }[],
  size: number,
): Promise<{ handle: Point; target: Point }[]> {
  for (const p of pairs) {
    await clickImagePoint(page, p.handle, size);
    await clickImagePoint(page, p.target, size);
  }
  const placed = await readState(page);
  if (placed.targets.length !== pairs.length) fail(`clicking placed ${placed.targets.length} pairs, expected ${pairs.length}.`);
  return pairs.map((want, i) => {
    const h = placed.points[i]!;
    const t = placed.targets[i]!;
    if (Math.hypot(h.x - want.handle.x, h.y - want.handle.y) > 1 || Math.hypot(t.x - want.target.x, t.y - want.target.y) > 1) {
      fail(`pair ${i + 1}: the clicks landed at ${JSON.stringify(h)} → ${JSON.stringify(t)}, expected ${JSON.stringify(want.handle)} → ${JSON.stringify(want.target)}.`);
    }
    return { handle: h, target: t };
  });
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}
