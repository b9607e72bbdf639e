// The keys and certificates part of the Key Vault simulator, driven through the real @azure/keyvault-keys KeyClient
// and CryptographyClient and the real @azure/keyvault-certificates CertificateClient.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createHash, createPublicKey, verify, X509Certificate } from 'node:crypto';
import type { TokenCredential } from '@azure/identity';
import { CertificateClient } from '@azure/keyvault-certificates';
import { CryptographyClient, KeyClient } from '@azure/keyvault-keys';
import { makeCertificate, makeTestCa } from '../helpers/certificates.js';
import { testRsaKey } from '../helpers/key-pool.js';
import { startKeyVaultSim, type KeyVaultSim } from './keyvault-sim.js';

const credential: TokenCredential = { getToken: async () => ({ token: 'dummy', expiresOnTimestamp: Date.now() + 3600e3 }) };
const clientOptions = { allowInsecureConnection: true, disableChallengeResourceVerification: true };
const PRIVATE = ['d', 'p', 'q', 'dp', 'dq', 'qi'];
let kv: KeyVaultSim;
let keys: KeyClient;

beforeAll(async () => {
  kv = await startKeyVaultSim();
  keys = new KeyClient(kv.url, credential, clientOptions);
});
afterAll(async () => {
  await kv.close();
});

const statusOf = async (p: Promise<unknown>) => p.then(() => 200, (e: { statusCode?: number; code?: string }) => `${e.statusCode} ${e.code}`);
const publicKeyOf = (k: { key?: { n?: Uint8Array; e?: Uint8Array } }) =>
  createPublicKey({ key: { kty: 'RSA', n: Buffer.from(k.key!.n!).toString('base64url'), e: Buffer.from(k.key!.e!).toString('base64url') }, format: 'jwk' });

describe('keys through KeyClient and CryptographyClient', () => {
  test('createRsaKey makes a version with the public key only; getKey reads it back, latest and by version', async () => {
    const created = await keys.createRsaKey('mp-signing', { keySize: 2048, tags: { 'maskinporten-kid': 'org-TEST.1' } });
    expect(created.properties.version).toMatch(/^[0-9a-f]{32}$/);
    expect(created.id).toBe(`${kv.url}/keys/mp-signing/${created.properties.version}`);
    expect(created.keyType).toBe('RSA');
    expect(created.properties.tags).toEqual({ 'maskinporten-kid': 'org-TEST.1' });
    expect(created.properties.exportable).toBe(false);
    for (const m of PRIVATE) expect((created.key as Record<string, unknown>)[m]).toBeUndefined();
    expect(publicKeyOf(created).asymmetricKeyDetails?.modulusLength).toBe(2048);

    const latest = await keys.getKey('mp-signing');
    expect(latest.properties.version).toBe(created.properties.version);
    for (const m of PRIVATE) expect((latest.key as Record<string, unknown>)[m]).toBeUndefined();
    expect(await statusOf(keys.getKey('no-such-key'))).toBe('404 KeyNotFound');
  });

  test('a second create adds a version; versions are listed with their tags and notBefore; update changes attributes', async () => {
    const notBefore = new Date(Math.ceil(Date.now() / 1000) * 1000 + 86_400_000);
    const v2 = await keys.createRsaKey('mp-signing', { keySize: 3072, notBefore, tags: { 'maskinporten-kid': 'org-TEST.2' } });
    const listed = [];
    for await (const p of keys.listPropertiesOfKeyVersions('mp-signing')) listed.push(p);
    expect(listed).toHaveLength(2);
    expect(listed[1]).toMatchObject({ version: v2.properties.version, notBefore, tags: { 'maskinporten-kid': 'org-TEST.2' }, enabled: true });
    const updated = await keys.updateKeyProperties('mp-signing', v2.properties.version!, { enabled: false });
    expect(updated.properties.enabled).toBe(false);
    expect(kv.keys.versions('mp-signing')[1]!.attributes.enabled).toBe(false);
    expect(await statusOf(keys.listPropertiesOfKeyVersions('nothing-here').next())).toBe('404 KeyNotFound');
  });

  test('CryptographyClient.sign(RS256, digest) gives the RSASSA-PKCS1-v1_5 signature node:crypto verifies', async () => {
    const key = await keys.getKey('mp-signing', { version: kv.keys.versions('mp-signing')[0]!.version });
    const crypto = new CryptographyClient(key, credential, clientOptions);
    const data = Buffer.from('header.claims');
    const { result, keyID } = await crypto.sign('RS256', createHash('sha256').update(data).digest());
    expect(keyID).toBe(key.id);
    expect(verify('sha256', data, publicKeyOf(key), Buffer.from(result))).toBe(true);
    expect(verify('sha256', Buffer.from('other'), publicKeyOf(key), Buffer.from(result))).toBe(false);
    expect(await statusOf(crypto.sign('RS256', Buffer.alloc(20)))).toBe('400 BadParameter');
  });

  test('sign is refused for a disabled or not yet valid version', async () => {
    const [v1, v2] = kv.keys.versions('mp-signing');
    const disabled = new CryptographyClient(`${kv.url}/keys/mp-signing/${v2!.version}`, credential, clientOptions);
    // The SDK reads the key first and refuses a version whose notBefore is ahead itself; the vault refuses too:
    kv.keys.setAttributes('mp-signing', v2!.version, { enabled: false, nbf: null });
    expect(await statusOf(disabled.sign('RS256', Buffer.alloc(32)))).toBe('403 Forbidden');
    kv.keys.setAttributes('mp-signing', v1!.version, { nbf: Math.floor(Date.now() / 1000) + 3600 });
    const raw = await fetch(`${kv.url}/keys/mp-signing/${v1!.version}/sign?api-version=7.6`, {
      method: 'POST',
      headers: { authorization: 'Bearer x', 'content-type': 'application/json' },
      body: JSON.stringify({ alg: 'RS256', value: Buffer.alloc(32).toString('base64url') }),
    });
    expect([raw.status, ((await raw.json()) as { error: { innererror?: { code: string } } }).error.innererror?.code]).toEqual([403, 'KeyNotYetValid']);
    kv.keys.setAttributes('mp-signing', v1!.version, { nbf: null });
  });

  test('no route hands out private key material: export, backup and release do not exist', async () => {
    for (const [method, path] of [['POST', '/keys/mp-signing/backup'], ['POST', '/keys/mp-signing/release'], ['GET', '/keys/mp-signing/export']]) {
      const res = await fetch(`${kv.url}${path}?api-version=7.6`, { method, headers: { authorization: 'Bearer x' } });
      expect(res.status).toBe(404);
      expect(await res.text()).not.toMatch(/"d"\s*:/);
    }
    expect(Object.keys(kv.keys.versions('mp-signing')[0]!)).not.toContain('privateKey');
  });
});

describe('certificates through CertificateClient', () => {
  test('getCertificate returns the DER in cer and the id of its key; that key signs and the certificate verifies', async () => {
    const ca = makeTestCa();
    const leafKeys = testRsaKey('certificate');
    const der = makeCertificate(ca, { publicKey: leafKeys.publicKey, orgNumber: '999888777', commonName: 'ORG AS' });
    const version = kv.keys.importCertificate('business-cert', { cer: der, privateKey: leafKeys.privateKey });

    const certs = new CertificateClient(kv.url, credential, clientOptions);
    const cert = await certs.getCertificate('business-cert');
    expect(Buffer.from(cert.cer!)).toEqual(der);
    expect(cert.properties.version).toBe(version);
    expect(cert.keyId).toBe(`${kv.url}/keys/business-cert/${version}`);
    const x509 = new X509Certificate(Buffer.from(cert.cer!));
    expect(x509.subject).toContain('serialNumber=999888777');
    expect(cert.properties.expiresOn).toEqual(new Date(Math.floor(Date.parse(x509.validTo) / 1000) * 1000));

    const key = await keys.getKey('business-cert', { version });
    const { result } = await new CryptographyClient(key, credential, clientOptions).sign('RS256', createHash('sha256').update('x').digest());
    expect(verify('sha256', Buffer.from('x'), x509.publicKey, Buffer.from(result))).toBe(true);
    expect(await statusOf(keys.updateKeyProperties('business-cert', version, { enabled: false }))).toBe('403 Forbidden');
    expect(await statusOf(certs.getCertificate('no-cert'))).toBe('404 CertificateNotFound');
  });
});
