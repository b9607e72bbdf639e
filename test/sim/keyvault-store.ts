// In-memory state of the Key Vault simulator: secrets with versions, soft delete, and the REST bundles
// (secret bundle, item, deleted bundle) exactly as Key Vault shapes them. No HTTP here.
import { randomHex } from './http-util.js';

export interface SecretAttributes {
  enabled: boolean;
  nbf?: number;
  exp?: number;
  /** Unix seconds. */
  created: number;
  updated: number;
}

export interface SecretVersionView {
  value: string;
  version: string;
  contentType?: string;
  tags?: Record<string, string>;
  attributes: SecretAttributes;
}

export interface SecretUpdate {
  contentType?: string;
  tags?: Record<string, string>;
  enabled?: boolean;
  /** Unix seconds; null removes it. */
  nbf?: number | null;
  exp?: number | null;
}

interface Secret {
  name: string;
  versions: SecretVersionView[];
  deletedDate?: number;
}

/** A Key Vault REST error: status plus `{"error":{"code","message"}}`. */
export class KvError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly innerCode?: string,
  ) {
    super(message);
  }

  body(): object {
    return { error: { code: this.code, message: this.message, ...(this.innerCode && { innererror: { code: this.innerCode } }) } };
  }
}

export const MAX_VALUE_BYTES = 25 * 1024;
const NAME = /^[a-zA-Z][0-9a-zA-Z-]{0,126}$/;
const RECOVERABLE_DAYS = 90;

export function checkName(name: string): void {
  if (!NAME.test(name)) {
    throw new KvError(400, 'BadParameter', `The request URI contains an invalid name: ${name.slice(0, 130)}`);
  }
}

export class SecretStore {
  readonly #secrets = new Map<string, Secret>();

  constructor(
    private readonly vaultUrl: () => string,
    private readonly nowSeconds: () => number,
  ) {}

  /** Adds a new version; throws 409 Conflict while the name is soft-deleted. */
  set(name: string, value: string, u: SecretUpdate = {}): SecretVersionView {
    checkName(name);
    const existing = this.#secrets.get(name.toLowerCase());
    if (existing?.deletedDate !== undefined) {
      throw new KvError(409, 'Conflict', `Secret ${name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.`);
    }
    if (Buffer.byteLength(value, 'utf8') > MAX_VALUE_BYTES) {
      throw new KvError(400, 'BadParameter', `The secret value exceeds the maximum size of ${MAX_VALUE_BYTES} bytes.`);
    }
    const t = this.nowSeconds();
    const version: SecretVersionView = { value, version: randomHex(16), attributes: { enabled: true, created: t, updated: t } };
    applyUpdate(version, u);
    version.attributes.updated = t;
    const secret = existing ?? { name, versions: [] };
    secret.versions.push(version);
    this.#secrets.set(name.toLowerCase(), secret);
    return version;
  }

  /** A live version (latest when `version` is empty), or 404 SecretNotFound. Disabled or expired versions are returned. */
  find(name: string, version = ''): { secret: Secret; v: SecretVersionView } {
    checkName(name);
    const secret = this.#secrets.get(name.toLowerCase());
    const v = secret && secret.deletedDate === undefined
      ? version === '' ? secret.versions.at(-1) : secret.versions.find((x) => x.version === version.toLowerCase())
      : undefined;
    if (!secret || !v) {
      throw new KvError(404, 'SecretNotFound', `A secret with (name/id) ${name}${version ? `/${version}` : ''} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`);
    }
    return { secret, v };
  }

  /** GET: 403 Forbidden for a disabled version (expiry is informational and does not block reads). */
  read(name: string, version = ''): object {
    const { secret, v } = this.find(name, version);
    if (!v.attributes.enabled) {
      throw new KvError(403, 'Forbidden', 'Operation get is not allowed on a disabled secret.', 'SecretDisabled');
    }
    return this.bundle(secret, v, true);
  }

  /** The full bundle (with value) of a version, whatever its state: the answer to a PUT. */
  created(name: string, version: string): object {
    const { secret, v } = this.find(name, version);
    return this.bundle(secret, v, true);
  }

  update(name: string, version: string, u: SecretUpdate): object {
    const { secret, v } = this.find(name, version);
    applyUpdate(v, u);
    v.attributes.updated = this.nowSeconds();
    return this.bundle(secret, v, false);
  }

  versions(name: string): SecretVersionView[] {
    checkName(name);
    const secret = this.#secrets.get(name.toLowerCase());
    return secret && secret.deletedDate === undefined ? [...secret.versions] : [];
  }

  versionItems(name: string): object[] {
    const secret = this.#secrets.get(name.toLowerCase());
    return this.versions(name).map((v) => this.item(secret!, v, true));
  }

  listItems(deleted: boolean): object[] {
    return [...this.#secrets.values()]
      .filter((s) => (s.deletedDate !== undefined) === deleted)
      .map((s) => (deleted ? this.deletedBundle(s, false) : this.item(s, s.versions.at(-1)!, false)));
  }

  delete(name: string): object {
    const { secret } = this.find(name);
    secret.deletedDate = this.nowSeconds();
    return this.deletedBundle(secret, true);
  }

  getDeleted(name: string): object {
    return this.deletedBundle(this.#deleted(name), true);
  }

  purge(name: string): void {
    this.#deleted(name);
    this.#secrets.delete(name.toLowerCase());
  }

  recover(name: string): object {
    const secret = this.#deleted(name);
    delete secret.deletedDate;
    return this.bundle(secret, secret.versions.at(-1)!, false);
  }

  #deleted(name: string): Secret {
    checkName(name);
    const secret = this.#secrets.get(name.toLowerCase());
    if (secret?.deletedDate === undefined) {
      throw new KvError(404, 'SecretNotFound', `Deleted Secret not found: ${name}`);
    }
    return secret;
  }

  bundle(secret: Secret, v: SecretVersionView, withValue: boolean): object {
    return {
      ...(withValue && { value: v.value }),
      ...this.item(secret, v, true),
    };
  }

  item(secret: Secret, v: SecretVersionView, withVersion: boolean): object {
    const base = `${this.vaultUrl()}/secrets/${secret.name}`;
    return {
      id: withVersion ? `${base}/${v.version}` : base,
      ...(v.contentType !== undefined && { contentType: v.contentType }),
      ...(v.tags !== undefined && { tags: { ...v.tags } }),
      attributes: { ...v.attributes, recoveryLevel: 'Recoverable+Purgeable', recoverableDays: RECOVERABLE_DAYS },
    };
  }

  deletedBundle(secret: Secret, full: boolean): object {
    const latest = secret.versions.at(-1)!;
    const deletedDate = secret.deletedDate!;
    return {
      recoveryId: `${this.vaultUrl()}/deletedsecrets/${secret.name}`,
      deletedDate,
      scheduledPurgeDate: deletedDate + RECOVERABLE_DAYS * 86_400,
      ...this.item(secret, latest, full),
    };
  }
}

function applyUpdate(v: SecretVersionView, u: SecretUpdate): void {
  if (u.contentType !== undefined) v.contentType = u.contentType;
  if (u.tags !== undefined) v.tags = { ...u.tags };
  if (u.enabled !== undefined) v.attributes.enabled = u.enabled;
  for (const k of ['nbf', 'exp'] as const) {
    const t = u[k];
    if (t === null) delete v.attributes[k];
    else if (t !== undefined) v.attributes[k] = t;
  }
}

/** Key Vault allows at most this many tags on a secret, key or certificate. */
const MAX_TAGS = 15;

/** The `tags` of a request body, checked as Key Vault does (secrets and keys alike). */
export function parseTags(tags: unknown, bad: (m: string) => KvError): Record<string, string> {
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) throw bad('tags must be an object of strings.');
  const entries = Object.entries(tags);
  if (entries.length > MAX_TAGS) throw bad(`At most ${MAX_TAGS} tags are allowed.`);
  for (const [k, v] of entries) {
    if (typeof v !== 'string' || k.length > 512 || v.length > 256) throw bad('tag names are at most 512 and values at most 256 characters.');
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

/** The `attributes` of a request body (enabled, nbf, exp), checked as Key Vault does; absent members stay absent. */
export function parseAttributes(a: unknown, bad: (m: string) => KvError): { enabled?: boolean; nbf?: number; exp?: number } {
  const out: { enabled?: boolean; nbf?: number; exp?: number } = {};
  if (a === undefined || a === null) return out;
  if (typeof a !== 'object' || Array.isArray(a)) throw bad('attributes must be an object.');
  const { enabled, nbf, exp } = a as Record<string, unknown>;
  if (enabled !== undefined && enabled !== null) {
    if (typeof enabled !== 'boolean') throw bad('attributes.enabled must be a boolean.');
    out.enabled = enabled;
  }
  for (const [k, t] of [['nbf', nbf], ['exp', exp]] as const) {
    if (t === undefined || t === null) continue;
    if (typeof t !== 'number' || !Number.isInteger(t) || t < 0) throw bad(`attributes.${k} must be Unix seconds.`);
    out[k] = t;
  }
  return out;
}
