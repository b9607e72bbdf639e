// Decodes the Maskinporten client's private key from its Key Vault secret value (base64 or raw; JWK, JWKS, PEM)
// into a private KeyObject, self-tested once. Errors never carry key material: no parser message or cause is passed on.
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { KeyError } from '../errors.js';
import { registerSecret } from '../logging.js';

export type SigningAlg = 'RS256' | 'RS384' | 'RS512';

export interface SigningKey {
  /** Held in memory only; nothing in the broker exports it. */
  readonly key: KeyObject;
  readonly kid: string;
  readonly alg: SigningAlg;
  readonly bits: number;
  /** Safe, human-readable notes (e.g. a short key); never key material. */
  readonly warnings: readonly string[];
}

export interface DecodeOptions {
  /** MASKINPORTEN_KID (or a profile's): overrides the key's own kid and picks the key from a JWKS. */
  readonly kid?: string;
  /** The setting that names the secret, for messages. */
  readonly setting: string;
  /** The secret's name, for messages. */
  readonly secretName: string;
}

/** Digdir's minimum for Maskinporten keys: smaller keys are refused, not warned about. */
const MIN_BITS = 2048;
const ALGS: readonly string[] = ['RS256', 'RS384', 'RS512'];

interface Jwk {
  kty?: unknown;
  kid?: unknown;
  alg?: unknown;
  d?: unknown;
  [member: string]: unknown;
}

/** Turns the secret value into the key text: accepts base64 (standard or URL-safe, wrapped or not) or the text itself. */
export function keyText(value: string, o: DecodeOptions): string {
  const trimmed = value.trim();
  if (trimmed === '') {
    throw new KeyError('KEY_EMPTY', `The secret "${o.secretName}" (${o.setting}) is empty: store the base64-encoded private key in it.`);
  }
  if (looksLikeKeyText(trimmed)) return trimmed;
  const compact = trimmed.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(compact)) {
    throw new KeyError(
      'KEY_NOT_BASE64',
      `The secret "${o.secretName}" (${o.setting}) is neither base64 nor a JWK/PEM key: store base64 of the key file, e.g. "base64 -w0 key.json".`,
    );
  }
  const text = Buffer.from(compact, 'base64').toString('utf8').trim();
  if (!looksLikeKeyText(text)) {
    throw new KeyError(
      'KEY_UNPARSABLE',
      `The secret "${o.secretName}" (${o.setting}) decodes from base64 but is not a JWK, JWKS or PEM private key: encode the key file itself, once.`,
    );
  }
  return text;
}

function looksLikeKeyText(s: string): boolean {
  return s.startsWith('{') || s.startsWith('[') || s.startsWith('-----BEGIN');
}

/** Decodes and imports the key once (async for callers' sake: key sources may become async). */
export async function decodeKey(value: string, o: DecodeOptions): Promise<SigningKey> {
  registerSecret(value, 'key');
  const text = keyText(value, o);
  registerSecret(text, 'key');
  const { keyObject, kid: ownKid, alg } = text.startsWith('-----BEGIN') ? fromPem(text, o) : fromJson(text, o);
  const kid = o.kid ?? ownKid;
  if (kid === undefined) {
    throw new KeyError(
      'KEY_KID_MISSING',
      `The key in "${o.secretName}" carries no kid: set MASKINPORTEN_KID to the key id shown in the Maskinporten self-service portal.`,
    );
  }
  const bits = keyObject.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_BITS) {
    throw new KeyError(
      'KEY_TOO_SMALL',
      `The key in "${o.secretName}" is RSA ${bits} bits; Maskinporten requires at least ${MIN_BITS}: generate an RSA ${MIN_BITS} key (npm run keygen) and register it.`,
    );
  }
  registerPrivateMembers(keyObject);
  const warnings: string[] = [];
  if (o.kid !== undefined && ownKid !== undefined && o.kid !== ownKid) {
    warnings.push(`MASKINPORTEN_KID "${o.kid}" differs from the key's own kid "${ownKid}"; the setting wins.`);
  }
  assertConsistent(keyObject, o);
  return Object.freeze({ key: keyObject, kid, alg, bits, warnings: Object.freeze(warnings) });
}

/** The logger redacts these exact values wherever they appear (inside escaped JSON, too). */
function registerPrivateMembers(keyObject: KeyObject): void {
  const jwk = keyObject.export({ format: 'jwk' }) as Record<string, unknown>;
  for (const m of ['d', 'p', 'q', 'dp', 'dq', 'qi']) if (typeof jwk[m] === 'string') registerSecret(jwk[m], 'key');
}

/** A key whose members do not belong together would only fail later at Maskinporten (MP-124): test it now. */
function assertConsistent(keyObject: KeyObject, o: DecodeOptions): void {
  const probe = Buffer.from('maskinporten-broker key self-test');
  let ok = false;
  try {
    ok = verify('sha256', probe, createPublicKey(keyObject), sign('sha256', probe, keyObject));
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new KeyError('KEY_UNPARSABLE', `The key in "${o.secretName}" is inconsistent (its parts do not belong together): export the private key again.`);
  }
}

function fromJson(text: string, o: DecodeOptions): { keyObject: KeyObject; kid?: string; alg: SigningAlg } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new KeyError('KEY_UNPARSABLE', `The secret "${o.secretName}" (${o.setting}) holds text that is not valid JSON: store the JWK exactly as exported.`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new KeyError('KEY_UNPARSABLE', `The secret "${o.secretName}" (${o.setting}) holds JSON that is not a JWK or JWKS object.`);
  }
  const jwk = 'keys' in parsed ? pickFromJwks((parsed as { keys: unknown }).keys, o) : (parsed as Jwk);
  return fromJwk(jwk, o);
}

function pickFromJwks(keys: unknown, o: DecodeOptions): Jwk {
  if (!Array.isArray(keys) || keys.length === 0 || !keys.every((k) => typeof k === 'object' && k !== null)) {
    throw new KeyError('KEY_UNPARSABLE', `The JWKS in "${o.secretName}" has no keys: its "keys" member must be a non-empty array of JWKs.`);
  }
  const jwks = keys as Jwk[];
  if (o.kid === undefined) return jwks[jwks.length - 1]!;
  const match = jwks.find((k) => k.kid === o.kid);
  if (!match) {
    throw new KeyError(
      'KEY_KID_NOT_IN_JWKS',
      `The JWKS in "${o.secretName}" has no key with kid "${o.kid}" (MASKINPORTEN_KID): correct the kid or store the matching key set. Kids present: ${jwks.map((k) => JSON.stringify(String(k.kid ?? '(none)'))).join(', ')}.`,
    );
  }
  return match;
}

function fromJwk(jwk: Jwk, o: DecodeOptions): { keyObject: KeyObject; kid?: string; alg: SigningAlg } {
  if (jwk.kty !== 'RSA') {
    throw new KeyError('KEY_NOT_RSA', `The key in "${o.secretName}" has kty ${JSON.stringify(String(jwk.kty ?? '(none)'))}; Maskinporten needs an RSA key (RS256): generate an RSA 2048 key.`);
  }
  if (jwk.d === undefined) {
    throw new KeyError('KEY_PUBLIC_ONLY', `The key in "${o.secretName}" is a public key: store the PRIVATE key (the JWK with "d", "p", "q" ...) in Key Vault; upload only the public key to the portal.`);
  }
  if (jwk.alg !== undefined && (typeof jwk.alg !== 'string' || !ALGS.includes(jwk.alg))) {
    throw new KeyError('KEY_ALG_UNSUPPORTED', `The key in "${o.secretName}" says alg ${typeof jwk.alg === 'string' ? JSON.stringify(jwk.alg) : `of type ${Array.isArray(jwk.alg) ? 'array' : typeof jwk.alg}`}; Maskinporten accepts "RS256", "RS384" or "RS512" (a string).`);
  }
  if (jwk.use !== undefined && jwk.use !== 'sig') {
    throw new KeyError('KEY_USE_NOT_SIG', `The key in "${o.secretName}" is marked use ${JSON.stringify(String(jwk.use))}: a grant must be signed with a signing key (use "sig"). Generate a signing key (npm run keygen) and register it.`);
  }
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('sign'))) {
    throw new KeyError('KEY_USE_NOT_SIG', `The key in "${o.secretName}" has key_ops without "sign": a grant must be signed with a signing key. Generate a signing key (npm run keygen) and register it.`);
  }
  let keyObject: KeyObject;
  try {
    keyObject = createPrivateKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' });
  } catch {
    throw new KeyError('KEY_UNPARSABLE', `The JWK in "${o.secretName}" is incomplete or corrupt: export the private key again.`);
  }
  const kid = typeof jwk.kid === 'string' && jwk.kid !== '' ? jwk.kid : undefined;
  return { keyObject, ...(kid !== undefined && { kid }), alg: (jwk.alg as SigningAlg | undefined) ?? 'RS256' };
}

function fromPem(text: string, o: DecodeOptions): { keyObject: KeyObject; kid?: string; alg: SigningAlg } {
  const label = /^-----BEGIN ([A-Z0-9 ]+)-----/.exec(text)?.[1] ?? '';
  if (/PUBLIC KEY|CERTIFICATE/.test(label)) {
    throw new KeyError('KEY_PUBLIC_ONLY', `The secret "${o.secretName}" holds a ${label}: store the PRIVATE key (BEGIN PRIVATE KEY) in Key Vault; upload only the public key to the portal.`);
  }
  if (label === 'ENCRYPTED PRIVATE KEY' || /Proc-Type: 4,ENCRYPTED/.test(text)) {
    throw new KeyError('KEY_UNPARSABLE', `The key in "${o.secretName}" is password-protected: store it unencrypted (Key Vault protects it), e.g. "openssl pkey -in key.pem -out plain.pem".`);
  }
  let keyObject: KeyObject;
  try {
    keyObject = createPrivateKey({ key: text, format: 'pem' });
  } catch {
    throw new KeyError('KEY_UNPARSABLE', `The PEM in "${o.secretName}" is corrupt or not a private key: store a PKCS#8 ("BEGIN PRIVATE KEY") or PKCS#1 ("BEGIN RSA PRIVATE KEY") key.`);
  }
  if (keyObject.asymmetricKeyType !== 'rsa') {
    throw new KeyError('KEY_NOT_RSA', `The key in "${o.secretName}" is ${keyObject.asymmetricKeyType ?? 'not RSA'}; Maskinporten needs an RSA key (RS256): generate an RSA 2048 key.`);
  }
  return { keyObject, alg: 'RS256' };
}
