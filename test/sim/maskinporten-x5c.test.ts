// The Maskinporten simulator's business-certificate grants (x5c): accepted when the leaf verifies the signature, is
// valid now, chains to a trusted test CA and names the client's organisation; each broken rule is refused.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { decodeJwt, type JWK } from 'jose';
import { makeCertificate, makeTestCa, type TestCa } from '../helpers/certificates.js';
import { testRsaKey, type TestKeyPair } from '../helpers/key-pool.js';
import { startMaskinportenSim, type MaskinportenSim } from './maskinporten-sim.js';
import { grantClaims, postGrant, signGrant } from './test-helpers.js';

const ORG = '991825827';
const CLIENT = 'cert-client';
let sim: MaskinportenSim;
let ca: TestCa;
let leafKey: TestKeyPair;
let privateJwk: JWK;

beforeAll(async () => {
  ca = makeTestCa();
  leafKey = testRsaKey('certificate');
  privateJwk = leafKey.privateJwk as JWK;
  sim = await startMaskinportenSim({ clients: [{ clientId: CLIENT, orgNo: ORG, scopes: ['altinn:serviceowner'], keys: [] }], trustedCas: [ca.cer] });
});
afterAll(async () => {
  await sim.close();
});

const b64 = (der: Buffer) => der.toString('base64');
async function grantWith(x5c: unknown, jwk = privateJwk) {
  const res = await postGrant(sim.tokenEndpoint, await signGrant(jwk, { alg: 'RS256', x5c }, grantClaims(sim.issuer, CLIENT)));
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

describe('x5c grants', () => {
  test('a leaf issued by the trusted CA for the client\'s organisation is accepted', async () => {
    const leaf = makeCertificate(ca, { publicKey: leafKey.publicKey, orgNumber: ORG });
    const { status, body } = await grantWith([b64(leaf)]);
    expect(status).toBe(200);
    expect(decodeJwt(body.access_token!)).toMatchObject({ client_id: CLIENT, client_amr: 'virksomhetssertifikat', consumer: { ID: `0192:${ORG}` } });
  });

  test('an intermediate CA sent after the leaf completes the chain; without it the chain is refused', async () => {
    const intermediate = makeTestCa('Test Intermediate CA', ca);
    const leaf = makeCertificate(intermediate, { publicKey: leafKey.publicKey, orgNumber: ORG });
    expect((await grantWith([b64(leaf), b64(intermediate.cer)])).status).toBe(200);
    expect((await grantWith([b64(leaf)])).body.error_description).toMatch(/does not chain to a trusted certificate authority/);
  });

  const cases: Array<[string, () => unknown, RegExp, JWK?]> = [
    ['a leaf from an untrusted CA', () => [b64(makeCertificate(makeTestCa('Evil CA'), { publicKey: leafKey.publicKey, orgNumber: ORG }))], /does not chain/],
    ['another organisation\'s certificate', () => [b64(makeCertificate(ca, { publicKey: leafKey.publicKey, orgNumber: '912345678' }))], /belongs to organisation 912345678/],
    ['an expired certificate', () => [b64(makeCertificate(ca, { publicKey: leafKey.publicKey, orgNumber: ORG, notBefore: new Date(Date.now() - 2 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) }))], /expired/],
    ['a certificate not yet valid', () => [b64(makeCertificate(ca, { publicKey: leafKey.publicKey, orgNumber: ORG, notBefore: new Date(Date.now() + 86_400_000) }))], /not yet valid/],
    ['base64url instead of base64', () => [makeCertificate(ca, { publicKey: leafKey.publicKey, orgNumber: ORG }).toString('base64url').replace(/^/, '_')], /standard base64/],
    ['an empty array', () => [], /non-empty JSON array/],
  ];
  test.each(cases)('%s is refused', async (_name, x5c, description) => {
    const { status, body } = await grantWith(x5c());
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: 'invalid_grant', error_description: expect.stringMatching(description) });
  });

  test('a grant signed by another key than the leaf\'s is refused (MP-124)', async () => {
    const leaf = makeCertificate(ca, { publicKey: leafKey.publicKey, orgNumber: ORG });
    const other = testRsaKey('certificate').privateJwk as JWK;
    const { status, body } = await grantWith([b64(leaf)], other);
    expect(status).toBe(400);
    expect(body.error_uri).toMatch(/MP-124$/);
  });
});
