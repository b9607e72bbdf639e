// The Node client against the real broker: `npm run host` as a child process over the simulators with caller
// authorization on (the Entra ID simulator), a local stand-in for an Altinn API, and the client's calls to the broker
// counted through its fetch option. The credential is a TokenCredential whose tokens come from the Entra simulator.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { GetTokenOptions, TokenCredential } from '@azure/identity';
import { decodeJwt } from 'jose';
import { createBrokerClient, createVaultTokenSource, BrokerClientError, type BrokerClientOptions } from '../../client/index.js';
import { startHostProcess, type HostProcess } from '../helpers/host-process.js';
import { makeClock, startWorld, type World } from '../helpers/world.js';
import { startApiServer, type ApiServer } from './api-server.js';

let world: World;
let host: HostProcess;
let api: ApiServer;
let credential: TokenCredential;
let scope: string;

/** A TokenCredential (the @azure/identity interface) for a caller whose service principal holds `roles`: each
 *  getToken asks the Entra simulator for an app-only access token for the scope's resource. */
function entraCredential(roles: string[], asked: string[] = []): TokenCredential {
  return {
    getToken: async (scopes: string | string[], _options?: GetTokenOptions) => {
      const s = Array.isArray(scopes) ? scopes[0]! : scopes;
      asked.push(s);
      const token = await world.sims.entra.issueToken({ roles, aud: s.replace(/\/\.default$/, '') });
      return { token, expiresOnTimestamp: decodeJwt(token).exp! * 1000 };
    },
  };
}

beforeAll(async () => {
  world = await startWorld();
  api = await startApiServer();
  host = await startHostProcess({
    ...world.env,
    REFRESH_SCHEDULE: '0 0 * * * *',
    REFRESH_BEFORE_EXPIRY_SECONDS: '3600',
    // a Maskinporten failure is answered at once (503 + Retry-After) instead of being retried by the broker
    RETRY_MAX_ATTEMPTS: '1',
    PROFILE__flaky__MASKINPORTEN_SCOPES: 'extra:scope',
    ...world.sims.entra.settings(),
  });
  scope = `${world.sims.entra.audience}/.default`;
  credential = entraCredential(['Tokens.Read.All']);
}, 60_000);

afterAll(async () => {
  await host?.stop();
  await api?.close();
  await world?.close();
});

/** A client for the host whose calls to the broker are counted. */
function client(extra: Partial<BrokerClientOptions> = {}) {
  const calls: string[] = [];
  const c = createBrokerClient({
    url: host.url,
    scope,
    credential,
    fetch: (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      if (url.startsWith(host.url)) calls.push(url);
      return fetch(input, init);
    },
    ...extra,
  });
  return { c, calls };
}

/** Runs the host's timer now and waits until it has stored a new token version. */
/** Makes the broker hold a newer token than a client has: the operator route that forces a refresh (Tokens.Admin). */
async function rotate(): Promise<string> {
  const before = world.sims.keyVault.listVersions('altinn-token').length;
  const admin = await world.sims.entra.issueToken({ roles: ['Tokens.Admin'], aud: world.sims.entra.audience });
  const res = await fetch(`${host.url}/api/manage/refresh/default`, { method: 'POST', headers: { authorization: `Bearer ${admin}` } });
  expect(res.status).toBe(200);
  const versions = world.sims.keyVault.listVersions('altinn-token');
  expect(versions.length).toBeGreaterThan(before);
  return versions.at(-1)!.value;
}

describe('createBrokerClient against the local host', () => {
  test('100 concurrent getToken calls make one broker call and get the token the broker stored', async () => {
    const { c, calls } = client();
    const tokens = await Promise.all(Array.from({ length: 100 }, () => c.getToken()));
    expect(calls).toEqual([`${host.url}/api/token/default`]);
    expect(new Set(tokens.map((t) => t.token)).size).toBe(1);
    const stored = world.sims.keyVault.getSecret('altinn-token')!;
    expect(tokens[0]!.token).toBe(stored.value);
    expect(tokens[0]!.expiresAt.getTime()).toBe(stored.attributes.exp! * 1000);
    await c.getToken();
    expect(calls).toHaveLength(1);
  });

  // before any timer run: the timer refreshes every profile, and "flaky" must have no token yet
  test('a 503 with Retry-After is waited out, within the bound', async () => {
    const mp = world.sims.maskinporten.faults;
    // longer than maxRetryAfterSeconds: the broker's error at once, with its code and Retry-After
    mp.enqueue({ status: 503, headers: { 'Retry-After': '120' } });
    const impatient = client({ profile: 'flaky', maxRetryAfterSeconds: 30 });
    const err = (await impatient.c.getToken().catch((e: unknown) => e)) as BrokerClientError;
    expect(err).toBeInstanceOf(BrokerClientError);
    expect(err).toMatchObject({ code: 'MASKINPORTEN_UNAVAILABLE', status: 503, retryAfterSeconds: 120 });
    expect(err.detail).toMatch(/Maskinporten/);
    expect(impatient.calls).toHaveLength(1);
    // one second: waited, then the broker succeeds
    mp.enqueue({ status: 503, headers: { 'Retry-After': '1' } });
    const { c, calls } = client({ profile: 'flaky' });
    const t0 = Date.now();
    const token = await c.getToken();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(990); // the 1 s Retry-After (timer vs wall clock: 10 ms slack)
    expect(calls).toEqual([`${host.url}/api/token/flaky`, `${host.url}/api/token/flaky`]);
    expect(token.token).toBe(world.sims.keyVault.getSecret('altinn-token-flaky')!.value);
  });

  test('a token near expiry is renewed from the broker', async () => {
    const clock = makeClock();
    const { c, calls } = client({ now: clock.now });
    const first = await c.getToken();
    const newer = await rotate();
    expect(newer).not.toBe(first.token);
    expect((await c.getToken()).token).toBe(first.token); // plenty left: from memory
    expect(calls).toHaveLength(1);
    clock.advance(first.expiresAt.getTime() - Date.now() - 30_000); // 30 s left, inside the 60 s margin
    const renewed = await c.getToken();
    expect(renewed.token).toBe(newer);
    expect(renewed.expiresAt.getTime()).toBeGreaterThanOrEqual(first.expiresAt.getTime());
    expect(calls).toHaveLength(2);
  });

  test('a broker problem surfaces its code and detail', async () => {
    const { c } = client({ profile: 'nosuch' });
    await expect(c.getToken()).rejects.toMatchObject({
      name: 'BrokerClientError',
      code: 'PROFILE_NOT_FOUND',
      status: 404,
      detail: expect.stringMatching(/Configured profiles: default, flaky/),
    });
  });

  test('fetch sets the Authorization header and renews the token after a 401 from the API', async () => {
    const { c, calls } = client();
    const first = await c.getToken();
    const newer = await rotate();
    api.refused.add(first.token);
    const before = api.seen.length;
    const res = await c.fetch(`${api.url}/storage/api/v1/applications`, { method: 'PUT', body: '{"a":1}', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(200);
    expect(api.seen.slice(before)).toEqual([
      { authorization: `Bearer ${first.token}`, body: '{"a":1}' },
      { authorization: `Bearer ${newer}`, body: '{"a":1}' },
    ]);
    expect(calls).toHaveLength(2);
    // the renewed token is kept: the next call needs no broker call
    expect((await c.fetch(`${api.url}/x`)).status).toBe(200);
    expect(api.seen.at(-1)!.authorization).toBe(`Bearer ${newer}`);
    expect(calls).toHaveLength(2);
  });

  test('caller authorization is on: a caller without the profile\'s role gets CALLER_FORBIDDEN', async () => {
    const asked: string[] = [];
    const { c, calls } = client({ credential: entraCredential(['Tokens.Read.flaky'], asked) });
    const err = (await c.getToken().catch((e: unknown) => e)) as BrokerClientError;
    expect(err).toBeInstanceOf(BrokerClientError);
    expect(err).toMatchObject({ code: 'CALLER_FORBIDDEN', status: 403 });
    expect(err.message).toContain('CALLER_FORBIDDEN');
    expect(asked).toEqual([scope]);
    expect(calls).toHaveLength(1); // not retried
    // the same caller may read the profile its role names
    expect((await client({ profile: 'flaky', credential: entraCredential(['Tokens.Read.flaky']) }).c.getToken()).token).toBe(
      world.sims.keyVault.getSecret('altinn-token-flaky')!.value,
    );
  });

  test('a token for the wrong audience (a wrong scope) is refused with 401 and a hint', async () => {
    const { c } = client({ scope: 'api://some-other-api/.default' });
    const err = (await c.getToken().catch((e: unknown) => e)) as BrokerClientError;
    expect(err).toMatchObject({ code: 'CALLER_UNAUTHENTICATED', status: 401 });
    expect(err.message).toMatch(/Check "scope"/);
    const noCredential = client({ credential: { getToken: async () => null } });
    await expect(noCredential.c.getToken()).rejects.toMatchObject({ code: 'CREDENTIAL_FAILED' });
    expect(noCredential.calls).toHaveLength(0);
  });

  test('the vault source reads the very token and expiry the broker serves over HTTP', async () => {
    const http = await client().c.getToken();
    const vault = createVaultTokenSource({ vaultUrl: world.env.TOKEN_VAULT_URL ?? world.env.KEY_VAULT_URL!, secretName: 'altinn-token', credential });
    expect(await vault.getToken()).toEqual(http);
  });

  test('nothing the client did put a token in the host output', () => {
    const out = host.output();
    for (const v of world.sims.keyVault.listVersions('altinn-token')) expect(out).not.toContain(v.value);
  });
});
