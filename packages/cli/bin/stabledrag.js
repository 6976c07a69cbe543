#!/usr/bin/env node
// The `stabledrag` command's launcher. package.json's "bin" points here, a committed file, rather
// than at dist/bin.js: pnpm links workspace bins at install time, before anything is built, and a
// bin target that does not exist yet makes every install warn "Failed to create bin".
import { existsSync } from 'node:fs';

const entry = new URL('../dist/bin.js', import.meta.url);
if (existsSync(entry)) {
  await import(entry.href);
} else {
  process.stderr.write(
    'stabledrag: the CLI is not built (no dist/bin.js). Run "pnpm build", or run the sources with "pnpm --silent --filter @stabledrag/cli stabledrag ...".\n',
  );
  process.exitCode = 1;
}
