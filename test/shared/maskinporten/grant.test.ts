// signGrant: exactly the documented claims (docs/protocol.md, The JWT grant), verified against the public key.
import { describe, expect, test } from '@jest/globals';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { GRANT_LIFETIME_SECONDS, signGrant, type GrantRequest } from '../../../shared/maskinporten/grant.js';
import { decodeKey } from '../../../shared/keys/decode.js';
import { json, rsaKey } from '../../helpers/keys.js';

const k = rsaKey('org-TEST.grant');
const key = await decodeKey(json(k.jwk), { setting: 'MASKINPORTEN_KEY_SECRET', secretName: 'mp-key' });
const now = Date.UTC(2026, 10, 25, 12, 0, 0);
const req: GrantRequest = { clientId: 'client-1', audience: 'https://test.maskinporten.no/', scopes: ['altinn:serviceowner', 'a:b'] };

async function verified(grant: string) {
  return jwtVerify(grant, k.publicKey, { currentDate: new Date(now), algorithms: ['RS256'] });
}

describe('signGrant', () => {
  test('header and claims follow the protocol', async () => {
    const grant = await signGrant(req, key, now);
    expect(decodeProtectedHeader(grant)).toEqual({ alg: 'RS256', kid: 'org-TEST.grant' });
    const { payload } = await verified(grant);
    const iat = Math.floor(now / 1000);
    expect(payload).toEqual({
      aud: 'https://test.maskinporten.no/',
      iss: 'client-1',
      scope: 'altinn:serviceowner a:b',
      iat,
      exp: iat + GRANT_LIFETIME_SECONDS,
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(GRANT_LIFETIME_SECONDS).toBeLessThanOrEqual(120);
  });

  test('every grant has a fresh jti', async () => {
    const jtis = new Set<unknown>();
    for (let i = 0; i < 20; i++) jtis.add((await verified(await signGrant(req, key, now))).payload.jti);
    expect(jtis.size).toBe(20);
  });

  test('resource is an array, consumer_org and the system user are added only when configured', async () => {
    const { payload } = await verified(
      await signGrant(
        { ...req, resource: ['https://api.example/'], consumerOrg: '310000002', systemUser: { orgId: '0192:310000001', externalRef: 'ref-1' } },
        key,
        now,
      ),
    );
    expect(payload.resource).toEqual(['https://api.example/']);
    expect(payload.consumer_org).toBe('310000002');
    expect(payload.authorization_details).toEqual([
      { type: 'urn:altinn:systemuser', systemuser_org: { authority: 'iso6523-actorid-upis', ID: '0192:310000001' }, externalRef: 'ref-1' },
    ]);
    const allowed = ['aud', 'iss', 'iat', 'exp', 'jti', 'scope', 'resource', 'consumer_org', 'authorization_details'];
    expect(Object.keys(payload).filter((c) => !allowed.includes(c))).toEqual([]);
  });

  test('the key alg is used (RS512)', async () => {
    const rs512 = await decodeKey(json({ ...k.jwk, alg: 'RS512' }), { setting: 'S', secretName: 'n' });
    const grant = await signGrant(req, rs512, now);
    expect(decodeProtectedHeader(grant).alg).toBe('RS512');
    await expect(jwtVerify(grant, k.publicKey, { currentDate: new Date(now), algorithms: ['RS512'] })).resolves.toBeDefined();
  });
});
