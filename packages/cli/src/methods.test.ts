import { describe, expect, it } from 'vitest';
import { ConfidentSupervision, MotionSupervision } from '@stabledrag/motion';
import { DiscriminativeTracker, NearestNeighbourTracker } from '@stabledrag/tracker';
import { createMethod, defaultRadii, parseMethodName } from './methods.js';

describe('defaultRadii', () => {
  it("scales DragGAN's r1 = 3, r2 = 12 at 512 px, never below 2 and 6", () => {
    expect(defaultRadii(512)).toEqual({ r1: 3, r2: 12 });
    expect(defaultRadii(1024)).toEqual({ r1: 6, r2: 24 });
    expect(defaultRadii(256)).toEqual({ r1: 2, r2: 6 });
    expect(defaultRadii(128)).toEqual({ r1: 2, r2: 6 });
    expect(defaultRadii(64)).toEqual({ r1: 2, r2: 6 });
    expect(defaultRadii(768)).toEqual({ r1: 5, r2: 18 });
  });
});

describe('createMethod', () => {
  const radii = { r1: 2, r2: 6 };
  it('maps the methods and ablations of the paper to trackers and supervisors', () => {
    const full = createMethod('stabledrag', { ...radii, lambda: 0.5, tau: 0.3, maskWeight: 7 });
    expect(full.tracker).toBeInstanceOf(DiscriminativeTracker);
    expect(full.supervisor).toBeInstanceOf(ConfidentSupervision);
    expect((full.tracker as DiscriminativeTracker).lambda).toBe(0.5);
    expect((full.tracker as DiscriminativeTracker).radius).toBe(6);
    expect((full.supervisor as ConfidentSupervision).tau).toBe(0.3);
    expect((full.supervisor as ConfidentSupervision).radius).toBe(2);
    expect((full.supervisor as ConfidentSupervision).maskWeight).toBe(7);

    const noDisc = createMethod('stabledrag', { ...radii, discriminative: false });
    expect(noDisc.tracker).toBeInstanceOf(NearestNeighbourTracker);
    expect(noDisc.supervisor).toBeInstanceOf(ConfidentSupervision);
    expect(noDisc.label).toMatch(/nearest-neighbour tracking, confident supervision/);

    const noConf = createMethod('stabledrag', { ...radii, confident: false });
    expect(noConf.tracker).toBeInstanceOf(DiscriminativeTracker);
    expect(noConf.supervisor).toBeInstanceOf(MotionSupervision);

    const draggan = createMethod('draggan', { ...radii, discriminative: true, confident: true });
    expect(draggan.tracker).toBeInstanceOf(NearestNeighbourTracker);
    expect(draggan.supervisor).toBeInstanceOf(MotionSupervision);
    expect((draggan.tracker as NearestNeighbourTracker).radius).toBe(6);
  });
  it('uses the paper defaults λ = 0.3, τ = 0.4, η = 20', () => {
    const m = createMethod('stabledrag', radii);
    expect((m.tracker as DiscriminativeTracker).lambda).toBe(0.3);
    expect((m.supervisor as ConfidentSupervision).tau).toBe(0.4);
    expect((m.supervisor as ConfidentSupervision).maskWeight).toBe(20);
  });
  it('refuses an unknown method', () => {
    expect(() => createMethod('freedrag' as never, radii)).toThrow(/Unknown method "freedrag"/);
  });
});

describe('parseMethodName', () => {
  it('takes dragdiffusion as the diffusion name of draggan and refuses other names', () => {
    expect(parseMethodName('stabledrag')).toBe('stabledrag');
    expect(parseMethodName('draggan')).toBe('draggan');
    expect(parseMethodName('dragdiffusion')).toBe('draggan');
    expect(parseMethodName('freedrag')).toBeUndefined();
    expect(parseMethodName('DragGAN')).toBeUndefined();
  });
});
