import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freshDir, removeFreshDirs } from './__fixtures__/dirs.js';
import { writePhotoJpeg, writePhotoPng } from './__fixtures__/photos.js';
import { CliError, ExitCode } from './errors.js';
import { fitPhoto, readPhotoFile } from './read-photo.js';

afterAll(removeFreshDirs);

async function usageMessage(work: Promise<unknown>): Promise<string> {
  const error = await work.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(CliError);
  expect((error as CliError).exitCode).toBe(ExitCode.USAGE);
  return (error as CliError).message;
}

describe('readPhotoFile and fitPhoto', () => {
  it('reads RGB PNG and JPEG, crops a non-square photo to its centre and resizes it, saying so', async () => {
    const dir = freshDir();
    const png = await readPhotoFile(writePhotoPng(dir, 'wide.png', 96, 64));
    expect(png.notices).toEqual([]);
    const fitted = await fitPhoto(png, 32);
    expect([fitted.image.width, fitted.image.height]).toEqual([32, 32]);
    expect(fitted.originalSize).toEqual([96, 64]);
    expect(fitted.notices.join(' ')).toMatch(/96×64 image was cropped to its centred 64×64 square.*resized to the model's 32×32/);
    // The disc sits at the centre of the photo, so it stays at the centre after the centred crop.
    const centre = 4 * (16 * 32 + 16);
    expect(fitted.image.data[centre + 2]).toBeGreaterThan(200);
    expect(fitted.image.data[2]).toBeLessThan(60);

    const jpg = await readPhotoFile(writePhotoJpeg(dir, 'photo.jpg', 32, 32));
    const same = await fitPhoto(jpg, 32);
    expect(same.notices).toEqual([]);
    expect(Math.abs(same.image.data[centre + 2]! - 250)).toBeLessThan(20);
  });

  it('converts grey PNGs to RGB and composites transparency over white, with a notice each', async () => {
    const dir = freshDir();
    const grey = await readPhotoFile(writePhotoPng(dir, 'grey.png', 16, 16, { colorType: 0 }));
    expect(grey.notices).toEqual(['The grey PNG was converted to RGB.']);
    const px = grey.image.data;
    expect(px[4 * 40]).toBe(px[4 * 40 + 1]);
    expect(px[4 * 40 + 1]).toBe(px[4 * 40 + 2]);

    const clear = await readPhotoFile(writePhotoPng(dir, 'alpha.png', 16, 16, { colorType: 6, alpha: 0 }));
    const fitted = await fitPhoto(clear, 16);
    expect(fitted.notices.join(' ')).toMatch(/256 transparent pixel\(s\) were composited over white/);
    expect([...fitted.image.data.subarray(0, 4)]).toEqual([255, 255, 255, 255]);
  });

  it('refuses a missing file, a folder and a file that is not an image with one-line usage errors', async () => {
    const dir = freshDir();
    expect(await usageMessage(readPhotoFile(join(dir, 'nope.png')))).toMatch(/--image .*nope\.png: no such file; give the path of a PNG or JPEG photo/);
    mkdirSync(join(dir, 'folder.png'));
    expect(await usageMessage(readPhotoFile(join(dir, 'folder.png')))).toMatch(/is a folder/);
    writeFileSync(join(dir, 'notes.png'), 'hello, not a picture');
    expect(await usageMessage(readPhotoFile(join(dir, 'notes.png')))).toMatch(/neither a PNG nor a JPEG \(by its first bytes\); convert it/);
    writeFileSync(join(dir, 'broken.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]));
    expect(await usageMessage(readPhotoFile(join(dir, 'broken.png')))).toMatch(/is not a readable PNG/);
  });
});
