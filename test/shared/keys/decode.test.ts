// decodeKey: every accepted key shape signs verifiably; every bad one gets its own code and no key material.
import { describe, expect, test } from '@jest/globals';
import { sign, verify } from 'node:crypto';
import { decodeKey, type DecodeOptions } from '../../../shared/keys/decode.js';
import { KeyError } from '../../../shared/errors.js';
import { testEcKey, testRsaKey } from '../../helpers/key-pool.js';
import { b64, json, privateMembers, rsaKey } from '../../helpers/keys.js';

const opts: DecodeOptions = { setting: 'MASKINPORTEN_KEY_SECRET', secretName: 'mp-key' };
const k = rsaKey('org-TEST.a');
const other = rsaKey('org-TEST.b');

async function signsFor(decoded: Awaited<ReturnType<typeof decodeKey>>, publicKey = k.publicKey): Promise<boolean> {
  const data = Buffer.from('hello');
  return verify('sha256', data, publicKey, sign('sha256', data, decoded.key));
}

async function codeOf(value: string, o: Partial<DecodeOptions> = {}): Promise<string> {
  try {
    await decodeKey(value, { ...opts, ...o });
  } catch (err) {
    expect(err).toBeInstanceOf(KeyError);
    const message = (err as Error).message;
    expect(message).toContain('mp-key');
    for (const secret of privateMembers(k.jwk)) expect(message).not.toContain(secret);
    expect((err as Error).cause).toBeUndefined();
    return (err as KeyError).code;
  }
  throw new Error('expected a KeyError');
}

describe('accepted key shapes', () => {
  test.each([
    ['base64 JWK with kid', b64(json(k.jwk)), undefined],
    ['raw JWK with kid', json(k.jwk), undefined],
    ['base64 JWK without kid, kid from settings', b64(json({ ...k.jwk, kid: undefined })), 'org-TEST.a'],
    ['base64 JWKS, picked by kid', b64(json({ keys: [k.jwk, other.jwk] })), 'org-TEST.a'],
    ['base64 PKCS#8 PEM', b64(k.pkcs8), 'org-TEST.a'],
    ['raw PKCS#1 PEM', k.pkcs1, 'org-TEST.a'],
    ['base64 PKCS#1 PEM, line-wrapped', b64(k.pkcs1).replace(/(.{76})/g, '$1\n'), 'org-TEST.a'],
    ['URL-safe base64 JWK', Buffer.from(json(k.jwk)).toString('base64url'), undefined],
  ])('%s', async (_name, value, kid) => {
    const decoded = await decodeKey(value, { ...opts, ...(kid !== undefined && { kid }) });
    expect(decoded).toMatchObject({ kid: 'org-TEST.a', alg: 'RS256', bits: 2048, warnings: [] });
    expect(decoded.key.type).toBe('private');
    expect(await signsFor(decoded)).toBe(true);
  });

  test('a JWKS without a configured kid uses the last (newest) key', async () => {
    const decoded = await decodeKey(b64(json({ keys: [other.jwk, k.jwk] })), opts);
    expect(decoded.kid).toBe('org-TEST.a');
    expect(await signsFor(decoded)).toBe(true);
  });

  test('RS384/RS512 come from the JWK alg', async () => {
    expect((await decodeKey(json({ ...k.jwk, alg: 'RS512' }), opts)).alg).toBe('RS512');
    expect((await decodeKey(json({ ...k.jwk, alg: 'RS384' }), opts)).alg).toBe('RS384');
  });

  test('a differing configured kid wins with a warning', async () => {
    const decoded = await decodeKey(json(k.jwk), { ...opts, kid: 'portal-kid' });
    expect(decoded.kid).toBe('portal-kid');
    expect(decoded.warnings).toEqual([expect.stringMatching(/differs/)]);
  });

  test('a signing key marked use "sig" with key_ops ["sign"] (as keygen and Altinn\'s tool write it) is accepted', async () => {
    expect((await decodeKey(json({ ...k.jwk, use: 'sig', key_ops: ['sign'] }), opts)).kid).toBe('org-TEST.a');
  });
});

describe('rejected key shapes each get their own code', () => {
  const ec = testEcKey('P-256');
  const tiny = testRsaKey('client', 512);
  const small = rsaKey('x', 1024);
  const odd = testRsaKey('client', 2047);
  test.each([
    ['empty', '  ', {}, 'KEY_EMPTY'],
    ['not base64', 'this is not a key!', {}, 'KEY_NOT_BASE64'],
    ['base64 of garbage', b64('hello world'), {}, 'KEY_UNPARSABLE'],
    ['base64 of broken JSON', b64('{"kty":'), {}, 'KEY_UNPARSABLE'],
    ['JSON array', '[1,2]', {}, 'KEY_UNPARSABLE'],
    ['public JWK', b64(json(k.publicJwk)), {}, 'KEY_PUBLIC_ONLY'],
    ['public PEM', b64(k.publicKey.export({ format: 'pem', type: 'spki' }) as string), { kid: 'x' }, 'KEY_PUBLIC_ONLY'],
    ['EC JWK', json({ ...ec.privateKey.export({ format: 'jwk' }), kid: 'x' }), {}, 'KEY_NOT_RSA'],
    ['EC PEM', ec.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, { kid: 'x' }, 'KEY_NOT_RSA'],
    ['RSA 512', json({ ...tiny.privateKey.export({ format: 'jwk' }), kid: 'x' }), {}, 'KEY_TOO_SMALL'],
    ['RSA 1024 (JWK)', json({ ...small.jwk }), {}, 'KEY_TOO_SMALL'],
    ['RSA 1024 (PEM)', b64(small.pkcs8), { kid: 'x' }, 'KEY_TOO_SMALL'],
    ['RSA 2047', json({ ...odd.privateKey.export({ format: 'jwk' }), kid: 'x' }), {}, 'KEY_TOO_SMALL'],
    ['JWK with alg as an array', json({ ...k.jwk, alg: ['RS256'] }), {}, 'KEY_ALG_UNSUPPORTED'],
    ['JWK with alg as a number', json({ ...k.jwk, alg: 256 }), {}, 'KEY_ALG_UNSUPPORTED'],
    ['JWK with alg in lower case', json({ ...k.jwk, alg: 'rs256' }), {}, 'KEY_ALG_UNSUPPORTED'],
    ['JWK with alg none', json({ ...k.jwk, alg: 'none' }), {}, 'KEY_ALG_UNSUPPORTED'],
    ['JWK for encryption (use enc)', json({ ...k.jwk, use: 'enc' }), {}, 'KEY_USE_NOT_SIG'],
    ['JWK for encryption (use enc) in a JWKS', b64(json({ keys: [{ ...k.jwk, use: 'enc' }] })), {}, 'KEY_USE_NOT_SIG'],
    ['JWK whose key_ops do not include sign', json({ ...k.jwk, key_ops: ['encrypt', 'decrypt'] }), {}, 'KEY_USE_NOT_SIG'],
    ['PEM without kid setting', b64(k.pkcs8), {}, 'KEY_KID_MISSING'],
    ['JWK without kid and no setting', json({ ...k.jwk, kid: undefined }), {}, 'KEY_KID_MISSING'],
    ['JWKS with no matching kid', b64(json({ keys: [k.jwk] })), { kid: 'nope' }, 'KEY_KID_NOT_IN_JWKS'],
    ['JWKS with no keys', json({ keys: [] }), {}, 'KEY_UNPARSABLE'],
    ['JWK with PS256', json({ ...k.jwk, alg: 'PS256' }), {}, 'KEY_ALG_UNSUPPORTED'],
    ['JWK with a truncated private member', json({ ...k.jwk, p: 'AAAA' }), {}, 'KEY_UNPARSABLE'],
    ['corrupt PEM', '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----', { kid: 'x' }, 'KEY_UNPARSABLE'],
    [
      'encrypted PEM',
      k.privateKey.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'pw' }) as string,
      { kid: 'x' },
      'KEY_UNPARSABLE',
    ],
  ])('%s', async (_name, value, o, code) => {
    expect(await codeOf(value, o)).toBe(code);
  });
});

describe('refusals name the reason', () => {
  test('a small key names its size and the minimum; use enc names the use', async () => {
    const small = rsaKey('x', 1024);
    await expect(decodeKey(json(small.jwk), opts)).rejects.toThrow(/RSA 1024 bits; Maskinporten requires at least 2048/);
    await expect(decodeKey(json({ ...k.jwk, use: 'enc' }), opts)).rejects.toThrow(/use "enc": a grant must be signed with a signing key/);
    await expect(decodeKey(json({ ...k.jwk, alg: ['RS256'] }), opts)).rejects.toThrow(/alg of type array; Maskinporten accepts "RS256", "RS384" or "RS512" \(a string\)/);
  });
});
