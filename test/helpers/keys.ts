// Test keys in every shape users bring (docs/protocol.md, Key formats), from the test run's key pool (key-pool.ts).
import type { KeyObject } from 'node:crypto';
import { testRsaKey } from './key-pool.js';

export interface KeyShapes {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly kid: string;
  readonly jwk: Record<string, unknown>;
  readonly publicJwk: Record<string, unknown>;
  readonly pkcs8: string;
  readonly pkcs1: string;
}

export function rsaKey(kid = 'org-TEST.2026', bits = 2048): KeyShapes {
  const { privateKey, publicKey } = testRsaKey('client', bits);
  return {
    privateKey,
    publicKey,
    kid,
    jwk: { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256' },
    publicJwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256' },
    pkcs8: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
    pkcs1: privateKey.export({ format: 'pem', type: 'pkcs1' }) as string,
  };
}

export const b64 = (text: string): string => Buffer.from(text).toString('base64');
export const json = (v: unknown): string => JSON.stringify(v);

/** The private members of an RSA JWK: none of these may ever appear in a log, error or response. */
export function privateMembers(jwk: Record<string, unknown>): string[] {
  return ['d', 'p', 'q', 'dp', 'dq', 'qi'].map((m) => String(jwk[m]));
}
