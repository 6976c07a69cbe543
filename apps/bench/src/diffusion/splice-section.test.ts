import { describe, expect, it } from 'vitest';
import { spliceSection } from './splice-section.js';

const doc = '# Benchmarks\n\nintro\n\n## Table 1\n\nGAN numbers 1.23\n\n## Other packages\n\nother\n\n## Notes\n\n- n\n';

describe('spliceSection', () => {
  it('inserts a missing section before the first listed heading, keeping everything else', () => {
    const out = spliceSection(doc, '## Diffusion\n\nD 1\n', ['## Other packages', '## Notes']);
    expect(out).toBe('# Benchmarks\n\nintro\n\n## Table 1\n\nGAN numbers 1.23\n\n## Diffusion\n\nD 1\n\n## Other packages\n\nother\n\n## Notes\n\n- n\n');
  });
  it('replaces the section (up to the next ## heading, sub-headings included) and nothing else', () => {
    const once = spliceSection(doc, '## Diffusion\n\nD 1\n\n### Table\n\nx\n', ['## Other packages']);
    const twice = spliceSection(once, '## Diffusion\n\nD 2\n', ['## Other packages']);
    expect(twice).toBe(spliceSection(doc, '## Diffusion\n\nD 2\n', ['## Other packages']));
    expect(twice).not.toContain('D 1');
    expect(twice).not.toContain('### Table');
    expect(twice).toContain('GAN numbers 1.23');
  });
  it('appends when no listed heading exists', () => {
    expect(spliceSection('# B\n', '## Diffusion\n\nD\n', ['## Nope'])).toBe('# B\n\n## Diffusion\n\nD\n\n');
  });
});
