// A faithful Azure Key Vault secrets REST API on 127.0.0.1 (challenge auth, api-version, versions, soft delete,
// paging, Key Vault error JSON) that the real @azure/keyvault-secrets SecretClient works against.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FaultQueue } from './faults.js';
import { bearerToken, listen, readBody, requestUrl, sendEmpty, sendJson } from './http-util.js';
import { KvError, parseAttributes, parseTags, SecretStore, type SecretUpdate, type SecretVersionView } from './keyvault-store.js';
import { KeyVaultKeys } from './keyvault-keys.js';

export { KvError, MAX_VALUE_BYTES, type SecretAttributes, type SecretVersionView } from './keyvault-store.js';

export interface KeyVaultSimOptions {
  /** Clock in ms (default Date.now); secret timestamps are its Unix seconds. */
  now?: () => number;
  /** Tenant named in the 401 challenge. */
  tenantId?: string;
}

export interface SeedOptions {
  contentType?: string;
  tags?: Record<string, string>;
  enabled?: boolean;
  /** Unix seconds. */
  nbf?: number;
  exp?: number;
}

export interface KeyVaultSim {
  /** `http://127.0.0.1:PORT`, the vault URL to give SecretClient. */
  readonly url: string;
  readonly faults: FaultQueue;
  readonly requests: Array<{ method: string; path: string; status: number }>;
  /** Successful PUTs over HTTP (seeding with setSecret does not count). */
  readonly writes: number;
  /** Seeds a secret directly; returns the new version. */
  setSecret(name: string, value: string, opts?: SeedOptions): string;
  /** A live version (latest by default), disabled ones included; undefined when missing or deleted. */
  getSecret(name: string, version?: string): SecretVersionView | undefined;
  /** All versions, oldest first. */
  listVersions(name: string): SecretVersionView[];
  /** Disables the latest (or given) version: reads of it then answer 403. */
  disableSecret(name: string, version?: string): void;
  /** Keys and certificates (keyvault-keys.ts): seed, inspect, and the log of key operations served. */
  readonly keys: KeyVaultKeys;
  close(): Promise<void>;
}

const DEFAULT_TENANT = '72f988bf-0000-4000-8000-00000000a11c';
const API_VERSION = /^(\d+\.\d+(-preview(\.\d+)?)?|\d{4}-\d{2}-\d{2}(-preview)?)$/;
const MAX_PAGE = 25;

export async function startKeyVaultSim(opts: KeyVaultSimOptions = {}): Promise<KeyVaultSim> {
  const now = opts.now ?? Date.now;
  const challenge = `Bearer authorization="https://login.microsoftonline.com/${opts.tenantId ?? DEFAULT_TENANT}", resource="https://vault.azure.net"`;
  let url = '';
  const store = new SecretStore(() => url, () => Math.floor(now() / 1000));
  const keys = new KeyVaultKeys(() => url, () => Math.floor(now() / 1000));
  const requests: Array<{ method: string; path: string; status: number }> = [];
  const faults = new FaultQueue({
    errorBody: (status) => ({
      contentType: 'application/json; charset=utf-8',
      body: JSON.stringify(status === 429
        ? { error: { code: 'Throttled', message: 'Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached' } }
        : { error: { code: status >= 500 ? 'InternalServerError' : 'BadRequest', message: `Simulated ${status}` } }),
    }),
  });
  let writes = 0;

  async function route(req: IncomingMessage, res: ServerResponse, u: URL): Promise<void> {
    if (bearerToken(req) === undefined) {
      sendJson(res, 401, new KvError(401, 'Unauthorized', 'AKV10000: Request is missing a Bearer or PoP token.').body(), { 'WWW-Authenticate': challenge });
      return;
    }
    const apiVersion = u.searchParams.get('api-version');
    if (!apiVersion) throw new KvError(400, 'BadParameter', "The 'api-version' query parameter is missing.");
    if (!API_VERSION.test(apiVersion)) throw new KvError(400, 'BadParameter', `The specified version (${apiVersion}) is not recognized.`);
    const [, collection, rawName, rawVersion, extra] = u.pathname.split('/');
    if (collection === 'keys' || collection === 'certificates') {
      return keys.route(req, res, collection, u.pathname.split('/').slice(2).map(decodeURIComponent));
    }
    const name = rawName === undefined ? undefined : decodeURIComponent(rawName);
    const version = rawVersion === undefined ? undefined : decodeURIComponent(rawVersion);
    const m = req.method ?? 'GET';
    if (extra !== undefined) throw notFound();

    if (collection === 'secrets') {
      if (name === undefined || name === '') {
        if (m !== 'GET') throw methodNotAllowed();
        return page(res, u, url, apiVersion, store.listItems(false));
      }
      if (version === 'versions') {
        if (m !== 'GET') throw methodNotAllowed();
        return page(res, u, url, apiVersion, store.versionItems(name));
      }
      if (version === undefined && m === 'PUT') {
        const params = parseParams(await jsonBody(req), true);
        const v = store.set(name, params.value!, params.update);
        writes++;
        return sendJson(res, 200, store.created(name, v.version));
      }
      if (version === undefined && m === 'DELETE') return sendJson(res, 200, store.delete(name));
      if (m === 'GET') return sendJson(res, 200, store.read(name, version ?? ''));
      if (m === 'PATCH') {
        const params = parseParams(await jsonBody(req), false);
        return sendJson(res, 200, store.update(name, version ?? '', params.update));
      }
      throw methodNotAllowed();
    }
    if (collection === 'deletedsecrets') {
      if (name === undefined || name === '') {
        if (m !== 'GET') throw methodNotAllowed();
        return page(res, u, url, apiVersion, store.listItems(true));
      }
      if (version === 'recover' && m === 'POST') return sendJson(res, 200, store.recover(name));
      if (version === undefined && m === 'GET') return sendJson(res, 200, store.getDeleted(name));
      if (version === undefined && m === 'DELETE') {
        store.purge(name);
        return sendEmpty(res, 204);
      }
      throw version === undefined ? methodNotAllowed() : notFound();
    }
    throw notFound();
  }

  const server = await listen(async (req, res) => {
    const u = requestUrl(req);
    const outcome = await faults.apply(req, res);
    if (outcome === 'continue') {
      try {
        await route(req, res, u);
      } catch (e) {
        if (!(e instanceof KvError)) throw e;
        sendJson(res, e.status, e.body());
      }
    }
    requests.push({ method: req.method ?? '', path: u.pathname, status: outcome === 'dropped' ? 0 : res.statusCode });
  });
  url = server.url;

  const view = (v: SecretVersionView): SecretVersionView => structuredClone(v);
  return {
    url,
    faults,
    requests,
    get writes() {
      return writes;
    },
    setSecret: (name, value, o = {}) => {
      const { nbf, exp, ...rest } = o;
      return store.set(name, value, { ...rest, ...(nbf !== undefined && { nbf }), ...(exp !== undefined && { exp }) }).version;
    },
    getSecret: (name, version) => {
      try {
        return view(store.find(name, version ?? '').v);
      } catch (e) {
        if (e instanceof KvError) return undefined;
        throw e;
      }
    },
    listVersions: (name) => store.versions(name).map(view),
    disableSecret: (name, version) => {
      store.update(name, version ?? '', { enabled: false });
    },
    keys,
    close: async () => {
      faults.dispose();
      await server.close();
    },
  };
}

function methodNotAllowed(): KvError {
  return new KvError(405, 'MethodNotAllowed', 'The requested method is not allowed for this resource.');
}

function notFound(): KvError {
  return new KvError(404, 'NotFound', 'The requested resource was not found.');
}

/** Pages a list the way Key Vault does: `maxresults` (1-25) per page and a `nextLink` holding `$skiptoken`. */
function page(res: ServerResponse, u: URL, vaultUrl: string, apiVersion: string, items: object[]): void {
  const maxText = u.searchParams.get('maxresults');
  const max = maxText === null ? MAX_PAGE : Number(maxText);
  if (!Number.isInteger(max) || max < 1 || max > MAX_PAGE) {
    throw new KvError(400, 'BadParameter', `maxresults must be an integer from 1 to ${MAX_PAGE}.`);
  }
  const skip = Number(u.searchParams.get('$skiptoken') ?? '0');
  if (!Number.isInteger(skip) || skip < 0) throw new KvError(400, 'BadParameter', 'Invalid $skiptoken.');
  const more = skip + max < items.length;
  const nextLink = more
    ? `${vaultUrl}${u.pathname}?api-version=${encodeURIComponent(apiVersion)}&$skiptoken=${skip + max}&maxresults=${max}`
    : null;
  sendJson(res, 200, { value: items.slice(skip, skip + max), nextLink });
}

async function jsonBody(req: IncomingMessage): Promise<unknown> {
  const body = await readBody(req, 256 * 1024);
  if (body === undefined) throw new KvError(413, 'RequestTooLarge', 'The request body is too large.');
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new KvError(400, 'BadParameter', 'The request body is not valid JSON.');
  }
}

function parseParams(raw: unknown, requireValue: boolean): { value?: string; update: SecretUpdate } {
  const bad = (message: string) => new KvError(400, 'BadParameter', message);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('The request body must be a JSON object.');
  const p = raw as Record<string, unknown>;
  if (requireValue && typeof p.value !== 'string') throw bad('Secret value is required and must be a string.');
  const update: SecretUpdate = {};
  if (p.contentType !== undefined && p.contentType !== null) {
    if (typeof p.contentType !== 'string' || p.contentType.length > 255) throw bad('contentType must be a string of at most 255 characters.');
    update.contentType = p.contentType;
  }
  if (p.tags !== undefined && p.tags !== null) update.tags = parseTags(p.tags, bad);
  Object.assign(update, parseAttributes(p.attributes, bad));
  return { ...(requireValue && { value: p.value as string }), update };
}

