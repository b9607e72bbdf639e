// The test run's RSA keys. Making an RSA 2048 key costs about a tenth of a second of CPU, and the suite used to make
// some 370 of them (a fresh key for every simulator and client of every test). Now `npm test` makes a small pool
// once (test/helpers/global-setup.ts, Jest's globalSetup), writes it to an owner-only temporary file named in
// TEST_KEY_POOL and removes it at the end (global-teardown.ts); test files and the simulators take their keys here.
//
// Keys come in kinds that never share a key: a client key is never also a simulator's signing key. Within one test
// file (Jest gives each file its own copy of this module) the keys of a kind are handed out in turn, so any
// KEY_POOL_SIZES[kind] keys of a kind taken one after another are distinct (a client key and the rotated key that
// replaces it; Entra ID's old and new signing key). Without a pool (the simulators or the demo run on their own), and
// for other sizes than 2048 bits, keys are made on the spot.
//
// Why keys are made the way they are here, on Node 20: see test/helpers/global-setup.ts. In short, never export as a
// JWK (or read asymmetricKeyDetails of) a KeyObject that generateKeyPairSync returned: that can deadlock the process.
// Keys made now are made as DER and read back with createPrivateKey.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import { KEY_POOL_ENV, type KeyKind, type KeyPoolFile } from './global-setup.js';

export { KEY_POOL_ENV, KEY_POOL_SIZES, type KeyKind } from './global-setup.js';

export interface TestKeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly privateJwk: JsonWebKey;
  readonly publicJwk: JsonWebKey;
}

let pool: KeyPoolFile | null | undefined;
const handedOut = new Map<KeyKind, number>();

function loadPool(): KeyPoolFile | null {
  if (pool === undefined) {
    const file = process.env[KEY_POOL_ENV];
    pool = file ? (JSON.parse(readFileSync(file, 'utf8')) as KeyPoolFile) : null;
  }
  return pool;
}

/** The next RSA 2048 private JWK of this kind from the pool (a copy: the caller may change it), or undefined when there
 *  is no pool. */
export function pooledRsaJwk(kind: KeyKind): JsonWebKey | undefined {
  const p = loadPool();
  if (!p) return undefined;
  const keys = p.keys[kind];
  if (!keys?.length) throw new Error(`The test key pool (${KEY_POOL_ENV}) has no "${kind}" keys.`);
  const n = handedOut.get(kind) ?? 0;
  handedOut.set(kind, n + 1);
  return { ...keys[n % keys.length] };
}

function fromPrivateJwk(privateJwk: JsonWebKey): TestKeyPair {
  const privateKey = createPrivateKey({ key: privateJwk, format: 'jwk' });
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, privateJwk, publicJwk: publicKey.export({ format: 'jwk' }) };
}

function fromDer(der: Buffer): TestKeyPair {
  const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, privateJwk: privateKey.export({ format: 'jwk' }), publicJwk: publicKey.export({ format: 'jwk' }) };
}

/** An RSA key: the next of its kind from the pool (2048 bits), otherwise one made now. */
export function testRsaKey(kind: KeyKind, bits = 2048): TestKeyPair {
  const pooled = bits === 2048 ? pooledRsaJwk(kind) : undefined;
  if (pooled) return fromPrivateJwk(pooled);
  const der = generateKeyPairSync('rsa', {
    modulusLength: bits,
    publicKeyEncoding: { type: 'spki', format: 'der' },
    privateKeyEncoding: { type: 'pkcs8', format: 'der' },
  });
  return fromDer(der.privateKey);
}

/** An EC key made now. */
export function testEcKey(namedCurve: 'P-256' | 'P-384' | 'P-521' = 'P-256'): TestKeyPair {
  const der = generateKeyPairSync('ec', {
    namedCurve,
    publicKeyEncoding: { type: 'spki', format: 'der' },
    privateKeyEncoding: { type: 'pkcs8', format: 'der' },
  });
  return fromDer(der.privateKey);
}

/** What jose's generateKeyPair('RS256', options) gives (CryptoKeys), for the simulators and jose-based helpers: the
 *  next key of its kind from the pool, or a new one from jose when there is no pool. */
export async function testSigningKeyPair(kind: KeyKind, o: { extractable?: boolean } = {}): Promise<{ privateKey: CryptoKey; publicKey: CryptoKey }> {
  const pooled = pooledRsaJwk(kind);
  if (!pooled) return generateKeyPair('RS256', o);
  const { kty, n, e } = pooled;
  const [privateKey, publicKey] = await Promise.all([
    importJWK(pooled as JWK, 'RS256', { extractable: o.extractable ?? false }),
    importJWK({ kty, n, e } as JWK, 'RS256', { extractable: true }),
  ]);
  return { privateKey: privateKey as CryptoKey, publicKey: publicKey as CryptoKey };
}
