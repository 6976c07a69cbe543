import { describe, expect, it } from 'vitest';
import { CliError, ExitCode } from './errors.js';
import { parseBounded, parseNumber, parsePoints, parseSeeds, toJson } from './parse-values.js';

function usage(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(ExitCode.USAGE);
    return (error as Error).message;
  }
  throw new Error('expected a usage error');
}

describe('parsePoints', () => {
  it('reads "hx,hy:tx,ty" with floats, signs and spaces around numbers', () => {
    expect(parsePoints('40,52:60.5,52')).toEqual([{ handle: { x: 40, y: 52 }, target: { x: 60.5, y: 52 } }]);
    expect(parsePoints(' 1, 2:3 ,4 '.replace(/ /g, ''))).toEqual([{ handle: { x: 1, y: 2 }, target: { x: 3, y: 4 } }]);
  });
  it('reads several pairs separated by ";" or spaces', () => {
    const pairs = parsePoints('1,2:3,4; 5,6:7,8 9,10:11,12');
    expect(pairs.map((p) => p.target.x)).toEqual([3, 7, 11]);
  });
  it('refuses malformed values with a message showing the expected form', () => {
    expect(usage(() => parsePoints('40,52'))).toMatch(/hx,hy:tx,ty/);
    expect(usage(() => parsePoints('40:52'))).toMatch(/two numbers "x,y"/);
    expect(usage(() => parsePoints('a,1:2,3'))).toMatch(/must be a number, got "a"/);
    expect(usage(() => parsePoints('1,2,3:4,5'))).toMatch(/handle/);
    expect(usage(() => parsePoints(''))).toMatch(/needs a value/);
    expect(usage(() => parsePoints('1,2:3,Infinity'))).toMatch(/number/);
  });
});

describe('parseSeeds', () => {
  it('expands ranges and lists, keeps order and drops repeats', () => {
    expect(parseSeeds('0-3')).toEqual([0, 1, 2, 3]);
    expect(parseSeeds('7')).toEqual([7]);
    expect(parseSeeds('5,1-3,2,9')).toEqual([5, 1, 2, 3, 9]);
  });
  it('refuses reversed ranges, negatives, words and huge requests', () => {
    expect(usage(() => parseSeeds('5-2'))).toMatch(/low to high/);
    expect(usage(() => parseSeeds('-1'))).toMatch(/non-negative/);
    expect(usage(() => parseSeeds('all'))).toMatch(/0-15/);
    expect(usage(() => parseSeeds('0-99999', 100))).toMatch(/more than 100/);
  });
});

describe('parseNumber / parseBounded', () => {
  it('accepts plain and exponent notation, refuses the rest', () => {
    expect(parseNumber('1e-3', '--lr')).toBe(0.001);
    expect(parseNumber('.5', '--tau')).toBe(0.5);
    expect(usage(() => parseNumber('0x10', '--steps'))).toMatch(/--steps must be a number/);
    expect(usage(() => parseNumber('', '--steps'))).toMatch(/--steps/);
  });
  it('checks integers and bounds', () => {
    expect(parseBounded('12', '--r2', { integer: true, min: 1 })).toBe(12);
    expect(usage(() => parseBounded('1.5', '--steps', { integer: true }))).toMatch(/whole number/);
    expect(usage(() => parseBounded('0', '--lr', { above: 0 }))).toMatch(/greater than 0/);
    expect(usage(() => parseBounded('1.2', '--truncation', { above: 0, max: 1 }))).toMatch(/at most 1/);
    expect(usage(() => parseBounded('-1', '--seed', { min: 0 }))).toMatch(/at least 0/);
  });
});

describe('toJson', () => {
  it('keeps number arrays on one line and stays valid JSON', () => {
    const value = { points: [[1.5, -2], [3e-7, 4]], name: 'a [1, 2]', nested: { t: [1, 2, 3] } };
    const text = toJson(value);
    expect(text).toContain('[1.5, -2]');
    expect(text).toContain('"t": [1, 2, 3]');
    expect(JSON.parse(text)).toEqual(value);
  });
});
