// `npm start -- --once`: the newcomer's demo runs the whole flow and exits 0, printing no token or key.
import { describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { decodeJwt } from 'jose';

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
    expect(out).toMatch(/GET \/api\/token without a caller token -> 401/);
    expect(out).toMatch(/GET \/api\/token as app [0-9a-f-]{36} \(roles Tokens.Read.All, Health.Read\) -> 200, expires_in \d+ s, same token as in Key Vault: true/);
    expect(out).toMatch(/audit: \{"audit":"token".*"outcome":"served".*"role":"Tokens.Read.All".*"tokenFingerprint":"sha256:[0-9a-f]{16}"/);
    // the curl line carries a caller token from the Entra ID simulator: the only JWT in the whole output
    const curl = /curl -s -H "Authorization: Bearer (eyJ[\w-]+\.[\w-]+\.[\w-]+)" http:\/\/127\.0\.0\.1:\d+\/api\/token\n/.exec(out);
    expect(curl).not.toBeNull();
    const caller = decodeJwt(curl![1]!);
    expect(caller).toMatchObject({ iss: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/[0-9a-f-]{36}\/v2\.0$/), roles: ['Tokens.Read.All', 'Health.Read'] });
    expect(caller.exp! * 1000).toBeGreaterThan(Date.now() + 3600_000);
    expect(new Set(out.match(/eyJ[\w-]+\.[\w-]+\.[\w-]+/g))).toEqual(new Set([curl![1]]));
    expect(out).not.toMatch(/"d":"/);
  }, 90_000);
});
