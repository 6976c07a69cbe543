/** The page's elements by id (index.html); a missing one is a bug in the page, named at start-up. */
export const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from index.html`);
  return el as T;
};

export const els = {
  view: $<HTMLCanvasElement>('view'),
  native: $<HTMLCanvasElement>('image-native'),
  banner: $<HTMLDivElement>('banner'),
  status: $<HTMLParagraphElement>('status'),
  progressBar: $<HTMLDivElement>('progress-bar'),
  tableBody: document.querySelector<HTMLTableSectionElement>('#points-table tbody')!,
  seed: $<HTMLInputElement>('seed'),
  start: $<HTMLButtonElement>('start'),
  stop: $<HTMLButtonElement>('stop'),
  gif: $<HTMLButtonElement>('download-gif'),
  backend: $<HTMLSelectElement>('backend-select'),
  provider: $<HTMLSelectElement>('provider-select'),
  brush: $<HTMLInputElement>('brush'),
  loadSession: $<HTMLInputElement>('load-session'),
  showMask: $<HTMLInputElement>('show-mask'),
  seedPanel: $<HTMLFieldSetElement>('seed-panel'),
  photoPanel: $<HTMLFieldSetElement>('photo-panel'),
  photoInput: $<HTMLInputElement>('photo-input'),
  photoNotes: $<HTMLParagraphElement>('photo-notes'),
  samples: $<HTMLDivElement>('sample-photos'),
  loraSteps: $<HTMLInputElement>('lora-steps'),
  baselineName: $<HTMLSpanElement>('baseline-name'),
  timing: $<HTMLParagraphElement>('timing'),
  fields: {
    steps: $<HTMLInputElement>('steps'),
    lr: $<HTMLInputElement>('lr'),
    r1: $<HTMLInputElement>('r1'),
    r2: $<HTMLInputElement>('r2'),
    lambda: $<HTMLInputElement>('lambda'),
    tau: $<HTMLInputElement>('tau'),
    maskWeight: $<HTMLInputElement>('mask-weight'),
  },
  /** Buttons that edit the image, points or files: disabled while busy. */
  editButtons: ['random-seed', 'reset-image', 'undo-point', 'reset-points', 'clear-mask', 'defaults', 'save-session', 'download-png'].map((id) =>
    $<HTMLButtonElement>(id),
  ),
};
