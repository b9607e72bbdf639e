// `npm start -- --once`: the newcomer's demo runs the whole flow and exits 0, printing no token or key.
import { describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';

describe('npm start (demo)', () => {
  test('mints, exchanges, stores and serves a token, and prints a working curl line', () => {
    const run = spawnSync('npm', ['start', '--silent', '--', '--once'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    const out = run.stdout + run.stderr;
    expect(run.status).toBe(0);
    expect(out).toMatch(/Maskinporten accepted the signed grant/);
    expect(out).toMatch(/Stored the token as secret "altinn-token" version [0-9a-f]{32}/);
    expect(out).toMatch(/GET \/api\/token -> 200, expires_in \d+ s, same token as in Key Vault: true/);
    expect(out).toMatch(/curl -s http:\/\/127\.0\.0\.1:\d+\/api\/token/);
    expect(out).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
    expect(out).not.toMatch(/"d":"/);
  }, 90_000);
});
