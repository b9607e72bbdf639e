// The function handlers with real HttpRequest / InvocationContext objects from @azure/functions, wired through
// the process runtime to the simulators.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { HttpRequest } from '@azure/functions';
import { decodeJwt } from 'jose';
import { healthHandler } from '../../functions/health.js';
import { healthDetailsHandler } from '../../functions/health-details.js';
import { refreshTimerHandler } from '../../functions/refresh-timer.js';
import { tokenHandler, tokenOptions } from '../../functions/token.js';
import { parseConfig } from '../../shared/config/config.js';
import { Runtime, setRuntime } from '../../shared/runtime.js';
import { capture } from '../helpers/capture.js';
import { startWorld, type World } from '../helpers/world.js';

let world: World;
const timer = { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: '', next: '', lastUpdated: '' } };

function get(path: string, params: Record<string, string> = {}): HttpRequest {
  return new HttpRequest({ method: 'GET', url: `http://127.0.0.1:7071${path}`, params });
}

function use(env: Record<string, string>): void {
  setRuntime(new Runtime(parseConfig(env), { now: world.clock.now, retry: { baseDelayMs: 5, maxDelayMs: 10 } }));
}

async function body(res: { body?: unknown }): Promise<Record<string, unknown>> {
  return JSON.parse(String(res.body)) as Record<string, unknown>;
}

beforeAll(async () => {
  world = await startWorld();
});
afterAll(async () => {
  setRuntime(undefined);
  await world.close();
});
beforeEach(() => use(world.env));

describe('GET /api/token', () => {
  test('is a function-key route with an optional profile', () => {
    expect(tokenOptions).toMatchObject({ authLevel: 'function', route: 'token/{profile?}', methods: ['GET'] });
  });

  test('a profile is found by its ASCII name in any case, never by a Unicode look-alike (Kelvin sign for "k")', async () => {
    use({ ...world.env, PROFILE__key__MASKINPORTEN_SCOPES: 'altinn:serviceowner' });
    const { context } = capture();
    expect((await tokenHandler(get('/api/token/KEY', { profile: 'KEY' }), context())).status).toBe(200);
    const lookalike = await tokenHandler(get('/api/token/%E2%84%AAey', { profile: '\u212Aey' }), context());
    expect(lookalike.status).toBe(404);
    expect(JSON.stringify(lookalike.body)).not.toContain('access_token');
  });

  test('answers the documented JSON shape with no-store', async () => {
    const { context } = capture();
    const res = await tokenHandler(get('/api/token'), context());
    expect(res.status).toBe(200);
    const headers = res.headers as Record<string, string>;
    expect(headers['content-type']).toBe('application/json');
    expect(headers['cache-control']).toBe('no-store');
    expect(headers['x-content-type-options']).toBe('nosniff');
    const json = await body(res);
    expect(Object.keys(json).sort()).toEqual(['access_token', 'expires_at', 'expires_in', 'scope', 'token_type']);
    const claims = decodeJwt(String(json.access_token));
    expect(json).toMatchObject({ token_type: 'Bearer', scope: 'altinn:serviceowner', expires_at: new Date(claims.exp! * 1000).toISOString() });
    expect(json.expires_in).toBeGreaterThan(1700);
    expect(json.expires_in).toBeLessThanOrEqual(1800);
    expect(world.sims.keyVault.getSecret('altinn-token')!.value).toBe(json.access_token);
  });

  test('an unknown profile is a 404 problem that lists the configured profiles', async () => {
    const { context } = capture();
    const res = await tokenHandler(get('/api/token/nope', { profile: 'nope' }), context());
    expect(res.status).toBe(404);
    expect((res.headers as Record<string, string>)['content-type']).toBe('application/problem+json');
    expect(await body(res)).toMatchObject({ status: 404, code: 'PROFILE_NOT_FOUND', title: 'Unknown token profile', detail: expect.stringMatching(/default/) });
  });

  test('a rejected grant answers 503 problem+json with Retry-After and the Maskinporten error', async () => {
    use({ ...world.env, MASKINPORTEN_SCOPES: 'not:registered', TOKEN_SECRET: 'other-token' });
    const { context, lines } = capture();
    const res = await tokenHandler(get('/api/token'), context());
    expect(res.status).toBe(503);
    const headers = res.headers as Record<string, string>;
    expect(headers['retry-after']).toMatch(/^\d+$/);
    expect(await body(res)).toMatchObject({
      status: 503,
      code: 'MASKINPORTEN_REJECTED',
      title: 'Maskinporten rejected the token request',
      detail: expect.stringMatching(/invalid_scope.*MASKINPORTEN_SCOPES/),
      traceId: expect.any(String),
    });
    expect(lines.some((l) => l.startsWith('error'))).toBe(true);
  });

  test('a misconfigured app answers 500 problem+json naming every bad setting', async () => {
    setRuntime(undefined);
    const saved = { ...process.env };
    try {
      delete process.env.KEY_VAULT_URL;
      process.env.MASKINPORTEN_ENV = 'staging';
      const { context } = capture();
      const res = await tokenHandler(get('/api/token'), context());
      expect(res.status).toBe(500);
      const json = await body(res);
      expect(json.code).toBe('CONFIG_INVALID');
      expect((json.problems as Array<{ setting: string }>).map((p) => p.setting)).toEqual(
        expect.arrayContaining(['KEY_VAULT_URL', 'MASKINPORTEN_ENV', 'MASKINPORTEN_CLIENT_ID']),
      );
      const health = await healthHandler(get('/api/health'), context());
      expect(health.status).toBe(503);
      expect(await body(health)).toEqual({ status: 'misconfigured' });
      const details = await healthDetailsHandler(get('/api/health/details'), context());
      expect(details.status).toBe(503);
      expect(await body(details)).toMatchObject({ status: 'misconfigured', configured: false });
    } finally {
      process.env = saved;
      setRuntime(undefined);
    }
  });
});

describe('timer and health', () => {
  test('the timer refreshes and health reports the outcome and expiry without secrets', async () => {
    const { context, lines } = capture();
    await refreshTimerHandler(timer, context('refreshTokens'));
    expect(lines.join('\n')).toMatch(/default=(refreshed|adopted|fresh)/);
    const res = await healthDetailsHandler(get('/api/health/details'), context());
    expect(res.status).toBe(200);
    const json = await body(res);
    expect(json).toMatchObject({ status: 'ok', configured: true, environment: 'test', callerAuthorization: 'off' });
    const [profile] = json.profiles as Array<Record<string, unknown>>;
    expect(profile).toMatchObject({ profile: 'default', tokenSecret: 'altinn-token', lastRefresh: { outcome: expect.any(String) }, storePending: false });
    expect(Date.parse(String(profile!.tokenExpiresAt))).toBeGreaterThan(Date.now());
    expect(String(res.body)).not.toMatch(/eyJ/);
  });

  test('health on a fresh instance reports the stored token without minting one', async () => {
    const { context } = capture();
    await tokenHandler(get('/api/token'), context());
    const issued = world.sims.maskinporten.tokensIssued;
    use(world.env); // a new instance: nothing in memory
    const json = await body(await healthDetailsHandler(get('/api/health/details'), context()));
    const stored = world.sims.keyVault.getSecret('altinn-token')!;
    expect(json).toMatchObject({ status: 'ok', profiles: [{ tokenSource: 'vault', tokenExpiresAt: new Date(stored.attributes.exp! * 1000).toISOString() }] });
    expect(world.sims.maskinporten.tokensIssued).toBe(issued);
  });

  test('a failing timer run throws so the invocation shows as failed, and health says so', async () => {
    use({ ...world.env, MASKINPORTEN_KEY_SECRET: 'missing-key', TOKEN_SECRET: 'third-token' });
    const { context, lines } = capture();
    await expect(refreshTimerHandler(timer, context('refreshTokens'))).rejects.toThrow(/default/);
    expect(lines.join('\n')).toMatch(/KEY_NOT_FOUND.*missing-key/);
    const health = await healthHandler(get('/api/health'), context());
    expect(health.status).toBe(503);
    expect(await body(health)).toEqual({ status: 'failing' });
    const details = await healthDetailsHandler(get('/api/health/details'), context());
    expect(await body(details)).toMatchObject({ status: 'failing', profiles: [{ lastRefresh: { outcome: 'failed', errorCode: 'KEY_NOT_FOUND' } }] });
  });
});
