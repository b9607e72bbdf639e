// The run's test key pool (key-pool.ts, global-setup.ts): tests that need different keys get different keys.
import { describe, expect, test } from '@jest/globals';
import { createPrivateKey, createPublicKey, type JsonWebKey } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { exportJWK } from 'jose';
import { KEY_POOL_ENV, KEY_POOL_SIZES, pooledRsaJwk, testRsaKey, testSigningKeyPair, type KeyKind } from './key-pool.js';

const file = process.env[KEY_POOL_ENV] ?? '';
const kinds = Object.keys(KEY_POOL_SIZES) as KeyKind[];

describe('the key pool file', () => {
  test('npm test names it, and it and its directory are owner-only', () => {
    expect(file).not.toBe('');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(file)).mode & 0o777).toBe(0o700);
  });

  test('holds as many RSA 2048 private keys of each kind as KEY_POOL_SIZES says, no key twice, not even under two kinds', () => {
    const { keys } = JSON.parse(readFileSync(file, 'utf8')) as { keys: Record<string, JsonWebKey[]> };
    expect(Object.keys(keys).sort()).toEqual([...kinds].sort());
    const moduli: string[] = [];
    for (const kind of kinds) {
      expect(keys[kind]).toHaveLength(KEY_POOL_SIZES[kind]);
      for (const jwk of keys[kind]!) {
        const k = createPrivateKey({ key: jwk, format: 'jwk' });
        expect([k.type, k.asymmetricKeyType, k.asymmetricKeyDetails?.modulusLength]).toEqual(['private', 'rsa', 2048]);
        moduli.push(String(jwk.n));
      }
    }
    expect(new Set(moduli).size).toBe(moduli.length);
  });
});

describe('keys handed out', () => {
  test.each(kinds)('any %s keys taken one after another, as many as the pool holds of them, are different keys', (kind) => {
    const n = KEY_POOL_SIZES[kind];
    const taken = Array.from({ length: 2 * n }, () => testRsaKey(kind).publicJwk.n);
    expect(new Set(taken.slice(0, n)).size).toBe(n);
    expect(new Set(taken.slice(n)).size).toBe(n);
  });

  test('a key handed out is a copy: changing it changes no key handed out later', () => {
    const first = pooledRsaJwk('ca')!;
    const modulus = first.n;
    first.n = 'changed';
    for (let i = 1; i < KEY_POOL_SIZES.ca; i++) pooledRsaJwk('ca');
    expect(pooledRsaJwk('ca')!.n).toBe(modulus);
  });

  test('a key pair is a matching pair: the public key is the private key\'s', () => {
    const k = testRsaKey('client');
    expect(k.publicKey.export({ format: 'jwk' })).toEqual(createPublicKey(k.privateKey).export({ format: 'jwk' }));
    expect(k.publicJwk).toEqual({ kty: 'RSA', n: k.privateJwk.n, e: k.privateJwk.e });
  });

  test('the simulators\' CryptoKeys come from the pool too, one after another different, and extractable only when asked', async () => {
    const first = await testSigningKeyPair('entra', { extractable: true });
    const second = await testSigningKeyPair('entra');
    expect((await exportJWK(first.publicKey)).n).not.toBe((await exportJWK(second.publicKey)).n);
    expect((await exportJWK(first.privateKey)).n).toBe((await exportJWK(first.publicKey)).n);
    expect([first.privateKey.extractable, second.privateKey.extractable]).toEqual([true, false]);
  });

  test('other sizes than 2048 bits are made on the spot', () => {
    expect(testRsaKey('client', 1024).privateKey.asymmetricKeyDetails?.modulusLength).toBe(1024);
  });
});
