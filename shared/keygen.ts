// Generates a Maskinporten client key pair: an RSA 2048 key with a kid in the style of Altinn's JWKS tool
// (`<name>-TEST.<suffix>` / `<name>-PROD.<suffix>`), the public JWK for the portal and the base64 private JWK for Key Vault.
import { generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import type { Environment } from './config.js';

export interface GeneratedKey {
  readonly kid: string;
  /** Paste this into the Maskinporten self-service portal. */
  readonly publicJwk: JsonWebKey;
  /** Keep this secret. */
  readonly privateJwk: JsonWebKey;
  /** base64 of the private JWK JSON: the value of the Key Vault secret. */
  readonly base64: string;
}

export function makeKid(name: string, environment: Environment, now = new Date()): string {
  const suffix = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${name}-${environment.toUpperCase()}.${suffix}`;
}

export function generateClientKey(name: string, environment: Environment, bits = 2048, now = new Date()): GeneratedKey {
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/.test(name)) {
    throw new Error('The key name must be 1-63 letters, digits, "-" or "_", starting with a letter or digit.');
  }
  const kid = makeKid(name, environment, now);
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  const meta = { kid, alg: 'RS256', use: 'sig' };
  const publicJwk = { ...publicKey.export({ format: 'jwk' }), ...meta };
  const privateJwk = { ...privateKey.export({ format: 'jwk' }), ...meta };
  return { kid, publicJwk, privateJwk, base64: Buffer.from(JSON.stringify(privateJwk)).toString('base64') };
}
