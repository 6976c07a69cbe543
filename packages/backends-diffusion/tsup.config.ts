import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/node.ts', 'src/web.ts'],
  format: ['esm', 'cjs'],
  // import.meta.url (the layout model folder) in the CommonJS build too.
  shims: true,
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
});
