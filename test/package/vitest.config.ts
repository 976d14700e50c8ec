import { defineConfig } from 'vitest/config';

// The package test (`npm run test:package`): packs the built package and tests it as users install it.
export default defineConfig({
  test: {
    include: ['test/package/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
  },
});
