import type { StageName } from './protocol.js';
import { timeLeftMs } from './stage-clock.js';

const NAMES: Record<StageName, string> = {
  load: 'Building the model graphs',
  lora: 'Fine-tuning LoRA on the photo',
  encode: 'Encoding the photo (VAE)',
  invert: 'Inverting the photo (DDIM)',
  sample: 'Sampling',
  drag: 'Dragging',
  denoise: 'Denoising the result (DDIM)',
  decode: 'Decoding (VAE)',
};

/** Seconds for people: "0.4 s", "12 s", "2 min 5 s". */
export function formatDuration(ms: number): string {
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 60) return `${Math.round(s)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - 60 * m)} s`;
}

/** The progress line of a long stage: its name, step of total and the time left at its rate so far. */
export function stageText(stage: StageName, step: number, total: number, elapsedMs: number): string {
  const left = timeLeftMs({ step, total, elapsedMs });
  const count = total > 1 ? ` ${step} / ${total}` : '';
  return `${NAMES[stage]}…${count}${left !== null && step < total ? ` · ${formatDuration(left)} left` : ''}`;
}
