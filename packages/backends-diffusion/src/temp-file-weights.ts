import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serializeModelWithPlacedData } from '@stabledrag/onnx-autograd';
import type { OnnxModel, Tensor } from '@stabledrag/onnx-autograd';
import type { ExternalWeights, ExternalWeightsFactory } from './external-weights.js';
import type { OrtRuntime, OrtSession, OrtSessionOptions } from './ort-runtime.js';

const WEIGHTS = 'weights.bin';
/** Initializers smaller than this stay inline. */
const MIN_BYTES = 1024;
/**
 * Offsets of tensors from 1 MiB up are multiples of 64 KiB, Windows' mapping granularity (and a
 * multiple of Linux's 4 KiB pages), so ONNX Runtime can map them from the file instead of reading
 * them; smaller ones, read anyway, are packed at 64 bytes (as ONNX Runtime's own writer does).
 */
const MAP_FROM = 2 ** 20;
const alignFor = (bytes: number): number => (bytes >= MAP_FROM ? 65536 : 64);
/** write(2) moves at most ~2 GiB per call. */
const CHUNK = 2 ** 30;

async function writeAt(file: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < bytes.byteLength; ) {
    const { bytesWritten } = await file.write(bytes, done, Math.min(CHUNK, bytes.byteLength - done), position + done);
    done += bytesWritten;
  }
}

export interface TempFileWeightsOptions {
  /** Where the batch folders go. Default `os.tmpdir()`. */
  readonly root?: string;
  /**
   * Let the sessions run on the weights mapped from the file instead of each holding its own copy
   * (default true): graph optimisation at most 'extended' (the 'all' level re-lays conv weights
   * out for NCHWc kernels, a copy per session) and weight prepacking off (another). Values the
   * caller set in `extra.session` win; false leaves the session options as given.
   */
  readonly shareWeights?: boolean;
}

/** The session options under which ONNX Runtime keeps using mapped weights rather than copying them. */
export function sharingWeights(options: OrtSessionOptions): OrtSessionOptions {
  const level = options.graphOptimizationLevel ?? 'all';
  const extra = options.extra ?? {};
  const session = (extra.session ?? {}) as Record<string, unknown>;
  return { ...options, graphOptimizationLevel: level === 'all' ? 'extended' : level, extra: { ...extra, session: { disable_prepacking: '1', ...session } } };
}

/** One batch's private folder: `weights.bin`, written once per tensor, and one `graph-N.onnx` per session. */
class TempFileWeights implements ExternalWeights {
  private dir: Promise<string> | undefined;
  private file: FileHandle | undefined;
  private size = 0;
  private graphs = 0;
  /** Where each tensor already is, by identity: the graphs built from one UNet share its tensor objects. */
  private placed = new Map<Tensor, number>();

  constructor(
    private readonly runtime: OrtRuntime,
    private readonly root: string,
    private readonly share: boolean,
  ) {}

  async open(model: OnnxModel, options: OrtSessionOptions): Promise<OrtSession> {
    this.dir ??= mkdtemp(join(this.root, 'stabledrag-weights-'));
    const dir = await this.dir;
    this.file ??= await open(join(dir, WEIGHTS), 'w');
    const pending: { bytes: Uint8Array; offset: number }[] = [];
    const proto = serializeModelWithPlacedData(model, (tensor, bytes) => {
      if (bytes.byteLength < MIN_BYTES) return undefined;
      let offset = this.placed.get(tensor);
      if (offset === undefined) {
        const align = alignFor(bytes.byteLength);
        offset = Math.ceil(this.size / align) * align;
        this.size = offset + bytes.byteLength;
        this.placed.set(tensor, offset);
        pending.push({ bytes, offset });
      }
      return { location: WEIGHTS, offset };
    });
    for (const p of pending) await writeAt(this.file, p.bytes, p.offset);
    const path = join(dir, `graph-${this.graphs++}.onnx`);
    await writeFile(path, proto);
    return this.runtime.InferenceSession.create(path, this.share ? sharingWeights(options) : options);
  }

  async close(): Promise<void> {
    this.placed.clear();
    await this.file?.close();
    this.file = undefined;
    if (!this.dir) return;
    const dir = await this.dir.catch(() => undefined);
    // Linux and macOS let an open session keep a mapped file that is deleted; where the removal
    // fails (Windows keeps mapped files), the folder stays set and the next call tries again.
    try {
      if (dir) await rm(dir, { recursive: true, force: true });
      this.dir = undefined;
    } catch {
      // retried by the next close()
    }
  }
}

/**
 * External weights in a private temporary folder (`fs.mkdtemp` under `root`), for
 * onnxruntime-node, which resolves external data beside a model *file*. The graphs of a batch
 * share one weights file, so a weight is written once however many graphs use it, and (see
 * `shareWeights`) their sessions can share its pages instead of holding a copy each. The folder
 * is deleted when the batch closes: on Linux and macOS a session keeps its mapping of a deleted file.
 */
export function tempFileWeights(options: TempFileWeightsOptions = {}): ExternalWeightsFactory {
  return (runtime) => new TempFileWeights(runtime, options.root ?? tmpdir(), options.shareWeights ?? true);
}
