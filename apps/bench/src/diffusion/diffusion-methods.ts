import { TABLE2, type MethodSpec } from '../methods.js';

/**
 * The paper's diffusion rows (Tables 1–2: DragDiffusion, StableDrag-Diff and its two ablations)
 * are the GAN benchmark's Table 2 specs run on the diffusion backend: the same tracker and
 * supervisor per row, built by the CLI's createMethod, only relabelled.
 */
const LABELS: Record<string, { id: string; label: string }> = {
  draggan: { id: 'dragdiffusion', label: 'DragDiffusion' },
  'no-dpt': { id: 'no-dpt', label: 'StableDrag-Diff w/o discriminative tracking' },
  'no-cms': { id: 'no-cms', label: 'StableDrag-Diff w/o confident supervision' },
  stabledrag: { id: 'stabledrag-diff', label: 'StableDrag-Diff' },
};

export const DIFFUSION_TABLE2: readonly MethodSpec[] = TABLE2.map((s) => ({ ...s, ...LABELS[s.id]! }));

export const DRAGDIFFUSION = DIFFUSION_TABLE2.find((s) => s.id === 'dragdiffusion')!;
export const STABLEDRAG_DIFF = DIFFUSION_TABLE2.find((s) => s.id === 'stabledrag-diff')!;
