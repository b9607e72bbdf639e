// A strict Altinn Authentication simulator on 127.0.0.1: exchanges a Maskinporten access token (verified against
// the Maskinporten JWKS) for an Altinn JWT signed with its own RSA key (keeping Maskinporten's jti), and refreshes
// Altinn tokens. A refused token gets 401 with a problem body, as ASP.NET Core answers.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import {
  SignJWT, calculateJwkThumbprint, createLocalJWKSet, exportJWK, jwtVerify,
  type JSONWebKeySet, type JWTPayload, type JWTVerifyGetKey,
} from 'jose';
import { testSigningKeyPair } from '../helpers/key-pool.js';
import { FaultQueue } from './faults.js';
import { bearerToken, listen, randomHex, requestUrl, sendEmpty, sendJson, sendText } from './http-util.js';
import type { MaskinportenSim } from './maskinporten-sim.js';

export interface AltinnSimOptions {
  /** The Maskinporten simulator (its keys are read directly) or any issuer plus a JWKS URL fetched once over HTTP. */
  maskinporten: { issuer: string; jwksUri: string } | MaskinportenSim;
  /** Altinn token lifetime (default 1800 s, as upstream). */
  tokenLifetimeSeconds?: number;
  /** Service owners by org number, for `urn:altinn:org` (default Digdir 991825827 -> 'digdir'). */
  serviceOwners?: Record<string, string>;
  /** Clock in ms (default Date.now). */
  now?: () => number;
}

export interface AltinnSim {
  /** Base URL, no trailing slash: `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** `${url}/authentication/api/v1/openid/`, the Altinn tokens' `iss`. */
  readonly issuer: string;
  readonly faults: FaultQueue;
  /** Successful Maskinporten exchanges. */
  readonly exchanges: number;
  /** Successful refreshes. */
  readonly refreshes: number;
  readonly requests: Array<{ status: number; path: string }>;
  publicJwks(): JSONWebKeySet;
  /** Signs exactly these claims with the simulator's own key and kid (tests that need a genuine token with
   *  chosen claims, e.g. a far-off exp); nothing is added. */
  signToken(claims: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

const API = '/authentication/api/v1';
const ALGS = ['RS256', 'RS384', 'RS512'];
const SERVICE_OWNER_SCOPE = 'altinn:serviceowner';
const DIGDIR = '991825827';
/** Claims the exchange sets itself or drops rather than carrying over (it keeps Maskinporten's `jti`). */
const REISSUED = new Set(['iss', 'iat', 'exp', 'nbf', 'aud', 'client_amr', 'sid']);
/** A refresh re-issues the token: a new `jti` too. */
const REFRESH_REISSUED = new Set([...REISSUED, 'jti']);

export async function startAltinnSim(opts: AltinnSimOptions): Promise<AltinnSim> {
  const now = opts.now ?? Date.now;
  const lifetime = opts.tokenLifetimeSeconds ?? 1800;
  const serviceOwners = opts.serviceOwners ?? { [DIGDIR]: 'digdir' };
  const mp = opts.maskinporten;
  const { privateKey, publicKey } = await testSigningKeyPair('altinn');
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const jwks: JSONWebKeySet = { keys: [{ ...publicJwk, kid, alg: 'RS256', use: 'sig' }] };
  const ownKeys = createLocalJWKSet(jwks);
  const faults = new FaultQueue({
    malformedContentType: 'text/plain; charset=utf-8',
    errorBody: (status) => (status === 401 ? { contentType: PROBLEM_JSON, body: JSON.stringify(unauthorizedProblem()) } : { contentType: 'text/plain', body: '' }),
  });
  const requests: Array<{ status: number; path: string }> = [];
  let exchanges = 0;
  let refreshes = 0;
  let issuer = '';

  let mpKeys: JWTVerifyGetKey | undefined;
  async function maskinportenKeys(): Promise<JWTVerifyGetKey> {
    if ('publicJwks' in mp && typeof mp.publicJwks === 'function') return createLocalJWKSet(mp.publicJwks());
    if (!mpKeys) {
      const res = await fetch(mp.jwksUri, { signal: AbortSignal.timeout(5000) });
      if (!res.ok) throw new Error(`JWKS fetch failed: ${res.status}`);
      mpKeys = createLocalJWKSet((await res.json()) as JSONWebKeySet);
    }
    return mpKeys;
  }

  async function verify(token: string, keys: JWTVerifyGetKey, iss: string): Promise<JWTPayload | undefined> {
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer: iss, algorithms: ALGS, currentDate: new Date(now()), requiredClaims: ['exp'],
      });
      return payload;
    } catch {
      return undefined;
    }
  }

  async function sign(claims: JWTPayload): Promise<string> {
    const iat = Math.floor(now() / 1000);
    return new SignJWT({ ...claims, sid: randomUUID() })
      .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
      .setIssuer(issuer)
      .setIssuedAt(iat)
      .setExpirationTime(iat + lifetime)
      .setJti(typeof claims.jti === 'string' ? claims.jti : randomUUID())
      .sign(privateKey);
  }

  async function exchange(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<number> {
    if (req.headers['x-altinn-enterpriseuser-authentication'] !== undefined) return empty(res, 410);
    const token = bearerToken(req);
    let keys: JWTVerifyGetKey;
    try {
      keys = await maskinportenKeys();
    } catch {
      return empty(res, 503);
    }
    const mpClaims = token === undefined ? undefined : await verify(token, keys, mp.issuer);
    const consumer = mpClaims?.consumer as { ID?: unknown } | undefined;
    const consumerId = typeof consumer?.ID === 'string' ? /^0192:(\d{9})$/.exec(consumer.ID)?.[1] : undefined;
    if (!mpClaims || consumerId === undefined || typeof mpClaims.client_id !== 'string') return unauthorized(res);

    const carried = Object.fromEntries(Object.entries(mpClaims).filter(([k]) => !REISSUED.has(k)));
    const scopes = typeof mpClaims.scope === 'string' ? mpClaims.scope.split(' ') : [];
    const ownerCode = scopes.includes(SERVICE_OWNER_SCOPE) ? serviceOwners[consumerId] : undefined;
    const org = ownerCode && query.get('test') === 'true' && consumerId === DIGDIR ? 'ttd' : ownerCode;
    const altinnToken = await sign({
      ...carried,
      'urn:altinn:orgNumber': consumerId,
      'urn:altinn:authenticatemethod': 'maskinporten',
      'urn:altinn:authlevel': 3,
      ...(org && { 'urn:altinn:org': org }),
    });
    exchanges++;
    const wantsJson = (req.headers.accept ?? '').toLowerCase().includes('application/json');
    if (wantsJson) sendJson(res, 200, altinnToken);
    else sendText(res, 200, altinnToken);
    return 200;
  }

  async function refresh(req: IncomingMessage, res: ServerResponse): Promise<number> {
    const token = bearerToken(req);
    const claims = token === undefined ? undefined : await verify(token, ownKeys, issuer);
    if (!claims) return unauthorized(res);
    const carried = Object.fromEntries(Object.entries(claims).filter(([k]) => !REFRESH_REISSUED.has(k)));
    sendText(res, 200, await sign(carried));
    refreshes++;
    return 200;
  }

  async function route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<number> {
    const path = url.pathname;
    if (req.method === 'GET' && path === `${API}/exchange/maskinporten`) return exchange(req, res, url.searchParams);
    if (req.method === 'GET' && path.startsWith(`${API}/exchange/`) && !path.slice(API.length + 10).includes('/')) {
      sendJson(res, 400, { title: 'Unknown token provider', status: 400 }, { 'Content-Type': 'application/problem+json' });
      return 400;
    }
    if (req.method === 'GET' && path === `${API}/refresh`) return refresh(req, res);
    if (req.method === 'GET' && path === `${API}/openid/.well-known/openid-configuration`) {
      sendJson(res, 200, { issuer, jwks_uri: `${issuer}.well-known/openid-configuration/jwks` });
      return 200;
    }
    if (req.method === 'GET' && path === `${API}/openid/.well-known/openid-configuration/jwks`) {
      sendJson(res, 200, jwks);
      return 200;
    }
    return empty(res, 404);
  }

  const server = await listen(async (req, res) => {
    const url = requestUrl(req);
    const outcome = await faults.apply(req, res);
    const status = outcome === 'continue' ? await route(req, res, url) : outcome === 'answered' ? res.statusCode : 0;
    requests.push({ status, path: url.pathname });
  });
  issuer = `${server.url}${API}/openid/`;

  return {
    url: server.url,
    issuer,
    faults,
    get exchanges() {
      return exchanges;
    },
    get refreshes() {
      return refreshes;
    },
    requests,
    publicJwks: () => structuredClone(jwks),
    signToken: (claims) => new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).sign(privateKey),
    close: async () => {
      faults.dispose();
      await server.close();
    },
  };
}

const PROBLEM_JSON = 'application/problem+json; charset=utf-8';

/** ASP.NET Core's problem body for a refused bearer token, as Altinn's [ApiController]s answer. */
function unauthorizedProblem(): Record<string, unknown> {
  return { type: 'https://tools.ietf.org/html/rfc9110#section-15.5.2', title: 'Unauthorized', status: 401, traceId: `00-${randomHex(16)}-${randomHex(8)}-00` };
}

function unauthorized(res: ServerResponse): number {
  sendJson(res, 401, unauthorizedProblem(), { 'Content-Type': PROBLEM_JSON });
  return 401;
}

function empty(res: ServerResponse, status: number): number {
  sendEmpty(res, status);
  return status;
}
