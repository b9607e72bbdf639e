// Tests of the Altinn simulator: the Maskinporten token exchange (claims, text and JSON bodies, ?test=true),
// every refusal (401 with a problem body, 410, 400), refresh, JWKS by URL and fault injection.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { SignJWT, createLocalJWKSet, decodeJwt, importJWK, jwtVerify } from 'jose';
import { startAltinnSim, type AltinnSim } from './altinn-sim.js';
import { startMaskinportenSim, type MaskinportenSim } from './maskinporten-sim.js';
import { fetchAccessToken, makeTestClient, type TestClient } from './test-helpers.js';

const DIGDIR = '991825827';
let mp: MaskinportenSim;
let altinn: AltinnSim;
let owner: TestClient; // Digdir, service owner
let plain: TestClient; // an ordinary org

beforeAll(async () => {
  owner = await makeTestClient({ orgNo: DIGDIR, scopes: ['altinn:serviceowner', 'test:read'] });
  plain = await makeTestClient({ orgNo: '912345678', scopes: ['test:read'] });
  mp = await startMaskinportenSim({ clients: [owner.simClient, plain.simClient] });
  altinn = await startAltinnSim({ maskinporten: mp });
});
afterAll(async () => {
  await altinn.close();
  await mp.close();
});

const exchangeUrl = (query = '') => `${altinn.url}/authentication/api/v1/exchange/maskinporten${query}`;
const get = (url: string, headers: Record<string, string> = {}) => fetch(url, { headers });
/** Altinn's [ApiController]s answer a refused bearer token with ASP.NET Core's problem details. */
async function expectUnauthorized(res: Response): Promise<void> {
  expect(res.status).toBe(401);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(await res.json()).toEqual({ type: 'https://tools.ietf.org/html/rfc9110#section-15.5.2', title: 'Unauthorized', status: 401, traceId: expect.stringMatching(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/) });
}
const verifyAltinn = (token: string, currentDate?: Date) =>
  jwtVerify(token, createLocalJWKSet(altinn.publicJwks()), { issuer: `${altinn.url}/authentication/api/v1/openid/`, ...(currentDate && { currentDate }) });

describe('Altinn simulator: exchange', () => {
  test('exchanges a Maskinporten token for a signed Altinn token (text/plain) with the Altinn claims', async () => {
    const mpToken = await fetchAccessToken(mp, owner, { scope: 'altinn:serviceowner test:read' });
    const before = altinn.exchanges;
    const res = await get(exchangeUrl(), { Authorization: `Bearer ${mpToken}` });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const token = await res.text();
    const { payload, protectedHeader } = await verifyAltinn(token);
    const mpClaims = decodeJwt(mpToken);
    expect(protectedHeader).toMatchObject({ alg: 'RS256', kid: altinn.publicJwks().keys[0]!.kid });
    expect(payload).toMatchObject({
      client_id: owner.clientId,
      consumer: mpClaims.consumer as object,
      scope: 'altinn:serviceowner test:read',
      'urn:altinn:orgNumber': DIGDIR,
      'urn:altinn:authenticatemethod': 'maskinporten',
      'urn:altinn:authlevel': 3,
      'urn:altinn:org': 'digdir',
    });
    expect(payload.exp! - payload.iat!).toBe(1800);
    // keeps Maskinporten's jti, drops aud and client_amr, adds its own sid
    expect(payload.jti).toBe(mpClaims.jti);
    expect(payload).not.toHaveProperty('aud');
    expect(payload).not.toHaveProperty('client_amr');
    expect(payload.sid).toEqual(expect.stringMatching(/^[0-9a-f-]{36}$/));
    expect(altinn.exchanges).toBe(before + 1);
    expect(altinn.requests.at(-1)).toEqual({ status: 200, path: '/authentication/api/v1/exchange/maskinporten' });
  });

  test('answers a JSON-quoted string for Accept: application/json', async () => {
    const mpToken = await fetchAccessToken(mp, plain, { scope: 'test:read' });
    const res = await get(exchangeUrl(), { Authorization: `Bearer ${mpToken}`, Accept: 'application/json' });
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const text = await res.text();
    expect(text).toMatch(/^"ey[^"]+"$/);
    const { payload } = await verifyAltinn(JSON.parse(text) as string);
    expect(payload['urn:altinn:orgNumber']).toBe('912345678');
    expect(payload).not.toHaveProperty('urn:altinn:org');
  });

  test('?test=true maps Digdir service-owner tokens to ttd', async () => {
    const mpToken = await fetchAccessToken(mp, owner);
    const res = await get(exchangeUrl('?test=true'), { Authorization: `Bearer ${mpToken}` });
    expect(res.status).toBe(200);
    expect((await verifyAltinn(await res.text())).payload['urn:altinn:org']).toBe('ttd');
  });

  test('uses the injected clock and lifetime', async () => {
    const t0 = Date.now();
    const a = await startAltinnSim({ maskinporten: mp, tokenLifetimeSeconds: 600, now: () => t0 });
    try {
      const res = await get(`${a.url}/authentication/api/v1/exchange/maskinporten`, { Authorization: `Bearer ${await fetchAccessToken(mp, plain, { scope: 'test:read' })}` });
      const claims = decodeJwt(await res.text());
      expect(claims.iat).toBe(Math.floor(t0 / 1000));
      expect(claims.exp).toBe(Math.floor(t0 / 1000) + 600);
      expect(claims.iss).toBe(a.issuer);
    } finally {
      await a.close();
    }
  });

  test('fetches the JWKS over HTTP when given only issuer and jwksUri', async () => {
    const a = await startAltinnSim({ maskinporten: { issuer: mp.issuer, jwksUri: mp.jwksUri } });
    try {
      for (let i = 0; i < 2; i++) {
        const res = await get(`${a.url}/authentication/api/v1/exchange/maskinporten`, { Authorization: `Bearer ${await fetchAccessToken(mp, plain, { scope: 'test:read' })}` });
        expect(res.status).toBe(200);
        await res.text();
      }
      expect(a.exchanges).toBe(2);
    } finally {
      await a.close();
    }
  });
});

describe('Altinn simulator: refusals', () => {
  const expectEmpty = async (res: Response, status: number) => {
    expect(res.status).toBe(status);
    expect(await res.text()).toBe('');
  };

  test('401 with a problem body: no token, not a JWT, wrong scheme', async () => {
    await expectUnauthorized(await get(exchangeUrl()));
    await expectUnauthorized(await get(exchangeUrl(), { Authorization: 'Bearer not-a-jwt' }));
    const mpToken = await fetchAccessToken(mp, plain, { scope: 'test:read' });
    await expectUnauthorized(await get(exchangeUrl(), { Authorization: `Basic ${mpToken}` }));
  });

  test('an injected 401 fault answers the same problem body', async () => {
    altinn.faults.enqueue({ status: 401 });
    await expectUnauthorized(await get(exchangeUrl()));
  });

  test('401 for a token signed by another key, from another issuer, with the wrong iss, or expired', async () => {
    const mpToken = await fetchAccessToken(mp, plain, { scope: 'test:read' });
    const claims = decodeJwt(mpToken);
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: mp.publicJwks().keys[0]!.kid! })
      .sign(await importJWK({ ...plain.privateJwk, alg: 'RS256' }, 'RS256'));
    await expectUnauthorized(await get(exchangeUrl(), { Authorization: `Bearer ${forged}` }));

    const otherMp = await startMaskinportenSim({ clients: [plain.simClient] });
    try {
      const foreign = await fetchAccessToken(otherMp, plain, { scope: 'test:read' });
      await expectUnauthorized(await get(exchangeUrl(), { Authorization: `Bearer ${foreign}` }));
    } finally {
      await otherMp.close();
    }

    const wrongIssuer = await startAltinnSim({ maskinporten: { issuer: 'https://test.maskinporten.no/', jwksUri: mp.jwksUri } });
    try {
      const res = await get(`${wrongIssuer.url}/authentication/api/v1/exchange/maskinporten`, { Authorization: `Bearer ${mpToken}` });
      await expectUnauthorized(res);
    } finally {
      await wrongIssuer.close();
    }

    const later = await startAltinnSim({ maskinporten: mp, now: () => Date.now() + 121_000 });
    try {
      const res = await get(`${later.url}/authentication/api/v1/exchange/maskinporten`, { Authorization: `Bearer ${mpToken}` });
      await expectUnauthorized(res);
    } finally {
      await later.close();
    }
  });

  test('410 for the enterprise-user header, 400 for another provider, 404 elsewhere', async () => {
    const mpToken = await fetchAccessToken(mp, plain, { scope: 'test:read' });
    await expectEmpty(await get(exchangeUrl(), { Authorization: `Bearer ${mpToken}`, 'X-Altinn-EnterpriseUser-Authentication': 'dXNlcjpwYXNz' }), 410);
    const other = await get(`${altinn.url}/authentication/api/v1/exchange/other`, { Authorization: `Bearer ${mpToken}` });
    expect(other.status).toBe(400);
    await other.text();
    await expectEmpty(await get(`${altinn.url}/nope`), 404);
    const post = await fetch(exchangeUrl(), { method: 'POST', headers: { Authorization: `Bearer ${mpToken}` } });
    await expectEmpty(post, 404);
    expect(altinn.requests.slice(-4).map((r) => r.status)).toEqual([410, 400, 404, 404]);
  });
});

describe('Altinn simulator: refresh', () => {
  test('re-issues a valid Altinn token; refuses a Maskinporten token and a missing one', async () => {
    const mpToken = await fetchAccessToken(mp, owner);
    const altinnToken = await (await get(exchangeUrl(), { Authorization: `Bearer ${mpToken}` })).text();
    const refreshUrl = `${altinn.url}/authentication/api/v1/refresh`;
    const res = await get(refreshUrl, { Authorization: `Bearer ${altinnToken}` });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const { payload } = await verifyAltinn(await res.text());
    const first = decodeJwt(altinnToken);
    expect(payload.jti).not.toBe(first.jti);
    expect(payload).toMatchObject({ client_id: owner.clientId, 'urn:altinn:orgNumber': DIGDIR, 'urn:altinn:org': 'digdir' });
    expect(altinn.refreshes).toBeGreaterThan(0);

    await expectUnauthorized(await get(refreshUrl, { Authorization: `Bearer ${mpToken}` }));
    await expectUnauthorized(await get(refreshUrl));
  });

  test('refuses an Altinn token that has expired', async () => {
    let t = Date.now();
    const a = await startAltinnSim({ maskinporten: mp, now: () => t });
    try {
      const mpToken = await fetchAccessToken(mp, plain, { scope: 'test:read' });
      const token = await (await get(`${a.url}/authentication/api/v1/exchange/maskinporten`, { Authorization: `Bearer ${mpToken}` })).text();
      t += 1800_000;
      const r = await get(`${a.url}/authentication/api/v1/refresh`, { Authorization: `Bearer ${token}` });
      await expectUnauthorized(r);
    } finally {
      await a.close();
    }
  });
});

describe('Altinn simulator: faults', () => {
  test('status, malformed and dropped connection, then normal again', async () => {
    const mpToken = await fetchAccessToken(mp, plain, { scope: 'test:read' });
    const auth = { Authorization: `Bearer ${mpToken}` };
    altinn.faults.enqueue({ status: 503 }, { malformed: true }, { dropConnection: true });
    expect((await get(exchangeUrl(), auth)).status).toBe(503);
    const bad = await get(exchangeUrl(), auth);
    expect(bad.status).toBe(200);
    const garbage = await bad.text();
    expect(() => decodeJwt(garbage)).toThrow();
    await expect(get(exchangeUrl(), auth)).rejects.toThrow();
    const ok = await get(exchangeUrl(), auth);
    expect(ok.status).toBe(200);
    await verifyAltinn(await ok.text());
    expect(altinn.requests.slice(-4).map((r) => r.status)).toEqual([503, 200, 0, 200]);
  });
});
