import { cpSync, createReadStream, existsSync, statSync } from 'node:fs';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, defaultClientConditions, type Plugin } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
/**
 * The GAN model folders live in the backends-gan package; the demo serves them as static files.
 * STABLEDRAG_MODELS_DIR points at another folder of model folders (e.g. a fresh export).
 */
const modelsDir = resolve(process.env.STABLEDRAG_MODELS_DIR || resolve(here, '../../packages/backends-gan/models'));

const types: Record<string, string> = {
  '.json': 'application/json',
  '.onnx': 'application/octet-stream',
  '.bin': 'application/octet-stream',
};

/** Serves packages/backends-gan/models at /models/ in dev and copies it to dist/models/ in a build. */
function modelsPlugin(): Plugin {
  let outDir = '';
  return {
    name: 'stabledrag-models',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const path = decodeURIComponent((req.url ?? '').split('?')[0] ?? '');
        const base = server.config.base.replace(/\/$/, '');
        if (!path.startsWith(`${base}/models/`)) return next();
        const file = normalize(join(modelsDir, path.slice(`${base}/models/`.length)));
        if (!file.startsWith(modelsDir) || !existsSync(file) || !statSync(file).isFile()) {
          res.statusCode = 404;
          res.end('not found');
          return;
        }
        res.setHeader('Content-Type', types[extname(file)] ?? 'application/octet-stream');
        res.setHeader('Content-Length', statSync(file).size);
        createReadStream(file).pipe(res);
      });
    },
    closeBundle() {
      if (!outDir) return;
      if (!existsSync(modelsDir)) {
        this.warn(`No model folder at ${modelsDir}; the built demo will only offer the reference backend.`);
        return;
      }
      // Model folders only (model.json + the files it names); skip training leftovers if any.
      cpSync(modelsDir, join(outDir, 'models'), {
        recursive: true,
        filter: (src) => statSync(src).isDirectory() || /\.(json|onnx|bin)$/.test(src),
      });
    },
  };
}

// Cross-origin isolation lets onnxruntime-web use threads (SharedArrayBuffer); without it, one thread.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  base: './',
  resolve: { conditions: ['@stabledrag/source', ...defaultClientConditions] },
  worker: { format: 'es' },
  // ORT finds its .wasm next to its own module; pre-bundling would move the module away from it.
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  server: { headers: isolation },
  preview: { headers: isolation },
  build: { target: 'es2022', chunkSizeWarningLimit: 2000 },
  plugins: [modelsPlugin()],
});
