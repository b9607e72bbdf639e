// The broker over HTTP: an Entra token from the consumer's credential, GET {url}/api/token/{profile}, cached until
// shortly before `expires_at`; 503/429 waited out (bounded) by `Retry-After`; problems become BrokerClientError.
import type { TokenCredential } from '@azure/identity';
import { authorizedFetch, type FetchFunction } from './authorized-fetch.js';
import { BrokerClientError, badOption } from './errors.js';
import { checkCredential, checkMargin, checkPositive, checkUrl, lazyCredential } from './options.js';
import { TokenCache, type AccessToken, type LoadedToken } from './token-cache.js';

export interface BrokerClientOptions {
  /** The broker's base URL, e.g. `https://<app>.azurewebsites.net`; the client calls `{url}/api/token/{profile}`. */
  readonly url: string;
  /** The broker's token profile; default `default`. */
  readonly profile?: string;
  /** The broker's app ID URI + `/.default`, e.g. `api://<broker app client id>/.default`. */
  readonly scope: string;
  /** Any `@azure/identity` TokenCredential; default `new DefaultAzureCredential()` (built on first use). */
  readonly credential?: TokenCredential;
  /** Renew when less than this is left; default 60. */
  readonly refreshMarginSeconds?: number;
  /** The function key (`x-functions-key`), when the broker's token function requires one. */
  readonly functionKey?: string;
  /** Longest `Retry-After` (seconds) the client waits out on a 503/429; a longer one fails at once. Default 30. */
  readonly maxRetryAfterSeconds?: number;
  /** Calls to the broker per getToken(), the first included, while it answers 503/429; default 3. */
  readonly maxAttempts?: number;
  /** Bound on each call to the broker; default 30000 (the broker itself may retry Maskinporten for up to 20 s). */
  readonly timeoutMs?: number;
  /** The fetch used for the broker and by `fetch()`; default the global fetch. */
  readonly fetch?: FetchFunction;
  /** Clock in ms since the epoch (tests); default Date.now. */
  readonly now?: () => number;
}

/** What both token sources return (createBrokerClient and createVaultTokenSource). */
export interface BrokerClient {
  /** A token with more than the margin left: from memory, or renewed once for all concurrent callers. */
  getToken(): Promise<AccessToken>;
  /** fetch() with `Authorization: Bearer <token>`; on a 401 it renews the token and sends the request once more. */
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>;
}

const PROFILE = /^[a-z0-9][a-z0-9_-]{0,39}$/;
const PROBLEM_CODE = /^[A-Z][A-Z0-9_]{0,63}$/;
const MAX_DETAIL = 1_000;

export function createBrokerClient(options: BrokerClientOptions): BrokerClient {
  const o = (options ?? {}) as Partial<BrokerClientOptions>;
  const { url } = checkUrl('url', o.url, 'https://<app>.azurewebsites.net');
  const profile = o.profile ?? 'default';
  if (typeof profile !== 'string' || !PROFILE.test(profile)) {
    throw badOption('profile', 'must be a profile name: lowercase letters, digits, "-" or "_" (default "default").');
  }
  if (typeof o.scope !== 'string' || o.scope.trim() === '') {
    throw badOption('scope', "is required: the broker's app ID URI + /.default, e.g. api://<client id>/.default.");
  }
  if (o.functionKey !== undefined && (typeof o.functionKey !== 'string' || o.functionKey === '')) {
    throw badOption('functionKey', 'must be a non-empty string when given.');
  }
  const scope = o.scope;
  const credential = lazyCredential(checkCredential(o.credential));
  const marginMs = checkMargin(o.refreshMarginSeconds) * 1000;
  const maxRetryAfter = checkPositive('maxRetryAfterSeconds', o.maxRetryAfterSeconds, 30, 3_600);
  const maxAttempts = Math.floor(checkPositive('maxAttempts', o.maxAttempts, 3, 10)) || 1;
  const timeoutMs = checkPositive('timeoutMs', o.timeoutMs, 30_000, 600_000);
  const doFetch: FetchFunction = o.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const now = o.now ?? Date.now;
  const tokenUrl = `${url}/api/token/${profile}`;

  async function entraToken(): Promise<string> {
    let token: string | undefined;
    try {
      token = (await (await credential()).getToken(scope))?.token;
    } catch (err) {
      throw new BrokerClientError('CREDENTIAL_FAILED', `The credential could not get an Entra token for scope "${scope}": check the consumer's identity and the scope (see the error's cause).`, { cause: err });
    }
    if (!token) throw new BrokerClientError('CREDENTIAL_FAILED', `The credential returned no Entra token for scope "${scope}".`);
    return token;
  }

  async function callOnce(): Promise<LoadedToken> {
    const headers: Record<string, string> = { authorization: `Bearer ${await entraToken()}`, accept: 'application/json' };
    if (o.functionKey !== undefined) headers['x-functions-key'] = o.functionKey;
    let res: Response;
    try {
      res = await doFetch(tokenUrl, { headers, signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      const what = (err as Error | undefined)?.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : 'network error';
      throw new BrokerClientError('BROKER_UNREACHABLE', `Could not reach the token broker at ${tokenUrl} (${what}): check "url" and network access.`, { cause: err });
    }
    if (res.status === 200) return tokenFrom(res, now());
    throw await problemError(res, tokenUrl);
  }

  const load = async (hasFallback: boolean): Promise<LoadedToken> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await callOnce();
      } catch (err) {
        const wait = retryWait(err, hasFallback, attempt, maxAttempts, maxRetryAfter);
        if (wait === undefined) throw err;
        await new Promise((r) => setTimeout(r, wait * 1000));
      }
    }
  };

  const cache = new TokenCache(load, marginMs, now);
  return {
    getToken: () => cache.get(),
    fetch: (input, init) => authorizedFetch(cache, doFetch, input, init),
  };
}

/** Seconds to wait before the next attempt, or undefined to give up (a token still valid is then served). */
function retryWait(err: unknown, hasFallback: boolean, attempt: number, maxAttempts: number, maxRetryAfter: number): number | undefined {
  if (!(err instanceof BrokerClientError) || (err.status !== 503 && err.status !== 429)) return undefined;
  if (hasFallback || attempt >= maxAttempts) return undefined;
  const wait = err.retryAfterSeconds ?? 1;
  return wait <= maxRetryAfter ? wait : undefined;
}

async function tokenFrom(res: Response, now: number): Promise<LoadedToken> {
  const bad = (what: string) => new BrokerClientError('BROKER_BAD_RESPONSE', `The token broker answered 200 with ${what}.`, { status: 200 });
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    throw bad('a body that is not JSON');
  }
  const b = (body ?? {}) as { access_token?: unknown; expires_at?: unknown; expires_in?: unknown; token_type?: unknown };
  if (typeof b.access_token !== 'string' || b.access_token === '') throw bad('no access_token');
  if (typeof b.token_type === 'string' && b.token_type.toLowerCase() !== 'bearer') throw bad(`token_type "${b.token_type.slice(0, 20)}"`);
  const at = typeof b.expires_at === 'string' ? Date.parse(b.expires_at) : NaN;
  const expiresAtMs = Number.isFinite(at) ? at : typeof b.expires_in === 'number' ? now + b.expires_in * 1000 : NaN;
  if (!Number.isFinite(expiresAtMs)) throw bad('neither expires_at nor expires_in');
  if (expiresAtMs <= now) throw bad('a token that has expired (check the clocks)');
  return { token: b.access_token, expiresAtMs };
}

/** A BrokerClientError from a non-200 answer: the problem document's code and detail when there is one. */
async function problemError(res: Response, tokenUrl: string): Promise<BrokerClientError> {
  let doc: { code?: unknown; detail?: unknown; title?: unknown; traceId?: unknown } = {};
  const text = await res.text().catch(() => '');
  if (/json/i.test(res.headers.get('content-type') ?? '')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === 'object') doc = parsed as typeof doc;
    } catch {
      // not a problem document: the status says what we know
    }
  }
  const status = res.status;
  const code = typeof doc.code === 'string' && PROBLEM_CODE.test(doc.code) ? doc.code : status >= 500 ? 'BROKER_UNAVAILABLE' : 'BROKER_REJECTED';
  const detail = typeof doc.detail === 'string' ? doc.detail.slice(0, MAX_DETAIL) : typeof doc.title === 'string' ? doc.title.slice(0, MAX_DETAIL) : undefined;
  const traceId = typeof doc.traceId === 'string' ? doc.traceId.slice(0, 100) : undefined;
  const retryAfterSeconds = parseRetryAfter(res.headers.get('retry-after'));
  const hint = status === 401 ? ' Check "scope" (the broker\'s app ID URI + /.default) and the broker\'s AUTH_* settings.' : '';
  return new BrokerClientError(
    code,
    `The token broker answered ${status} (${code}) for ${tokenUrl}${detail ? `: ${detail}` : '.'}${hint}`,
    { status, ...(detail !== undefined && { detail }), ...(traceId !== undefined && { traceId }), ...(retryAfterSeconds !== undefined && { retryAfterSeconds }) },
  );
}

/** `Retry-After` as seconds (a number of seconds or an HTTP date); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  if (!/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(value.trim())) return undefined; // IMF-fixdate
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, Math.ceil((at - now) / 1000)) : undefined;
}
