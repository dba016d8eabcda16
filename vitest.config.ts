import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // 2-core CI machine: ffmpeg-heavy suites run best with few parallel files.
    maxWorkers: 2,
    globalSetup: ['test/global-setup.ts'],
  },
});
