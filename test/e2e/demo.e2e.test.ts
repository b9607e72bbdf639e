// `npm start -- --once`: the newcomer's demo runs the whole flow and exits 0, printing no token or key.
import { describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { decodeJwt } from 'jose';

describe('npm start (demo)', () => {
  test('mints, exchanges, stores and serves a token, and prints no curl line that could not work after it exits', () => {
    const run = spawnSync('npm', ['start', '--silent', '--', '--once'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    const out = run.stdout + run.stderr;
    expect(run.status).toBe(0);
    expect(out).toMatch(/Maskinporten accepted the signed grant/);
    expect(out).toMatch(/Stored the token as secret "altinn-token" version [0-9a-f]{32}/);
    expect(out).toMatch(/GET \/api\/token without a caller token -> 401/);
    expect(out).toMatch(/GET \/api\/token as app [0-9a-f-]{36} \(roles Tokens.Read.All, Health.Read\) -> 200, expires_in \d+ s, same token as in Key Vault: true/);
    expect(out).toMatch(/audit: \{"audit":"token".*"outcome":"served".*"role":"Tokens.Read.All".*"tokenFingerprint":"sha256:[0-9a-f]{16}"/);
    // --once stops everything before it exits: a curl line would point at a closed port.
    expect(out).not.toMatch(/curl /);
    expect(out).toMatch(/Run "npm start" without --once/);
    expect(out).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
    expect(out).not.toMatch(/"d":"/);
  }, 90_000);
});
