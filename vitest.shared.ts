import { defineConfig } from 'vitest/config';

// Resolve workspace packages to their src/ through the custom export condition, so tests
// need no prior build (TanStack's custom-condition pattern).
export const sharedConfig = defineConfig({
  resolve: { conditions: ['@stabledrag/source'] },
  ssr: { resolve: { conditions: ['@stabledrag/source'] } },
  test: { testTimeout: 60_000, hookTimeout: 60_000, pool: 'forks' },
});
