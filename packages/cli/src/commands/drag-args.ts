import { resolve } from 'node:path';
import type { DragPair } from '@stabledrag/core';
import { usageError } from '../errors.js';
import { DEFAULT_LAMBDA, DEFAULT_MASK_WEIGHT, DEFAULT_TAU, METHOD_NAMES, parseMethodName } from '../methods.js';
import type { MethodName } from '../methods.js';
import { resolveModelSpec } from '../models.js';
import { parseCommandLine } from '../parse-command-line.js';
import { parseBounded, parsePoints } from '../parse-values.js';

export const DRAG_HELP = `Usage: stabledrag drag [options]

Drags handle points of a generated image or a photograph to target points (StableDrag, or the
DragGAN / DragDiffusion baseline).

Where the drag starts (one of):
  --points "hx,hy:tx,ty"   a handle → target pair in image pixels (x right, y down) of the image
                           at the model size (for --image: the photo as fitted, see --before);
                           repeat the option for more pairs
  --image photo.png        drag a photograph (PNG or JPEG; grey and transparent PNGs are
                           converted, transparency over white). A photo of another size is
                           cropped to its centred square and resized to the model size, with a
                           one-line notice on stderr. Without --model this uses the embedded
                           diffusion model ("diffusion"); with a GAN model the photo is projected
                           into its latent space first
  --task task.json         seed, pairs, mask and steps from a task file (see README)
  --session session.json   resume a drag saved with --save-session (latent, points, mask,
                           settings); --points then starts a new drag on that image

Model and image:
  --model <dir|name>       model folder (a GAN's model.json + ONNX files, or a diffusion folder:
                           model.json with "format": "stabledrag-diffusion" or a Stable Diffusion
                           ONNX export with model_index.json), or a name: default (the embedded
                           GAN, the default), tiny, reference (pure-TS blobs), diffusion (the
                           embedded diffusion model, the default with --image), diffusion-tiny
                           (the random-weight layout test model)
  --seed <n>               generator seed (default 0)
  --truncation <psi>       truncation ψ in (0, 1] (default: the model's)
  --mask mask.png          editable region, white = may change, at the image size

Method:
  --method <name>          stabledrag (default) or draggan; on a diffusion model draggan is the
                           DragDiffusion baseline (alias dragdiffusion)
  --no-discriminative      StableDrag ablation: DragGAN's nearest-neighbour tracker
  --no-confident           StableDrag ablation: plain motion supervision (Eq. 1) every step
  --steps <n>              maximum optimisation steps (default 300, or the task's; diffusion:
                           model.json's defaults, DragDiffusion 80, StableDrag 60)
  --lr <rate>              Adam learning rate (default: the model's, 0.001 for GANs, 0.01 on z_t
                           for diffusion)
  --r1 <px>                motion-supervision radius (image pixels)
  --r2 <px>                tracking radius (whole image pixels)
                           default radii: DragGAN's r1 = 3, r2 = 12 at 512 px, scaled by
                           resolution/512 and rounded, never below r1 = 2, r2 = 6; diffusion:
                           DragDiffusion's r_m = 1, r_p = 3 feature pixels (2 and 6 image pixels
                           with features at half the image size)
  --lambda <λ>             score-fusion weight of the tracker, Eq. 2 (default ${DEFAULT_LAMBDA})
  --tau <τ>                confidence threshold rate of Eq. 5 (default ${DEFAULT_TAU})
  --mask-weight <η>        weight of the fixed-region term when a mask is given (default ${DEFAULT_MASK_WEIGHT})
  --stop-distance <px>     a handle this close to its target is done (default: the model's, else max(2, 2·h/512))

Diffusion:
  --lora-steps <n>         LoRA fine-tuning steps on the photo before the drag, 0 = no LoRA
                           (default: model.json's defaults.lora.steps, DragDiffusion's 80)
  --inversion-strength <s> fraction of the DDIM trajectory inverted, in (0, 1]: the drag edits
                           z_t at that depth (default: model.json's defaults.inversionStrength,
                           DragDiffusion's 0.7 of 50 steps → t = 681; "stabledrag info" shows it)

Outputs (written atomically; an output may not be an input; missing folders are created):
  --out out.png            the dragged image: .png, or .jpg/.jpeg for JPEG
  --before before.png      the image before the drag (.png or .jpg/.jpeg); for --image, the
                           photo as fitted to the model size (the points' coordinates)
  --gif drag.gif           every step, handles red, targets blue, arrows between; a diffusion
                           frame needs a full denoise, so only every --gif-every steps
  --gif-every <n>          diffusion GIFs: a frame every n steps (default 10)
  --save-session s.json    seed, latent, points, mask and settings, reloadable with --session
  --json                   print a JSON report on stdout (points, steps, per-step
                           confidences, branches and timings, stage timings, stop reason)
  --quiet                  no progress output
  -h, --help               this help

Ctrl-C stops the drag after the current step and still writes every output (exit 130);
during LoRA, encoding, inversion or the final denoise of a finished drag it stops at once and
writes nothing (exit 130).

Examples:
  stabledrag drag --seed 4 --points "60,70:70,70" --out drag.png --gif drag.gif
  stabledrag drag --task examples/preset-drag.json --method draggan --out draggan.png --json
  stabledrag drag --image photo.jpg --points "120,140:150,140" --out edited.png --before fitted.png
`;

const OPTIONS = {
  model: { type: 'string' },
  seed: { type: 'string' },
  truncation: { type: 'string' },
  points: { type: 'string', multiple: true },
  task: { type: 'string' },
  session: { type: 'string' },
  image: { type: 'string' },
  'lora-steps': { type: 'string' },
  'inversion-strength': { type: 'string' },
  'gif-every': { type: 'string' },
  mask: { type: 'string' },
  method: { type: 'string' },
  'no-discriminative': { type: 'boolean' },
  'no-confident': { type: 'boolean' },
  steps: { type: 'string' },
  lr: { type: 'string' },
  r1: { type: 'string' },
  r2: { type: 'string' },
  lambda: { type: 'string' },
  tau: { type: 'string' },
  'mask-weight': { type: 'string' },
  'stop-distance': { type: 'string' },
  out: { type: 'string' },
  before: { type: 'string' },
  gif: { type: 'string' },
  'save-session': { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The parsed, checked command line of `drag`; numbers are numbers, paths absolute. */
export interface DragArgs {
  readonly help: boolean;
  readonly model?: string;
  readonly seed?: number;
  readonly truncation?: number;
  readonly pairs?: readonly DragPair[];
  readonly task?: string;
  readonly session?: string;
  readonly image?: string;
  readonly loraSteps?: number;
  readonly inversionStrength?: number;
  readonly gifEvery?: number;
  readonly mask?: string;
  readonly method?: MethodName;
  readonly discriminative?: false;
  readonly confident?: false;
  readonly steps?: number;
  readonly lr?: number;
  readonly r1?: number;
  readonly r2?: number;
  readonly lambda?: number;
  readonly tau?: number;
  readonly maskWeight?: number;
  readonly stopDistance?: number;
  readonly out?: string;
  readonly before?: string;
  readonly gif?: string;
  readonly saveSession?: string;
  readonly json: boolean;
  readonly quiet: boolean;
}

/** Parses `drag`'s arguments (after the word "drag"); throws a usage error (exit 2) on anything wrong. */
export function parseDragArgs(argv: readonly string[], cwd: string): DragArgs {
  const { values, positionals } = parseCommandLine('drag', argv, OPTIONS, true);
  if (positionals.length > 0) throw usageError(`drag takes no positional arguments, got "${positionals.join(' ')}". Run "stabledrag drag --help".`);
  const v = values;
  const path = (p: string | undefined): string | undefined => (p === undefined ? undefined : resolve(cwd, p));
  const num = (key: keyof typeof OPTIONS, rule: Parameters<typeof parseBounded>[2]): number | undefined => {
    const text = v[key];
    return typeof text === 'string' ? parseBounded(text, `--${key}`, rule) : undefined;
  };
  const method = v.method === undefined ? undefined : parseMethodName(v.method);
  if (v.method !== undefined && method === undefined) {
    throw usageError(`--method must be one of ${METHOD_NAMES.join(', ')} (or dragdiffusion, the diffusion name of draggan), got "${v.method}".`);
  }
  if (v.task !== undefined && v.points !== undefined) throw usageError('Give the pairs either with --points or in --task, not both.');
  if (v.task !== undefined && v.session !== undefined) throw usageError('--task and --session both say where the drag starts; give one.');
  if (v.image !== undefined && (v.task !== undefined || v.session !== undefined)) throw usageError('--image says where the drag starts, as do --task and --session; give one.');
  if (v.image !== undefined && (v.seed !== undefined || v.truncation !== undefined)) throw usageError('--image starts from the photo; --seed and --truncation cannot apply to it.');
  if (v.session !== undefined && (v.seed !== undefined || v.truncation !== undefined)) {
    throw usageError('--session brings its own latent; --seed and --truncation cannot change it.');
  }
  const pairs = v.points?.flatMap((p) => parsePoints(p));
  const args: DragArgs = {
    help: v.help === true,
    json: v.json === true,
    quiet: v.quiet === true,
    ...(v.model !== undefined ? { model: resolveModelSpec(v.model, cwd) } : {}),
    ...(pairs ? { pairs } : {}),
    ...(method !== undefined ? { method } : {}),
    ...(v['no-discriminative'] ? { discriminative: false as const } : {}),
    ...(v['no-confident'] ? { confident: false as const } : {}),
  };
  const numbers: Partial<Record<keyof DragArgs, number | undefined>> = {
    seed: num('seed', { integer: true, min: 0 }),
    truncation: num('truncation', { above: 0, max: 1 }),
    steps: num('steps', { integer: true, min: 1 }),
    lr: num('lr', { above: 0 }),
    r1: num('r1', { above: 0 }),
    r2: num('r2', { integer: true, min: 1 }),
    lambda: num('lambda', { min: 0, max: 1 }),
    tau: num('tau', { min: 0 }),
    maskWeight: num('mask-weight', { min: 0 }),
    stopDistance: num('stop-distance', { above: 0 }),
    loraSteps: num('lora-steps', { integer: true, min: 0 }),
    inversionStrength: num('inversion-strength', { above: 0, max: 1 }),
    gifEvery: num('gif-every', { integer: true, min: 1 }),
  };
  const paths: Partial<Record<keyof DragArgs, string | undefined>> = {
    task: path(v.task),
    session: path(v.session),
    image: path(v.image),
    mask: path(v.mask),
    out: path(v.out),
    before: path(v.before),
    gif: path(v.gif),
    saveSession: path(v['save-session']),
  };
  const out: Record<string, unknown> = { ...args };
  for (const [k, val] of Object.entries({ ...numbers, ...paths })) if (val !== undefined) out[k] = val;
  const parsed = out as unknown as DragArgs;
  if (!parsed.help) {
    if (parsed.image !== undefined && parsed.pairs === undefined) throw usageError('Say what to drag on the photo: --points "hx,hy:tx,ty" (repeatable).');
    if (parsed.pairs === undefined && parsed.task === undefined && parsed.session === undefined) {
      throw usageError('Say what to drag: --points "hx,hy:tx,ty" (repeatable), --task task.json or --session session.json. Run "stabledrag drag --help".');
    }
    if (!parsed.out && !parsed.gif && !parsed.saveSession && !parsed.json && !parsed.before) {
      throw usageError('The drag would write nothing: give --out out.png (and/or --gif, --save-session, --json).');
    }
  }
  return parsed;
}

