import type { FeatureMap, Mask } from '@stabledrag/core';
import { ConfidentSupervision } from '@stabledrag/motion';

// A 16-channel, 32×32 feature map of a 128×128 image (scale 4).
const C = 16;
const H = 32;
const W = 32;
const data = new Float32Array(C * H * W);
for (let i = 0; i < data.length; i++) data[i] = Math.sin(0.37 * i) + Math.cos(0.011 * i);
const F0: FeatureMap = { data, channels: C, height: H, width: W, scale: 4 };

// Editable region: the left half of the image (1 = editable); the right half is kept fixed.
const mask: Mask = { data: new Uint8Array(128 * 128), width: 128, height: 128 };
for (let y = 0; y < 128; y++) for (let x = 0; x < 64; x++) mask.data[y * 128 + x] = 1;

const supervision = new ConfidentSupervision({ radius: 3, tau: 0.4, maskWeight: 20 });
supervision.init(F0, [{ x: 30, y: 64 }], mask);

// Step 1: the confidence s_1 of this step becomes the reference of Eq. 5.
const handles = [{ x: 30, y: 64 }];
const targets = [{ x: 50, y: 60 }];
const r1 = supervision.compute({ features: F0, handles, targets, confidences: [0.8], step: 1 });
console.log(r1.branches, r1.loss.toFixed(4)); // [ 'motion' ] — Eq. 1

// A later step whose tracking confidence fell to ≤ τ·s_1 = 0.32 uses the step-0 template (Eq. 4).
const moved = [{ x: 33, y: 63 }];
const r2 = supervision.compute({ features: F0, handles: moved, targets, confidences: [0.25], step: 2 });
console.log(r2.branches, r2.loss.toFixed(4)); // [ 'template' ]

// r.grad is dLoss/dF (CHW, like F0.data): hand it to the backend's backward pass.
console.log(r2.grad.length === F0.data.length);
