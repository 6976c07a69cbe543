import { createRequire } from 'node:module';
import { runDrag } from './commands/drag.js';
import { runInfo } from './commands/info.js';
import { runSample } from './commands/sample.js';
import type { CliContext } from './context.js';
import { ExitCode, exitCodeOf, messageOf, usageError } from './errors.js';
import type { ExitCodeValue } from './errors.js';
import { createMethod } from './methods.js';
import { loadModel } from './models.js';
import { oneLine } from './one-line.js';

export const VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

export const MAIN_HELP = `Usage: stabledrag <command> [options]

Drag-based image editing with StableDrag (discriminative point tracking and confident motion
supervision) on StyleGAN2-style ONNX generators and, for photographs (--image), on latent
diffusion models (StableDrag-Diff), on the CPU, in Node.

Commands:
  drag      drag handle points of a generated image or a photo to targets (PNG, GIF, JSON, session)
  sample    render seeds (one PNG each, or a grid) to pick one to drag
  info      describe a model

Options:
  -h, --help     help (also "stabledrag <command> --help")
  -v, --version  the version

Exit codes:
  0    done (a drag that reached --steps without converging included; see --json)
  1    runtime failure (an output could not be written, the runtime failed)
  2    bad usage or input (unknown option, bad points, mask of the wrong size, output = input,
       folder not writable)
  3    the model could not be loaded (unknown folder, broken model.json, missing file or tensor)
  130  interrupted by Ctrl-C (during a drag the last image was still written; during LoRA,
       encoding or inversion nothing was)

Example:
  stabledrag drag --seed 4 --points "60,70:70,70" --out drag.png --gif drag.gif
`;

export interface MainOptions extends Partial<CliContext> {
  readonly stdout: CliContext['stdout'];
  readonly stderr: CliContext['stderr'];
}

const COMMANDS: Record<string, (argv: readonly string[], ctx: CliContext) => Promise<ExitCodeValue>> = {
  drag: runDrag,
  sample: runSample,
  info: runInfo,
};

/**
 * The `stabledrag` command as a function: argv (without "node" and the script) in, exit code out.
 * Never throws and never exits the process; errors are printed to `stderr` as one message.
 */
export async function main(argv: readonly string[], options: MainOptions): Promise<ExitCodeValue> {
  const ctx: CliContext = {
    cwd: process.cwd(),
    loadModel,
    createMethod,
    ...options,
  };
  try {
    // `pnpm run stabledrag -- drag …` passes the separator through; it means nothing here.
    const [first, ...rest] = argv[0] === '--' ? argv.slice(1) : argv;
    if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
      if (first === 'help' && rest[0] && COMMANDS[rest[0]]) return await COMMANDS[rest[0]]!(['--help'], ctx);
      if (first === undefined) {
        ctx.stderr.write(MAIN_HELP);
        return ExitCode.USAGE;
      }
      ctx.stdout.write(MAIN_HELP);
      return ExitCode.OK;
    }
    if (first === '-v' || first === '--version') {
      ctx.stdout.write(`${VERSION}\n`);
      return ExitCode.OK;
    }
    const command = COMMANDS[first];
    if (!command) throw usageError(`Unknown command "${first}"; the commands are ${Object.keys(COMMANDS).join(', ')}. Run "stabledrag --help".`);
    return await command(rest, ctx);
  } catch (error) {
    const code = exitCodeOf(error);
    // One line, whatever the message embeds (a parser's or a file's newlines).
    ctx.stderr.write(`stabledrag: ${oneLine(messageOf(error))}\n`);
    if (code === ExitCode.FAILURE && error instanceof Error && error.stack && process.env.STABLEDRAG_DEBUG) ctx.stderr.write(`${error.stack}\n`);
    return code;
  }
}
