// The README's copy-paste path: `npm run sims` writes its settings to an env file, and `npm run token` and
// `npm run host` use the simulators with `-- --settings <file>`, and only when asked: a .sims.env lying in the
// current directory is never read on its own.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../cli/run-cli.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const BASE_ENV = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
const dir = mkdtempSync(join(tmpdir(), 'sims-settings-'));
const settingsFile = join(dir, 'sims.env');
const spawned: ChildProcess[] = [];

function npm(args: string[], env: Record<string, string> = {}): { child: ChildProcess; ready: (pattern: RegExp) => Promise<string> } {
  const child = spawn('npm', ['run', '--silent', ...args], { cwd: REPO, env: { ...BASE_ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  spawned.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => void (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => void (out += d.toString()));
  const ready = (pattern: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const timer = setInterval(() => {
        if (pattern.test(out)) {
          clearInterval(timer);
          clearTimeout(limit);
          resolve(out);
        }
      }, 50);
      const limit = setTimeout(() => {
        clearInterval(timer);
        reject(new Error(`no ${pattern} in:\n${out}`));
      }, 30_000);
    });
  return { child, ready };
}

beforeAll(async () => {
  await npm(['sims', '--', '--settings', settingsFile]).ready(/or paste the export lines/);
}, 40_000);

afterAll(async () => {
  for (const child of spawned) {
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      // already stopped
    }
  }
  await Promise.all(spawned.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
});

describe('npm run sims + --settings', () => {
  test('npm run token -- --settings <file> mints an Altinn token from the simulators', async () => {
    const r = await runCli(['token', '--settings', settingsFile], { cwd: dir, viaNpm: true });
    expect(r.stderr).toMatch(/Settings: the environment \+ .*sims\.env\./);
    expect(r.stdout).toMatch(/^Altinn token for profile "default", valid until /);
    expect(r.code).toBe(0);
  });

  test('without the flag the file is not read, even as .sims.env in the current directory', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'no-flag-'));
    copyFileSync(settingsFile, join(cwd, '.sims.env'));
    const r = await runCli(['token'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/KEY_VAULT_URL is required/);
  });

  test('npm run host -- --settings <file> serves a token minted through the simulators', async () => {
    const out = await npm(['host', '--', '--settings', settingsFile], { PORT: '0', REFRESH_SCHEDULE: '0 0 * * * *', REFRESH_BEFORE_EXPIRY_SECONDS: '3600' }).ready(/token: \[GET\] http/);
    const url = /token: \[GET\] (http:\/\/[\d.:]+)\/api\/token/.exec(out)![1]!;
    expect(out).toMatch(/Settings: environment \+ .*sims\.env\./);
    const res = await fetch(`${url}/api/token`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { token_type: string }).token_type).toBe('Bearer');
  });

  test('a missing settings file is an error that says what to run', async () => {
    const r = await runCli(['token', '--settings', join(dir, 'nope.env')], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--settings: .*nope\.env does not exist\. "npm run sims" writes \.sims\.env/);
  });
});
