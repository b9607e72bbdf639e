// A strict Maskinporten simulator on 127.0.0.1: the JWT-bearer token endpoint (rules in maskinporten-grant.ts),
// authorization-server metadata and its own JWKS; access tokens are JWTs signed with the simulator's RSA key.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash, randomUUID, X509Certificate } from 'node:crypto';
import { SignJWT, calculateJwkThumbprint, exportJWK, type JSONWebKeySet, type JWK } from 'jose';
import { testSigningKeyPair } from '../helpers/key-pool.js';
import { FaultQueue } from './faults.js';
import { listen, randomHex, readBody, requestUrl, sendJson } from './http-util.js';
import {
  GrantRejection, ORG_AUTHORITY, checkTokenRequest, JWT_BEARER, SYSTEMUSER_TYPE, type AcceptedGrant, type SimClient,
} from './maskinporten-grant.js';

export { GrantRejection, type SimClient } from './maskinporten-grant.js';

export interface MaskinportenSimOptions {
  clients?: SimClient[];
  /** Access token lifetime (default 120 s, as upstream). */
  tokenLifetimeSeconds?: number;
  /** How far `iat` may be from the simulator's clock (default 10 s). */
  maxClockSkewSeconds?: number;
  /** Refuse grants without `jti` (default false: Digdir recommends it but does not require it). */
  requireJti?: boolean;
  /** Clock in ms (default Date.now). */
  now?: () => number;
  /** CA certificates (DER or PEM) whose business certificates are accepted in x5c grants. */
  trustedCas?: Array<Buffer | string>;
}

/** One token request as the simulator judged it; the raw assertion is never kept. */
export interface TokenRequestLog {
  ok: boolean;
  status: number;
  error?: string;
  /** Maskinporten error code, e.g. 'MP-110'. */
  code?: string;
  description?: string;
  /** Decoded grant header and claims (unverified when the request failed). */
  header?: object;
  claims?: object;
  /** The answer came from an injected fault. */
  fault?: boolean;
}

export interface MaskinportenSim {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** `${url}/`: the grant's `aud` and the tokens' `iss`. */
  readonly issuer: string;
  readonly tokenEndpoint: string;
  readonly jwksUri: string;
  addClient(client: SimClient): void;
  /** Trusts a CA (DER or PEM) for x5c grants. */
  addTrustedCa(cert: Buffer | string): void;
  readonly faults: FaultQueue;
  readonly requests: TokenRequestLog[];
  readonly tokensIssued: number;
  publicJwks(): JSONWebKeySet;
  /** Signs exactly these claims with the simulator's own key and kid (tests that need a genuine token with
   *  chosen claims, e.g. a far-off exp); nothing is added. */
  signToken(claims: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

export const ERROR_URI_BASE = 'https://docs.digdir.no/docs/Maskinporten/errors/';
const ALGS = ['RS256', 'RS384', 'RS512'];

export async function startMaskinportenSim(opts: MaskinportenSimOptions = {}): Promise<MaskinportenSim> {
  const now = opts.now ?? Date.now;
  const lifetime = opts.tokenLifetimeSeconds ?? 120;
  const skew = opts.maxClockSkewSeconds ?? 10;
  const { privateKey, publicKey } = await testSigningKeyPair('maskinporten');
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const jwks: JSONWebKeySet = { keys: [{ ...publicJwk, kid, alg: 'RS256', use: 'sig' }] };

  const clients = new Map<string, SimClient>();
  const trustedCas = (opts.trustedCas ?? []).map((c) => new X509Certificate(c));
  const seenJti = new Map<string, number>(); // key -> grant exp (s), pruned once the grant could not pass anyway
  const requests: TokenRequestLog[] = [];
  const faults = new FaultQueue({
    errorBody: (status) => ({
      contentType: 'application/json',
      body: JSON.stringify({ error: status === 429 ? 'slow_down' : 'server_error', error_description: `Simulated ${status} (trace id: ${randomHex(16)})` }),
    }),
  });
  let tokensIssued = 0;
  let issuer = '';

  const addClient = (c: SimClient): void => {
    validateClient(c);
    clients.set(c.clientId, { ...c, scopes: [...c.scopes], keys: c.keys.map((k) => ({ ...k })) });
  };
  (opts.clients ?? []).forEach(addClient);

  async function token(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    if (body === undefined) return reject(res, new GrantRejection(413, 'invalid_request', 'MP-011', 'Request body too large'));
    const nowMs = now();
    const t = Math.floor(nowMs / 1000);
    for (const [key, exp] of seenJti) if (exp + skew < t) seenJti.delete(key);
    let grant: AcceptedGrant;
    try {
      grant = await checkTokenRequest(req.headers['content-type'], body.toString('utf8'), {
        issuer, clients, now: t, nowMs, maxClockSkewSeconds: skew, requireJti: opts.requireJti ?? false, isJtiSeen: (k) => seenJti.has(k), trustedCas,
      });
    } catch (e) {
      if (e instanceof GrantRejection) return reject(res, e);
      throw e;
    }
    // Checked again after the awaits above: two concurrent requests may carry the same grant.
    if (grant.jtiKey !== undefined && seenJti.has(grant.jtiKey)) {
      return reject(res, new GrantRejection(400, 'invalid_grant', 'MP-012', 'Invalid assertion: jti has already been used', grant));
    }
    if (grant.jtiKey !== undefined) seenJti.set(grant.jtiKey, grant.exp);
    const accessToken = await issueToken(grant, t);
    tokensIssued++;
    requests.push({ ok: true, status: 200, header: grant.header, claims: grant.claims });
    sendJson(res, 200, { access_token: accessToken, token_type: 'Bearer', expires_in: lifetime, scope: grant.scope }, noStore);
  }

  function reject(res: ServerResponse, e: GrantRejection): void {
    requests.push({
      ok: false, status: e.status, error: e.error, code: e.code, description: e.description,
      ...(e.decoded && { header: e.decoded.header, claims: e.decoded.claims }),
    });
    sendJson(res, e.status, {
      error: e.error,
      error_description: `${e.description} (trace id: ${randomHex(16)})`,
      error_uri: `${ERROR_URI_BASE}${e.code}`,
    }, noStore);
  }

  async function issueToken(g: AcceptedGrant, iat: number): Promise<string> {
    const consumerOrg = g.consumerOrg ?? g.orgNo;
    const claims: Record<string, unknown> = {
      client_id: g.client.clientId,
      client_amr: g.header.x5c !== undefined ? 'virksomhetssertifikat' : 'private_key_jwt',
      consumer: { authority: ORG_AUTHORITY, ID: `0192:${consumerOrg}` },
      ...(g.consumerOrg && { supplier: { authority: ORG_AUTHORITY, ID: `0192:${g.orgNo}` } }),
      scope: g.scope,
      token_type: 'Bearer',
      ...(g.authorizationDetails && { authorization_details: g.authorizationDetails.map(withSystemUserId(g.client.clientId)) }),
    };
    const jwt = new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid })
      .setIssuer(issuer)
      .setIssuedAt(iat)
      .setExpirationTime(iat + lifetime)
      .setJti(randomUUID());
    // Without a requested resource Maskinporten currently sets aud "unspecified".
    jwt.setAudience(g.resource ? (g.resource.length === 1 ? g.resource[0]! : g.resource) : 'unspecified');
    return jwt.sign(privateKey);
  }

  const server = await listen(async (req, res) => {
    const { pathname } = requestUrl(req);
    const isToken = req.method === 'POST' && pathname === '/token';
    const outcome = await faults.apply(req, res);
    if (outcome !== 'continue') {
      if (isToken) requests.push({ ok: false, status: outcome === 'answered' ? res.statusCode : 0, fault: true });
      return;
    }
    if (isToken) return token(req, res);
    if (req.method === 'GET' && pathname === '/.well-known/oauth-authorization-server') return sendJson(res, 200, metadata());
    if (req.method === 'GET' && pathname === '/jwk') return sendJson(res, 200, jwks);
    sendJson(res, 404, { error: 'not_found' });
  });
  issuer = `${server.url}/`;

  const metadata = () => ({
    issuer,
    token_endpoint: `${issuer}token`,
    jwks_uri: `${issuer}jwk`,
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
    grant_types_supported: [JWT_BEARER],
    token_endpoint_auth_signing_alg_values_supported: ALGS,
    authorization_details_types_supported: [SYSTEMUSER_TYPE],
  });

  return {
    url: server.url,
    issuer,
    tokenEndpoint: `${issuer}token`,
    jwksUri: `${issuer}jwk`,
    addClient,
    addTrustedCa: (cert) => void trustedCas.push(new X509Certificate(cert)),
    faults,
    requests,
    get tokensIssued() {
      return tokensIssued;
    },
    publicJwks: () => structuredClone(jwks),
    signToken: (claims) => new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).sign(privateKey),
    close: async () => {
      faults.dispose();
      await server.close();
    },
  };
}

const noStore = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };

/** Echoes a system-user detail with the `systemuser_id` Maskinporten adds (a stable UUID-shaped id here). */
function withSystemUserId(clientId: string) {
  return (d: Record<string, unknown>): Record<string, unknown> => {
    const org = (d.systemuser_org as { ID: string }).ID;
    const h = createHash('sha256').update(`${clientId}|${org}`).digest('hex');
    const id = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
    return { ...d, systemuser_id: [id] };
  };
}

function validateClient(c: SimClient): void {
  if (!c.clientId) throw new TypeError('SimClient.clientId is required');
  if (c.orgNo !== undefined && !/^\d{9}$/.test(c.orgNo)) throw new TypeError('SimClient.orgNo must be 9 digits');
  if (!Array.isArray(c.scopes)) throw new TypeError('SimClient.scopes must be an array');
  for (const k of c.keys as Array<JWK & { d?: unknown }>) {
    if (!k.kid) throw new TypeError('every SimClient key needs a kid');
    if (k.kty !== 'RSA' || k.d !== undefined) throw new TypeError('SimClient keys must be public RSA JWKs');
  }
  for (const org of [...(c.systemUsers ?? []), ...(c.delegatedBy ?? [])]) {
    if (!/^\d{9}$/.test(org)) throw new TypeError('SimClient systemUsers / delegatedBy hold 9-digit org numbers');
  }
}
