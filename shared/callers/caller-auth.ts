// Caller authorization: checks an Entra ID access token from `Authorization: Bearer` with jose against the tenant's
// published keys, and decides by app role (the `roles` claim) which profile's token a caller may get.
// Headers a platform front end may inject (X-MS-CLIENT-PRINCIPAL*) are never read: only the verified token counts.
// Area callers/: who may get which token (Entra ID caller tokens, app roles) and the audit trail. Uses config/,
// upstream/ types, telemetry/; never the broker or the vault.
import type { CallerAuthConfig, Profile } from '../config/config.js';
import { ENTRA_AUTHORITY } from '../config/config.js';
import { CallerAuthError } from '../errors.js';
import type { FetchLike } from '../upstream/http-client.js';

export const TOKENS_READ_ALL = 'Tokens.Read.All';
export const HEALTH_READ = 'Health.Read';
/** Operator actions on a profile's cached token (POST /api/manage/refresh|drop/{profile}). */
export const TOKENS_ADMIN = 'Tokens.Admin';
/** RFC 6750 realm in every challenge. */
const REALM = 'maskinporten-broker';
/** Entra allows 5 minutes of clock skew; so do we, no more. */
export const CLOCK_TOLERANCE_SECONDS = 300;
/** Longer than any Entra access token; anything bigger is refused before parsing. */
const MAX_TOKEN_LENGTH = 16_384;

/** Who called, from a verified token. */
export interface Caller {
  /** The caller's object id (the service principal of a managed identity). */
  readonly oid?: string;
  /** The calling application's client id: `azp` (v2 tokens) or `appid` (v1). */
  readonly appId?: string;
  readonly roles: readonly string[];
}

/** Ids from a token that failed; `verified` is true when its signature checked out (e.g. expired, wrong audience). */
export interface CallerHint {
  readonly oid?: string;
  readonly appId?: string;
  readonly verified: boolean;
}

export type AuthResult =
  | { readonly ok: true; readonly caller: Caller }
  | { readonly ok: false; readonly error: CallerAuthError; readonly reason: string; readonly hint?: CallerHint };

export interface CallerAuthOptions {
  /** Clock for exp/nbf (ms since epoch); default Date.now. */
  readonly now?: () => number;
  /** Fetch for the JWKS (tests route the real authority to a simulator); default global fetch. */
  readonly fetch?: FetchLike;
  /** Minimum time between two JWKS fetches caused by an unknown `kid` (jose's cooldown); default 30 s. */
  readonly cooldownMs?: number;
}

type Jose = typeof import('jose');
type RemoteJwks = ReturnType<Jose['createRemoteJWKSet']>;

/** The app roles that open a profile's token: its own AUTH_ROLES, else Tokens.Read.All or Tokens.Read.<name>. */
export function rolesForProfile(profile: Pick<Profile, 'name' | 'authRoles'>): readonly string[] {
  return profile.authRoles ?? [TOKENS_READ_ALL, `Tokens.Read.${profile.name}`];
}

/** The role of `roles` that `required` lists first, if any. */
export function allowingRole(caller: Caller, required: readonly string[]): string | undefined {
  return required.find((role) => caller.roles.includes(role));
}

export function forbidden(required: readonly string[], what: string): CallerAuthError {
  const names = required.map((r) => `"${r}"`).join(' or ');
  return new CallerAuthError('CALLER_FORBIDDEN', `The caller's token does not carry the app role ${names} needed for ${what}: assign it to the caller's identity (see the README, "App roles").`, { requiredRoles: required });
}

export class CallerAuth {
  /** Accepted `iss` values: v2 always; v1 (sts.windows.net, what managed identities get by default) only for the
   *  real Entra authority, never for a simulator or any other host. */
  readonly issuers: readonly string[];
  readonly jwksUrl: string;
  private jose?: Promise<{ jose: Jose; jwks: RemoteJwks }>;

  constructor(
    readonly config: CallerAuthConfig,
    private readonly options: CallerAuthOptions = {},
  ) {
    const { authority, tenantId } = config;
    this.issuers = [`${authority}/${tenantId}/v2.0`, ...(authority === ENTRA_AUTHORITY ? [`https://sts.windows.net/${tenantId}/`] : [])];
    this.jwksUrl = `${authority}/${tenantId}/discovery/v2.0/keys`;
  }

  /** jose and the key set, loaded on first use. The key set is jose's remote JWKS: cached (10 min), one fetch
   *  shared by concurrent callers, fetched again for an unknown `kid` at most once per cooldown. */
  private load(): Promise<{ jose: Jose; jwks: RemoteJwks }> {
    this.jose ??= import('jose').then((jose) => {
      const fetchImpl = this.options.fetch;
      const jwks = jose.createRemoteJWKSet(new URL(this.jwksUrl), {
        timeoutDuration: 5_000,
        cooldownDuration: this.options.cooldownMs ?? 30_000,
        ...(fetchImpl && { [jose.customFetch]: (url: string, init: RequestInit) => fetchImpl(url, init) }),
      });
      return { jose, jwks };
    });
    return this.jose;
  }

  /** Checks the Authorization header value. Never throws; the token itself never goes into an error or hint. */
  async authenticate(authorization: string | null | undefined): Promise<AuthResult> {
    const header = authorization?.trim() ?? '';
    const m = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec(header);
    if (header === '' || !/^Bearer(\s|$)/i.test(header)) {
      return refuse('no token', new CallerAuthError('CALLER_UNAUTHENTICATED', 'Send an Entra ID access token for this API as "Authorization: Bearer <token>".', { challenge: `Bearer realm="${REALM}"` }));
    }
    if (!m || m[1]!.length > MAX_TOKEN_LENGTH) return refuse('malformed', invalid('The Authorization header does not hold one well-formed bearer token.'));
    const token = m[1]!;
    const { jose, jwks } = await this.load();
    try {
      const { payload } = await jose.jwtVerify(token, jwks, {
        algorithms: ['RS256'],
        issuer: [...this.issuers],
        audience: [...this.config.audiences],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        currentDate: new Date((this.options.now ?? Date.now)()),
        requiredClaims: ['exp', 'tid'],
      });
      if (payload.tid !== this.config.tenantId) {
        return refuse('tenant', invalid('The access token is from another tenant.'), hintOf(payload, true));
      }
      const roles = Array.isArray(payload.roles) ? payload.roles.filter((r): r is string => typeof r === 'string') : [];
      return { ok: true, caller: { ...idsOf(payload), roles } };
    } catch (err) {
      return this.refusal(jose, err, token);
    }
  }

  private refusal(jose: Jose, err: unknown, token: string): AuthResult {
    const e = jose.errors;
    if (err instanceof e.JWKSTimeout || err instanceof e.JWKSInvalid || !(err instanceof e.JOSEError) || err.code === 'ERR_JOSE_GENERIC') {
      // The key set could not be fetched or read: not the caller's fault, and not a reason to let anyone in.
      const reason = err instanceof e.JOSEError ? err.code : 'jwks unreachable';
      return refuse(reason, new CallerAuthError('CALLER_AUTH_UNAVAILABLE', "The caller's token could not be checked: the Entra ID signing keys could not be fetched (AUTH_AUTHORITY). Try again shortly."));
    }
    if (err instanceof e.JWTExpired) return refuse('expired', invalid('The access token has expired.'), hintOf(err.payload, true));
    if (err instanceof e.JWTClaimValidationFailed) {
      const claim = /^[a-z]{2,5}$/.test(err.claim) ? err.claim : 'claim';
      return refuse(`claim ${claim}`, invalid(claimMessage(claim)), hintOf(err.payload, true));
    }
    const reason =
      err instanceof e.JWKSNoMatchingKey ? 'unknown kid'
        : err instanceof e.JOSEAlgNotAllowed ? 'algorithm not allowed'
          : err instanceof e.JWSSignatureVerificationFailed ? 'bad signature'
            : 'malformed';
    const text =
      reason === 'unknown kid' ? 'The access token is not signed with a key of the tenant.'
        : reason === 'algorithm not allowed' ? 'The access token must be signed with RS256.'
          : reason === 'bad signature' ? 'The access token signature is not valid.'
            : 'The access token is not a well-formed JWT.';
    return refuse(reason, invalid(text), unverifiedHint(jose, token));
  }
}

function claimMessage(claim: string): string {
  switch (claim) {
    case 'iss':
      return 'The access token was not issued by the configured tenant (AUTH_TENANT_ID).';
    case 'aud':
      return 'The access token is not for this API (AUTH_AUDIENCE).';
    case 'nbf':
      return 'The access token is not valid yet.';
    default:
      return `The access token's "${claim}" claim is missing or not valid.`;
  }
}

function invalid(description: string): CallerAuthError {
  return new CallerAuthError('CALLER_UNAUTHENTICATED', `${description} Get a new token for this API from Entra ID.`, {
    challenge: `Bearer realm="${REALM}", error="invalid_token", error_description="${description.replace(/"/g, "'")}"`,
  });
}

function refuse(reason: string, error: CallerAuthError, hint?: CallerHint): AuthResult {
  return { ok: false, error, reason, ...(hint && { hint }) };
}

/** A claim fit for a log line: ids are GUIDs or short plain strings; anything else is dropped. */
function safeId(v: unknown): string | undefined {
  return typeof v === 'string' && /^[A-Za-z0-9._:-]{1,64}$/.test(v) ? v : undefined;
}

function idsOf(payload: Record<string, unknown>): { oid?: string; appId?: string } {
  const oid = safeId(payload.oid);
  const appId = safeId(payload.azp) ?? safeId(payload.appid);
  return { ...(oid && { oid }), ...(appId && { appId }) };
}

function hintOf(payload: Record<string, unknown>, verified: boolean): CallerHint {
  return { ...idsOf(payload), verified };
}

/** The ids a token claims although it failed verification: for the audit line only, marked unverified. */
function unverifiedHint(jose: Jose, token: string): CallerHint | undefined {
  try {
    return hintOf(jose.decodeJwt(token), false);
  } catch {
    return undefined;
  }
}

/** What the audit line says about the caller of one request. */
export interface CallerFacts {
  readonly auth: 'entra' | 'function-key';
  readonly callerOid?: string;
  readonly callerAppId?: string;
  readonly callerVerified?: boolean;
  readonly role?: string;
  readonly reason?: string;
}

export type AccessResult =
  | { readonly ok: true; readonly facts: CallerFacts }
  | { readonly ok: false; readonly error: CallerAuthError; readonly facts: CallerFacts };

/** The whole check for one request: with caller authorization off, the Functions host's function key was the
 *  check and everything passes; with it on, a verified token carrying one of `required`. */
export async function checkCaller(
  auth: CallerAuth | undefined,
  authorization: string | null | undefined,
  required: readonly string[],
  what: string,
): Promise<AccessResult> {
  if (!auth) return { ok: true, facts: { auth: 'function-key' } };
  const result = await auth.authenticate(authorization);
  if (!result.ok) {
    const h = result.hint;
    const facts: CallerFacts = {
      auth: 'entra',
      ...(h?.oid && { callerOid: h.oid }),
      ...(h?.appId && { callerAppId: h.appId }),
      ...(h && { callerVerified: h.verified }),
      reason: result.reason,
    };
    return { ok: false, error: result.error, facts };
  }
  const { caller } = result;
  const ids = { auth: 'entra' as const, ...(caller.oid && { callerOid: caller.oid }), ...(caller.appId && { callerAppId: caller.appId }), callerVerified: true };
  const role = allowingRole(caller, required);
  if (role === undefined) return { ok: false, error: forbidden(required, what), facts: { ...ids, reason: 'missing role' } };
  return { ok: true, facts: { ...ids, role } };
}
