// What the broker trusts, end to end through the simulators (real crypto, real Key Vault SDK): a token planted in
// the token secret is never served, the mint interval holds whatever the thresholds, a delayed write never
// replaces a newer token, and an Altinn 401 is retried once with a new Maskinporten token.
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { SignJWT, UnsecuredJWT, createRemoteJWKSet, generateKeyPair, jwtVerify } from 'jose';
import { parseConfig } from '../../../shared/config/config.js';
import { tokenResponseBody } from '../../../shared/http/token-response.js';
import { Runtime } from '../../../shared/runtime.js';
import type { FetchLike } from '../../../shared/upstream/http-client.js';
import { capture } from '../../helpers/capture.js';
import { startWorld, type World } from '../../helpers/world.js';

let world: World;
const fastRetry = { baseDelayMs: 5, maxDelayMs: 20, maxTotalMs: 5_000 };

function runtime(extra: Record<string, string> = {}): Runtime {
  return new Runtime(parseConfig({ ...world.env, ...extra }), { now: world.clock.now, retry: fastRetry });
}

const nowS = () => Math.floor(world.clock.now() / 1000);

/** The claims a genuine exchanged token for the world's client carries (as the Altinn simulator makes them). */
function altinnClaims(): Record<string, unknown> {
  return {
    iss: world.sims.altinn.issuer, client_id: world.clientId, scope: 'altinn:serviceowner', consumer: { authority: 'iso6523-actorid-upis', ID: '0192:991825827' },
    'urn:altinn:orgNumber': '991825827', iat: nowS(), exp: nowS() + 1800, jti: 'planted',
  };
}

async function verifiesWithAltinn(token: string): Promise<boolean> {
  const keys = createRemoteJWKSet(new URL(`${world.sims.altinn.issuer}.well-known/openid-configuration/jwks`));
  return jwtVerify(token, keys, { issuer: world.sims.altinn.issuer }).then(() => true, () => false);
}

beforeEach(async () => {
  world = await startWorld();
});
afterEach(async () => {
  await world.close();
});

describe('a token planted in the token secret is ignored and a new one minted', () => {
  const plants: Array<[string, () => Promise<string>, RegExp]> = [
    ['alg none', async () => new UnsecuredJWT(altinnClaims()).encode(), /algorithm is not allowed/],
    ['a wrong signature (the attacker\'s key under Altinn\'s kid)', async () => {
      const { privateKey } = await generateKeyPair('RS256');
      const kid = world.sims.altinn.publicJwks().keys[0]!.kid!;
      return new SignJWT(altinnClaims()).setProtectedHeader({ alg: 'RS256', kid }).sign(privateKey);
    }, /signature does not verify/],
    ['the right signature but another client', async () => world.sims.altinn.signToken({ ...altinnClaims(), client_id: 'another-client' }), /client_id is not/],
    ['exp 10^13', async () => world.sims.altinn.signToken({ ...altinnClaims(), exp: 1e13 }), /exp is over 10\^9 s ahead/],
    ['iat in the future', async () => world.sims.altinn.signToken({ ...altinnClaims(), iat: nowS() + 3600, exp: nowS() + 3600 + 1800 }), /iat is (3600|3599) s in the future/],
    ['an unparsable value', async () => 'eyJhbGciOiJSUzI1NiJ9.not-json.x', /not a JWT/],
  ];

  test.each(plants)('%s', async (_name, plant, reason) => {
    const { log, lines } = capture();
    const rt = runtime();
    const planted = await plant();
    world.sims.keyVault.setSecret('altinn-token', planted, { tags: { 'cache-key': rt.broker().cacheKey, kind: 'altinn' }, contentType: 'application/jwt' });

    const token = await rt.broker().getToken(log);
    expect(token.source).toBe('minted');
    expect(token.token).not.toBe(planted);
    expect(await verifiesWithAltinn(token.token)).toBe(true);
    expect(world.sims.maskinporten.tokensIssued).toBe(1);
    expect(world.sims.keyVault.getSecret('altinn-token')!.value).toBe(token.token);
    // the answer and the status can be built (no RangeError from a date), and the refusal was logged once
    expect(JSON.parse(tokenResponseBody(token, world.clock.now())).access_token).toBe(token.token);
    expect(() => rt.broker().status()).not.toThrow();
    const refusals = lines.filter((l) => l.includes('Ignoring the token in secret "altinn-token"'));
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatch(reason);
    for (const line of lines) expect(line).not.toContain(planted);
  });

  test('a planted token that cannot be adopted is logged once, however often it is read', async () => {
    const { log, lines } = capture();
    const rt = runtime({ MIN_MINT_INTERVAL_SECONDS: '1' });
    const planted = new UnsecuredJWT(altinnClaims()).encode();
    world.sims.keyVault.setSecret('altinn-token', planted, { tags: { 'cache-key': rt.broker().cacheKey, kind: 'altinn' } });
    await rt.broker().peekStored(log); // a first read (health's), which also does the SDK's auth challenge
    world.sims.keyVault.faults.enqueue({}, {}, ...Array.from({ length: 4 }, () => ({ status: 503 }))); // the write fails: the planted one stays
    await rt.broker().getToken(log);
    expect(rt.broker().status().storePending).toBe(true);
    await rt.broker().refreshIfDue(log); // reads the vault again before the delayed write
    expect(lines.filter((l) => l.includes('Ignoring the token'))).toHaveLength(1);
    expect(world.sims.keyVault.getSecret('altinn-token')!.value).not.toBe(planted);
  });

  test('with ALTINN_EXCHANGE=false, an opaque or another client\'s Maskinporten token is not adopted', async () => {
    const rt = runtime({ ALTINN_EXCHANGE: 'false' });
    const mpClaims = { iss: world.sims.maskinporten.issuer, client_id: 'another-client', scope: 'altinn:serviceowner', iat: nowS(), exp: nowS() + 120 };
    for (const planted of ['opaque-token-from-somewhere', await world.sims.maskinporten.signToken(mpClaims)]) {
      const { log, lines } = capture();
      world.sims.keyVault.setSecret('altinn-token', planted, { tags: { 'cache-key': rt.broker().cacheKey, kind: 'maskinporten' } });
      const other = runtime({ ALTINN_EXCHANGE: 'false' });
      const token = await other.broker().getToken(log);
      expect(token.source).toBe('minted');
      expect(token.token).not.toBe(planted);
      expect(lines.join('\n')).toMatch(/Ignoring the token in secret "altinn-token" \(version [0-9a-f]+\): (it is not a JWT \(an opaque token is never adopted|client_id is not)/);
    }
  });

  test('an opaque Maskinporten token is served as the token endpoint returned it, stored, but never adopted', async () => {
    const { log, lines } = capture();
    let n = 0;
    // Maskinporten answering with an opaque access_token (a real answer, its token replaced on the way back)
    const opaqueFetch: FetchLike = async (url, init) => {
      const res = await fetch(url, init);
      if (!url.endsWith('/token') || res.status !== 200) return res;
      const body = (await res.json()) as Record<string, unknown>;
      return Response.json({ ...body, access_token: `opaque-${++n}` });
    };
    const opaque = () => new Runtime(parseConfig({ ...world.env, ALTINN_EXCHANGE: 'false' }), { now: world.clock.now, fetch: opaqueFetch, retry: fastRetry });
    const first = await opaque().broker().getToken(log);
    expect(first).toMatchObject({ token: 'opaque-1', source: 'minted' });
    expect(first.expiresAt - world.clock.now()).toBeGreaterThan(110_000); // expires_in: 120
    expect(world.sims.keyVault.getSecret('altinn-token')!.value).toBe('opaque-1');
    const second = await opaque().broker().getToken(log);
    expect(second).toMatchObject({ token: 'opaque-2', source: 'minted' });
    expect(lines.join('\n')).toMatch(/an opaque token is never adopted from the vault/);
  });

  test('a genuine token for this profile is still adopted', async () => {
    const { log } = capture();
    const first = await runtime().broker().getToken(log);
    const second = await runtime().broker().getToken(log);
    expect(second).toMatchObject({ source: 'vault', token: first.token });
    expect(world.sims.maskinporten.tokensIssued).toBe(1);
  });
});

describe('the issuers\' keys', () => {
  test('100 concurrent cold requests and a second instance: each issuer\'s metadata and key set are fetched once', async () => {
    const seen: string[] = [];
    const counting: FetchLike = (url, init) => {
      seen.push(new URL(url).pathname);
      return fetch(url, init);
    };
    const rt = () => new Runtime(parseConfig(world.env), { now: world.clock.now, fetch: counting, retry: fastRetry });
    const { log } = capture();
    const first = rt();
    await Promise.all(Array.from({ length: 100 }, () => first.broker().getToken(log)));
    expect(await rt().broker().getToken(log)).toMatchObject({ source: 'vault' }); // verified with the cached keys
    const count = (path: string) => seen.filter((p) => p === path).length;
    expect(count('/.well-known/oauth-authorization-server')).toBe(1);
    expect(count('/jwk')).toBe(1);
    expect(count('/authentication/api/v1/openid/.well-known/openid-configuration')).toBe(1);
    expect(count('/authentication/api/v1/openid/.well-known/openid-configuration/jwks')).toBe(1);
  });
});

describe('the mint interval', () => {
  test('thresholds above the token lifetime: 20 requests and timer runs all succeed and mint once', async () => {
    const { log, lines } = capture();
    // 30-minute Altinn tokens; both thresholds above that, consistent with each other and the 5-minute timer
    const rt = runtime({ MIN_TOKEN_TTL_SECONDS: '3600', REFRESH_BEFORE_EXPIRY_SECONDS: '3900' });
    const tokens = [];
    for (let i = 0; i < 20; i++) {
      tokens.push(await rt.broker().getToken(log));
      if (i % 5 === 0) expect(await rt.broker().refreshIfDue(log)).toBe('fresh');
      world.clock.advance(1_000);
    }
    expect(new Set(tokens.map((t) => t.token)).size).toBe(1);
    expect(world.sims.maskinporten.tokensIssued).toBe(1);
    expect(world.sims.keyVault.listVersions('altinn-token')).toHaveLength(1);
    expect(lines.filter((l) => l.includes('less than twice MIN_TOKEN_TTL_SECONDS'))).toHaveLength(1);
  });

  test('a short-lived token below MIN_TOKEN_TTL_SECONDS is not minted again within MIN_MINT_INTERVAL_SECONDS', async () => {
    await world.close();
    world = await startWorld({ maskinportenLifetimeSeconds: 120 });
    const { log, lines } = capture();
    // 120 s Maskinporten tokens and a 90 s threshold: half the lifetime (60 s) is what a token can give
    const rt = runtime({ ALTINN_EXCHANGE: 'false', MIN_TOKEN_TTL_SECONDS: '90', MIN_MINT_INTERVAL_SECONDS: '100' });
    const first = await rt.broker().getToken(log);
    world.clock.advance(70_000); // 50 s left: below half the lifetime, but the last mint was 70 s ago
    expect((await rt.broker().getToken(log)).token).toBe(first.token);
    expect((await rt.broker().getToken(log)).token).toBe(first.token);
    expect(world.sims.maskinporten.tokensIssued).toBe(1);
    expect(lines.filter((l) => l.includes('no new token is minted within MIN_MINT_INTERVAL_SECONDS (100)'))).toHaveLength(1);
    world.clock.advance(31_000); // past the interval: minted again
    expect((await rt.broker().getToken(log)).token).not.toBe(first.token);
    expect(world.sims.maskinporten.tokensIssued).toBe(2);
  });

  test('with nothing valid left, the interval does not stop a mint', async () => {
    await world.close();
    world = await startWorld({ maskinportenLifetimeSeconds: 120 });
    const { log } = capture();
    const rt = runtime({ ALTINN_EXCHANGE: 'false', MIN_MINT_INTERVAL_SECONDS: '600' });
    await rt.broker().getToken(log);
    world.clock.advance(121_000);
    await expect(rt.broker().getToken(log)).resolves.toMatchObject({ source: 'minted' });
    expect(world.sims.maskinporten.tokensIssued).toBe(2);
  });
});

describe('writes never go backwards', () => {
  test('a newer token in the vault survives a delayed write of an older one', async () => {
    const { log, lines } = capture();
    const a = runtime().broker();
    await a.refreshIfDue(log); // instance A: a first token stored, SDK auth challenge done
    world.clock.advance(31 * 60_000); // expired
    world.sims.keyVault.faults.enqueue({}, {}, ...Array.from({ length: 4 }, () => ({ status: 503 }))); // A's write fails
    const older = await a.getToken(log);
    expect(a.status().storePending).toBe(true);

    world.clock.advance(60_000);
    const newer = await runtime().broker().getToken(log); // instance B: reads no valid token, mints and stores
    expect(newer.source).toBe('minted');
    expect(newer.expiresAt).toBeGreaterThan(older.expiresAt);
    const versions = world.sims.keyVault.listVersions('altinn-token').length;

    expect(await a.refreshIfDue(log)).toBe('fresh'); // A's timer: the delayed write re-reads the vault first
    expect(a.status().storePending).toBe(false);
    expect(world.sims.keyVault.listVersions('altinn-token')).toHaveLength(versions);
    expect(world.sims.keyVault.getSecret('altinn-token')!.value).toBe(newer.token);
    expect((await a.getToken(log)).token).toBe(newer.token);
    expect(lines.join('\n')).toMatch(/already holds a newer token; the pending write of an older one is dropped/);
  });

  test('a delayed write still happens when the vault holds nothing newer', async () => {
    const { log } = capture();
    const a = runtime().broker();
    await a.refreshIfDue(log);
    world.clock.advance(31 * 60_000);
    world.sims.keyVault.faults.enqueue({}, {}, ...Array.from({ length: 4 }, () => ({ status: 503 })));
    const token = await a.getToken(log);
    await a.refreshIfDue(log);
    expect(world.sims.keyVault.getSecret('altinn-token')!.value).toBe(token.token);
  });
});

describe('Altinn 401', () => {
  test('is retried once with a freshly minted Maskinporten token', async () => {
    const { log, lines } = capture();
    world.sims.altinn.faults.enqueue({ status: 401 });
    const token = await runtime({ MIN_MINT_INTERVAL_SECONDS: '600' }).broker().getToken(log);
    expect(await verifiesWithAltinn(token.token)).toBe(true);
    expect(world.sims.maskinporten.tokensIssued).toBe(2);
    expect(world.sims.altinn.exchanges).toBe(1);
    expect(lines.join('\n')).toMatch(/Altinn answered 401 to the exchange; trying once more with a new Maskinporten token/);
  });

  test('a second 401 is final, with a hint that says what it means', async () => {
    const { log } = capture();
    world.sims.altinn.faults.enqueue({ status: 401 }, { status: 401 });
    await expect(runtime().broker().getToken(log)).rejects.toMatchObject({
      code: 'NO_VALID_TOKEN',
      cause: expect.objectContaining({
        code: 'ALTINN_REJECTED',
        message: expect.stringMatching(/another environment.*MASKINPORTEN_ENV.*ALTINN_URL.*expired.*clock.*could not fetch Maskinporten's keys/),
      }),
    });
    expect(world.sims.maskinporten.tokensIssued).toBe(2);
    expect(world.sims.altinn.faults.pending).toBe(0);
  });
});
