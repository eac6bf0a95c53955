import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Type tests: test/*.test-d.ts are compiled, not run; a wrong type (or an unused @ts-expect-error) fails.
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: 'test/tsconfig.types.json' },
    globalSetup: ['test/global-setup.ts'],
    // CI asks for a JSON report too, to print a plain "N passed, N failed" line.
    reporters: process.env.EXTPOINT_TEST_JSON ? ['default', ['json', { outputFile: process.env.EXTPOINT_TEST_JSON }]] : ['default'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
