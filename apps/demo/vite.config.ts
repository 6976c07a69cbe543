import { cpSync, createReadStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, defaultClientConditions, type Plugin } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');

/**
 * Folders the page fetches at run time, served in dev and copied into a build:
 * - models/: the GAN model folders of the backends-gan package (STABLEDRAG_MODELS_DIR points at
 *   another folder of model folders, e.g. a fresh export);
 * - models/diffusion/: the embedded latent diffusion model of the backends-diffusion package;
 * - samples/: photos to start the diffusion mode from (public domain / CC0, with their licences).
 * Longer URL prefixes win.
 */
interface Mount {
  readonly url: string;
  readonly dir: string;
  /** File name → its source in `dir` (samples); absent = every file under `dir`. */
  readonly files?: Readonly<Record<string, string>>;
}
const photos = resolve(repo, 'apps/bench/tasks-diffusion/photos');
const mounts: readonly Mount[] = [
  { url: 'models/diffusion/', dir: resolve(repo, 'packages/backends-diffusion/models/sd-embedded') },
  { url: 'models/', dir: resolve(process.env.STABLEDRAG_MODELS_DIR || resolve(repo, 'packages/backends-gan/models')) },
  {
    url: 'samples/',
    dir: photos,
    files: {
      'face.png': resolve(repo, 'apps/bench/tasks-diffusion/f04-single-nose-tip.png'),
      'astronaut.png': join(photos, 'astronaut.png'),
      'chelsea.png': join(photos, 'chelsea.png'),
      'coffee.png': join(photos, 'coffee.png'),
      'LICENSES.md': join(photos, 'LICENSES.md'),
    },
  },
];

const types: Record<string, string> = {
  '.json': 'application/json',
  '.onnx': 'application/octet-stream',
  '.onnx_data': 'application/octet-stream',
  '.bin': 'application/octet-stream',
  '.png': 'image/png',
  '.md': 'text/markdown; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};
/** What a build copies of a model folder: model.json and the files it names; no training leftovers. */
const MODEL_FILE = /\.(json|onnx|onnx_data|bin|txt)$/;

/** The file a URL path (after the base) names, or null. */
function resolveMounted(path: string): string | null {
  const mount = mounts.find((m) => path.startsWith(m.url));
  if (!mount) return null;
  const rest = path.slice(mount.url.length);
  const file = mount.files ? mount.files[rest] : normalize(join(mount.dir, rest));
  if (!file || (!mount.files && !file.startsWith(mount.dir))) return null;
  return existsSync(file) && statSync(file).isFile() ? file : null;
}

function copyMounts(outDir: string, warn: (message: string) => void): void {
  for (const m of [...mounts].reverse()) {
    const to = join(outDir, m.url);
    if (m.files) {
      mkdirSync(to, { recursive: true });
      for (const [name, from] of Object.entries(m.files)) if (existsSync(from)) cpSync(from, join(to, name));
      continue;
    }
    if (!existsSync(m.dir)) {
      warn(`No model folder at ${m.dir}; the built demo will not offer it.`);
      continue;
    }
    cpSync(m.dir, to, { recursive: true, filter: (src) => statSync(src).isDirectory() || MODEL_FILE.test(src) });
  }
}

/** Serves the mounts in dev and copies them into dist/ in a build. */
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
        if (!path.startsWith(`${base}/`)) return next();
        const rel = path.slice(base.length + 1);
        if (!mounts.some((m) => rel.startsWith(m.url))) return next();
        const file = resolveMounted(rel);
        if (!file) {
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
      if (outDir) copyMounts(outDir, (m) => this.warn(m));
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
