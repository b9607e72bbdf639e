// The signer port: what a grant is signed with. A decoded key secret (decode.ts) signs in this process; a Key Vault
// key (vault-key.ts) or a certificate's key (certificate.ts) signs inside the vault and is a GrantSigner. The grant
// (maskinporten/grant.ts) only uses this port; the key sources implement it. Imports no other area.
// Area keys/: key decoding, the Key Vault key and certificate sources, key health, keygen, and this port. Uses
// config/ types, vault/ (clients, store port), telemetry/; never maskinporten/, verify/ or the broker.
import type { SigningKey } from './decode.js';

/** A key that signs somewhere else (a Key Vault key or a certificate's key): the grant's private key never
 *  reaches this process. The header carries `kid`, or `x5c` (leaf first, base64 DER) for a business certificate. */
export interface GrantSigner {
  readonly alg: 'RS256';
  readonly kid?: string;
  readonly x5c?: readonly string[];
  /** RSASSA-PKCS1-v1_5 SHA-256 signature of the JWS signing input. */
  sign(input: Buffer): Promise<Buffer>;
}

/** What the broker signs grants with: a decoded secret key, or a signer in a vault. */
export type GrantKey = SigningKey | GrantSigner;

export function isGrantSigner(key: GrantKey): key is GrantSigner {
  return typeof (key as Partial<GrantSigner>).sign === 'function';
}
