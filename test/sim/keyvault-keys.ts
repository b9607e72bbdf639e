// The keys and certificates part of the Key Vault simulator: RSA keys with versions (create, get, list versions,
// update, sign) and certificate reads (`cer` and the certificate's key), in the REST shapes the real
// @azure/keyvault-keys and @azure/keyvault-certificates clients use. A key's private part stays in here: no answer
// ever carries it (there is no export, backup or release route).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { constants, createHash, createPublicKey, privateEncrypt, X509Certificate, type KeyObject } from 'node:crypto';
import { testRsaKey } from '../helpers/key-pool.js';
import { randomHex, readBody, sendJson } from './http-util.js';
import { checkName, KvError, parseAttributes, parseTags } from './keyvault-store.js';

export interface KeyAttributesView {
  enabled: boolean;
  /** Unix seconds. */
  nbf?: number;
  exp?: number;
  created: number;
  updated: number;
}

/** What a test may see of a key version: never the private key. */
export interface KeyVersionView {
  version: string;
  kty: 'RSA' | 'RSA-HSM' | 'EC';
  keyOps: string[];
  tags?: Record<string, string>;
  attributes: KeyAttributesView;
  /** Public members only (RSA: kty, n, e; EC, for certificates: kty, crv, x, y). */
  publicJwk: { kty: string; n: string; e: string; crv?: string; x?: string; y?: string };
  /** Made for a certificate: its versions follow the certificate and cannot be updated on their own. */
  managed: boolean;
}

export interface SeedKeyOptions {
  bits?: number;
  kty?: 'RSA' | 'RSA-HSM';
  keyOps?: string[];
  tags?: Record<string, string>;
  enabled?: boolean;
  nbf?: number;
  exp?: number;
}

export interface SeedCertificateOptions {
  /** The certificate (DER) whose public key matches privateKey. */
  cer: Buffer;
  /** Kept inside the simulator, as the certificate's key. */
  privateKey: KeyObject;
  tags?: Record<string, string>;
  enabled?: boolean;
}

/** One keys or certificates operation as the simulator served it (status included), for tests to inspect. */
export interface KeyOperationLog {
  op: 'create' | 'get' | 'versions' | 'update' | 'sign' | 'get-certificate' | 'other';
  name: string;
  version?: string;
}

interface KeyVersion extends KeyVersionView {
  privateKey: KeyObject;
}

interface Certificate {
  name: string;
  versions: Array<{ version: string; cer: Buffer; tags?: Record<string, string>; attributes: KeyAttributesView }>;
}

const SIGN_ALGS: Record<string, { hash: string; bytes: number }> = {
  RS256: { hash: 'sha256', bytes: 32 },
  RS384: { hash: 'sha384', bytes: 48 },
  RS512: { hash: 'sha512', bytes: 64 },
};
const DEFAULT_OPS = ['sign', 'verify', 'encrypt', 'decrypt', 'wrapKey', 'unwrapKey'];
const MAX_PAGE = 25;

export class KeyVaultKeys {
  readonly #keys = new Map<string, { name: string; versions: KeyVersion[] }>();
  readonly #certificates = new Map<string, Certificate>();
  readonly operations: KeyOperationLog[] = [];

  constructor(
    private readonly vaultUrl: () => string,
    private readonly nowSeconds: () => number,
  ) {}

  /** Adds a key version (a new key, or a new version of one); returns the version. */
  createKey(name: string, o: SeedKeyOptions = {}): string {
    return this.#addVersion(name, testRsaKey('vault', o.bits ?? 2048).privateKey, o, false).version;
  }

  /** Imports a certificate with its key (as `az keyvault certificate import` does); returns the version. */
  importCertificate(name: string, o: SeedCertificateOptions): string {
    checkName(name);
    const cert = new X509Certificate(o.cer);
    const key = this.#addVersion(name, o.privateKey, { ...(o.tags && { tags: o.tags }), ...(o.enabled !== undefined && { enabled: o.enabled }) }, true);
    key.attributes.nbf = Math.floor(Date.parse(cert.validFrom) / 1000);
    key.attributes.exp = Math.floor(Date.parse(cert.validTo) / 1000);
    const entry = this.#certificates.get(name.toLowerCase()) ?? { name, versions: [] };
    entry.versions.push({ version: key.version, cer: Buffer.from(o.cer), ...(o.tags && { tags: { ...o.tags } }), attributes: { ...key.attributes } });
    this.#certificates.set(name.toLowerCase(), entry);
    return key.version;
  }

  /** All versions of a key, oldest first, without private material. */
  versions(name: string): KeyVersionView[] {
    return (this.#keys.get(name.toLowerCase())?.versions ?? []).map(publicView);
  }

  /** Changes a version's attributes directly (tests: disable a version, move its notBefore). */
  setAttributes(name: string, version: string, a: { enabled?: boolean; nbf?: number | null; exp?: number | null }): void {
    applyAttributes(this.#find(name, version).v, a);
  }

  /** Serves /keys/... and /certificates/... ; `parts` are the decoded path segments after the collection. */
  async route(req: IncomingMessage, res: ServerResponse, collection: string, parts: string[]): Promise<void> {
    const m = req.method ?? 'GET';
    const [name, second, third, ...rest] = parts;
    if (name === undefined || name === '' || rest.length > 0) throw notFound();
    if (collection === 'certificates') {
      if (m !== 'GET' || third !== undefined || second === 'versions' || second === 'policy' || second === 'pending') throw notFound();
      this.operations.push({ op: 'get-certificate', name, ...(second && { version: second }) });
      return sendJson(res, 200, this.#certificateBundle(name, second ?? ''));
    }
    if (second === 'create' && third === undefined) {
      if (m !== 'POST') throw methodNotAllowed();
      const body = parseCreate(await jsonBody(req));
      this.operations.push({ op: 'create', name });
      const key = this.#addVersion(name, testRsaKey('vault', body.bits).privateKey, body, false);
      return sendJson(res, 200, this.#bundle(name, key));
    }
    if (second === 'versions' && third === undefined) {
      if (m !== 'GET') throw methodNotAllowed();
      this.operations.push({ op: 'versions', name });
      const key = this.#keys.get(name.toLowerCase());
      if (!key) throw keyNotFound(name, '');
      return page(res, req, this.vaultUrl(), key.versions.map((v) => this.#item(key.name, v)));
    }
    if (third === 'sign') {
      if (m !== 'POST') throw methodNotAllowed();
      this.operations.push({ op: 'sign', name, version: second ?? '' });
      return sendJson(res, 200, this.#sign(name, second ?? '', await jsonBody(req)));
    }
    if (third !== undefined || ['release', 'backup', 'export', 'rotate', 'import'].includes(second ?? '')) {
      this.operations.push({ op: 'other', name });
      throw notFound();
    }
    if (m === 'GET') {
      this.operations.push({ op: 'get', name, version: second ?? '' });
      const { key, v } = this.#find(name, second ?? '');
      return sendJson(res, 200, this.#bundle(key.name, v));
    }
    if (m === 'PATCH') {
      this.operations.push({ op: 'update', name, version: second ?? '' });
      const { key, v } = this.#find(name, second ?? '');
      if (v.managed) throw new KvError(403, 'Forbidden', `Key ${name} is managed by a certificate: update the certificate instead.`);
      applyUpdate(v, await jsonBody(req), this.nowSeconds());
      return sendJson(res, 200, this.#bundle(key.name, v));
    }
    throw methodNotAllowed();
  }

  #addVersion(name: string, privateKey: KeyObject, o: SeedKeyOptions, managed: boolean): KeyVersion {
    checkName(name);
    const t = this.nowSeconds();
    const jwk = createPublicKey(privateKey).export({ format: 'jwk' }) as KeyVersionView['publicJwk'];
    const v: KeyVersion = {
      version: randomHex(16),
      kty: jwk.kty === 'EC' ? 'EC' : (o.kty ?? 'RSA'),
      keyOps: [...(o.keyOps ?? DEFAULT_OPS)],
      ...(o.tags && { tags: { ...o.tags } }),
      attributes: { enabled: o.enabled ?? true, created: t, updated: t, ...(o.nbf !== undefined && { nbf: o.nbf }), ...(o.exp !== undefined && { exp: o.exp }) },
      publicJwk: jwk.kty === 'EC' ? { ...jwk } : { kty: 'RSA', n: jwk.n, e: jwk.e },
      managed,
      privateKey,
    };
    const key = this.#keys.get(name.toLowerCase()) ?? { name, versions: [] };
    key.versions.push(v);
    this.#keys.set(name.toLowerCase(), key);
    return v;
  }

  #find(name: string, version: string): { key: { name: string; versions: KeyVersion[] }; v: KeyVersion } {
    checkName(name);
    const key = this.#keys.get(name.toLowerCase());
    const v = version === '' ? key?.versions.at(-1) : key?.versions.find((x) => x.version === version.toLowerCase());
    if (!key || !v) throw keyNotFound(name, version);
    return { key, v };
  }

  #sign(name: string, version: string, raw: unknown): object {
    const { key, v } = this.#find(name, version);
    const p = raw as { alg?: unknown; value?: unknown } | null;
    const alg = typeof p?.alg === 'string' ? SIGN_ALGS[p.alg] : undefined;
    if (!alg) throw new KvError(400, 'BadParameter', 'Invalid or unsupported signature algorithm (alg).');
    if (typeof p!.value !== 'string' || !/^[A-Za-z0-9_-]*$/.test(p!.value)) throw new KvError(400, 'BadParameter', 'value must be base64url.');
    const digest = Buffer.from(p!.value, 'base64url');
    if (digest.length !== alg.bytes) throw new KvError(400, 'BadParameter', `The digest must be ${alg.bytes} bytes for ${String(p!.alg)}.`);
    if (!v.attributes.enabled) throw new KvError(403, 'Forbidden', 'Operation sign is not allowed on a disabled key.', 'KeyDisabled');
    const now = this.nowSeconds();
    if (v.attributes.nbf !== undefined && now < v.attributes.nbf) throw new KvError(403, 'Forbidden', 'Operation sign is not allowed before the key is valid (nbf).', 'KeyNotYetValid');
    if (v.attributes.exp !== undefined && now >= v.attributes.exp) throw new KvError(403, 'Forbidden', 'Operation sign is not allowed on an expired key.', 'KeyExpired');
    if (!v.keyOps.includes('sign')) throw new KvError(403, 'Forbidden', 'Operation sign is not permitted by the key operations of this key.');
    // RSASSA-PKCS1-v1_5 over a digest computed elsewhere: DigestInfo(hash OID, digest), then the raw RSA operation.
    const signature = privateEncrypt({ key: v.privateKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([DIGEST_INFO[alg.hash]!, digest]));
    return { kid: `${this.vaultUrl()}/keys/${key.name}/${v.version}`, value: signature.toString('base64url') };
  }

  #bundle(name: string, v: KeyVersion): object {
    return {
      key: { ...v.publicJwk, kid: `${this.vaultUrl()}/keys/${name}/${v.version}`, kty: v.kty, key_ops: [...v.keyOps] },
      attributes: attributesOut(v.attributes),
      ...(v.tags && { tags: { ...v.tags } }),
      ...(v.managed && { managed: true }),
    };
  }

  #item(name: string, v: KeyVersion): object {
    return {
      kid: `${this.vaultUrl()}/keys/${name}/${v.version}`,
      attributes: attributesOut(v.attributes),
      ...(v.tags && { tags: { ...v.tags } }),
      ...(v.managed && { managed: true }),
    };
  }

  #certificateBundle(name: string, version: string): object {
    checkName(name);
    const cert = this.#certificates.get(name.toLowerCase());
    const v = version === '' ? cert?.versions.at(-1) : cert?.versions.find((x) => x.version === version.toLowerCase());
    if (!cert || !v) {
      throw new KvError(404, 'CertificateNotFound', `A certificate with (name/id) ${name}${version ? `/${version}` : ''} was not found in this key vault.`);
    }
    const base = this.vaultUrl();
    return {
      id: `${base}/certificates/${cert.name}/${v.version}`,
      kid: `${base}/keys/${cert.name}/${v.version}`,
      sid: `${base}/secrets/${cert.name}/${v.version}`,
      x5t: createHash('sha1').update(v.cer).digest('base64url'),
      cer: v.cer.toString('base64'),
      attributes: attributesOut(v.attributes),
      ...(v.tags && { tags: { ...v.tags } }),
    };
  }
}

/** DER DigestInfo prefixes (RFC 8017 §9.2 note 1). */
const DIGEST_INFO: Record<string, Buffer> = {
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
};

function publicView(v: KeyVersion): KeyVersionView {
  const { privateKey: _private, ...view } = v;
  return structuredClone(view);
}

function attributesOut(a: KeyAttributesView): object {
  return { ...a, recoveryLevel: 'Recoverable+Purgeable', recoverableDays: 90, exportable: false };
}

function keyNotFound(name: string, version: string): KvError {
  return new KvError(404, 'KeyNotFound', `A key with (name/id) ${name}${version ? `/${version}` : ''} was not found in this key vault.`);
}

function notFound(): KvError {
  return new KvError(404, 'NotFound', 'The requested resource was not found.');
}

function methodNotAllowed(): KvError {
  return new KvError(405, 'MethodNotAllowed', 'The requested method is not allowed for this resource.');
}

async function jsonBody(req: IncomingMessage): Promise<unknown> {
  const body = await readBody(req, 64 * 1024);
  if (body === undefined) throw new KvError(413, 'RequestTooLarge', 'The request body is too large.');
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new KvError(400, 'BadParameter', 'The request body is not valid JSON.');
  }
}

function parseCreate(raw: unknown): SeedKeyOptions & { bits: number } {
  const bad = (message: string) => new KvError(400, 'BadParameter', message);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('The request body must be a JSON object.');
  const p = raw as Record<string, unknown>;
  if (p.kty !== 'RSA' && p.kty !== 'RSA-HSM') throw bad('This simulator creates RSA and RSA-HSM keys only (kty).');
  const bits = p.key_size ?? 2048;
  if (bits !== 2048 && bits !== 3072 && bits !== 4096) throw bad('key_size must be 2048, 3072 or 4096.');
  if (p.key_ops !== undefined && (!Array.isArray(p.key_ops) || p.key_ops.some((o) => typeof o !== 'string'))) throw bad('key_ops must be an array of strings.');
  const o: SeedKeyOptions & { bits: number } = { bits, kty: p.kty, ...(Array.isArray(p.key_ops) && { keyOps: p.key_ops as string[] }) };
  const upd = parseUpdate(p);
  return { ...o, ...(upd.tags && { tags: upd.tags }), ...(upd.enabled !== undefined && { enabled: upd.enabled }),
    ...(typeof upd.nbf === 'number' && { nbf: upd.nbf }), ...(typeof upd.exp === 'number' && { exp: upd.exp }) };
}

function parseUpdate(p: Record<string, unknown>): { tags?: Record<string, string>; enabled?: boolean; nbf?: number | null; exp?: number | null } {
  const bad = (message: string) => new KvError(400, 'BadParameter', message);
  const out: { tags?: Record<string, string>; enabled?: boolean; nbf?: number | null; exp?: number | null } = {};
  if (p.tags !== undefined && p.tags !== null) out.tags = parseTags(p.tags, bad);
  return Object.assign(out, parseAttributes(p.attributes, bad));
}

function applyUpdate(v: KeyVersion, raw: unknown, now: number): void {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new KvError(400, 'BadParameter', 'The request body must be a JSON object.');
  const u = parseUpdate(raw as Record<string, unknown>);
  if (u.tags) v.tags = u.tags;
  applyAttributes(v, u);
  v.attributes.updated = now;
}

function applyAttributes(v: KeyVersion, a: { enabled?: boolean; nbf?: number | null; exp?: number | null }): void {
  if (a.enabled !== undefined) v.attributes.enabled = a.enabled;
  for (const k of ['nbf', 'exp'] as const) {
    const t = a[k];
    if (t === null) delete v.attributes[k];
    else if (t !== undefined) v.attributes[k] = t;
  }
}

/** Pages a list the way Key Vault does: `maxresults` (1-25) per page and a `nextLink` holding `$skiptoken`. */
function page(res: ServerResponse, req: IncomingMessage, vaultUrl: string, items: object[]): void {
  const u = new URL(req.url ?? '/', 'http://sim.invalid');
  const maxText = u.searchParams.get('maxresults');
  const max = maxText === null ? MAX_PAGE : Number(maxText);
  if (!Number.isInteger(max) || max < 1 || max > MAX_PAGE) throw new KvError(400, 'BadParameter', `maxresults must be an integer from 1 to ${MAX_PAGE}.`);
  const skip = Number(u.searchParams.get('$skiptoken') ?? '0');
  if (!Number.isInteger(skip) || skip < 0) throw new KvError(400, 'BadParameter', 'Invalid $skiptoken.');
  const apiVersion = u.searchParams.get('api-version') ?? '';
  const nextLink = skip + max < items.length
    ? `${vaultUrl}${u.pathname}?api-version=${encodeURIComponent(apiVersion)}&$skiptoken=${skip + max}&maxresults=${max}`
    : null;
  sendJson(res, 200, { value: items.slice(skip, skip + max), nextLink });
}
