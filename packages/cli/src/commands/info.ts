import type { CliContext } from '../context.js';
import { ExitCode } from '../errors.js';
import type { ExitCodeValue } from '../errors.js';
import { defaultRadii } from '../methods.js';
import { resolveModelSpec } from '../models.js';
import { parseCommandLine } from '../parse-command-line.js';

export const INFO_HELP = `Usage: stabledrag info [--model <dir|name>] [--json]

Describes a model: resolution, latent sizes, feature tensor, default radii and learning rate;
for a diffusion model also the VAE factor, self-attention layers, inversion strength and edited
timestep, and the drag and LoRA defaults of its model.json.

  --model <dir|name>  model folder or name (default, tiny, reference, diffusion,
                      diffusion-tiny); default: default
  --json              print the description as JSON
  -h, --help          this help
`;

const OPTIONS = {
  model: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function show(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(show).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>).map(([k, v]) => `${k}=${show(v)}`).join(', ');
  }
  return String(value);
}

export async function runInfo(argv: readonly string[], ctx: CliContext): Promise<ExitCodeValue> {
  const { values } = parseCommandLine('info', argv, OPTIONS);
  if (values.help) {
    ctx.stdout.write(INFO_HELP);
    return ExitCode.OK;
  }
  const model = await ctx.loadModel(resolveModelSpec(values.model, ctx.cwd));
  try {
    const info = model.backend.info;
    // Diffusion radii come from the backend (DragDiffusion's feature-pixel radii in image pixels).
    const radii = model.diffusion?.radii ?? defaultRadii(Math.max(info.imageWidth, info.imageHeight));
    const description: Record<string, unknown> = {
      model: model.spec,
      ...model.details,
      featureShape: [info.featureChannels, info.featureHeight, info.featureWidth],
      defaultRadii: radii,
    };
    if (values.json) {
      ctx.stdout.write(`${JSON.stringify(description, null, 2)}\n`);
    } else {
      const width = Math.max(...Object.keys(description).map((k) => k.length));
      for (const [k, v] of Object.entries(description)) ctx.stdout.write(`${k.padEnd(width)}  ${show(v)}\n`);
    }
    return ExitCode.OK;
  } finally {
    await model.dispose();
  }
}
