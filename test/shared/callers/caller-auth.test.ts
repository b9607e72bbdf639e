// CallerAuth against the Entra ID simulator: how the tenant's keys are fetched (once for concurrent cold callers,
// again for an unknown kid but at most once per cooldown), v1 tokens only from the real authority, and the
// token route's authLevel decided from AUTH_TENANT_ID when the module loads.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { CallerAuth, checkCaller, rolesForProfile } from '../../../shared/callers/caller-auth.js';
import { ENTRA_AUTHORITY, type CallerAuthConfig } from '../../../shared/config/config.js';
import type { FetchLike } from '../../../shared/upstream/http-client.js';
import { startEntraSim, type EntraSim } from '../../sim/entra-sim.js';

let entra: EntraSim;
let config: CallerAuthConfig;

beforeAll(async () => {
  entra = await startEntraSim();
  config = { tenantId: entra.tenantId, audiences: [entra.audience, 'f0f0f0f0-0000-4000-8000-000000000001'], authority: entra.url };
});
afterAll(async () => {
  await entra.close();
});

describe('the tenant key set', () => {
  test('concurrent cold callers share one JWKS fetch; warm calls fetch nothing', async () => {
    const auth = new CallerAuth(config);
    const before = entra.jwksRequests;
    const tokens = await Promise.all(Array.from({ length: 25 }, () => entra.issueToken({ roles: ['Tokens.Read.All'] })));
    const results = await Promise.all(tokens.map((t) => auth.authenticate(`Bearer ${t}`)));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(entra.jwksRequests - before).toBe(1);
    await auth.authenticate(`Bearer ${tokens[0]}`);
    expect(entra.jwksRequests - before).toBe(1);
  });

  test('an unknown kid fetches the key set again (key rollover), but a flood of them does not', async () => {
    const auth = new CallerAuth(config, { cooldownMs: 0 });
    expect((await auth.authenticate(`Bearer ${await entra.issueToken()}`)).ok).toBe(true);
    const before = entra.jwksRequests;
    await entra.rotateKey();
    const rolled = await entra.issueToken({ roles: ['Tokens.Read.All'] });
    expect((await auth.authenticate(`Bearer ${rolled}`)).ok).toBe(true);
    expect(entra.jwksRequests - before).toBe(1);

    // with the default 30 s cooldown, bogus kids right after a fetch cause no fetch at all
    const guarded = new CallerAuth(config);
    expect((await guarded.authenticate(`Bearer ${await entra.issueToken()}`)).ok).toBe(true);
    const base = entra.jwksRequests;
    const bogus = await Promise.all(Array.from({ length: 20 }, (_, i) => entra.issueToken({ kid: `bogus-${i}` })));
    const results = await Promise.all(bogus.map((t) => guarded.authenticate(`Bearer ${t}`)));
    expect(results.map((r) => (r.ok ? 'ok' : r.reason))).toEqual(bogus.map(() => 'unknown kid'));
    expect(entra.jwksRequests).toBe(base);
  });

  test('the JWKS URL and issuers follow the authority and tenant', () => {
    const auth = new CallerAuth(config);
    expect(auth.jwksUrl).toBe(`${entra.url}/${entra.tenantId}/discovery/v2.0/keys`);
    expect(auth.issuers).toEqual([`${entra.url}/${entra.tenantId}/v2.0`]);
  });
});

describe('v1 tokens (managed identities by default)', () => {
  /** The real authority, with its key set fetched from the simulator. */
  const viaSim: FetchLike = (url, init) => fetch(url.replace(ENTRA_AUTHORITY, entra.url), init);
  const real = () => ({ ...config, authority: ENTRA_AUTHORITY });

  test('are accepted from the real authority, with appid as the application id', async () => {
    const auth = new CallerAuth(real(), { fetch: viaSim });
    expect(auth.issuers).toEqual([`${ENTRA_AUTHORITY}/${entra.tenantId}/v2.0`, `https://sts.windows.net/${entra.tenantId}/`]);
    const appId = crypto.randomUUID();
    const v1 = await entra.issueToken({ version: 1, roles: ['Tokens.Read.x'], appId, aud: 'f0f0f0f0-0000-4000-8000-000000000001' });
    const r = await auth.authenticate(`Bearer ${v1}`);
    expect(r).toMatchObject({ ok: true, caller: { appId, roles: ['Tokens.Read.x'] } });
    const v2 = await entra.issueToken({ iss: `${ENTRA_AUTHORITY}/${entra.tenantId}/v2.0` });
    expect((await auth.authenticate(`Bearer ${v2}`)).ok).toBe(true);
  });

  test('sts.windows.net of another tenant is refused', async () => {
    const auth = new CallerAuth(real(), { fetch: viaSim });
    const other = await entra.issueToken({ version: 1, iss: 'https://sts.windows.net/11111111-2222-4333-8444-555555555555/' });
    expect(await auth.authenticate(`Bearer ${other}`)).toMatchObject({ ok: false, reason: 'claim iss' });
  });
});

describe('checkCaller', () => {
  test('off: the function key was the check', async () => {
    expect(await checkCaller(undefined, undefined, ['x'], 'y')).toEqual({ ok: true, facts: { auth: 'function-key' } });
  });

  test('the default roles of a profile', () => {
    expect(rolesForProfile({ name: 'skatt' })).toEqual(['Tokens.Read.All', 'Tokens.Read.skatt']);
    expect(rolesForProfile({ name: 'skatt', authRoles: ['A'] })).toEqual(['A']);
  });
});

describe('registration', () => {
  test('the token route is anonymous (checked in code) exactly when AUTH_TENANT_ID is set at load', () => {
    const script = "const m = await import('./functions/token.ts'); const h = await import('./functions/health-details.ts'); console.log(m.tokenOptions.authLevel, h.healthDetailsOptions.authLevel);";
    const run = (extra: Record<string, string>) =>
      spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...extra },
        encoding: 'utf8',
        timeout: 30_000,
      });
    const on = run({ AUTH_TENANT_ID: entra.tenantId });
    expect(on.stdout.trim().split('\n').at(-1)).toBe('anonymous function');
    const off = run({});
    expect(off.stdout.trim().split('\n').at(-1)).toBe('function function');
  }, 60_000);
});
