// The Maskinporten simulator's judge of a token request: every rule of docs/protocol.md §1-2, in the order a
// server would check them (form, JWS structure, client and key, signature, claims), failing with the documented error.
import type { KeyObject, X509Certificate } from 'node:crypto';
import { compactVerify, type JWK } from 'jose';
import { certificateKey } from './maskinporten-x5c.js';

export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const SYSTEMUSER_TYPE = 'urn:altinn:systemuser';
export const ORG_AUTHORITY = 'iso6523-actorid-upis';
const ALLOWED_ALGS = ['RS256', 'RS384', 'RS512'];
/** Documented grant claims (`pid`, `iss_onbehalfof` too) plus the registered `sub` / `nbf` tolerated in practice. */
const ALLOWED_CLAIMS = new Set([
  'aud', 'iss', 'iat', 'exp', 'jti', 'scope', 'resource', 'consumer_org', 'authorization_details', 'pid', 'iss_onbehalfof',
  'sub', 'nbf',
]);
const ALLOWED_DETAIL_FIELDS = new Set(['type', 'systemuser_org', 'externalRef']);
export const MAX_GRANT_LIFETIME_SECONDS = 120;

export interface SimClient {
  clientId: string;
  /** The client's own organisation number, 9 digits (default '999888777'). */
  orgNo?: string;
  /** Scopes registered on the client. */
  scopes: string[];
  /** Registered public JWKs, each with a `kid`. */
  keys: JWK[];
  /** Org numbers (9 digits) that have a system user for this client. */
  systemUsers?: string[];
  /** Orgs that delegated to this client, checked for `consumer_org` (403 MP-251). Unset: any consumer is accepted. */
  delegatedBy?: string[];
  /** Registered scopes the client has lost access to (403 forbidden MP-250). */
  deniedScopes?: string[];
  /** Expiry per kid in ms since the epoch (keys live a year upstream); past it the key gives MP-121. */
  keyExpiresAt?: Record<string, number>;
}

export interface GrantContext {
  issuer: string;
  clients: ReadonlyMap<string, SimClient>;
  /** Now, in Unix seconds. */
  now: number;
  nowMs: number;
  maxClockSkewSeconds: number;
  /** Refuse a grant without `jti` (Digdir only recommends it; default false). */
  requireJti?: boolean;
  /** CAs whose business certificates are accepted in x5c grants (maskinporten-x5c.ts). */
  trustedCas?: readonly X509Certificate[];
  /** `${iss}\0${jti}` of accepted grants. */
  isJtiSeen(key: string): boolean;
}

export interface AcceptedGrant {
  client: SimClient;
  orgNo: string;
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  scope: string;
  resource?: string[];
  consumerOrg?: string;
  authorizationDetails?: Array<Record<string, unknown>>;
  /** Unset for a grant without `jti`: nothing to check a replay against. */
  jtiKey?: string;
  exp: number;
}

/** A refused token request: HTTP status, OAuth `error`, Maskinporten code and a description. */
export class GrantRejection extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly code: string,
    readonly description: string,
    /** Decoded (unverified) grant, for the request log; never the raw assertion. */
    readonly decoded?: { header: Record<string, unknown>; claims: Record<string, unknown> },
  ) {
    super(description);
  }
}

const invalidRequest = (d: string) => new GrantRejection(400, 'invalid_request', 'MP-011', d);
const invalidGrant = (code: string, d: string) => new GrantRejection(400, 'invalid_grant', code, d);

/** Checks a token request; resolves with the accepted grant or rejects with a GrantRejection. */
export async function checkTokenRequest(contentType: string | undefined, body: string, ctx: GrantContext): Promise<AcceptedGrant> {
  const mediaType = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType !== 'application/x-www-form-urlencoded') {
    throw invalidRequest('Content-Type must be application/x-www-form-urlencoded');
  }
  const form = new URLSearchParams(body);
  for (const name of ['grant_type', 'assertion']) {
    if (form.getAll(name).length > 1) throw invalidRequest(`Parameter ${name} included more than once`);
  }
  const grantType = form.get('grant_type');
  if (grantType === null) throw invalidRequest('Missing grant_type');
  if (grantType !== JWT_BEARER) {
    throw new GrantRejection(400, 'unsupported_grant_type', 'MP-011', `Unsupported grant_type, use ${JWT_BEARER}`);
  }
  const assertion = form.get('assertion');
  if (!assertion) throw invalidRequest('Missing assertion');
  const decoded = decodeCompactJws(assertion);
  try {
    return await checkGrant(assertion, decoded.header, decoded.claims, ctx);
  } catch (e) {
    if (e instanceof GrantRejection && !e.decoded) {
      throw new GrantRejection(e.status, e.error, e.code, e.description, decoded);
    }
    throw e;
  }
}

function decodeCompactJws(assertion: string): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const parts = assertion.split('.');
  if (parts.length !== 3 || parts.some((p, i) => !(i === 2 ? /^[A-Za-z0-9_-]*$/ : /^[A-Za-z0-9_-]+$/).test(p))) {
    throw invalidRequest('Invalid assertion: not a compact JWS (three base64url parts)');
  }
  const header = parseJsonObject(parts[0]!);
  const claims = parseJsonObject(parts[1]!);
  if (!header || !claims) throw invalidRequest('Invalid assertion: header and payload must be JSON objects');
  return { header, claims };
}

function parseJsonObject(part: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return isObject(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

async function checkGrant(
  assertion: string,
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  ctx: GrantContext,
): Promise<AcceptedGrant> {
  const alg = header.alg;
  if (typeof alg !== 'string' || !ALLOWED_ALGS.includes(alg)) {
    throw invalidRequest(`Invalid assertion: alg must be one of ${ALLOWED_ALGS.join(', ')}`);
  }
  if (header.typ !== undefined && header.typ !== 'JWT') throw invalidRequest('Invalid assertion: typ must be JWT');
  if (header.kid !== undefined && header.x5c !== undefined) {
    throw invalidRequest('Invalid assertion: use exactly one of kid and x5c');
  }
  if (header.x5c !== undefined && !Array.isArray(header.x5c)) {
    throw invalidGrant('MP-123', 'Invalid assertion: x5c must be a JSON array of base64 DER certificates');
  }
  const unknown = Object.keys(claims).filter((c) => !ALLOWED_CLAIMS.has(c));
  if (unknown.length > 0) throw invalidRequest(`Invalid assertion: claims not allowed: ${unknown.join(', ')}`);

  const client = typeof claims.iss === 'string' ? ctx.clients.get(claims.iss) : undefined;
  if (!client) throw invalidGrant('MP-100', 'Invalid assertion: unknown client (iss)');
  const key = header.x5c !== undefined && (ctx.trustedCas?.length ?? 0) > 0 ? certificateKey(header.x5c, client, ctx.trustedCas ?? [], ctx.nowMs) : findKey(client, header, ctx.nowMs);
  try {
    await compactVerify(assertion, key, { algorithms: [alg] });
  } catch {
    throw invalidGrant('MP-124', 'Invalid assertion: signature could not be verified with the registered key');
  }

  if (claims.aud !== ctx.issuer) throw invalidGrant('MP-110', `Invalid assertion: aud must be the issuer ${ctx.issuer}`);
  const exp = checkTimes(claims, ctx);
  if (claims.jti === undefined && ctx.requireJti) throw invalidRequest('Invalid assertion: jti missing');
  if (claims.jti !== undefined && (typeof claims.jti !== 'string' || claims.jti === '')) throw invalidRequest('Invalid assertion: jti must be a non-empty string');
  const jtiKey = typeof claims.jti === 'string' ? `${client.clientId}\0${claims.jti}` : undefined;
  if (jtiKey !== undefined && ctx.isJtiSeen(jtiKey)) throw invalidGrant('MP-012', 'Invalid assertion: jti has already been used');
  for (const c of ['sub', 'pid', 'iss_onbehalfof']) {
    if (claims[c] !== undefined && (typeof claims[c] !== 'string' || claims[c] === '')) throw invalidRequest(`Invalid assertion: ${c} must be a non-empty string`);
  }

  const orgNo = client.orgNo ?? '999888777';
  const scope = checkScope(client, claims.scope);
  const resource = checkResource(claims.resource);
  const consumerOrg = checkConsumerOrg(client, orgNo, claims.consumer_org);
  const authorizationDetails = checkAuthorizationDetails(client, claims.authorization_details);
  return {
    client, orgNo, header, claims, scope, exp,
    ...(jtiKey !== undefined && { jtiKey }),
    ...(resource && { resource }),
    ...(consumerOrg && { consumerOrg }),
    ...(authorizationDetails && { authorizationDetails }),
  };
}

function findKey(client: SimClient, header: Record<string, unknown>, nowMs: number): JWK | KeyObject {
  if (header.x5c !== undefined) {
    throw invalidGrant('MP-120', 'Invalid assertion: certificate (x5c) is not registered for this client');
  }
  if (header.kid === undefined) {
    throw invalidGrant('MP-120', 'Client requires pre-registered jwk and no key identifier (kid) provided');
  }
  const key = client.keys.find((k) => k.kid === header.kid);
  if (!key) throw invalidGrant('MP-120', 'Unknown key identifier (kid) for client');
  const expiresAt = client.keyExpiresAt?.[key.kid!];
  if (expiresAt !== undefined && nowMs >= expiresAt) throw invalidGrant('MP-121', 'Invalid assertion: the key has expired');
  return key;
}

function checkTimes(claims: Record<string, unknown>, ctx: GrantContext): number {
  const { iat, exp, nbf } = claims;
  if (!isNumericDate(iat)) throw invalidRequest('Invalid assertion: iat missing or not a number');
  if (!isNumericDate(exp)) throw invalidRequest('Invalid assertion: exp missing or not a number');
  if (nbf !== undefined && !isNumericDate(nbf)) throw invalidRequest('Invalid assertion: nbf not a number');
  const skew = ctx.maxClockSkewSeconds;
  if (iat > ctx.now + skew) throw invalidGrant('MP-130', 'Invalid assertion: Issue time is after now');
  if (iat < ctx.now - skew) throw invalidGrant('MP-130', 'Invalid assertion: grant is too old (iat)');
  if (exp <= ctx.now - skew) throw invalidGrant('MP-130', 'Invalid assertion: grant has expired (exp)');
  if (exp <= iat || exp - iat > MAX_GRANT_LIFETIME_SECONDS) {
    throw invalidGrant('MP-130', `Invalid assertion: exp must be after iat and at most ${MAX_GRANT_LIFETIME_SECONDS} s after it`);
  }
  if (nbf !== undefined && nbf > ctx.now + skew) throw invalidGrant('MP-130', 'Invalid assertion: grant is not yet valid (nbf)');
  return exp;
}

function checkScope(client: SimClient, scope: unknown): string {
  if (typeof scope !== 'string' || scope === '') throw new GrantRejection(400, 'invalid_scope', 'MP-200', 'Missing scope');
  const scopes = scope.split(' ');
  if (scopes.some((s) => s === '')) throw new GrantRejection(400, 'invalid_scope', 'MP-200', 'Malformed scope: separate scopes with one space');
  const missing = scopes.filter((s) => !client.scopes.includes(s));
  if (missing.length > 0) {
    throw new GrantRejection(400, 'invalid_scope', 'MP-200', `Scope not registered for the client: ${missing.join(' ')}`);
  }
  const denied = scopes.filter((s) => client.deniedScopes?.includes(s));
  if (denied.length > 0) throw new GrantRejection(403, 'forbidden', 'MP-250', `No access to scope: ${denied.join(' ')}`);
  return scope;
}

/** Digdir documents an array; Altinn's own clients send a string: both are accepted. */
function checkResource(resource: unknown): string[] | undefined {
  if (resource === undefined) return undefined;
  if (typeof resource === 'string' && resource !== '') return [resource];
  if (!Array.isArray(resource) || resource.length === 0 || resource.some((r) => typeof r !== 'string' || r === '')) {
    throw invalidRequest('Invalid assertion: resource must be a non-empty string or array of strings');
  }
  return resource as string[];
}

function checkConsumerOrg(client: SimClient, orgNo: string, consumer: unknown): string | undefined {
  if (consumer === undefined) return undefined;
  if (typeof consumer !== 'string' || !/^\d{9}$/.test(consumer)) {
    throw invalidRequest('Invalid assertion: consumer_org must be a 9-digit organisation number');
  }
  if (consumer === orgNo) throw invalidRequest("Invalid assertion: consumer_org must differ from the client's own organisation");
  if (client.delegatedBy && !client.delegatedBy.includes(consumer)) {
    throw new GrantRejection(403, 'forbidden', 'MP-251', 'No delegation from consumer to supplier');
  }
  return consumer;
}

function checkAuthorizationDetails(client: SimClient, details: unknown): Array<Record<string, unknown>> | undefined {
  if (details === undefined) return undefined;
  if (!Array.isArray(details) || details.length === 0 || !details.every(isObject)) {
    throw invalidRequest('Invalid assertion: authorization_details must be a non-empty array of objects');
  }
  for (const d of details) {
    if (d.type !== SYSTEMUSER_TYPE) throw new GrantRejection(400, 'invalid_request', 'MP-301', 'Unknown authorization_details type');
    const extra = Object.keys(d).filter((f) => !ALLOWED_DETAIL_FIELDS.has(f));
    if (extra.length > 0) {
      throw new GrantRejection(400, 'invalid_request', 'MP-302', `Unknown authorization_details field: ${extra.join(', ')}`);
    }
    if (d.externalRef !== undefined && (typeof d.externalRef !== 'string' || d.externalRef === '')) {
      throw new GrantRejection(400, 'invalid_request', 'MP-302', 'externalRef must be a non-empty string');
    }
    const org = d.systemuser_org;
    const id = isObject(org) ? org.ID : undefined;
    if (!isObject(org) || Object.keys(org).length !== 2 || org.authority !== ORG_AUTHORITY ||
        typeof id !== 'string' || !/^0192:\d{9}$/.test(id)) {
      throw new GrantRejection(400, 'invalid_request', 'MP-302',
        `systemuser_org must be {"authority":"${ORG_AUTHORITY}","ID":"0192:<9 digits>"}`);
    }
  }
  if (details.length > 1) throw invalidRequest('Invalid assertion: one party per grant (one authorization_details entry)');
  const org = ((details[0] as Record<string, unknown>).systemuser_org as { ID: string }).ID.slice(5);
  if (!client.systemUsers?.includes(org)) {
    throw new GrantRejection(400, 'invalid_request', 'MP-303', 'No system user found for the client and systemuser_org');
  }
  return details as Array<Record<string, unknown>>;
}

function isNumericDate(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
