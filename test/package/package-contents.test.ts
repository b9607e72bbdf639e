// What a packed or installed copy holds (`npm pack --dry-run --json`, which runs the prepack build): the compiled
// app and CLI, host.json and the docs; never tests, sources, CI or deploy files, local settings or key files,
// even when such files lie in the working tree. Runs on a copy of the tracked files so the real dist/ is untouched.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const copy = mkdtempSync(join(tmpdir(), 'pack-'));
let files: string[] = [];
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { bin: Record<string, string>; private?: boolean };

beforeAll(() => {
  const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: REPO, encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const f of tracked) {
    mkdirSync(dirname(join(copy, f)), { recursive: true });
    cpSync(join(REPO, f), join(copy, f));
  }
  symlinkSync(join(REPO, 'node_modules'), join(copy, 'node_modules'), 'dir');
  // What a developer's tree holds after a first hour: keys from keygen, local settings, the sims env file, test output.
  for (const stray of ['myorg-TEST.abc.private.jwk.json', 'myorg-TEST.abc.public.jwk.json', 'local.settings.json', '.sims.env', 'test-results.json', 'dist/stray.private.jwk.json']) {
    mkdirSync(dirname(join(copy, stray)), { recursive: true });
    writeFileSync(join(copy, stray), '{}');
  }
  const out = execFileSync('npm', ['pack', '--dry-run', '--json'], { cwd: copy, encoding: 'utf8', env: { ...process.env, npm_config_loglevel: 'silent' } });
  files = (JSON.parse(out) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
}, 120_000);

afterAll(() => rmSync(copy, { recursive: true, force: true }));

describe('npm pack', () => {
  test('is publishable (not private) and the prepack build put the compiled app and the bin in', () => {
    expect(pkg.private).toBeUndefined();
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'host.json', 'dist/functions/token.js', 'dist/functions/health.js', 'dist/functions/refresh-timer.js']));
    for (const bin of Object.values(pkg.bin)) expect(files).toContain(bin);
    expect(files).toContain('docs/protocol.md');
  });

  test('ships no tests, sources, CI, deploy files, local settings, key files or source maps', () => {
    const bad = files.filter(
      (f) =>
        /^(test|infra|\.ci|\.github|node_modules|coverage)\//.test(f) ||
        (/\.ts$/.test(f) && !/^dist\/client\/.*\.d\.ts$/.test(f)) || // the client's published types are meant to ship
        /\.map$/.test(f) ||
        /jwk|\.pem$|\.key$/i.test(f) ||
        /(^|\/)(local\.settings\.json|\.sims\.env|test-results\.json|\.env)$/.test(f) ||
        /^(jest\.config\.js|tsconfig.*\.json|azure\.yaml|\.funcignore|\.gitignore|package-lock\.json)$/.test(f),
    );
    expect(bad).toEqual([]);
  });

  test('the bin works from the built copy: maskinporten-broker --help, keygen --help, token --help', () => {
    const main = join(copy, pkg.bin['maskinporten-broker']!);
    expect(readFileSync(main, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    const run = (...args: string[]) => execFileSync(process.execPath, [main, ...args], { cwd: copy, encoding: 'utf8' });
    expect(run('--help')).toMatch(/^Usage: maskinporten-broker <command>/);
    expect(run('keygen', '--help')).toMatch(/keygen/);
    expect(run('token', '--help')).toMatch(/--settings <file>/);
  });
});
