import { els } from './dom.js';
import { ctx, params } from './page-context.js';
import { defaultSettings, type DragSettings, type MethodName } from './settings.js';

export function readSettings(): DragSettings {
  const f = els.fields;
  const method = (document.querySelector<HTMLInputElement>('input[name="method"]:checked')?.value ?? 'stabledrag') as MethodName;
  return {
    method,
    maxSteps: Number(f.steps.value),
    learningRate: Number(f.lr.value),
    r1: Number(f.r1.value),
    r2: Number(f.r2.value),
    lambda: Number(f.lambda.value),
    tau: Number(f.tau.value),
    maskWeight: Number(f.maskWeight.value),
  };
}

export function writeSettings(s: DragSettings): void {
  const f = els.fields;
  const radio = document.querySelector<HTMLInputElement>(`input[name="method"][value="${s.method}"]`);
  if (radio) radio.checked = true;
  f.steps.value = String(s.maxSteps);
  f.lr.value = String(s.learningRate);
  f.r1.value = String(s.r1);
  f.r2.value = String(s.r2);
  f.lambda.value = String(s.lambda);
  f.tau.value = String(s.tau);
  f.maskWeight.value = String(s.maskWeight);
  updateMethodFields();
}

/** Default steps per method: the diffusion model's (StableDrag-Diff 60, DragDiffusion 80), else the GAN's. */
function defaultSteps(method: MethodName): number | null {
  const d = ctx.diffusion;
  if (!d) return null;
  return method === 'stabledrag' ? d.steps.stabledrag : d.steps.dragdiffusion;
}

export function updateMethodFields(): void {
  const stable = readSettings().method === 'stabledrag';
  els.fields.lambda.disabled = !stable;
  els.fields.tau.disabled = !stable;
}

/** A method switch in diffusion mode moves the steps to that method's default if they were the other's. */
export function onMethodChange(): void {
  const method = readSettings().method;
  const other = defaultSteps(method === 'stabledrag' ? 'draggan' : 'stabledrag');
  const mine = defaultSteps(method);
  if (other !== null && mine !== null && Number(els.fields.steps.value) === other) els.fields.steps.value = String(mine);
  updateMethodFields();
}

/**
 * The loaded model's defaults: the GAN's from its resolution and learning rate; the diffusion
 * model's from its model.json and the backend (DragDiffusion's r_m = 1, r_p = 3 feature px in
 * image px, lr 0.01, 60 / 80 steps). `?steps=` overrides the steps.
 */
export function resetSettings(): void {
  const { info, diffusion } = ctx;
  if (!info) return;
  const base = defaultSettings(info.imageWidth, diffusion?.learningRate ?? info.defaultLearningRate);
  writeSettings(diffusion ? { ...base, r1: diffusion.r1, r2: diffusion.r2, maxSteps: diffusion.steps.stabledrag } : base);
  const steps = Number(params.get('steps'));
  if (Number.isInteger(steps) && steps > 0) els.fields.steps.value = String(steps);
}
