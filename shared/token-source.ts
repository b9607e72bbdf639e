// Mints one token for a profile: sign a fresh grant, call Maskinporten (with retries, re-signing each attempt),
// exchange it at Altinn unless the profile turns that off, and validate the result before anyone sees it.
import type { Profile } from './config.js';
import { exchangeForAltinnToken } from './altinn.js';
import { signGrant, type GrantKey } from './grant.js';
import type { Logger } from './logging.js';
import { requestMaskinportenToken } from './maskinporten.js';
import { withRetry, type RetryPolicy } from './retry.js';
import { inspectToken, type TokenFacts } from './token-claims.js';
import type { FetchLike } from './upstream.js';

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
}

export interface MintedToken extends TokenFacts {
  readonly token: string;
  readonly kind: 'altinn' | 'maskinporten';
}

export async function mintToken(profile: Profile, key: GrantKey, ctx: MintContext, log: Logger): Promise<MintedToken> {
  const { endpoints, fetch, now, timeoutMs, retry } = ctx;
  const onRetry = (service: string) => (err: Error, attempt: number) =>
    log.warn(`[${profile.name}] ${service} attempt ${attempt} failed (${err.message}); retrying.`);

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
    onRetry('Maskinporten'),
  );
  log.info(`[${profile.name}] Maskinporten issued a token (client ${profile.clientId}, ${key.kid !== undefined ? `kid ${key.kid}` : 'certificate (x5c)'}, scope "${profile.scopes.join(' ')}").`);

  if (!profile.altinnExchange) {
    return { token: mp.accessToken, kind: 'maskinporten', ...maskinportenFacts(mp.accessToken, mp.expiresIn, now()) };
  }
  const altinn = await withRetry(
    () => exchangeForAltinnToken(fetch, endpoints.altinnUrl, mp.accessToken, timeoutMs),
    retry,
    onRetry('Altinn'),
  );
  const facts = inspectToken(altinn, now(), 'Altinn token');
  log.info(`[${profile.name}] Altinn exchanged it for a token valid until ${new Date(facts.expiresAt).toISOString()}.`);
  return { token: altinn, kind: 'altinn', ...facts };
}

/** A Maskinporten token is normally a JWT: read its own exp; an opaque one falls back to expires_in. */
function maskinportenFacts(token: string, expiresIn: number, nowMs: number): TokenFacts {
  if (token.split('.').length === 3) return inspectToken(token, nowMs, 'Maskinporten token');
  if (!(expiresIn > 0)) return inspectToken(token, nowMs, 'Maskinporten token');
  return { expiresAt: nowMs + expiresIn * 1000, issuedAt: nowMs };
}
