/** Jest for an ESM TypeScript project (jose 6 is ESM-only): ts-jest ESM preset, run with
 *  NODE_OPTIONS=--experimental-vm-modules (the `npm test` script sets it, and preloads
 *  test/helpers/quiet-vm-warning.cjs, which drops only Node's warning about that flag). */
export default {
  preset: 'ts-jest/presets/default-esm',
  // Node's environment plus a watchdog that ends a file stuck past its bound (120 s by default), naming it.
  testEnvironment: '<rootDir>/test/helpers/watchdog-environment.ts',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  testTimeout: 30000,
  // Drops only the @azure/functions "test mode" banner that every suite importing a function module would print.
  setupFiles: ['<rootDir>/test/helpers/quiet-azure-functions.ts'],
  // The run's RSA test keys, made once (test/helpers/key-pool.ts).
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
};
