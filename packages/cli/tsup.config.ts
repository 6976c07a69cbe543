import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/bin.ts'],
  format: ['esm', 'cjs'],
  // import.meta.url (model folders, package.json) in the CommonJS build too.
  shims: true,
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
});
