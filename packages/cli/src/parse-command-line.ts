import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { usageError } from './errors.js';
import { oneLine } from './one-line.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** A value that starts with a dash but is data, not an option: "-5", "-1.5", "-5,70:80,70". */
const NEGATIVE_VALUE = /^-(\d|\.\d)/;

/**
 * Node's parser reads `--steps -5` as a missing value followed by an option "-5" and answers
 * with a three-line complaint. A string option followed by a negative number is joined into
 * `--steps=-5`, so the value reaches the project's own checks ("--steps must be at least 1").
 */
export function joinNegativeValues(argv: readonly string[], options: Options): string[] {
  const takesValue = (arg: string): boolean => {
    const name = arg.startsWith('--') ? arg.slice(2) : Object.keys(options).find((k) => arg === `-${options[k]!.short}`);
    return name !== undefined && !name.includes('=') && options[name]?.type === 'string';
  };
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const next = argv[i + 1];
    if (next !== undefined && takesValue(arg) && NEGATIVE_VALUE.test(next)) {
      // "--steps=-5"; a short option takes its value glued on: "-o-5".
      out.push(arg.startsWith('--') ? `${arg}=${next}` : `${arg}${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

/**
 * `parseArgs` (strict, no positionals unless asked) with negative values accepted and every
 * parser complaint turned into a one-line usage error (exit 2) pointing at `stabledrag <command> --help`.
 */
export function parseCommandLine<O extends Options>(
  command: string,
  argv: readonly string[],
  options: O,
  allowPositionals = false,
): ReturnType<typeof parseArgs<{ options: O; strict: true; allowPositionals: true }>> {
  try {
    return parseArgs({ args: joinNegativeValues(argv, options), options, strict: true, allowPositionals }) as ReturnType<
      typeof parseArgs<{ options: O; strict: true; allowPositionals: true }>
    >;
  } catch (error) {
    throw usageError(`${oneLine((error as Error).message)} Run "stabledrag ${command} --help" for the options.`, error);
  }
}
