// verifyToken and IssuerKeys against a small issuer on 127.0.0.1 (real HTTP, real RSA keys): the claim checks,
// the mapping of every refusal to a safe reason, and the key cache (unknown kid refetch, single flight).
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { SignJWT, UnsecuredJWT, exportJWK, generateKeyPair, type JWK, type JWTPayload, type KeyObject } from 'jose';
import type { Profile } from '../../../shared/config/config.js';
import { UpstreamUnavailableError } from '../../../shared/errors.js';
import { IssuerKeys, TokenRejectedError, verifyToken, type TokenKind } from '../../../shared/verify/token-verify.js';
import type { FetchLike } from '../../../shared/upstream/http-client.js';
import { listen, requestUrl, sendJson, type LoopbackServer } from '../../sim/http-util.js';

interface IssuerKey {
  kid: string;
  privateKey: KeyObject;
  jwk: JWK;
}

async function newKey(kid: string): Promise<IssuerKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return { kid, privateKey: privateKey as unknown as KeyObject, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

/** A Maskinporten-like issuer: metadata and JWKS, the published keys changeable, every request counted. */
let server: LoopbackServer;
let published: IssuerKey[] = [];
let hits: string[] = [];
let jwksDelayMs = 0;
let keyA: IssuerKey;
let keyB: IssuerKey;
let issuer: string;

beforeAll(async () => {
  [keyA, keyB] = await Promise.all([newKey('key-a'), newKey('key-b')]);
  server = await listen(async (req, res) => {
    const { pathname } = requestUrl(req);
    hits.push(pathname);
    if (pathname === '/.well-known/oauth-authorization-server') return sendJson(res, 200, { issuer, jwks_uri: `${issuer}jwk` });
    if (pathname === '/jwk') {
      if (jwksDelayMs) await new Promise((r) => setTimeout(r, jwksDelayMs));
      return sendJson(res, 200, { keys: published.map((k) => k.jwk) });
    }
    sendJson(res, 404, {});
  });
  issuer = `${server.url}/`;
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  published = [keyA];
  hits = [];
  jwksDelayMs = 0;
});

const nowMs = Date.now();
const nowS = Math.floor(nowMs / 1000);
const profile: Profile = Object.freeze({
  name: 'default', clientId: 'client-1', scopes: ['altinn:serviceowner'], keySecret: 'k', tokenSecret: 't', altinnExchange: false,
});
const good = (): JWTPayload => ({ iss: issuer, client_id: 'client-1', scope: 'altinn:serviceowner other:scope', iat: nowS, exp: nowS + 120 });
const sign = (claims: JWTPayload, key = keyA, kid = key.kid, alg = 'RS256') => new SignJWT(claims).setProtectedHeader({ alg, kid }).sign(key.privateKey);

/** Each test gets its own key cache (the process-wide one is per metadata URL, shared by every call here). */
function keysFor(cooldownMs = 30_000): IssuerKeys {
  return new IssuerKeys('maskinporten', `${issuer}.well-known/oauth-authorization-server`, (url, init) => fetch(url, init), 2_000, cooldownMs);
}

describe('verifyToken', () => {
  const opts = () => ({ endpoints: { issuer, altinnUrl: 'http://127.0.0.1:1' }, fetch: ((url, init) => fetch(url, init)) as FetchLike, now: () => nowMs, timeoutMs: 2_000 });
  const verify = (token: string, p: Profile = profile, kind: TokenKind = 'maskinporten') => verifyToken(token, kind, p, opts(), 'test token');

  test('a token signed by the issuer with the expected claims gives its facts', async () => {
    await expect(verify(await sign(good()))).resolves.toEqual({ expiresAt: (nowS + 120) * 1000, issuedAt: nowS * 1000, scope: 'altinn:serviceowner other:scope' });
  });

  const refusals: Array<[string, () => Promise<string>, RegExp, Partial<Profile>]> = [
    ['alg none', async () => new UnsecuredJWT(good()).encode(), /algorithm is not allowed/, {}],
    ['another key with the issuer\'s kid', async () => sign(good(), keyB, keyA.kid), /signature does not verify/, {}],
    ['a kid the issuer does not publish', async () => sign(good(), keyB), /key \(kid\) the issuer does not publish/, {}],
    ['HS256 with the public key as secret', async () => new SignJWT(good()).setProtectedHeader({ alg: 'HS256', kid: keyA.kid }).sign(new TextEncoder().encode(JSON.stringify(keyA.jwk))), /algorithm is not allowed/, {}],
    ['another issuer', async () => sign({ ...good(), iss: 'https://evil.example/' }), /iss is not the expected issuer/, {}],
    ['another client', async () => sign({ ...good(), client_id: 'client-2' }), /client_id is not the profile's/, {}],
    ['scopes not covered', async () => sign({ ...good(), scope: 'other:scope' }), /scope lacks 1 of the profile's MASKINPORTEN_SCOPES/, {}],
    ['exp 10^13', async () => sign({ ...good(), exp: 1e13 }), /exp is over 10\^9 s ahead, more than MAX_TOKEN_LIFETIME_SECONDS \(7200\)/, {}],
    ['exp 3 hours ahead', async () => sign({ ...good(), exp: nowS + 3 * 3600 }), /exp is 10(800|799) s ahead/, {}],
    ['iat in the future', async () => sign({ ...good(), iat: nowS + 600, exp: nowS + 700 }), /iat is (600|599) s in the future/, {}],
    ['a lifetime too long', async () => sign({ ...good(), iat: nowS - 86_400 }), /lifetime \(exp - iat\) is 86520 s/, {}],
    ['expired', async () => sign({ ...good(), iat: nowS - 300, exp: nowS - 100 }), /expired/, {}],
    ['no iat', async () => sign({ ...good(), iat: undefined }), /iat is missing or invalid/, {}],
    ['exp a string', async () => sign({ ...good(), exp: String(nowS + 60) as unknown as number }), /exp is missing or invalid/, {}],
    ['unparsable', async () => 'not.a.token', /not a JWT/, {}],
    ['opaque', async () => 'opaque-token-value', /not a JWT/, {}],
    ['another consumer', async () => sign({ ...good(), consumer: { ID: '0192:999999999' } }), /consumer is not MASKINPORTEN_CONSUMER_ORG/, { consumerOrg: '310000002' }],
    ['aud without the resource', async () => sign({ ...good(), aud: 'unspecified' }), /aud does not cover MASKINPORTEN_RESOURCE/, { resource: ['https://api.example.no/'] }],
  ];
  test.each(refusals)('%s is refused with a safe reason', async (_name, make, reason, override) => {
    const token = await make();
    const err = await verify(token, { ...profile, ...override }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(TokenRejectedError);
    expect(err).toMatchObject({ code: 'TOKEN_INVALID', reason: expect.stringMatching(reason) });
    expect((err as Error).message).not.toContain(token.length > 20 ? token.split('.')[1]! : token);
  });

  test('the same claims pass with the consumer and resource the profile asks for', async () => {
    const p = { ...profile, consumerOrg: '310000002', resource: ['https://api.example.no/'] };
    await expect(verify(await sign({ ...good(), consumer: { ID: '0192:310000002' }, aud: ['https://api.example.no/'] }), p)).resolves.toBeDefined();
  });

  test('an Altinn token is checked against Altinn\'s issuer', async () => {
    // this issuer is not Altinn's: the Altinn key set cannot even be found
    await expect(verify(await sign(good()), profile, 'altinn')).rejects.toBeInstanceOf(UpstreamUnavailableError);
  });
});

describe('IssuerKeys', () => {
  const header = (kid: string) => ({ alg: 'RS256', kid });
  const noToken = { payload: '', signature: '' };
  const count = () => ({ metadata: hits.filter((h) => h.includes('well-known')).length, jwks: hits.filter((h) => h === '/jwk').length });

  test('discovery and the key set are fetched once, then cached', async () => {
    const keys = keysFor();
    await keys.get(header('key-a'), noToken);
    await keys.get(header('key-a'), noToken);
    expect(count()).toEqual({ metadata: 1, jwks: 1 });
  });

  test('concurrent callers share one discovery and one key set fetch', async () => {
    jwksDelayMs = 100;
    const keys = keysFor();
    await Promise.all(Array.from({ length: 50 }, () => keys.get(header('key-a'), noToken)));
    expect(count()).toEqual({ metadata: 1, jwks: 1 });
  });

  test('an unknown kid refetches the key set once: a rotated-in key is found', async () => {
    const keys = keysFor(0);
    await keys.get(header('key-a'), noToken);
    published = [keyA, keyB];
    await expect(keys.get(header('key-b'), noToken)).resolves.toBeDefined();
    expect(count()).toEqual({ metadata: 1, jwks: 2 });
  });

  test('a kid still unknown after the refetch is refused after exactly one refetch; concurrent ones share it', async () => {
    const keys = keysFor(0);
    await keys.get(header('key-a'), noToken);
    jwksDelayMs = 50;
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => keys.get(header('nope'), noToken)));
    expect(results.every((r) => r.status === 'rejected' && (r.reason as Error).name === 'JWKSNoMatchingKey')).toBe(true);
    expect(count()).toEqual({ metadata: 1, jwks: 2 });
  });

  test('within the cooldown an unknown kid does not refetch (a stream of forged kids cannot hammer the issuer)', async () => {
    const keys = keysFor(30_000);
    await keys.get(header('key-a'), noToken);
    published = [keyA, keyB];
    for (let i = 0; i < 5; i++) await expect(keys.get(header(`forged-${i}`), noToken)).rejects.toThrow();
    expect(count()).toEqual({ metadata: 1, jwks: 1 });
  });

  test('an unreachable issuer is UpstreamUnavailableError, and the next call tries again', async () => {
    let fail = true;
    const flaky: FetchLike = (url, init) => (fail ? Promise.reject(new TypeError('fetch failed')) : fetch(url, init));
    const keys = new IssuerKeys('maskinporten', `${issuer}.well-known/oauth-authorization-server`, flaky, 2_000);
    await expect(keys.get(header('key-a'), noToken)).rejects.toMatchObject({ code: 'MASKINPORTEN_UNAVAILABLE' });
    fail = false;
    await expect(keys.get(header('key-a'), noToken)).resolves.toBeDefined();
  });
});
