// Generates a Maskinporten client key pair: an RSA 2048 key with a kid exactly as Altinn's JWKS tool makes them
// (`<name>-TEST.<suffix>` / `<name>-PROD.<suffix>`, the suffix from the minute the key was made), the public JWK for
// the portal and the base64 private JWK for Key Vault.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import type { Environment } from '../config/config.js';

export interface GeneratedKey {
  readonly kid: string;
  /** Paste this into the Maskinporten self-service portal. */
  readonly publicJwk: JsonWebKey;
  /** Keep this secret. */
  readonly privateJwk: JsonWebKey;
  /** base64 of the private JWK JSON: the value of the Key Vault secret. */
  readonly base64: string;
}

/** Altinn's JWKS tool counts kid suffixes in whole minutes from here (it uses local time; we use UTC). */
export const KID_EPOCH_MS = Date.UTC(2025, 0, 1);
/** Suffixes are the low 3 bytes of the minute count: they repeat after 2^24 minutes (about 32 years). */
export const KID_SUFFIX_VALUES = 2 ** 24;

/** Whole minutes since 2025-01-01T00:00Z (negative before it). */
export function kidMinutes(now: Date = new Date()): number {
  return Math.floor((now.getTime() - KID_EPOCH_MS) / 60_000);
}

/** base64url of the low 3 bytes (big-endian) of the number: always 4 characters, e.g. 999240 → "Dz9I". */
export function kidSuffix(minutes: number): string {
  const low = ((minutes % KID_SUFFIX_VALUES) + KID_SUFFIX_VALUES) % KID_SUFFIX_VALUES;
  return Buffer.from([(low >> 16) & 0xff, (low >> 8) & 0xff, low & 0xff]).toString('base64url');
}

/** `<name>-TEST.<suffix>` / `<name>-PROD.<suffix>`, as Altinn's JWKS tool names keys. */
export function makeKid(name: string, environment: Environment, suffix: string = kidSuffix(kidMinutes())): string {
  return `${name}-${environment.toUpperCase()}.${suffix}`;
}

/** The kid for now, or the next free one when it is taken (two keys made in the same minute, say). */
export function freeKid(
  name: string,
  environment: Environment,
  isTaken: (kid: string) => boolean,
  now: Date = new Date(),
): { kid: string; wanted: string } {
  const minutes = kidMinutes(now);
  const wanted = makeKid(name, environment, kidSuffix(minutes));
  for (let step = 0; step < KID_SUFFIX_VALUES; step++) {
    const kid = makeKid(name, environment, kidSuffix(minutes + step));
    if (!isTaken(kid)) return { kid, wanted };
  }
  throw new Error(`Every kid suffix for ${name} is taken.`);
}

export function generateClientKey(name: string, environment: Environment, bits = 2048, kid: string = makeKid(name, environment)): GeneratedKey {
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/.test(name)) {
    throw new Error('The key name must be 1-63 letters, digits, "-" or "_", starting with a letter or digit.');
  }
  // Made as DER and read back: on Node 20, exporting the KeyObjects generateKeyPairSync returns as JWKs can deadlock
  // (the garbage collector's cleanup of the key generation waits for the mutex the export holds).
  const der = generateKeyPairSync('rsa', { modulusLength: bits, publicKeyEncoding: { type: 'spki', format: 'der' }, privateKeyEncoding: { type: 'pkcs8', format: 'der' } });
  const privateKey = createPrivateKey({ key: der.privateKey, format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey(privateKey);
  const meta = { kid, alg: 'RS256', use: 'sig' };
  const publicJwk = { ...publicKey.export({ format: 'jwk' }), ...meta };
  const privateJwk = { ...privateKey.export({ format: 'jwk' }), ...meta };
  return { kid, publicJwk, privateJwk, base64: Buffer.from(JSON.stringify(privateJwk)).toString('base64') };
}

/** The kids of a JWK or a JWKS (`{"keys":[...]}`); nothing else is read. */
export function jwkKids(parsed: unknown): string[] {
  if (typeof parsed !== 'object' || parsed === null) return [];
  const keys = Array.isArray((parsed as { keys?: unknown }).keys) ? ((parsed as { keys: unknown[] }).keys) : [parsed];
  return keys.flatMap((k) => (typeof k === 'object' && k !== null && typeof (k as { kid?: unknown }).kid === 'string' ? [(k as { kid: string }).kid] : []));
}
