// The Entra ID simulator: publishes its keys where Entra does, and its tokens verify with jose against them in
// the v2 and v1 shapes (issuer, azp/appid, ver), with the roles and times asked for.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { startEntraSim, type EntraSim } from './entra-sim.js';

let sim: EntraSim;
beforeAll(async () => {
  sim = await startEntraSim({ now: () => Date.now() });
});
afterAll(async () => {
  await sim.close();
});

async function keys(): Promise<JSONWebKeySet> {
  const res = await fetch(sim.jwksUri);
  expect(res.status).toBe(200);
  return (await res.json()) as JSONWebKeySet;
}

describe('Entra ID simulator', () => {
  test('keys at {authority}/{tenant}/discovery/v2.0/keys (public members only), OpenID metadata, unknown tenant 400', async () => {
    expect(sim.jwksUri).toBe(`${sim.url}/${sim.tenantId}/discovery/v2.0/keys`);
    const set = await keys();
    expect(set.keys).toHaveLength(1);
    expect(set.keys[0]).toMatchObject({ kty: 'RSA', use: 'sig', kid: sim.signingKey.kid });
    expect(set.keys[0]).not.toHaveProperty('d');
    const meta = (await (await fetch(`${sim.url}/${sim.tenantId}/v2.0/.well-known/openid-configuration`)).json()) as Record<string, string>;
    expect(meta).toMatchObject({ issuer: sim.issuer, jwks_uri: sim.jwksUri });
    expect((await fetch(`${sim.url}/00000000-0000-4000-8000-000000000000/discovery/v2.0/keys`)).status).toBe(400);
  });

  test('a v2 token verifies against the published keys with the roles, ids and audience asked for', async () => {
    const token = await sim.issueToken({ roles: ['Tokens.Read.All'], oid: 'o-1', appId: 'a-1' });
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(await keys()), { issuer: sim.issuer, audience: sim.audience, algorithms: ['RS256'] });
    expect(protectedHeader).toMatchObject({ alg: 'RS256', typ: 'JWT', kid: sim.signingKey.kid });
    expect(payload).toMatchObject({ tid: sim.tenantId, oid: 'o-1', azp: 'a-1', ver: '2.0', roles: ['Tokens.Read.All'] });
    expect(payload.exp! - payload.iat!).toBe(3600);
  });

  test('a v1 token: sts.windows.net issuer and appid', async () => {
    const token = await sim.issueToken({ version: 1, appId: 'a-2' });
    const { payload } = await jwtVerify(token, createLocalJWKSet(await keys()), { issuer: `https://sts.windows.net/${sim.tenantId}/` });
    expect(payload).toMatchObject({ appid: 'a-2', ver: '1.0' });
    expect(payload).not.toHaveProperty('azp');
    expect(payload).not.toHaveProperty('roles');
  });

  test('key rollover publishes the new key next to the old one and signs with it', async () => {
    const old = sim.signingKey.kid;
    const kid = await sim.rotateKey();
    expect((await keys()).keys.map((k) => k.kid)).toEqual([old, kid]);
    expect(decodeProtectedHeader(await sim.issueToken()).kid).toBe(kid);
  });
});
