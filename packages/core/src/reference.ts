export { GaussianBlobBackend } from './gaussian-blob-backend.js';
export type { GaussianBlobBackendOptions } from './gaussian-blob-backend.js';
