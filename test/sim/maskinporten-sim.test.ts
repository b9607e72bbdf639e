// Tests of the Maskinporten simulator: every grant rule refused by a targeted bad grant, the good path
// (token verified with the simulator's JWKS), metadata, request log and fault injection.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { SignJWT, createLocalJWKSet, createRemoteJWKSet, generateKeyPair, jwtVerify } from 'jose';
import { startMaskinportenSim, type MaskinportenSim } from './maskinporten-sim.js';
import { FaultQueue, throttle } from './faults.js';
import { fetchAccessToken, grantClaims, makeTestClient, postGrant, signGrant, type TestClient } from './test-helpers.js';

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

let sim: MaskinportenSim;
let client: TestClient;
let other: TestClient; // a second key pair, registered nowhere

beforeAll(async () => {
  client = await makeTestClient({
    orgNo: '991825827',
    scopes: ['altinn:serviceowner', 'test:read', 'test:gone'],
    deniedScopes: ['test:gone'],
    systemUsers: ['310454578'],
    delegatedBy: ['912345678'],
  });
  other = await makeTestClient();
  sim = await startMaskinportenSim({ clients: [client.simClient] });
});
afterAll(async () => {
  await sim.close();
});

async function token(header: Record<string, unknown>, claims: Record<string, unknown>, signer = client) {
  const res = await postGrant(sim.tokenEndpoint, await signGrant(signer.privateJwk, header, claims));
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}
const kidHeader = () => ({ alg: 'RS256', kid: client.kid });
const claims = (extra: Record<string, unknown> = {}) => grantClaims(sim.issuer, client.clientId, Date.now(), extra);

describe('Maskinporten simulator: metadata and routes', () => {
  test('serves metadata with issuer (trailing slash), token endpoint and JWKS', async () => {
    expect(sim.issuer).toBe(`${sim.url}/`);
    const meta = (await (await fetch(`${sim.issuer}.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(meta).toMatchObject({ issuer: sim.issuer, token_endpoint: `${sim.issuer}token`, jwks_uri: `${sim.issuer}jwk` });
    const jwks = (await (await fetch(sim.jwksUri)).json()) as { keys: Array<Record<string, unknown>> };
    expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    expect(jwks.keys[0]).not.toHaveProperty('d');
    expect(jwks).toEqual(sim.publicJwks());
  });

  test('answers 404 elsewhere, including GET /token', async () => {
    expect((await fetch(`${sim.url}/nope`)).status).toBe(404);
    expect((await fetch(sim.tokenEndpoint)).status).toBe(404);
  });
});

describe('Maskinporten simulator: good grants', () => {
  test('issues a signed access token with the documented claims; logs no assertion', async () => {
    const before = sim.tokensIssued;
    const assertion = await signGrant(client.privateJwk, { ...kidHeader(), typ: 'JWT' }, claims({ scope: 'altinn:serviceowner test:read' }));
    const res = await postGrant(sim.tokenEndpoint, assertion);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 120, scope: 'altinn:serviceowner test:read' });
    const { payload, protectedHeader } = await jwtVerify(body.access_token as string, createRemoteJWKSet(new URL(sim.jwksUri)), { issuer: sim.issuer });
    expect(protectedHeader.kid).toBe(sim.publicJwks().keys[0]!.kid);
    expect(payload).toMatchObject({
      client_id: client.clientId,
      client_amr: 'private_key_jwt',
      consumer: { authority: 'iso6523-actorid-upis', ID: '0192:991825827' },
      scope: 'altinn:serviceowner test:read',
      token_type: 'Bearer',
    });
    expect(payload.exp! - payload.iat!).toBe(120);
    expect(typeof payload.jti).toBe('string');
    expect(payload.aud).toBe('unspecified');
    expect(payload).not.toHaveProperty('supplier');
    expect(sim.tokensIssued).toBe(before + 1);
    expect(sim.requests.at(-1)).toMatchObject({ ok: true, status: 200, claims: { iss: client.clientId } });
    expect(JSON.stringify(sim.requests)).not.toContain(assertion.split('.')[2]);
  });

  test.each(['RS384', 'RS512'])('accepts %s', async (alg) => {
    expect((await token({ alg, kid: client.kid }, claims())).status).toBe(200);
  });

  test('resource gives aud; consumer_org moves the client org to supplier; system user is echoed', async () => {
    const { body } = await token(kidHeader(), claims({
      resource: ['https://api.example.no'],
      consumer_org: '912345678',
    }));
    const { payload } = await jwtVerify(body.access_token!, createLocalJWKSet(sim.publicJwks()));
    expect(payload.aud).toBe('https://api.example.no');
    expect(payload.consumer).toEqual({ authority: 'iso6523-actorid-upis', ID: '0192:912345678' });
    expect(payload.supplier).toEqual({ authority: 'iso6523-actorid-upis', ID: '0192:991825827' });

    const detail = { type: 'urn:altinn:systemuser', systemuser_org: { authority: 'iso6523-actorid-upis', ID: '0192:310454578' }, externalRef: 'ref-1' };
    const su = await token(kidHeader(), claims({ authorization_details: [detail], sub: 'ignored', nbf: Math.floor(Date.now() / 1000) }));
    expect(su.status).toBe(200);
    const p2 = (await jwtVerify(su.body.access_token!, createLocalJWKSet(sim.publicJwks()))).payload;
    expect(p2.authorization_details).toEqual([{ ...detail, systemuser_id: [expect.stringMatching(/^[0-9a-f-]{36}$/)] }]);
  });

  test('resource as a string (as Altinn\'s own clients send it) is accepted like a one-element array', async () => {
    for (const resource of ['https://api.example.no', ['https://api.example.no']]) {
      const { status, body } = await token(kidHeader(), claims({ resource }));
      expect(status).toBe(200);
      expect((await jwtVerify(body.access_token!, createLocalJWKSet(sim.publicJwks()))).payload.aud).toBe('https://api.example.no');
    }
    expect(sim.requests.at(-1)).toMatchObject({ ok: true, claims: { resource: ['https://api.example.no'] } });
  });

  test('a token requested without resource carries aud "unspecified"', async () => {
    const { body } = await token(kidHeader(), claims());
    expect((await jwtVerify(body.access_token!, createLocalJWKSet(sim.publicJwks()))).payload.aud).toBe('unspecified');
  });

  test('jti is recommended, not required: a grant without one is accepted (and cannot be checked for reuse)', async () => {
    const assertion = await signGrant(client.privateJwk, kidHeader(), claims({ jti: undefined }));
    expect((await postGrant(sim.tokenEndpoint, assertion)).status).toBe(200);
    const strict = await startMaskinportenSim({ clients: [client.simClient], requireJti: true });
    try {
      const res = await postGrant(strict.tokenEndpoint, await signGrant(client.privateJwk, kidHeader(), grantClaims(strict.issuer, client.clientId, Date.now(), { jti: undefined })));
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/jti missing/) });
    } finally {
      await strict.close();
    }
  });

  test('pid and iss_onbehalfof are documented claims and accepted', async () => {
    const { status } = await token(kidHeader(), claims({ pid: '01017012345', iss_onbehalfof: 'onbehalf-of-x' }));
    expect(status).toBe(200);
    expect(sim.requests.at(-1)).toMatchObject({ ok: true, claims: { pid: '01017012345', iss_onbehalfof: 'onbehalf-of-x' } });
    // an undocumented claim is still refused
    expect((await token(kidHeader(), claims({ on_behalf_of: 'x' }))).status).toBe(400);
  });

  test('ignores an Authorization header (no client authentication)', async () => {
    const form = new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: await signGrant(client.privateJwk, kidHeader(), claims()) });
    const res = await fetch(sim.tokenEndpoint, { method: 'POST', body: form, headers: { Authorization: 'Basic Zm9vOmJhcg==' } });
    expect(res.status).toBe(200);
  });

  test('uses the injected clock and lifetime, with the skew limit exact', async () => {
    const t0 = Date.UTC(2030, 0, 1);
    const s = await startMaskinportenSim({ clients: [client.simClient], now: () => t0, tokenLifetimeSeconds: 300, maxClockSkewSeconds: 10 });
    try {
      const at = (offsetS: number) => grantClaims(s.issuer, client.clientId, t0 + offsetS * 1000);
      const post = async (c: Record<string, unknown>) => postGrant(s.tokenEndpoint, await signGrant(client.privateJwk, kidHeader(), c));
      const ok = await post(at(10));
      expect(ok.status).toBe(200);
      const body = (await ok.json()) as { access_token: string; expires_in: number };
      expect(body.expires_in).toBe(300);
      const { payload } = await jwtVerify(body.access_token, createLocalJWKSet(s.publicJwks()), { currentDate: new Date(t0) });
      expect(payload.iat).toBe(t0 / 1000);
      expect(payload.exp).toBe(t0 / 1000 + 300);
      expect((await post(at(11))).status).toBe(400);
      expect((await post(at(-10))).status).toBe(200);
      expect((await post(at(-11))).status).toBe(400);
    } finally {
      await s.close();
    }
  });

  test('addClient registers a client at run time', async () => {
    const late = await makeTestClient();
    await expect(fetchAccessToken(sim, late)).rejects.toThrow(/400/);
    sim.addClient(late.simClient);
    await expect(fetchAccessToken(sim, late)).resolves.toMatch(/^ey/);
    expect(() => sim.addClient({ ...late.simClient, keys: [{ ...late.privateJwk }] })).toThrow(/public RSA/);
    expect(() => sim.addClient({ ...late.simClient, keys: [{ ...late.publicJwk, kid: undefined }] })).toThrow(/kid/);
  });
});

type Case = [string, () => Promise<{ status: number; body: Record<string, string> }>, number, string, string, RegExp | null];
const now = () => Math.floor(Date.now() / 1000);
const detail = (o: Record<string, unknown> = {}) => ({ type: 'urn:altinn:systemuser', systemuser_org: { authority: 'iso6523-actorid-upis', ID: '0192:310454578' }, ...o });
const raw = async (body: string, contentType = 'application/x-www-form-urlencoded') => {
  const res = await fetch(sim.tokenEndpoint, { method: 'POST', body, headers: { 'Content-Type': contentType } });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
};
const rawAssertion = async (assertion: string) => raw(new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }).toString());

const cases: Case[] = [
  ['wrong Content-Type', async () => raw(JSON.stringify({ grant_type: 'x' }), 'application/json'), 400, 'invalid_request', 'MP-011', /Content-Type/],
  ['missing grant_type', async () => raw('assertion=a.b.c'), 400, 'invalid_request', 'MP-011', /grant_type/],
  ['wrong grant_type', async () => raw('grant_type=client_credentials&assertion=a.b.c'), 400, 'unsupported_grant_type', 'MP-011', null],
  ['missing assertion', async () => raw('grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer'), 400, 'invalid_request', 'MP-011', /assertion/],
  ['assertion twice', async () => raw(`grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=a&assertion=b`), 400, 'invalid_request', 'MP-011', /more than once/],
  ['assertion not a JWS', async () => rawAssertion('not-a-jwt'), 400, 'invalid_request', 'MP-011', /compact JWS/],
  ['assertion a JWE (5 parts)', async () => rawAssertion('a.b.c.d.e'), 400, 'invalid_request', 'MP-011', /compact JWS/],
  ['alg none', async () => rawAssertion(`${b64({ alg: 'none', kid: client.kid })}.${b64(claims())}.`), 400, 'invalid_request', 'MP-011', /alg/],
  ['alg PS256', async () => token({ alg: 'PS256', kid: client.kid }, claims()), 400, 'invalid_request', 'MP-011', /alg/],
  ['alg HS256', async () => rawAssertion(await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', kid: client.kid }).sign(new Uint8Array(32))), 400, 'invalid_request', 'MP-011', /alg/],
  ['alg ES256', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    return rawAssertion(await new SignJWT(claims()).setProtectedHeader({ alg: 'ES256', kid: client.kid }).sign(privateKey));
  }, 400, 'invalid_request', 'MP-011', /alg/],
  ['typ other than JWT', async () => token({ ...kidHeader(), typ: 'at+jwt' }, claims()), 400, 'invalid_request', 'MP-011', /typ/],
  ['both kid and x5c', async () => token({ ...kidHeader(), x5c: ['MIIB'] }, claims()), 400, 'invalid_request', 'MP-011', /exactly one/],
  ['x5c as a string', async () => token({ alg: 'RS256', x5c: 'MIIB' }, claims()), 400, 'invalid_grant', 'MP-123', /array/],
  ['x5c for a client without certificate', async () => token({ alg: 'RS256', x5c: ['MIIB'] }, claims()), 400, 'invalid_grant', 'MP-120', /certificate/],
  ['no kid', async () => token({ alg: 'RS256' }, claims()), 400, 'invalid_grant', 'MP-120', /requires pre-registered jwk and no key identifier \(kid\) provided/],
  ['unknown kid', async () => token({ alg: 'RS256', kid: 'nope' }, claims()), 400, 'invalid_grant', 'MP-120', /Unknown key identifier \(kid\) for client/],
  ['signed by another key', async () => token(kidHeader(), claims(), other), 400, 'invalid_grant', 'MP-124', /signature/],
  ['payload tampered after signing', async () => {
    const [h, , s] = (await signGrant(client.privateJwk, kidHeader(), claims())).split('.');
    return rawAssertion(`${h}.${b64(claims({ scope: 'test:read' }))}.${s}`);
  }, 400, 'invalid_grant', 'MP-124', /signature/],
  ['unknown iss', async () => token(kidHeader(), claims({ iss: 'someone-else' })), 400, 'invalid_grant', 'MP-100', /unknown client/],
  ['iss missing', async () => token(kidHeader(), claims({ iss: undefined })), 400, 'invalid_grant', 'MP-100', /unknown client/],
  ['aud = token endpoint', async () => token(kidHeader(), claims({ aud: sim.tokenEndpoint })), 400, 'invalid_grant', 'MP-110', null],
  ['aud without trailing slash', async () => token(kidHeader(), claims({ aud: sim.url })), 400, 'invalid_grant', 'MP-110', null],
  ['aud as an array', async () => token(kidHeader(), claims({ aud: [sim.issuer] })), 400, 'invalid_grant', 'MP-110', null],
  ['iat in the future', async () => token(kidHeader(), claims({ iat: now() + 60, exp: now() + 120 })), 400, 'invalid_grant', 'MP-130', /Issue time is after now/],
  ['iat too old', async () => token(kidHeader(), claims({ iat: now() - 60, exp: now() + 30 })), 400, 'invalid_grant', 'MP-130', /too old/],
  ['exp passed', async () => token(kidHeader(), claims({ iat: now() - 5, exp: now() - 30 })), 400, 'invalid_grant', 'MP-130', /expired/],
  ['exp more than 120 s after iat', async () => token(kidHeader(), claims({ exp: now() + 121 })), 400, 'invalid_grant', 'MP-130', /120/],
  ['exp missing', async () => token(kidHeader(), claims({ exp: undefined })), 400, 'invalid_request', 'MP-011', /exp/],
  ['iat missing', async () => token(kidHeader(), claims({ iat: undefined })), 400, 'invalid_request', 'MP-011', /iat/],
  ['nbf in the future', async () => token(kidHeader(), claims({ nbf: now() + 60 })), 400, 'invalid_grant', 'MP-130', /nbf/],
  ['jti not a string', async () => token(kidHeader(), claims({ jti: 42 })), 400, 'invalid_request', 'MP-011', /jti/],
  ['pid not a string', async () => token(kidHeader(), claims({ pid: 12345678901 })), 400, 'invalid_request', 'MP-011', /pid/],
  ['iss_onbehalfof empty', async () => token(kidHeader(), claims({ iss_onbehalfof: '' })), 400, 'invalid_request', 'MP-011', /iss_onbehalfof/],
  ['sub not a string', async () => token(kidHeader(), claims({ sub: 42 })), 400, 'invalid_request', 'MP-011', /sub/],
  ['claim outside the list', async () => token(kidHeader(), claims({ client_id: 'x' })), 400, 'invalid_request', 'MP-011', /Invalid assertion.*client_id/],
  ['scope missing', async () => token(kidHeader(), claims({ scope: undefined })), 400, 'invalid_scope', 'MP-200', /Missing scope/],
  ['scope not registered', async () => token(kidHeader(), claims({ scope: 'altinn:serviceowner other:write' })), 400, 'invalid_scope', 'MP-200', /other:write/],
  ['scope with a double space', async () => token(kidHeader(), claims({ scope: 'altinn:serviceowner  test:read' })), 400, 'invalid_scope', 'MP-200', null],
  ['scope access withdrawn', async () => token(kidHeader(), claims({ scope: 'test:gone' })), 403, 'forbidden', 'MP-250', /test:gone/],
  ['resource as an empty string', async () => token(kidHeader(), claims({ resource: '' })), 400, 'invalid_request', 'MP-011', /resource/],
  ['resource as an empty array', async () => token(kidHeader(), claims({ resource: [] })), 400, 'invalid_request', 'MP-011', /resource/],
  ['resource with a non-string', async () => token(kidHeader(), claims({ resource: ['https://a.no', 3] })), 400, 'invalid_request', 'MP-011', /resource/],
  ['consumer_org not 9 digits', async () => token(kidHeader(), claims({ consumer_org: '12345678' })), 400, 'invalid_request', 'MP-011', /consumer_org/],
  ['consumer_org = own org', async () => token(kidHeader(), claims({ consumer_org: '991825827' })), 400, 'invalid_request', 'MP-011', /differ/],
  ['consumer_org without delegation', async () => token(kidHeader(), claims({ consumer_org: '987654321' })), 403, 'forbidden', 'MP-251', /delegation/],
  ['authorization_details not an array', async () => token(kidHeader(), claims({ authorization_details: detail() })), 400, 'invalid_request', 'MP-011', /authorization_details/],
  ['authorization_details of unknown type', async () => token(kidHeader(), claims({ authorization_details: [detail({ type: 'urn:altinn:other' })] })), 400, 'invalid_request', 'MP-301', null],
  ['authorization_details with an unknown field', async () => token(kidHeader(), claims({ authorization_details: [detail({ extra: 1 })] })), 400, 'invalid_request', 'MP-302', null],
  ['systemuser_org with another authority', async () => token(kidHeader(), claims({ authorization_details: [detail({ systemuser_org: { authority: 'x', ID: '0192:310454578' } })] })), 400, 'invalid_request', 'MP-302', null],
  ['systemuser_org ID without 0192:', async () => token(kidHeader(), claims({ authorization_details: [detail({ systemuser_org: { authority: 'iso6523-actorid-upis', ID: '310454578' } })] })), 400, 'invalid_request', 'MP-302', null],
  ['system user not registered', async () => token(kidHeader(), claims({ authorization_details: [detail({ systemuser_org: { authority: 'iso6523-actorid-upis', ID: '0192:111111111' } })] })), 400, 'invalid_request', 'MP-303', /system user/],
  ['two parties in one grant', async () => token(kidHeader(), claims({ authorization_details: [detail(), detail()] })), 400, 'invalid_request', 'MP-011', /one party/],
];

describe('Maskinporten simulator: refuses each bad grant', () => {
  test.each(cases)('%s', async (...[, send, status, error, code, description]: Case) => {
    const before = sim.tokensIssued;
    const { status: got, body } = await send();
    expect({ status: got, error: body.error }).toEqual({ status, error });
    expect(body.error_uri).toMatch(new RegExp(`^https://docs\\.digdir\\.no/.*/errors/${code}$`));
    expect(body.error_description).toMatch(/ \(trace id: [0-9a-f]{32}\)$/);
    if (description) expect(body.error_description).toMatch(description);
    expect(sim.tokensIssued).toBe(before);
    expect(sim.requests.at(-1)).toMatchObject({ ok: false, status, error, code });
  });

  test('a reused jti', async () => {
    const assertion = await signGrant(client.privateJwk, kidHeader(), claims());
    expect((await postGrant(sim.tokenEndpoint, assertion)).status).toBe(200);
    const res = await postGrant(sim.tokenEndpoint, assertion);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_grant', error_uri: expect.stringMatching(/MP-012$/) });
    // the same grant sent twice at once: exactly one wins
    const twice = await signGrant(client.privateJwk, kidHeader(), claims());
    const both = await Promise.all([postGrant(sim.tokenEndpoint, twice), postGrant(sim.tokenEndpoint, twice)]);
    expect(both.map((r) => r.status).sort()).toEqual([200, 400]);
    // the same jti from another client is its own grant
    const late = await makeTestClient();
    sim.addClient(late.simClient);
    const jti = (claims().jti as string);
    expect((await token(kidHeader(), claims({ jti }))).status).toBe(200);
    expect((await token({ alg: 'RS256', kid: late.kid }, grantClaims(sim.issuer, late.clientId, Date.now(), { jti }), late)).status).toBe(200);
  });

  test('a key whose JWK alg differs from the header alg, and an expired key', async () => {
    const pinned = await makeTestClient();
    pinned.simClient.keys = [{ ...pinned.publicJwk, alg: 'RS256' }];
    sim.addClient(pinned.simClient);
    const c = () => grantClaims(sim.issuer, pinned.clientId);
    expect((await token({ alg: 'RS384', kid: pinned.kid }, c(), pinned)).body.error_uri).toMatch(/MP-124$/);
    expect((await token({ alg: 'RS256', kid: pinned.kid }, c(), pinned)).status).toBe(200);
    sim.addClient({ ...pinned.simClient, keyExpiresAt: { [pinned.kid]: Date.now() - 1 } });
    const expired = await token({ alg: 'RS256', kid: pinned.kid }, c(), pinned);
    expect(expired).toMatchObject({ status: 400, body: { error: 'invalid_grant', error_uri: expect.stringMatching(/MP-121$/) } });
  });

  test('a body over 64 KB', async () => {
    const res = await fetch(sim.tokenEndpoint, { method: 'POST', body: new URLSearchParams({ assertion: 'x'.repeat(70_000) }) });
    expect(res.status).toBe(413);
  });
});

describe('Maskinporten simulator: faults', () => {
  test('status, malformed, headers, delay and drop, in order, then normal again', async () => {
    const grant = async () => signGrant(client.privateJwk, kidHeader(), claims());
    sim.faults.enqueue({ status: 503 }, { malformed: true }, throttle(2), { delayMs: 300, headers: { 'X-Sim': 'slow' } }, { dropConnection: true });
    expect(sim.faults.pending).toBe(5);

    const r503 = await postGrant(sim.tokenEndpoint, await grant());
    expect(r503.status).toBe(503);
    expect(await r503.json()).toMatchObject({ error: 'server_error' });
    const bad = await postGrant(sim.tokenEndpoint, await grant());
    expect(bad.status).toBe(200);
    await expect(bad.json()).rejects.toThrow();
    const r429 = await postGrant(sim.tokenEndpoint, await grant());
    expect([r429.status, r429.headers.get('retry-after')]).toEqual([429, '2']);
    await r429.text();
    const t0 = Date.now();
    const slow = await postGrant(sim.tokenEndpoint, await grant());
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    expect([slow.status, slow.headers.get('x-sim')]).toEqual([200, 'slow']);
    await slow.text();
    await expect(postGrant(sim.tokenEndpoint, await grant())).rejects.toThrow();
    expect(sim.faults.pending).toBe(0);
    expect((await postGrant(sim.tokenEndpoint, await grant())).status).toBe(200);

    const log = sim.requests.slice(-6);
    expect(log.map((r) => [r.status, r.fault ?? false])).toEqual([[503, true], [200, true], [429, true], [200, false], [0, true], [200, false]]);
  });

  test('clear() drops queued faults; bad faults and overflow are refused', async () => {
    sim.faults.enqueue({ status: 500 }, { status: 500 });
    sim.faults.clear();
    await expect(fetchAccessToken(sim, client)).resolves.toMatch(/^ey/);
    expect(() => sim.faults.enqueue({ status: 99 })).toThrow(RangeError);
    expect(() => sim.faults.enqueue({ delayMs: 10 ** 9 })).toThrow(RangeError);
    expect(() => sim.faults.enqueue({ status: 500, dropConnection: true })).toThrow(RangeError);
    const q = new FaultQueue();
    expect(() => q.enqueue(...Array.from({ length: 1001 }, () => ({ status: 500 })))).toThrow(RangeError);
    expect(q.pending).toBe(0);
  });
});
