import { open } from 'node:fs/promises';

/** read(2) moves at most ~2 GiB per call. */
const CHUNK = 2 ** 30;

/**
 * A file's bytes, however large: `fs.readFile` refuses files over 2 GiB, and an SD 1.5 export's
 * `unet/weights.pb` is 3.4 GB (Node 20's typed arrays go to 4 GiB).
 */
export async function readWholeFile(path: string, chunk: number = CHUNK): Promise<Uint8Array> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const bytes = new Uint8Array(size);
    for (let done = 0; done < size; ) {
      const { bytesRead } = await file.read(bytes, done, Math.min(chunk, size - done), done);
      if (bytesRead === 0) throw new Error(`${path} ended after ${done} of ${size} bytes (was it changed while read?)`);
      done += bytesRead;
    }
    return bytes;
  } finally {
    await file.close();
  }
}
