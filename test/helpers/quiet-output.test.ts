// `npm test` output stays readable without hiding real warnings: the two filters drop exactly the known noise.
import { describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AZURE_FUNCTIONS_TEST_MODE } from './quiet-azure-functions.js';

const PRELOAD = fileURLToPath(new URL('./quiet-vm-warning.cjs', import.meta.url));
const node = (args: string[]) => spawnSync(process.execPath, args, { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });

describe('quiet-vm-warning.cjs', () => {
  const useVmModules = "new (require('node:vm').SourceTextModule)('export default 1')";

  test("drops Node's VM Modules warning, which is there without it", () => {
    expect(node(['--experimental-vm-modules', '-e', useVmModules]).stderr).toMatch(/ExperimentalWarning: VM Modules is an experimental feature/);
    const quiet = node(['--experimental-vm-modules', '--require', PRELOAD, '-e', useVmModules]);
    expect(quiet.status).toBe(0);
    expect(quiet.stderr).toBe('');
  });

  test('keeps every other warning, experimental ones included', () => {
    const r = node([
      '--require',
      PRELOAD,
      '-e',
      "process.emitWarning('Some other feature is an experimental feature', 'ExperimentalWarning'); process.emitWarning('old API', 'DeprecationWarning', 'DEP0999'); process.emitWarning(new Error('plain'))",
    ]);
    expect(r.stderr).toMatch(/ExperimentalWarning: Some other feature/);
    expect(r.stderr).toMatch(/\[DEP0999\] DeprecationWarning: old API/);
    expect(r.stderr).toMatch(/Error: plain/);
  });
});

describe('quiet-azure-functions.ts', () => {
  // The exact texts @azure/functions prints, read from the installed package, so an upgrade that changes them shows here.
  const source = readFileSync(fileURLToPath(new URL('../../node_modules/@azure/functions/dist/azure-functions.js', import.meta.url)), 'utf8');

  test('matches the test-mode messages of the installed @azure/functions', () => {
    expect(source).toContain('Switching "@azure/functions" package to test mode - not all features are supported.');
    const banner = 'WARNING: Failed to detect the Azure Functions runtime. Switching "@azure/functions" package to test mode - not all features are supported.';
    expect(source).toContain(banner);
    const matches = (text: string) => AZURE_FUNCTIONS_TEST_MODE.some((re) => re.test(text));
    expect(matches(banner)).toBe(true);
    expect(matches('WARNING: Skipping call to register function "token" because the "@azure/functions" package is in test mode.')).toBe(true);
  });

  test('lets other warnings through', () => {
    const matches = (text: string) => AZURE_FUNCTIONS_TEST_MODE.some((re) => re.test(text));
    expect(matches('WARNING: Failed to detect the Azure Functions runtime.')).toBe(false);
    expect(matches('WARNING: something else went wrong')).toBe(false);
    expect(matches('[warning] startup: Key is only 1024 bits')).toBe(false);
  });
});
