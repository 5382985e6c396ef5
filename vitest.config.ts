import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    environment: 'node',
    pool: 'forks',
    // Two cores: the crash and multi-process tests spawn their own children.
    maxWorkers: 2,
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/postgres.ts'],
    // Real child processes and real disks: generous, but a hang still fails.
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // A passing run stays short: what a test prints (figures, warnings) is shown only when it fails.
    silent: 'passed-only',
  },
});
