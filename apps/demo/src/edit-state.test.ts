import { describe, expect, it } from 'vitest';
import { MaskState, PointState, canvasToImage, imageToCanvas } from './edit-state.js';

describe('PointState', () => {
  it('alternates handle and target clicks and leaves an unfinished handle out of the pairs', () => {
    const s = new PointState();
    expect(s.click({ x: 1, y: 2 })).toBe('handle');
    expect(s.awaitingTarget).toBe(true);
    expect(s.click({ x: 5, y: 6 })).toBe('target');
    expect(s.click({ x: 10, y: 10 })).toBe('handle');
    expect(s.pairs).toHaveLength(2);
    expect(s.completePairs()).toEqual([{ handle: { x: 1, y: 2 }, target: { x: 5, y: 6 } }]);
  });

  it('undo removes a target before its handle, one point per call', () => {
    const s = new PointState();
    s.click({ x: 1, y: 1 });
    s.click({ x: 2, y: 2 });
    s.undo();
    expect(s.pairs).toEqual([{ handle: { x: 1, y: 1 }, target: null }]);
    expect(s.awaitingTarget).toBe(true);
    s.undo();
    expect(s.pairs).toEqual([]);
    s.undo();
    expect(s.pairs).toEqual([]);
  });

  it('moveHandles updates only the complete pairs, in order', () => {
    const s = new PointState();
    s.click({ x: 0, y: 0 });
    s.click({ x: 9, y: 0 });
    s.click({ x: 0, y: 5 });
    s.click({ x: 9, y: 5 });
    s.click({ x: 3, y: 3 });
    s.moveHandles([{ x: 4, y: 0 }, { x: 6, y: 5 }]);
    expect(s.pairs).toEqual([
      { handle: { x: 4, y: 0 }, target: { x: 9, y: 0 } },
      { handle: { x: 6, y: 5 }, target: { x: 9, y: 5 } },
      { handle: { x: 3, y: 3 }, target: null },
    ]);
  });

  it('reset and load replace everything', () => {
    const s = new PointState();
    s.click({ x: 0, y: 0 });
    s.reset();
    expect(s.pairs).toEqual([]);
    s.load([{ handle: { x: 1, y: 1 }, target: { x: 2, y: 2 } }]);
    expect(s.completePairs()).toEqual([{ handle: { x: 1, y: 1 }, target: { x: 2, y: 2 } }]);
    expect(s.awaitingTarget).toBe(false);
  });
});

describe('MaskState', () => {
  it('has no mask until something is painted, then marks the brushed disc editable', () => {
    const m = new MaskState(8, 8);
    expect(m.toMask()).toBeUndefined();
    m.brush(3, 3, 1, 1);
    const mask = m.toMask();
    expect(mask).toBeDefined();
    // A radius-1 disc at an integer centre covers the centre and its 4 neighbours.
    expect(m.paintedPixels).toBe(5);
    expect(Array.from(mask!.data).reduce((a, b) => a + b, 0)).toBe(5);
    expect(mask!.data[3 * 8 + 3]).toBe(1);
    expect(mask!.data[2 * 8 + 2]).toBe(0);
  });

  it('erasing restores fixed pixels and the count; erasing everything means no mask', () => {
    const m = new MaskState(8, 8);
    m.brush(3, 3, 2, 1);
    m.brush(3, 3, 1, 0);
    expect(m.paintedPixels).toBe(13 - 5);
    m.brush(3, 3, 3, 0);
    expect(m.paintedPixels).toBe(0);
    expect(m.toMask()).toBeUndefined();
  });

  it('clips the brush at the border and strokes leave no gaps', () => {
    const m = new MaskState(10, 4);
    m.brush(0, 0, 1, 1);
    expect(m.paintedPixels).toBe(3);
    m.clear();
    m.stroke({ x: 0, y: 2 }, { x: 9, y: 2 }, 0.5, 1);
    for (let x = 0; x < 10; x++) expect(m.data[2 * 10 + x]).toBe(1);
    expect(m.paintedPixels).toBe(10);
  });

  it('toMask returns a copy and load counts the painted pixels', () => {
    const m = new MaskState(4, 4);
    m.brush(1, 1, 0, 1);
    const mask = m.toMask()!;
    m.clear();
    expect(mask.data[5]).toBe(1);
    const data = new Uint8Array(16);
    data[0] = 1;
    data[15] = 1;
    m.load(data);
    expect(m.paintedPixels).toBe(2);
    expect(() => m.load(new Uint8Array(3))).toThrow(/3 pixels/);
  });
});

describe('canvas ↔ image coordinates', () => {
  it('maps the centre of a displayed pixel to its integer image coordinate and back', () => {
    // 64-px image shown at 512 CSS px: image pixel 10 spans CSS [80, 88), centre 84.
    expect(canvasToImage(84, 84, 512, 512, 64, 64)).toEqual({ x: 10, y: 10 });
    expect(imageToCanvas({ x: 10, y: 10 }, 512, 512, 64, 64)).toEqual({ x: 84, y: 84 });
  });

  it('clamps clicks on the border into the image', () => {
    expect(canvasToImage(-3, 600, 512, 512, 64, 64)).toEqual({ x: 0, y: 63 });
  });
});
