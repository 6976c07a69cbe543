import type { WorkerRequest, WorkerResponse } from './protocol.js';

let worker: Worker | null = null;

/** Starts a fresh drag worker (a model switch throws the old one away with all its memory). */
export function startWorker(onMessage: (msg: WorkerResponse) => void, onFail: (message: string) => void): void {
  worker?.terminate();
  worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
  worker.onmessage = (event: MessageEvent<WorkerResponse>) => onMessage(event.data);
  worker.onerror = (event) => {
    onFail(`The drag worker failed: ${event.message || 'it could not start (this browser may not support module workers)'}.`);
  };
}

export function send(req: WorkerRequest, transfer: Transferable[] = []): void {
  worker?.postMessage(req, transfer);
}
