import { defineConfig, mergeConfig } from 'vitest/config';
import { sharedConfig } from '../../vitest.shared';

export default mergeConfig(sharedConfig, defineConfig({ test: { include: ['src/**/*.test.ts'], // ONNX-heavy suites: minutes on a shared 2-core machine while turbo runs the other packages' tests
  testTimeout: 600_000, hookTimeout: 600_000 } }));
