// The key source settings (MASKINPORTEN_VAULT_KEY, MASKINPORTEN_CERTIFICATE, exclusive with MASKINPORTEN_KEY_SECRET)
// and signGrantWith: the grant a vault signer sends is the secret path's grant but for the signature.
import { describe, expect, test } from '@jest/globals';
import { sign } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { parseConfig } from '../../../shared/config/config.js';
import { ConfigError } from '../../../shared/errors.js';
import { signGrant, signGrantWith, type GrantRequest } from '../../../shared/maskinporten/grant.js';
import type { GrantSigner } from '../../../shared/keys/signer.js';
import { decodeKey } from '../../../shared/keys/decode.js';
import { keyHealth } from '../../../shared/keys/key-health.js';
import { newestUsable } from '../../../shared/keys/vault-key.js';
import { makeCertificate, makeTestCa } from '../../helpers/certificates.js';
import { json, rsaKey } from '../../helpers/keys.js';

const base = {
  KEY_VAULT_URL: 'https://kv-test.vault.azure.net/',
  MASKINPORTEN_CLIENT_ID: '2f1b8a4c-0000-4000-8000-000000000001',
  MASKINPORTEN_SCOPES: 'altinn:serviceowner',
};

function codesOf(env: Record<string, string>): Record<string, string> {
  try {
    parseConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return Object.fromEntries((err as ConfigError).problems.map((p) => [p.setting, `${p.code} ${p.message}`]));
  }
  throw new Error('expected a ConfigError');
}

describe('key source settings', () => {
  test('MASKINPORTEN_VAULT_KEY replaces the key secret and carries the vault', () => {
    const c = parseConfig({ ...base, MASKINPORTEN_VAULT_KEY: 'mp-signing' });
    expect(c.profiles[0]!.keySecret).toBeUndefined();
    expect(c.profiles[0]!.keySource).toEqual({ kind: 'vault-key', name: 'mp-signing', vaultUrl: 'https://kv-test.vault.azure.net', local: false });
    expect(parseConfig({ ...base, KEY_VAULT_URL: 'http://127.0.0.1:8200', MASKINPORTEN_VAULT_KEY: 'k' }).profiles[0]!.keySource).toMatchObject({ local: true });
  });

  test('each source is exclusive with the others: SETTING_CONFLICT', () => {
    expect(codesOf({ ...base, MASKINPORTEN_KEY_SECRET: 'mp-key', MASKINPORTEN_VAULT_KEY: 'mp-signing' })).toEqual({
      MASKINPORTEN_VAULT_KEY: expect.stringMatching(/^SETTING_CONFLICT cannot be combined with MASKINPORTEN_KEY_SECRET/),
    });
    expect(codesOf({ ...base, MASKINPORTEN_VAULT_KEY: 'a', MASKINPORTEN_CERTIFICATE: 'b' })).toEqual({
      MASKINPORTEN_CERTIFICATE: expect.stringMatching(/^SETTING_CONFLICT/),
    });
    expect(codesOf({ ...base, MASKINPORTEN_KEY_SECRET: 'k', PROFILE__two__MASKINPORTEN_SCOPES: 'a:b', PROFILE__two__MASKINPORTEN_KEY_SECRET: 'k2', PROFILE__two__MASKINPORTEN_CERTIFICATE: 'c' })).toEqual({
      PROFILE__two__MASKINPORTEN_CERTIFICATE: expect.stringMatching(/^SETTING_CONFLICT/),
    });
  });

  test('no source at all names all three; bad names and a chain without a certificate are reported', () => {
    expect(codesOf(base).MASKINPORTEN_KEY_SECRET).toMatch(/^SETTING_MISSING .*MASKINPORTEN_VAULT_KEY or MASKINPORTEN_CERTIFICATE/);
    expect(codesOf({ ...base, MASKINPORTEN_VAULT_KEY: 'bad_name' }).MASKINPORTEN_VAULT_KEY).toMatch(/^SETTING_BAD_VALUE .*key name/);
    expect(codesOf({ ...base, MASKINPORTEN_KEY_SECRET: 'k', MASKINPORTEN_CERTIFICATE_CHAIN: 'MIIB' }).MASKINPORTEN_CERTIFICATE_CHAIN).toMatch(/^SETTING_CONFLICT .*needs MASKINPORTEN_CERTIFICATE/);
    expect(codesOf({ ...base, MASKINPORTEN_CERTIFICATE: 'c', MASKINPORTEN_CERTIFICATE_CHAIN: 'bm90IGEgY2VydA==' }).MASKINPORTEN_CERTIFICATE_CHAIN).toMatch(/^SETTING_BAD_VALUE/);
    expect(codesOf({ ...base, MASKINPORTEN_CERTIFICATE: 'biz-cert', TOKEN_SECRET: 'Biz-Cert' }).TOKEN_SECRET).toMatch(/^SETTING_CONFLICT .*private key/);
  });

  test('a certificate with its chain; named profiles inherit the source unless they set their own', () => {
    const ca = makeTestCa();
    const chain = ca.cer.toString('base64');
    const c = parseConfig({
      ...base,
      MASKINPORTEN_CERTIFICATE: 'biz-cert',
      MASKINPORTEN_CERTIFICATE_CHAIN: chain,
      PROFILE__same__MASKINPORTEN_SCOPES: 'a:b',
      PROFILE__own__MASKINPORTEN_SCOPES: 'a:b',
      PROFILE__own__MASKINPORTEN_KEY_SECRET: 'own-key',
      PROFILE__vk__MASKINPORTEN_SCOPES: 'a:b',
      PROFILE__vk__MASKINPORTEN_VAULT_KEY: 'vk',
    });
    const [def, own, same, vk] = c.profiles;
    expect(def!.keySource).toMatchObject({ kind: 'certificate', name: 'biz-cert', chain: [chain] });
    expect([own!.name, own!.keySecret, own!.keySource]).toEqual(['own', 'own-key', undefined]);
    expect([same!.name, same!.keySource]).toEqual(['same', def!.keySource]);
    expect([vk!.name, vk!.keySecret, vk!.keySource?.kind]).toEqual(['vk', undefined, 'vault-key']);
  });
});

describe('signGrantWith', () => {
  const k = rsaKey('org-TEST.signer');
  const req: GrantRequest = { clientId: 'c1', audience: 'https://test.maskinporten.no/', scopes: ['a:b'], resource: ['https://r/'], consumerOrg: '987654321' };
  const now = Date.now();
  const signer: GrantSigner = { alg: 'RS256', kid: 'org-TEST.signer', sign: async (input) => sign('sha256', input, k.privateKey) };

  test('the header and claims are those of the secret path; only the signature comes from the signer', async () => {
    const key = await decodeKey(json(k.jwk), { setting: 'S', secretName: 's' });
    const [h1, c1] = (await signGrant(req, key, now)).split('.');
    const viaSigner = await signGrantWith(req, signer, now);
    const [h2, c2] = viaSigner.split('.');
    expect(h2).toBe(h1); // byte for byte
    const claims = (s: string) => JSON.parse(Buffer.from(s, 'base64url').toString()) as Record<string, unknown>;
    expect(Object.keys(claims(c2!))).toEqual(Object.keys(claims(c1!)));
    expect({ ...claims(c2!), jti: 'x' }).toEqual({ ...claims(c1!), jti: 'x' });
    await expect(jwtVerify(viaSigner, k.publicKey, { algorithms: ['RS256'], currentDate: new Date(now) })).resolves.toBeDefined();
    await expect(signGrant(req, signer, now).then((g) => g.split('.')[0])).resolves.toBe(h1); // signGrant hands signers on
  });

  test('a certificate signer puts x5c (an array, leaf first) and no kid in the header', async () => {
    const leaf = makeCertificate(makeTestCa(), { publicKey: k.publicKey, orgNumber: '999888777' });
    const grant = await signGrantWith(req, { alg: 'RS256', x5c: [leaf.toString('base64'), 'SUNB'], sign: signer.sign }, now);
    expect(decodeProtectedHeader(grant)).toEqual({ alg: 'RS256', x5c: [leaf.toString('base64'), 'SUNB'] });
  });

  test('a failing signer fails the grant (nothing unsigned is ever sent)', async () => {
    await expect(signGrantWith(req, { ...signer, sign: async () => Promise.reject(new Error('vault down')) }, now)).rejects.toThrow('vault down');
  });
});

describe('newestUsable (rotation)', () => {
  const at = (s: number) => new Date(Date.UTC(2026, 0, 1) + s * 1000);
  const now = at(100).getTime();
  test('the newest version that is enabled, past its notBefore and not expired', () => {
    const versions = [
      { version: 'old', enabled: true, createdOn: at(0) },
      { version: 'current', enabled: true, createdOn: at(10), notBefore: at(50) },
      { version: 'future', enabled: true, createdOn: at(20), notBefore: at(101) },
      { version: 'disabled', enabled: false, createdOn: at(30) },
      { version: 'expired', enabled: true, createdOn: at(40), expiresOn: at(100) },
    ];
    expect(newestUsable(versions, now)?.version).toBe('current');
    expect(newestUsable(versions, at(101).getTime())?.version).toBe('future');
    expect(newestUsable([versions[3]!, versions[4]!], now)).toBeUndefined();
  });
});


describe('keyHealth', () => {
  const now = Date.UTC(2027, 5, 1);
  const day = 86_400_000;
  const iso = (ms: number) => new Date(ms).toISOString();
  test('a key version older than a year gets a warning that says how to rotate', () => {
    const h = keyHealth({ source: 'vault-key', name: 'mp', version: 'v1', kid: 'k', createdAt: iso(now - 400 * day) }, now);
    expect(h).toMatchObject({ ageDays: 400, warning: expect.stringMatching(/^Key Vault key "mp" version v1 is 400 days old \(more than a year\): add a new version with "keygen .* --rotate"/) });
  });
  test('within 30 days of expiry warns; 30 days or more, or a young key, does not', () => {
    expect(keyHealth({ source: 'certificate', name: 'c', version: 'v', expiresAt: iso(now + 29 * day + 1000) }, now).warning).toMatch(/in 29 days\): order a renewed business certificate/);
    expect(keyHealth({ source: 'certificate', name: 'c', version: 'v', expiresAt: iso(now + 30 * day + 1000) }, now).warning).toBeUndefined();
    expect(keyHealth({ source: 'secret', name: 's', version: 'v', kid: 'k', createdAt: iso(now - 10 * day) }, now)).toEqual({
      source: 'secret', name: 's', version: 'v', kid: 'k', createdAt: iso(now - 10 * day), ageDays: 10,
    });
  });
});
