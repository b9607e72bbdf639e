// Mints one token for a profile: sign a fresh grant, call Maskinporten (with retries, re-signing each attempt),
// exchange it at Altinn unless the profile turns that off (one more try with a new Maskinporten token after a
// 401), and verify the result against its issuer's keys before anyone sees it.
import type { Profile } from '../config/config.js';
import { exchangeForAltinnToken } from '../altinn/exchange.js';
import type { GrantKey } from '../keys/signer.js';
import { signGrant } from '../maskinporten/grant.js';
import type { Logger } from '../logging.js';
import { requestMaskinportenToken } from '../maskinporten/token-endpoint.js';
import { withRetry, type RetryPolicy } from '../upstream/retry.js';
import { UpstreamRejectedError } from '../errors.js';
import { isoTime, type TokenFacts } from '../verify/token-claims.js';
import { DEFAULT_MAX_TOKEN_LIFETIME_SECONDS, TokenRejectedError, verifyToken } from '../verify/token-verify.js';
import type { FetchLike } from '../upstream/http-client.js';

export interface Endpoints {
  /** Maskinporten issuer with trailing slash (the grant's aud). */
  readonly issuer: string;
  readonly tokenUrl: string;
  readonly altinnUrl: string;
}

export interface MintContext {
  readonly endpoints: Endpoints;
  readonly fetch: FetchLike;
  readonly now: () => number;
  readonly timeoutMs: number;
  readonly retry: RetryPolicy;
  /** MAX_TOKEN_LIFETIME_SECONDS; default 7200. */
  readonly maxTokenLifetimeSeconds?: number;
}

export interface MintedToken extends TokenFacts {
  readonly token: string;
  readonly kind: 'altinn' | 'maskinporten';
}

export async function mintToken(profile: Profile, key: GrantKey, ctx: MintContext, log: Logger): Promise<MintedToken> {
  const { endpoints, fetch, timeoutMs, retry } = ctx;

  let mp = await maskinportenToken(profile, key, ctx, log);
  if (!profile.altinnExchange) {
    return { token: mp.token, kind: 'maskinporten', ...mp.facts };
  }
  const exchange = (mpToken: string) =>
    withRetry(() => exchangeForAltinnToken(fetch, endpoints.altinnUrl, mpToken, timeoutMs), retry, (err, attempt) =>
      log.warn(`[${profile.name}] Altinn attempt ${attempt} failed (${err.message}); retrying.`),
    );
  let altinn: string;
  try {
    altinn = await exchange(mp.token);
  } catch (err) {
    if (!(err instanceof UpstreamRejectedError && err.facts.status === 401)) throw err;
    // Altinn could not validate that token (expired on the way, or Altinn failed to fetch Maskinporten's keys):
    // one more try with a new one; a second 401 is final.
    log.warn(`[${profile.name}] Altinn answered 401 to the exchange; trying once more with a new Maskinporten token.`);
    mp = await maskinportenToken(profile, key, ctx, log);
    altinn = await exchange(mp.token);
  }
  const facts = await verifyToken(altinn, 'altinn', profile, ctx, 'Altinn token');
  log.info(`[${profile.name}] Altinn exchanged it for a token valid until ${isoTime(facts.expiresAt)}.`);
  return { token: altinn, kind: 'altinn', ...facts };
}

/** Signs a fresh grant and calls Maskinporten (with retries, re-signing each attempt); verifies a JWT answer. */
async function maskinportenToken(profile: Profile, key: GrantKey, ctx: MintContext, log: Logger): Promise<{ token: string; facts: TokenFacts }> {
  const { endpoints, fetch, now, timeoutMs, retry } = ctx;
  const mp = await withRetry(
    async () => {
      const grant = await signGrant(
        {
          clientId: profile.clientId,
          audience: endpoints.issuer,
          scopes: profile.scopes,
          ...(profile.resource && { resource: profile.resource }),
          ...(profile.consumerOrg !== undefined && { consumerOrg: profile.consumerOrg }),
          ...(profile.systemUser && { systemUser: profile.systemUser }),
        },
        key,
        now(),
      );
      return requestMaskinportenToken(fetch, endpoints.tokenUrl, grant, timeoutMs);
    },
    retry,
    (err, attempt) => log.warn(`[${profile.name}] Maskinporten attempt ${attempt} failed (${err.message}); retrying.`),
  );
  log.info(`[${profile.name}] Maskinporten issued a token (client ${profile.clientId}, ${key.kid !== undefined ? `kid ${key.kid}` : 'certificate (x5c)'}, scope "${profile.scopes.join(' ')}").`);
  return { token: mp.accessToken, facts: await maskinportenFacts(mp.accessToken, mp.expiresIn, profile, ctx) };
}

/** A Maskinporten token is normally a JWT: it is verified like any other. One that is not (Digdir calls the token
 *  opaque) cannot be verified: it is used as the token endpoint returned it over TLS, with expires_in as its life,
 *  and is never adopted from the vault. */
async function maskinportenFacts(token: string, expiresIn: number, profile: Profile, ctx: MintContext): Promise<TokenFacts> {
  if (isJwtShaped(token)) return verifyToken(token, 'maskinporten', profile, ctx, 'Maskinporten token');
  const max = ctx.maxTokenLifetimeSeconds ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS;
  if (!(expiresIn > 0 && expiresIn <= max)) {
    throw new TokenRejectedError(`it is opaque and its expires_in is not between 1 and MAX_TOKEN_LIFETIME_SECONDS (${max})`, 'Maskinporten token');
  }
  const nowMs = ctx.now();
  return { expiresAt: nowMs + expiresIn * 1000, issuedAt: nowMs };
}

/** Three dot-separated parts: a JWS, to be verified (anything else is treated as opaque). */
export function isJwtShaped(token: string): boolean {
  return token.split('.').length === 3;
}
