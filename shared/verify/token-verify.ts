// Verifies every token before it is stored, served or adopted: the signature against the issuer's published keys
// (Maskinporten's or Altinn's JWKS, found through their metadata) and the claims the broker relies on.
// Area verify/: issuer keys, token claims and verification of Maskinporten and Altinn tokens. Uses config/ types,
// upstream/ (fetching key sets), telemetry/; never the broker, the vault or maskinporten/.
import { createRemoteJWKSet, customFetch, decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Profile } from '../config/config.js';
import { BrokerError, UpstreamUnavailableError, type BrokerErrorCode } from '../errors.js';
import type { TokenFacts } from './token-claims.js';
import { send, type FetchLike } from '../upstream/http-client.js';
import { upstreamCall } from '../telemetry/instruments.js';

export type TokenKind = 'altinn' | 'maskinporten';

/** How far a token's `iat` may be ahead of this machine's clock, and the leeway on `exp`. */
export const CLOCK_SKEW_SECONDS = 60;
/** Default of MAX_TOKEN_LIFETIME_SECONDS: a token whose `exp` is further ahead than this is refused. */
export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 7200;
/** Both issuers sign with RSA. */
const ALGORITHMS = ['RS256', 'RS384', 'RS512'];
/** An unknown kid makes the key set refetch at most this often (jose's cooldown). */
const DEFAULT_JWKS_COOLDOWN_MS = 30_000;
export const ALTINN_OPENID_PATH = '/authentication/api/v1/openid/';

export interface VerifierOptions {
  readonly endpoints: { readonly issuer: string; readonly altinnUrl: string };
  readonly fetch: FetchLike;
  readonly now: () => number;
  readonly timeoutMs: number;
  readonly maxTokenLifetimeSeconds?: number;
}

/** A token that failed a check; `reason` is safe to log (fixed text and numbers, never the token). */
export class TokenRejectedError extends BrokerError {
  constructor(readonly reason: string, what: string) {
    super('TOKEN_INVALID', `The ${what} was refused: ${reason}; it was not stored or served.`);
  }
}

export function expectedIssuer(kind: TokenKind, endpoints: VerifierOptions['endpoints']): string {
  return kind === 'altinn' ? `${endpoints.altinnUrl}${ALTINN_OPENID_PATH}` : endpoints.issuer;
}

export function metadataUrl(kind: TokenKind, endpoints: VerifierOptions['endpoints']): string {
  return kind === 'altinn'
    ? `${endpoints.altinnUrl}${ALTINN_OPENID_PATH}.well-known/openid-configuration`
    : `${endpoints.issuer}.well-known/oauth-authorization-server`;
}

/** Verifies a token of the given kind for a profile; returns its facts or throws TokenRejectedError (or
 *  UpstreamUnavailableError when the issuer's keys cannot be fetched). */
export async function verifyToken(token: string, kind: TokenKind, profile: Profile, opts: VerifierOptions, what: string): Promise<TokenFacts> {
  const reject = (reason: string): never => {
    throw new TokenRejectedError(reason, what);
  };
  try {
    decodeProtectedHeader(token);
    decodeJwt(token);
  } catch {
    reject('it is not a JWT');
  }
  const keys = issuerKeys(kind, opts);
  const nowMs = opts.now();
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, (header, t) => keys.get(header, t), {
      issuer: expectedIssuer(kind, opts.endpoints),
      algorithms: ALGORITHMS,
      currentDate: new Date(nowMs),
      requiredClaims: ['exp', 'iat'],
      clockTolerance: CLOCK_SKEW_SECONDS,
    }));
  } catch (err) {
    if (err instanceof UpstreamUnavailableError) throw err;
    return reject(joseReason(err));
  }
  return checkClaims(payload, kind, profile, nowMs, opts.maxTokenLifetimeSeconds ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS, reject);
}

function checkClaims(p: JWTPayload, kind: TokenKind, profile: Profile, nowMs: number, maxLifetimeSeconds: number, reject: (r: string) => never): TokenFacts {
  const exp = p.exp;
  const iat = p.iat;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return reject('exp is not a number');
  if (typeof iat !== 'number' || !Number.isFinite(iat)) return reject('iat is not a number');
  const nowS = nowMs / 1000;
  if (exp <= nowS) return reject('it has expired');
  const ahead = exp - nowS;
  if (ahead > maxLifetimeSeconds + CLOCK_SKEW_SECONDS) {
    return reject(`exp is ${seconds(ahead)} s ahead, more than MAX_TOKEN_LIFETIME_SECONDS (${maxLifetimeSeconds})`);
  }
  if (iat > nowS + CLOCK_SKEW_SECONDS) return reject(`iat is ${seconds(iat - nowS)} s in the future (more than ${CLOCK_SKEW_SECONDS} s of clock skew)`);
  if (exp - iat > maxLifetimeSeconds + CLOCK_SKEW_SECONDS) {
    return reject(`its lifetime (exp - iat) is ${seconds(exp - iat)} s, more than MAX_TOKEN_LIFETIME_SECONDS (${maxLifetimeSeconds})`);
  }
  if (p.client_id !== profile.clientId) return reject('client_id is not the profile\'s MASKINPORTEN_CLIENT_ID');
  const granted = new Set(typeof p.scope === 'string' ? p.scope.split(' ') : []);
  const missing = profile.scopes.filter((s) => !granted.has(s));
  if (missing.length > 0) return reject(`its scope lacks ${missing.length} of the profile's MASKINPORTEN_SCOPES`);
  if (profile.consumerOrg !== undefined) {
    const consumer = p.consumer as { ID?: unknown } | undefined;
    if (consumer?.ID !== `0192:${profile.consumerOrg}`) return reject('consumer is not MASKINPORTEN_CONSUMER_ORG');
  }
  if (kind === 'maskinporten' && profile.resource) {
    const aud = new Set([p.aud].flat());
    if (!profile.resource.every((r) => aud.has(r))) return reject('aud does not cover MASKINPORTEN_RESOURCE');
  }
  return {
    expiresAt: exp * 1000,
    issuedAt: Math.min(iat * 1000, nowMs),
    ...(typeof p.scope === 'string' && { scope: p.scope }),
  };
}

function seconds(n: number): string {
  return n < 1e9 ? String(Math.round(n)) : 'over 10^9';
}

/** A safe reason from a jose error: its code and the claim name, never its message text or payload. */
function joseReason(err: unknown): string {
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'its signature does not verify against the issuer\'s published keys';
  if (err instanceof errors.JWKSNoMatchingKey) return 'it is signed with a key (kid) the issuer does not publish';
  if (err instanceof errors.JWKSMultipleMatchingKeys) return 'its kid matches several of the issuer\'s keys';
  if (err instanceof errors.JOSEAlgNotAllowed) return 'its algorithm is not allowed (RS256, RS384 or RS512 only)';
  if (err instanceof errors.JWTExpired) return 'it has expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    const claim = /^[a-z_]{1,20}$/.test(err.claim) ? err.claim : 'a claim';
    return `${claim} ${claim === 'iss' ? 'is not the expected issuer' : 'is missing or invalid'}`;
  }
  if (err instanceof errors.JOSENotSupported) return 'its algorithm or key type is not supported';
  return 'it is not a valid signed JWT';
}

const TOKEN_FAULTS = [errors.JWKSNoMatchingKey, errors.JWKSMultipleMatchingKeys, errors.JOSEAlgNotAllowed, errors.JOSENotSupported, errors.JWSInvalid];

/** The signing keys of one issuer: discovery (metadata → jwks_uri) and the key set, each fetched by one caller
 *  for all concurrent ones, cached per process; an unknown kid refetches the key set (at most every 30 s). */
export class IssuerKeys {
  private jwks?: JWTVerifyGetKey;
  private discovering?: Promise<JWTVerifyGetKey>;

  constructor(
    readonly kind: TokenKind,
    readonly metadataUrl: string,
    private readonly fetch: FetchLike,
    private readonly timeoutMs: number,
    private readonly cooldownMs = DEFAULT_JWKS_COOLDOWN_MS,
  ) {}

  async get(header: Parameters<JWTVerifyGetKey>[0], token: Parameters<JWTVerifyGetKey>[1]): Promise<Awaited<ReturnType<JWTVerifyGetKey>>> {
    const jwks = this.jwks ?? (await this.discover());
    try {
      return await jwks(header, token);
    } catch (err) {
      // the token's fault: passed on to be refused; anything else (network, timeout, a bad key set) is the issuer's
      if (TOKEN_FAULTS.some((cls) => err instanceof cls)) throw err;
      throw this.unavailable(err instanceof errors.JWKSTimeout ? 'timed out' : 'failed');
    }
  }

  private discover(): Promise<JWTVerifyGetKey> {
    this.discovering ??= this.fetchMetadata().finally(() => {
      this.discovering = undefined;
    });
    return this.discovering;
  }

  private async fetchMetadata(): Promise<JWTVerifyGetKey> {
    const service = this.kind === 'altinn' ? 'Altinn' : 'Maskinporten';
    const res = await send(this.fetch, this.metadataUrl, { method: 'GET', headers: { accept: 'application/json' } }, this.timeoutMs, service, this.code());
    let jwksUri: URL | undefined;
    try {
      const meta = JSON.parse(res.body) as { jwks_uri?: unknown };
      if (res.status === 200 && typeof meta?.jwks_uri === 'string') jwksUri = new URL(meta.jwks_uri);
    } catch {
      // reported below
    }
    const loopback = jwksUri && ['127.0.0.1', 'localhost', '[::1]'].includes(jwksUri.hostname);
    if (!jwksUri || !(jwksUri.protocol === 'https:' || (jwksUri.protocol === 'http:' && loopback))) {
      throw new UpstreamUnavailableError(this.code(), `${service}'s metadata (${res.status}) names no usable https jwks_uri; its tokens cannot be verified.`, { status: res.status });
    }
    const fetchImpl = this.fetch;
    this.jwks = createRemoteJWKSet(jwksUri, {
      timeoutDuration: this.timeoutMs,
      cooldownDuration: this.cooldownMs,
      [customFetch]: (url: string, init: RequestInit) =>
        upstreamCall({ upstream: this.kind === 'altinn' ? 'altinn' : 'maskinporten', method: 'GET', url, operation: 'keys' }, async (result) => {
          const res = await fetchImpl(url, init);
          result.status = res.status;
          return res;
        }),
    });
    return this.jwks;
  }

  private code(): BrokerErrorCode {
    return this.kind === 'altinn' ? 'ALTINN_UNAVAILABLE' : 'MASKINPORTEN_UNAVAILABLE';
  }

  private unavailable(how: string): UpstreamUnavailableError {
    const service = this.kind === 'altinn' ? 'Altinn' : 'Maskinporten';
    return new UpstreamUnavailableError(this.code(), `Fetching ${service}'s signing keys ${how}; its tokens cannot be verified now.`, {});
  }
}

/** Per process: one IssuerKeys per metadata URL (the first caller's fetch and timeout are used). */
const registry = new Map<string, IssuerKeys>();

export function issuerKeys(kind: TokenKind, opts: Pick<VerifierOptions, 'endpoints' | 'fetch' | 'timeoutMs'>): IssuerKeys {
  const url = metadataUrl(kind, opts.endpoints);
  let keys = registry.get(url);
  if (!keys) {
    keys = new IssuerKeys(kind, url, opts.fetch, opts.timeoutMs);
    registry.set(url, keys);
  }
  return keys;
}
