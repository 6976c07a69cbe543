import type { DragLatent, DragResult, Mask, RgbaImage } from '@stabledrag/core';
import { writeFileAtomic } from '../atomic-write.js';
import type { DragGifWriter } from '../gif.js';
import { encodeImage, imageFormatOf } from '../image-file.js';
import { serializeSession } from '../session-file.js';
import type { DragSettings } from '../session-file.js';
import type { DragRun } from './drag-start.js';

/** Writes every output asked for, each atomically; returns option → path of what was written. */
export async function writeOutputs(
  run: DragRun,
  o: { image: RgbaImage; before: RgbaImage | undefined; gif: DragGifWriter | undefined; result: DragResult; settings: DragSettings; mask: Mask | undefined; latent: DragLatent },
): Promise<Record<string, string>> {
  const { args, start, model } = run;
  const { result } = o;
  const written: Record<string, string> = {};
  if (args.out) {
    await writeFileAtomic(args.out, encodeImage(o.image, imageFormatOf(args.out, '--out')));
    written.out = args.out;
  }
  if (args.before && o.before) {
    await writeFileAtomic(args.before, encodeImage(o.before, imageFormatOf(args.before, '--before')));
    written.before = args.before;
  }
  if (args.gif && o.gif) {
    await writeFileAtomic(args.gif, o.gif.finish());
    written.gif = args.gif;
  }
  if (args.saveSession) {
    const session = start.session;
    const lora = model.diffusion?.lora;
    const text = serializeSession({
      model: start.modelSpec,
      modelName: model.backend.info.name,
      ...(start.seed !== undefined ? { seed: start.seed } : {}),
      ...(start.truncation !== undefined ? { truncation: start.truncation } : model.defaultTruncation !== undefined ? { truncation: model.defaultTruncation } : {}),
      ...(start.image !== undefined ? { image: start.image } : {}),
      ...(lora ? { lora } : {}),
      latent: result.latent,
      pairs: result.points.map((p, i) => ({ handle: p, target: result.targets[i]! })),
      initialPairs: session?.initialPairs.length ? session.initialPairs : start.pairs,
      ...(o.mask ? { mask: o.mask } : {}),
      settings: o.settings,
      result: { stopReason: result.stopReason, steps: result.steps },
    });
    await writeFileAtomic(args.saveSession, text);
    written.saveSession = args.saveSession;
  }
  return written;
}

