import { describe, expect, it } from 'vitest';
import { assertConformance } from '@stabledrag/core/conformance';
import { checkAgainstGolden } from './golden.js';
import { defaultModelDir, loadGanBackend } from './node.js';

describe('the embedded default model', () => {
  it('its ONNX files reproduce the outputs PyTorch recorded at export', async () => {
    await checkAgainstGolden(defaultModelDir, 'default-golden.json');
  });

  it('loads as a GanBackend and passes the conformance suite', async () => {
    const report = await assertConformance(() => loadGanBackend(), {
      seeds: [0],
      directions: 2,
      epsilon: 1e-2,
      vjpTolerance: { atol: 1e-3, rtol: 3e-2 },
    });
    expect(report.passed).toBe(true);
  });

  it('describes itself: 128×128 images, features at a quarter resolution, 6 optimised W+ rows', async () => {
    const backend = await loadGanBackend();
    expect(backend.info).toMatchObject({ imageWidth: 128, imageHeight: 128, featureHeight: 32, featureWidth: 32, featureScale: 4, kind: 'gan' });
    expect(backend.optimizeWs).toBe(6);
    await backend.dispose();
  });
});
